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
  app.post<{ Body: { yaml: string } }>('/v1/apply', { schema: { body, response } }, async (req) => ({ lines: cluster.apply(req.body.yaml) }));
  app.post<{ Body: { yaml: string } }>('/v1/delete', { schema: { body, response } }, async (req) => ({ lines: cluster.delete(req.body.yaml) }));
};
