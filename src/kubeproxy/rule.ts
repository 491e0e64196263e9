// One iptables rule as kube-proxy builds it: its parts in the order
// kube-proxy writes them, printed two ways:
// - restoreLine: the `iptables-restore` input line kube-proxy writes
//   (`-A KUBE-SERVICES -m comment --comment "..." -m tcp -p tcp -d 10.96.0.10 --dport 9000 -j ...`);
// - saveLine: the line `iptables-save` / `iptables -S` print once the kernel
//   holds it (iptables 1.8 canonical order: `! -s`, `-d .../32`, `-p`, then the
//   matches in the order given, then the target; marks in short hex; MARK
//   --or/--xor as --set-xmark; the statistic probability after its u32 round
//   trip; REJECT's and recent's defaults spelled out). Only kube-proxy's
//   vocabulary is covered; src/netfilter parses and prints any rule.

export type Part =
  | { k: 'comment'; text: string }
  /** `-m P -p P` (withMatch) or a bare `-p P`; a following `dport` belongs to its match. */
  | { k: 'proto'; p: string; withMatch: boolean }
  | { k: 'src' | 'dst'; addr: string; neg?: boolean }
  /** `-i IFACE` (`+` suffix: a prefix). */
  | { k: 'in'; iface: string; neg?: boolean }
  | { k: 'dport'; port: number }
  /** Any other match: its restore words and its saved words, `-m NAME` included in both. */
  | { k: 'm'; restore: string; save: string };

export interface Target {
  name: string;
  /** Words after `-j NAME` as kube-proxy writes them. */
  restore?: string;
  /** Words after `-j NAME` as iptables saves them. */
  save?: string;
}

export interface Rule {
  chain: string;
  parts: Part[];
  /** Absent: a rule with no target (KUBE-FW-<hash>'s last rule). */
  target?: Target;
}

/** kube-proxy writes `"..."` around comments with spaces and bare `ns/svc:port` otherwise. */
const restoreComment = (t: string) => (t.includes(' ') ? `"${t}"` : t);

/** xtables_save_string: bare when only `_-0-9A-Za-z`, else double-quoted with `"`, `\` and `'` escaped. */
export function saveString(t: string): string {
  if (/^[_\-0-9A-Za-z]+$/.test(t)) return t;
  return `"${t.replace(/["\\']/g, (c) => '\\' + c)}"`;
}

export function restoreLine(r: Rule): string {
  let s = '-A ' + r.chain;
  for (const p of r.parts) {
    switch (p.k) {
      case 'comment': s += ' -m comment --comment ' + restoreComment(p.text); break;
      case 'proto': s += p.withMatch ? ` -m ${p.p} -p ${p.p}` : ` -p ${p.p}`; break;
      case 'src': s += (p.neg ? ' ! -s ' : ' -s ') + p.addr; break;
      case 'dst': s += (p.neg ? ' ! -d ' : ' -d ') + p.addr; break;
      case 'in': s += (p.neg ? ' ! -i ' : ' -i ') + p.iface; break;
      case 'dport': s += ' --dport ' + p.port; break;
      case 'm': s += ' ' + p.restore; break;
    }
  }
  if (r.target) s += ' -j ' + r.target.name + (r.target.restore ? ' ' + r.target.restore : '');
  return s;
}

const withLen = (a: string) => (a.includes('/') ? a : a + '/32');

export function saveLine(r: Rule): string {
  let src = '', dst = '', iface = '', proto = '', matches = '', dport = '';
  // --dport belongs to the protocol's `-m P`, wherever kube-proxy wrote it.
  for (const p of r.parts) if (p.k === 'dport') dport = ' --dport ' + p.port;
  for (const p of r.parts) {
    switch (p.k) {
      case 'comment': matches += ' -m comment --comment ' + saveString(p.text); break;
      case 'proto':
        proto = ' -p ' + p.p;
        if (p.withMatch) { matches += ' -m ' + p.p + dport; dport = ''; }
        break;
      case 'src': src = (p.neg ? ' ! -s ' : ' -s ') + withLen(p.addr); break;
      case 'dst': dst = (p.neg ? ' ! -d ' : ' -d ') + withLen(p.addr); break;
      case 'in': iface = (p.neg ? ' ! -i ' : ' -i ') + p.iface; break;
      case 'dport': break;
      case 'm': matches += ' ' + p.save; break;
    }
  }
  let s = '-A ' + r.chain + src + dst + iface + proto + matches + dport;
  if (r.target) s += ' -j ' + r.target.name + (r.target.save ? ' ' + r.target.save : '');
  return s;
}

// ---- kube-proxy's match and target vocabulary, in both forms ----

/** `0x00004000` -> `0x4000` (iptables prints marks in short lower-case hex). */
export const shortHex = (h: string) => '0x' + parseInt(h, 16).toString(16);

// Parts are immutable: the common ones are made once and shared by every rule
// (a 10k-service sync builds ~80k rules; fewer objects, less GC).
const shared = new Map<string, Part>();
const once = (key: string, make: () => Part): Part => {
  let p = shared.get(key);
  if (!p) shared.set(key, (p = make()));
  return p;
};

export const comment = (text: string): Part => ({ k: 'comment', text });
export const proto = (p: string, withMatch = true): Part => once(`p${withMatch ? 'm' : ''}/${p}`, () => ({ k: 'proto', p, withMatch }));
export const src = (addr: string, neg = false): Part => ({ k: 'src', addr, neg });
export const dst = (addr: string, neg = false): Part => ({ k: 'dst', addr, neg });
export const inIface = (iface: string, neg = false): Part => ({ k: 'in', iface, neg });
export const dport = (port: number): Part => once(`d/${port}`, () => ({ k: 'dport', port }));
export const match = (restore: string, save = restore): Part => ({ k: 'm', restore, save });

export const addrtype = (dir: 'src' | 'dst', neg = false) =>
  once(`a/${dir}/${neg}`, () => match(`-m addrtype${neg ? ' !' : ''} --${dir}-type LOCAL`));
export const ctstate = (states: string, neg = false) => match(`-m conntrack${neg ? ' !' : ''} --ctstate ${states}`);
export const markMatch = (mark: string, neg = false) =>
  match(`-m mark${neg ? ' !' : ''} --mark ${mark}/${mark}`, `-m mark${neg ? ' !' : ''} --mark ${shortHex(mark)}/${shortHex(mark)}`);
export const statistic = (probability: string) => once(`s/${probability}`, () =>
  match(`-m statistic --mode random --probability ${probability}`, `-m statistic --mode random --probability ${savedProbability(probability)}`));
export const recentSet = (name: string) =>
  match(`-m recent --name ${name} --set`, `-m recent --set --name ${name} --mask 255.255.255.255 --rsource`);
export const recentCheck = (name: string, seconds: number) =>
  match(`-m recent --name ${name} --rcheck --seconds ${seconds} --reap`,
    `-m recent --rcheck --seconds ${seconds} --reap --name ${name} --mask 255.255.255.255 --rsource`);
export const matchSet = (set: string, flags: string) => match(`-m set --match-set ${set} ${flags}`);
/** libxt_nfacct saves with two spaces before the name (its own space plus xtables_save_string's). */
export const nfacct = (name: string) => match(`-m nfacct --nfacct-name ${name}`, `-m nfacct --nfacct-name  ${name}`);

export const jump = (name: string): Target => ({ name });
export const reject = (): Target => ({ name: 'REJECT', save: '--reject-with icmp-port-unreachable' });
export const dnat = (to: string): Target => ({ name: 'DNAT', restore: `--to-destination ${to}`, save: `--to-destination ${to}` });
export const orMark = (mark: string): Target => ({ name: 'MARK', restore: `--or-mark ${mark}`, save: `--set-xmark ${shortHex(mark)}/${shortHex(mark)}` });
export const xorMark = (mark: string): Target => ({ name: 'MARK', restore: `--xor-mark ${mark}`, save: `--set-xmark ${shortHex(mark)}/0x0` });
export const masquerade = (): Target => ({ name: 'MASQUERADE', restore: '--random-fully', save: '--random-fully' });

// ---- the statistic probability ----

/**
 * kube-proxy's `fmt.Sprintf("%0.10f", 1.0/float64(n))`. Go rounds an exact tie
 * (1/2048 = 0.00048828125) half to even where JS's toFixed rounds up.
 */
export function probability(n: number): string {
  let p = probabilities.get(n);
  if (p === undefined) probabilities.set(n, (p = computeProbability(n)));
  return p;
}
// kube-proxy keeps the same cache (precomputedProbabilities).
const probabilities = new Map<number, string>();

function computeProbability(n: number): string {
  const x = 1 / n;
  const exact = x.toFixed(40);
  const dot = exact.indexOf('.');
  const next = exact[dot + 11];
  if (next === '5' && /^0*$/.test(exact.slice(dot + 12))) {
    const down = exact.slice(0, dot + 11);
    const last = +down[down.length - 1]!;
    return last % 2 === 0 ? down : x.toFixed(10);
  }
  return x.toFixed(10);
}

/** What iptables prints for a written probability: lround(p * 2^31) stored, printed `%.11f`. */
export function savedProbability(written: string): string {
  let p = saved.get(written);
  if (p === undefined) saved.set(written, (p = roundTrip(written)));
  return p;
}
const saved = new Map<string, string>();

function roundTrip(written: string): string {
  const v = Math.floor(parseFloat(written) * 2147483648 + 0.5);
  return (v / 2147483648).toFixed(11);
}
