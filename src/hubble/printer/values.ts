// Reading the loosely typed values a decoded protobuf plain object holds:
// 64-bit integers arrive as numbers, decimal strings, bigints or protobufjs
// Longs depending on how the object was made; enums as numbers or names.

/** A 64-bit integer in any of the forms protobufjs produces or accepts. */
export type Int64Like = number | string | bigint | { low: number; high: number; unsigned?: boolean } | null | undefined;

/** The value as a bigint (0 when absent or unreadable). */
export function toBigInt(v: Int64Like): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'string') { try { return BigInt(v); } catch { return 0n; } }
  const lo = BigInt(v.low >>> 0), hi = BigInt(v.high >>> 0);
  const u = (hi << 32n) | lo;
  return v.unsigned || hi < 0x80000000n ? u : u - (1n << 64n);
}

/** The value as a number (exact below 2^53). */
export function toNum(v: Int64Like): number {
  if (typeof v === 'number') return v;
  return Number(toBigInt(v));
}

/** An enum value as its number: numbers pass, names are looked up in `values` (name -> number); unknown names are -1. */
export function enumNumber(v: unknown, values: Readonly<Record<string, number>>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return values[v] ?? -1;
  return 0;
}
