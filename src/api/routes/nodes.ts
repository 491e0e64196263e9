// GET /v1/nodes and POST /v1/nodes/:node/exec (ip, route, bpftool, cilium-dbg on a node).

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError, type ClusterFacade, type ExecResult } from '../../cluster/facade.ts';
import { ARGV_SCHEMA, EXEC_RESULT_SCHEMA, settled, type RouteOptions } from './options.ts';

/** Throws a 404 ClusterError unless `node` is one of the cluster's nodes. */
export function requireNode(cluster: ClusterFacade, node: string): void {
  if (!cluster.nodeNames().includes(node)) throw new ClusterError(`node "${node}" not found`, 404, 'node');
}

const execBody = { type: 'object', properties: { argv: ARGV_SCHEMA }, required: ['argv'] } as const;

export const nodeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  app.get('/v1/nodes', async () => ({ nodes: cluster.nodeNames() }));
  app.post<{ Params: { node: string }; Body: { argv: string[] } }>('/v1/nodes/:node/exec',
    { schema: { body: execBody, response: EXEC_RESULT_SCHEMA } },
    async (req): Promise<ExecResult> => {
      requireNode(cluster, req.params.node);
      return settled(cluster, cluster.nodeExec(req.params.node, req.body.argv));
    });
};
