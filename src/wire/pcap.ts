// Classic libpcap file format (what tcpdump -w writes): a 24-byte global
// header, then per frame a 16-byte record header and the captured bytes.

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_SNAPLEN = 262144;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HLEN = 16;

export interface PcapOptions { nanosecond?: boolean; snaplen?: number; linktype?: number }

/** Global header, little-endian like tcpdump on x86. */
export function pcapHeader(opts: PcapOptions = {}): Uint8Array {
  const b = new Uint8Array(PCAP_HEADER_LEN);
  const v = new DataView(b.buffer);
  v.setUint32(0, opts.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
  v.setUint16(4, 2, true); v.setUint16(6, 4, true);
  // thiszone and sigfigs stay 0.
  v.setUint32(16, opts.snaplen ?? PCAP_SNAPLEN, true);
  v.setUint32(20, opts.linktype ?? LINKTYPE_ETHERNET, true);
  return b;
}

/**
 * One record. `sec` is Unix seconds, `frac` microseconds (or nanoseconds in a
 * nanosecond file). Frames longer than snaplen are cut, keeping the original length.
 */
export function pcapRecord(frame: Uint8Array, sec: number, frac: number, snaplen = PCAP_SNAPLEN): Uint8Array {
  const cap = Math.min(frame.length, snaplen);
  const b = new Uint8Array(PCAP_RECORD_HLEN + cap);
  const v = new DataView(b.buffer);
  v.setUint32(0, sec >>> 0, true); v.setUint32(4, frac >>> 0, true);
  v.setUint32(8, cap, true); v.setUint32(12, frame.length, true);
  b.set(frame.subarray(0, cap), PCAP_RECORD_HLEN);
  return b;
}

/**
 * Split wall-clock milliseconds (Sim.wallMs()) into seconds and micro- or
 * nanoseconds. A float of ~1.7e12 ms only holds ~0.25 us, so both precisions
 * round to the microsecond here; use simTimeToParts for exact nanoseconds.
 */
export function wallMsToParts(wallMs: number, nanosecond = false): [sec: number, frac: number] {
  let sec = Math.floor(wallMs / 1000);
  let us = Math.round((wallMs - sec * 1000) * 1000);
  if (us >= 1_000_000) { sec++; us -= 1_000_000; }
  return [sec, nanosecond ? us * 1000 : us];
}

/** Exact seconds and fraction from the Sim's integer epochMs and virtual nowNs. */
export function simTimeToParts(epochMs: number, nowNs: number, nanosecond = false): [sec: number, frac: number] {
  const ns = (epochMs % 1000) * 1_000_000 + nowNs;
  const sec = Math.floor(epochMs / 1000) + Math.floor(ns / 1e9);
  const fracNs = ns % 1e9;
  return [sec, nanosecond ? fracNs : Math.floor(fracNs / 1000)];
}

/** A record stamped from wall-clock milliseconds. */
export function pcapRecordMs(frame: Uint8Array, wallMs: number, nanosecond = false): Uint8Array {
  const [sec, frac] = wallMsToParts(wallMs, nanosecond);
  return pcapRecord(frame, sec, frac);
}

/** A whole file from frames stamped in wall-clock milliseconds. */
export function pcapFile(frames: ReadonlyArray<{ frame: Uint8Array; wallMs: number }>, opts: PcapOptions = {}): Uint8Array {
  const parts = [pcapHeader(opts), ...frames.map((f) => pcapRecordMs(f.frame, f.wallMs, opts.nanosecond))];
  return concatBytes(parts);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export interface PcapRecord { sec: number; frac: number; origLen: number; data: Uint8Array }
export interface PcapContents { nanosecond: boolean; snaplen: number; linktype: number; records: PcapRecord[] }

/** Read a classic pcap (either byte order, either precision). Throws on malformed input. */
export function readPcap(buf: Uint8Array): PcapContents {
  if (buf.length < PCAP_HEADER_LEN) throw new Error('pcap: file shorter than its global header');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = v.getUint32(0, true);
  let le: boolean; let nanosecond: boolean;
  if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC) { le = true; nanosecond = m === PCAP_MAGIC_NSEC; }
  else {
    const mb = v.getUint32(0, false);
    if (mb !== PCAP_MAGIC_USEC && mb !== PCAP_MAGIC_NSEC) throw new Error(`pcap: bad magic 0x${m.toString(16)}`);
    le = false; nanosecond = mb === PCAP_MAGIC_NSEC;
  }
  const snaplen = v.getUint32(16, le), linktype = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let o = PCAP_HEADER_LEN;
  while (o < buf.length) {
    if (o + PCAP_RECORD_HLEN > buf.length) throw new Error(`pcap: truncated record header at offset ${o}`);
    const cap = v.getUint32(o + 8, le);
    if (o + PCAP_RECORD_HLEN + cap > buf.length) throw new Error(`pcap: truncated record at offset ${o}`);
    records.push({ sec: v.getUint32(o, le), frac: v.getUint32(o + 4, le), origLen: v.getUint32(o + 12, le), data: buf.subarray(o + PCAP_RECORD_HLEN, o + PCAP_RECORD_HLEN + cap) });
    o += PCAP_RECORD_HLEN + cap;
  }
  return { nanosecond, snaplen, linktype, records };
}
