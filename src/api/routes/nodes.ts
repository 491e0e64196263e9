// GET /v1/nodes and POST /v1/nodes/:node/exec (ip, route, bpftool, cilium-dbg,
// iptables, conntrack... on a node), stdin given to the command as docker
// exec -i gives it.

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError, type ClusterFacade, type ExecResult } from '../../cluster/facade.ts';
import { ARGV_SCHEMA, EXEC_RESULT_SCHEMA, settled, type RouteOptions } from './options.ts';

/** Throws a 404 ClusterError unless `node` is one of the cluster's nodes. */
export function requireNode(cluster: ClusterFacade, node: string): void {
  if (!cluster.nodeNames().includes(node)) throw new ClusterError(`node "${node}" not found`, 404, 'node');
}

/** Largest stdin a node exec takes (characters; `dplab docker exec -i` checks the same bound before sending). */
export const MAX_EXEC_STDIN = 4 << 20;

const execBody = { type: 'object', properties: { argv: ARGV_SCHEMA, stdin: { type: 'string' } }, required: ['argv'] } as const;

export const nodeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  app.get('/v1/nodes', async () => ({ nodes: cluster.nodeNames() }));
  // The body limit leaves room for JSON's escaping of a stdin at the bound.
  app.post<{ Params: { node: string }; Body: { argv: string[]; stdin?: string } }>('/v1/nodes/:node/exec',
    { schema: { body: execBody, response: EXEC_RESULT_SCHEMA }, bodyLimit: 2 * MAX_EXEC_STDIN },
    async (req): Promise<ExecResult> => {
      requireNode(cluster, req.params.node);
      const { argv, stdin } = req.body;
      if (stdin !== undefined && stdin.length > MAX_EXEC_STDIN) throw new ClusterError(`stdin is ${stdin.length} characters, more than the ${MAX_EXEC_STDIN} a node exec takes`, 413, 'stdin');
      return settled(cluster, cluster.nodeExec(req.params.node, argv, stdin));
    });
};
