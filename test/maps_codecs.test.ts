// Cilium map structs: encode/decode against literal kernel bytes, and their Go String() forms.
import t from 'tap';
import { EndpointInfo, EndpointKey, EP_INFO_OFF_SEC_ID } from '../maps/cilium_lxc.ts';
import { IpcacheKey, RemoteEndpointInfo, ipcacheLookupKey } from '../maps/cilium_ipcache.ts';
import { Service4Key, Service4Value, serviceFlagsString, SVC_FLAG_ROUTABLE } from '../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../maps/cilium_lb4_backends_v3.ts';
import { RevNat4Key, RevNat4Value } from '../maps/cilium_lb4_reverse_nat.ts';
import { CtEntry, CtKey4Global, CT_ENTRY_OFF_PACKETS, CT_F_SEEN_NON_SYN, TUPLE_F_IN, TUPLE_F_SERVICE } from '../maps/cilium_ct4_global.ts';
import { NatEntry4, NatKey4 } from '../maps/cilium_snat_v4_external.ts';
import { MetricsKey, MetricsValue } from '../maps/cilium_metrics.ts';
import { PolicyKey, PolicyEntry } from '../maps/cilium_policy.ts';
import { ipToU32 } from '../src/wire/addr.ts';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (x) => parseInt(x, 16));

interface Codec { encode(): Uint8Array; toString(): string }
const cases: Array<{ name: string; obj: Codec; bytes: string; decode: (b: Uint8Array) => Codec; str: string }> = [
  { name: 'endpoint_key', obj: new EndpointKey(ipToU32('172.16.0.230')), decode: EndpointKey.decode,
    bytes: 'ac1000e6 000000000000000000000000 01 00 0000', str: '172.16.0.230:0' },
  { name: 'endpoint_info', obj: new EndpointInfo({ ifIndex: 10, lxcId: 416, flags: 0, mac: '92:EF:86:7B:D1:D4', nodeMac: '5E:B5:9A:19:FB:B3', secId: 39126 }),
    decode: EndpointInfo.decode,
    bytes: '0a000000 0000 a001 00000000 00000000 92ef867bd1d40000 5eb59a19fbb30000 d6980000 000000000000000000000000',
    str: 'id=416   sec_id=39126 flags=0x0000 ifindex=10  mac=92:EF:86:7B:D1:D4 nodemac=5E:B5:9A:19:FB:B3' },
  { name: 'endpoint_info host', obj: EndpointInfo.host(), decode: EndpointInfo.decode,
    bytes: '00000000 0000 0000 01000000' + '00'.repeat(36), str: '(localhost)' },
  { name: 'ipcache key', obj: new IpcacheKey(ipToU32('172.16.1.111')), decode: IpcacheKey.decode,
    bytes: '40000000 0000 00 01 ac10016f 000000000000000000000000', str: '172.16.1.111/32' },
  { name: 'ipcache key /0', obj: new IpcacheKey(0, 0), decode: IpcacheKey.decode,
    bytes: '20000000 0000 00 01' + '00'.repeat(16), str: '0.0.0.0/0' },
  { name: 'remote_endpoint_info', obj: new RemoteEndpointInfo(25054, ipToU32('192.168.10.101')), decode: RemoteEndpointInfo.decode,
    bytes: 'de610000 c0a80a65 0000 00 00', str: 'identity=25054 encryptkey=0 tunnelendpoint=192.168.10.101, flags=<none>' },
  { name: 'lb4_key', obj: new Service4Key(ipToU32('10.96.0.10'), 53, 17, 1), decode: Service4Key.decode,
    bytes: '0a60000a 0035 0100 11 00 0000', str: '10.96.0.10:53/UDP (1)' },
  { name: 'lb4_key internal', obj: new Service4Key(ipToU32('10.96.0.1'), 443, 6, 0, 1), decode: Service4Key.decode,
    bytes: '0a600001 01bb 0000 06 01 0000', str: '10.96.0.1:443/TCP/i (0)' },
  { name: 'lb4_service', obj: new Service4Value(0, 2, 3, 0x40, 0, 0), decode: Service4Value.decode,
    bytes: '00000000 0200 0003 40 00 0000', str: '0 2[0] (3) [0x40 0x0]' },
  { name: 'lb4_backend key', obj: new Backend4KeyV3(5), decode: Backend4KeyV3.decode, bytes: '05000000', str: '5' },
  { name: 'lb4_backend', obj: new Backend4Value(ipToU32('10.244.1.5'), 53, 17), decode: Backend4Value.decode,
    bytes: '0af40105 0035 11 00 0000 00 00', str: 'UDP://10.244.1.5' },
  { name: 'revnat key', obj: new RevNat4Key(3), decode: RevNat4Key.decode, bytes: '0003', str: '3' },
  { name: 'revnat value', obj: new RevNat4Value(ipToU32('10.96.0.10'), 53), decode: RevNat4Value.decode, bytes: '0a60000a 0035', str: '10.96.0.10:53' },
  { name: 'ct tuple', obj: new CtKey4Global({ daddr: ipToU32('10.0.0.5'), saddr: ipToU32('10.0.1.2'), dport: 80, sport: 43520, nexthdr: 6, flags: 0 }),
    decode: CtKey4Global.decode, bytes: '0a000005 0a000102 0050 aa00 06 00', str: 'TCP OUT 10.0.0.5:43520 -> 10.0.1.2:80 ' },
  { name: 'ct tuple in service', obj: new CtKey4Global({ daddr: ipToU32('10.96.0.10'), saddr: ipToU32('10.0.0.5'), dport: 53, sport: 40000, nexthdr: 17, flags: TUPLE_F_IN | TUPLE_F_SERVICE }),
    decode: CtKey4Global.decode, bytes: '0a60000a 0a000005 0035 9c40 11 05', str: 'UDP IN 10.96.0.10:40000 -> 10.0.0.5:53 service ' },
  { name: 'ct_entry', obj: new CtEntry({ lifetime: 17035, packets: 3, bytes: 180, flags: CT_F_SEEN_NON_SYN, txFlagsSeen: 0x1a, rxFlagsSeen: 0x1a, sourceSecurityId: 39126, lastTxReport: 16975, lastRxReport: 16975, revNat: 3 }),
    decode: CtEntry.decode,
    bytes: '0000000000000000 0000000000000000 0300000000000000 b400000000000000 8b420000 1000 0003 0000 1a 1a d6980000 4f420000 4f420000',
    str: 'expires=17035 Packets=3 Bytes=180 RxFlagsSeen=0x1a LastRxReport=16975 TxFlagsSeen=0x1a LastTxReport=16975 Flags=0x0010 [ SeenNonSyn ] RevNAT=3 SourceSecurityID=39126 IfIndex=0 BackendID=0 ' },
  { name: 'nat key', obj: new NatKey4({ daddr: ipToU32('1.1.1.1'), saddr: ipToU32('10.244.1.23'), dport: 443, sport: 43520, nexthdr: 6, flags: 0 }),
    decode: NatKey4.decode, bytes: '01010101 0af40117 01bb aa00 06 00', str: 'TCP OUT 10.244.1.23:43520 -> 1.1.1.1:443 ' },
  { name: 'nat entry', obj: new NatEntry4(100, 1, ipToU32('172.18.0.2'), 43520), decode: NatEntry4.decode,
    bytes: '6400000000000000 0100000000000000' + '00'.repeat(16) + 'ac120002 aa00 0000', str: 'XLATE_SRC 172.18.0.2:43520 Created=? (raw 100) NeedsCT=1' },
  { name: 'metrics key', obj: new MetricsKey(133, 2), decode: MetricsKey.decode, bytes: '85 02 0000 00 000000', str: 'reason=133 dir=EGRESS line=0 file=0' },
  { name: 'metrics value', obj: new MetricsValue(7, 420), decode: MetricsValue.decode, bytes: '0700000000000000 a401000000000000', str: 'count=7 bytes=420' },
  { name: 'policy key 80/TCP', obj: new PolicyKey(25054, 0, 6, 80), decode: PolicyKey.decode, bytes: '40000000 de610000 00 06 0050', str: 'Ingress: 25054 80/TCP' },
  { name: 'policy key any', obj: new PolicyKey(0, 1), decode: PolicyKey.decode, bytes: '28000000 00000000 01 00 0000', str: 'Egress: 0 ANY' },
  { name: 'policy entry', obj: new PolicyEntry(0, 0, 0, 9, 812), decode: PolicyEntry.decode,
    bytes: '0000 00 00 00000000 0900000000000000 2c03000000000000', str: 'Allow proxy_port=0 packets=9 bytes=812' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const want = hex(c.bytes);
    t.same([...c.obj.encode()], [...want], 'encode gives the kernel bytes');
    const back = c.decode(want);
    t.same([...back.encode()], [...want], 'decode -> encode round trips');
    t.equal(back.toString(), c.str, 'String()');
  });
}

t.test('offset constants address fields in place', async (t) => {
  const info = new EndpointInfo({ ifIndex: 1, lxcId: 2, flags: 0, mac: '00:00:00:00:00:01', nodeMac: '00:00:00:00:00:02', secId: 0 }).encode();
  new DataView(info.buffer).setUint32(EP_INFO_OFF_SEC_ID, 4242, true);
  t.equal(EndpointInfo.decode(info).secId, 4242);
  const ct = new CtEntry().encode();
  new DataView(ct.buffer).setBigUint64(CT_ENTRY_OFF_PACKETS, 5n, true);
  t.equal(CtEntry.decode(ct).packets, 5);
  const k = ipcacheLookupKey(new Uint8Array(24), ipToU32('172.16.1.111'));
  t.same([...k], [...new IpcacheKey(ipToU32('172.16.1.111')).encode()]);
});

t.test('service flags string', async (t) => {
  t.equal(serviceFlagsString(0), 'ClusterIP, non-routable');
  t.equal(serviceFlagsString(SVC_FLAG_ROUTABLE), 'ClusterIP');
});
