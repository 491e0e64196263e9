// Bounds on WebSocket streams (capture, monitor): how many may be open, in
// total and per client address, and how much unsent data one may hold. A
// reader that does not keep up loses messages instead of the server buffering
// them; the loss is counted and reported to that reader once it catches up.

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
  private total = 0;
  constructor(readonly limits: StreamLimits) {}

  /** Takes a slot for client, or throws the ClusterError the stream is refused with; the returned function frees it (once). */
  admit(client: string): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (this.total >= this.limits.maxStreams) {
      throw new ClusterError(`too many streams: ${this.total} open, the most this server takes (dplab serve ${STREAM_LIMIT_FLAGS.maxStreams.flag})`, 503);
    }
    if (mine >= this.limits.maxPerClient) {
      throw new ClusterError(`too many streams from ${client}: ${mine} open, the most one client may have (dplab serve ${STREAM_LIMIT_FLAGS.maxPerClient.flag})`, 429);
    }
    this.total++;
    this.perClient.set(client, mine + 1);
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.total--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left); else this.perClient.delete(client);
    };
  }

  /** Streams open now (all clients). */
  get open(): number { return this.total; }
}

/** How often a stream that skipped messages looks whether its reader caught up, to report the loss. */
const REPORT_POLL_MS = 20;

/**
 * Sends a stream's messages while the socket holds fewer than `limit` unsent
 * bytes, skips them beyond. Skipped messages are reported with the text
 * message `report(total, sinceLastReport)` before the next message that goes
 * out, or as soon as the reader has caught up.
 */
export class BoundedSender {
  private skipped = 0;
  private reported = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: WebSocket, private readonly limit: number,
    private readonly report: (total: number, since: number) => string) {}

  /** Sends a message, built only when it goes out (a skipped frame costs no copy); text for strings. */
  send(message: () => Uint8Array | string): void {
    const s = this.socket;
    if (s.readyState !== s.OPEN) return;
    if (s.bufferedAmount >= this.limit) { this.skipped++; this.watch(); return; }
    this.flush();
    const data = message();
    s.send(data, { binary: typeof data !== 'string' });
  }

  /** Messages skipped so far. */
  get dropped(): number { return this.skipped; }

  close(): void { if (this.timer) clearInterval(this.timer); this.timer = undefined; }

  private flush(): void {
    if (this.skipped === this.reported) return;
    const since = this.skipped - this.reported;
    this.reported = this.skipped;
    this.socket.send(this.report(this.skipped, since));
  }

  private watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const s = this.socket;
      if (s.readyState !== s.OPEN) { this.close(); return; }
      if (s.bufferedAmount >= this.limit) return;
      this.close();
      this.flush();
    }, REPORT_POLL_MS);
    this.timer.unref();
  }
}
