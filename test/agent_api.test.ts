// The agent REST API as a client written for the real agent sees it: a node's
// own listener over TCP and over a unix socket, plain HTTP against Cilium's
// paths, JSON checked key by key against Cilium 1.16's go-swagger models; the
// 404/400 table; map events (follow); the map watch WebSocket.
import t, { type Test } from 'tap';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { buildApp } from '../src/api/app.ts';
import { startAgentListeners } from '../src/api/agent_listeners.ts';
import { ciliumOf } from '../src/cilium/plugin.ts';

const c = Cluster.lab('cilium', { seed: 1 });
t.teardown(() => c.close());

interface Got { status: number; type: string; text: string }
/** GET over TCP (`http://host:port`) or a unix socket (`unix:/path`), as a Go client of the agent would. */
function get(base: string, path: string): Promise<Got> {
  const target = base.startsWith('unix:') ? { socketPath: base.slice(5), path } : (() => { const u = new URL(base); return { host: u.hostname, port: Number(u.port), path }; })();
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method: 'GET', headers: { host: 'localhost' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const keys = (o: object) => Object.keys(o).sort();
const sorted = (...k: string[]) => [...k].sort();

/** Field-by-field checks of each path's JSON against the Cilium 1.16 model (required keys, types, enums). */
async function checkShapes(t: Test, base: string): Promise<void> {
  const j = async (path: string) => { const r = await get(base, path); t.equal(r.status, 200, `GET ${path}`); t.match(r.type, /^application\/json/); return JSON.parse(r.text); };

  const mapList = await j('/v1/map');
  t.same(keys(mapList), ['maps'], 'BPFMapList {maps}');
  for (const m of mapList.maps) {
    t.same(keys(m), ['cache', 'path'], 'BPFMap {path, cache}');
    t.match(m.path, /^\/sys\/fs\/bpf\/tc\/globals\/cilium_/);
    for (const e of m.cache) for (const k of Object.keys(e)) t.ok(['key', 'value', 'desired-action', 'last-error'].includes(k), `BPFMapEntry key ${k}`);
  }
  const lxc = await j('/v1/map/cilium_lxc');
  t.equal(lxc.path, '/sys/fs/bpf/tc/globals/cilium_lxc');
  t.ok(lxc.cache.length >= 2);
  for (const e of lxc.cache) {
    t.same(keys(e), sorted('key', 'value', 'desired-action'), 'cached entry: last-error omitted when empty (omitempty)');
    t.match(e, { key: /^172\.16\.0\.\d+:0$/, value: /^id=\d+ +sec_id=\d+ +flags=0x0000 ifindex=\d+ +mac=[0-9A-F:]{17} nodemac=[0-9A-F:]{17}$/, 'desired-action': 'sync' });
  }
  const ct = await j('/v1/map/cilium_ct4_global');
  for (const e of ct.cache) t.same(keys(e), ['key', 'value'], 'uncached map dumped from the kernel: key and value only (1.16)');

  const eps = await j('/v1/endpoint');
  t.ok(Array.isArray(eps) && eps.length === 3, 'host, health and netpod');
  for (const ep of eps) {
    t.same(keys(ep), ['id', 'spec', 'status'], 'Endpoint {id, spec, status}');
    t.type(ep.id, 'number');
    const st = ep.status;
    for (const k of keys(st)) t.ok(['external-identifiers', 'health', 'identity', 'labels', 'networking', 'policy', 'state', 'controllers', 'log', 'namedPorts', 'realized'].includes(k), `EndpointStatus key ${k}`);
    t.equal(st.state, 'ready');
    t.same(keys(st.identity), ['id', 'labels', 'labelsSHA256']);
    t.match(st.identity.labelsSHA256, /^[0-9a-f]{64}$/);
    t.same(keys(st.health), sorted('bpf', 'policy', 'connected', 'overallHealth'));
    t.ok(Array.isArray(st.labels['security-relevant']));
    t.ok(Array.isArray(st.networking.addressing), 'EndpointNetworking.addressing (no omitempty)');
    for (const k of keys(st.networking)) t.ok(['addressing', 'host-addressing', 'host-mac', 'interface-index', 'interface-name', 'mac'].includes(k), `EndpointNetworking key ${k}`);
    t.same(keys(st.policy), ['realized', 'spec']);
    t.match(st.policy.realized, { id: st.identity.id, 'policy-enabled': 'none' });
  }
  const netpod = eps.find((e: { status: { 'external-identifiers'?: { 'k8s-pod-name'?: string } } }) => e.status['external-identifiers']?.['k8s-pod-name'] === 'netpod');
  t.same(netpod.status['external-identifiers'], { 'k8s-namespace': 'default', 'k8s-pod-name': 'netpod', 'pod-name': 'default/netpod' });
  t.same(netpod.status.networking.addressing, [{ ipv4: '172.16.0.230' }]);
  t.match(netpod.status.networking, { 'interface-name': /^lxc[0-9a-f]{12}$/, 'interface-index': 10, mac: /^[0-9a-f:]{17}$/, 'host-mac': /^[0-9a-f:]{17}$/ });
  t.same(await j(`/v1/endpoint/${netpod.id}`), netpod, 'GET /endpoint/{id}');
  t.same(await j('/v1/endpoint/pod-name:default%2Fnetpod'), netpod, 'GET /endpoint/pod-name:NS/NAME');

  const ids = await j('/v1/identity');
  for (const id of ids) t.same(keys(id), ['id', 'labels', 'labelsSHA256'], 'Identity');
  t.same((await j('/v1/identity/2')).labels, ['reserved:world']);
  t.same((await j(`/v1/identity/${netpod.status.identity.id}`)).labels, netpod.status.identity.labels, 'the endpoint\'s identity');

  const ips = await j('/v1/ip');
  for (const e of ips) {
    for (const k of keys(e)) t.ok(['cidr', 'identity', 'hostIP', 'encryptKey', 'metadata'].includes(k), `IPListEntry key ${k}`);
    t.type(e.cidr, 'string'); t.type(e.identity, 'number');
  }
  const webpod1 = ips.find((e: { cidr: string }) => e.cidr === '172.16.1.111/32');
  t.match(webpod1, { hostIP: '192.168.10.101', metadata: { source: 'custom-resource', namespace: 'default', name: 'webpod1' } }, 'remote pod: tunnel endpoint is its node');
  t.equal(ips.find((e: { cidr: string }) => e.cidr === '172.16.0.230/32').identity, netpod.status.identity.id, 'ip list identity = endpoint identity');
  t.same((await j('/v1/ip?cidr=172.16.2.0/24')).map((e: { cidr: string }) => e.cidr), ['172.16.2.73/32', '172.16.2.116/32', '172.16.2.180/32'], '?cidr= filters by prefix');

  const svcs = await j('/v1/service');
  for (const s of svcs) {
    t.same(keys(s), ['spec', 'status']);
    t.same(s.status.realized, s.spec);
    t.same(keys(s.spec['frontend-address']), sorted('ip', 'port', 'protocol', 'scope'));
    t.ok(['external', 'internal'].includes(s.spec['frontend-address'].scope));
    for (const b of s.spec['backend-addresses']) { t.type(b.ip, 'string'); t.ok(['active', 'terminating', 'quarantined', 'maintenance'].includes(b.state)); }
  }
  const dns = svcs.find((s: { spec: { flags: { name?: string }; 'frontend-address': { protocol: string } } }) => s.spec.flags.name === 'kube-dns' && s.spec['frontend-address'].protocol === 'UDP');
  t.match(dns.spec, { 'frontend-address': { ip: '10.96.0.10', port: 53 }, flags: { type: 'ClusterIP', namespace: 'kube-system' } });
  t.same(await j(`/v1/service/${dns.spec.id}`), dns);

  const nodes = await j('/v1/cluster/nodes');
  t.match(nodes, { self: /^default\/k8s-/ });
  t.same(nodes.nodes.map((n: { name: string }) => n.name), ['default/k8s-s', 'default/k8s-w1', 'default/k8s-w2']);
  for (const n of nodes.nodes) t.same(keys(n['primary-address']), ['ipv4', 'ipv6']);
  t.same(keys(await j('/v1/policy')), ['policy', 'revision']);
  const cfg = await j('/v1/config');
  t.same(keys(cfg), ['spec', 'status']);
  t.match(cfg.status, { datapathMode: 'veth', 'ipam-mode': 'cluster-pool', masquerade: true, nodeMonitor: { cpus: 2, npages: 64, pagesize: 4096 } });
  const hz = await j('/v1/healthz');
  for (const k of ['cilium', 'kubernetes', 'kvstore', 'ipam', 'proxy', 'hubble', 'identity-range', 'kube-proxy-replacement', 'masquerading', 'routing', 'nodeMonitor', 'cluster'])
    t.ok(k in hz, `StatusResponse has ${k}`);
  t.same(hz['identity-range'], { 'min-identity': 256, 'max-identity': 65535 });
  t.match(hz.cilium, { state: 'Ok', msg: /^1\.16\.3 / });
}

t.test('per-node listeners: TCP port base and unix sockets, Cilium paths at the root', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-agent-'));
  const l = await startAgentListeners(c, { portBase: 0, socketDir: dir });
  t.teardown(async () => { await l.close(); rmSync(dir, { recursive: true, force: true }); });
  t.same(l.listeners.map((x) => [x.node, x.url.startsWith('unix:') ? x.url.slice(dir.length + 5) : 'tcp']),
    [['k8s-s', 'tcp'], ['k8s-s', '/k8s-s.sock'], ['k8s-w1', 'tcp'], ['k8s-w1', '/k8s-w1.sock'], ['k8s-w2', 'tcp'], ['k8s-w2', '/k8s-w2.sock']]);
  const tcp = l.listeners.find((x) => x.node === 'k8s-s' && !x.url.startsWith('unix:'))!.url;
  const sock = l.listeners.find((x) => x.node === 'k8s-s' && x.url.startsWith('unix:'))!.url;
  await t.test('over TCP', (t) => checkShapes(t, tcp));
  await t.test('over the unix socket', (t) => checkShapes(t, sock));
  const w2 = await get(l.listeners.find((x) => x.node === 'k8s-w2' && x.url.startsWith('unix:'))!.url, '/v1/cluster/nodes');
  t.equal(JSON.parse(w2.text).self, 'default/k8s-w2', 'each socket is its own node\'s agent');
});

t.test('main server: /nodes/{node}/v1 and the 404/400 table', async (t) => {
  const app = buildApp(c);
  t.teardown(() => app.close());
  const cases: Array<[string, number, object]> = [
    ['/nodes/nope/v1/healthz', 404, { error: 'node "nope" not found', field: 'node' }],
    ['/nodes/k8s-s/v1/map/cilium_nope', 404, { error: 'Map not found', field: 'name' }],
    ['/nodes/k8s-s/v1/map/cilium_nope/events', 404, { error: 'Map not found', field: 'name' }],
    ['/nodes/k8s-s/v1/endpoint/4096', 404, { error: 'Endpoint not found', field: 'id' }],
    ['/nodes/k8s-s/v1/endpoint/12ab', 400, { field: 'id' }],
    ['/nodes/k8s-s/v1/endpoint/pod-name:default%2Fnope', 404, { error: 'Endpoint not found' }],
    ['/nodes/k8s-s/v1/identity/99999', 404, { error: 'Identity not found', field: 'id' }],
    ['/nodes/k8s-s/v1/identity/-1', 400, { field: 'id' }],
    ['/nodes/k8s-s/v1/identity/99999999999', 400, { field: 'id' }],
    ['/nodes/k8s-s/v1/ip?cidr=10.0.0.0/33', 400, { field: 'cidr' }],
    ['/nodes/k8s-s/v1/ip?cidr=172.16.0.256', 400, { field: 'cidr' }],
    ['/nodes/k8s-s/v1/ip?cidr=8.8.8.0/24', 404, { error: 'No IP cache entries with given parameters' }],
    ['/nodes/k8s-s/v1/service/x', 400, { field: 'id' }],
    ['/nodes/k8s-s/v1/service/4242', 404, { error: 'Service not found' }],
    ['/nodes/k8s-s/v1/nothing', 404, {}],
    ['/nodes/k8s-s/map/cilium_nope/watch', 404, { error: 'Map not found' }],
    ['/nodes/k8s-s/map/cilium_lxc/watch', 426, { error: /WebSocket/ }],
  ];
  for (const [url, status, body] of cases) {
    const r = await app.inject({ method: 'GET', url });
    t.equal(r.statusCode, status, url);
    const b = r.json();
    t.type(b.error, 'string', `${url}: {error}`);
    t.match(b, body, url);
  }
  const ok = await app.inject({ method: 'GET', url: '/nodes/k8s-w1/v1/cluster/nodes' });
  t.equal(ok.json().self, 'default/k8s-w1');
});

t.test('map events: the buffer, then follow streams each update as newline-delimited MapEvent JSON', async (t) => {
  const app = buildApp(c);
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const once = await get(base, '/nodes/k8s-s/v1/map/cilium_lxc/events');
  const events = once.text.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(events.length >= 2, 'the endpoints written at start-up are in the buffer');
  for (const e of events) {
    t.same(keys(e), sorted('action', 'desired-action', 'key', 'value', 'timestamp'), 'MapEvent');
    t.match(e, { action: 'update', 'desired-action': 'sync', timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ });
  }
  const lines: string[] = [];
  const ctl = new AbortController();
  const res = await fetch(`${base}/nodes/k8s-s/v1/map/cilium_ipcache/events?follow=true`, { signal: ctl.signal });
  t.equal(res.status, 200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const agent = ciliumOf(c.cni)!.agent('k8s-s');
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
      if (lines.some((l) => l.includes('10.77.0.0/16'))) return;
    }
  })();
  await new Promise((r) => setTimeout(r, 50));
  const before = lines.length;
  agent.upsertIpcache(0x0a4d0000, 16, 2, 0);
  agent.deleteIpcache(0x0a4d0000, 16);
  await done;
  ctl.abort();
  const mine = lines.slice(before).map((l) => JSON.parse(l)).filter((e) => e.key === '10.77.0.0/16');
  t.match(mine[0], { action: 'update', key: '10.77.0.0/16', value: /^identity=2 encryptkey=0 tunnelendpoint=0\.0\.0\.0/ });
});

t.test('map watch WebSocket: every CT update as traffic runs, decoded and raw', async (t) => {
  const app = buildApp(c);
  t.teardown(() => app.close());
  await app.ready();
  const msgs: Array<Record<string, string>> = [];
  const ws = await app.injectWS('/nodes/k8s-s/map/cilium_ct4_global/watch', {}, { onInit: (w) => { w.on('message', (d: Buffer) => msgs.push(JSON.parse(d.toString()))); } });
  const r = await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'curl', '-s', '172.16.1.111']));
  t.equal(r.exitCode, 0);
  await new Promise((res) => setTimeout(res, 20));
  ws.terminate();
  t.ok(msgs.length >= 1, `${msgs.length} messages`);
  const m = msgs.find((x) => x.key?.includes('172.16.1.111:80'))!;
  t.ok(m, 'the connection to webpod1:80');
  t.same(keys(m), sorted('time', 'action', 'key', 'value', 'keyBytes', 'valueBytes'));
  t.match(m, { action: 'update', key: /^TCP OUT 172\.16\.0\.230:\d+ -> 172\.16\.1\.111:80 $/, value: /^expires=\d+ /, keyBytes: /^[0-9a-f]{28}$/, valueBytes: /^[0-9a-f]{112}$/ });
  // ipv4_ct_tuple as stored: daddr, saddr in network order, holding the addresses swapped (the dump swaps them back).
  t.equal(m.keyBytes!.slice(0, 16), 'ac1000e6ac10016f', 'raw key bytes: 172.16.0.230 in daddr, 172.16.1.111 in saddr');
});

t.test('a follower that stops reading loses events, counted in a {"lost":N} line; nothing piles up', async (t) => {
  const app = buildApp(c, { streams: { bufferBytes: 1024 } });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const agent = ciliumOf(c.cni)!.agent('k8s-s');
  const N = 5_000;
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/nodes/k8s-s/v1/map/cilium_ipcache/events?follow=true' }, (res) => {
      res.pause();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
        if (lines.some((l) => l.startsWith('{"lost"')) && lines.some((l) => l.includes('10.88.'))) { req.destroy(); resolve(); }
      });
      // The burst arrives while the reader sleeps; it reads again afterwards.
      setTimeout(() => {
        for (let i = 0; i < N; i++) agent.upsertIpcache((0x0a580000 + i) >>> 0, 32, 2, 0);
        setTimeout(() => res.resume(), 100);
      }, 50);
    });
    req.on('error', (e) => { if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e); });
    req.end();
  });
  for (let i = 0; i < N; i++) agent.deleteIpcache((0x0a580000 + i) >>> 0, 32);
  const lost = lines.filter((l) => l.startsWith('{"lost"')).reduce((n, l) => n + (JSON.parse(l) as { lost: number }).lost, 0);
  const got = lines.filter((l) => l.includes('"10.88.')).length;
  t.ok(lost > N / 2, `${lost} of ${N} lost while the reader slept`);
  t.ok(got >= 1, `${got} delivered`);
  t.ok(got + lost <= N, 'each event either delivered or counted');
});

t.test('/bpf: bpftool\'s JSON of programs, links, maps and a map\'s entries; ids agree across them', async (t) => {
  const app = buildApp(c);
  t.teardown(() => app.close());
  const j = async (url: string, status = 200) => { const r = await app.inject({ method: 'GET', url }); t.equal(r.statusCode, status, url); return r.json(); };
  const progs = await j('/nodes/k8s-s/bpf/prog') as Array<{ id: number; name: string; map_ids?: number[] }>;
  const maps = await j('/nodes/k8s-s/bpf/map') as Array<{ id: number; name: string }>;
  const links = await j('/nodes/k8s-s/bpf/link') as Array<{ id: number; prog_id: number }>;
  const net = await j('/nodes/k8s-s/bpf/net') as Array<{ tc: Array<{ prog_id: number; name: string }> }>;
  const progIds = new Set(progs.map((p) => p.id)), mapIds = new Set(maps.map((m) => m.id));
  for (const e of net[0]!.tc) t.ok(progIds.has(e.prog_id), `net show ${e.name} prog ${e.prog_id} is in prog show`);
  for (const l of links) t.ok(progIds.has(l.prog_id), `link ${l.id}'s prog ${l.prog_id} exists`);
  for (const p of progs) for (const id of p.map_ids ?? []) t.ok(mapIds.has(id), `prog ${p.id}'s map ${id} is in map list`);
  const lxc = maps.find((m) => m.name === 'cilium_lxc')!;
  t.match(await j(`/nodes/k8s-s/bpf/map/${lxc.id}`), { id: lxc.id, name: 'cilium_lxc', type: 'hash' });
  const dump = await j(`/nodes/k8s-s/bpf/map/${lxc.id}/dump`) as Array<{ key: string[]; value: string[] }>;
  t.equal(dump.length, 4, 'the raw entries: two endpoints, two host addresses');
  t.equal(dump[0]!.key.length, 20, 'endpoint_key bytes');
  t.match(await j('/nodes/k8s-s/bpf/prog/99999', 404), { error: /99999/ });
  t.match(await j('/nodes/k8s-s/bpf/map/abc', 404), { error: /no route/ });
});

t.test('dplab serve --agent-port-base/--agent-sockets: launched with the server, closed with it; a base too high is refused', async (t) => {
  const { launchServer } = await import('../src/api/launch.ts');
  const dir = mkdtempSync(join(tmpdir(), 'dplab-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await launchServer({ lab: 'cilium', seed: 1, ephemeral: true, port: 0, clock: 'fast', agentPortBase: 0, agentSockets: dir });
  t.equal(s.agentListeners.length, 6, 'three nodes, TCP and unix each');
  const sock = s.agentListeners.find((l) => l.node === 'k8s-w2' && l.url.startsWith('unix:'))!.url;
  const r = await get(sock, '/v1/healthz');
  t.equal(r.status, 200);
  t.match(JSON.parse(r.text), { cilium: { state: 'Ok' } });
  await s.close();
  await t.rejects(get(sock, '/v1/healthz'), 'closed with the server');
  await t.rejects(launchServer({ lab: 'cilium', seed: 1, ephemeral: true, port: 0, clock: 'fast', agentPortBase: 65534 }),
    /--agent-port-base 65534: node k8s-w2 \(number 2\) would need port 65536, above 65535/);
});

t.test('a map watch reader that stops reading loses messages, reported as {"lost":N} once it reads again', async (t) => {
  const { default: WebSocket } = await import('ws');
  const app = buildApp(c, { streams: { bufferBytes: 1024 } });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/nodes/k8s-s/map/cilium_ipcache/watch`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const msgs: string[] = [];
  ws.on('message', (d: Buffer) => msgs.push(d.toString()));
  (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const agent = ciliumOf(c.cni)!.agent('k8s-s');
  // More than the loopback socket buffers hold (~250 bytes a message), so the server's own budget is what fills.
  const N = 60_000;
  for (let i = 0; i < N; i++) agent.upsertIpcache((0x0a590000 + i) >>> 0, 32, 2, 0);
  await new Promise((r) => setTimeout(r, 100));
  (ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const deadline = Date.now() + 10_000;
  while (!msgs.some((m) => m.startsWith('{"lost"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  ws.close();
  for (let i = 0; i < N; i++) agent.deleteIpcache((0x0a590000 + i) >>> 0, 32);
  const lost = msgs.filter((m) => m.startsWith('{"lost"')).reduce((n, m) => n + (JSON.parse(m) as { lost: number }).lost, 0);
  const got = msgs.filter((m) => m.includes('"10.89.')).length;
  t.ok(lost > 0, `${lost} lost, ${got} delivered`);
  t.ok(got + lost <= N, 'each update delivered or counted');
});
