// From what the cluster hands a service proxy (src/datapath's ServicePort list,
// a KubeProxyConfiguration) to the generators: the same rules as from the
// Kubernetes objects themselves.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { ServicePort } from '../src/datapath/contract.ts';
import {
  iptablesRestore, KubeProxyInputError, proxyConfigFromKubeProxyConfiguration, stateFromObjects, stateFromServicePorts, syncIpvs,
} from '../src/kubeproxy/index.ts';
import { ipv4ToInt } from '../src/kubeproxy/ip.ts';

const sc = YAML.parse(readFileSync(join(import.meta.dirname, 'scenarios', 'kubeproxy', 'seed000.yaml'), 'utf8'));

/** The seed 000 objects as the seam carries them. */
function seamPorts(): ServicePort[] {
  const objs = sc.objects as Array<Record<string, any>>;
  const out: ServicePort[] = [];
  for (const svc of objs.filter((o) => o.kind === 'Service')) {
    const slice = objs.find((o) => o.kind === 'EndpointSlice' && o.metadata.labels['kubernetes.io/service-name'] === svc.metadata.name)!;
    for (const p of svc.spec.ports) {
      const sp = slice.ports.find((x: any) => x.name === p.name);
      out.push({
        namespace: svc.metadata.namespace, name: svc.metadata.name, portName: p.name, protocol: p.protocol, type: svc.spec.type,
        clusterIP: ipv4ToInt(svc.spec.clusterIP), port: p.port, nodePort: 0, externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [],
        affinityTimeoutSec: 0, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster',
        endpoints: slice.endpoints.map((e: any) => ({ ip: ipv4ToInt(e.addresses[0]), port: sp.port, nodeName: e.nodeName ?? '', ready: true, serving: true, terminating: false })),
      });
    }
  }
  return out;
}

t.test('the seam\'s service ports give the same restore input as the objects', async (t) => {
  t.equal(iptablesRestore(stateFromServicePorts(seamPorts()), sc.config), iptablesRestore(stateFromObjects(sc.objects), sc.config));
  const sticky = seamPorts().map((p) => ({ ...p, affinityTimeoutSec: p.name === 'svc-clusterip' ? 600 : 0 }));
  t.match(iptablesRestore(stateFromServicePorts(sticky), sc.config), '--rcheck --seconds 600 --reap -j KUBE-SEP-TBW2IYJKUCAC7GB3');
  const lb = seamPorts().map((p) => p.name !== 'svc-clusterip' ? p : {
    ...p, type: 'LoadBalancer' as const, nodePort: 30009, loadBalancerIPs: [ipv4ToInt('172.18.255.200')],
    loadBalancerSourceRanges: [{ ip: ipv4ToInt('172.18.0.0'), prefixLen: 16 }], externalIPs: [ipv4ToInt('192.168.99.1')],
  });
  const text = iptablesRestore(stateFromServicePorts(lb), sc.config);
  t.match(text, '-A KUBE-FW-KBDEBIL6IU6WL7RF -m comment --comment "default/svc-clusterip:svc-webport loadbalancer IP" -s 172.18.0.0/16 -j KUBE-EXT-KBDEBIL6IU6WL7RF');
  t.match(text, '-d 192.168.99.1 --dport 9000 -j KUBE-EXT-KBDEBIL6IU6WL7RF');
  t.match(text, '-A KUBE-NODEPORTS -m comment --comment default/svc-clusterip:svc-webport -m tcp -p tcp --dport 30009 -j KUBE-EXT-KBDEBIL6IU6WL7RF');
});

t.test('KubeProxyConfiguration to the generator\'s configuration', async (t) => {
  const node = { name: 'myk8s-control-plane', ip: '172.18.0.2', podCIDR: '10.10.0.0/24' };
  // kind's kube-proxy ConfigMap, trimmed to what the generators read.
  const kind = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.10.0.0/16',
    iptables: { masqueradeAll: false, masqueradeBit: null, localhostNodePorts: null }, conntrack: { tcpBeLiberal: false }, nodePortAddresses: null };
  t.same(proxyConfigFromKubeProxyConfiguration(kind, node), {
    mode: 'iptables',
    config: { nodeName: 'myk8s-control-plane', nodeIP: '172.18.0.2', nodeAddresses: ['172.18.0.2', '127.0.0.1'], clusterCIDR: '10.10.0.0/16', masqueradeAll: false, conntrackTCPBeLiberal: false },
  });
  const ipvs = proxyConfigFromKubeProxyConfiguration({ mode: 'ipvs', ipvs: { scheduler: 'lc' }, detectLocalMode: 'NodeCIDR', masqueradeAll: true, nodePortAddresses: ['172.18.0.0/16'] }, node);
  t.equal(ipvs.mode, 'ipvs');
  t.same(ipvs.config.detectLocal, { mode: 'NodeCIDR', cidr: '10.10.0.0/24' });
  t.equal(syncIpvs(stateFromObjects(sc.objects), ipvs.config).virtualServers[0]!.scheduler, 'lc');
  t.same(proxyConfigFromKubeProxyConfiguration({ detectLocalMode: 'InterfaceNamePrefix', detectLocal: { interfaceNamePrefix: 'veth' } }, node).config.detectLocal,
    { mode: 'InterfaceNamePrefix', prefix: 'veth' });
  t.same(proxyConfigFromKubeProxyConfiguration({ clusterCIDR: '10.10.0.0/16,fd00:10::/56' }, node).config.clusterCIDR, '10.10.0.0/16');
  const bad: Array<[unknown, RegExp]> = [
    [{ mode: 'nftables' }, /^mode: Unsupported value: "nftables"/],
    [{ iptables: { masqueradeBit: 'x' } }, /^iptables\.masqueradeBit: Invalid value: "x": must be an integer/],
    [{ nodePortAddresses: '10.0.0.0/8' }, /^nodePortAddresses: /],
    [{ detectLocalMode: 'Magic' }, /^detectLocalMode: Unsupported value/],
  ];
  for (const [o, re] of bad) t.throws(() => proxyConfigFromKubeProxyConfiguration(o, node), re);
  t.throws(() => proxyConfigFromKubeProxyConfiguration({ detectLocalMode: 'NodeCIDR' }, { name: 'n', ip: '172.18.0.3' }), KubeProxyInputError);
});
