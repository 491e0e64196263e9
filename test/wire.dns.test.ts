import t from 'tap';
import { decodeDns, dnsQuery, encodeDns, DNS_TYPE, type DnsMessage } from '../src/wire/dns.ts';
import { DNS_ANSWER, DNS_MIXED, DNS_NXDOMAIN } from './helpers/wire_fixtures.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const QNAME = '0a6b756265726e65746573 0764656661756c74 03737663 07636c7573746572 056c6f63616c 00';
// id 12345, RD, one question: kubernetes.default.svc.cluster.local. A IN
const QUERY = hex(`3039 0100 0001 0000 0000 0000 ${QNAME} 0001 0001`);
// Same id, QR AA RD RA, answer name compressed to the question (pointer c00c), TTL 30, 10.96.0.1
const ANSWER = hex(`3039 8580 0001 0001 0000 0000 ${QNAME} 0001 0001 c00c 0001 0001 0000001e 0004 0a600001`);

t.test('query: fields -> bytes -> fields', async (t) => {
  const q = dnsQuery(12345, 'kubernetes.default.svc.cluster.local.', DNS_TYPE.A);
  t.equal(toHex(encodeDns(q)), toHex(QUERY));
  const d = decodeDns(QUERY);
  t.same(d.questions, [{ name: 'kubernetes.default.svc.cluster.local', type: 1, class: 1 }]);
  t.match(d, { id: 12345, qr: false, rd: true, ra: false, aa: false, opcode: 0, rcode: 0 });
});

t.test('answer: compression pointer encoded and followed', async (t) => {
  t.equal(toHex(encodeDns(DNS_ANSWER)), toHex(ANSWER));
  const d = decodeDns(ANSWER);
  t.match(d, { qr: true, aa: true, rd: true, ra: true, rcode: 0 });
  t.same(d.answers, [{ name: 'kubernetes.default.svc.cluster.local', type: 1, class: 1, ttl: 30, address: '10.96.0.1' }]);
});

t.test('every record kind survives encode/decode', async (t) => {
  for (const m of [DNS_ANSWER, DNS_NXDOMAIN, DNS_MIXED] as DnsMessage[]) {
    const d = decodeDns(encodeDns(m));
    t.same(d, { ad: false, cd: false, ...m }, `id ${m.id}`);
  }
  const nx = decodeDns(encodeDns(DNS_NXDOMAIN));
  t.equal(nx.rcode, 3);
  t.equal(nx.authority[0]!.soa!.rname, 'hostmaster.cluster.local');
});

t.test('compression makes repeated suffixes cheap', async (t) => {
  const big = encodeDns(DNS_MIXED).length;
  t.ok(big < 240, `mixed answer is ${big} bytes`);
});

t.test('every truncation throws a DNS error, never a crash', async (t) => {
  for (const whole of [QUERY, ANSWER, encodeDns(DNS_MIXED), encodeDns(DNS_NXDOMAIN)]) {
    for (let n = 0; n < whole.length; n++) t.throws(() => decodeDns(whole.subarray(0, n)), /^DNS: /, `cut at ${n} of ${whole.length}`);
  }
});

const MALFORMED: Array<[string, string, RegExp]> = [
  ['pointer loop', '0000 0100 0001 0000 0000 0000 c00c 0001 0001', /bad compression pointer/],
  ['pointer past end', '0000 0100 0001 0000 0000 0000 c0ff 0001 0001', /bad compression pointer/],
  ['reserved label type', '0000 0100 0001 0000 0000 0000 4001 61 00 0001 0001', /unsupported label type 0x40/],
  ['A with 3 bytes of rdata kept raw, length mismatch impossible', '0000 8000 0000 0001 0000 0000 00 0001 0001 00000000 0003 010203', /^$/],
  ['rdlength beyond data', '0000 8000 0000 0001 0000 0000 00 0005 0001 00000000 0010 00', /truncated reading record data/],
];

t.test('malformed messages', async (t) => {
  for (const [what, h, re] of MALFORMED) {
    if (re.source === '^$') { t.same(decodeDns(hex(h)).answers[0]!.rdata, Uint8Array.from([1, 2, 3]), what); continue; }
    t.throws(() => decodeDns(hex(h)), re, what);
  }
});

t.test('encode rejects bad names and missing data', async (t) => {
  t.throws(() => encodeDns(dnsQuery(1, 'a..b')), /invalid label/);
  t.throws(() => encodeDns(dnsQuery(1, `${'x'.repeat(64)}.com`)), /invalid label/);
  t.throws(() => encodeDns({ ...dnsQuery(1, 'a'), answers: [{ name: 'a', type: DNS_TYPE.A, class: 1, ttl: 1 }] }), /A record for "a" lacks its data/);
});
