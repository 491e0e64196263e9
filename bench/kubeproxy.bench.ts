// kube-proxy generator figures as JSON: one full iptables-mode sync for 1k
// and 10k ClusterIP services (2 endpoints each, so the 10k case runs in
// kube-proxy's large-cluster mode), as the restore input kube-proxy writes
// and as the complete `iptables-save` text of the node; and one IPVS sync.
// Target (issue 9): iptables-save for 10k services in <= 1 s.
// Run: node --expose-gc --import tsx bench/kubeproxy.bench.ts [--rounds N] [--only save10k]

import { restoreText, saveText, syncIptables, syncIpvs, type ProxyConfig } from '../src/kubeproxy/index.ts';
import { clusterIpState } from './lib/proxy_state.ts';
import { runBench } from './lib/harness.ts';
import { millis, span, type Figures } from './lib/figures.ts';

const cfg: ProxyConfig = { nodeName: 'node-0', nodeIP: '172.18.0.2', clusterCIDR: '10.10.0.0/16' };

const states = new Map([[1000, clusterIpState(1000)], [10000, clusterIpState(10000)]]);

function timed(n: number, what: 'restore' | 'save' | 'ipvs'): Figures {
  const st = states.get(n)!;
  const stop = span();
  let bytes: number, rules: number;
  if (what === 'ipvs') {
    const s = syncIpvs(st, cfg);
    bytes = s.virtualServers.length;
    rules = s.nat.rules.length + s.filter.rules.length;
  } else {
    const s = syncIptables(st, cfg);
    const text = what === 'restore' ? restoreText(s) : saveText(s);
    bytes = text.length;
    rules = s.nat.rules.length + s.filter.rules.length;
  }
  const t = stop();
  return { ms: millis(t.cpuMs, 'cpu'), wallMs: millis(t.wallMs, 'wall'), [what === 'ipvs' ? 'virtualServers' : 'bytes']: bytes, rules };
}

await runBench({
  header: {
    bench: 'kubeproxy',
    method: 'one full sync from plain Services/EndpointSlices (ClusterIP, 1 port, 2 endpoints each): syncIptables + restoreText (what kube-proxy writes) or saveText (the node\'s whole iptables-save); ms of process CPU (and wall) per sync',
    target: 'save10k.ms <= 1000',
  },
  rounds: 7,
  cases: [
    { name: 'restore1k', run: () => timed(1000, 'restore') },
    { name: 'save1k', run: () => timed(1000, 'save') },
    { name: 'restore10k', run: () => timed(10000, 'restore') },
    { name: 'save10k', run: () => timed(10000, 'save') },
    { name: 'ipvs10k', run: () => timed(10000, 'ipvs') },
  ],
});
