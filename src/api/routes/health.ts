// GET /healthz: liveness, plus which lab is loaded and its virtual clock.

import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from './options.ts';

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  app.get('/healthz', async () => ({ ok: true, lab: cluster.name, nowNs: cluster.sim.now() }));
};
