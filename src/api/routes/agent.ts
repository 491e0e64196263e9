// The Cilium agent's REST API per node: `/nodes/:node/v1/...` on the main
// server, or `/v1/...` at the root of a node's own listener (agent_listeners.ts),
// so a client written for the real agent works with either base URL. Also
// `/map/:name/watch` (WebSocket, every update and delete of a map) and
// `/bpf/...` (bpftool's JSON of programs, links and maps). The datapath answers
// through the seam's NodeApi; this file knows HTTP only.

import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ClusterError, type ClusterFacade } from '../../cluster/facade.ts';
import type { NodeApi, NodeApiAnswer } from '../../datapath/contract.ts';
import { refuseStream } from '../errors.ts';
import { BoundedSender, StreamRegistry, streamLimits, type StreamLimits } from '../stream_limits.ts';
import { requireNode } from './nodes.ts';
import { settled } from './options.ts';

export interface AgentRouteOptions {
  cluster: ClusterFacade;
  /** A node's own listener: this node's API at the root. Absent: `/nodes/:node/...`. */
  node?: string;
  limits?: Partial<StreamLimits>;
}

type Params = { node?: string; '*'?: string; name?: string };

/** A stream message: the value, or a function that builds it (called only if it goes out). */
const build = (msg: unknown): unknown => (typeof msg === 'function' ? (msg as () => unknown)() : msg);

/** The node's API, or the ClusterError why there is none. */
function apiOf(cluster: ClusterFacade, node: string): NodeApi {
  requireNode(cluster, node);
  const api = cluster.nodeApi?.(node);
  if (!api) throw new ClusterError(`node ${node} runs no Cilium agent: its datapath has no agent API`, 501, 'node');
  return api;
}

/** Query parameters as strings (the first of repeated ones). */
function queryOf(req: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

/**
 * A followed answer as newline-delimited JSON (what the agent's json.Encoder
 * writes). While the client holds more than `limit` unread bytes, messages are
 * skipped and counted; a `{"lost":N}` line reports them once it catches up.
 */
function streamReply(req: FastifyRequest, reply: FastifyReply, answer: Extract<NodeApiAnswer, { stream: unknown }>, limit: number, release: () => void): FastifyReply {
  const out = new PassThrough();
  let skipped = 0, stop: (() => void) | undefined, ended = false, timer: NodeJS.Timeout | undefined;
  const open = (): boolean => !out.writableEnded && !out.destroyed;
  /** Reports skipped messages once the reader has room again. */
  const flush = (): void => {
    if (skipped === 0 || out.writableLength >= limit || !open()) return;
    out.write(`${JSON.stringify({ lost: skipped })}\n`);
    skipped = 0;
  };
  const finish = (): void => { if (ended) return; ended = true; if (timer) clearInterval(timer); stop?.(); release(); };
  const send = (msg: unknown): void => {
    if (!open()) return;
    if (out.writableLength >= limit) {
      skipped++;
      // No write is pending a 'drain' here (the budget is below the stream's own): look every 20 ms.
      timer ??= setInterval(() => { flush(); if (skipped === 0) { clearInterval(timer); timer = undefined; } }, 20).unref();
      return;
    }
    flush();
    out.write(`${JSON.stringify(build(msg))}\n`);
  };
  req.raw.once('close', finish);
  stop = answer.stream(send, () => { out.end(); finish(); });
  if (ended) stop();
  return reply.code(answer.status).type('application/json').send(out);
}

export const agentRoutes: FastifyPluginAsync<AgentRouteOptions> = async (app, { cluster, node: fixed, limits }) => {
  const registry = new StreamRegistry(streamLimits(limits));
  const budget = registry.limits.bufferBytes;
  const root = fixed === undefined ? '/nodes/:node' : '';
  const nodeOf = (p: Params): string => fixed ?? p.node!;

  app.get<{ Params: Params }>(`${root}/v1/*`, async (req, reply) => {
    const api = apiOf(cluster, nodeOf(req.params));
    // The raw path: ids such as pod-name:NS%2FNAME keep their escaped slash (the router decodes per segment).
    const raw = req.url.split('?')[0]!;
    const answer = api({ path: raw.slice(raw.indexOf('/v1/')), query: queryOf(req) });
    if ('body' in answer) return reply.code(answer.status).send(answer.body);
    if ('json' in answer) return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.json);
    const release = registry.admit(req.ip);
    return streamReply(req, reply, answer, budget, release);
  });

  const watchPath = (p: Params) => `/map/${encodeURIComponent(p.name!)}/watch`;
  app.route<{ Params: Params }>({ method: 'GET', url: `${root}/map/:name/watch`, handler: async (req, reply) => {
    // A plain GET: the same 404s as the stream, else say it is a WebSocket.
    const answer = apiOf(cluster, nodeOf(req.params))({ path: watchPath(req.params), query: {} });
    if ('body' in answer) return reply.code(answer.status).send(answer.body);
    throw new ClusterError('the map watch is a WebSocket: connect with Upgrade: websocket', 426);
  }, wsHandler: (socket, req) => {
    let release: (() => void) | undefined, stop: (() => void) | undefined;
    try {
      release = registry.admit(req.ip);
      const answer = apiOf(cluster, nodeOf(req.params))({ path: watchPath(req.params), query: queryOf(req) });
      if (!('stream' in answer)) throw new ClusterError(('body' in answer ? (answer.body as { error?: string }).error : undefined) ?? 'refused', answer.status, 'name');
      const sender = new BoundedSender(socket, budget, (_total, since) => JSON.stringify({ lost: since }));
      stop = answer.stream((msg) => sender.send(() => JSON.stringify(build(msg))), () => socket.close(1000));
    } catch (err) { release?.(); refuseStream(socket, err); return; }
    let ended = false;
    const end = (): void => { if (ended) return; ended = true; stop?.(); release?.(); };
    socket.once('close', end);
    socket.once('error', end);
    socket.on('message', () => {});
  } });

  // bpftool's own JSON (-j) for what only bpftool shows: programs, links, maps, a map's entries, net.
  const BPF: Record<string, (id?: string) => string[]> = {
    prog: (id) => (id ? ['prog', 'show', 'id', id] : ['prog', 'show']),
    link: () => ['link', 'show'],
    map: (id) => (id ? ['map', 'show', 'id', id] : ['map', 'show']),
    net: () => ['net', 'show'],
  };
  app.get<{ Params: Params }>(`${root}/bpf/*`, async (req, reply) => {
    const node = nodeOf(req.params);
    requireNode(cluster, node);
    const [what, id, dump, ...rest] = (req.params['*'] ?? '').split('/');
    const argv = what && BPF[what] && rest.length === 0 && (id === undefined || /^\d{1,10}$/.test(id)) ? BPF[what]!(id) : undefined;
    if (!argv || (dump !== undefined && (what !== 'map' || dump !== 'dump' || id === undefined))) {
      throw new ClusterError(`no route GET ${req.url.split('?')[0]}: try bpf/prog[/ID], bpf/link, bpf/map[/ID[/dump]], bpf/net`, 404);
    }
    const full = dump === 'dump' ? ['bpftool', '-j', 'map', 'dump', 'id', id!] : ['bpftool', '-j', ...argv];
    const r = await settled(cluster, cluster.nodeExec(node, full));
    if (r.exitCode !== 0) {
      // bpftool -j reports a failure as {"error": "..."} on stdout.
      let msg = (r.stderr || r.stdout).trim().split('\n')[0] ?? 'bpftool failed';
      try { msg = (JSON.parse(r.stdout) as { error?: string }).error ?? msg; } catch { /* plain text */ }
      throw new ClusterError(msg.replace(/^Error: /, ''), /not found|No such|can't get|cannot/i.test(msg) ? 404 : 400, 'id');
    }
    try { return reply.send(JSON.parse(r.stdout)); } catch { throw new ClusterError('bpftool on this node prints no JSON (-j) for this command yet', 501); }
  });
};
