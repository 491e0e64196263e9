// One description per Cilium C struct: fields in C order with their C types;
// offsets and size follow the C rules (natural alignment, or __packed), as
// clang lays them out for BPF on x86. Readers take offsets from `off` once, at
// module load, so hot paths index with plain numbers.

/**
 * C field types. Integers are host order (little-endian); `be16`/`be32` are
 * __be16/__be32 (network order); `mac` is mac_t (a __u64 holding 6 bytes).
 */
export type Kind = 'u8' | 's8' | 'u16' | 'be16' | 'u32' | 'be32' | 's32' | 'u64' | 'mac';
/** A scalar, or an array `[kind, count]` (`__u8 addr[16]`, `__u32 pad[3]`). */
export type FieldSpec = Kind | readonly [Kind, number];

const SIZE: Record<Kind, number> = { u8: 1, s8: 1, u16: 2, be16: 2, u32: 4, be32: 4, s32: 4, u64: 8, mac: 8 };

export interface Field { readonly name: string; readonly kind: Kind; readonly count: number; readonly off: number; readonly size: number }

export interface Struct<F extends string> {
  /** The C name (`struct ct_entry`). */
  readonly name: string;
  /** sizeof() */
  readonly size: number;
  readonly packed: boolean;
  readonly fields: readonly Field[];
  /** offsetof() of each field. */
  readonly off: Readonly<Record<F, number>>;
}

/** Describe a C struct; `packed` mirrors __packed (no padding, alignment 1). */
export function defineStruct<const S extends Record<string, FieldSpec>>(name: string, spec: S, opts: { packed?: boolean } = {}): Struct<keyof S & string> {
  const packed = opts.packed ?? false;
  const fields: Field[] = [];
  const off: Record<string, number> = {};
  let at = 0, maxAlign = 1;
  for (const [fname, fs] of Object.entries(spec)) {
    const [kind, count] = typeof fs === 'string' ? [fs, 1] : fs;
    const align = packed ? 1 : SIZE[kind];
    maxAlign = Math.max(maxAlign, align);
    at = Math.ceil(at / align) * align;
    fields.push({ name: fname, kind, count, off: at, size: SIZE[kind] * count });
    off[fname] = at;
    at += SIZE[kind] * count;
  }
  const size = Math.ceil(at / maxAlign) * maxAlign;
  return Object.freeze({ name, size, packed, fields: Object.freeze(fields), off: Object.freeze(off) as Record<keyof S & string, number> });
}

/** A struct's field by name (throws on a typo: tests and tools only). */
export function fieldOf<F extends string>(s: Struct<F>, name: F): Field {
  const f = s.fields.find((x) => x.name === name);
  if (!f) throw new Error(`struct ${s.name} has no field ${name}`);
  return f;
}

function dv(b: Uint8Array): DataView { return new DataView(b.buffer, b.byteOffset, b.byteLength); }

/**
 * Read a scalar field as a number (u64 exact below 2^53), or an array / mac
 * field as its bytes. For tools and tests: hot paths use `off` constants.
 */
export function getField<F extends string>(s: Struct<F>, b: Uint8Array, name: F): number | Uint8Array {
  const f = fieldOf(s, name), d = dv(b), o = f.off;
  if (f.count !== 1 || f.kind === 'mac') return b.slice(o, o + f.size);
  switch (f.kind) {
    case 'u8': return b[o]!;
    case 's8': return d.getInt8(o);
    case 'u16': return d.getUint16(o, true);
    case 'be16': return d.getUint16(o, false);
    case 'u32': return d.getUint32(o, true);
    case 'be32': return d.getUint32(o, false);
    case 's32': return d.getInt32(o, true);
    case 'u64': return Number(d.getBigUint64(o, true));
  }
}

/** Write a field (the counterpart of getField). */
export function setField<F extends string>(s: Struct<F>, b: Uint8Array, name: F, v: number | Uint8Array): void {
  const f = fieldOf(s, name), d = dv(b), o = f.off;
  if (v instanceof Uint8Array) { b.set(v.subarray(0, f.size), o); return; }
  switch (f.kind) {
    case 'u8': case 's8': b[o] = v & 255; return;
    case 'u16': d.setUint16(o, v, true); return;
    case 'be16': d.setUint16(o, v, false); return;
    case 'u32': case 's32': d.setUint32(o, v >>> 0, true); return;
    case 'be32': d.setUint32(o, v >>> 0, false); return;
    case 'u64': d.setBigUint64(o, BigInt(v), true); return;
    case 'mac': throw new Error(`field ${name} of ${s.name} takes bytes`);
  }
}
