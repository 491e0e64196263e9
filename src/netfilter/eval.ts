// The chain walk of one table at one hook (ipt_do_table / nft_do_chain):
// rules in order, all matches ANDed, counters bumped before the target
// runs, jumps and gotos on a bounded stack, RETURN and a user chain's end
// back to the caller, a built-in chain's end to its policy (nft counts no
// policy packets).

import type { Chain, Table } from './ruleset.ts';
import type { EvalCtx, Hook, IfaceMatch, NatRequest, Pkt, Rule } from './types.ts';

/** The kernel refuses rule sets jumping deeper than this. */
export const MAX_JUMP_DEPTH = 64;

export interface WalkResult {
  verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  rejectWith?: string;
  /** A NAT target that matched (nat table only). */
  nat: NatRequest | null;
  /** Rules whose matches were evaluated: the cost a packet pays. */
  rulesWalked: number;
}

function ifMatch(f: IfaceMatch, dev: string): boolean {
  const hit = f.wildcard ? dev.startsWith(f.name) : dev === f.name;
  return hit !== f.inv;
}

/** Words per rule in a chain's packed header array. */
const W = 6;
const F_SRC = 1, F_SRC_INV = 2, F_DST = 4, F_DST_INV = 8, F_PROTO = 16, F_PROTO_INV = 32, F_IFACE = 64;

/**
 * Packs every rule's -s/-d/-p into one Int32Array (src, srcMask, dst,
 * dstMask, proto, flags): the walk reads 24 contiguous bytes per rule that
 * does not match instead of chasing objects, which keeps a 10k-rule
 * KUBE-SERVICES in cache.
 */
function compile(c: Chain): Int32Array {
  const rules = c.rules;
  const h = new Int32Array(rules.length * W);
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!, b = i * W;
    let f = 0;
    if (r.src) { h[b] = r.src.ip | 0; h[b + 1] = r.src.mask | 0; f |= F_SRC | (r.src.inv ? F_SRC_INV : 0); }
    if (r.dst) { h[b + 2] = r.dst.ip | 0; h[b + 3] = r.dst.mask | 0; f |= F_DST | (r.dst.inv ? F_DST_INV : 0); }
    if (r.proto !== 0) { h[b + 4] = r.proto; f |= F_PROTO | (r.protoInv ? F_PROTO_INV : 0); }
    if (r.inIf !== null || r.outIf !== null) f |= F_IFACE;
    h[b + 5] = f;
  }
  c.compiled = h;
  return h;
}

function ifaceMatches(r: Rule, p: Pkt): boolean {
  if (r.inIf !== null && !ifMatch(r.inIf, p.inIf)) return false;
  if (r.outIf !== null && !ifMatch(r.outIf, p.outIf)) return false;
  return true;
}

/** The jump stack, shared by every walk (a walk never starts another): no arrays allocated per packet. */
const stackChain: Chain[] = [];
const stackPos: number[] = [];

/**
 * Walks `hook`'s built-in chain of table `t` for packet `p` (whose mark
 * MARK targets change). Returns the verdict and any NAT the rules chose.
 */
export function walk(t: Table, hook: Hook, p: Pkt, c: EvalCtx): WalkResult {
  const base = t.chains.get(hook);
  const res: WalkResult = { verdict: 'ACCEPT', nat: null, rulesWalked: 0 };
  if (!base) return res;
  let sp = 0;
  let chain = base;
  let rules = chain.rules;
  let hdr = chain.compiled ?? compile(chain);
  let i = 0;
  let walked = 0;
  // Where the current chain's segment began, for walkSink (told at chain switches, never per rule).
  let seg = 0;
  let returned = false;
  const sink = c.walkSink ?? null;
  const src = p.src | 0, dst = p.dst | 0, proto = p.proto;
  for (;;) {
    // The chain's end, or a RETURN (a rule's target or verdict): back to the calling chain, or the policy.
    if (i >= rules.length || returned) {
      returned = false;
      if (sp === 0) { res.verdict = base.policy ?? 'ACCEPT'; break; }
      if (sink !== null) sink(chain.name, i - seg);
      sp--; chain = stackChain[sp]!; i = stackPos[sp]!; rules = chain.rules; hdr = chain.compiled ?? compile(chain); seg = i;
      continue;
    }
    const b = i * W, f = hdr[b + 5]!;
    i++;
    walked++;
    if ((f & F_DST) !== 0 && ((dst & hdr[b + 3]!) === hdr[b + 2]) !== ((f & F_DST_INV) === 0)) continue;
    if ((f & F_SRC) !== 0 && ((src & hdr[b + 1]!) === hdr[b]) !== ((f & F_SRC_INV) === 0)) continue;
    if ((f & F_PROTO) !== 0 && (proto === hdr[b + 4]) !== ((f & F_PROTO_INV) === 0)) continue;
    const r = rules[i - 1]!;
    if ((f & F_IFACE) !== 0 && !ifaceMatches(r, p)) continue;
    const tests = r.tests;
    let ok = true;
    for (let k = 0; k < tests.length; k++) if (!tests[k]!.test!(p, c)) { ok = false; break; }
    if (!ok) continue;
    r.pkts++; r.bytes += p.len;
    if (r.target !== null) {
      const out = r.target.run(p, c);
      if (out.kind === 'continue') continue;
      if (out.kind === 'verdict') { res.verdict = out.verdict; if (out.rejectWith) res.rejectWith = out.rejectWith; break; }
      if (out.kind === 'nat') { res.nat = out.nat; res.verdict = 'ACCEPT'; break; }
      returned = true; // the target said return
      continue;
    }
    if (r.verdict !== null) {
      if (r.verdict === 'RETURN') { returned = true; continue; }
      res.verdict = r.verdict;
      break;
    }
    if (r.jump !== null) {
      const next = t.chains.get(r.jump);
      if (!next) continue;
      if (!r.goto) {
        if (sp >= MAX_JUMP_DEPTH) { res.verdict = 'DROP'; break; }
        stackChain[sp] = chain; stackPos[sp] = i; sp++;
      }
      if (sink !== null) sink(chain.name, i - seg);
      chain = next; rules = next.rules; hdr = next.compiled ?? compile(next); i = 0; seg = 0;
    }
  }
  if (sink !== null) sink(chain.name, i - seg);
  res.rulesWalked = walked;
  return res;
}
