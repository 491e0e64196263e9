// cilium-dbg output over real map contents, checked against the seed transcript (whose blog collapsed runs of spaces).
import t from 'tap';
import { IdAllocator } from '../src/bpf/ids.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { createNodeMaps } from '../maps/index.ts';
import { formatMapGet } from '../maps/all.ts';
import { EndpointInfo, EndpointKey, formatBpfEndpointList } from '../maps/cilium_lxc.ts';
import { IpcacheKey, RemoteEndpointInfo } from '../maps/cilium_ipcache.ts';
import { tabwrite } from '../maps/tabwriter.ts';
import { formatCtList, CtEntry, CtKey4Global } from '../maps/cilium_ct4_global.ts';

const collapse = (s: string) => s.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);

function seedNode() {
  const m = createNodeMaps(new IdAllocator());
  const ep = (ip: string, lxcId: number, secId: number, ifIndex: number, mac: string, nodeMac: string) =>
    m.lxc.update(new EndpointKey(ipToU32(ip)).encode(), new EndpointInfo({ ifIndex, lxcId, flags: 0, mac, nodeMac, secId }).encode());
  m.lxc.update(new EndpointKey(ipToU32('192.168.10.10')).encode(), EndpointInfo.host().encode());
  m.lxc.update(new EndpointKey(ipToU32('172.16.0.12')).encode(), EndpointInfo.host().encode());
  ep('172.16.0.230', 416, 39126, 10, '92:EF:86:7B:D1:D4', '5E:B5:9A:19:FB:B3');
  ep('172.16.0.236', 905, 4, 8, '22:1F:BD:B2:24:65', 'BE:40:78:DD:72:24');
  const ipc = (cidr: string, id: number, tun: string) => {
    const [ip, len] = cidr.split('/');
    m.ipcache.update(new IpcacheKey(ipToU32(ip!), Number(len)).encode(), new RemoteEndpointInfo(id, ipToU32(tun)).encode());
  };
  ipc('172.16.1.111/32', 25054, '192.168.10.101');
  ipc('0.0.0.0/0', 2, '0.0.0.0');
  ipc('192.168.10.10/32', 1, '0.0.0.0');
  return m;
}

t.test('map get cilium_lxc: seed rows, Go tabwriter spacing, host entries not in the cache', async (t) => {
  const out = formatMapGet(seedNode().lxc);
  t.same(collapse(out), [
    'Key Value State Error',
    '172.16.0.230:0 id=416 sec_id=39126 flags=0x0000 ifindex=10 mac=92:EF:86:7B:D1:D4 nodemac=5E:B5:9A:19:FB:B3 sync',
    '172.16.0.236:0 id=905 sec_id=4 flags=0x0000 ifindex=8 mac=22:1F:BD:B2:24:65 nodemac=BE:40:78:DD:72:24 sync',
  ]);
  const lines = out.split('\n');
  const value230 = 'id=416   sec_id=39126 flags=0x0000 ifindex=10  mac=92:EF:86:7B:D1:D4 nodemac=5E:B5:9A:19:FB:B3';
  t.equal(lines[0], 'Key' + ' '.repeat(14) + 'Value'.padEnd(value230.length + 3) + 'State   Error');
  t.equal(lines[1], '172.16.0.230:0   id=416   sec_id=39126 flags=0x0000 ifindex=10  mac=92:EF:86:7B:D1:D4 nodemac=5E:B5:9A:19:FB:B3   sync    ');
});

t.test('bpf endpoint list includes (localhost) rows', async (t) => {
  t.same(collapse(formatBpfEndpointList(seedNode().lxc)), [
    'IP ADDRESS LOCAL ENDPOINT INFO',
    '192.168.10.10:0 (localhost)',
    '172.16.0.12:0 (localhost)',
    '172.16.0.230:0 id=416 sec_id=39126 flags=0x0000 ifindex=10 mac=92:EF:86:7B:D1:D4 nodemac=5E:B5:9A:19:FB:B3',
    '172.16.0.236:0 id=905 sec_id=4 flags=0x0000 ifindex=8 mac=22:1F:BD:B2:24:65 nodemac=BE:40:78:DD:72:24',
  ]);
});

t.test('map get cilium_ipcache matches the seed lines', async (t) => {
  const out = formatMapGet(seedNode().ipcache);
  const rows = collapse(out);
  t.equal(rows[0], 'Key Value State Error');
  for (const seedLine of [
    '172.16.1.111/32 identity=25054 encryptkey=0 tunnelendpoint=192.168.10.101, flags=<none> sync',
    '0.0.0.0/0 identity=2 encryptkey=0 tunnelendpoint=0.0.0.0, flags=<none> sync',
    '192.168.10.10/32 identity=1 encryptkey=0 tunnelendpoint=0.0.0.0, flags=<none> sync',
  ]) t.ok(rows.includes(seedLine), seedLine);
  t.equal(out.split('\n')[1], '172.16.1.111/32    identity=25054 encryptkey=0 tunnelendpoint=192.168.10.101, flags=<none>   sync    ');
});

t.test('maps without an agent cache print "Cache is disabled"; empty ones "Cache is empty"', async (t) => {
  const m = createNodeMaps(new IdAllocator());
  t.equal(formatMapGet(m.ct4), 'Cache is disabled\n\n');
  t.equal(formatMapGet(m.lbServices), 'Cache is empty\n\n');
});

t.test('tabwriter: column blocks, minwidth, trailing cells', async (t) => {
  t.equal(tabwrite('a\tb\tc\nlonger\tx\n'), 'a        b    c\nlonger   x\n');
  t.equal(tabwrite('a\tb\t\n'), 'a    b    \n', 'minwidth 5 applies to short cells');
  t.equal(tabwrite('k\tv\n\nkey2\tv\n'), 'k    v\n\nkey2   v\n', 'an empty line ends the column block');
});

t.test('NodeMaps: ids in creation order, per-endpoint maps on demand, byName/list', async (t) => {
  const m = createNodeMaps(new IdAllocator({ firstMapId: 10 }));
  t.equal(m.lxc.id, 10);
  const calls = m.callsFor(416);
  t.equal(calls.spec.name, 'cilium_calls_00416');
  t.equal(m.callsFor(416), calls, 'same map on second call');
  t.equal(m.policyFor(416).spec.name, 'cilium_policy_00416');
  t.equal(m.byName('cilium_calls_00416'), calls);
  t.equal(m.callsOverlay().spec.name, 'cilium_calls_overlay_2');
  const ids = m.list().map((x) => x.id);
  t.same(ids, [...ids].sort((a, b) => a - b));
  m.dropEndpoint(416);
  t.equal(m.byName('cilium_calls_00416'), undefined);
});

t.test('bpf ct list lines', async (t) => {
  const key = new CtKey4Global({ daddr: ipToU32('10.244.1.23'), saddr: ipToU32('10.244.2.17'), dport: 80, sport: 43520, nexthdr: 6, flags: 0 });
  const zero = new CtKey4Global({ daddr: 0, saddr: 0, dport: 0, sport: 0, nexthdr: 0, flags: 0 });
  const out = formatCtList([[key.encode(), new CtEntry({ lifetime: 5 }).encode()], [zero.encode(), new CtEntry().encode()]]);
  t.equal(out.split('\n').length, 2, 'entries with nexthdr 0 are skipped');
  t.match(out, /^TCP OUT 10\.244\.1\.23:43520 -> 10\.244\.2\.17:80 expires=5 Packets=0 /);
});
