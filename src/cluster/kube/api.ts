// The emulated API server: holds the committed state, runs requests on a
// copy, commits, then tells the watcher (the cluster's datapath glue) what
// changed.

import type { Sim } from '../../sim/sim.ts';
import type { ClusterSpec } from '../spec.ts';
import { bootstrap, type CorednsPin } from './bootstrap.ts';
import { applyDocs, applySteps, deleteDocs, deleteDocsSteps, deleteObjects, parseManifests, patchObject, runSteps, type Steps } from './request.ts';
import { getObj, listObjs, newState, type KubeEnv, type KubeState } from './state.ts';
import type { KObject } from './types.ts';

/** Called after each committed request with the state before and after. */
export type Watcher = (before: KubeState, after: KubeState) => void;
/** A watcher's work as steps: a sliced write's commit runs them in slices (the write queue stays closed meanwhile). */
export type SteppedWatcher = (before: KubeState, after: KubeState) => Steps<void>;

export class KubeApi {
  private state: KubeState;
  readonly env: KubeEnv;
  private watchers: Watcher[] = [];
  private readonly stepped = new Map<Watcher, SteppedWatcher>();
  private durable?: (state: KubeState) => void;
  /** The sliced writes, one after another: each starts when the one before has committed or failed. */
  private writes: Promise<unknown> = Promise.resolve();
  private sliced = 0;

  /** `restore`: the state a store kept (no bootstrap then). */
  constructor(readonly spec: ClusterSpec, readonly sim: Sim, opts: { seed: number; reservedIPs?: (node: string) => Set<number>; coredns?: CorednsPin; restore?: KubeState; systemObjects?: KObject[] }) {
    this.env = {
      spec,
      nowIso: () => isoSecond(Math.floor(sim.wallMs() / 1000)),
      reservedIPs: (n) => opts.reservedIPs?.(n) ?? new Set(),
    };
    this.state = opts.restore ?? newState(opts.seed);
    if (!opts.restore) bootstrap(this.state, this.env, opts.coredns, opts.systemObjects);
  }

  /** `steps`: the same work as steps, for the sliced writes' commits (w runs the others in one turn). */
  watch(w: Watcher, steps?: SteppedWatcher): void { this.watchers.push(w); if (steps) this.stepped.set(w, steps); }

  /**
   * Every later commit is made durable by save (after the watchers, so it
   * sees the datapath's part too) before the request returns; if save throws,
   * the commit is undone and the error is the request's.
   */
  persistWith(save: (state: KubeState) => void): void { this.durable = save; }

  private commit(next: KubeState): void {
    const before = this.state;
    this.state = next;
    for (const w of this.watchers) w(before, next);
    this.saveOrUndo(before, next);
  }

  /**
   * commit() whose stepped watchers run in slices. Reads see `next` from the
   * start (the objects, then the datapath catching up, as pods go from
   * ContainerCreating to Running). A write in one turn meanwhile commits on
   * top (its watchers finish ours first) and its save holds ours too; if its
   * save failed, the state is back to `next` and ours is saved here.
   */
  private async commitSliced(next: KubeState): Promise<void> {
    const before = this.state;
    this.state = next;
    for (const w of this.watchers) {
      const steps = this.stepped.get(w);
      if (steps) await inSlices(steps(before, next)); else w(before, next);
    }
    if (this.state === next) this.saveOrUndo(before, next);
  }

  private saveOrUndo(before: KubeState, next: KubeState): void {
    if (!this.durable) return;
    try { this.durable(next); } catch (e) {
      this.state = before;
      for (const w of this.watchers) w(next, before);
      throw e;
    }
  }

  apply(yaml: string, mode: 'apply' | 'create' = 'apply'): string[] {
    const r = applyDocs(this.state, this.env, parseManifests(yaml), mode, true);
    this.commit(r.state);
    return r.lines;
  }

  applyObjects(objs: KObject[], mode: 'apply' | 'create' = 'apply'): string[] {
    const r = applyDocs(this.state, this.env, objs, mode);
    this.commit(r.state);
    return r.lines;
  }

  /**
   * One object in its own request, as `kubectl create` sends each object of a
   * stream separately: it commits alone, or throws and commits nothing.
   */
  createObject(obj: KObject): string {
    const r = applyDocs(this.state, this.env, [obj], 'create');
    this.commit(r.state);
    return r.lines[0]!;
  }

  delete(yaml: string): string[] {
    const r = deleteDocs(this.state, this.env, parseManifests(yaml));
    this.commit(r.state);
    return r.lines;
  }

  deleteNamed(kind: string, namespace: string | undefined, names: string[]): string[] {
    const r = deleteObjects(this.state, this.env, names.map((name) => ({ kind, namespace, name })));
    this.commit(r.state);
    return r.lines;
  }

  patch(kind: string, namespace: string | undefined, name: string, type: 'merge' | 'strategic' | 'json', patch: string): string[] {
    const r = patchObject(this.state, this.env, kind, namespace, name, type, patch);
    this.commit(r.state);
    return r.lines;
  }

  /**
   * apply over HTTP: the request's work is done in slices of ~SLICE_MS that
   * yield to the event loop, so reads and /healthz are answered meanwhile;
   * writes sent meanwhile queue behind it. All-or-nothing as apply(): the
   * work runs on a copy, committed (and made durable) only once it all
   * succeeded; the promise settles after that.
   */
  applySliced(yaml: string, mode: 'apply' | 'create' = 'apply'): Promise<string[]> {
    return this.queue((s) => applySteps(s, this.env, parseManifests(yaml), mode, true));
  }

  deleteSliced(yaml: string): Promise<string[]> {
    return this.queue((s) => deleteDocsSteps(s, this.env, parseManifests(yaml)));
  }

  /** Sliced writes queued or under way (tests wait for one to have started). */
  get slicedWrites(): number { return this.sliced; }

  /** `steps` parses the request (its documents are its own: admission writes into them) and works it out on a state. */
  private queue(steps: (s: KubeState) => Steps<{ state: KubeState; lines: string[] }>): Promise<string[]> {
    this.sliced++;
    const run = this.writes.then(async () => {
      const base = this.state;
      let r = await inSlices(steps(base));
      // A synchronous write (kubectl in an exec) committed meanwhile: this one comes after it, on its state, from a fresh parse.
      if (this.state !== base) r = runSteps(steps(this.state));
      await this.commitSliced(r.state);
      return r.lines;
    }).finally(() => { this.sliced--; });
    this.writes = run.catch(() => undefined);
    return run;
  }

  get(kind: string, namespace: string | undefined, name: string): KObject | undefined { return getObj(this.state, kind, namespace, name); }
  list(kind: string, namespace?: string): KObject[] { return listObjs(this.state, kind, namespace); }
  /** The committed state (read-only by convention). */
  snapshot(): KubeState { return this.state; }
}

/** RFC 3339 of a wall-clock second, the last one remembered (a big request stamps thousands of objects within one second). */
let lastIso: { sec: number; text: string } | undefined;
function isoSecond(sec: number): string {
  if (lastIso?.sec !== sec) lastIso = { sec, text: new Date(sec * 1000).toISOString().replace('.000Z', 'Z') };
  return lastIso.text;
}

/** Work between two turns of the event loop in a sliced write. */
const SLICE_MS = 8;

/** Runs steps to the end, yielding to the event loop (setImmediate: I/O first) every SLICE_MS. */
async function inSlices<T>(g: Steps<T>): Promise<T> {
  let until = performance.now() + SLICE_MS;
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    if (performance.now() >= until) {
      await new Promise((res) => setImmediate(res));
      until = performance.now() + SLICE_MS;
    }
  }
}
