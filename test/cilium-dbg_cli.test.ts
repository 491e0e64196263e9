// `dplab cilium` reading the agent API over HTTP: `map get` printed by the CLI
// from the BPFMap model is the text cilium-dbg prints on the node; `map events
// -f` follows; the CT strings read from bytes equal the map file's own.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { startServer } from '../src/api/server.ts';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { CT4_FORMAT, CtEntry, CtKey4Global } from '../maps/cilium_ct4_global.ts';
import { FAST_CT_FORMAT } from '../src/cilium/rest/ct_format.ts';
import { agentMaps, mapModel, mapModelJson } from '../src/cilium/rest/maps.ts';
import { runCli, startCli } from './helpers/run_cli.ts';

t.test('CT strings from bytes are CT4_FORMAT\'s, flag by flag', async (t) => {
  for (let i = 0; i < 400; i++) {
    const key = new CtKey4Global({ daddr: (0x0a000001 * (i + 1)) >>> 0, saddr: (0xac100000 + i * 7919) >>> 0, dport: (i * 131) & 0xffff, sport: (i * 7) & 0xffff, nexthdr: [6, 17, 1, 58, 132, 0][i % 6]!, flags: i % 8 }).encode();
    const val = new CtEntry({ lifetime: i * 1000, packets: i * 2 ** 33 + 5, bytes: i * 1e9, flags: (i * 37) & 0xffff, revNat: i % 65536, ifindex: i, txFlagsSeen: i & 255, rxFlagsSeen: (i * 3) & 255, sourceSecurityId: i * 65537, lastTxReport: i, lastRxReport: i * 2, backendId: i * 3 }).encode();
    if (FAST_CT_FORMAT.key(key) !== CT4_FORMAT.key(key) || FAST_CT_FORMAT.value(val) !== CT4_FORMAT.value(val)) {
      t.same([FAST_CT_FORMAT.key(key), FAST_CT_FORMAT.value(val)], [CT4_FORMAT.key(key), CT4_FORMAT.value(val)], `entry ${i}`);
      return;
    }
  }
  t.pass('400 entries alike');
});

t.test('the map dump written as text is JSON.stringify of the model, map by map', async (t) => {
  const c = Cluster.lab('cilium', { seed: 1 });
  t.teardown(() => c.close());
  await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'curl', '-s', '172.16.1.111']));
  for (const m of agentMaps(ciliumOf(c.cni)!.agent('k8s-s'))) t.equal(mapModelJson(m), JSON.stringify(mapModel(m)), m.spec.name);
});

t.test('map get over HTTP prints what cilium-dbg prints on the node', async (t) => {
  const c = Cluster.lab('cilium', { seed: 1 });
  const server = await startServer(c, { port: 0, clock: 'fast' });
  t.teardown(async () => { await server.close(); c.close(); });
  for (const name of ['cilium_lxc', 'cilium_ipcache', 'cilium_lb4_services_v2', 'cilium_ct4_global']) {
    const local = await c.sim.settle(c.nodeExec('k8s-w1', ['cilium-dbg', 'map', 'get', name]));
    const cli = await runCli(['--server', server.url, 'cilium', '--node', 'k8s-w1', 'map', 'get', name]);
    t.same([cli.code, cli.stdout], [0, local.stdout], name);
  }
  const ex = await runCli(['--server', server.url, 'cilium', '--node', 'k8s-s', 'map', 'get', 'cilium_lxc', '--explain']);
  t.match(ex.stdout, /^Key +Value +State +Error +Explain\n/);
  const missing = await runCli(['--server', server.url, 'cilium', 'map', 'get', 'cilium_nope']);
  t.same([missing.code, missing.stderr], [1, 'Error: [GET /map/{name}][404] getMapNameNotFound \n']);

  const follow = startCli(['--server', server.url, 'cilium', '--node', 'k8s-s', 'map', 'events', 'cilium_ipcache', '-f']);
  await follow.waitFor('stdout', /action=update/);
  ciliumOf(c.cni)!.agent('k8s-s').upsertIpcache(0x0a630000, 16, 2, 0);
  await follow.waitFor('stdout', /key="10\.99\.0\.0\/16" value="identity=2 encryptkey=0 tunnelendpoint=0\.0\.0\.0, flags=<none>" time=\S+ action=update desiredState=sync lastError=""\n/);
  follow.child.kill('SIGINT');
  t.equal((await follow.exited).code, 0, 'Ctrl-C ends it');
});
