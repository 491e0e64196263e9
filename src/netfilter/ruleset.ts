// The tables of one network namespace: raw, mangle, nat and filter, each
// with its built-in chains (hook order), user chains, policies and per-rule
// counters. Operations mirror the iptables commands and fail with the
// kernel's texts; restore.ts applies a COMMIT to a copy and swaps it in.

import { BAD_RULE, EEXIST_CHAIN, ENOENT_CHAIN, commitError } from './errors.ts';
import type { Hook, Rule, TableName } from './types.ts';

/** Built-in chains of each table, in hook order (iptables-save prints them so). */
export const BUILTIN: Record<TableName, readonly Hook[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};
/** iptables-nft-save's table order. */
export const TABLE_ORDER: readonly TableName[] = ['mangle', 'raw', 'filter', 'nat'];
export const isTableName = (s: string): s is TableName => s === 'raw' || s === 'mangle' || s === 'nat' || s === 'filter';

/** Longest chain name iptables accepts (XT_EXTENSION_MAXNAMELEN - 1). */
export const MAX_CHAIN_NAME = 28;
/** Bounds on what one namespace may hold: user input never grows without limit. */
/** Rules per chain (the bound a user's input meets; kube-proxy's 10k services need ~10k in KUBE-SERVICES). */
export const MAX_RULES = 1_000_000;
export const MAX_CHAINS = 200_000;

export class Chain {
  private list: Rule[] = [];
  /** The rules' header fields packed for the walk (eval.ts compile); rebuilt after any change. */
  compiled: Int32Array | null = null;
  get rules(): Rule[] { return this.list; }
  set rules(r: Rule[]) { this.list = r; this.compiled = null; }
  /** After an in-place change of `rules`. */
  changed(): void { this.compiled = null; }
  /** Built-in chains only: policy and its counters. */
  policy: 'ACCEPT' | 'DROP' | null;
  pkts = 0;
  bytes = 0;
  constructor(readonly name: string, readonly builtin: boolean) {
    this.policy = builtin ? 'ACCEPT' : null;
  }
  copy(): Chain {
    const c = new Chain(this.name, this.builtin);
    c.rules = this.rules.slice(); c.policy = this.policy; c.pkts = this.pkts; c.bytes = this.bytes;
    return c;
  }
}

export class Table {
  /** nf_tables creates a table on its first change; listing does not. */
  exists = false;
  readonly chains = new Map<string, Chain>();
  constructor(readonly name: TableName) {
    for (const h of BUILTIN[name]) this.chains.set(h, new Chain(h, true));
  }
  copy(): Table {
    const t = new Table(this.name);
    t.exists = this.exists;
    t.chains.clear();
    for (const [n, c] of this.chains) t.chains.set(n, c.copy());
    return t;
  }
  /** Built-in chains in hook order, then user chains sorted by name (strcmp). */
  ordered(): Chain[] {
    const b = BUILTIN[this.name].map((h) => this.chains.get(h)!);
    const u = [...this.chains.values()].filter((c) => !c.builtin).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    return [...b, ...u];
  }
  chain(name: string): Chain {
    const c = this.chains.get(name);
    if (!c) throw commitError(ENOENT_CHAIN);
    return c;
  }
  /** Rules anywhere in the table that jump or go to `name`. */
  references(name: string): number {
    let n = 0;
    for (const c of this.chains.values()) for (const r of c.rules) if (r.jump === name) n++;
    return n;
  }
  /** Jump/goto references of every chain, counted in one pass (-L's "(N references)"). */
  referenceCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.chains.values()) for (const r of c.rules) if (r.jump !== null) m.set(r.jump, (m.get(r.jump) ?? 0) + 1);
    return m;
  }
  ruleCount(): number {
    let n = 0;
    for (const c of this.chains.values()) n += c.rules.length;
    return n;
  }

  newChain(name: string): void {
    if (this.chains.has(name)) throw commitError(EEXIST_CHAIN);
    if (this.chains.size >= MAX_CHAINS) throw commitError('Cannot allocate memory');
    this.chains.set(name, new Chain(name, false));
  }
  /** -X NAME: only an empty, unreferenced user chain. */
  deleteChain(name: string): void {
    const c = this.chains.get(name);
    if (!c || c.builtin) throw commitError(ENOENT_CHAIN);
    if (c.rules.length > 0 || this.references(name) > 0) throw new BusyChain(name);
    this.chains.delete(name);
  }
  /** -X with no name: every empty unreferenced user chain... iptables deletes all user chains (they must be flushed). */
  deleteAllUserChains(): void {
    for (const c of [...this.chains.values()]) {
      if (c.builtin) continue;
      if (c.rules.length > 0 || this.references(c.name) > 0) throw new BusyChain(c.name);
    }
    for (const c of [...this.chains.values()]) if (!c.builtin) this.chains.delete(c.name);
  }
  flush(name?: string): void {
    if (name === undefined) { for (const c of this.chains.values()) c.rules = []; return; }
    this.chain(name).rules = [];
  }
  append(name: string, r: Rule): void { this.insert(name, this.chain(name).rules.length + 1, r); }
  /** -I CHAIN [N] (1-based). */
  insert(name: string, pos: number, r: Rule): void {
    const c = this.chain(name);
    if (pos < 1 || pos > c.rules.length + 1) throw commitError('Index of insertion too big');
    if (c.rules.length >= MAX_RULES) throw commitError('Cannot allocate memory');
    c.rules.splice(pos - 1, 0, r);
    c.changed();
  }
  /** -D CHAIN N. */
  deleteAt(name: string, pos: number): void {
    const c = this.chain(name);
    if (pos < 1 || pos > c.rules.length) throw commitError('Index of deletion too big');
    c.rules.splice(pos - 1, 1);
    c.changed();
  }
  /** -D CHAIN rule-spec: the first rule with the same canonical text. */
  deleteMatching(name: string, text: string, save: (r: Rule) => string): void {
    const c = this.chain(name);
    const i = c.rules.findIndex((r) => save(r) === text);
    if (i < 0) throw commitError(BAD_RULE);
    c.rules.splice(i, 1);
    c.changed();
  }
  setPolicy(name: string, policy: string, pkts?: number, bytes?: number): void {
    const c = this.chains.get(name);
    if (!c || !c.builtin) throw commitError('Bad built-in chain name');
    if (policy !== 'ACCEPT' && policy !== 'DROP') throw commitError('Bad policy name');
    c.policy = policy;
    if (pkts !== undefined) { c.pkts = pkts; c.bytes = bytes ?? 0; }
  }
  /** -Z [CHAIN]: rule counters and policy counters. */
  zero(name?: string): void {
    const cs = name === undefined ? [...this.chains.values()] : [this.chain(name)];
    for (const c of cs) {
      c.pkts = 0; c.bytes = 0;
      for (const r of c.rules) { r.pkts = 0; r.bytes = 0; }
    }
  }
}

/** -X of a chain in use: nft reports EBUSY with the chain's name. */
export class BusyChain extends Error {
  constructor(readonly chain: string) { super(`CHAIN_DEL failed (Device or resource busy): chain ${chain}`); }
}

/** All four tables of a namespace. */
export class Ruleset {
  tables: Record<TableName, Table> = { raw: new Table('raw'), mangle: new Table('mangle'), nat: new Table('nat'), filter: new Table('filter') };
  /** Bumped on every change: the evaluator's "any rules?" fast path reads it. */
  generation = 0;
  table(name: TableName): Table { return this.tables[name]; }
  /** Swap in a table built by a restore transaction. */
  replace(t: Table): void { this.tables[t.name] = t; this.generation++; }
  touched(): void { this.generation++; }
  private emptyAt = -1;
  private emptyVal = true;
  /** True when no table holds a rule or a non-ACCEPT policy: a node without rules pays nothing. Cached per generation. */
  empty(): boolean {
    if (this.emptyAt !== this.generation) { this.emptyVal = this.computeEmpty(); this.emptyAt = this.generation; }
    return this.emptyVal;
  }
  private computeEmpty(): boolean {
    for (const n of TABLE_ORDER) {
      const t = this.tables[n];
      if (t.ruleCount() > 0) return false;
      for (const h of BUILTIN[n]) if (t.chains.get(h)!.policy !== 'ACCEPT') return false;
    }
    return true;
  }
}
