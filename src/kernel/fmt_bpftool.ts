// bpftool output: `net show`, `prog show`, `map list` (plain, not JSON).

import { bpfObjName, BPF_OBJ_NAME_LEN } from '../bpf/define.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { BpfProgram } from '../bpf/program.ts';
import type { LinuxNode } from './node.ts';

/** `bpftool net show [dev X]`: tcx links by ifindex, ingress before egress, in attach order. */
export function formatNetShow(node: LinuxNode, dev?: string): string {
  const lines = ['xdp:', '', 'tc:'];
  const devs = [...node.hostNs.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  for (const d of devs) {
    if (dev !== undefined && d.name !== dev) continue;
    for (const dir of ['ingress', 'egress'] as const) {
      for (const l of d.tcx[dir]) lines.push(`${d.name}(${d.ifindex}) tcx/${dir} ${progFullName(l.prog)} prog_id ${l.prog.id} link_id ${l.linkId}`);
    }
  }
  lines.push('', 'flow_dissector:', '', 'netfilter:', '');
  return lines.join('\n') + '\n';
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

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

/** One `bpftool prog show` entry (three or four lines). */
export function formatProg(p: BpfProgram<unknown>): string {
  const s = p as BpfProgram<unknown> & Sized;
  const h = tagHash(p.tag);
  const xlated = s.xlatedBytes ?? 8 * (64 + (h % 512));
  const jited = s.jitedBytes ?? Math.round(xlated * 0.6);
  const maps = p.mapIds.length ? `  map_ids ${p.mapIds.join(',')}` : '';
  const lines = [
    `${p.id}: ${p.type}  name ${progFullName(p)}  tag ${p.tag}  gpl`,
    `\tloaded_at ${isoSeconds(p.loadedAtMs)}  uid 0`,
    `\txlated ${xlated}B  jited ${jited}B  memlock 4096B${maps}`,
  ];
  if (s.btfId) lines.push(`\tbtf_id ${s.btfId}`); // bpftool prints it when bpf_prog_info.btf_id is set
  return lines.join('\n') + '\n';
}

/** Kernel map memory accounting (approximate for hashes, exact-ish for arrays as 6.x reports). */
function memlock(m: BpfMap): number {
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

/** One `bpftool map show` entry; maps have no BTF name to recover, so bpftool prints the kernel's 15 characters. */
export function formatMap(m: BpfMap): string {
  const s = m.spec;
  const lines = [
    `${m.id}: ${s.type}  name ${bpfObjName(s.name)}  flags 0x${s.flags.toString(16)}`,
    `\tkey ${s.keySize}B  value ${s.valueSize}B  max_entries ${s.maxEntries}  memlock ${memlock(m)}B`,
  ];
  if (s.type === 'prog_array') lines.push('\towner_prog_type sched_cls  owner jited');
  return lines.join('\n') + '\n';
}

export function formatProgList(node: LinuxNode): string {
  return [...node.progs.values()].sort((a, b) => a.id - b.id).map(formatProg).join('');
}

export function formatMapList(node: LinuxNode): string {
  return [...node.maps.values()].sort((a, b) => a.id - b.id).map(formatMap).join('');
}
