// Update/delete notifications of a map, for user space that follows a map live
// (the agent's map event buffers, dplab's map watch). Nothing is paid when no
// one listens: maps read one field and test it against null.

import type { MapWatcher } from '../map.ts';

/**
 * The listeners of one map. `emit` is what the map calls after a change: null
 * while nobody listens, the listener itself when there is one, a fan-out
 * beyond. Listeners run synchronously and must copy the bytes they keep.
 */
export class Watchers {
  emit: MapWatcher | null = null;
  private list: MapWatcher[] = [];

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
    this.emit = l.length === 0 ? null : l.length === 1 ? l[0]! : (a, k, v) => { for (let i = 0; i < l.length; i++) l[i]!(a, k, v); };
  }
}
