// An emulated TCP connection as a node:stream Duplex, so that real stream
// code (node:http2 under grpc-js, a WebSocket pipe) reads and writes it.
// Both directions are bounded: a write calls back only once the emulated
// socket's send queue (SIOCOUTQ) is below highWaterBytes, so the writer waits
// as it would on a full socket; the emulated socket has no receive window an
// app controls, so a reader that falls more than maxReadBytes behind gets the
// connection closed instead of an ever-growing buffer.

import { Duplex } from 'node:stream';
import type { TcpConnection } from '../../kernel/api.ts';

export interface TcpStreamLimits {
  /** Unacknowledged bytes the emulated socket may hold before a write waits (default 256 KiB). */
  highWaterBytes?: number;
  /** Received bytes not yet read past which the connection is closed (default 1 MiB). */
  maxReadBytes?: number;
  /** How often a waiting write looks at the send queue again, in wall-clock ms (default 2). */
  pollMs?: number;
}

export const DEFAULT_TCP_STREAM_LIMITS: Required<TcpStreamLimits> = { highWaterBytes: 256 << 10, maxReadBytes: 1 << 20, pollMs: 2 };

/** The peer and local address as node's sockets name them, for code that logs or keys on them. */
const dotted = (ip: number): string => `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;

export class TcpStream extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily = 'IPv4';
  private readonly limits: Required<TcpStreamLimits>;
  private poll: NodeJS.Timeout | undefined;
  private connClosed = false;

  constructor(private readonly conn: TcpConnection, limits: TcpStreamLimits = {}) {
    super({ allowHalfOpen: true });
    this.limits = { ...DEFAULT_TCP_STREAM_LIMITS, ...limits };
    this.remoteAddress = dotted(conn.remote.ip); this.remotePort = conn.remote.port;
    this.localAddress = dotted(conn.local.ip); this.localPort = conn.local.port;
    conn.onData((d) => {
      if (this.connClosed) return;
      this.push(Buffer.from(d));
      if (this.readableLength > this.limits.maxReadBytes) this.destroy(new Error(`reader fell more than ${this.limits.maxReadBytes} bytes behind`));
    });
    conn.onEnd(() => { if (!this.connClosed) this.push(null); });
    conn.onClose((err) => {
      this.connClosed = true;
      if (err) this.destroy(err); else { this.push(null); if (!this.writableFinished) this.destroy(); }
    });
  }

  /** Data flows as the emulated socket delivers it; there is nothing to ask for. */
  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.connClosed) { cb(new Error('connection closed')); return; }
    this.conn.write(chunk);
    this.whenBelowHighWater(cb);
  }

  override _final(cb: (err?: Error | null) => void): void { this.conn.end(); cb(); }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    // The emulated socket has no RST from the app side: FIN after what is queued.
    if (!this.connClosed) { this.connClosed = true; this.conn.end(); }
    cb(err);
  }

  /** Node's net.Socket methods that http2 calls on its transport; an emulated socket has nothing to tune. */
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  setTimeout(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  private whenBelowHighWater(cb: (err?: Error | null) => void): void {
    const queued = (): number => this.conn.outqBytes ?? 0;
    if (queued() < this.limits.highWaterBytes) { cb(); return; }
    // The emulated socket frees its queue as acknowledgements arrive in virtual time; look again shortly.
    this.poll = setInterval(() => {
      if (this.connClosed) { clearInterval(this.poll); this.poll = undefined; cb(new Error('connection closed')); return; }
      if (queued() >= this.limits.highWaterBytes) return;
      clearInterval(this.poll); this.poll = undefined;
      cb();
    }, this.limits.pollMs);
  }
}
