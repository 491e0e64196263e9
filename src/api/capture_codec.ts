// Wire format of the capture WebSocket (GET /v1/nodes/:node/capture?iface=X).
//
// Each captured frame is ONE binary message: an 8-byte big-endian unsigned
// wall-clock timestamp in nanoseconds since the Unix epoch (virtual wall
// clock, what tcpdump and pcap stamp), followed by the frame bytes
// (Ethernet). Text messages are JSON control messages: `{"listening":
// {"node","iface"}}` once the capture is attached (tcpdump's "listening on"),
// `{"error": "..."}` just before the server closes with code 4000+status
// (4404: unknown node or interface), or `{"dropped": N}` when a slow client
// made the server skip frames (tcpdump's "dropped by kernel").

import type { CapturedFrame } from '../cluster/facade.ts';

/** Bytes before the frame in a binary capture message. */
export const CAPTURE_HEADER_LEN = 8;

/**
 * Wall-clock nanoseconds of a captured frame. From the sim's epoch and the
 * frame's virtual ns when given (exact: a float wallMs near 1.7e12 keeps only
 * ~0.2 us), else from wallMs.
 */
export function wallNs(f: Pick<CapturedFrame, 'wallMs' | 'tsNs'>, epochMs?: number): bigint {
  if (epochMs !== undefined && Number.isInteger(epochMs)) return BigInt(epochMs) * 1_000_000n + BigInt(Math.round(f.tsNs));
  const ms = Math.floor(f.wallMs);
  return BigInt(ms) * 1_000_000n + BigInt(Math.round((f.wallMs - ms) * 1e6));
}

/** One binary capture message for a frame; epochMs is the cluster Sim's. */
export function encodeCaptureMessage(f: Pick<CapturedFrame, 'frame' | 'wallMs' | 'tsNs'>, epochMs?: number): Uint8Array {
  const out = new Uint8Array(CAPTURE_HEADER_LEN + f.frame.length);
  new DataView(out.buffer).setBigUint64(0, wallNs(f, epochMs), false);
  out.set(f.frame, CAPTURE_HEADER_LEN);
  return out;
}

/** A decoded capture message: timestamp split as pcap wants it, and the frame. */
export interface CaptureMessage { sec: number; nsec: number; frame: Uint8Array }

/** Decodes a binary capture message; throws on one shorter than its header. */
export function decodeCaptureMessage(buf: Uint8Array): CaptureMessage {
  if (buf.length < CAPTURE_HEADER_LEN) throw new Error(`capture message of ${buf.length} bytes is shorter than its header`);
  const ns = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, false);
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n), frame: buf.subarray(CAPTURE_HEADER_LEN) };
}

/** A text control message of the capture stream. */
export type CaptureControl = { listening: { node: string; iface: string } } | { error: string; field?: string } | { dropped: number };
