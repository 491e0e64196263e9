// Bounds on WebSocket streams (capture, monitor, commands that follow): how
// many may be open, in total and per client address, and how much unsent data
// one may hold. A reader that does not keep up either loses messages instead
// of the server buffering them (BoundedSender: the loss is counted and
// reported to that reader once it catches up) or holds its writer back
// (WaitingSender: for a writer that can wait).

import type { WebSocket } from 'ws';
import { ClusterError } from '../cluster/facade.ts';

export interface StreamLimits {
  /** Streams open at once, all clients together (`dplab serve --max-streams`). */
  maxStreams: number;
  /** Streams open at once from one client address (`--max-streams-per-client`). */
  maxPerClient: number;
  /** Unsent bytes one stream may hold before it skips messages (`--stream-buffer-kb`). */
  bufferBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxStreams: 128, maxPerClient: 32, bufferBytes: 256 << 10 };

/** Flag name and range of each limit, for messages and `dplab serve`'s checks. */
export const STREAM_LIMIT_FLAGS: Record<keyof StreamLimits, { flag: string; min: number; max: number }> = {
  maxStreams: { flag: '--max-streams', min: 1, max: 100_000 },
  maxPerClient: { flag: '--max-streams-per-client', min: 1, max: 100_000 },
  bufferBytes: { flag: '--stream-buffer-kb', min: 1 << 10, max: 1 << 30 },
};

/** The limits with defaults filled in; a value out of range is an Error naming its flag. */
export function streamLimits(given: Partial<StreamLimits> = {}): StreamLimits {
  const out = { ...DEFAULT_STREAM_LIMITS };
  for (const k of Object.keys(STREAM_LIMIT_FLAGS) as (keyof StreamLimits)[]) {
    const v = given[k];
    if (v === undefined) continue;
    const { flag, min, max } = STREAM_LIMIT_FLAGS[k];
    const unit = k === 'bufferBytes' ? 1024 : 1;
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${flag} must be an integer from ${min / unit} to ${max / unit}, not "${v / unit}"`);
    out[k] = v;
  }
  return out;
}

/** Counts open streams per client address; admit() refuses beyond the limits. */
export class StreamRegistry {
  private readonly perClient = new Map<string, number>();
  private readonly stoppers = new Set<() => void>();
  private total = 0;
  constructor(readonly limits: StreamLimits) {}

  /**
   * Takes a slot for client, or throws the ClusterError the stream is refused
   * with; the returned function frees it (once). `stop`, if given, is what
   * stopAll() calls while the slot is held.
   */
  admit(client: string, stop?: () => void): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (this.total >= this.limits.maxStreams) {
      throw new ClusterError(`too many streams: ${this.total} open, the most this server takes (dplab serve ${STREAM_LIMIT_FLAGS.maxStreams.flag})`, 503);
    }
    if (mine >= this.limits.maxPerClient) {
      throw new ClusterError(`too many streams from ${client}: ${mine} open, the most one client may have (dplab serve ${STREAM_LIMIT_FLAGS.maxPerClient.flag})`, 429);
    }
    this.total++;
    this.perClient.set(client, mine + 1);
    if (stop) this.stoppers.add(stop);
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      if (stop) this.stoppers.delete(stop);
      this.total--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left); else this.perClient.delete(client);
    };
  }

  /** The server is closing: stops the streams that said how (a command that follows would otherwise keep it waiting). */
  stopAll(): void { for (const stop of [...this.stoppers]) stop(); }

  /** Streams open now (all clients). */
  get open(): number { return this.total; }
}

/**
 * Sends a stream's messages while the socket holds fewer than `limit` unsent
 * bytes, skips them beyond: for a source that cannot wait (capture, monitor,
 * conntrack's events). Skipped messages are reported with the text message
 * `report(total, sinceLastReport)` before the next message that goes out, or
 * as soon as the reader has caught up: seen when one of the messages already
 * queued is written out (the socket's own send callbacks, no timer).
 */
export class BoundedSender {
  private skipped = 0;
  private reported = 0;

  constructor(private readonly socket: WebSocket, private readonly limit: number,
    private readonly report: (total: number, since: number) => string) {}

  /**
   * Sends a message, built only when it goes out (a skipped frame costs no
   * copy); text for strings. `always`: never skipped (a command's last words).
   */
  send(message: () => Uint8Array | string, always = false): void {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return;
    if (!always && s.bufferedAmount >= this.limit) { this.skipped++; return; }
    this.flush();
    const data = message();
    s.send(data, { binary: typeof data !== 'string' }, this.written);
  }

  /** Messages skipped so far. */
  get dropped(): number { return this.skipped; }

  /** A queued message went out: report a loss if the reader has caught up. */
  private readonly written = (): void => {
    const s = this.socket;
    if (s.readyState === s.OPEN && s.bufferedAmount < this.limit) this.flush();
  };

  private flush(): void {
    if (this.skipped === this.reported) return;
    const since = this.skipped - this.reported;
    this.reported = this.skipped;
    this.socket.send(this.report(this.skipped, since));
  }
}

/**
 * Sends a stream's messages and never skips one: for a writer that can wait
 * (Hubble's follow counts its own lost flows). Past `limit` unsent bytes
 * send() returns a promise, resolved once the socket has written out down to
 * half of it (checked as each queued message goes out, the socket's own send
 * callbacks, no timer) or has closed. Make it after the stream's own 'close'
 * handler, so that a writer woken by the close sees its stream aborted.
 */
export class WaitingSender {
  private waiters: (() => void)[] = [];

  constructor(private readonly socket: WebSocket, private readonly limit: number) {
    socket.once('close', () => this.wake());
  }

  /** Sends data (text for strings); a promise when the socket holds `limit` unsent bytes or more. */
  send(data: string | Uint8Array): void | Promise<void> {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return;
    s.send(data, { binary: typeof data !== 'string' }, this.written);
    if (s.bufferedAmount < this.limit) return;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A failed send (the connection is gone) wakes no one: the close that follows does, after the stream's own close handler. */
  private readonly written = (err?: Error): void => {
    const s = this.socket;
    if (!err && s.readyState === s.OPEN && s.bufferedAmount <= this.limit / 2) this.wake();
  };

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
}
