// A small cluster on the fake network: netpod (client), whoami pods behind a
// ClusterIP, coredns behind kube-dns, and the internet resolver/web.
import { Sim } from '../../src/sim/sim.ts';
import type { ClusterDns, DnsService, PodRuntimeContext } from '../../src/cluster/runtime_contract.ts';
import { startContainers } from '../../src/cluster/images/index.ts';
import { FakeNet } from './fake_net.ts';

export const RESOLV = 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n';

export function fakeCluster() {
  const sim = new Sim(7);
  const net = new FakeNet(sim);
  const services: DnsService[] = [
    { namespace: 'default', name: 'svc-clusterip', clusterIP: '10.200.1.118', type: 'ClusterIP', ports: [{ name: 'svc-webport', port: 9000, protocol: 'TCP' }],
      endpoints: [{ ip: '172.16.1.111', podName: 'webpod1' }, { ip: '172.16.2.180', podName: 'webpod2' }] },
    { namespace: 'default', name: 'hello-headless-service', clusterIP: null, type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ ip: '10.244.1.3' }, { ip: '10.244.2.3' }] },
    { namespace: 'default', name: 'search-engine', clusterIP: null, type: 'ExternalName', externalName: 'google.com', ports: [], endpoints: [] },
    { namespace: 'kube-system', name: 'kube-dns', clusterIP: '10.96.0.10', type: 'ClusterIP', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }], endpoints: [{ ip: '172.16.0.5' }] },
  ];
  const dns: ClusterDns & { listServices(): DnsService[] } = {
    clusterDomain: 'cluster.local',
    lookupService: (ns, name) => services.find((s) => s.namespace === ns && s.name === name),
    lookupPodByIp: (ip) => (ip === '172.16.0.230' ? { namespace: 'default', name: 'netpod', hostname: 'netpod' } : undefined),
    hasNamespace: (ns) => ns === 'default' || ns === 'kube-system',
    upstream: { ip: 0x08080808, port: 53 },
    externalHosts: { 'wttr.in': '5.9.243.187', 'google.com': '172.217.174.110' },
    listServices: () => services,
  };
  const pod = (name: string, ip: string, image: string, mac: string, ns = 'default'): PodRuntimeContext => {
    const h = net.addHost(name, ip, mac);
    return { namespace: ns, name, hostname: name, podIP: h.ip, nodeName: 'k8s-w1', nodeIP: 0xc0a80a65, netns: h.netns, labels: {},
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: name, KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      files: { '/etc/resolv.conf': RESOLV, '/etc/hostname': `${name}\n`, '/etc/hosts': `127.0.0.1\tlocalhost\n${ip}\t${name}\n` },
      containers: [{ name: 'c', image, ports: [], env: {} }], dns, sim };
  };
  const netpod = pod('netpod', '172.16.0.230', 'nicolaka/netshoot', 'aa:00:00:00:00:01');
  const web1 = pod('webpod1', '172.16.1.111', 'traefik/whoami', 'ca:ae:93:b3:dd:53');
  const web2 = pod('webpod2', '172.16.2.180', 'traefik/whoami:v1.10', 'aa:bb:fe:60:8a:d5');
  const coredns = pod('coredns-55cb58b774-2xvk2', '172.16.0.5', 'registry.k8s.io/coredns/coredns:v1.11.1', 'aa:00:00:00:00:05', 'kube-system');
  const inet = pod('internet', '8.8.8.8', 'dplab/internet', 'aa:00:00:00:00:08');
  net.addHost('wttr', '5.9.243.187'); // reachable by ping; HTTP served by the internet host below
  net.addVip('5.9.243.187', 80, [{ ip: '8.8.8.8', port: 80 }]);
  net.addVip('10.200.1.118', 9000, [{ ip: '172.16.1.111', port: 80 }, { ip: '172.16.2.180', port: 80 }]);
  net.addVip('10.96.0.10', 53, [{ ip: '172.16.0.5', port: 53 }]);
  for (const p of [netpod, web1, web2, coredns, inet]) startContainers(p);
  return { sim, net, netpod, web1, web2, coredns, dns, services };
}
