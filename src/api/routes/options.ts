// Options every route plugin receives: the cluster it serves.

import type { ClusterFacade } from '../../cluster/facade.ts';

/**
 * Awaits a cluster operation while driving the simulation, so it completes
 * even when nothing else runs events (outside server mode). Sim.settle
 * shares one driver, so this is harmless if the facade settles too.
 */
export function settled<T>(cluster: ClusterFacade, p: Promise<T>): Promise<T> { return cluster.sim.settle(p); }

export interface RouteOptions { cluster: ClusterFacade }

/** JSON schema of an argv body field: a non-empty list of strings. */
export const ARGV_SCHEMA = { type: 'array', items: { type: 'string' }, minItems: 1 } as const;

/** Response schema of every exec-like route (ExecResult). */
export const EXEC_RESULT_SCHEMA = {
  200: {
    type: 'object',
    properties: { stdout: { type: 'string' }, stderr: { type: 'string' }, exitCode: { type: 'integer' } },
    required: ['stdout', 'stderr', 'exitCode'],
  },
} as const;
