// Verifies captures with Wireshark's dissectors: every IPv4/TCP/UDP/ICMP
// checksum must be Good and no packet may raise an expert error (malformed,
// bad checksum). tshark's checksum status enum: 0 Bad, 1 Good, 2 Unverified,
// 3 Not present (e.g. UDP checksum 0), 4 Illegal.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHECKSUM_BAD = 0, CHECKSUM_GOOD = 1, CHECKSUM_UNVERIFIED = 2, CHECKSUM_NOT_PRESENT = 3, CHECKSUM_ILLEGAL = 4;
/** Wireshark's PI_ERROR expert severity. */
const PI_ERROR = 0x00800000;
const FIELDS = ['frame.number', 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', '_ws.expert.severity', '_ws.expert.message'];

/** Path of tshark if installed, else null. */
export async function findTshark(): Promise<string | null> {
  try { await run('tshark', ['--version']); return 'tshark'; } catch { return null; }
}

export interface ChecksumReport { ok: boolean; packets: number; bad: string[] }

/**
 * Check every packet of a pcap. Frames on `vxlanPorts` (Cilium's 8472 by
 * default) are decoded as VXLAN so inner headers are verified too.
 */
export async function checkPcapChecksums(path: string, vxlanPorts: number[] = [8472]): Promise<ChecksumReport> {
  const args = ['-n', '-r', path,
    '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    ...vxlanPorts.flatMap((p) => ['-d', `udp.port==${p},vxlan`]),
    '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f]), '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;'];
  const { stdout } = await run('tshark', args, { maxBuffer: 64 * 1024 * 1024 });
  const bad: string[] = [];
  let packets = 0;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    packets++;
    const [num, ...cols] = line.split('|');
    const messages = (cols[6] ?? '').split(';');
    FIELDS.slice(1, 5).forEach((name, i) => {
      for (const v of (cols[i] ?? '').split(';')) {
        if (v === String(CHECKSUM_BAD) || v === String(CHECKSUM_ILLEGAL)) bad.push(`frame ${num}: ${name}=${v}`);
      }
    });
    (cols[5] ?? '').split(';').forEach((sev, i) => {
      if (sev !== '' && Number(sev) >= PI_ERROR) bad.push(`frame ${num}: expert error: ${messages[i] ?? '?'}`);
    });
  }
  return { ok: bad.length === 0, packets, bad };
}
