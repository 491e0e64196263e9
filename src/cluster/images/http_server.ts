// A tiny HTTP/1.1 server over a netns listener: parse requests, answer each
// with the handler's response, close when the client does (Go/nginx style).

import type { Endpoint4, Netns, TcpConnection } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import { encodeResponse, HttpParser, type HttpHeaders, type HttpMessage } from '../../wire/http.ts';
import { appIo, type AppIo } from './app_io.ts';

export interface HttpReply { status: number; reason: string; headers: HttpHeaders; body: string | Uint8Array }
export type HttpHandler = (req: HttpMessage, conn: { local: Endpoint4; remote: Endpoint4 }) => HttpReply;

/** Listen on port; returns the listener's close(). io: how the app's runtime reads and writes (AppArmor's checks). */
export function serveHttp(netns: Netns, port: number, handler: HttpHandler, io?: AppIo): { close(): void } {
  return netns.sockets.tcpListen(port, (c: TcpConnection) => {
    const parser = new HttpParser('request');
    const file = appIo(c, io);
    c.onData((d) => {
      file.data();
      let reqs: HttpMessage[];
      try { reqs = parser.push(d); } catch {
        file.write();
        c.write(encodeResponse(400, 'Bad Request', [['Content-Type', 'text/plain; charset=utf-8'], ['Connection', 'close']], '400 Bad Request'));
        c.end(); return;
      }
      for (const req of reqs) {
        const r = handler(req, c);
        file.write();
        c.write(encodeResponse(r.status, r.reason, r.headers, req.method === 'HEAD' ? undefined : r.body));
      }
    });
    c.onEnd(() => c.end());
  });
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** RFC 7231 IMF-fixdate from the virtual clock: "Mon, 23 Sep 2024 12:25:31 GMT". */
export function httpDate(sim: Sim): string {
  const d = new Date(Math.floor(sim.wallMs()));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

export const dotted = (ip: number): string => `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
