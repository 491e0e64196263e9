// A DNS server over the netns sockets: UDP and TCP (2-byte length framing)
// on one port, one async handler per query.

import { SocketError, type Netns } from '../../kernel/api.ts';
import { decodeDns, encodeDns, DNS_RCODE, type DnsMessage } from '../../wire/dns.ts';
import { appIo, type AppIo } from './app_io.ts';

export type DnsHandler = (q: DnsMessage) => Promise<DnsMessage> | DnsMessage;

export function replyTo(q: DnsMessage, fields: Partial<DnsMessage>): DnsMessage {
  return { id: q.id, qr: true, opcode: q.opcode, aa: false, tc: false, rd: q.rd, ra: false, rcode: DNS_RCODE.NOERROR,
    questions: q.questions, answers: [], authority: [], additional: [], ...fields };
}

/** A reply the kernel cannot route is lost, as a failed sendto() is for a real server, never a crash. */
function sendOrDrop(send: () => void): void {
  try { send(); } catch (e) { if (!(e instanceof SocketError)) throw e; }
}

/**
 * `only`: serve one protocol on the port (docker's embedded DNS has a port per protocol). io: how the server reads
 * and writes its TCP connections (AppArmor's checks); UDP goes through recvmsg/sendmsg, which AppArmor's file check skips.
 */
export function serveDns(netns: Netns, port: number, handler: DnsHandler, only?: 'udp' | 'tcp', io?: AppIo): { close(): void } {
  const answer = async (bytes: Uint8Array): Promise<Uint8Array | null> => {
    let q: DnsMessage;
    try { q = decodeDns(bytes); } catch { return null; }
    if (q.qr) return null;
    if (q.questions.length !== 1) return encodeDns(replyTo(q, { rcode: DNS_RCODE.FORMERR }));
    try {
      return encodeDns(await handler(q));
    } catch (e) {
      // An upstream the handler could not reach is SERVFAIL, as CoreDNS's forward plugin answers.
      if (e instanceof SocketError) return encodeDns(replyTo(q, { rcode: DNS_RCODE.SERVFAIL }));
      throw e;
    }
  };
  const udp = only === 'tcp' ? null : netns.sockets.udpBind(port, (data, _from, reply) => {
    void answer(data).then((r) => { if (r) sendOrDrop(() => reply(r)); });
  });
  const tcp = only === 'udp' ? null : netns.sockets.tcpListen(port, (c) => {
    let buf = new Uint8Array(0);
    const file = appIo(c, io);
    c.onData((d) => {
      file.data();
      const b = new Uint8Array(buf.length + d.length); b.set(buf); b.set(d, buf.length); buf = b;
      while (buf.length >= 2) {
        const n = (buf[0]! << 8) | buf[1]!;
        if (buf.length < 2 + n) break;
        const msg = buf.slice(2, 2 + n); buf = buf.slice(2 + n);
        void answer(msg).then((r) => {
          if (!r) return;
          const framed = new Uint8Array(2 + r.length);
          framed[0] = r.length >>> 8; framed[1] = r.length & 255; framed.set(r, 2);
          file.write();
          sendOrDrop(() => c.write(framed));
        });
      }
    });
    c.onEnd(() => c.end());
  });
  return { close: () => { udp?.close(); tcp?.close(); } };
}
