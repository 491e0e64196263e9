// The agent's in-place encoders write exactly the bytes of the maps/ codecs' encode().
import t from 'tap';
import { IpcacheKey, RemoteEndpointInfo } from '../maps/cilium_ipcache.ts';
import { Service4Key, Service4Value } from '../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../maps/cilium_lb4_backends_v3.ts';
import { RevNat4Key, RevNat4Value } from '../maps/cilium_lb4_reverse_nat.ts';
import { backend4KeyBytes, backend4ValueBytes, ipcacheKeyBytes, remoteEndpointInfoBytes, revNat4KeyBytes, revNat4ValueBytes,
  service4KeyBytes, service4ValueBytes } from '../src/cilium/codec.ts';
import { Rng } from '../src/sim/sim.ts';

const rng = new Rng(42);
const u32 = () => rng.u32(), u16 = () => rng.u32() & 0xffff, u8 = () => rng.u32() & 0xff;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const cases: Array<[string, () => [Uint8Array, Uint8Array]]> = [
  ['ipcache key', () => { const ip = u32(), len = rng.below(33); return [ipcacheKeyBytes(ip, len), new IpcacheKey(ip, len).encode()]; }],
  ['remote endpoint info', () => { const a = [u32(), u32(), u8(), u8()] as const; return [remoteEndpointInfoBytes(...a), new RemoteEndpointInfo(...a).encode()]; }],
  ['service key', () => { const a = [u32(), u16(), u8(), u16(), rng.below(2)] as const; return [service4KeyBytes(...a), new Service4Key(...a).encode()]; }],
  ['service value', () => { const a = [u32(), u16(), u16(), u8(), u8()] as const; return [service4ValueBytes(...a), new Service4Value(...a).encode()]; }],
  ['backend key', () => { const id = u32(); return [backend4KeyBytes(id), new Backend4KeyV3(id).encode()]; }],
  ['backend value', () => { const a = [u32(), u16(), u8(), u8()] as const; return [backend4ValueBytes(...a), new Backend4Value(...a).encode()]; }],
  ['rev nat key', () => { const id = u16(); return [revNat4KeyBytes(id), new RevNat4Key(id).encode()]; }],
  ['rev nat value', () => { const a = [u32(), u16()] as const; return [revNat4ValueBytes(...a), new RevNat4Value(...a).encode()]; }],
];
for (const [name, gen] of cases) {
  t.test(name, async (t) => {
    for (let i = 0; i < 200; i++) { const [got, want] = gen(); if (hex(got) !== hex(want)) { t.equal(hex(got), hex(want)); return; } }
    t.pass('200 random values encode identically');
  });
}
