// `bpftool` on a node, read side: main.c's option parsing (getopt_long,
// options anywhere), cmd_select's prefix matching, each object's argument
// handling and error wording (common.c map_parse_fds / prog_parse_fds,
// net_parse_dev, link_parse_fd), exit status 255 for every failure, and
// errors as {"error": ...} on stdout under -j as p_err prints them.

import type { BpfMap } from '../bpf/map.ts';
import type { BpfProgram } from '../bpf/program.ts';
import type { CgroupHook } from './api.ts';
import { mapAtPath, pinnedPaths } from './bpffs.ts';
import { JsonWriter } from './bpftool_json.ts';
import { BPFTOOL_HELP, CGROUP_HELP, LINK_HELP, MAP_HELP, NET_HELP, PROG_HELP } from './bpftool_help.ts';
import { formatEntry, formatLink, formatLinkList, formatMap, formatMapDump, formatMapList, formatNetShow, formatProg, formatProgList, hexBytes, progFullName, tcxAttachments, type Pins } from './fmt_bpftool.ts';
import type { LinuxNode } from './node.ts';
import type { NetnsImpl } from './netns.ts';
import { bpfObjName, BPF_OBJ_NAME_LEN } from '../bpf/define.ts';

export interface BpftoolResult { stdout: string; stderr: string; exitCode: number }

/** bpftool main()'s long options (getopt_long also takes any unambiguous prefix). */
const LONG: Record<string, string> = { json: 'j', help: 'h', pretty: 'p', version: 'V', bpffs: 'f', mapcompat: 'm', nomount: 'n', debug: 'd', 'use-loader': 'L', 'base-btf': 'B' };
const SHORT = 'VhpjfLmndB';
const TOP = ['help', 'batch', 'prog', 'map', 'link', 'cgroup', 'perf', 'net', 'feature', 'btf', 'gen', 'struct_ops', 'iter', 'version'];

const isPrefix = (pfx: string, s: string): boolean => pfx.length > 0 && s.startsWith(pfx);
const select = (word: string, cmds: string[]): string | undefined => cmds.find((c) => isPrefix(word, c));

/** Thrown to end the run like bpftool's exit paths. */
class Exit { constructor(readonly code: number) {} }

class Run {
  jw?: JsonWriter;
  out = '';
  err = '';
  pins: Pins;
  /** Programs and maps are the kernel's; `net` lists the devices of the netns bpftool runs in. */
  constructor(readonly node: LinuxNode, readonly ns: NetnsImpl) {}

  /** p_err. */
  perr(msg: string): number {
    if (this.jw) this.jw.startObject().stringField('error', msg).endObject();
    else this.err += `Error: ${msg}\n`;
    return 255;
  }
  /** An object's do_help (null under -j). */
  help(text: string): number {
    if (this.jw) this.jw.raw('null'); else this.err += text;
    return 0;
  }
  /** usage(): the current object's help, then exit(-1). */
  usage(text: string): never { this.help(text); throw new Exit(255); }
  result(code: number): BpftoolResult { return { stdout: this.jw ? this.jw.done() : this.out, stderr: this.err, exitCode: code }; }
}

/** Run bpftool with argv (without the command name) against a node's kernel. */
export function runBpftool(node: LinuxNode, argv: string[], ns: NetnsImpl = node.hostNs as NetnsImpl): BpftoolResult {
  const r = new Run(node, ns);
  try { return r.result(main(r, argv)); } catch (e) { if (e instanceof Exit) return r.result(e.code); throw e; }
}

function main(r: Run, argv: string[]): number {
  const words: string[] = [];
  let json = false, pretty = false, bpffs = false, version = false;
  const opt = (c: string, word: string): number | undefined => {
    switch (c) {
      case 'V': version = true; return undefined;
      case 'h': r.jw = undefined; r.err += BPFTOOL_HELP; throw new Exit(0);
      case 'p': pretty = true; json = true; return undefined;
      case 'j': json = true; return undefined;
      case 'f': bpffs = true; return undefined;
      case 'm': case 'n': case 'd': case 'L': return undefined;
      default:
        r.jw = json ? new JsonWriter(pretty) : undefined;
        r.perr(`unrecognized option '${word}'`);
        if (json) throw new Exit(255);
        r.usage(BPFTOOL_HELP);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { words.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const name = a.slice(2).split('=')[0]!;
      const hits = Object.keys(LONG).filter((k) => k.startsWith(name));
      const long = LONG[name] ?? (hits.length === 1 ? LONG[hits[0]!] : undefined);
      if (long === 'B' && !a.includes('=')) i++;
      opt(long === undefined || name === '' ? '?' : long, a);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (!SHORT.includes(c)) { opt('?', a); break; }
        if (c === 'B') { if (j === a.length - 1) i++; break; }
        opt(c, a);
      }
    } else words.push(a);
  }
  if (json) r.jw = new JsonWriter(pretty);
  if (bpffs) r.pins = pinnedPaths(r.node);
  if (version) return doVersion(r);
  if (words.length === 0) return r.help(BPFTOOL_HELP);
  const obj = select(words[0]!, TOP);
  const rest = words.slice(1);
  switch (obj) {
    case 'help': return r.help(BPFTOOL_HELP);
    case 'version': return doVersion(r);
    case 'prog': return doProg(r, words[0]!, rest);
    case 'map': return doMap(r, words[0]!, rest);
    case 'link': return doLink(r, words[0]!, rest);
    case 'net': return doNet(r, words[0]!, rest);
    case 'cgroup': return doCgroup(r, words[0]!, rest);
    case undefined: r.help(BPFTOOL_HELP); return 255;
    default: return r.perr(`'${obj}' is not emulated here (dplab's bpftool reads prog, map, link, net and cgroup)`);
  }
}

/** do_version; the lab's bpftool is built without libbfd, LLVM or skeletons (no pids lines, as in the seed). */
function doVersion(r: Run): number {
  if (r.jw) {
    r.jw.startObject().stringField('version', '7.4.0').stringField('libbpf_version', '1.4').name('features').startObject()
      .boolField('libbfd', false).boolField('llvm', false).boolField('skeletons', false).boolField('bootstrap', false).endObject().endObject();
  } else r.out += 'bpftool v7.4.0\nusing libbpf v1.4\nfeatures:\n';
  return 0;
}

/** An object's commands: none runs the first (show); a word matching no command prints the help, exit 255. */
function command(r: Run, args: string[], cmds: string[], help: string): string {
  if (args.length === 0) return cmds[0]!;
  const c = select(args[0]!, cmds);
  if (c === undefined) { r.help(help); throw new Exit(255); }
  return c;
}

/** What the lab leaves out of an object: its write side. */
function readOnly(r: Run, obj: string, cmd: string): number {
  return r.perr(`'${obj} ${cmd}' is not emulated here: dplab's bpftool only reads`);
}

/** strtoul(s, &end, 0) into an unsigned int, or undefined when characters are left. */
function parseId(s: string): number | undefined {
  const t = s.trim();
  let m: RegExpExecArray | null;
  let v: bigint;
  if ((m = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(t))) v = BigInt('0x' + m[2]);
  else if ((m = /^([+-]?)0([0-7]*)$/.exec(t))) v = m[2] ? BigInt('0o' + m[2]) : 0n;
  else if ((m = /^([+-]?)(\d+)$/.exec(t))) v = BigInt(m[2]!);
  else return s === '' ? 0 : undefined;
  if (m[1] === '-') v = -v;
  return Number(BigInt.asUintN(32, v));
}

/** NEXT_ARGP: a missing word is usage(). */
function next(r: Run, args: string[], i: number, help: string): string {
  const w = args[i];
  if (w === undefined) r.usage(help);
  return w;
}

function progsBy(r: Run, args: string[], help: string): BpfProgram<unknown>[] | number {
  const node = r.node;
  const kw = args[0]!;
  if (isPrefix(kw, 'id')) {
    const raw = next(r, args, 1, help), id = parseId(raw);
    if (id === undefined) return r.perr(`can't parse ${raw} as ID`);
    const p = node.progs.get(id);
    return p ? [p] : r.perr(`get by id (${id}): No such file or directory`);
  }
  if (isPrefix(kw, 'tag')) {
    const raw = next(r, args, 1, help);
    if (!/^[0-9a-fA-F]{16}/.test(raw)) return r.perr("can't parse tag");
    const tag = raw.slice(0, 16).toLowerCase();
    return [...node.progs.values()].sort((a, b) => a.id - b.id).filter((p) => p.tag === tag);
  }
  if (isPrefix(kw, 'name')) {
    const name = next(r, args, 1, help);
    if (name.length > 127) return r.perr("can't parse name");
    return [...node.progs.values()].sort((a, b) => a.id - b.id).filter((p) => progFullName(p) === name);
  }
  if (isPrefix(kw, 'pinned')) {
    const path = next(r, args, 1, help);
    return mapAtPath(node, path) ? r.perr('incorrect object type: map') : r.perr(`bpf obj get (${path}): No such file or directory`);
  }
  return r.perr(`expected 'id', 'tag', 'name' or 'pinned', got: '${kw}'?`);
}

function doProg(r: Run, word: string, args: string[]): number {
  const help = PROG_HELP(word);
  const cmd = command(r, args, ['show', 'list', 'help', 'dump', 'pin', 'load', 'loadall', 'attach', 'detach', 'tracelog', 'run', 'profile'], help);
  const rest = args.slice(1);
  if (cmd === 'help') return r.help(help);
  if (cmd !== 'show' && cmd !== 'list') return readOnly(r, 'prog', cmd);
  if (rest.length === 0) { r.out += formatProgList(r.node, r.jw, r.pins); return 0; }
  if (rest.length !== 2) return r.perr(`what is '${rest[0]}'?`);
  const progs = progsBy(r, rest, help);
  if (typeof progs === 'number') return progs;
  if (progs.length === 0) return 255;
  if (r.jw && progs.length > 1) r.jw.startArray();
  for (const p of progs) r.out += formatProg(p, r.jw, r.pins);
  if (r.jw && progs.length > 1) r.jw.endArray();
  return 0;
}

function mapsBy(r: Run, args: string[], help: string): BpfMap[] | number {
  const node = r.node;
  const kw = args[0]!;
  if (isPrefix(kw, 'id')) {
    const raw = next(r, args, 1, help), id = parseId(raw);
    if (id === undefined) return r.perr(`can't parse ${raw} as ID`);
    const m = node.maps.get(id);
    return m ? [m] : r.perr(`get map by id (${id}): No such file or directory`);
  }
  if (isPrefix(kw, 'name')) {
    const name = next(r, args, 1, help);
    if (name.length > BPF_OBJ_NAME_LEN - 1) return r.perr("can't parse name");
    return [...node.maps.values()].sort((a, b) => a.id - b.id).filter((m) => bpfObjName(m.spec.name) === name);
  }
  if (isPrefix(kw, 'pinned')) {
    const path = next(r, args, 1, help);
    const m = mapAtPath(node, path);
    return m ? [m] : r.perr(`bpf obj get (${path}): No such file or directory`);
  }
  return r.perr(`expected 'id', 'name' or 'pinned', got: '${kw}'?`);
}

function doMap(r: Run, word: string, args: string[]): number {
  const help = MAP_HELP(word);
  const cmd = command(r, args, ['show', 'list', 'help', 'dump', 'update', 'lookup', 'getnext', 'delete', 'pin', 'event_pipe', 'create', 'peek', 'push', 'enqueue', 'pop', 'dequeue', 'freeze'], help);
  const rest = args.slice(1);
  if (cmd === 'help') return r.help(help);
  if (cmd === 'dump') {
    if (rest.length !== 2) r.usage(help);
    const maps = mapsBy(r, rest, help);
    if (typeof maps === 'number') return maps;
    if (maps.length === 0) return 255;
    const several = maps.length > 1;
    if (r.jw && several) r.jw.startArray();
    r.out += maps.map((m) => formatMapDump(m, r.jw, several)).join(r.jw ? '' : '\n');
    if (r.jw && several) r.jw.endArray();
    return 0;
  }
  if (cmd === 'lookup' || cmd === 'peek') return doLookup(r, rest, help);
  if (cmd === 'getnext') return doGetnext(r, rest, help);
  if (cmd !== 'show' && cmd !== 'list') return readOnly(r, 'map', cmd);
  if (rest.length === 0) { r.out += formatMapList(r.node, r.jw, r.pins); return 0; }
  if (rest.length !== 2) return r.perr(`what is '${rest[0]}'?`);
  const maps = mapsBy(r, rest, help);
  if (typeof maps === 'number') return maps;
  if (maps.length === 0) return 255;
  if (r.jw && maps.length > 1) r.jw.startArray();
  for (const m of maps) r.out += formatMap(m, r.jw, r.pins);
  if (r.jw && maps.length > 1) r.jw.endArray();
  return 0;
}

function doLink(r: Run, word: string, args: string[]): number {
  const help = LINK_HELP(word);
  const cmd = command(r, args, ['show', 'list', 'help', 'pin', 'detach'], help);
  const rest = args.slice(1);
  if (cmd === 'help') return r.help(help);
  if (cmd !== 'show' && cmd !== 'list') return readOnly(r, 'link', cmd);
  if (rest.length === 0) { r.out += formatLinkList(r.node, r.jw); return 0; }
  if (rest.length !== 2) return r.perr(`what is '${rest[0]}'?`);
  const kw = rest[0]!;
  if (isPrefix(kw, 'id')) {
    const id = parseId(rest[1]!);
    if (id === undefined) return r.perr(`can't parse ${rest[1]} as ID`);
    const l = tcxAttachments(r.node).find((a) => a.linkId === id);
    if (!l) return r.perr(`failed to get link with ID ${id | 0}: No such file or directory`);
    r.out += formatLink(l, r.jw);
    return 0;
  }
  if (isPrefix(kw, 'pinned')) return mapAtPath(r.node, rest[1]!) ? r.perr('incorrect object type: map') : r.perr(`bpf obj get (${rest[1]}): No such file or directory`);
  return r.perr(`expected 'id' or 'pinned', got: '${kw}'?`);
}

function doNet(r: Run, word: string, args: string[]): number {
  const help = NET_HELP(word);
  const cmd = command(r, args, ['show', 'list', 'attach', 'detach', 'help'], help);
  const rest = args.slice(1);
  if (cmd === 'help') return r.help(help);
  if (cmd !== 'show' && cmd !== 'list') return readOnly(r, 'net', cmd);
  let dev: string | undefined;
  if (rest.length === 2) {
    if (!isPrefix(rest[0]!, 'dev')) return r.perr(`expected 'dev', got: '${rest[0]}'?`);
    dev = rest[1]!;
    if (!r.ns.devices.has(dev)) return r.perr(`invalid devname ${dev}`);
  } else if (rest.length !== 0) r.usage(help);
  r.out += formatNetShow(r.node, dev, r.jw, r.ns);
  return 0;
}

/** map_parse_fd: exactly one map (none: a silent failure; several: said so). */
function oneMap(r: Run, args: string[], help: string): BpfMap | number {
  const maps = mapsBy(r, args, help);
  if (typeof maps === 'number') return maps;
  if (maps.length > 1) return r.perr('several maps match this handle');
  return maps[0] ?? 255;
}

/** parse_bytes: `[hex] B1 B2 ...`, exactly n bytes, each by strtoul (base 0, or 16 after `hex`). */
function parseBytes(r: Run, words: string[], name: string, n: number): { bytes: Uint8Array; rest: string[] } | number {
  let i = 0;
  let base: 0 | 16 = 0;
  if (words[0] !== undefined && isPrefix(words[0], 'hex')) { base = 16; i = 1; }
  const out = new Uint8Array(n);
  let k = 0;
  for (; k < n && words[i + k] !== undefined; k++) {
    const w = words[i + k]!;
    const v = base === 16 ? (/^(0[xX])?[0-9a-fA-F]+$/.test(w) ? parseInt(w.replace(/^0[xX]/, ''), 16) : undefined) : parseId(w);
    if (v === undefined || w === '') return r.perr(`error parsing byte: ${w}`);
    out[k] = v & 0xff;
  }
  if (k !== n) return r.perr(`${name} expected ${n} bytes got ${k}`);
  return { bytes: out, rest: words.slice(i + k) };
}

/** parse_elem for a command that takes a key only (lookup, getnext). */
function parseKey(r: Run, words: string[], m: BpfMap): Uint8Array | number {
  const w = words[0];
  if (w === undefined) return r.perr('did not find key');
  if (isPrefix(w, 'key')) {
    const p = parseBytes(r, words.slice(1), 'key', m.spec.keySize);
    if (typeof p === 'number') return p;
    const more = p.rest[0];
    if (more === undefined) return p.bytes;
    if (isPrefix(more, 'key')) return r.perr('duplicate key');
    if (isPrefix(more, 'value')) return r.perr('unnecessary value');
    if (isPrefix(more, 'any') || isPrefix(more, 'noexist') || isPrefix(more, 'exist')) return r.perr(`flags specified multiple times: ${more}`);
    return r.perr(`expected key or value, got: ${more}`);
  }
  if (isPrefix(w, 'value')) return r.perr('unnecessary value');
  if (isPrefix(w, 'any') || isPrefix(w, 'noexist') || isPrefix(w, 'exist')) return r.perr(`flags specified multiple times: ${w}`);
  return r.perr(`expected key or value, got: ${w}`);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const ARRAYS = new Set(['array', 'percpu_array', 'prog_array', 'perf_event_array']);

/** `map lookup MAP key BYTES`: the element, or `Not found` (null under -j), exit 255. */
function doLookup(r: Run, args: string[], help: string): number {
  if (args.length < 2) r.usage(help);
  const m = oneMap(r, args.slice(0, 2), help);
  if (typeof m === 'number') return m;
  const key = parseKey(r, args.slice(2), m);
  if (typeof key === 'number') return key;
  if (m.spec.type === 'perf_event_array') return r.perr('lookup failed: Unknown error 524');
  // Userspace sees every CPU's copy of a per-CPU value (the dump's entries hold them).
  const value = ARRAYS.has(m.spec.type) && m.spec.type !== 'prog_array' ? m.entries()[new DataView(key.buffer).getUint32(0, true)]?.[1] : m.entries().find(([k]) => sameBytes(k, key))?.[1] ?? m.lookup(key);
  if (!value) {
    if (r.jw) r.jw.raw('null'); else r.out += `key:\n${hexBytes(key)}\n\nNot found\n`;
    return 255;
  }
  r.out += formatEntry(m, key, value, r.jw);
  return 0;
}

/** `map getnext MAP [key BYTES]`: the key after the given one (the first without, or when the key is absent from a hash). */
function doGetnext(r: Run, args: string[], help: string): number {
  if (args.length < 2) r.usage(help);
  const m = oneMap(r, args.slice(0, 2), help);
  if (typeof m === 'number') return m;
  const key = args.length > 2 ? parseKey(r, args.slice(2), m) : undefined;
  if (typeof key === 'number') return key;
  let next: Uint8Array | undefined;
  if (ARRAYS.has(m.spec.type)) {
    const i = key ? new DataView(key.buffer).getUint32(0, true) : -1;
    const n = i >= m.spec.maxEntries ? 0 : i + 1;
    if (n < m.spec.maxEntries) { next = new Uint8Array(4); new DataView(next.buffer).setUint32(0, n, true); }
  } else {
    const keys = m.entries().map(([k]) => k);
    const at = key ? keys.findIndex((k) => sameBytes(k, key)) : -1;
    next = keys[at + 1];
  }
  if (!next) return r.perr('can\'t get next key: No such file or directory');
  if (r.jw) {
    r.jw.startObject();
    if (key) r.jw.name('key').hex(key); else r.jw.name('key').raw('null');
    r.jw.name('next_key').hex(next).endObject();
  } else r.out += `${key ? `key:\n${hexBytes(key)}\n` : 'key: None\n'}next key:\n${hexBytes(next)}\n`;
  return 0;
}

/** The node's cgroup v2 root as the agent container sees it (the first cgroup2 mount, and Cilium's own mount of it). */
const CGROUP_ROOTS = ['/sys/fs/cgroup', '/run/cilium/cgroupv2'];
/** Cilium's socket-LB hooks as bpf_attach_type names, in the enum's order (cgroup.c walks attach types by value). */
const CGROUP_TYPES: Array<[CgroupHook, string]> = [['connect4', 'cgroup_inet4_connect'], ['sendmsg4', 'cgroup_udp4_sendmsg'], ['recvmsg4', 'cgroup_udp4_recvmsg'], ['getpeername4', 'cgroup_inet4_getpeername']];

/** show_bpf_prog for every program attached at the root, by attach type (bpf_link attachments query as "multi"). */
function cgroupProgs(r: Run, level: number): string {
  let out = '';
  for (const [hook, type] of CGROUP_TYPES) {
    for (const p of r.node.cgroup[hook]) {
      if (r.jw) {
        r.jw.startObject().uintField('id', p.id).stringField('attach_type', type).stringField('attach_flags', 'multi').stringField('name', progFullName(p as BpfProgram<unknown>))
          .uintField('attach_btf_obj_id', 0).uintField('attach_btf_id', 0).endObject();
      } else out += `${level ? '    ' : ''}${String(p.id).padEnd(8)} ${type.padEnd(15)} ${'multi'.padEnd(15)} ${progFullName(p as BpfProgram<unknown>).padEnd(15)}\n`;
    }
  }
  return out;
}

/** `cgroup show CGROUP` and `cgroup tree [ROOT]`: the root cgroup's programs (the lab models no child cgroups). */
function doCgroup(r: Run, word: string, args: string[]): number {
  const help = CGROUP_HELP(word);
  const cmd = command(r, args, ['show', 'list', 'tree', 'attach', 'detach', 'help'], help);
  const rest = args.slice(1);
  if (cmd === 'help') return r.help(help);
  if (cmd === 'attach' || cmd === 'detach') return readOnly(r, 'cgroup', cmd);
  if (cmd !== 'tree' && rest.length < 1) return r.perr(`'${args[0]}' needs at least 1 arguments, 0 found`);
  const path = rest[0] ?? CGROUP_ROOTS[0]!;
  if (rest.length > 1) return r.perr(`expected no more arguments, 'effective', got: '${rest[1]}'?`);
  const root = CGROUP_ROOTS.includes(path.replace(/\/+$/, '') || '/');
  const any = CGROUP_TYPES.some(([h]) => r.node.cgroup[h].length > 0);
  if (cmd === 'tree') {
    if (!root) return r.perr(`can't iterate over ${path}: No such file or directory`);
    if (r.jw) {
      r.jw.startArray();
      if (any) { r.jw.startObject().stringField('cgroup', path).name('programs').startArray(); cgroupProgs(r, 0); r.jw.endArray().endObject(); }
      r.jw.endArray();
    } else r.out += `CgroupPath\n${'ID'.padEnd(8)} ${'AttachType'.padEnd(15)} ${'AttachFlags'.padEnd(15)} ${'Name'.padEnd(15)}\n${any ? `${path}\n${cgroupProgs(r, 0)}` : ''}`;
    return 0;
  }
  if (!root) return r.perr(`can't open cgroup ${path}`);
  if (!any) return 0;
  if (r.jw) { r.jw.startArray(); cgroupProgs(r, 0); r.jw.endArray(); } else r.out += `${'ID'.padEnd(8)} ${'AttachType'.padEnd(15)} ${'AttachFlags'.padEnd(15)} ${'Name'.padEnd(15)}\n${cgroupProgs(r, 0)}`;
  return 0;
}
