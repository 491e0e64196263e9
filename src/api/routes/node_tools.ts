// REST routes for a node's netfilter tools, under /v1/nodes/{node}/:
//   GET    iptables-save[?table=nat&counters=true]     text/plain, as iptables-save prints it
//   GET    iptables/{table}[?chain=NAME]               {chains} with policies, rules and counters (iptables-save -c)
//   POST   iptables-restore[?noflush&counters&test&table]  text/plain body (iptables-save format)
//   GET    conntrack[?proto=tcp&src=&dst=&reply-src=&reply-dst=&sport=&dport=]  {entries}
//   DELETE conntrack[?filters]                          flush (-F), or delete the matching entries (-D)
//   GET    ipvs                                         {virtualServers} (ipvsadm -Ln --stats)
//   GET    ipsets, ipsets/{name}                        {sets} (ipset list [NAME])
// Each runs the node's own tool (what its datapath installed), so answers
// and errors are the tool's; a node without the tool is a 404 saying so.
// The conntrack event stream is in node_follow.ts.

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ClusterError, type ClusterFacade, type ExecResult } from '../../cluster/facade.ts';
import { requireNode } from './nodes.ts';
import { conntrackJson, iptablesJson, ipsetJson, ipvsJson } from './node_tools_json.ts';
import { settled, type RouteOptions } from './options.ts';

/** Largest iptables-restore body (a 10k-service kube-proxy ruleset is about 10 MiB). */
export const RESTORE_BODY_LIMIT = 32 << 20;

/** Which datapaths install each tool, for the 404 of a node that lacks it. */
const WHO: Record<string, string> = {
  'iptables-save': 'kube-proxy installs iptables (service proxy iptables or ipvs)',
  'iptables-restore': 'kube-proxy installs iptables (service proxy iptables or ipvs)',
  conntrack: 'kube-proxy installs conntrack (service proxy iptables or ipvs)',
  ipvsadm: 'IPVS is kube-proxy\'s ipvs mode (service proxy ipvs)',
  ipset: 'kube-proxy\'s ipvs mode installs ipset (service proxy ipvs)',
};

/** Runs the node's tool `name` (no shell); ClusterError 404 for an unknown node or a node without it. */
export async function runTool(cluster: ClusterFacade, node: string, name: string, argv: string[], stdin = ''): Promise<ExecResult> {
  requireNode(cluster, node);
  const tool = cluster.nodeTool?.(node, name);
  if (!tool) throw new ClusterError(`node "${node}" has no ${name}: ${WHO[name] ?? 'its datapath does not install it'}`, 404, 'node');
  return settled(cluster, tool(argv, stdin));
}

/** A tool's complaint without its `Try ... --help` hint. */
export function toolMessage(stderr: string): string {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^Try `/.test(l)).join('\n');
}

/** The query as [key, value] pairs, each key one of `allowed`; a 400 naming any other. */
export function queryPairs(url: string, allowed: readonly string[]): Array<[string, string]> {
  const pairs = [...new URL(url, 'http://x').searchParams];
  for (const [k] of pairs) if (!allowed.includes(k)) throw new ClusterError(`unknown query parameter "${k}" (known: ${allowed.join(', ')})`, 400, k);
  return pairs;
}

/** A yes/no query switch: absent, "", "true" or "false"; a 400 otherwise. */
function flag(pairs: Array<[string, string]>, key: string): boolean {
  const v = pairs.find(([k]) => k === key)?.[1];
  if (v === undefined || v === 'false') return false;
  if (v === '' || v === 'true') return true;
  throw new ClusterError(`query parameter "${key}" is true or false, not "${v}"`, 400, key);
}

/** conntrack's filters as query parameters (its long options); proto first, as conntrack wants -p before ports. */
export const CT_FILTERS = ['proto', 'src', 'dst', 'reply-src', 'reply-dst', 'sport', 'dport'] as const;

export function conntrackArgv(pairs: Array<[string, string]>): string[] {
  const sorted = [...pairs].sort(([a], [b]) => Number(b === 'proto') - Number(a === 'proto'));
  return sorted.flatMap(([k, v]) => [`--${k}`, v]);
}

/** Sends the tool's failure as a 400 with its own words. */
function failed(reply: FastifyReply, r: ExecResult): FastifyReply {
  return reply.code(400).send({ error: toolMessage(r.stderr) || `exit status ${r.exitCode}` });
}

export const nodeToolRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  type NodeReq = { Params: { node: string } };

  app.get<NodeReq>('/v1/nodes/:node/iptables-save', async (req, reply) => {
    const q = queryPairs(req.url, ['table', 'counters']);
    const table = q.find(([k]) => k === 'table')?.[1];
    const argv = [...(table !== undefined ? ['-t', table] : []), ...(flag(q, 'counters') ? ['-c'] : [])];
    const r = await runTool(cluster, req.params.node, 'iptables-save', argv);
    if (r.exitCode !== 0) return failed(reply, r);
    return reply.type('text/plain; charset=utf-8').send(r.stdout);
  });

  app.get<NodeReq & { Params: { table: string } }>('/v1/nodes/:node/iptables/:table', async (req, reply) => {
    const chain = queryPairs(req.url, ['chain']).find(([k]) => k === 'chain')?.[1];
    const r = await runTool(cluster, req.params.node, 'iptables-save', ['-c', '-t', req.params.table]);
    // A table or chain that is not there is a missing resource, in iptables' words.
    if (r.exitCode !== 0) return reply.code(/does not exist/.test(r.stderr) ? 404 : 400).send({ error: toolMessage(r.stderr), field: 'table' });
    if (chain !== undefined) {
      const s = await runTool(cluster, req.params.node, 'iptables', ['-t', req.params.table, '-S', chain]);
      if (s.exitCode !== 0) return reply.code(404).send({ error: toolMessage(s.stderr), field: 'chain' });
    }
    const chains = iptablesJson(r.stdout).filter((c) => chain === undefined || c.name === chain);
    return { table: req.params.table, chains };
  });

  app.post<NodeReq & { Body: unknown }>('/v1/nodes/:node/iptables-restore', { bodyLimit: RESTORE_BODY_LIMIT }, async (req, reply) => {
    const q = queryPairs(req.url, ['noflush', 'counters', 'test', 'table']);
    if (typeof req.body !== 'string') throw new ClusterError('send the rules as a text/plain body, in iptables-save format', 415, 'body');
    const table = q.find(([k]) => k === 'table')?.[1];
    const argv = [...(flag(q, 'noflush') ? ['-n'] : []), ...(flag(q, 'counters') ? ['-c'] : []), ...(table !== undefined ? ['-T', table] : [])];
    // A dry run first (-t): a syntax error in a later table must not leave earlier tables changed.
    const dry = await runTool(cluster, req.params.node, 'iptables-restore', [...argv, '-t'], req.body);
    if (dry.exitCode !== 0) {
      const line = /line:? (\d+)/.exec(dry.stderr)?.[1];
      return reply.code(400).send({ error: toolMessage(dry.stderr), ...(line ? { line: Number(line) } : {}) });
    }
    const tables = [...req.body.matchAll(/^\*(\S+)/gm)].map((m) => m[1]!).filter((t) => table === undefined || t === table);
    if (flag(q, 'test')) return { tables, test: true };
    const r = await runTool(cluster, req.params.node, 'iptables-restore', argv, req.body);
    if (r.exitCode !== 0) return failed(reply, r);
    return { tables, test: false };
  });

  app.get<NodeReq>('/v1/nodes/:node/conntrack', async (req, reply) => {
    const r = await runTool(cluster, req.params.node, 'conntrack', ['-L', ...conntrackArgv(queryPairs(req.url, CT_FILTERS))]);
    if (r.exitCode !== 0) return failed(reply, r);
    return { entries: conntrackJson(r.stdout) };
  });

  app.delete<NodeReq>('/v1/nodes/:node/conntrack', async (req, reply) => {
    const filters = conntrackArgv(queryPairs(req.url, CT_FILTERS));
    const node = req.params.node;
    if (filters.length === 0) {
      const count = await runTool(cluster, node, 'conntrack', ['-C']);
      const r = await runTool(cluster, node, 'conntrack', ['-F']);
      if (r.exitCode !== 0) return failed(reply, r);
      return { deleted: Number(count.stdout.trim()) || 0 };
    }
    const r = await runTool(cluster, node, 'conntrack', ['-D', ...filters]);
    // -D exits 1 when nothing matched: for the API that is zero deleted, not an error.
    if (r.exitCode !== 0 && !/ 0 flow entries have been deleted/.test(r.stderr)) return failed(reply, r);
    return { deleted: conntrackJson(r.stdout).length };
  });

  app.get<NodeReq>('/v1/nodes/:node/ipvs', async (req, reply) => {
    queryPairs(req.url, []);
    const list = await runTool(cluster, req.params.node, 'ipvsadm', ['-L', '-n']);
    if (list.exitCode !== 0) return failed(reply, list);
    const stats = await runTool(cluster, req.params.node, 'ipvsadm', ['-L', '-n', '--stats', '--exact']);
    return { virtualServers: ipvsJson(list.stdout, stats.exitCode === 0 ? stats.stdout : undefined) };
  });

  const ipsets = async (node: string, name: string | undefined, reply: FastifyReply): Promise<unknown> => {
    const r = await runTool(cluster, node, 'ipset', ['list', ...(name !== undefined ? [name] : [])]);
    if (r.exitCode === 0) return { sets: ipsetJson(r.stdout) };
    // ipset's own words for a set that is not there; a 404, as for any missing resource.
    if (name !== undefined && /does not exist/.test(r.stderr)) return reply.code(404).send({ error: toolMessage(r.stderr), field: 'name' });
    return failed(reply, r);
  };
  app.get<NodeReq>('/v1/nodes/:node/ipsets', async (req, reply) => { queryPairs(req.url, []); return ipsets(req.params.node, undefined, reply); });
  app.get<NodeReq & { Params: { name: string } }>('/v1/nodes/:node/ipsets/:name', async (req, reply) => { queryPairs(req.url, []); return ipsets(req.params.node, req.params.name, reply); });
};
