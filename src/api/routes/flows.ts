// WebSocket /v1/flows: Hubble's GetFlows for browsers. The query takes the
// `hubble observe` flags by name (pod=netpod, to-port=80, verdict=DROPPED,
// not.port=53 for --not --port 53, follow, last, first, all, since, until,
// allowlist, denylist), parsed by the hubble CLI's own flag code, so filters,
// defaults (the last 20 flows) and messages are the CLI's. Each frame is one
// GetFlowsResponse: binary, gRPC-framed (flag byte 0, 4-byte big-endian
// length, protobuf), or with ?format=json a text frame of protojson as
// `hubble observe -o json` prints it. A non-follow stream closes (1000) after
// its last flow. Streams are bounded as the other streams (../stream_limits.ts);
// a reader that falls behind makes the observer wait, and once the ring
// overtakes it, it gets a lost_events frame, as Hubble's readers do.

import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError } from '../../cluster/facade.ts';
import { HubbleUsageError, parseHubbleArgs } from '../../hubble/cli/command.ts';
import { HubbleError } from '../../hubble/errors.ts';
import { encodeMessage } from '../../hubble/printer/protojson.ts';
import { GetFlowsResponse, type GetFlowsRequestObject, type GetFlowsResponseObject } from '../../hubble/proto.ts';
import type { HubbleService } from '../../hubble/service.ts';
import { refuseStream } from '../errors.ts';
import { WaitingSender, type StreamRegistry } from '../stream_limits.ts';
import type { RouteOptions } from './options.ts';

export interface FlowRouteOptions extends RouteOptions { registry: StreamRegistry }

/** Query keys that are `hubble observe` switches (no value). */
const SWITCHES = new Set(['follow', 'all', 'ipv4', 'ipv6']);
/** Query keys that are not flags. */
const OWN = new Set(['format']);
/** Flags a query may not give: they choose output or a server, which the route decides. */
const REFUSED = new Set(['output', 'o', 'server', 'timeout', 'print-raw-filters', 'print-node-name', 'time-format', 'numeric', 'ip-translation', 'color', 'silent-errors', 'not', 'help']);

/** The query (in its order) as `hubble observe` arguments. */
export function queryArgv(search: URLSearchParams): string[] {
  const argv = ['observe'];
  for (const [key, value] of search) {
    if (OWN.has(key)) continue;
    const not = key.startsWith('not.');
    const flag = not ? key.slice(4) : key;
    if (!/^[a-z][a-z0-9-]*$/.test(flag) || REFUSED.has(flag)) throw new ClusterError(`unknown query parameter "${key}"`, 400, key);
    if (SWITCHES.has(flag)) {
      if (value !== '' && value !== 'true' && value !== 'false') throw new ClusterError(`query parameter "${key}" is true or false, not "${value}"`, 400, key);
      if (value === 'false') continue;
      argv.push(...(not ? ['--not'] : []), `--${flag}`);
    } else argv.push(...(not ? ['--not'] : []), `--${flag}`, value);
  }
  return argv;
}

/** The GetFlowsRequest a query asks for; a ClusterError 400 with the hubble CLI's message otherwise. */
export function flowsRequest(search: URLSearchParams, nowMs: number): GetFlowsRequestObject {
  let inv;
  try { inv = parseHubbleArgs(queryArgv(search), { nowMs }); } catch (e) {
    if (e instanceof HubbleUsageError) throw new ClusterError(e.message.replace(/^unknown flag: --(.*)$/, 'unknown query parameter "$1"'), 400);
    throw e;
  }
  if (inv.cmd !== 'observe') throw new ClusterError('not a flows query', 400);
  return inv.request;
}

/** One binary frame: a GetFlowsResponse with gRPC's 5-byte message prefix. */
export function grpcFrame(resp: GetFlowsResponseObject): Uint8Array {
  const body = GetFlowsResponse.encode(resp as unknown as Record<string, unknown>).finish();
  const out = new Uint8Array(5 + body.byteLength);
  new DataView(out.buffer).setUint32(1, body.byteLength);
  out.set(body, 5);
  return out;
}

const HTTP_OF: Record<string, number> = { INVALID_ARGUMENT: 400, UNIMPLEMENTED: 501, UNAVAILABLE: 503 };

/** A Hubble error as the stream's refusal: its HTTP status in the close code. */
function refuse(socket: WebSocket, err: unknown): void {
  refuseStream(socket, err instanceof HubbleError ? new ClusterError(err.message, HTTP_OF[err.code] ?? 500) : err);
}

/** Sends each response; past `budget` unsent bytes the returned promise holds the observer back until the socket drains. */
function sender(socket: WebSocket, budget: number, json: boolean): (r: GetFlowsResponseObject) => Promise<void> | void {
  const out = new WaitingSender(socket, budget);
  return (r) => out.send(json ? encodeMessage(GetFlowsResponse, r as unknown as Record<string, unknown>) : grpcFrame(r));
}

export const flowRoutes: FastifyPluginAsync<FlowRouteOptions> = async (app, { cluster, registry }) => {
  app.get('/v1/flows', { websocket: true }, (socket, req) => {
    let release: (() => void) | undefined;
    let hubble: HubbleService | undefined;
    let request: GetFlowsRequestObject;
    const search = new URL(req.url, 'http://x').searchParams;
    const format = search.get('format') ?? 'binary';
    try {
      if (format !== 'binary' && format !== 'json') throw new ClusterError(`format is binary or json, not "${format}"`, 400, 'format');
      request = flowsRequest(search, Date.now());
      hubble = cluster.hubble?.();
      if (!hubble) throw new ClusterError('this cluster has no Hubble (its datapath is not Cilium)', 501);
      release = registry.admit(req.ip);
    } catch (err) { refuse(socket, err); return; }
    const ac = new AbortController();
    const end = (): void => { ac.abort(); release?.(); release = undefined; };
    socket.once('close', end);
    socket.once('error', end);
    socket.on('message', () => {});
    const svc = hubble;
    Promise.resolve().then(() => svc.getFlows(request, sender(socket, registry.limits.bufferBytes, format === 'json'), ac.signal)).then(
      () => { end(); if (socket.readyState === socket.OPEN) socket.close(1000, 'end of flows'); },
      (err: unknown) => { end(); refuse(socket, err); },
    );
  });
};
