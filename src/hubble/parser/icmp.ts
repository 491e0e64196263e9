// ICMPv4 type/code words as gopacket's ICMPv4TypeCode.String() prints them
// (layers/icmp4.go); Hubble puts them after "ICMPv4 " in a flow's Summary.

const CODES: Record<number, [string, Record<number, string> | null]> = {
  0: ['EchoReply', null],
  3: ['DestinationUnreachable', {
    0: 'Net', 1: 'Host', 2: 'Protocol', 3: 'Port', 4: 'FragmentationNeeded', 5: 'SourceRoutingFailed', 6: 'NetUnknown',
    7: 'HostUnknown', 8: 'SourceIsolated', 9: 'NetAdminProhibited', 10: 'HostAdminProhibited', 11: 'NetTOS', 12: 'HostTOS',
    13: 'CommAdminProhibited', 14: 'HostPrecedence', 15: 'PrecedenceCutoff',
  }],
  4: ['SourceQuench', null],
  5: ['Redirect', { 0: 'Network', 1: 'Host', 2: 'TOS+Network', 3: 'TOS+Host' }],
  8: ['EchoRequest', null],
  9: ['RouterAdvertisement', null],
  10: ['RouterSolicitation', null],
  11: ['TimeExceeded', { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' }],
  12: ['ParameterProblem', { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' }],
  13: ['Timestamp', null],
  14: ['TimestampReply', null],
  15: ['InfoRequest', null],
  16: ['InfoReply', null],
  17: ['AddressMaskRequest', null],
  18: ['AddressMaskReply', null],
};

/** `EchoRequest`, `DestinationUnreachable(Port)`, `EchoReply(Code: 3)`, `42(0)`. */
export function icmpv4TypeCode(type: number, code: number): string {
  const info = CODES[type];
  if (!info) return `${type}(${code})`;
  const [name, codes] = info;
  if (codes === null) return code === 0 ? name : `${name}(Code: ${code})`;
  const c = codes[code];
  return c === undefined ? `${name}(Code: ${code})` : `${name}(${c})`;
}
