// Cooperative slicing of the exec shell. just-bash runs a script as one
// chain of awaited promises: a busy loop never returns to the event loop, so
// the API, the wall clock and every other exec would wait for it. We hook the
// interpreter's per-statement step: every SLICE_MS of work the exec yields,
// and its CPU time is metered against its budget.
//
// Yielded execs wait in one queue and resume one per event-loop turn, so the
// server polls its sockets between any two slices: with four execs spinning a
// request waits for one slice, not four (and libuv accepts one new connection
// per turn, so a turn must stay short for a burst of connections too).

import { Bash } from 'just-bash';
import { findBoxStorage } from './box_storage.ts';
import { reasonOfLimit, type KillReason } from './budget.ts';

// Taken before any script runs: just-bash's defense-in-depth box blocks these globals inside scripts.
const now = performance.now.bind(performance);
const cpuUsage = process.cpuUsage.bind(process);
const nextTurn = setImmediate;
/** CPU time of this process in ms (user + system): unlike the wall clock, it does not count while the host runs others. */
const cpuMsNow = (): number => { const u = cpuUsage(); return (u.user + u.system) / 1000; };

/** How long an exec runs before it lets the event loop take a turn (wall ms; the server answers between two slices). */
export const SLICE_MS = 3;

/** Execs waiting for their next slice, oldest first; one resumes per event-loop turn. */
const runQueue: Array<() => void> = [];
let pumping = false;

function pump(): void {
  const resume = runQueue.shift();
  pumping = runQueue.length > 0;
  if (pumping) nextTurn(pump); // set from the check phase: runs in the next turn, after its I/O poll
  resume?.();
}

/** Resolves when it is this exec's turn again (round robin over the yielded execs). */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => {
    runQueue.push(resolve);
    if (!pumping) { pumping = true; nextTurn(pump); }
  });
}

/** The interpreter's message for our kill; finish() replaces its line with the budget's. */
export const KILL_MARK = 'dplab: exec budget exhausted';

/** One exec's CPU meter and kill switch. */
export class ExecMeter {
  usedMs = 0;
  killed?: KillReason;
  /** The interpreter's message for the limit that killed the exec (replaced by ours). */
  limitMessage?: string;
  private mark: number | null = cpuMsNow();
  private sliceStart = now();
  private parkedDepth = 0;

  constructor(readonly cpuMs: number) {}

  /**
   * Before each statement: a promise when the slice is over. Throws once killed.
   * The CPU meter (a getrusage call) is read per slice, not per statement: a
   * budget is overrun by at most one slice.
   */
  step(): Promise<void> | undefined {
    if (this.killed) throw limitError(KILL_MARK);
    if (now() - this.sliceStart < SLICE_MS) return undefined;
    this.charge();
    if (this.usedMs > this.cpuMs) { this.kill('cpu'); throw limitError(KILL_MARK); }
    return yieldTurn().then(() => { this.resume(); });
  }

  /** The exec waits on the simulation (network command, sleep): not its CPU time. */
  park(): void { if (this.parkedDepth++ === 0) this.charge(); }
  unpark(): void { if (--this.parkedDepth === 0) this.resume(); }

  kill(reason: KillReason): void {
    if (this.killed) return;
    this.killed = reason;
    if (reason === 'cpu') this.limitMessage = KILL_MARK;
  }

  /** An error ended a script: an interpreter limit that stands for a budget kills the exec. */
  noteError(e: unknown): void {
    if (!(e instanceof Error) || e.name !== 'ExecutionLimitError' || this.killed) return;
    const reason = reasonOfLimit((e as Error & { limitType?: unknown }).limitType);
    if (!reason) return;
    this.limitMessage = e.message;
    this.kill(reason);
  }

  private charge(): void { if (this.mark !== null) { this.usedMs += cpuMsNow() - this.mark; this.mark = null; } }
  private resume(): void { this.mark = cpuMsNow(); this.sliceStart = now(); }
}

/**
 * The interpreter's ExecutionLimitError class (not exported), caught from a
 * probe: thrown from a statement it ends the whole script and keeps the
 * output written so far, as a killed process's output stays written.
 */
type LimitErrorClass = new (message: string, limitType: string) => Error;
let LimitError: LimitErrorClass | undefined;
function limitError(message: string): Error { return new LimitError!(message, 'exec_budget'); }

/** Execs by the sleep function their Bash was built with: every (nested) interpreter of one Bash carries it in ctx.sleep. */
const meters = new WeakMap<object, ExecMeter>();

export function attachMeter(sleepFn: object, m: ExecMeter): void { meters.set(sleepFn, m); }

interface InterpreterLike {
  ctx: { sleep?: object };
  executeStatement(s: unknown): Promise<unknown>;
  executeScript(s: unknown): Promise<unknown>;
  executeCommand(...a: unknown[]): Promise<unknown>;
}

let installed: Promise<void> | undefined;

/** Hook just-bash's interpreter once per process; fails loudly if the library changed shape. */
export function installSlicing(): Promise<void> {
  installed ??= (async () => {
    patch(await findInterpreterPrototype());
    await findBoxStorage(() => new Bash({ executionLimits: { maxCallDepth: 1 } }).exec('f() { f; }; f'));
    if (!LimitError) throw new Error('exec isolation: cannot find just-bash\'s ExecutionLimitError (library changed?)');
  })();
  return installed;
}

/**
 * The Interpreter class is not exported; its constructor binds
 * executeStatement to the instance, so catching that bind during one probe
 * exec gives us the prototype. Later instances bind the patched method.
 */
async function findInterpreterPrototype(): Promise<InterpreterLike> {
  const bind = Function.prototype.bind;
  let proto: InterpreterLike | undefined;
  Function.prototype.bind = function (this: (...a: unknown[]) => unknown, thisArg: unknown, ...args: unknown[]) {
    const t = thisArg as Partial<InterpreterLike> | null;
    if (proto === undefined && this.name === 'executeStatement' && t && typeof t.executeScript === 'function') proto = Object.getPrototypeOf(t) as InterpreterLike;
    return bind.call(this, thisArg, ...args);
  } as typeof bind;
  try { await new Bash().exec('true'); } finally { Function.prototype.bind = bind; }
  if (!proto || ['executeStatement', 'executeScript', 'executeCommand'].some((k) => typeof (proto as unknown as Record<string, unknown>)[k] !== 'function')) throw new Error('exec isolation: cannot hook the just-bash interpreter (library changed?)');
  return proto;
}

function patch(proto: InterpreterLike): void {
  const statement = proto.executeStatement, script = proto.executeScript, command = proto.executeCommand;
  // `a || b` is one statement: a killed exec must not run b either.
  proto.executeCommand = function (this: InterpreterLike, ...a: unknown[]): Promise<unknown> {
    const m = this.ctx.sleep && meters.get(this.ctx.sleep);
    if (m?.killed) return Promise.reject(limitError(KILL_MARK));
    return command.apply(this, a);
  };
  proto.executeStatement = function (this: InterpreterLike, s: unknown): Promise<unknown> {
    const m = this.ctx.sleep && meters.get(this.ctx.sleep);
    let pause: Promise<void> | undefined;
    try { pause = m?.step(); } catch (e) { return Promise.reject(e); } // a kill rejects, as the async original would
    return pause ? pause.then(() => statement.call(this, s)) : statement.call(this, s);
  };
  proto.executeScript = function (this: InterpreterLike, s: unknown): Promise<unknown> {
    const m = this.ctx.sleep && meters.get(this.ctx.sleep);
    return script.call(this, s).catch((e: unknown) => {
      if (!LimitError && e instanceof Error && e.name === 'ExecutionLimitError') LimitError = e.constructor as LimitErrorClass;
      m?.noteError(e);
      throw e;
    });
  };
}
