// Mirrors Cilium 1.16's per-endpoint cilium_policy_<05d> LPM map (bpf/lib/policy.h struct policy_key / policy_entry, pkg/maps/policymap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, localMapName, u8protoName } from './util.ts';

/** struct policy_key: bpf_lpm_trie_key prefixlen, sec_label, egress, protocol, dport. */
export const POLICY_KEY = defineStruct('policy_key', { lpm_key: 'u32', sec_label: 'u32', egress: 'u8', protocol: 'u8', dport: 'be16' });
/** struct policy_entry (1.16): flags holds deny:1, wildcard bits and lpm_prefix_length:5. */
export const POLICY_ENTRY = defineStruct('policy_entry', {
  proxy_port: 'be16', flags: 'u8', auth_type: 'u8', pad1: 'u16', pad2: 'u16', packets: 'u64', bytes: 'u64',
});

/** Bits before the protocol/port part of the LPM key: identity (32) + direction (8). */
export const POLICY_STATIC_PREFIX_BITS = 40;
/** Full prefix: static + nexthdr (8) + dport (16). */
export const POLICY_FULL_PREFIX_BITS = 64;
/** policy_key offsets: lpm prefixlen u32 (host), sec_label u32 (host), egress u8, protocol u8, dport u16 (network). */
export const POLICY_KEY_OFF_PREFIXLEN = POLICY_KEY.off.lpm_key, POLICY_KEY_OFF_SEC_LABEL = POLICY_KEY.off.sec_label, POLICY_KEY_OFF_EGRESS = POLICY_KEY.off.egress,
  POLICY_KEY_OFF_PROTOCOL = POLICY_KEY.off.protocol, POLICY_KEY_OFF_DPORT = POLICY_KEY.off.dport;
/** policy_entry offsets: proxy_port (network), flags (bit0 deny; bits 3-7 lpm prefix length of the port), auth_type, packets u64, bytes u64. */
export const POLICY_ENTRY_OFF_PROXY_PORT = POLICY_ENTRY.off.proxy_port, POLICY_ENTRY_OFF_FLAGS = POLICY_ENTRY.off.flags,
  POLICY_ENTRY_OFF_AUTH_TYPE = POLICY_ENTRY.off.auth_type, POLICY_ENTRY_OFF_PACKETS = POLICY_ENTRY.off.packets, POLICY_ENTRY_OFF_BYTES = POLICY_ENTRY.off.bytes;
export const POLICY_F_DENY = 1;
export const POLICY_INGRESS = 0, POLICY_EGRESS = 1;

/** LPM_TRIE (BPF_F_NO_PREALLOC), 12-byte key -> 24-byte entry, bpf-policy-map-max 16384. */
export function policySpec(epId: number): MapSpec {
  return { name: policyMapName(epId), type: 'lpm_trie', keySize: POLICY_KEY.size, valueSize: POLICY_ENTRY.size, maxEntries: 16384, flags: 1 };
}
export function policyMapName(epId: number): string { return localMapName('cilium_policy_', epId); }

/** PolicyKey; port (host order) with portPrefixLen bits of it significant (16 = exact, 0 = any port). */
export class PolicyKey {
  constructor(public identity: number, public egress: number, public protocol = 0, public dport = 0, public portPrefixLen = dport ? 16 : 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(POLICY_KEY.size), d = dv(b);
    const plen = POLICY_STATIC_PREFIX_BITS + (this.protocol ? 8 + this.portPrefixLen : 0);
    d.setUint32(POLICY_KEY_OFF_PREFIXLEN, plen, true); d.setUint32(POLICY_KEY_OFF_SEC_LABEL, this.identity, true);
    b[POLICY_KEY_OFF_EGRESS] = this.egress; b[POLICY_KEY_OFF_PROTOCOL] = this.protocol; d.setUint16(POLICY_KEY_OFF_DPORT, this.dport, false);
    return b;
  }
  static decode(b: Uint8Array): PolicyKey {
    const d = dv(b), plen = d.getUint32(POLICY_KEY_OFF_PREFIXLEN, true);
    return new PolicyKey(d.getUint32(POLICY_KEY_OFF_SEC_LABEL, true), b[POLICY_KEY_OFF_EGRESS]!, b[POLICY_KEY_OFF_PROTOCOL]!,
      d.getUint16(POLICY_KEY_OFF_DPORT, false), Math.max(0, plen - POLICY_STATIC_PREFIX_BITS - 8));
  }
  /** PortProtoString: ANY, TCP, 80/TCP. */
  portProtoString(): string {
    if (this.protocol === 0) return 'ANY';
    const p = u8protoName(this.protocol);
    return this.portPrefixLen === 0 ? p : `${this.dport}/${p}`;
  }
  toString(): string { return `${this.egress ? 'Egress' : 'Ingress'}: ${this.identity} ${this.portProtoString()}`; }
}

export class PolicyEntry {
  constructor(public proxyPort = 0, public flags = 0, public authType = 0, public packets = 0, public bytes = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(POLICY_ENTRY.size), d = dv(b);
    d.setUint16(POLICY_ENTRY_OFF_PROXY_PORT, this.proxyPort, false); b[POLICY_ENTRY_OFF_FLAGS] = this.flags; b[POLICY_ENTRY_OFF_AUTH_TYPE] = this.authType;
    d.setBigUint64(POLICY_ENTRY_OFF_PACKETS, BigInt(this.packets), true); d.setBigUint64(POLICY_ENTRY_OFF_BYTES, BigInt(this.bytes), true);
    return b;
  }
  static decode(b: Uint8Array): PolicyEntry {
    const d = dv(b);
    return new PolicyEntry(d.getUint16(POLICY_ENTRY_OFF_PROXY_PORT, false), b[POLICY_ENTRY_OFF_FLAGS]!, b[POLICY_ENTRY_OFF_AUTH_TYPE]!,
      Number(d.getBigUint64(POLICY_ENTRY_OFF_PACKETS, true)), Number(d.getBigUint64(POLICY_ENTRY_OFF_BYTES, true)));
  }
  isDeny(): boolean { return (this.flags & POLICY_F_DENY) !== 0; }
  toString(): string { return `${this.isDeny() ? 'Deny' : 'Allow'} proxy_port=${this.proxyPort} packets=${this.packets} bytes=${this.bytes}`; }
}

export const POLICY_FORMAT: EntryFormat = {
  key: (k) => PolicyKey.decode(k).toString(),
  value: (v) => PolicyEntry.decode(v).toString(),
};
