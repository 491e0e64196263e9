// bpftool's read side, printed as bpftool v7.4 prints it (src/net.c, prog.c,
// map.c, link.c): plain text with its two-space separators and trailing
// blanks, or JSON through json_writer's rules (-j, -p). Every formatter takes
// a JsonWriter when the output is JSON and returns the plain text otherwise.

import { bpfObjName, BPF_OBJ_NAME_LEN } from '../bpf/define.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { BpfProgram } from '../bpf/program.ts';
import type { NetDevice } from './api.ts';
import type { JsonWriter } from './bpftool_json.ts';
import type { LinuxNode } from './node.ts';

/** Pinned paths by object id (-f/--bpffs); undefined when not asked for. */
export type Pins = Map<number, string[]> | undefined;

/** One tcx attachment: what `net show` and `link show` list. */
export interface TcxAttachment { dev: NetDevice; dir: 'ingress' | 'egress'; prog: BpfProgram<unknown>; linkId: number }

/** A netns's devices by ifindex (what netlink lists where bpftool runs). */
export interface DeviceTable { byIndex: Map<number, NetDevice> }

/** tcx links of a netns (the host's by default) by ifindex, ingress before egress, each in attach order (bpf_prog_query's order). */
export function tcxAttachments(node: LinuxNode, ns: DeviceTable = node.hostNs): TcxAttachment[] {
  const devs = [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  return devs.flatMap((dev) => (['ingress', 'egress'] as const).flatMap((dir) => dev.tcx[dir].map((l) => ({ dev, dir, prog: l.prog as BpfProgram<unknown>, linkId: l.linkId }))));
}

/** `net show [dev X]` in a netns (the host's by default): xdp (none), tc (tcx links), flow_dissector, netfilter. */
export function formatNetShow(node: LinuxNode, dev?: string, jw?: JsonWriter, ns: DeviceTable = node.hostNs): string {
  const tc = tcxAttachments(node, ns).filter((a) => dev === undefined || a.dev.name === dev);
  if (jw) {
    jw.startArray().startObject().name('xdp').startArray().endArray().name('tc').startArray();
    for (const a of tc) {
      jw.startObject().stringField('devname', a.dev.name).uintField('ifindex', a.dev.ifindex).stringField('kind', `tcx/${a.dir}`)
        .stringField('name', progFullName(a.prog)).uintField('prog_id', a.prog.id).name('prog_flags').startArray().endArray()
        .uintField('link_id', a.linkId).name('link_flags').startArray().endArray().endObject();
    }
    jw.endArray().name('flow_dissector').startArray().endArray().name('netfilter').startArray().endArray().endObject().endArray();
    return '';
  }
  const lines = tc.map((a) => `${a.dev.name}(${a.dev.ifindex}) tcx/${a.dir} ${progFullName(a.prog)} prog_id ${a.prog.id} link_id ${a.linkId} \n`);
  return `xdp:\n\ntc:\n${lines.join('')}\nflow_dissector:\n\nnetfilter:\n\n`;
}

/** Optional sizes a loader may put on a program; deterministic stand-ins otherwise. */
type Sized = { xlatedBytes?: number; jitedBytes?: number; btfId?: number };

/**
 * bpftool's get_prog_full_name: the kernel keeps 15 characters of a name; when
 * that many are there and the program has BTF, bpftool reads the full name
 * from the program's func info instead (our program's BTF names it in full).
 */
export function progFullName(p: BpfProgram<unknown>): string {
  const kernelName = bpfObjName(p.name);
  if (kernelName.length < BPF_OBJ_NAME_LEN - 1 || !(p as BpfProgram<unknown> & Sized).btfId) return kernelName;
  return p.name;
}

function tagHash(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(h, 31) + tag.charCodeAt(i)) >>> 0;
  return h;
}

/** The program's translated and JIT-ed sizes (a loader's figures, else stand-ins derived from its tag). */
function progSizes(p: BpfProgram<unknown>): { xlated: number; jited: number; btfId?: number } {
  const s = p as BpfProgram<unknown> & Sized;
  const xlated = s.xlatedBytes ?? 8 * (64 + (tagHash(p.tag) % 512));
  return { xlated, jited: s.jitedBytes ?? Math.round(xlated * 0.6), btfId: s.btfId };
}

/** print_boot_time in UTC: %FT%T%z for text. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

/** Program memory as the kernel accounts it (one page for the sizes Cilium's programs have). */
const PROG_MEMLOCK = 4096;

/** One `prog show` entry: three or four lines of text, or one JSON object. */
export function formatProg(p: BpfProgram<unknown>, jw?: JsonWriter, pins?: Pins): string {
  const { xlated, jited, btfId } = progSizes(p);
  if (jw) {
    jw.startObject().uintField('id', p.id).stringField('type', p.type).stringField('name', progFullName(p)).stringField('tag', p.tag)
      .boolField('gpl_compatible', true).name('loaded_at').uint(Math.floor(p.loadedAtMs / 1000)).uintField('uid', 0)
      .boolField('orphaned', false).uintField('bytes_xlated', xlated).boolField('jited', true).uintField('bytes_jited', jited).uintField('bytes_memlock', PROG_MEMLOCK);
    if (p.mapIds.length) { jw.name('map_ids').startArray(); for (const id of p.mapIds) jw.uint(id); jw.endArray(); }
    if (btfId) jw.uintField('btf_id', btfId);
    if (pins) { jw.name('pinned').startArray(); for (const path of pins.get(p.id) ?? []) jw.string(path); jw.endArray(); }
    jw.endObject();
    return '';
  }
  const maps = p.mapIds.length ? `  map_ids ${p.mapIds.join(',')}` : '';
  const pinned = (pins?.get(p.id) ?? []).map((path) => `\n\tpinned ${path}`).join('');
  return `${p.id}: ${p.type}  name ${progFullName(p)}  tag ${p.tag}  gpl\n\tloaded_at ${isoSeconds(p.loadedAtMs)}  uid 0\n`
    + `\txlated ${xlated}B  jited ${jited}B  memlock ${PROG_MEMLOCK}B${maps}${pinned}${btfId ? `\n\tbtf_id ${btfId}` : ''}\n`;
}

/** Kernel map memory accounting when the map does not say (approximate for hashes, as 6.x reports arrays). */
function memlockOf(m: BpfMap): number {
  if (m.memlock !== undefined) return m.memlock;
  const { type, keySize, valueSize, maxEntries } = m.spec;
  const r8 = (n: number): number => Math.ceil(n / 8) * 8;
  if (type === 'prog_array' || type === 'perf_event_array') return 320 + 8 * maxEntries;
  if (type === 'array') return 320 + r8(valueSize) * maxEntries;
  if (type === 'percpu_array') return 320 + 8 * maxEntries + r8(valueSize) * 2 * maxEntries;
  const percpu = type === 'percpu_hash' || type === 'lru_percpu_hash';
  const elem = 48 + r8(keySize) + (percpu ? 8 : r8(valueSize));
  const buckets = 16 * 2 ** Math.ceil(Math.log2(Math.max(1, maxEntries)));
  // BPF_F_NO_PREALLOC hashes account only for the elements present.
  const count = m.spec.flags & 1 ? m.size : maxEntries;
  return 704 + buckets + count * (elem + (percpu ? r8(valueSize) * 2 : 0));
}

/** show_map_header_*: id, type, the kernel's 15-character name (maps have no BTF to recover more), flags. */
function mapHeaderJson(m: BpfMap, jw: JsonWriter): void {
  jw.uintField('id', m.id).stringField('type', m.spec.type).stringField('name', bpfObjName(m.spec.name)).name('flags').uint(m.spec.flags);
}
const mapHeaderPlain = (m: BpfMap): string => `${m.id}: ${m.spec.type}  name ${bpfObjName(m.spec.name)}  flags 0x${m.spec.flags.toString(16)}\n`;

/** One `map show` entry. */
export function formatMap(m: BpfMap, jw?: JsonWriter, pins?: Pins): string {
  const s = m.spec;
  if (jw) {
    jw.startObject();
    mapHeaderJson(m, jw);
    jw.uintField('bytes_key', s.keySize).uintField('bytes_value', s.valueSize).uintField('max_entries', s.maxEntries).uintField('bytes_memlock', memlockOf(m));
    if (s.type === 'prog_array') jw.stringField('owner_prog_type', 'sched_cls').boolField('owner_jited', true);
    jw.uintField('frozen', 0);
    if (pins) { jw.name('pinned').startArray(); for (const path of pins.get(m.id) ?? []) jw.string(path); jw.endArray(); }
    jw.endObject();
    return '';
  }
  const owner = s.type === 'prog_array' ? '\n\towner_prog_type sched_cls  owner jited' : '';
  const pinned = (pins?.get(m.id) ?? []).map((path) => `\n\tpinned ${path}`).join('');
  return `${mapHeaderPlain(m)}\tkey ${s.keySize}B  value ${s.valueSize}B  max_entries ${s.maxEntries}  memlock ${memlockOf(m)}B${owner}${pinned}\n`;
}

/** Every program of the node by id (bpf_prog_get_next_id order). */
export function formatProgList(node: LinuxNode, jw?: JsonWriter, pins?: Pins): string {
  const progs = [...node.progs.values()].sort((a, b) => a.id - b.id);
  if (!jw) return progs.map((p) => formatProg(p, undefined, pins)).join('');
  jw.startArray(); for (const p of progs) formatProg(p, jw, pins); jw.endArray();
  return '';
}

/** Every map of the node by id. */
export function formatMapList(node: LinuxNode, jw?: JsonWriter, pins?: Pins): string {
  const maps = [...node.maps.values()].sort((a, b) => a.id - b.id);
  if (!jw) return maps.map((m) => formatMap(m, undefined, pins)).join('');
  jw.startArray(); for (const m of maps) formatMap(m, jw, pins); jw.endArray();
  return '';
}

/** One `link show` entry (tcx: the device and attach type). */
export function formatLink(a: TcxAttachment, jw?: JsonWriter): string {
  if (jw) {
    jw.startObject().uintField('id', a.linkId).stringField('type', 'tcx').uintField('prog_id', a.prog.id)
      .stringField('devname', a.dev.name).uintField('ifindex', a.dev.ifindex).stringField('attach_type', `tcx_${a.dir}`).endObject();
    return '';
  }
  return `${a.linkId}: tcx  prog ${a.prog.id}  \n\tifindex ${a.dev.name}(${a.dev.ifindex})  attach_type tcx_${a.dir}  \n`;
}

/** Every link of the node by id. */
export function formatLinkList(node: LinuxNode, jw?: JsonWriter): string {
  const links = tcxAttachments(node).sort((a, b) => a.linkId - b.linkId);
  if (!jw) return links.map((l) => formatLink(l)).join('');
  jw.startArray(); for (const l of links) formatLink(l, jw); jw.endArray();
  return '';
}

/** main.c's fprint_hex: bytes as %02x, a line break every 16, two blanks every 8. */
export function hexBytes(b: Uint8Array, sep = ' '): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const pfx = i === 0 ? '' : i % 16 === 0 ? '\n' : i % 8 === 0 ? '  ' : sep;
    out += pfx + b[i]!.toString(16).padStart(2, '0');
  }
  return out;
}

const PERCPU = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash']);
/** errno 524 (ENOTSUPP): a perf event array has no value to read from userspace; glibc has no name for it. */
const ENOTSUPP_MSG = 'Unknown error 524';

/** One element as print_entry_plain prints it (the split into lines follows the key and value sizes). */
function entryPlain(m: BpfMap, key: Uint8Array, value: Uint8Array): string {
  const { keySize, valueSize } = m.spec;
  if (!PERCPU.has(m.spec.type)) {
    const breakNames = keySize > 16 || valueSize > 16;
    const single = keySize + valueSize <= 24 && !breakNames;
    const nl = breakNames ? '\n' : ' ';
    return `key:${nl}${hexBytes(key)}${single ? '  ' : '\n'}value:${nl}${hexBytes(value.subarray(0, valueSize))}\n`;
  }
  let out = `key:\n${hexBytes(key)}\n`;
  for (let c = 0; c * valueSize < value.length; c++) out += `value (CPU ${String(c).padStart(2, '0')}):${valueSize > 16 ? '\n' : ' '}${hexBytes(value.subarray(c * valueSize, (c + 1) * valueSize))}\n`;
  return out;
}

function entryJson(m: BpfMap, key: Uint8Array, value: Uint8Array, jw: JsonWriter): void {
  const vs = m.spec.valueSize;
  jw.startObject().name('key').hex(key);
  if (!PERCPU.has(m.spec.type)) jw.name('value').hex(value.subarray(0, vs));
  else {
    jw.name('values').startArray();
    for (let c = 0; c * vs < value.length; c++) jw.startObject().name('cpu').uint(c).name('value').hex(value.subarray(c * vs, (c + 1) * vs)).endObject();
    jw.endArray();
  }
  jw.endObject();
}

/** print_entry_error for a lookup that fails (perf event arrays: every index). */
function entryError(m: BpfMap, key: Uint8Array, msg: string, jw?: JsonWriter): string {
  if (jw) { jw.startObject().name('key').hex(key).name('value').startObject().stringField('error', msg).endObject().endObject(); return ''; }
  const breakNames = m.spec.keySize > 16 || msg.length > 16;
  const single = m.spec.keySize + msg.length <= 24 && !breakNames;
  const nl = breakNames ? '\n' : ' ';
  return `key:${nl}${hexBytes(key)}${single ? '  ' : '\n'}value:${nl}${msg}\n`;
}

/** One element as `map lookup` prints it (print_key_value: the dump's entry format). */
export function formatEntry(m: BpfMap, key: Uint8Array, value: Uint8Array, jw?: JsonWriter): string {
  if (jw) { entryJson(m, key, value, jw); return ''; }
  return entryPlain(m, key, value);
}

/** Bound on what one dump prints, so a huge map cannot make one command's output unbounded. */
export const MAX_DUMP_ENTRIES = 1_000_000;

/**
 * `map dump`: every element in get_next_key order, then `Found N elements`;
 * with several maps (a name shared by many) each starts with its header.
 * Prog arrays skip empty slots; a perf event array has nothing to read.
 */
export function formatMapDump(m: BpfMap, jw?: JsonWriter, header = false): string {
  let out = '';
  let found = 0;
  if (jw && header) { jw.startObject(); mapHeaderJson(m, jw); jw.name('elements'); }
  if (jw) jw.startArray(); else if (header) out += mapHeaderPlain(m);
  if (m.spec.type === 'perf_event_array') {
    for (let i = 0; i < Math.min(m.spec.maxEntries, MAX_DUMP_ENTRIES); i++) {
      const k = new Uint8Array(4); new DataView(k.buffer).setUint32(0, i, true);
      out += entryError(m, k, ENOTSUPP_MSG, jw);
    }
  } else {
    for (const [k, v] of m.entries()) {
      if (found >= MAX_DUMP_ENTRIES) break;
      if (jw) entryJson(m, k, v, jw); else out += entryPlain(m, k, v);
      found++;
    }
  }
  if (jw) { jw.endArray(); if (header) jw.endObject(); return ''; }
  return `${out}Found ${found} element${found !== 1 ? 's' : ''}\n`;
}
