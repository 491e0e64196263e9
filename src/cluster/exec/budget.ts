// What one exec may use: CPU time on the server's thread, memory for its
// strings and arrays, and output. The shell shares the process with the
// simulation and the API, so these budgets (and the slicing in slicing.ts) are
// what keep one exec from starving or exhausting everyone else.

import type { BashOptions } from 'just-bash';

type ExecutionLimits = NonNullable<BashOptions['executionLimits']>;

export interface ExecLimits {
  /** CPU time the shell may spend on the server's thread (its own work, not waits on the network or sleep). */
  cpuMs: number;
  /** Bytes of strings, arrays and files an exec may hold, in MiB. */
  memoryMb: number;
  /** Bytes an exec may write (its pipes and substitutions included), in KiB. */
  outputKb: number;
}

export const DEFAULT_EXEC_LIMITS: Readonly<ExecLimits> = { cpuMs: 10_000, memoryMb: 64, outputKb: 4096 };

/** Accepted ranges, for flags and the library (kept wide; 0 would kill every exec). */
export const EXEC_LIMIT_RANGES: Readonly<Record<keyof ExecLimits, readonly [number, number]>> = {
  cpuMs: [10, 3_600_000], memoryMb: [1, 4096], outputKb: [1, 1_048_576],
};

/** Why an exec was killed; each has its own exit status (128 + the signal a kernel would send). */
export type KillReason = 'cpu' | 'memory' | 'output';

export const KILL_EXIT: Readonly<Record<KillReason, number>> = {
  cpu: 152, // SIGXCPU: RLIMIT_CPU reached
  memory: 137, // SIGKILL: the OOM killer
  output: 153, // SIGXFSZ: RLIMIT_FSIZE reached
};

const MiB = 1 << 20;

/** The one line a killed exec ends with: what the shell prints for the signal, then which budget and the flag that sets it. */
export function killMessage(reason: KillReason, l: ExecLimits): string {
  switch (reason) {
    case 'cpu': return `CPU time limit exceeded (exec budget ${l.cpuMs} ms of CPU; dplab serve --exec-cpu-ms)\n`;
    case 'memory': return `Killed (out of memory: exec budget ${l.memoryMb} MiB; dplab serve --exec-memory-mb)\n`;
    case 'output': return `File size limit exceeded (exec budget ${l.outputKb} KiB of output; dplab serve --exec-output-kb)\n`;
  }
}

/**
 * The interpreter's own limits, derived from the budgets. Loops and command
 * counts are unbounded (the CPU budget ends a runaway loop, as on a real
 * node); a single string may take an eighth of the memory budget, since
 * building one (y=$y$x) holds several copies until the GC runs
 */
export function interpreterLimits(l: ExecLimits): ExecutionLimits {
  const mem = l.memoryMb * MiB;
  return {
    maxCommandCount: Number.MAX_SAFE_INTEGER,
    maxLoopIterations: Number.MAX_SAFE_INTEGER,
    maxWorkUnits: Number.MAX_SAFE_INTEGER,
    maxExecutionTimeMs: 24 * 3_600_000,
    maxStringLength: Math.max(64 * 1024, Math.floor(mem / 8)),
    maxHeredocSize: Math.max(64 * 1024, Math.floor(mem / 8)),
    maxLiveBytes: mem,
    maxInputBytes: mem,
    maxFileSystemBytes: mem,
    maxArrayElements: Math.max(1024, Math.floor(mem / 64)),
    maxOutputSize: l.outputKb * 1024,
    maxCallDepth: 1000,
  };
}

/** Which budget an interpreter limit error stands for (its limitType); undefined: a shell error, not a kill. */
export function reasonOfLimit(limitType: unknown): KillReason | undefined {
  if (limitType === 'string_length' || limitType === 'array_elements') return 'memory';
  if (limitType === 'output_size') return 'output';
  return undefined;
}

/** Check flag or option values (numbers, or flag text); throws a one-line message naming the bad one. */
export function checkExecLimits(l: Partial<Record<keyof ExecLimits, number | string>>, flag: (k: keyof ExecLimits) => string = (k) => k): ExecLimits {
  const out = { ...DEFAULT_EXEC_LIMITS };
  for (const k of Object.keys(EXEC_LIMIT_RANGES) as Array<keyof ExecLimits>) {
    const raw = l[k];
    if (raw === undefined) continue;
    const v = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    const [min, max] = EXEC_LIMIT_RANGES[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${flag(k)} must be an integer from ${min} to ${max}, not "${raw}"`);
    out[k] = v;
  }
  return out;
}
