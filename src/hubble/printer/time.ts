// Timestamps as the hubble CLI prints them: `--time-format` names mapped to
// Go layouts (hubble pkg/time FormatNameToLayout), always in UTC (the
// printer formats ts.AsTime()), "N/A" for a missing or invalid Timestamp.

import { toNum, type Int64Like } from './values.ts';

export type TimeLayout = 'StampMilli' | 'YearMonthDay' | 'YearMonthDayHour' | 'YearMonthDayHourMinute'
  | 'RFC3339' | 'RFC3339Milli' | 'RFC3339Micro' | 'RFC3339Nano' | 'RFC1123Z';

/** hubble's FormatNames, in its order (for help text and errors). */
export const TIME_FORMAT_NAMES: readonly TimeLayout[] = ['YearMonthDay', 'YearMonthDayHour', 'YearMonthDayHourMinute', 'StampMilli',
  'RFC3339', 'RFC3339Milli', 'RFC3339Micro', 'RFC3339Nano', 'RFC1123Z'];

/** A --time-format name (any case) to its layout; anything unknown is StampMilli, as in hubble. */
export function timeLayout(name: string): TimeLayout {
  return TIME_FORMAT_NAMES.find((n) => n.toLowerCase() === name.toLowerCase()) ?? 'StampMilli';
}

/** google.protobuf.Timestamp as a plain object (seconds may be a 64-bit form). */
export interface TimestampLike { seconds?: Int64Like; nanos?: number | null }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// timestamppb's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

const p2 = (n: number): string => String(n).padStart(2, '0');

/** Go's ".999..." fraction: `digits` digits, trailing zeros and then the dot dropped. */
function trimmedFraction(nanos: number, digits: number): string {
  const f = String(nanos).padStart(9, '0').slice(0, digits).replace(/0+$/, '');
  return f === '' ? '' : `.${f}`;
}

/** Formats seconds+nanos (UTC) with a layout. */
export function formatTime(seconds: number, nanos: number, layout: TimeLayout): string {
  const d = new Date(seconds * 1000);
  const Y = String(d.getUTCFullYear()).padStart(4, '0'), M = p2(d.getUTCMonth() + 1), D = p2(d.getUTCDate());
  const h = p2(d.getUTCHours()), m = p2(d.getUTCMinutes()), s = p2(d.getUTCSeconds());
  switch (layout) {
    case 'YearMonthDay': return `${Y}-${M}-${D}`;
    case 'YearMonthDayHour': return `${Y}-${M}-${D}T${h}Z`;
    case 'YearMonthDayHourMinute': return `${Y}-${M}-${D}T${h}:${m}Z`;
    case 'RFC3339': return `${Y}-${M}-${D}T${h}:${m}:${s}Z`;
    case 'RFC3339Milli': return `${Y}-${M}-${D}T${h}:${m}:${s}${trimmedFraction(nanos, 3)}Z`;
    case 'RFC3339Micro': return `${Y}-${M}-${D}T${h}:${m}:${s}${trimmedFraction(nanos, 6)}Z`;
    case 'RFC3339Nano': return `${Y}-${M}-${D}T${h}:${m}:${s}${trimmedFraction(nanos, 9)}Z`;
    case 'RFC1123Z': return `${DAYS[d.getUTCDay()]}, ${D} ${MONTHS[d.getUTCMonth()]} ${Y} ${h}:${m}:${s} +0000`;
    case 'StampMilli': {
      const day = String(d.getUTCDate()).padStart(2, ' ');
      return `${MONTHS[d.getUTCMonth()]} ${day} ${h}:${m}:${s}.${String(nanos).padStart(9, '0').slice(0, 3)}`;
    }
  }
}

/** A Timestamp as the printers show it; "N/A" when absent or outside timestamppb's valid range. */
export function formatTimestamp(ts: TimestampLike | null | undefined, layout: TimeLayout): string {
  if (!ts) return 'N/A';
  const seconds = toNum(ts.seconds), nanos = ts.nanos ?? 0;
  if (!Number.isFinite(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS || nanos < 0 || nanos >= 1e9) return 'N/A';
  return formatTime(seconds, nanos, layout);
}

/** protojson's Timestamp string: RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits. */
export function protojsonTime(seconds: number, nanos: number): string {
  const base = formatTime(seconds, 0, 'RFC3339').slice(0, -1);
  if (nanos === 0) return `${base}Z`;
  let f = String(nanos).padStart(9, '0');
  if (f.endsWith('000000')) f = f.slice(0, 3); else if (f.endsWith('000')) f = f.slice(0, 6);
  return `${base}.${f}Z`;
}

/** Go's time.Duration.String() for a whole number of nanoseconds (e.g. 1h2m3s, 1.5s, 250ms, 0s). */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [unit, div] = u < 1000n ? ['ns', 1n] : u < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    out = `${fraction(u, div)}${unit}`;
  } else {
    const h = u / 3_600_000_000_000n; u %= 3_600_000_000_000n;
    const m = u / 60_000_000_000n; u %= 60_000_000_000n;
    out = `${fraction(u, 1_000_000_000n)}s`;
    if (h > 0n) out = `${h}h${m}m${out}`; else if (m > 0n) out = `${m}m${out}`;
  }
  return neg ? `-${out}` : out;
}

/** v/div with the remainder as decimals, trailing zeros dropped (Go's fmtFrac). */
function fraction(v: bigint, div: bigint): string {
  const whole = v / div, rem = v % div;
  if (rem === 0n) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rem).padStart(digits, '0').replace(/0+$/, '')}`;
}
