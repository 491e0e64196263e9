// A DNS server inside the lab never takes the process down: an upstream it
// cannot reach is SERVFAIL, a reply it cannot route is lost.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { SocketError } from '../src/kernel/api.ts';
import type { NetnsImpl } from '../src/kernel/netns.ts';
import { serveDns, replyTo } from '../src/cluster/images/dns_server.ts';
import { decodeDns, dnsQuery, encodeDns, DNS_RCODE, DNS_TYPE, type DnsMessage } from '../src/wire/dns.ts';

function lab() {
  const sim = new Sim(7);
  const { nodes } = buildTestbed(sim);
  return { sim, client: nodes[0]!.pods[0]!, server: nodes[1]!.pods[0]! };
}

async function ask(sim: Sim, ns: { sockets: { udpBind(p: number): any } }, ip: number): Promise<DnsMessage | null> {
  return sim.settle((async () => {
    const s = ns.sockets.udpBind(0);
    s.send({ ip, port: 53 }, encodeDns(dnsQuery(0x4242, 'example.com.', DNS_TYPE.A)));
    const r = await s.recv(3e9); s.close();
    return r ? decodeDns(r.data) : null;
  })());
}

t.test('an unreachable upstream is SERVFAIL', async (t) => {
  const { sim, client, server } = lab();
  serveDns(server.ns, 53, () => { throw new SocketError('ENETUNREACH', 'Network is unreachable'); });
  const r = await ask(sim, client.ns, server.ip);
  t.equal(r?.rcode, DNS_RCODE.SERVFAIL);
});

t.test('a reply with no route back is lost, not thrown', async (t) => {
  const { sim, client, server } = lab();
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => { process.off('unhandledRejection', onUnhandled); });
  // The pod loses its default route between the query and the answer.
  serveDns(server.ns, 53, (q) => { (server.ns as NetnsImpl).delRoute(0, 0); return replyTo(q, {}); });
  t.equal(await ask(sim, client.ns, server.ip), null, 'the client times out, as with a real server');
  await new Promise((r) => setImmediate(r));
  t.same(unhandled, [], 'no unhandled rejection');
});
