// The API over the real seed lab (Cluster.lab('cilium')): routes, streams and one ping seen on the wire.
import t from 'tap';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { WebSocket } from 'ws';
import { buildApp } from '../src/api/app.ts';
import { decodeCaptureMessage } from '../src/api/capture_codec.ts';
import { parsePodsWide } from '../src/api/demo.ts';
import type { ClusterFacade } from '../src/cluster/facade.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';

const haveCluster = existsSync(resolve(import.meta.dirname, '../src/cluster/cluster.ts'));

t.test('real seed lab over the API', { skip: haveCluster ? false : 'src/cluster/cluster.ts not there yet' }, async (t) => {
  const { Cluster } = await import('../src/cluster/cluster.ts');
  const cluster: ClusterFacade = Cluster.lab('cilium', { seed: 1 });
  const app = buildApp(cluster);
  t.teardown(() => app.close());
  await app.ready();

  t.same((await app.inject('/v1/nodes')).json(), { nodes: ['k8s-s', 'k8s-w1', 'k8s-w2'] });
  const wide = await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv: ['get', 'pods', '-o', 'wide'] } });
  t.same(parsePodsWide(wide.json().stdout).map((p) => `${p.name} ${p.ip} ${p.node}`),
    ['netpod 172.16.0.230 k8s-s', 'webpod1 172.16.1.111 k8s-w1', 'webpod2 172.16.2.180 k8s-w2'], 'the seed pods at the seed IPs');
  const bpf = await app.inject({ method: 'POST', url: '/v1/nodes/k8s-s/exec', payload: { argv: ['bpftool', 'net', 'show'] } });
  t.match(bpf.json(), { exitCode: 0, stdout: /ens5\(2\) tcx\/ingress cil_from_netdev/ });

  const refused = await new Promise<{ code: number; msg: string }>((res) => {
    void app.injectWS('/v1/nodes/k8s-s/capture?iface=eth9', {}, {
      onInit: (w) => { let msg = ''; w.on('message', (d: Buffer) => { msg = d.toString(); }); w.on('close', (code: number) => { w.terminate(); res({ code, msg }); }); },
    });
  });
  t.equal(refused.code, 4404);
  t.match(JSON.parse(refused.msg), { error: /eth9: No such device/ });

  await t.test('a cross-node ping shows on ens5', { timeout: 30_000 }, async (t) => {
    const frames: Uint8Array[] = [];
    let ws!: WebSocket;
    const listening = new Promise<void>((res) => {
      void app.injectWS('/v1/nodes/k8s-s/capture?iface=ens5', {}, {
        onInit: (w) => { ws = w; w.on('message', (d: Buffer, bin: boolean) => { if (bin) frames.push(decodeCaptureMessage(new Uint8Array(d)).frame.slice()); else res(); }); },
      });
    });
    await listening;
    const r = await app.inject({ method: 'POST', url: '/v1/exec', payload: { pod: 'netpod', argv: ['ping', '-c', '1', '172.16.2.180'] } });
    t.match(r.json(), { exitCode: 0, stdout: /1 packets transmitted, 1 received/ });
    await new Promise((res) => setTimeout(res, 50));
    ws.terminate();
    const fmt = new TcpdumpFormatter();
    const lines = frames.map((f) => fmt.format(f, 0).slice(16));
    t.ok(lines.some((l) => l.startsWith('IP 172.16.0.230 > 172.16.2.180: ICMP echo request')), `echo request on the wire: ${lines.join(' | ')}`);
    t.ok(lines.some((l) => l.startsWith('IP 172.16.2.180 > 172.16.0.230: ICMP echo reply')), 'echo reply on the wire');
  });
});
