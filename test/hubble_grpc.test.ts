// Hubble's gRPC API served for the seed lab, read by a client built from our
// protos with @grpc/proto-loader (as any Hubble client would build one):
// the flows' fields, filters, --last N, follow and its cancellation, the
// stream slots, lost events for a reader that falls a ring behind, the health
// service `hubble status` needs, ServerStatus / GetNodes / GetNamespaces, and
// server reflection as grpcurl uses it.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { StreamRegistry, streamLimits } from '../src/api/stream_limits.ts';
import { startHubbleGrpc, type HubbleGrpcServer } from '../src/grpc/server.ts';
import { NodeObserver } from '../src/hubble/observer.ts';
import { PROTO_DIR, PROTO_FILES, type FlowObject, type GetFlowsRequestObject, type GetFlowsResponseObject } from '../src/hubble/proto.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const WEBPOD2 = '172.16.2.180';
const LOADER = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [PROTO_DIR] };

type Resp = Record<string, unknown> & { flow?: Record<string, any>; lost_events?: Record<string, any>; node_name?: string; time?: unknown };
interface ObserverClient extends grpc.Client {
  GetFlows(req: object, md?: grpc.Metadata): grpc.ClientReadableStream<Resp>;
  ServerStatus(req: object, cb: (e: grpc.ServiceError | null, r: any) => void): void;
  GetNodes(req: object, cb: (e: grpc.ServiceError | null, r: any) => void): void;
  GetNamespaces(req: object, cb: (e: grpc.ServiceError | null, r: any) => void): void;
  GetAgentEvents(req: object): grpc.ClientReadableStream<unknown>;
}

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync([...PROTO_FILES], LOADER)) as any;
const Observer = pkg.observer.Observer as new (addr: string, creds: grpc.ChannelCredentials) => ObserverClient;
const client = (s: HubbleGrpcServer) => new Observer(s.address, grpc.credentials.createInsecure());

/** Every response of a (non-follow) GetFlows, or the error that ended it. */
function collect(c: ObserverClient, req: object): Promise<Resp[]> {
  return new Promise((resolve, reject) => {
    const out: Resp[] = [];
    const call = c.GetFlows(req);
    call.on('data', (r: Resp) => out.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}
const unary = <T>(fn: (cb: (e: grpc.ServiceError | null, r?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as T))));

/** The service's own answer, for comparison with what crossed the wire. */
async function direct(svc: { getFlows: NodeObserver['getFlows'] }, req: GetFlowsRequestObject): Promise<GetFlowsResponseObject[]> {
  const out: GetFlowsResponseObject[] = [];
  await svc.getFlows(req, (r) => { out.push(r); }, new AbortController().signal);
  return out;
}

const lab = seedLab();
t.teardown(() => lab.close());
const registry = new StreamRegistry(streamLimits({ maxStreams: 4, maxPerClient: 2 }));
let server: HubbleGrpcServer;
let c: ObserverClient;

t.before(async () => {
  for (const cmd of [`ping -c 1 ${WEBPOD2}`, `curl -s ${WEBPOD2}`, `curl -s ${WEBPOD2}:8080`]) { await inPod(lab, 'netpod', cmd.split(' ')); await drain(lab); }
  server = await startHubbleGrpc(lab.hubble()!, { port: 0, admission: registry });
  c = client(server);
});
t.teardown(async () => { c.close(); await server.close(); });

t.test('flows carry Hubble\'s fields, and each response its node and time', async (t) => {
  const rs = await collect(c, { number: 1000 });
  const flows = rs.filter((r) => r.flow);
  t.ok(flows.length > 20, `${flows.length} flows`);
  const syn = flows.find((r) => r.flow!.l4?.TCP?.destination_port === 80 && r.flow!.l4.TCP.flags?.SYN && !r.flow!.l4.TCP.flags.ACK && r.flow!.event_type?.sub_type === undefined)!;
  t.match(syn.flow, {
    time: { seconds: /^\d+$/ }, uuid: /^[0-9a-f-]{36}$/, verdict: 'FORWARDED', Type: 'L3_L4', node_name: 'default/k8s-w2',
    IP: { source: '172.16.0.230', destination: WEBPOD2, ipVersion: 'IPv4' },
    l4: { TCP: { destination_port: 80, flags: { SYN: true } } },
    source: { namespace: 'default', pod_name: 'netpod', identity: Number }, destination: { namespace: 'default', pod_name: 'webpod2', ID: Number },
    event_type: { type: 4 }, trace_observation_point: 'TO_ENDPOINT', is_reply: {}, Summary: 'TCP Flags: SYN',
  }, 'the SYN delivered to webpod2');
  t.equal(syn.flow!.is_reply.value, undefined, 'is_reply present and false (a default inside the wrapper)');
  t.equal(syn.response_types, 'flow', 'the oneof holds the flow');
  for (const r of flows) {
    t.equal(r.node_name, r.flow!.node_name, 'response node_name is the flow\'s');
    t.same(r.time, r.flow!.time, 'response time is the flow\'s');
  }
  t.equal(flows.length, (await direct(lab.hubble()!, { number: 1000 })).filter((r) => r.flow).length, 'all the service has, nothing else');
});

t.test('filters, --last N and --first N cross the wire intact', async (t) => {
  const uuids = (rs: Array<{ flow?: { uuid?: string } }>) => rs.flatMap((r) => (r.flow ? [r.flow.uuid] : []));
  const cases: Array<[string, GetFlowsRequestObject]> = [
    ['--pod webpod2', { number: 1000, whitelist: [{ source_pod: ['webpod2'] }, { destination_pod: ['webpod2'] }] }],
    ['--to-port 8080 --tcp-flags syn', { number: 1000, whitelist: [{ destination_port: ['8080'], tcp_flags: [{ SYN: true }] }] }],
    ['--type trace:to-network', { number: 1000, whitelist: [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 11 }] }] }],
    ['--type trace-sock --not --protocol tcp', { number: 1000, whitelist: [{ event_type: [{ type: 7 }] }], blacklist: [{ protocol: ['tcp'] }] }],
    ['--verdict FORWARDED --node-name k8s-s', { number: 1000, whitelist: [{ verdict: [1], node_name: ['default/k8s-s'] }] }],
    ['--from-identity world (none)', { number: 1000, whitelist: [{ source_identity: [2] }] }],
    ['--last 3', { number: 3 }],
    ['--first 2', { number: 2, first: true }],
  ];
  for (const [name, req] of cases) {
    const wire = await collect(c, req);
    const want = await direct(lab.hubble()!, req);
    t.same(uuids(wire as never), uuids(want), `${name}: ${want.length} responses, as the service answers`);
  }
  const all = uuids(await direct(lab.hubble()!, { number: 1000 }));
  const last3 = uuids(await collect(c, { number: 3 }) as never);
  t.ok(last3.length > 3, `${last3.length} flows: the relay asks each node for its last 3, as hubble-relay does`);
  t.ok(last3.every((u) => all.includes(u)), 'and they are flows the full listing has');
  const ports = (await collect(c, { number: 1000, whitelist: [{ destination_port: ['8080'], tcp_flags: [{ SYN: true }] }] })).flatMap((r) => (r.flow ? [r.flow.l4.TCP.destination_port] : []));
  t.ok(ports.length > 0 && ports.every((p) => p === 8080), 'the filter holds: only SYNs to :8080');
});

t.test('a bad request is INVALID_ARGUMENT, an unserved method UNIMPLEMENTED', async (t) => {
  await t.rejects(collect(c, { whitelist: [{ source_ip: ['not-an-ip'] }] }), { code: grpc.status.INVALID_ARGUMENT, details: /not an IP address/ });
  await t.rejects(new Promise((resolve, reject) => { const s = c.GetAgentEvents({}); s.on('error', reject); s.on('end', resolve); s.on('data', () => {}); }),
    { code: grpc.status.UNIMPLEMENTED });
});

t.test('follow: history, then new flows as they come; a cancel frees the stream', async (t) => {
  const got: Resp[] = [];
  const call = c.GetFlows({ number: 1, follow: true, whitelist: [{ destination_pod: ['webpod2'] }] });
  call.on('data', (r: Resp) => got.push(r));
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => { call.on('error', resolve); call.on('end', () => resolve(undefined)); });
  const until = async (what: string, pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    t.ok(pred(), what);
  };
  await until('the history: the last matching flow of each node', () => got.length >= 1);
  t.equal(registry.open, 1, 'the stream holds a slot');
  const before = got.length;
  await inPod(lab, 'netpod', ['ping', '-c', '1', WEBPOD2]);
  await drain(lab);
  await until('the new echo request arrives', () => got.slice(before).some((r) => r.flow?.l4?.ICMPv4?.type === 8));
  t.ok(got.slice(before).every((r) => r.flow!.destination.pod_name === 'webpod2'), 'only matching flows follow');
  call.cancel();
  t.equal((await ended)?.code, grpc.status.CANCELLED);
  await until('the slot is free again', () => registry.open === 0);
});

t.test('stream slots: a client over its share is refused RESOURCE_EXHAUSTED', async (t) => {
  const calls = [c.GetFlows({ follow: true }), c.GetFlows({ follow: true })];
  for (const k of calls) { k.on('data', () => {}); k.on('error', () => {}); }
  for (let i = 0; i < 200 && registry.open < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(registry.open, 2);
  await t.rejects(collect(c, { number: 1 }), { code: grpc.status.RESOURCE_EXHAUSTED, details: /too many streams from 127\.0\.0\.1: 2 open/ });
  for (const k of calls) k.cancel();
  for (let i = 0; i < 200 && registry.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal((await collect(c, { number: 1 })).length, 3, 'admitted again once they are gone');
});

t.test('unary methods and the health service', async (t) => {
  const st = await unary<any>((cb) => c.ServerStatus({}, cb));
  t.match(st, { max_flows: String(3 * 4095), num_connected_nodes: { value: 3 }, num_unavailable_nodes: {} });
  t.ok(Number(st.num_flows) > 0 && Number(st.seen_flows) >= Number(st.num_flows), 'flows counted');
  const nodes = await unary<any>((cb) => c.GetNodes({}, cb));
  t.same(nodes.nodes.map((n: any) => [n.name, n.state]).sort(), [['default/k8s-s', 'NODE_CONNECTED'], ['default/k8s-w1', 'NODE_CONNECTED'], ['default/k8s-w2', 'NODE_CONNECTED']]);
  const ns = await unary<any>((cb) => c.GetNamespaces({}, cb));
  t.ok(ns.namespaces.some((n: any) => n.namespace === 'default'), 'default seen in the flows');

  // The standard health proto, as grpc-go's client (hubble status) speaks it.
  const { root } = protobuf.parse('syntax = "proto3"; package grpc.health.v1; message HealthCheckRequest { string service = 1; }'
    + ' message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }');
  const Req = root.lookupType('grpc.health.v1.HealthCheckRequest'), Res = root.lookupType('grpc.health.v1.HealthCheckResponse');
  const h = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => h.close());
  const check = (service: string) => unary<Record<string, unknown>>((cb) => h.makeUnaryRequest('/grpc.health.v1.Health/Check', (o: object) => Buffer.from(Req.encode(o).finish()),
    (b: Buffer) => Res.toObject(Res.decode(b), { enums: String, defaults: true }), { service }, cb));
  t.same(await check('hubble.server.Observer'), { status: 'SERVING' }, 'what hubble status asks');
  t.same(await check(''), { status: 'SERVING' }, 'the server as a whole');
  await t.rejects(check('nope'), { code: grpc.status.NOT_FOUND, details: 'unknown service' });
});

t.test('server reflection lists and describes the services', async (t) => {
  const r = grpc.loadPackageDefinition(protoLoader.loadSync(join(reflectionDir, 'grpc/reflection/v1alpha/reflection.proto'), { keepCase: true, defaults: false, oneofs: true })) as any;
  const rc = new r.grpc.reflection.v1alpha.ServerReflection(server.address, grpc.credentials.createInsecure());
  t.teardown(() => rc.close());
  const ask = (req: object): Promise<any> => new Promise((resolve, reject) => {
    const call = rc.ServerReflectionInfo();
    call.on('data', (d: any) => { resolve(d); call.end(); });
    call.on('error', reject);
    call.write(req);
  });
  const list = await ask({ list_services: '' });
  const names = list.list_services_response.service.map((s: { name: string }) => s.name);
  t.ok(names.includes('observer.Observer') && names.includes('grpc.health.v1.Health'), `services: ${names.join(', ')}`);
  const file = await ask({ file_containing_symbol: 'observer.Observer' });
  const fds = file.file_descriptor_response.file_descriptor_proto.map((b: Buffer) => (descriptor as any).FileDescriptorProto.decode(b));
  const svc = fds.flatMap((f: any) => f.service ?? []).find((s: any) => s.name === 'Observer');
  t.same(svc.method.map((m: any) => m.name).sort(), ['GetAgentEvents', 'GetDebugEvents', 'GetFlows', 'GetNamespaces', 'GetNodes', 'ServerStatus']);
  const flowMsg = fds.flatMap((f: any) => f.messageType ?? []).find((m: any) => m.name === 'GetFlowsRequest');
  t.match(flowMsg.field.find((f: any) => f.name === 'whitelist'), { number: 6, typeName: '.flow.FlowFilter' }, 'described down to field numbers, names fully qualified');
  const observerFile = fds.find((f: any) => f.package === 'observer');
  t.same([...observerFile.dependency].sort(), ['flow.proto', 'google_protobuf.proto', 'relay.proto'], 'each file lists its imports (strict clients resolve with them)');
  const flowFile = fds.find((f: any) => f.package === 'flow');
  t.ok(flowFile, 'the imports come along');
  t.same(flowFile.messageType.find((m: any) => m.name === 'Flow').reservedRange.map((r: any) => [r.start, r.end]), [[7, 8], [12, 13], [17, 18], [18, 19]], 'reserved ranges end exclusively');
});

t.test('a reader that falls a ring behind gets a LostEvent, then the flows after it', async (t) => {
  // One node's observer with a 7-flow ring and a hand-moved clock; the server may hold 1 KiB for a reader.
  const clock = { epochMs: Date.UTC(2024, 9, 21, 11, 10, 0), ns: 0, now() { return this.ns; } };
  const obs = new NodeObserver({ nodeName: 'default/n1', decode: () => null }, clock, { capacity: 7 });
  const s = await startHubbleGrpc(obs, { port: 0, bufferBytes: 1024 });
  const oc = client(s);
  t.teardown(async () => { oc.close(); await s.close(); });
  let n = 0;
  const record = (count: number) => {
    for (let i = 0; i < count; i++) {
      clock.ns += 1e6;
      const f: FlowObject = { time: { seconds: 1729509000 + Math.floor(clock.ns / 1e9), nanos: clock.ns % 1e9 }, uuid: `u${n}`, verdict: 1, Type: 1, node_name: 'default/n1',
        event_type: { type: 4, sub_type: 0 }, Summary: `#${n++} ${'x'.repeat(200)}` };
      obs.record(f);
    }
  };
  const got: Resp[] = [];
  const call = oc.GetFlows({ follow: true });
  call.on('data', (r: Resp) => got.push(r));
  call.on('error', () => {});
  call.pause();
  // While the client reads nothing, flows pile up: HTTP/2 windows fill, the server stops at its 1 KiB and the ring laps the reader.
  for (let round = 0; round < 40; round++) { record(500); await new Promise((r) => setTimeout(r, 5)); }
  call.resume();
  for (let i = 0; i < 500 && !got.some((r) => r.lost_events); i++) await new Promise((r) => setTimeout(r, 10));
  const lost = got.find((r) => r.lost_events);
  t.ok(lost, 'a LostEvent arrived');
  t.match(lost?.lost_events, { source: 'HUBBLE_RING_BUFFER', num_events_lost: /^[1-9]\d*$/ }, 'counted as Hubble counts a lapped reader');
  const seqs = got.flatMap((r) => (r.flow ? [Number(/^#(\d+)/.exec(r.flow.Summary)![1])] : []));
  t.ok(seqs.every((v, i) => i === 0 || v > seqs[i - 1]!), 'flows stay in order around the gap');
  t.ok(seqs.length < n, `${n - seqs.length} of ${n} flows were not delivered`);
  call.cancel();
});

const reflectionDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
