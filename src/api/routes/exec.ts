// POST /v1/kubectl and /v1/exec: commands run inside the emulation.

import type { FastifyPluginAsync } from 'fastify';
import type { ExecResult } from '../../cluster/facade.ts';
import { ARGV_SCHEMA, EXEC_RESULT_SCHEMA, settled, type RouteOptions } from './options.ts';

interface KubectlBody { argv: string[]; stdin?: string }
interface ExecBody { namespace?: string; pod: string; argv: string[] }

const kubectlBody = {
  type: 'object',
  // kubectl with no arguments is valid (it prints its help), so argv may be empty.
  properties: { argv: { type: 'array', items: { type: 'string' } }, stdin: { type: 'string' } },
  required: ['argv'],
} as const;
const execBody = {
  type: 'object',
  properties: { namespace: { type: 'string', minLength: 1 }, pod: { type: 'string', minLength: 1 }, argv: ARGV_SCHEMA },
  required: ['pod', 'argv'],
} as const;

export const execRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  app.post<{ Body: KubectlBody }>('/v1/kubectl', { schema: { body: kubectlBody, response: EXEC_RESULT_SCHEMA } },
    async (req): Promise<ExecResult> => settled(cluster, cluster.kubectl(req.body.argv, req.body.stdin)));
  app.post<{ Body: ExecBody }>('/v1/exec', { schema: { body: execBody, response: EXEC_RESULT_SCHEMA } },
    async (req): Promise<ExecResult> => settled(cluster, cluster.exec(req.body.namespace ?? 'default', req.body.pod, req.body.argv)));
};
