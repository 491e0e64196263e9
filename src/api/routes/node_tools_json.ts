// JSON for the node tool routes, read from what the node's own tools print
// (`conntrack -L` / `-E`, `ipvsadm -Ln [--stats --exact]`, `ipset list`), so
// the API shows exactly what a user on the node sees, whichever datapath
// installed the tool. Field names follow the tools' own words:
// conntrack-tools' XML output (original/reply, protoname, protonum, timeout,
// state, assured, unreplied, mark, use), ipvsadm's columns (scheduler,
// forward, weight, activeConn, inActConn, conns, inPkts...) and ipset's
// headers (name, type, revision, header, sizeInMemory, references,
// numberOfEntries, members).

/** One direction of a conntrack entry: addresses, and ports or ICMP type/code/id. */
export interface CtTupleJson { src: string; dst: string; sport?: number; dport?: number; type?: number; code?: number; id?: number }

/** One conntrack entry as `conntrack -L` prints it, or one event as `conntrack -E` does (with `event`). */
export interface CtEntryJson {
  event?: string;
  protoname: string;
  protonum: number;
  /** Seconds left (an event's: the timeout the entry was given; an expired entry's DESTROY has none). */
  timeout?: number;
  state?: string;
  original: CtTupleJson;
  reply: CtTupleJson;
  unreplied: boolean;
  assured: boolean;
  mark?: number;
  use?: number;
}

const NUMERIC = new Set(['sport', 'dport', 'type', 'code', 'id']);

/** A conntrack-tools line (list or event form) as JSON; undefined for a line that is not an entry. */
export function conntrackLineJson(line: string): CtEntryJson | undefined {
  const tok = line.trim().split(/\s+/);
  let i = 0;
  const ev = /^\[(NEW|UPDATE|DESTROY)\]$/.exec(tok[0] ?? '');
  if (ev) i++;
  // A DESTROY line has no timeout once none is left: `[DESTROY] tcp      6 TIME_WAIT src=...`.
  const noTimeout = ev?.[1] === 'DESTROY' && !/^\d+$/.test(tok[i + 2] ?? '');
  const [protoname, protonum, timeout] = [tok[i], Number(tok[i + 1]), noTimeout ? undefined : Number(tok[i + 2])];
  if (!protoname || !Number.isInteger(protonum) || (!noTimeout && !Number.isInteger(timeout))) return undefined;
  i += noTimeout ? 2 : 3;
  // Keys in print order; undefined ones (state of udp, mark/use of events) are left out of the JSON.
  const e: CtEntryJson = { ...(ev ? { event: ev[1]! } : {}), protoname, protonum, timeout, state: undefined, original: { src: '', dst: '' }, reply: { src: '', dst: '' }, unreplied: false, assured: false, mark: undefined, use: undefined };
  if (tok[i] && !tok[i]!.includes('=') && !tok[i]!.startsWith('[')) e.state = tok[i++];
  let dir: CtTupleJson = e.original;
  let seenSrc = 0;
  for (; i < tok.length; i++) {
    const t = tok[i]!;
    if (t === '[UNREPLIED]') { e.unreplied = true; continue; }
    if (t === '[ASSURED]') { e.assured = true; continue; }
    const eq = t.indexOf('=');
    if (eq < 0) continue;
    const k = t.slice(0, eq), v = t.slice(eq + 1);
    if (k === 'src' && ++seenSrc === 2) dir = e.reply;
    if (k === 'src' || k === 'dst') dir[k] = v;
    else if (NUMERIC.has(k)) dir[k as 'sport'] = Number(v);
    else if (k === 'mark' || k === 'use') e[k] = Number(v);
  }
  return e.original.src && e.reply.src ? e : undefined;
}

/** Every entry of `conntrack -L` output. */
export function conntrackJson(stdout: string): CtEntryJson[] {
  return stdout.split('\n').map(conntrackLineJson).filter((e): e is CtEntryJson => e !== undefined);
}

/** ipvsadm's counters (`--stats`): Conns InPkts OutPkts InBytes OutBytes. */
export interface IpvsStatsJson { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number }
export interface RealServerJson { address: string; port: number; forward: string; weight: number; activeConn: number; inActConn: number; stats?: IpvsStatsJson }
export interface VirtualServerJson {
  protocol: string; address: string; port: number; scheduler: string;
  /** Persistence timeout in seconds (`-p`), 0 when not persistent. */
  persistent: number;
  /** The Flags column as printed (`persistent 10800`...), '' when none. */
  flags: string;
  stats?: IpvsStatsJson;
  realServers: RealServerJson[];
}

const SERVICE = /^(TCP|UDP|SCTP)\s+(\S+):(\d+)\s+(\S+)\s*(.*)$/;
const DEST = /^\s+-> (\S+):(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
const STATS_ROW = /^(?:(TCP|UDP|SCTP)\s+|\s+-> )(\S+):(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;

/** `ipvsadm -Ln` as virtual servers, with the counters of `ipvsadm -Ln --stats --exact` when given. */
export function ipvsJson(list: string, statsText?: string): VirtualServerJson[] {
  const out: VirtualServerJson[] = [];
  for (const line of list.split('\n')) {
    const s = SERVICE.exec(line);
    if (s) {
      const flags = s[5]!.trim();
      out.push({ protocol: s[1]!, address: s[2]!, port: Number(s[3]), scheduler: s[4]!, persistent: Number(/persistent (\d+)/.exec(flags)?.[1] ?? 0), flags, stats: undefined, realServers: [] });
      continue;
    }
    const d = DEST.exec(line);
    const vs = out[out.length - 1];
    if (d && vs) vs.realServers.push({ address: d[1]!, port: Number(d[2]), forward: d[3]!, weight: Number(d[4]), activeConn: Number(d[5]), inActConn: Number(d[6]) });
  }
  if (statsText !== undefined) addStats(out, statsText);
  return out;
}

/** Both listings print services and their real servers in the same order: the stats rows are matched by position and address. */
function addStats(servers: VirtualServerJson[], text: string): void {
  let vs = -1, rs = -1;
  for (const line of text.split('\n')) {
    const m = STATS_ROW.exec(line);
    if (!m) continue;
    const stats: IpvsStatsJson = { conns: Number(m[4]), inPkts: Number(m[5]), outPkts: Number(m[6]), inBytes: Number(m[7]), outBytes: Number(m[8]) };
    if (m[1]) { vs++; rs = -1; const s = servers[vs]; if (s && s.address === m[2] && s.port === Number(m[3])) s.stats = stats; continue; }
    const d = servers[vs]?.realServers[++rs];
    if (d && d.address === m[2] && d.port === Number(m[3])) d.stats = stats;
  }
}

/** One set as `ipset list` prints it; `header` split into its keywords (family, hashsize, maxelem, range...). */
export interface IpsetJson {
  name: string; type: string; revision: number;
  header: Record<string, string | number>;
  sizeInMemory: number; references: number; numberOfEntries: number;
  members: string[];
}

/** Every set of `ipset list [NAME]` output. */
export function ipsetJson(text: string): IpsetJson[] {
  const out: IpsetJson[] = [];
  let cur: IpsetJson | undefined;
  let inMembers = false;
  for (const line of text.split('\n')) {
    const kv = /^([A-Z][a-zA-Z ]*): ?(.*)$/.exec(line);
    if (kv && kv[1] === 'Name') {
      cur = { name: kv[2]!, type: '', revision: 0, header: {}, sizeInMemory: 0, references: 0, numberOfEntries: 0, members: [] };
      out.push(cur); inMembers = false; continue;
    }
    if (!cur) continue;
    if (inMembers) { if (line !== '') cur.members.push(line); continue; }
    if (!kv) continue;
    const v = kv[2]!;
    switch (kv[1]) {
      case 'Type': cur.type = v; break;
      case 'Revision': cur.revision = Number(v); break;
      case 'Header': cur.header = headerJson(v); break;
      case 'Size in memory': cur.sizeInMemory = Number(v); break;
      case 'References': cur.references = Number(v); break;
      case 'Number of entries': cur.numberOfEntries = Number(v); break;
      case 'Members': inMembers = true; break;
    }
  }
  return out;
}

/** `family inet hashsize 1024 ...` as {family: 'inet', hashsize: 1024, ...}; numbers as numbers, hex (initval) kept as printed. */
function headerJson(h: string): Record<string, string | number> {
  const out: Record<string, string | number> = Object.create(null) as Record<string, string | number>;
  const t = h.trim().split(/\s+/);
  for (let i = 0; i + 1 < t.length; i += 2) out[t[i]!] = /^\d+$/.test(t[i + 1]!) ? Number(t[i + 1]) : t[i + 1]!;
  return out;
}

/** One rule of `iptables-save -c`: its counters and the rule as iptables-save prints it (`-A CHAIN ...`). */
export interface IptRuleJson { packets: number; bytes: number; rule: string }
/** One chain: built-in chains have a policy, user chains `-`; counters are the policy's. */
export interface IptChainJson { name: string; policy: string; packets: number; bytes: number; rules: IptRuleJson[] }

/** The chains of one table from `iptables-save -c -t TABLE` output, in its order. */
export function iptablesJson(save: string): IptChainJson[] {
  const chains: IptChainJson[] = [];
  const byName = new Map<string, IptChainJson>();
  for (const line of save.split('\n')) {
    const c = /^:(\S+) (\S+) \[(\d+):(\d+)\]$/.exec(line);
    if (c) {
      const ch = { name: c[1]!, policy: c[2]!, packets: Number(c[3]), bytes: Number(c[4]), rules: [] };
      chains.push(ch); byName.set(ch.name, ch);
      continue;
    }
    const r = /^\[(\d+):(\d+)\] (-A (\S+) .*)$/.exec(line);
    if (r) byName.get(r[4]!)?.rules.push({ packets: Number(r[1]), bytes: Number(r[2]), rule: r[3]! });
  }
  return chains;
}
