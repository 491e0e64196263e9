// One node's agent API as a NodeApi (src/datapath): Cilium's `/v1` paths with
// their go-swagger JSON, and dplab's live map watch. Errors answer `{error,
// field}` with Cilium's response texts (api/v1/openapi.yaml descriptions).

import type { NodeApi, NodeApiAnswer, NodeApiRequest } from '../../datapath/contract.ts';
import type { BpfMap } from '../../bpf/map.ts';
import { formatFor } from '../../../maps/all.ts';
import type { CiliumCluster } from '../control.ts';
import { endpointList, endpointModel, findEndpoint, identityList, identityModel } from './endpoints.ts';
import { clusterNodes, configModel, policyModel, statusModel } from './info.ts';
import { ipList, parseCidr } from './ipcache.ts';
import { agentMap, mapListModel, mapModelJson } from './maps.ts';
import { dateTime, mapEvent, mapEventBuffer } from './map_events.ts';
import { explainMap } from './explain.ts';
import { serviceList } from './services.ts';

/** What the API reads besides the agents: the wall clock (event times, status) and bpf_ktime (CT lifetimes). */
export interface ApiClock { wallMs(): number; nowNs(): number }

const ok = (body: unknown): NodeApiAnswer => ({ status: 200, body });
const fail = (status: number, error: string, field?: string): NodeApiAnswer => ({ status, body: field ? { error, field } : { error } });

const bool = (v: string | undefined) => v === 'true' || v === '1';

/** A user-given integer id: digits only, within u32 (Cilium's identity and service ids). */
function intId(s: string): number | undefined { return /^\d{1,10}$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined; }

/** Builds node's API. */
export function agentApi(ctl: CiliumCluster, node: string, clock: ApiClock): NodeApi {
  return (req) => {
    try { return route(ctl, node, clock, req); } catch (e) {
      if (e instanceof RangeError) return fail(400, e.message);
      throw e;
    }
  };
}

function route(ctl: CiliumCluster, node: string, clock: ApiClock, { path, query }: NodeApiRequest): NodeApiAnswer {
  const a = ctl.agent(node);
  const p = path.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  const [root, what, arg, sub] = p;
  if (root === 'map' && what !== undefined && arg === 'watch' && p.length === 3) {
    const m = agentMap(a, what);
    return m ? { status: 200, stream: (send) => watchMap(m, clock, send) } : fail(404, 'Map not found', 'name');
  }
  if (root !== 'v1') return fail(404, `no route GET ${path}`);
  switch (what) {
    case 'healthz': if (p.length === 2) return ok(statusModel(ctl, node, clock.wallMs())); break;
    case 'config': if (p.length === 2) return ok(configModel(ctl, node)); break;
    case 'policy': if (p.length === 2) return ok(policyModel()); break;
    case 'cluster': if (arg === 'nodes' && p.length === 3) return ok(clusterNodes(ctl, node)); break;
    case 'map': {
      if (p.length === 2) return ok(mapListModel(a));
      const m = agentMap(a, arg!);
      if (!m) return fail(404, 'Map not found', 'name');
      if (p.length === 3) return bool(query.explain) ? ok(explainMap(ctl, node, m, clock)) : { status: 200, json: mapModelJson(m) };
      if (sub === 'events' && p.length === 4) return mapEvents(a, m, bool(query.follow), clock);
      break;
    }
    case 'endpoint': {
      if (p.length === 2) return ok(endpointList(ctl, node));
      if (p.length !== 3) break;
      let ep;
      try { ep = findEndpoint(ctl, node, arg!); } catch (e) { return fail(400, `Invalid endpoint ID format for specified type: ${(e as Error).message}`, 'id'); }
      return ep ? ok(endpointModel(ctl, node, ep)) : fail(404, 'Endpoint not found', 'id');
    }
    case 'identity': {
      if (p.length === 2) return ok(identityList(ctl, node));
      if (p.length !== 3) break;
      const id = intId(arg!);
      if (id === undefined) return fail(400, `Invalid identity provided: "${arg}" is not a numeric identity`, 'id');
      const labels = ctl.identityLabels(node, id);
      return labels ? ok(identityModel(id, labels)) : fail(404, 'Identity not found', 'id');
    }
    case 'ip': {
      if (p.length !== 2) break;
      let cidr;
      if (query.cidr !== undefined) {
        try { cidr = parseCidr(query.cidr); } catch (e) { return fail(400, `Invalid request (error parsing parameters): ${(e as Error).message}`, 'cidr'); }
      }
      const rows = ipList(ctl, node, cidr);
      return cidr && rows.length === 0 ? fail(404, 'No IP cache entries with given parameters', 'cidr') : ok(rows);
    }
    case 'service': {
      if (p.length === 2) return ok(serviceList(ctl, node));
      if (p.length !== 3) break;
      const id = intId(arg!);
      if (id === undefined) return fail(400, `Invalid service ID "${arg}": want a number`, 'id');
      const s = serviceList(ctl, node).find((x) => x.spec.id === id);
      return s ? ok(s) : fail(404, 'Service not found', 'id');
    }
  }
  return fail(404, `no route GET ${path}`);
}

/**
 * GET /v1/map/{name}/events: the buffered MapEvents, then (follow) each new
 * one. Maps Cilium keeps no buffer for have no history; dplab still follows
 * them live (Cilium sends nothing for those).
 */
function mapEvents(owner: object, m: BpfMap, follow: boolean, clock: ApiClock): NodeApiAnswer {
  const buf = mapEventBuffer(owner, m);
  const f = formatFor(m.spec.name)!;
  return {
    status: 200,
    stream: (send, end) => {
      for (const e of buf?.events() ?? []) send(e);
      if (!follow) { end(); return () => {}; }
      if (buf) return buf.follow((e) => send(() => mapEvent(f, e)));
      return m.watch?.((change, key, value) => {
        const e = { change, key: key.slice(), value: value?.slice(), wallMs: clock.wallMs() };
        send(() => mapEvent(f, e));
      }) ?? (() => {});
    },
  };
}

/** dplab's map watch message: one per update or delete, decoded and raw. */
export interface WatchMessage { time: string; action: 'update' | 'delete'; key: string; value: string; keyBytes: string; valueBytes: string }

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') : '');

/**
 * Follows every change of a map. The message is built when it is sent: a
 * closure over copies of the bytes, so a skipped message costs two copies.
 */
function watchMap(m: BpfMap, clock: ApiClock, send: (msg: unknown) => void): () => void {
  const f = formatFor(m.spec.name)!;
  return m.watch?.((change, key, value) => {
    const k = key.slice(), v = value?.slice(), t = clock.wallMs();
    send(() => ({ time: dateTime(t), action: change, key: f.key(k), value: v ? f.value(v) : '', keyBytes: hex(k), valueBytes: hex(v) } satisfies WatchMessage));
  }) ?? (() => {});
}
