// The store as one SQLite file (better-sqlite3): a table of objects (one row
// per object, its JSON) and a table of small values (owner, counters, the
// datapath's part). WAL with synchronous=FULL: a save returns once its
// transaction is on disk, and a kill at any instant leaves the last whole
// transaction. The file is held with an exclusive lock, so two servers never
// share one store (the kernel drops the lock when the process dies).

import Database from 'better-sqlite3';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeState } from '../kube/state.ts';
import type { KObject } from '../kube/types.ts';
import { StoreError, type KubeStore, type Saved, type StoreOwner } from './store.ts';

/** Marks the file as dplab's (PRAGMA application_id): "dplb". */
const APPLICATION_ID = 0x64706c62;
/** Layout version (PRAGMA user_version); a newer one is refused. */
export const STORE_FORMAT = 1;
export const STORE_FILE = 'store.db';

const RESET_HINT = 'start afresh with `dplab serve --reset` (deletes the saved objects)';

type Db = Database.Database;

/** The store's file in dir, created with its schema when new. */
export function openSqliteStore(dir: string, opts: { reset?: boolean } = {}): KubeStore {
  const path = join(dir, STORE_FILE);
  try { mkdirSync(dir, { recursive: true, mode: 0o700 }); } catch (e) { throw new StoreError(`cannot create the data directory ${dir}: ${(e as Error).message}`); }
  if (opts.reset) reset(path);
  const db = openLocked(path);
  try {
    checkFormat(db, path);
    return new SqliteStore(db, path);
  } catch (e) { db.close(); throw e; }
}

/** Deletes the store's files; refuses while a server holds it. */
function reset(path: string): void {
  if (existsSync(path)) {
    // A damaged file is what --reset is for; only a store in use is left alone.
    try { openLocked(path).close(); } catch (e) { if (e instanceof StoreError && e.inUse) throw e; }
  }
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) rmSync(f, { force: true });
}

/** Opens path in WAL mode under an exclusive lock (taken by a first write, held until close). */
function openLocked(path: string): Db {
  let db: Db | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('BEGIN IMMEDIATE; COMMIT');
    return db;
  } catch (e) {
    db?.close();
    throw sqliteError(e, path, 'open');
  }
}

/** A SQLite error as a StoreError that says what to do. */
function sqliteError(e: unknown, path: string, doing: string): StoreError {
  const code = String((e as { code?: string }).code ?? '');
  const msg = (e as Error).message;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StoreError(`the store ${path} is in use by another dplab serve: stop it, or give another --data-dir, or --ephemeral`, true);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreError(`the store ${path} is damaged (${msg}): ${RESET_HINT}`);
  return new StoreError(`cannot ${doing} the store ${path}: ${msg}`);
}

function checkFormat(db: Db, path: string): void {
  try {
    const app = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (app === 0 && version === 0 && tables === 0) {
      db.exec(`BEGIN;
        CREATE TABLE objects (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${STORE_FORMAT}; COMMIT;`);
      return;
    }
    if (app !== APPLICATION_ID) throw new StoreError(`${path} is not a dplab store (another program's SQLite file): give another --data-dir, or ${RESET_HINT}`);
    if (version > STORE_FORMAT) throw new StoreError(`the store ${path} was written by a newer dplab (format ${version}; this one reads ${STORE_FORMAT}): run that dplab, or ${RESET_HINT}`);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new StoreError(`the store ${path} is damaged (${String(check)}): ${RESET_HINT}`);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw sqliteError(e, path, 'read');
  }
}

/** What tells a changed object: its resourceVersion (its JSON in the odd case it has none). */
function versionOf(obj: KObject): string { return obj.metadata.resourceVersion ?? JSON.stringify(obj); }

/** Table + key of an object, as one cache key. */
const rowId = (kind: string, key: string): string => `${kind}\0${key}`;

class SqliteStore implements KubeStore {
  /**
   * Each stored object's resourceVersion as last written: a save writes only
   * the objects whose version moved (the API server gives a changed object a
   * new one, as etcd's revision), not the whole state.
   */
  private readonly written = new Map<string, string>();
  private datapathJson: string | undefined;
  private owner: StoreOwner | undefined;
  private ownerSaved = false;
  private readonly put: Database.Statement;
  private readonly del: Database.Statement;
  private readonly setMeta: Database.Statement;

  constructor(private readonly db: Db, readonly path: string) {
    this.put = db.prepare('INSERT INTO objects (kind, key, body) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body');
    this.del = db.prepare('DELETE FROM objects WHERE kind = ? AND key = ?');
    this.setMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  }

  load(owner: StoreOwner): Saved | undefined {
    this.owner = owner;
    const meta = this.readMeta();
    if (meta.counters === undefined || meta.owner === undefined) return undefined;
    this.ownerSaved = true;
    const stored = parse(meta.owner, this.path, 'owner') as StoreOwner;
    this.checkOwner(stored, owner);
    const counters = parse(meta.counters, this.path, 'counters') as Pick<KubeState, 'resourceVersion' | 'draws' | 'seed'>;
    if (![counters.resourceVersion, counters.draws, counters.seed].every(Number.isInteger)) throw this.damaged('counters are not integers');
    const state: KubeState = { objects: {}, resourceVersion: counters.resourceVersion, draws: counters.draws, seed: counters.seed };
    try {
      for (const row of this.db.prepare('SELECT kind, key, body FROM objects').iterate() as Iterable<{ kind: string; key: string; body: string }>) {
        const obj = parse(row.body, this.path, `${row.kind} ${row.key}`) as KObject;
        if (obj?.kind !== row.kind || typeof obj.metadata?.name !== 'string') throw this.damaged(`row ${row.kind} ${row.key} is not that object`);
        (state.objects[row.kind] ??= {})[row.key] = obj;
        this.written.set(rowId(row.kind, row.key), versionOf(obj));
      }
    } catch (e) { throw e instanceof StoreError ? e : sqliteError(e, this.path, 'read'); }
    this.datapathJson = meta.datapath;
    return { state, datapath: meta.datapath === undefined ? undefined : parse(meta.datapath, this.path, 'datapath') };
  }

  save(state: KubeState, datapath: unknown): void {
    const puts: Array<[string, string, string, string]> = [];
    const seen = new Set<string>();
    for (const [kind, table] of Object.entries(state.objects)) {
      for (const [key, obj] of Object.entries(table)) {
        const id = rowId(kind, key), version = versionOf(obj);
        seen.add(id);
        if (this.written.get(id) !== version) puts.push([kind, key, JSON.stringify(obj), version]);
      }
    }
    const dels = [...this.written.keys()].filter((id) => !seen.has(id));
    const dp = datapath === undefined ? undefined : JSON.stringify(datapath);
    const write = this.db.transaction(() => {
      if (!this.ownerSaved && this.owner) this.setMeta.run('owner', JSON.stringify(this.owner));
      for (const [kind, key, body] of puts) this.put.run(kind, key, body);
      for (const id of dels) { const [kind, key] = id.split('\0'); this.del.run(kind, key); }
      this.setMeta.run('counters', JSON.stringify({ resourceVersion: state.resourceVersion, draws: state.draws, seed: state.seed }));
      if (dp !== undefined && dp !== this.datapathJson) this.setMeta.run('datapath', dp);
    });
    try { write(); } catch (e) { throw sqliteError(e, this.path, 'write to'); }
    for (const [kind, key, , version] of puts) this.written.set(rowId(kind, key), version);
    for (const id of dels) this.written.delete(id);
    this.datapathJson = dp;
    this.ownerSaved = true;
  }

  close(): void { if (this.db.open) this.db.close(); }

  private readMeta(): Record<string, string> {
    try {
      const rows = this.db.prepare('SELECT name, value FROM meta').all() as Array<{ name: string; value: string }>;
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    } catch (e) { throw sqliteError(e, this.path, 'read'); }
  }

  private checkOwner(stored: StoreOwner, owner: StoreOwner): void {
    if (typeof stored?.label !== 'string') throw this.damaged('no owner');
    if (stored.label !== owner.label) throw new StoreError(`the store ${this.path} holds ${stored.label}, not ${owner.label}: give another --data-dir, or ${RESET_HINT}`);
    if (stored.fingerprint !== owner.fingerprint) {
      throw new StoreError(`the store ${this.path} was saved for ${stored.label} as it was then; its spec or manifests have changed since: give another --data-dir, or ${RESET_HINT}`);
    }
    if (stored.seed !== owner.seed) throw new StoreError(`the store ${this.path} was saved with --seed ${stored.seed}: start with --seed ${stored.seed}, or ${RESET_HINT}`);
  }

  private damaged(why: string): StoreError { return new StoreError(`the store ${this.path} is damaged (${why}): ${RESET_HINT}`); }
}

function parse(text: string | undefined, path: string, what: string): unknown {
  try { return JSON.parse(text ?? ''); } catch { throw new StoreError(`the store ${path} is damaged (${what} is not JSON): ${RESET_HINT}`); }
}
