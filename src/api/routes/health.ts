// GET /healthz: liveness, plus which lab is loaded and its virtual clock.

import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from './options.ts';

/** `lab`: the name `dplab serve` printed at start-up (the built-in lab's, or the cluster file's); the cluster's own name otherwise. */
export const healthRoutes: FastifyPluginAsync<RouteOptions & { lab?: string }> = async (app, { cluster, lab }) => {
  app.get('/healthz', async () => ({ ok: true, lab: lab ?? cluster.name, nowNs: cluster.sim.now() }));
};
