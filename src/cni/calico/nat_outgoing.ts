// Felix's outbound NAT (the IPPool's natOutgoing): two hash:net ipsets, every
// IPAM pool and the pools with natOutgoing, and in the nat table a jump from
// POSTROUTING through cali-POSTROUTING to cali-nat-outgoing, which masquerades
// traffic from a masq pool to anything outside every pool. So a pod reaches
// the internet with its node's address while pod-to-pod traffic, to another
// pool address, keeps the pod's. The rule texts and their `cali:` hashes are
// those Calico 3.2x writes (iptables-save of a Calico node); Felix inserts its
// jumps at the top of the built-in chains.

import { iptables } from '../../netfilter/exec.ts';
import { ipsetTool } from '../../netfilter/ipset.ts';
import type { Netfilter } from '../../netfilter/netfilter.ts';

export const ALL_POOLS_SET = 'cali40all-ipam-pools';
export const MASQ_POOLS_SET = 'cali40masq-ipam-pools';

/** Felix's MaxIPSetSize default. */
const MAXELEM = '1048576';

function run(nf: Netfilter, argv: string[]): void {
  const r = iptables(nf.rules, ['-t', 'nat', ...argv]);
  if (r.code !== 0) throw new Error(`calico: iptables -t nat ${argv.join(' ')}: ${r.stderr.trim()}`);
}

function ipset(nf: Netfilter, argv: string[]): void {
  const r = ipsetTool(nf.ipsets, argv);
  if (r.code !== 0) throw new Error(`calico: ipset ${argv.join(' ')}: ${r.stderr.trim()}`);
}

/** Felix's jumps from the built-in nat chains. */
const JUMPS: Array<[string, string, string]> = [
  ['PREROUTING', 'cali:6gwbT8clXdHdC1b1', 'cali-PREROUTING'], ['OUTPUT', 'cali:tVnHkvAo15HuiPy0', 'cali-OUTPUT'], ['POSTROUTING', 'cali:O3lYWMrLQYEMJtB5', 'cali-POSTROUTING'],
];

/**
 * Felix's insert mode: its jump is the first rule of each built-in chain; one
 * found lower (kube-proxy inserted its own above it) is deleted and inserted
 * again at the top, as Felix's sync does.
 */
export function felixJumpsFirst(nf: Netfilter): void {
  for (const [chain, hash, target] of JUMPS) {
    const rule = ['-m', 'comment', '--comment', hash, '-j', target];
    const first = nf.rules.tables.nat.chains.get(chain)?.rules[0];
    if (first?.jump === target) continue;
    if (iptables(nf.rules, ['-t', 'nat', '-C', chain, ...rule]).code === 0) run(nf, ['-D', chain, ...rule]);
    run(nf, ['-I', chain, '1', ...rule]);
  }
}

/**
 * Program a node's natOutgoing state: the pools' ipsets and Felix's static nat
 * chains. `pools` are the IPPool CIDRs; `masq` those with natOutgoing: true
 * (no masq pool: cali-nat-outgoing stays empty, as Felix leaves it).
 */
export function programNatOutgoing(nf: Netfilter, pools: string[], masq: string[]): void {
  for (const [name, members] of [[ALL_POOLS_SET, pools], [MASQ_POOLS_SET, masq]] as const) {
    ipset(nf, ['create', name, 'hash:net', 'family', 'inet', 'hashsize', '1024', 'maxelem', MAXELEM]);
    for (const m of members) ipset(nf, ['add', name, m]);
  }
  for (const c of ['cali-PREROUTING', 'cali-OUTPUT', 'cali-POSTROUTING', 'cali-fip-dnat', 'cali-fip-snat', 'cali-nat-outgoing']) run(nf, ['-N', c]);
  felixJumpsFirst(nf);
  run(nf, ['-A', 'cali-PREROUTING', '-m', 'comment', '--comment', 'cali:r6XmIziWUJsdOK6Z', '-j', 'cali-fip-dnat']);
  run(nf, ['-A', 'cali-OUTPUT', '-m', 'comment', '--comment', 'cali:GBTAv2p5CwevEyJm', '-j', 'cali-fip-dnat']);
  run(nf, ['-A', 'cali-POSTROUTING', '-m', 'comment', '--comment', 'cali:Z-c7XtVd2Bq7s_hA', '-j', 'cali-fip-snat']);
  run(nf, ['-A', 'cali-POSTROUTING', '-m', 'comment', '--comment', 'cali:nYKhEzDlr11Jccal', '-j', 'cali-nat-outgoing']);
  if (masq.length > 0) {
    run(nf, ['-A', 'cali-nat-outgoing', '-m', 'comment', '--comment', 'cali:flqWnvo8yq4ULQLa', '-m', 'set', '--match-set', MASQ_POOLS_SET, 'src',
      '-m', 'set', '!', '--match-set', ALL_POOLS_SET, 'dst', '-j', 'MASQUERADE', '--random-fully']);
  }
}
