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

/** Generic header fields (-s -d -i -o -p) of a rule. */
function headerMatches(r: Rule, p: Pkt): boolean {
  const s = r.src;
  if (s !== null && (((p.src & s.mask) >>> 0) === s.ip) === s.inv) return false;
  const d = r.dst;
  if (d !== null && (((p.dst & d.mask) >>> 0) === d.ip) === d.inv) return false;
  if (r.proto !== 0 && (p.proto === r.proto) === r.protoInv) return false;
  if (r.inIf !== null && !ifMatch(r.inIf, p.inIf)) return false;
  if (r.outIf !== null && !ifMatch(r.outIf, p.outIf)) return false;
  return true;
}

/**
 * Walks `hook`'s built-in chain of table `t` for packet `p` (whose mark
 * MARK targets change). Returns the verdict and any NAT the rules chose.
 */
export function walk(t: Table, hook: Hook, p: Pkt, c: EvalCtx): WalkResult {
  const base = t.chains.get(hook);
  const res: WalkResult = { verdict: 'ACCEPT', nat: null, rulesWalked: 0 };
  if (!base) return res;
  const stackChain: Chain[] = [];
  const stackPos: number[] = [];
  let chain = base;
  let rules = chain.rules;
  let i = 0;
  let walked = 0;
  for (;;) {
    if (i >= rules.length) {
      if (stackChain.length === 0) { res.verdict = base.policy ?? 'ACCEPT'; break; }
      chain = stackChain.pop()!; i = stackPos.pop()!; rules = chain.rules;
      continue;
    }
    const r = rules[i++]!;
    walked++;
    if (!headerMatches(r, p)) continue;
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
      // return
      if (stackChain.length === 0) { res.verdict = base.policy ?? 'ACCEPT'; break; }
      chain = stackChain.pop()!; i = stackPos.pop()!; rules = chain.rules;
      continue;
    }
    if (r.verdict !== null) {
      if (r.verdict === 'RETURN') {
        if (stackChain.length === 0) { res.verdict = base.policy ?? 'ACCEPT'; break; }
        chain = stackChain.pop()!; i = stackPos.pop()!; rules = chain.rules;
        continue;
      }
      res.verdict = r.verdict;
      break;
    }
    if (r.jump !== null) {
      const next = t.chains.get(r.jump);
      if (!next) continue;
      if (!r.goto) {
        if (stackChain.length >= MAX_JUMP_DEPTH) { res.verdict = 'DROP'; break; }
        stackChain.push(chain); stackPos.push(i);
      }
      chain = next; rules = next.rules; i = 0;
    }
  }
  res.rulesWalked = walked;
  return res;
}
