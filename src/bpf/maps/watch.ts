// Update/delete notifications of a map, for user space that follows a map live
// (the agent's map event buffers, dplab's map watch). Nothing is paid when no
// one listens: maps read one field and test it against null.

import type { MapWatcher } from '../map.ts';

/**
 * The listeners of one map. What the map calls after a change is handed to
 * `publish` whenever the listeners change: null while nobody listens, the
 * listener itself when there is one, a fan-out beyond. The map keeps it in a
 * field of its own (one load on the hot path). Listeners run synchronously
 * and must copy the bytes they keep.
 */
export class Watchers {
  private list: MapWatcher[] = [];
  constructor(private readonly publish: (emit: MapWatcher | null) => void) {}

  /** Adds a listener; returns the function that removes it (once). */
  add(fn: MapWatcher): () => void {
    this.list = [...this.list, fn];
    this.rebuild();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.list = this.list.filter((f) => f !== fn);
      this.rebuild();
    };
  }

  private rebuild(): void {
    const l = this.list;
    this.publish(l.length === 0 ? null : l.length === 1 ? l[0]! : (a, k, v) => { for (let i = 0; i < l.length; i++) l[i]!(a, k, v); });
  }
}
