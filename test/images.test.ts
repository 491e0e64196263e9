import t from 'tap';
import { fakeCluster } from './helpers/fake_pods.ts';
import { decodeDns, dnsQuery, encodeDns, DNS_TYPE, type DnsMessage } from '../src/wire/dns.ts';
import { encodeRequest } from '../src/wire/http.ts';
import { linkLocalFromMac, imageName } from '../src/cluster/images/index.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import type { PodRuntimeContext } from '../src/cluster/runtime_contract.ts';

const dec = new TextDecoder();

async function httpGet(from: PodRuntimeContext, ip: string, port: number, host: string): Promise<string> {
  const sim = from.sim;
  return sim.settle((async () => {
    const c = await from.netns.sockets.tcpConnect({ ip: ipToU32(ip), port });
    let got = '';
    const done = new Promise<void>((res) => { c.onData((d) => { got += dec.decode(d); if (/\r\n\r\n/.test(got)) { const m = /Content-Length: (\d+)/.exec(got); if (m && got.split('\r\n\r\n').slice(1).join('\r\n\r\n').length >= Number(m[1])) res(); } }); });
    c.write(encodeRequest({ method: 'GET', path: '/', headers: [['Host', host], ['User-Agent', 'curl/8.7.1'], ['Accept', '*/*']] }));
    await done; c.end();
    return got;
  })());
}

async function ask(from: PodRuntimeContext, name: string, type: number): Promise<DnsMessage> {
  return from.sim.settle((async () => {
    const s = from.netns.sockets.udpBind(0);
    s.send({ ip: ipToU32('10.96.0.10'), port: 53 }, encodeDns(dnsQuery(0x1234, name, type)));
    const r = await s.recv(5e9); s.close();
    return decodeDns(r!.data);
  })());
}

t.test('image names drop registry tags and digests', async (t) => {
  t.equal(imageName('registry.k8s.io/coredns/coredns:v1.11.1'), 'registry.k8s.io/coredns/coredns');
  t.equal(imageName('localhost:5000/nginx@sha256:abc'), 'localhost:5000/nginx');
  t.equal(imageName('traefik/whoami'), 'traefik/whoami');
});

t.test('link-local IPv6 from MAC (EUI-64), as in the seed', async (t) => {
  t.equal(linkLocalFromMac(Uint8Array.from([0xca, 0xae, 0x93, 0xb3, 0xdd, 0x53])), 'fe80::c8ae:93ff:feb3:dd53');
  t.equal(linkLocalFromMac(Uint8Array.from([0x7e, 0xf7, 0x7b, 0x30, 0x81, 0xed])), 'fe80::7cf7:7bff:fe30:81ed');
});

t.test('whoami answers byte for byte like traefik/whoami', async (t) => {
  const c = fakeCluster();
  const res = await httpGet(c.netpod, '10.200.1.118', 9000, '10.200.1.118:9000');
  const body = 'Hostname: webpod1\nIP: 127.0.0.1\nIP: ::1\nIP: 172.16.1.111\nIP: fe80::c8ae:93ff:feb3:dd53\nRemoteAddr: 172.16.0.230:41320\n'
    + 'GET / HTTP/1.1\r\nHost: 10.200.1.118:9000\r\nUser-Agent: curl/8.7.1\r\nAccept: */*\r\n\r\n';
  t.equal(body.length, 192 + 6, 'the seed capture (192) plus 3+3 longer addresses');
  t.equal(res, `HTTP/1.1 200 OK\r\nDate: Mon, 21 Oct 2024 11:10:00 GMT\r\nContent-Length: 198\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`);
  t.equal(res.length, 310 + 6, 'the seed segment (310) plus the longer addresses');
});

t.test('coredns answers', async (t) => {
  const c = fakeCluster();
  const cases: Array<[string, number, number, string[]]> = [
    ['svc-clusterip.default.svc.cluster.local', DNS_TYPE.A, 0, ['A svc-clusterip.default.svc.cluster.local 30 10.200.1.118']],
    ['hello-headless-service.default.svc.cluster.local', DNS_TYPE.A, 0, ['A hello-headless-service.default.svc.cluster.local 30 10.244.1.3', 'A hello-headless-service.default.svc.cluster.local 30 10.244.2.3']],
    ['_svc-webport._tcp.svc-clusterip.default.svc.cluster.local', DNS_TYPE.SRV, 0, ['SRV _svc-webport._tcp.svc-clusterip.default.svc.cluster.local 30 0 100 9000 svc-clusterip.default.svc.cluster.local']],
    ['_http._tcp.hello-headless-service.default.svc.cluster.local', DNS_TYPE.SRV, 0, ['SRV _http._tcp.hello-headless-service.default.svc.cluster.local 30 0 50 80 10-244-1-3.hello-headless-service.default.svc.cluster.local', 'SRV _http._tcp.hello-headless-service.default.svc.cluster.local 30 0 50 80 10-244-2-3.hello-headless-service.default.svc.cluster.local']],
    ['118.1.200.10.in-addr.arpa', DNS_TYPE.PTR, 0, ['PTR 118.1.200.10.in-addr.arpa 30 svc-clusterip.default.svc.cluster.local']],
    ['111.1.16.172.in-addr.arpa', DNS_TYPE.PTR, 0, ['PTR 111.1.16.172.in-addr.arpa 30 172-16-1-111.svc-clusterip.default.svc.cluster.local']],
    ['172-16-0-230.default.pod.cluster.local', DNS_TYPE.A, 0, ['A 172-16-0-230.default.pod.cluster.local 30 172.16.0.230']],
    ['search-engine.default.svc.cluster.local', DNS_TYPE.A, 0, ['CNAME search-engine.default.svc.cluster.local 30 google.com', 'A google.com 300 172.217.174.110']],
    ['nope.default.svc.cluster.local', DNS_TYPE.A, 3, []],
    ['wttr.in.default.svc.cluster.local', DNS_TYPE.A, 3, []],
    ['svc-clusterip.default.svc.cluster.local', DNS_TYPE.AAAA, 0, []],
    ['wttr.in', DNS_TYPE.A, 0, ['A wttr.in 300 5.9.243.187']],
    ['printer.local', DNS_TYPE.A, 3, []],
  ];
  for (const [name, type, rcode, want] of cases) {
    const r = await ask(c.netpod, name, type);
    const got = r.answers.map((a) => `${a.type === 1 ? 'A' : a.type === 5 ? 'CNAME' : a.type === 12 ? 'PTR' : 'SRV'} ${a.name} ${a.ttl} ${a.type === DNS_TYPE.SRV ? `${a.priority} ${a.weight} ${a.port} ${a.target}` : a.address ?? a.target}`);
    t.same({ rcode: r.rcode, got }, { rcode, got: want }, `${name} ${type}`);
  }
  const nx = await ask(c.netpod, 'nope.default.svc.cluster.local', DNS_TYPE.A);
  t.ok(nx.aa, 'cluster answers are authoritative');
  t.same(nx.authority[0]?.soa && [nx.authority[0].name, nx.authority[0].soa.mname, nx.authority[0].soa.rname, nx.authority[0].ttl], ['cluster.local', 'ns.dns.cluster.local', 'hostmaster.cluster.local', 30]);
  const up = await ask(c.netpod, 'wttr.in', DNS_TYPE.A);
  t.notOk(up.aa, 'forwarded answers are not authoritative');
});
