// The real kernel's kube-proxy-style iptables cost on this machine, measured
// once per bench invocation by ../shared/tools/kernel-iptables-scaling.sh
// (root only; iptables-nft): ns per KUBE-SERVICES rule a first packet walks,
// and the points it was fitted on. Shared by netfilter.bench.ts and
// service_scaling.bench.ts, so both put the kernel beside the emulator.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KERNEL_SCRIPT = join(import.meta.dirname, '../../../shared/tools/kernel-iptables-scaling.sh');

/** Runs the script (sizes as KPA_SIZES takes them) unless `--no-kernel` is in rest or we are not root; says why when skipped. */
export function kernelFigure(rest: readonly string[], sizes = '10 1000 5000'): Record<string, unknown> {
  if (rest.includes('--no-kernel')) return { skipped: '--no-kernel' };
  if (process.getuid?.() !== 0) return { skipped: 'not root: the real kernel was not measured' };
  if (!existsSync(KERNEL_SCRIPT)) return { skipped: `no ${KERNEL_SCRIPT}` };
  const dir = mkdtempSync(join(tmpdir(), 'nf-bench-'));
  try {
    const outPath = join(dir, 'kernel.json');
    const r = spawnSync('bash', [KERNEL_SCRIPT], {
      env: { ...process.env, KPA_SIZES: sizes, KPA_BACKENDS: 'nft', KPA_DURATION: '2', KPA_REPS: '2', KPA_ECHO_DURATION: '1', KPA_OUT: outPath, KPA_DEADLINE: '400' },
      encoding: 'utf8', timeout: 600_000,
    });
    if (r.status !== 0) return { failed: (r.stderr ?? '').split('\n').slice(-5).join('\n') };
    const j = JSON.parse(readFileSync(outPath, 'utf8'));
    const der = j.derived?.nft ?? {};
    return {
      script: `../shared/tools/kernel-iptables-scaling.sh (KPA_SIZES="${sizes}" KPA_BACKENDS=nft KPA_DURATION=2 KPA_REPS=2)`,
      iptables: j.iptables_version, kernel: j.kernel,
      nsPerRuleNft: der.ns_per_rule_median_connect, nsPerRuleNftTotal: der.ns_per_rule_median_total,
      points: der.points,
    };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
