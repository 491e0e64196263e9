// conntrack -E sees an entry's DESTROY when its timer runs out, as Linux's
// conntrack GC emits it, without anything reading the table: on the kind
// lab through the library's event stream (a curl's TIME_WAIT entry, 120 s
// later) and on a bare table (one timer for the earliest expiry, none while
// nobody listens).

import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { Conntrack, TCP_ACK, TCP_FIN, TCP_SYN } from '../src/netfilter/conntrack.ts';
import { entryLine } from '../src/netfilter/conntrack_cli.ts';
import { conntrackLineJson } from '../src/api/routes/node_tools_json.ts';
import type { Pkt } from '../src/netfilter/types.ts';
import { ipToU32 } from '../src/wire/addr.ts';

t.test('kind lab: conntrack -E shows a curl\'s [DESTROY] 120 s after its TIME_WAIT, in conntrack-tools\' format', async (t) => {
  const c = Cluster.lab('kind-iptables', { hubble: false });
  t.teardown(() => c.close());
  const got: Array<{ ns: number; text: string }> = [];
  const stop = c.events('myk8s-control-plane', 'conntrack', (l) => got.push({ ns: c.sim.now(), text: l.text }));
  t.teardown(stop);
  t.equal((await c.exec('default', 'net-pod', ['curl', '-s', '10.200.1.118:9000'])).exitCode, 0);
  await c.sim.settle(c.sim.sleep(1e9));
  const mine = (re: RegExp) => got.filter((g) => g.text.includes('dst=10.200.1.118 ') && re.test(g.text));
  const tw = mine(/\[UPDATE\] tcp {6}6 120 TIME_WAIT /);
  t.equal(tw.length, 1, 'the curl\'s entry reached TIME_WAIT');
  const sport = /sport=(\d+)/.exec(tw[0]!.text)![1];
  t.same(mine(/\[DESTROY\]/), [], 'no DESTROY while the entry lives');
  await c.sim.settle(c.sim.sleep(121e9));
  const d = mine(/\[DESTROY\]/);
  t.equal(d.length, 1, 'one DESTROY, with nothing reading the table');
  t.match(d[0]!.text, new RegExp(`^\\[DESTROY\\] tcp {6}6 TIME_WAIT src=10\\.10\\.0\\.6 dst=10\\.200\\.1\\.118 sport=${sport} dport=9000 src=10\\.10\\.\\d\\.\\d dst=10\\.10\\.0\\.6 sport=80 dport=${sport} \\[ASSURED\\]$`),
    'no seconds left (none are), the state, [ASSURED]');
  t.equal(d[0]!.ns - tw[0]!.ns, 120e9, 'at the end of nf_conntrack_tcp_timeout_time_wait (120 s)');
  t.match(conntrackLineJson(d[0]!.text), { event: 'DESTROY', protoname: 'tcp', protonum: 6, state: 'TIME_WAIT', original: { dst: '10.200.1.118', dport: 9000 }, assured: true });
  t.equal(conntrackLineJson(d[0]!.text)!.timeout, undefined, 'the API\'s JSON has no timeout for it either');
  const ls = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '-p', 'tcp', '--dport', '9000']);
  t.equal(ls.stdout, '', 'gone from the table');
});

/** A bare table on a manual clock; the scheduler records what it was asked. */
function bare() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const ct = new Conntrack(() => now);
  ct.setScheduler((d, fn) => { const x = { at: now + d, fn, live: true }; timers.push(x); return { cancel: () => { x.live = false; } }; });
  /** Moves the clock to `to`, firing live timers in time order. */
  const advance = (to: number) => {
    for (;;) {
      const next = timers.filter((x) => x.live && x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      next.live = false; now = next.at; next.fn();
    }
    now = to;
  };
  const pkt = (src: string, dst: string, sport: number, dport: number, proto: number, flags = 0): Pkt => ({
    src: ipToU32(src), dst: ipToU32(dst), proto, sport, dport, len: 60, tcpFlags: flags, icmpType: 0, icmpCode: 0, icmpId: 0, frag: false, inIf: 'eth0', outIf: '', mark: 0,
  });
  const send = (p: Pkt) => { const i = ct.track(p); if (i.entry) ct.confirm(i.entry); };
  return { ct, timers, advance, pkt, send, now: () => now };
}

t.test('bare table: no timer while nobody listens; one timer at the earliest expiry while someone does', async (t) => {
  const { ct, timers, advance, pkt, send, now } = bare();
  send(pkt('10.0.0.1', '10.0.0.2', 1000, 53, 17));
  t.equal(timers.length, 0, 'no listener: entries expire lazily, no timer');
  const lines: string[] = [];
  const off = ct.onEvent((type, e, ns) => lines.push(`${ns / 1e9} ${entryLine(e, ns, type)}`));
  t.same(timers.filter((x) => x.live).map((x) => x.at / 1e9), [30], 'a listener arms one timer: the UDP entry\'s 30 s');
  advance(10e9);
  send(pkt('10.0.0.1', '10.0.0.2', 2000, 80, 6, TCP_SYN));
  t.same(timers.filter((x) => x.live).map((x) => x.at / 1e9), [30], 'a later expiry (SYN_SENT 120 s) leaves it');
  advance(31e9);
  t.same(lines.slice(-1), ['30 [DESTROY] udp      17 src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1000'], 'DESTROY at 30 s');
  t.same(timers.filter((x) => x.live).map((x) => x.at / 1e9), [130], 'then the next earliest: the SYN\'s 10 + 120 s');
  // The SYN is answered: SYN_RECV (60 s) moves the earliest expiry nearer.
  advance(40e9);
  send(pkt('10.0.0.2', '10.0.0.1', 80, 2000, 6, TCP_SYN | TCP_ACK));
  t.same(timers.filter((x) => x.live).map((x) => x.at / 1e9), [100], 'an entry refreshed to expire sooner re-arms the one timer');
  send(pkt('10.0.0.1', '10.0.0.2', 2000, 80, 6, TCP_ACK));
  send(pkt('10.0.0.1', '10.0.0.2', 2000, 80, 6, TCP_FIN | TCP_ACK));
  advance(100e9);
  t.equal(lines.filter((l) => l.includes('DESTROY')).length, 1, 'the established entry lives on (its timer fired early and slept again)');
  t.ok(timers.filter((x) => x.live).length === 1 && timers.filter((x) => x.live)[0]!.at === 160e9, 'FIN_WAIT 120 s from 40 s');
  ct.deleteWhere(() => true);
  t.same(lines.slice(-1), ['100 [DESTROY] tcp      6 60 FIN_WAIT src=10.0.0.1 dst=10.0.0.2 sport=2000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=2000 [ASSURED]'],
    'conntrack -D: the DESTROY keeps the seconds that were left');
  send(pkt('10.0.0.1', '10.0.0.2', 1001, 53, 17));
  off();
  t.equal(timers.filter((x) => x.live).length, 0, 'the last listener gone: the timer is cancelled');
  advance(1000e9);
  t.equal(lines.length, 7, 'no event after the listener left');
  t.equal(ct.all().length, 0, 'a read expires lazily again');
  t.equal(now(), 1000e9);
});
