// A bare HTTP/1.1 keep-alive client for latency benches: one request at a
// time per connection, answers read by Content-Length. fetch() and node:http
// cost the client several times the server's own work per request, so on a
// 2-core machine they, not the server, would set the tail latency.

import { connect, type Socket } from 'node:net';

/** One keep-alive connection that sends GET `path` and resolves with the status when the whole answer is in. */
export class Client {
  private buf: Buffer = Buffer.alloc(0);
  private want = -1;
  private status = 0;
  private pending: { ok: (status: number) => void; fail: (e: Error) => void } | undefined;
  private constructor(private readonly sock: Socket, private readonly request: Buffer) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this.parse(); });
    const fail = (e: Error): void => { const p = this.pending; this.pending = undefined; p?.fail(e); };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }

  static open(url: URL, path = '/healthz'): Promise<Client> {
    return new Promise((res, rej) => {
      const sock = connect(Number(url.port), url.hostname, () => res(new Client(sock, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`))));
      sock.once('error', rej);
    });
  }

  get(): Promise<number> {
    return new Promise((ok, fail) => { this.pending = { ok, fail }; this.sock.write(this.request); });
  }

  close(): void { this.sock.destroy(); }

  private parse(): void {
    if (this.want < 0) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const len = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!len) { this.pending?.fail(new Error('answer without Content-Length')); return; }
      this.status = Number(head.slice(9, 12));
      this.want = end + 4 + Number(len[1]);
    }
    if (this.buf.length < this.want) return;
    this.buf = this.buf.subarray(this.want);
    this.want = -1;
    const p = this.pending; this.pending = undefined;
    p?.ok(this.status);
  }
}

