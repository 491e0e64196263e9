// Options every route plugin receives: the cluster it serves.

import type { ClusterFacade } from '../../cluster/facade.ts';

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
