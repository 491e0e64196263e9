// --since / --until values as hubble reads them (pkg/time FromString): a Go
// duration before now ("3s", "1h43m", "1.5h"), or an absolute time in one of
// its layouts (RFC 3339 with or without fraction, 2006-01-02, 2006-01-02T15Z,
// 2006-01-02T15:04Z, RFC 1123 with numeric zone).

import type { TimestampObject } from '../proto.ts';

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration in nanoseconds (as a float: precise enough for a point in time), or undefined. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s, neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) { neg = rest[0] === '-'; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return neg ? -total : total;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function zoneSeconds(z: string | undefined): number | undefined {
  if (z === undefined || z === 'Z') return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(z);
  if (!m) return undefined;
  const v = Number(m[2]) * 3600 + Number(m[3]) * 60;
  return m[1] === '-' ? -v : v;
}

/** Seconds since the epoch for a calendar time, or undefined when a field is out of range. */
function utcSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number, offset: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const daysIn = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysIn) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  if (y < 100) date.setUTCFullYear(y);
  return date.getTime() / 1000 - offset;
}

function nanosOf(frac: string | undefined): number {
  return frac ? Number(frac.slice(1, 10).padEnd(9, '0')) : 0;
}

/** An absolute time in one of hubble's layouts. */
function parseLayouts(s: string): TimestampObject | undefined {
  let m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s);
  if (m) { const sec = utcSeconds(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0, 0); return sec === undefined ? undefined : { seconds: sec, nanos: 0 }; }
  m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d?)(?::(\d\d)(?::(\d\d)(\.\d+)?)?)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (m) {
    // Hour only and hour:minute carry no fraction; RFC 3339 may carry one.
    if (m[7] !== undefined && m[6] === undefined) return undefined;
    const off = zoneSeconds(m[8]);
    const sec = off === undefined ? undefined : utcSeconds(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +(m[5] ?? 0), +(m[6] ?? 0), off);
    return sec === undefined ? undefined : { seconds: sec, nanos: nanosOf(m[7]) };
  }
  m = /^(\w{3}), (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d)(\.\d+)? ([+-]\d{4})$/.exec(s);
  if (m && DAYS.includes(m[1]!) && MONTHS.includes(m[3]!)) {
    const off = zoneSeconds(m[9]);
    const sec = off === undefined ? undefined : utcSeconds(+m[4]!, MONTHS.indexOf(m[3]!) + 1, +m[2]!, +m[5]!, +m[6]!, +m[7]!, off);
    return sec === undefined ? undefined : { seconds: sec, nanos: nanosOf(m[8]) };
  }
  return undefined;
}

/** FromString: a Timestamp for a relative or absolute time; throws with hubble's "failed to convert X to time". */
export function parseTimeArg(input: string, nowMs: number): TimestampObject {
  const d = parseGoDuration(input);
  if (d !== undefined) {
    const ns = BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(Math.round((nowMs % 1) * 1e6)) - BigInt(Math.round(d));
    const sec = ns / 1_000_000_000n, rem = ns % 1_000_000_000n;
    return rem < 0n ? { seconds: Number(sec - 1n), nanos: Number(rem + 1_000_000_000n) } : { seconds: Number(sec), nanos: Number(rem) };
  }
  const t = parseLayouts(input);
  if (!t) throw new Error(`failed to convert ${input} to time`);
  return t;
}
