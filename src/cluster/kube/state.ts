// The API server's storage: every object as plain JSON, plus the counters
// that make names and UIDs deterministic. A request works on a clone and the
// clone replaces the state only when the whole request succeeded.

import { Rng } from '../../sim/sim.ts';
import type { ClusterSpec } from '../spec.ts';
import { trackerIfAny } from './tracker.ts';
import { objKey, type KObject } from './types.ts';

export interface KubeState {
  objects: Record<string, Record<string, KObject>>;
  resourceVersion: number;
  /** Draw counter; with seed it makes every generated name reproducible. */
  draws: number;
  seed: number;
}

/** What admission and controllers read besides the state. */
export interface KubeEnv {
  spec: ClusterSpec;
  /** Virtual wall clock as RFC 3339 (creationTimestamp). */
  nowIso(): string;
  /** Pod-CIDR addresses the node's agent holds (router, health), never handed to pods. */
  reservedIPs(node: string): Set<number>;
}

export function newState(seed: number): KubeState {
  return { objects: {}, resourceVersion: 1000, draws: 0, seed: seed >>> 0 };
}

export function cloneState(s: KubeState): KubeState {
  const g = cloneStateSteps(s);
  for (;;) { const r = g.next(); if (r.done) return r.value; }
}

/**
 * A deep copy of JSON-shaped data (what objects are: plain objects, arrays,
 * scalars; never cycles), ~6x faster than structuredClone on a pod; shared
 * sub-objects come out as separate copies. `__proto__` stays an own key.
 */
export function copyJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyJson(v[i]);
    return a as T;
  }
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = copyJson((v as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true }); else o[k] = x;
  }
  return o as T;
}

/** Objects cloned between two yields of cloneStateSteps. */
const CLONE_STEP = 200;

/**
 * A deep copy of the state, object by object with a yield every CLONE_STEP
 * objects (a big state's copy is a request's first slices); each kind's
 * sorted keys come along.
 */
export function* cloneStateSteps(s: KubeState): Generator<void, KubeState, void> {
  const objects: KubeState['objects'] = {};
  let n = 0;
  for (const [kind, table] of Object.entries(s.objects)) {
    const copy: Record<string, KObject> = {};
    for (const k of Object.keys(table)) {
      copy[k] = copyJson(table[k]!);
      if (++n % CLONE_STEP === 0) yield;
    }
    objects[kind] = copy;
    if (sortedKeys.has(table)) sortedKeys.set(copy, { keys: keysOf(table), added: new Set(), deleted: new Set() });
  }
  return { ...s, objects };
}

export function getObj(s: KubeState, kind: string, namespace: string | undefined, name: string): KObject | undefined {
  return s.objects[kind]?.[objKey(namespace, name)];
}

/**
 * Sorted keys per kind table (big states list the same kinds over and over),
 * with the keys added and deleted since they were sorted: putObj/delObj note
 * a change in O(1) and the next keysOf merges them in, O(n + k log k), instead
 * of shifting the array once per object.
 */
interface SortedKeys { keys: string[]; added: Set<string>; deleted: Set<string> }
const sortedKeys = new WeakMap<Record<string, KObject>, SortedKeys>();

/** The table's keys, sorted (a shared array: callers must not mutate it). */
export function keysOf(table: Record<string, KObject>): string[] {
  const sk = sortedKeys.get(table);
  if (!sk) { const keys = Object.keys(table).sort(); sortedKeys.set(table, { keys, added: new Set(), deleted: new Set() }); return keys; }
  if (sk.added.size > 0 || sk.deleted.size > 0) {
    sk.keys = mergeSorted(sk.deleted.size > 0 ? sk.keys.filter((k) => !sk.deleted.has(k)) : sk.keys, [...sk.added].sort());
    sk.added.clear(); sk.deleted.clear();
  }
  return sk.keys;
}

/** How many objects the table holds (O(1) once its keys were sorted). */
export function tableSize(table: Record<string, KObject>): number {
  const sk = sortedKeys.get(table);
  return sk ? sk.keys.length + sk.added.size - sk.deleted.size : keysOf(table).length;
}

/** Two sorted arrays as one (default sort order: UTF-16 code units). */
function mergeSorted(a: string[], b: string[]): string[] {
  if (b.length === 0) return a;
  const out = new Array<string>(a.length + b.length);
  let i = 0, j = 0, o = 0;
  while (i < a.length && j < b.length) out[o++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[o++] = a[i++]!;
  while (j < b.length) out[o++] = b[j++]!;
  return out;
}

/** Objects of a kind, in namespace (all when undefined), sorted by namespace then name like the API server. */
export function listObjs(s: KubeState, kind: string, namespace?: string): KObject[] {
  const table = s.objects[kind];
  if (!table) return [];
  const out: KObject[] = [];
  for (const k of keysOf(table)) { const o = table[k]!; if (namespace === undefined || o.metadata.namespace === namespace) out.push(o); }
  return out;
}

/** Objects of a kind by key (`ns/name`), in sorted key order, skipping absent ones. */
export function objsByKeys(s: KubeState, kind: string, keys: Iterable<string>): KObject[] {
  const table = s.objects[kind] ?? {};
  return [...keys].sort().map((k) => table[k]).filter((o): o is KObject => o !== undefined);
}

/** Store obj, stamping uid/creationTimestamp on create and bumping resourceVersion; `changed`: the caller knows it differs from the stored one (no second comparison). */
export function putObj(s: KubeState, env: KubeEnv, obj: KObject, changed = false): KObject {
  const table = (s.objects[obj.kind] ??= {});
  const key = objKey(obj.metadata.namespace, obj.metadata.name);
  const old = table[key];
  obj.metadata.uid = old?.metadata.uid ?? obj.metadata.uid ?? uid(s);
  obj.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? obj.metadata.creationTimestamp ?? env.nowIso();
  if (!old || changed || JSON.stringify(old) !== JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } })) {
    obj.metadata.resourceVersion = String(++s.resourceVersion);
  } else obj.metadata.resourceVersion = old.metadata.resourceVersion; // unchanged: keeps its version (the request deleted it from obj)
  table[key] = obj;
  if (!old) { const sk = sortedKeys.get(table); if (sk && !sk.deleted.delete(key)) sk.added.add(key); }
  trackerIfAny(s)?.onPut(obj, old);
  return obj;
}

export function delObj(s: KubeState, kind: string, namespace: string | undefined, name: string): boolean {
  const table = s.objects[kind];
  const key = objKey(namespace, name);
  const old = table?.[key];
  if (!table || !old) return false;
  delete table[key];
  const sk = sortedKeys.get(table);
  if (sk && !sk.added.delete(key)) sk.deleted.add(key);
  trackerIfAny(s)?.onDelete(old);
  return true;
}

/** Next random u32 of the state's own stream (survives cloning, unlike an Rng object). */
export function draw(s: KubeState): number {
  return new Rng((s.seed ^ Math.imul(++s.draws, 0x9e3779b9)) >>> 0).u32();
}

/** Kubernetes' rand.String alphabet (no vowels, no look-alikes). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
export function randSuffix(s: KubeState, n = 5): string {
  let out = '';
  for (let i = 0; i < n; i++) out += SAFE[draw(s) % SAFE.length];
  return out;
}

/** Kubernetes' SafeEncodeString of a hash (pod-template-hash). */
export function safeEncode(v: number): string {
  const digits = String(v >>> 0);
  let out = '';
  for (const c of digits) out += SAFE[(c.charCodeAt(0)) % SAFE.length];
  return out;
}

/** FNV-1a 32 over a string (pod-template-hash input). */
export function fnv32a(str: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}

function uid(s: KubeState): string {
  const h = (n: number) => (draw(s) >>> 0).toString(16).padStart(8, '0').slice(0, n);
  return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[draw(s) % 4]}${h(3)}-${h(8)}${h(4)}`;
}
