// The connection state each datapath keeps, parsed from its own tools' output
// (what a user would read on the node): `conntrack -L` lines (nf_conntrack,
// conntrack-tools' format), `cilium-dbg bpf ct list global` and
// `cilium-dbg bpf nat list` lines, `iptables-save -c` rule counters,
// `cilium-dbg bpf metrics list` rows.

/** One tuple of a conntrack entry. */
export interface Tuple { src: string; dst: string; sport?: number; dport?: number }

/** One nf_conntrack entry (`conntrack -L`). */
export interface ConntrackEntry {
  node: string;
  proto: string;
  /** TCP state (ESTABLISHED, TIME_WAIT...), undefined for UDP/ICMP. */
  state?: string;
  timeout: number;
  orig: Tuple;
  reply: Tuple;
  assured: boolean;
  unreplied: boolean;
  /** The line as conntrack printed it. */
  line: string;
}

/** One entry of Cilium's CT map (`cilium-dbg bpf ct list global`). */
export interface CiliumCtEntry {
  node: string;
  proto: string;
  /** OUT, IN or SVC: the entry's direction or a service entry. */
  dir: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  line: string;
}

/** One rule counter or datapath metric. */
export interface Counter {
  node: string;
  /** `iptables` (a rule of iptables-save -c) or `cilium` (a row of bpf metrics list). */
  source: 'iptables' | 'cilium';
  /** `nat -A KUBE-SERVICES ...` for a rule, `Success EGRESS` for a metric. */
  name: string;
  packets: number;
  bytes: number;
}

function tuple(kv: Array<[string, string]>): Tuple {
  const get = (k: string) => kv.find(([key]) => key === k)?.[1];
  const port = (k: string) => { const v = get(k); return v === undefined ? undefined : Number(v); };
  return { src: get('src') ?? '', dst: get('dst') ?? '', ...(get('sport') !== undefined ? { sport: port('sport') } : {}), ...(get('dport') !== undefined ? { dport: port('dport') } : {}) };
}

/** `conntrack -L` output -> entries (the trailing summary line, on stderr, is not part of it). */
export function parseConntrack(node: string, text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+\d+\s+(\d+)\s+(?:([A-Z_]+)\s+)?(.*)$/.exec(line);
    if (!m) continue;
    const kv = [...m[4]!.matchAll(/(\w+)=(\S+)/g)].map((x) => [x[1]!, x[2]!] as [string, string]);
    const second = kv.findIndex(([k], i) => k === 'src' && i > 0);
    if (second < 0) continue;
    out.push({
      node, proto: m[1]!, ...(m[3] ? { state: m[3] } : {}), timeout: Number(m[2]), orig: tuple(kv.slice(0, second)), reply: tuple(kv.slice(second)),
      assured: line.includes('[ASSURED]'), unreplied: line.includes('[UNREPLIED]'), line,
    });
  }
  return out;
}

/** `cilium-dbg bpf ct list global` output -> entries. */
export function parseCiliumCt(node: string, text: string): CiliumCtEntry[] {
  const out: CiliumCtEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(\w+) (\w+) (\d+\.\d+\.\d+\.\d+)(?::(\d+))? -> (\d+\.\d+\.\d+\.\d+)(?::(\d+))?/.exec(line);
    if (!m) continue;
    out.push({ node, proto: m[1]!, dir: m[2]!, src: m[3]!, dst: m[5]!, ...(m[4] ? { sport: Number(m[4]) } : {}), ...(m[6] ? { dport: Number(m[6]) } : {}), line });
  }
  return out;
}

/** `cilium-dbg bpf nat list` output -> its entry lines. */
export function parseCiliumNat(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => /^\w+ (OUT|IN) /.test(l));
}

/** `iptables-save -c` output -> one counter per rule, named `<table> -A ...`. */
export function parseIptablesCounters(node: string, text: string): Counter[] {
  const out: Counter[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const m = /^\[(\d+):(\d+)\] (-A .*)$/.exec(line);
    if (m) out.push({ node, source: 'iptables', name: `${table} ${m[3]}`, packets: Number(m[1]), bytes: Number(m[2]) });
  }
  return out;
}

/** `cilium-dbg bpf metrics list` output -> one counter per REASON/DIRECTION row. */
export function parseCiliumMetrics(node: string, text: string): Counter[] {
  const out: Counter[] = [];
  for (const line of text.split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(INGRESS|EGRESS|UNKNOWN|SERVICE)\s+(\d+)\s+(\d+)/.exec(line.trim());
    if (m) out.push({ node, source: 'cilium', name: `${m[1]} ${m[2]}`, packets: Number(m[3]), bytes: Number(m[4]) });
  }
  return out;
}
