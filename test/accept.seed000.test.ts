// Acceptance: the seed-000 transcript (kind + kindnet + kube-proxy iptables,
// test/scenarios/kind-iptables/seed000.txt, the blog as published) replayed
// on `--lab kind-iptables` command by command, as typed. Each prompt of the
// blog is a step: `(⎈|kind-myk8s:N/A) root@kind:~# CMD` runs in the user's
// shell (here the emulation's bash with `kubectl` and `docker` bound to the
// lab, as `dplab kubectl` / `dplab docker exec` are), `root@NODE:/# CMD` in
// that node's shell (`docker exec -it NODE bash`). What a step prints is
// compared with the blog's lines after the normalisations of NORMALISE
// (terminal copy: colour escapes and trailing blanks gone, empty lines
// dropped; the seed's randomness masked). A `...` in the blog stands for
// output it left out: the blocks between appear in that order. Every prompt
// of the blog is in CASES, run or skipped with its reason.
import t from 'tap';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { dockerExecArgs } from '../src/cli/docker.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import type { ExecResult } from '../src/cluster/facade.ts';
import { runShell } from '../src/cluster/exec/index.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import { compileFilter } from '../src/wire/filter.ts';
import { NgrepPrinter, ngrepHeader } from '../src/wire/ngrep.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';
import { scenario } from './helpers/lab.ts';

// ~10 s of CPU (2,300 curls); on a loaded 2-core machine the wall time is several times that.
t.setTimeout(180_000);

const SEED = scenario('kind-iptables/seed000.txt').split('\n');
const HOST = /^\(⎈\|kind-myk8s:N\/A\) root@kind:~# (.*)$/;
const NODE = /^root@(myk8s-[\w-]+):[~/]# ?(.*)$/;

/** One prompt of the blog: where it runs, what was typed, the lines shown after it (1-based line numbers). */
interface Step { line: number; where: string; cmd: string; expected: string[] }

/** Prose (bullets, numbered lists, Korean), section headers and the next prompt end a command's output. */
const ends = (l: string): boolean => HOST.test(l) || NODE.test(l) || /^\s*•/.test(l) || /^ {2,}\d+\. /.test(l) || /^\[\s.*\]$/.test(l) || /[\uac00-\ud7a3]/.test(l) || l === 'sessionAffinity' || l === 'Comments';

function outputAfter(i: number): string[] {
  const out: string[] = [];
  for (let k = i; k < SEED.length && !ends(SEED[k]!); k++) out.push(SEED[k]!);
  return out.map((l) => l.trimEnd()).filter((l) => l !== '');
}

function seedSteps(): Step[] {
  const steps: Step[] = [];
  SEED.forEach((l, i) => {
    const h = HOST.exec(l), n = NODE.exec(l);
    if (h) steps.push({ line: i + 1, where: 'host', cmd: h[1]!.trim(), expected: outputAfter(i + 1) });
    else if (n) steps.push({ line: i + 1, where: n[1]!, cmd: n[2]!.trim(), expected: outputAfter(i + 1) });
  });
  return steps;
}

// ---- comparing ----------------------------------------------------------

type Mask = [RegExp, string | ((m: string) => string)];
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a terminal shows: stdout then stderr, colour escapes and trailing blanks gone, no empty lines. */
function shown(r: ExecResult): string[] {
  return (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

const applyMasks = (l: string, masks: Mask[]) => masks.reduce((s, [re, to]) => s.replace(re, to as string), l);

/** Lines that differ, as "i: actual !== expected"; `...` in expected: its blocks appear in order, each as consecutive lines. */
function differences(actual: string[], expected: string[], masks: Mask[]): string[] {
  const a = actual.map((l) => applyMasks(l, masks)), e = expected.map((l) => l === '...' ? l : applyMasks(l, masks));
  if (!e.includes('...')) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, e.length); i++) if (a[i] !== e[i]) out.push(`${i}: ${JSON.stringify(a[i])} !== ${JSON.stringify(e[i])}`);
    return out;
  }
  const blocks: string[][] = [[]];
  for (const l of e) if (l === '...') blocks.push([]); else blocks[blocks.length - 1]!.push(l);
  const out: string[] = [];
  let from = 0;
  for (const b of blocks.filter((x) => x.length > 0)) {
    let at = -1;
    for (let i = from; i + b.length <= a.length && at < 0; i++) if (b.every((l, j) => a[i + j] === l)) at = i;
    if (at < 0) out.push(`missing block: ${b.join(' | ')}\n  in: ${a.join(' | ')}`); else from = at + b.length;
  }
  return out;
}

// ---- normalisations (the seed's randomness; each named where used) -----

/** The order of a Service's endpoints in its EndpointSlice is the controller's pod-cache order (a Go map's): compared sorted. */
const ENDPOINT_ORDER: Mask[] = [[/\d+\.\d+\.\d+\.\d+(?::\d+)?(?:,\d+\.\d+\.\d+\.\d+(?::\d+)?)+/, (m) => m.split(',').sort().join(',')]];
const AGE: Mask[] = [[/(?<=\s)\d+[smhd](?:\d+[smh])?(?=\s|$)/g, '{AGE}'], [/ +/g, ' ']];
/** Ephemeral ports: curl's source port as whoami echoes it. */
const PORT: Mask[] = [[/^(RemoteAddr: 10\.10\.0\.6):\d+$/, '$1:{PORT}']];
/** A pod's fe80:: address follows its random MAC (docker's 02:42 MACs of the nodes do not). */
const LL6: Mask[] = [[/fe80::(?!42:acff:)[0-9a-f:]+/g, '{LL6}']];
/** Which webpod answers one request through the ClusterIP is the statistic match's draw (seed: random; lab: its seeded RNG). */
const WHICH: Mask[] = [[/webpod[123]/g, 'webpod{N}'], [/^IP: 10\.10\.\d+\.\d+$/, 'IP: {POD}']];
/**
 * CNI names: the host veth (ip.RandomVethName), its MAC, the pod netns (a random uuid); a pod veth's ifindexes
 * (the lab numbers devices per node, Linux per netns). eth0 is compared as is: docker's veth, its index and its
 * peer's from the docker host.
 */
const LINK: Mask[] = [[/veth[0-9a-f]{8}/g, '{VETH}'], [/(?<=link\/ether )(?!02:42:)[0-9a-f:]{17}/, '{MAC}'], [/cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'cni-{UUID}'], [/^\d+: \{VETH\}@if\d+:/, 'N: {VETH}@ifN:'], ...LL6];
/** conntrack: seconds left, ephemeral ports, and which backend the draw picked. */
const CT: Mask[] = [[/^(tcp {6}6) \d+ /, '$1 {T} '], [/sport=\d+ dport=9000/, 'sport={P} dport=9000'], [/src=10\.10\.\d\.\d dst=10\.10\.0\.6 sport=80 dport=\d+/, 'src={EP} dst=10.10.0.6 sport=80 dport={P}']];
/** iptables -L -v counters of a live system (kubelet probes, DNS, the blog's other traffic): checked against the replay's own tallies instead. */
const COUNTERS: Mask[] = [[/^ *\d+[KMG]? +\d+[KMG]? /, '{PKTS} {BYTES} '], [/policy ACCEPT \d+ packets, \d+ bytes/, 'policy ACCEPT {P} packets, {B} bytes']];
/** ngrep: the time, the ephemeral port, the HTTP Date header, a pod's fe80:: address. */
const NGREP: Mask[] = [[/^T \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} /, 'T {TIME} '], [/10\.10\.0\.6:\d+/g, '10.10.0.6:{PORT}'], [/^Date: .* GMT\.$/, 'Date: {DATE}.'], [/veth[0-9a-f]{8}/, '{VETH}'], ...LL6];
/** tcpdump: the time, the ephemeral port; TCP's random ISNs and timestamp clocks. */
const DUMP: Mask[] = [[/^\d\d:\d\d:\d\d\.\d{6} /, '{TIME} '], [/10\.10\.0\.6\.\d+/g, '10.10.0.6.{PORT}'], [/(Flags \[S\.?\], seq )\d+/, '$1{ISN}'], [/(Flags \[S\.\], seq \{ISN\}, ack )\d+/, '$1{ISN+1}'], [/TS val \d+/, 'TS val {TS}'], [/ecr [1-9]\d*/, 'ecr {TS}']];

// ---- the replay ---------------------------------------------------------

/**
 * The lab's documents: the cluster, what the study installed before the blog
 * (kube-system: kube-ops-view), and the blog's three files (3pod.yaml,
 * netpod.yaml, svc-clusterip.yaml) with the lab's pins (pod IPs, ClusterIP).
 */
const [CLUSTER_DOC, ...MANIFESTS] = LABS['kind-iptables']!.split(/^---\n/m);
const named = (re: RegExp) => MANIFESTS.filter((d) => re.test(d)).join('---\n');
const BEFORE = named(/namespace: kube-system/);
const FILES: Record<string, string> = { '3pod.yaml': named(/name: webpod\d/), 'netpod.yaml': named(/name: net-pod/), 'svc-clusterip.yaml': named(/name: svc-clusterip/) };
const WEBPOD_IP: Record<string, string> = { webpod1: '10.10.3.2', webpod2: '10.10.1.2', webpod3: '10.10.2.3' };
/** The curls the blog ran beside its captures (the loop of line 473, without its `sleep 1: done` typo). */
const TRAFFIC = 'kubectl exec -it net-pod -- zsh -c "for i in {1..10}; do curl -s $SVC1:9000 | grep Hostname; done"';

const ok = (stdout = '', stderr = ''): ExecResult => ({ stdout, stderr, exitCode: 0 });
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

class Replay {
  /** The lab's cluster with what the study installed before (kube-system): the blog's first command creates the pods and the Service. */
  readonly c = Cluster.fromYaml(`${CLUSTER_DOC}---\n${BEFORE}`, { hubble: false });
  /** The user's shell variables (WEBPOD1..3, SVC1), and each node shell's (VETH1). */
  readonly vars: Record<string, string> = {};
  readonly nodeVars = new Map<string, Record<string, string>>();
  /** Connections through svc-clusterip per webpod, counted from what the replay's curls printed. */
  readonly tally = new Map<string, number>();

  close(): void { this.c.close(); }

  private prelude(vars: Record<string, string>): string { return Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}\n`).join(''); }

  /** `kubectl apply -f a,b,c` reads files on the user's machine: they go to the lab as `-f -` does. */
  private kubectl(argv: string[], stdin: string): Promise<ExecResult> {
    const f = argv.indexOf('-f');
    if (argv[0] === 'apply' && f > 0 && argv[f + 1] !== '-') {
      const docs = argv[f + 1]!.split(',').map((n) => FILES[n]);
      if (docs.some((d) => d === undefined)) return Promise.resolve({ stdout: '', stderr: `error: the path "${argv[f + 1]}" does not exist\n`, exitCode: 1 });
      return this.c.kubectl([...argv.slice(0, f + 1), '-', ...argv.slice(f + 2)], docs.join('---\n'));
    }
    return this.c.kubectl(argv, stdin);
  }

  /** `docker exec [-it] NODE CMD...` on a kind node (dplab docker exec); a lone shell is the interactive session the next prompts type into. */
  private async docker(argv: string[]): Promise<ExecResult> {
    if (argv[0] !== 'exec') return { stdout: '', stderr: `docker: only "exec" is emulated, got "${argv[0] ?? ''}"\n`, exitCode: 1 };
    let target: { node: string; argv: string[] };
    try { target = dockerExecArgs(argv.slice(1)); } catch (e) { return { stdout: '', stderr: `${(e as Error).message}\n`, exitCode: 1 }; }
    if (target.argv.length === 1 && target.argv[0] === 'bash') return ok();
    return this.c.nodeExec(target.node, target.argv);
  }

  /** A line typed at `root@kind:~#`; `VAR=$(...)` keeps VAR for the next lines. */
  async host(cmd: string): Promise<ExecResult> {
    const sh = {
      netns: this.c.nodeContext('myk8s-control-plane').netns, sim: this.c.sim, hostname: 'kind', files: {}, env: { HOME: '/root' },
      commands: { kubectl: (a: string[], i: string) => this.kubectl(a, i), docker: (a: string[]) => this.docker(a) },
    };
    const assign = /^(\w+)=\$\(.*\)$/.exec(cmd);
    const script = this.prelude(this.vars) + (assign ? `${cmd}\nprintf '%s' "$${assign[1]}"` : cmd);
    const r = await this.c.sim.settle(runShell(sh, ['bash', '-c', script]));
    if (cmd.includes('$SVC1:9000')) this.count(r.stdout);
    if (!assign) return r;
    this.vars[assign[1]!] = r.stdout;
    return { ...r, stdout: '' };
  }

  /** A line typed in `docker exec -it NODE bash`. */
  async node(node: string, cmd: string): Promise<ExecResult> {
    return this.c.nodeExec(node, ['bash', '-c', this.prelude(await this.varsOf(node)) + cmd]);
  }

  /** `A; B; C` typed in a node shell, each command's stdout and stderr in the order a terminal shows them; the last one's exit code. */
  async inTurn(node: string, cmd: string): Promise<ExecResult> {
    let stdout = '', exitCode = 0;
    for (const part of cmd.split(/ ?; /)) {
      const r = await this.node(node, part);
      stdout += r.stdout + r.stderr;
      exitCode = r.exitCode;
    }
    return { stdout, stderr: '', exitCode };
  }

  /** VETH1 as the blog's user set it (not shown): the host veth of the node's pod, from its /32 route. */
  private async varsOf(node: string): Promise<Record<string, string>> {
    let v = this.nodeVars.get(node);
    if (!v) {
      const veth = /dev (veth[0-9a-f]{8}) scope host/.exec((await this.c.nodeExec(node, ['ip', 'route'])).stdout)?.[1] ?? '';
      v = { VETH1: veth };
      this.nodeVars.set(node, v);
    }
    return v;
  }

  private count(out: string): void {
    for (const m of out.matchAll(/^\s*(\d+) Hostname: (webpod\d)$|^Hostname: (webpod\d)$/gm)) {
      const pod = m[2] ?? m[3]!;
      this.tally.set(pod, (this.tally.get(pod) ?? 0) + (m[1] ? Number(m[1]) : 1));
    }
  }

  /** `tcpdump -i IFACE FILTER -nn[q]` on a node while the blog's loop of curls runs; the packet lines as tcpdump prints them. */
  async tcpdump(node: string, cmd: string): Promise<ExecResult> {
    const m = /^tcpdump -i (\S+) (.*?) -nn(q?)$/.exec(cmd);
    if (!m) throw new Error(`not a tcpdump line: ${cmd}`);
    const iface = m[1] === '$VETH1' ? (await this.varsOf(node)).VETH1! : m[1]!;
    const frames: Array<{ frame: Uint8Array; wallMs: number }> = [];
    const stop = this.c.capture(node, iface, (f) => frames.push({ frame: f.frame.slice(), wallMs: f.wallMs }));
    await this.host(TRAFFIC);
    await this.c.sim.settle(this.c.sim.sleep(1e9));
    stop();
    const match = compileFilter(m[2]!), fmt = new TcpdumpFormatter({ quiet: m[3] === 'q' });
    // The kernel stamps a pcap record to the microsecond.
    return ok(frames.filter((f) => match(f.frame)).map((f) => fmt.format(f.frame, Math.floor(f.wallMs * 1000) / 1000) + '\n').join(''));
  }

  /** `ngrep -tW byline -d IFACE '' 'FILTER'` on a node while the blog's loop of curls runs. */
  async ngrep(node: string, cmd: string): Promise<ExecResult> {
    const m = /^ngrep -tW byline -d (\S+) '(.*)' '(.*)'$/.exec(cmd);
    if (!m) throw new Error(`not an ngrep line: ${cmd}`);
    const iface = m[1] === '$VETH1' ? (await this.varsOf(node)).VETH1! : m[1]!;
    // pcap_lookupnet: the interface's IPv4 network and mask, as `ip -4 addr` shows them.
    const inet = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec((await this.c.nodeExec(node, ['ip', '-4', 'addr', 'show', 'dev', iface])).stdout);
    const addr = inet ? inet[1]!.split('.').reduce((a, o) => (a * 256 + Number(o)) >>> 0, 0) : undefined;
    const frames: Array<{ frame: Uint8Array; wallMs: number }> = [];
    const stop = this.c.capture(node, iface, (f) => frames.push({ frame: f.frame.slice(), wallMs: f.wallMs }));
    await this.host(TRAFFIC);
    await this.c.sim.settle(this.c.sim.sleep(1e9));
    stop();
    const match = compileFilter(m[3]!), printer = new NgrepPrinter({ time: true, byline: true, pattern: m[2] });
    let out = ngrepHeader(iface, addr, Number(inet?.[2] ?? 0), m[3]!);
    for (const f of frames) if (match(f.frame)) out += printer.frame(f.frame, Math.floor(f.wallMs * 1000) / 1000);
    return ok(out);
  }

  /** `conntrack -E` on a node while net-pod curls the ClusterIP once; what it printed when stopped. */
  async conntrackEvents(node: string): Promise<ExecResult> {
    // The blog's node was quiet: the previous step's connections have finished closing.
    await this.c.sim.settle(this.c.sim.sleep(1e9));
    const lines: string[] = [];
    const h = this.c.follow(node, ['conntrack', '-E'], (l) => lines.push(l));
    if (!h || !('stop' in h)) throw new Error('conntrack -E does not follow');
    await this.host('kubectl exec -it net-pod -- curl -s $SVC1:9000');
    await this.c.sim.settle(this.c.sim.sleep(1e9));
    const end = h.stop();
    return { stdout: lines.map((l) => l.endsWith('\n') ? l : l + '\n').join(''), stderr: end.stderr, exitCode: end.exitCode };
  }
}

// ---- the cases: every prompt of the blog, by line -----------------------

type Check = (t: Test, actual: string[], r: ExecResult, rp: Replay) => void;
interface Case {
  masks?: Mask[];
  /** How the step runs when not as typed in its shell. */
  run?: (rp: Replay, s: Step) => Promise<ExecResult>;
  /** Extra assertions on what the step printed. */
  check?: Check;
  /** Output lines the comparison leaves out (tcpdump's own two stderr lines: the CLI prints them, not the capture). */
  drop?: RegExp;
  skip?: string;
  /** Exit code when not 0. */
  exit?: number;
  /** The blog shows the first lines of a capture it stopped with ^C: only those are compared. */
  first?: boolean;
}

const uniqLines = (actual: string[]) => actual.map((l) => /^( {0,6}\d+) Hostname: (webpod[123])$/.exec(l)).map((m) => m && { pod: m[2]!, n: Number(m[1]), width: m[1]!.length + 1 });

/** `for i in {1..N}; ... | sort | uniq -c | sort -nr`: three lines, uniq's width, most first, N in all; the lab's own draw (seeded, so exact), each within ±10 points of a third. */
function spread(n: number, lab: Record<string, number>): Case {
  return {
    masks: [[/^ *\d+ Hostname: webpod\d$/, '{COUNT} Hostname: webpod{N}']],
    check: (t, actual) => {
      const u = uniqLines(actual);
      t.ok(u.every((x) => x && x.width === 8), 'uniq -c pads counts to 7 columns');
      const got = Object.fromEntries(u.map((x) => [x!.pod, x!.n]));
      t.same(got, lab, `the lab's draw for ${n} curls`);
      t.same(u.map((x) => x!.n), u.map((x) => x!.n).sort((a, b) => b - a), 'sort -nr: most first');
      t.equal(u.reduce((a, x) => a + x!.n, 0), n, `${n} answers in all`);
      if (n >= 100) for (const x of u) t.ok(Math.abs(x!.n / n - 1 / 3) <= 0.1, `${x!.pod}: ${x!.n} of ${n} is within ±10 points of a third`);
    },
  };
}

/** With sessionAffinity ClientIP every answer comes from one webpod. */
function sticky(n: number): Case {
  return {
    masks: WHICH,
    check: (t, actual) => t.match(actual.join('\n'), new RegExp(`^ +${n} Hostname: webpod[123]$`), `all ${n} from one webpod`),
  };
}

/** The SEP rules' counters of KUBE-SVC-...: each endpoint's rule counted exactly the replay's connections to it (a SYN of 60 bytes each). */
const sepCounters: Check = (t, actual, _r, rp) => {
  for (const l of actual) {
    const m = /^ *(\d+) +(\d+) KUBE-SEP-\w+ .* -> (10\.10\.\d+\.\d+):80 \*\//.exec(l);
    if (!m) continue;
    const pod = Object.keys(WEBPOD_IP).find((p) => WEBPOD_IP[p] === m[3])!;
    t.equal(Number(m[1]), rp.tally.get(pod) ?? 0, `${pod}'s SEP rule: one packet per connection it answered`);
    t.equal(Number(m[2]), 60 * Number(m[1]), `${pod}'s SEP rule: 60 bytes per SYN`);
  }
};

/** A KUBE-SEP chain's DNAT rule: the connections its endpoint answered. */
function dnatCounter(pod: string): Check {
  return (t, actual, _r, rp) => {
    const m = new RegExp(`^ *(\\d+) +(\\d+) DNAT .* tcp to:${escapeRe(WEBPOD_IP[pod]!)}:80$`).exec(actual.find((l) => l.includes('DNAT')) ?? '');
    t.ok(m, 'the DNAT rule is listed');
    t.equal(Number(m?.[1]), rp.tally.get(pod) ?? 0, `${pod}: one DNAT per connection it answered`);
    t.equal(Number(m?.[2]), 60 * Number(m?.[1]), '60 bytes per SYN');
  };
}

const total = (rp: Replay) => [...rp.tally.values()].reduce((a, b) => a + b, 0);

const CASES: Record<number, Case> = {
  86: {},
  99: {},
  103: { masks: AGE },
  127: { masks: AGE },
  131: { masks: ENDPOINT_ORDER },
  149: { masks: AGE },
  // The EndpointSlice's name suffix is random.
  153: { masks: [...AGE, [/svc-clusterip-[a-z0-9]{5}/, 'svc-clusterip-{SUFFIX}'], ...ENDPOINT_ORDER] },
  160: {},
  163: {}, 164: {}, 165: {}, 167: {},
  170: { masks: [...PORT, ...LL6] },
  183: {}, 188: {},
  196: { masks: [[/(RemoteAddr: 10\.10\.0\.6):\d+$/, '$1:{PORT}']] },
  207: {}, 209: {},
  221: {}, 225: {},
  242: { exit: 28 },
  245: {
    masks: [...WHICH, ...PORT, ...LL6],
    check: (t, actual) => {
      const pod = /^Hostname: (webpod\d)$/.exec(actual[0] ?? '')?.[1];
      t.ok(pod && actual.includes(`IP: ${WEBPOD_IP[pod]}`), `the answer names ${pod}'s own address`);
    },
  },
  257: { masks: WHICH }, 260: { masks: WHICH },
  265: spread(10, { webpod2: 6, webpod3: 2, webpod1: 2 }), 270: spread(100, { webpod3: 41, webpod2: 32, webpod1: 27 }), 275: spread(1000, { webpod1: 347, webpod2: 328, webpod3: 325 }),
  281: {
    run: (rp, s) => rp.conntrackEvents(s.where),
    // The blog's events are a local probe of etcd (127.0.0.1:2381); the replay's are net-pod's curl through the ClusterIP: the same states and timeouts.
    masks: [[/src=\S+ dst=\S+ sport=\d+ dport=\d+/g, 'src={A} dst={B} sport={P} dport={Q}']],
  },
  303: { masks: CT }, 326: { masks: CT },
  344: {},
  356: {},
  // A kind node's eth0 is docker's veth (8: eth0@if9, link-netnsid 0), the 02:42 MAC of its IP, noqueue, kind's ULA: compared as is.
  357: { masks: LINK }, 364: { masks: LINK }, 392: { masks: LINK },
  404: { masks: LINK }, 411: { masks: LINK }, 419: { masks: LINK },
  440: { masks: LINK }, 447: { masks: LINK }, 455: { masks: LINK },
  // The blog's `sleep 1: done` typo: its error goes to stderr, which the blog did not copy.
  473: { masks: WHICH, drop: /^(sleep: |Try 'sleep --help'|command terminated with exit code 1$)/, exit: 1 },
  491: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, drop: /^(tcpdump: verbose|listening on)/ },
  502: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  509: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, drop: /^(tcpdump: verbose|listening on)/ },
  520: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  527: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, drop: /^(tcpdump: verbose|listening on)/ },
  537: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  548: { run: (rp, s) => rp.ngrep(s.where, s.cmd), masks: NGREP, first: true },
  582: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, first: true, drop: /^(tcpdump: verbose|listening on)/ },
  596: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  603: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, first: true, drop: /^(tcpdump: verbose|listening on)/ },
  617: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  624: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), masks: DUMP, first: true, drop: /^(tcpdump: verbose|listening on)/ },
  638: { skip: 'an empty prompt: nothing was typed' },
  639: { run: (rp, s) => rp.tcpdump(s.where, s.cmd), drop: /^(tcpdump: verbose|listening on)/ },
  644: { run: (rp, s) => rp.ngrep(s.where, s.cmd), masks: NGREP, first: true },
  699: {
    masks: COUNTERS,
    check: (t, actual, _r, rp) => t.ok(Number(/^ *(\d+) +\d+ KUBE-SERVICES /m.exec(actual.join('\n'))?.[1]) >= total(rp), 'KUBE-SERVICES saw at least every connection net-pod made'),
  },
  711: {
    masks: COUNTERS,
    check: (t, actual, _r, rp) => t.equal(Number(/^ *(\d+) +\d+ KUBE-SVC-KBDEBIL6IU6WL7RF /m.exec(actual.join('\n'))?.[1]), total(rp), 'svc-clusterip\'s rule: every connection to it'),
  },
  736: { masks: COUNTERS, check: sepCounters },
  751: { masks: COUNTERS, check: dnatCounter('webpod2') },
  757: { masks: COUNTERS, check: dnatCounter('webpod3') },
  763: { masks: COUNTERS, check: dnatCounter('webpod1') },
  779: {},
  // Between the blog's --zero and this listing its cluster ran on (106 packets); the replay runs nothing in between.
  // A terminal shows each command's stderr where it was written: the line's commands run one by one to keep that order.
  781: { run: (rp, s) => rp.inTurn(s.where, s.cmd), masks: COUNTERS, exit: 1, check: (t, actual) => t.ok(actual.filter((l) => /^ +\d+ +\d+ /.test(l)).every((l) => /^ +0 +0 /.test(l)), 'zeroed counters stay 0') },
  804: {},
  818: {}, 824: {}, 827: {},
  834: sticky(100), 836: sticky(1000),
  853: {},
};

/** The blog dropped the prompt of worker3's capture (after "[ myk8s-worker 3]"): its output stands alone at line 527. */
const MISSING_PROMPTS: Step[] = [{ line: 527, where: 'myk8s-worker3', cmd: 'tcpdump -i eth0 tcp port 80 -nnq', expected: outputAfter(526) }];

/** Before the sessionAffinity section the blog's webpod3 is at 10.10.2.4 (line 848): it was recreated, and host-local IPAM gave it the next address. */
async function recreateWebpod3(t: Test, rp: Replay): Promise<void> {
  const del = await rp.host('kubectl delete pod webpod3');
  t.equal(del.stdout, 'pod "webpod3" deleted\n');
  const again = FILES['3pod.yaml']!.split(/^---\n/m)[2]!.replace('10.10.2.3', '10.10.2.4');
  const r = await rp.c.kubectl(['apply', '-f', '-'], again);
  t.equal(r.stdout, 'pod/webpod3 created\n');
  WEBPOD_IP.webpod3 = '10.10.2.4';
}

t.test('seed 000 transcript, command by command', async (t) => {
  const rp = new Replay();
  t.teardown(() => rp.close());
  const steps = [...seedSteps(), ...MISSING_PROMPTS].sort((a, b) => a.line - b.line);
  t.same(steps.map((s) => s.line), Object.keys(CASES).map(Number), 'every prompt of the blog has a case, and every case a prompt');
  for (const s of steps) {
    const c = CASES[s.line] ?? {};
    const what = `${s.line}: ${s.where === 'host' ? '' : `${s.where}# `}${s.cmd}`;
    if (c.skip) { t.test(what, { skip: c.skip }, () => {}); continue; }
    if (s.line === 818) await recreateWebpod3(t, rp);
    const r = await (c.run ? c.run(rp, s) : s.where === 'host' ? rp.host(s.cmd) : rp.node(s.where, s.cmd));
    const expected = s.expected.filter((l) => !c.drop?.test(l));
    const actual = shown(r).filter((l) => !c.drop?.test(l)).slice(0, c.first ? expected.length : undefined);
    t.equal(r.exitCode, c.exit ?? 0, `${what}: exit ${c.exit ?? 0}`);
    t.same(differences(actual, expected, c.masks ?? []), [], what);
    c.check?.(t, actual, r, rp);
  }
});

t.test("the lab's manifests are the blog's files (cat <<EOT> FILE) plus the lab's pins", async (t) => {
  const heredocs = new Map<string, string>();
  for (let i = 0; i < SEED.length; i++) {
    const m = /^cat <<EOT> (\S+)$/.exec(SEED[i]!);
    if (!m) continue;
    const end = SEED.indexOf('EOT', i);
    heredocs.set(m[1]!, SEED.slice(i + 1, end).join('\n'));
  }
  t.same([...heredocs.keys()], Object.keys(FILES), 'the blog writes the three files it applies');
  const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as { metadata: { annotations?: Record<string, string> }; spec: { clusterIP?: string } });
  for (const [name, text] of heredocs) {
    const lab = docs(FILES[name]!).map((d) => {
      delete d.metadata.annotations?.['dplab.dev/pod-ip'];
      if (d.metadata.annotations && Object.keys(d.metadata.annotations).length === 0) delete d.metadata.annotations;
      delete d.spec.clusterIP;
      return d;
    });
    t.same(lab, docs(text), `${name}: the same objects once the pod IP and ClusterIP pins are left out`);
  }
});
