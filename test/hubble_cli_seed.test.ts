// The seed-003 transcript replayed on the default lab, then `dplab hubble
// observe --pod POD` run as a user runs it, over gRPC to the lab's Hubble:
// the lines must be the real lab's (test/scenarios/seed003_hubble.txt) with
// timestamps, ephemeral ports and identity numbers masked. Also the real
// hubble binary's words for a dead server, and status / list nodes.
import t from 'tap';
import { startHubbleGrpc } from '../src/grpc/server.ts';
import { compactLine } from '../src/hubble/printer/flows.ts';
import { drain, kubectl, onNode, scenario, seedLab, stepArgv, transcript } from './helpers/lab.ts';
import { runCli } from './helpers/run_cli.ts';

/** What differs between runs of the real lab: the time, the client's ephemeral port, identity numbers. */
const mask = (l: string): string => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: /, 'TIME: ').replace(/\(ID:\d+\)/g, '(ID:N)').replace(/netpod:\d+/g, 'netpod:PORT');

/** Where the seed's pods ran (`kubectl get pod -o wide`; both coredns pods by the ipcache's tunnelendpoint 192.168.10.101). */
const NODE_OF: Array<[RegExp, string]> = [[/^default\/netpod\b/, 'k8s-s'], [/^default\/webpod1\b/, 'k8s-w1'], [/^default\/webpod2\b/, 'k8s-w2'], [/^kube-system\/coredns-/, 'k8s-w1']];
const nodeOf = (ep: string): string | undefined => NODE_OF.find(([re]) => re.test(ep))?.[1];
const LINE = /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: (\S+) \(\S+\) (->|<-|<>) (\S+) \(\S+\) (\S+) [A-Z]+ \(.*\)$/;

/**
 * The node that emits a compact line, by Cilium's datapath: to-endpoint on the packet's destination's
 * node, to-network / to-stack / to-overlay on its source's; a trace-sock line on the node of the socket's
 * pod (its cgroup), which the printer shows as the destination of a reverse (`-rev`) point. A reply
 * (`<-`) is printed with source and destination swapped back, so its packet goes right to left.
 */
function emitter(line: string): string | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const [, left, arrow, right, point] = m as unknown as [string, string, string, string, string];
  if (arrow === '<>') return nodeOf(point.endsWith('-rev') ? right : left);
  const [from, to] = arrow === '<-' ? [right, left] : [left, right];
  return nodeOf(point === 'to-endpoint' ? to : from);
}
const isSock = (l: string): boolean => / (TRACED|TRANSLATED) \((TCP|UDP|Unknown)\)$/.test(l);

/**
 * Each node's observer answers the relay's `number` (20) by itself, so the seed's output is, node by node, that
 * node's last 20 flows for the pod.
 *
 * Where a node's ring starts in the seed, by the transcript step whose flows are its oldest. The seed's relay got
 * nothing about webpod1 from k8s-w1 although k8s-w1 emitted the to-endpoint / to-network lines of every
 * netpod<->webpod1 packet (k8s-s's side of them is in the seed): k8s-w1's ring held no flow from before 11:14:01,
 * the `curl wttr.in` (its DNS lines from then on are all there), i.e. its agent restarted or its ring was
 * overwritten between 11:13:06 and 11:14:01 (`c1 status` shows its coredns endpoints `[restored]`: that agent did
 * restart once). That is the seed's history, not the datapath: the lab's k8s-w1 is compared from that step on
 * (`--since` the step's start), and the merged output without k8s-w1's older flows.
 *
 * The DNS lines are curl's lookup of wttr.in as c-ares makes it (curl's resolver): one UDP socket (:44939)
 * connected to kube-dns, so socket LB picks one coredns at connect (one CT entry: a single to-endpoint /
 * to-network pair on k8s-w1), 10 queries read by coredns (A and AAAA for 5 names: the pod's 3 cluster search
 * domains, the node's EC2 search domain ap-northeast-2.compute.internal, then wttr.in itself) and 10 answers read
 * by netpod through recvmsg4, of which k8s-s's last 20 keep 6 pre/post-xlate-rev pairs beside the world flow.
 */
const RING_START: Record<string, string> = { 'k8s-w1': 'kubectl exec netpod -- curl -s wttr.in/seoul' };

/** The seed's `hubble observe` outputs by command line. */
function seedOutputs(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of scenario('seed003_hubble.txt').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('$ ')) out.set(line.slice(2), cur = []); else cur.push(line);
  }
  return out;
}

/**
 * (pod @ node) whose trace-sock lines differ, and why: none now. The seed's webpod2 shows five pre-xlate-rev lines
 * for its one accepted connection, each a run of cil_sock4_getpeername (inet_getname with peer=1) by whoami's task:
 * one for Go's accept4 with an address, then two for its first read(2) and two for its first write(2). The nodes
 * are Ubuntu 24.04 on 6.8, whose AppArmor mediates a confined task's socket file access: apparmor_file_permission
 * -> __file_sock_perm checks the task's label and then the file's while the access is not cached on the file, and
 * Ubuntu's aa_inet_file_perm looks up the peer address (map_sock_addr) for each. curl uses send/recv and coredns
 * recvmsg/sendmsg, which that check skips: none on k8s-s for curl, one per DNS query read on k8s-w1
 * (src/kernel/tcp.ts fileAccess, src/cluster/images/app_io.ts).
 */
const SOCK_GAPS: Record<string, string> = {};

/**
 * (pod @ node) whose datapath lines differ, and why: none now. wttr.in is ~295 ms away: the handshake's RTT sample
 * gives an RTO of ~900 ms (src/kernel/tcp.ts: tcp_rtt_estimator, srtt + max(4 * mdev, 200 ms)), so curl's FIN is
 * answered before any retransmission, as in the seed (with the old fixed 200 ms RTO the lab sent it twice).
 */
const PATH_GAPS: Record<string, string> = {};

/**
 * Pods whose merged output the lab orders differently across nodes, and why. Hubble stamps a flow when the node's
 * agent reads the event from its perf ring (pkg/hubble/monitor/consumer.go: time.Now() in sendEvent), not when the
 * datapath emitted it; the relay merges by those stamps. In the seed k8s-w2's stamps lag k8s-s's by more than a
 * packet's trip: k8s-s's to-endpoint of the ping's EchoReply comes before k8s-w2's to-endpoint of the EchoRequest it
 * answers, and the same for :8080's SYN / ACK, RST. The lab stamps each event at its emission (no reader delay, which
 * the transcript does not measure), so within a node the order is the seed's and across nodes it is causal.
 */
const READ_LAG = 'the seed\'s k8s-w2 agent read its events later than k8s-s\'s (Hubble stamps at perf-ring read): its lines sort after k8s-s\'s replies to them; the lab stamps at emission';
const ORDER_GAPS: Record<string, string> = { webpod2: READ_LAG };

/** Runs of identical lines counted once: the order of distinct events, whatever repeats. */
const distinct = (ls: string[]): string[] => ls.filter((l, i) => i === 0 || l !== ls[i - 1]);

const lab = seedLab();
t.teardown(() => lab.close());
let server: Awaited<ReturnType<typeof startHubbleGrpc>>;
/** Node -> wall-clock ms where its ring starts in the seed (RING_START's step began). */
const ringStartMs: Record<string, number> = {};

t.before(async () => {
  for (const { node, cmd } of transcript(scenario('seed003.txt'))) {
    for (const [n, step] of Object.entries(RING_START)) if (cmd === step) ringStartMs[n] = Math.floor(lab.sim.wallMs());
    const argv = stepArgv(cmd);
    await (argv[0] === 'kubectl' ? kubectl(lab, argv.slice(1)) : onNode(lab, node, argv));
    await drain(lab);
  }
  server = await startHubbleGrpc(lab.hubble()!, { port: 0 });
});
t.teardown(() => server.close());

const flowMs = (time: { seconds?: unknown; nanos?: number } | null | undefined): number => Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;

/** What the relay answers for `--pod POD` (the CLI's request), printed by the CLI's own compact printer, with whether the seed's rings held it. */
async function relayLines(pod: string): Promise<Array<{ line: string; inSeedRing: boolean }>> {
  const lines: Array<{ line: string; inSeedRing: boolean }> = [];
  const req = { number: 20, whitelist: [{ source_pod: [pod] }, { destination_pod: [pod] }] };
  await lab.hubble()!.getFlows(req, (r) => {
    if (!r.flow) return;
    const start = ringStartMs[(r.flow.node_name ?? '').replace(/^default\//, '')];
    lines.push({ line: compactLine(r.flow, { timeLayout: 'StampMilli', nodeName: false, ipTranslation: true }).trimEnd(), inSeedRing: start === undefined || flowMs(r.flow.time) >= start });
  }, new AbortController().signal);
  return lines;
}

for (const [cmd, want] of seedOutputs()) {
  const pod = cmd.split(' ').pop()!;
  t.test(`dplab ${cmd}`, async (t) => {
    const r = await runCli(['hubble', ...cmd.split(' ').slice(1), '--server', server.address]);
    t.equal(r.code, 0);
    t.equal(r.stderr, '');
    const have = r.stdout.trimEnd().split('\n');
    const relay = await relayLines(pod);
    t.same(have, relay.map((x) => x.line), 'over gRPC, every flow the relay has for the pod, printed as hubble prints it');
    t.ok(have.every((l) => /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: \S+ \((ID:\d+|world|host|remote-node)\) (->|<-|<>) \S+ \((ID:\d+|world|host|remote-node)\) \S+ [A-Z]+ \(.*\)$/.test(l)), 'every line in the compact shape');
    // The whole output is each node's last 20 merged by time (k8s-w1's older flows left out: RING_START).
    const gaps = [SOCK_GAPS[`${pod}@k8s-w2`], PATH_GAPS[`${pod}@k8s-s`], ORDER_GAPS[pod]].filter((x, i, a) => x && a.indexOf(x) === i).join('; ');
    const merged = have.filter((_l, i) => relay[i]!.inSeedRing).map(mask);
    t.test('the seed\'s lines, in its order (timestamps, ports, identity numbers aside)', { todo: gaps || false }, async (t) => {
      t.same(merged, want.map(mask));
    });
    // The relay's merge by time across the three nodes, checked apart from the repeat counts above.
    t.test('the seed\'s order across nodes, runs of identical lines counted once', { todo: ORDER_GAPS[pod] ?? false }, async (t) => {
      t.same(distinct(merged), distinct(want.map(mask)));
    });
  });
  for (const node of ['k8s-s', 'k8s-w1', 'k8s-w2']) {
    t.test(`dplab ${cmd} --node-name default/${node}${RING_START[node] ? ' --since <the wttr.in step>' : ''}: that node's part of the seed`, async (t) => {
      const since = ringStartMs[node] === undefined ? [] : ['--since', new Date(ringStartMs[node]!).toISOString()];
      const r = await runCli(['hubble', ...cmd.split(' ').slice(1), '--node-name', `default/${node}`, ...since, '--server', server.address]);
      t.equal(r.code, 0);
      const have = r.stdout === '' ? [] : r.stdout.trimEnd().split('\n');
      const seed = want.filter((l) => emitter(l) === node);
      t.ok(want.every((l) => emitter(l) !== undefined), 'every seed line has an emitting node');
      t.test('datapath trace lines (to-endpoint, to-network, ...)', { todo: PATH_GAPS[`${pod}@${node}`] ?? false }, async (t) => {
        t.same(have.filter((l) => !isSock(l)).map(mask), seed.filter((l) => !isSock(l)).map(mask));
      });
      t.test('socket-LB lines (pre/post-xlate)', { todo: SOCK_GAPS[`${pod}@${node}`] ?? PATH_GAPS[`${pod}@${node}`] ?? false }, async (t) => {
        t.same(have.filter(isSock).map(mask), seed.filter(isSock).map(mask));
      });
    });
  }
}

t.test('the lab\'s cgroup/getpeername4 runs on TCP: five per connection whoami accepts (accept4, then AppArmor on its first read and first write), none for curl', async (t) => {
  const have: Record<string, string[]> = {};
  for (const node of ['k8s-s', 'k8s-w1', 'k8s-w2']) {
    const r = await runCli(['hubble', 'observe', '--type', 'trace-sock', '--protocol', 'tcp', '--node-name', `default/${node}`, '--last', '100', '--server', server.address]);
    t.equal(r.code, 0);
    have[node] = r.stdout === '' ? [] : r.stdout.trimEnd().split('\n').map(mask);
  }
  // The transcript's TCP: curl netpod -> webpod1:80 and webpod2:80 (accepted), -> :8080 (refused: no accept), -> wttr.in.
  const five = (pod: string): string[] => Array(5).fill(`TIME: default/netpod:PORT (ID:N) <> default/${pod} (ID:N) pre-xlate-rev TRACED (TCP)`);
  t.same(have, { 'k8s-s': [], 'k8s-w1': five('webpod1'), 'k8s-w2': five('webpod2') });
});

t.test('status and list nodes against the lab', async (t) => {
  const s = await runCli(['hubble', 'status', '--server', server.address]);
  t.equal(s.code, 0);
  t.match(s.stdout, new RegExp(`^Healthcheck \\(via ${server.address.replace(/\./g, '\\.')}\\): Ok\\nCurrent/Max Flows: [\\d,]+/12,285 \\(\\d+\\.\\d\\d%\\)\\nFlows/s: (N/A|\\d+\\.\\d\\d)\\nConnected Nodes: 3/3\\n$`));
  const n = await runCli(['hubble', 'list', 'nodes', '--server', server.address]);
  t.equal(n.code, 0);
  const rows = n.stdout.trimEnd().split('\n');
  t.match(rows[0], /^NAME {13}STATUS {6}AGE {3,}FLOWS\/S {3,}CURRENT\/MAX-FLOWS$/);
  t.same(rows.slice(1).map((r) => r.split(/ {3,}/).slice(0, 2)), [['default/k8s-s', 'Connected'], ['default/k8s-w1', 'Connected'], ['default/k8s-w2', 'Connected']]);
  t.ok(rows.slice(1).every((r) => / \d+\/4095 \( *\d+\.\d\d%\)$/.test(r)), 'each node\'s ring');
});

t.test('a server that is not there: hubble\'s line, exit 1', async (t) => {
  const port = server.port === 65535 ? 65534 : server.port + 1;
  for (const verb of [['observe'], ['status'], ['list', 'nodes']]) {
    const r = await runCli(['hubble', ...verb, '--server', `127.0.0.1:${port}`]);
    t.same(r, { code: 1, stdout: '', stderr: `failed to connect to '127.0.0.1:${port}': connection error: desc = "transport: error while dialing: dial tcp 127.0.0.1:${port}: connect: connection refused"\n` }, verb.join(' '));
  }
  const bad = await runCli(['hubble', 'observe', '--last', '5', '--all', '--server', server.address]);
  t.same(bad, { code: 1, stdout: '', stderr: 'cannot set both --last and --all\n' });
  const json = await runCli(['hubble', 'observe', '--pod', 'webpod1', '--last', '1', '-o', 'json', '--server', server.address]);
  t.equal(json.code, 0);
  t.ok(json.stdout.trimEnd().split('\n').every((l) => /^\{"flow":\{"time":"[^"]+Z","uuid":"[0-9a-f-]{36}","verdict":"[A-Z]+"/.test(l)), 'one protojson line per flow');
});

// The real hubble CLI (built from cilium/hubble outside the repo; HUBBLE_BIN=/path/to/hubble) prints what dplab hubble prints.
const HUBBLE_BIN = process.env.HUBBLE_BIN;
t.test('the real hubble CLI against the same server', { skip: HUBBLE_BIN ? false : 'set HUBBLE_BIN to a hubble binary to compare' }, async (t) => {
  const { spawn } = await import('node:child_process');
  // stdin must not be a pipe: hubble observe would read flows from it instead of the server.
  const real = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(HUBBLE_BIN!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  for (const args of [['observe', '--pod', 'netpod'], ['observe', '--pod', 'webpod2', '-o', 'table'], ['observe', '--last', '3', '-o', 'dict', '--print-node-name'],
    ['observe', '--to-port', '80', '--numeric'], ['status'], ['list', 'nodes', '-o', 'wide'], ['observe', '--last', '5', '-o', 'jsonpb']]) {
    const ours = await runCli(['hubble', ...args, '--server', server.address]);
    const theirs = await real([...args, '--server', server.address]);
    if (args[0] === 'status') {
      // Flows/s divides by the uptime at the moment of asking.
      const noRate = (s: string) => s.replace(/^Flows\/s: .*$/m, 'Flows/s: R');
      t.same(noRate(ours.stdout), noRate(theirs.stdout), args.join(' '));
    } else if (args.includes('jsonpb')) {
      // 0.11.6 knows no fields past 33 (uuid, node_labels, trace_reason...): compare what it knows.
      const known = (s: string) => s.trimEnd().split('\n').map((l) => { const o = JSON.parse(l); for (const k of ['uuid', 'node_labels', 'trace_reason', 'emitter', 'file', 'tunnel']) delete o.flow?.[k]; return o; });
      t.same(known(ours.stdout), known(theirs.stdout), args.join(' '));
    } else t.equal(ours.stdout, theirs.stdout, args.join(' '));
    t.equal(ours.code, theirs.code);
  }
});
