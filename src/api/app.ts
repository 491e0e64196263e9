// The dplab HTTP API: one fastify instance serving one emulated cluster.
// Routes live in encapsulated plugins under routes/, one file per area.

import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { ClusterFacade } from '../cluster/facade.ts';
import { startDemoTraffic, type DemoOptions } from './demo.ts';
import { startSimDriver, type Background } from './driver.ts';
import { clientErrorHandler, installErrorHandlers } from './errors.ts';
import { agentRoutes } from './routes/agent.ts';
import { execRoutes } from './routes/exec.ts';
import { flowRoutes } from './routes/flows.ts';
import { healthRoutes } from './routes/health.ts';
import { manifestRoutes } from './routes/manifests.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { kubectlStreamRoutes } from './routes/kubectl_stream.ts';
import { portForwardRoutes } from './routes/port_forward.ts';
import { nodeFollowRoutes } from './routes/node_follow.ts';
import { nodeToolRoutes } from './routes/node_tools.ts';
import { streamRoutes } from './routes/streams.ts';
import { StreamRegistry, streamLimits, type StreamLimits } from './stream_limits.ts';

export interface AppOptions {
  /**
   * Server mode: `wall` (virtual time is the wall clock) or `fast` (virtual time
   * runs ahead as fast as the CPU allows, for scripted use); a background driver
   * keeps events running between requests. `manual` (buildApp's default): no
   * background driver, each request drives the simulation for itself, as the
   * library does (tests that steer the clock).
   */
  clock?: 'wall' | 'fast' | 'manual';
  /** Fast clock: how often the background driver runs what is due, in wall-clock ms. */
  driveIntervalMs?: number;
  /** Start the demo traffic generator when the app is ready. */
  demoTraffic?: boolean | DemoOptions;
  /** fastify logger (off by default: the CLI prints its own lines). */
  logger?: boolean;
  /** Bounds on WebSocket streams (defaults: DEFAULT_STREAM_LIMITS). */
  streams?: Partial<StreamLimits>;
  /** The lab name `/healthz` reports: what `dplab serve` printed at start-up (default: the cluster's name). */
  label?: string;
  /** Stream slots shared by every stream (WebSocket and Hubble's gRPC); default: a registry of `streams`. */
  streamRegistry?: StreamRegistry;
}

/** Builds the app without listening (tests use app.inject / app.injectWS). */
export function buildApp(cluster: ClusterFacade, opts: AppOptions = {}): FastifyInstance {
  // No type coercion: a number where a string belongs is a 400, not a guess.
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 4 << 20, clientErrorHandler, ajv: { customOptions: { coerceTypes: false } } });
  installErrorHandlers(app);
  void app.register(websocket, { options: { maxPayload: 1 << 20 } });

  const background: Background[] = [];
  if (opts.clock === 'wall') cluster.sim.useWallClock();
  // Every request sees the clock at the wall clock in wall mode; a no-op otherwise.
  app.addHook('onRequest', async () => { cluster.sim.syncToWall(); });
  app.addHook('onReady', async () => {
    if (opts.clock === 'wall' || opts.clock === 'fast') background.push(startSimDriver(cluster.sim, opts.clock, opts.driveIntervalMs));
    if (opts.demoTraffic) background.push(startDemoTraffic(cluster, opts.demoTraffic === true ? {} : opts.demoTraffic));
  });
  // Streams that run commands first: a follow holds the clock the background driver waits for.
  app.addHook('preClose', async () => { registry.stopAll(); await Promise.all(background.splice(0).map((b) => b.stop())); });

  const routeOpts = { cluster };
  void app.register(healthRoutes, { ...routeOpts, lab: opts.label });
  void app.register(manifestRoutes, routeOpts);
  void app.register(metricsRoutes, routeOpts);
  void app.register(execRoutes, routeOpts);
  void app.register(nodeRoutes, routeOpts);
  const registry = opts.streamRegistry ?? new StreamRegistry(streamLimits(opts.streams));
  void app.register(streamRoutes, { ...routeOpts, limits: opts.streams, registry });
  void app.register(nodeToolRoutes, routeOpts);
  void app.register(nodeFollowRoutes, { ...routeOpts, registry });
  void app.register(flowRoutes, { ...routeOpts, registry });
  void app.register(agentRoutes, { ...routeOpts, limits: opts.streams });
  void app.register(portForwardRoutes, { ...routeOpts, registry });
  void app.register(kubectlStreamRoutes, { ...routeOpts, registry });
  return app;
}
