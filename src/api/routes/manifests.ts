// POST /v1/apply and /v1/delete: multi-document YAML in, kubectl's lines out.

import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from './options.ts';

const body = {
  type: 'object',
  properties: { yaml: { type: 'string', minLength: 1 } },
  required: ['yaml'],
} as const;
const response = { 200: { type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } } } } } as const;

export const manifestRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  // Sliced when the cluster can (the server answers others meanwhile; writes queue), else in one turn.
  app.post<{ Body: { yaml: string } }>('/v1/apply', { schema: { body, response } }, async (req) => ({ lines: await (cluster.applySliced?.(req.body.yaml) ?? cluster.apply(req.body.yaml)) }));
  app.post<{ Body: { yaml: string } }>('/v1/delete', { schema: { body, response } }, async (req) => ({ lines: await (cluster.deleteSliced?.(req.body.yaml) ?? cluster.delete(req.body.yaml)) }));
};
