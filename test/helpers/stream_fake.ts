// A FakeCluster whose commands stream, for the command stream tests
// (test/command_stream*.test.ts).

import type { ExecResult } from '../../src/cluster/facade.ts';
import type { FollowHandle } from '../../src/datapath/contract.ts';
import { FakeCluster } from './fake_cluster.ts';

/**
 * kubectl: `print N SIZE [follow]` writes N numbered lines (waiting on each
 * write that asks it to), then with `follow` runs until stopped and says
 * `bye`; `exec ... -- hubble observe -f` is `print 1 4 follow`; `hold` ends
 * only on release(), whatever its signal says. Node follow:
 * `conntrack -E`, fed by emit(), stopped with conntrack's last words.
 */
export class StreamFake extends FakeCluster {
  wrote = 0; waits = 0; blocked = false; running = 0; aborts = 0;
  /** `hold`: a command that ignores its signal (a one-shot exec) and ends when release() is called. */
  private holds: (() => void)[] = [];
  release(): void { for (const h of this.holds.splice(0)) h(); }
  private outs = new Set<(line: string) => void>();
  private emitted = 0;

  async kubectlStream(argv: string[], write: (fd: 'stdout' | 'stderr', text: string) => void | Promise<void>, signal: AbortSignal): Promise<number> {
    this.running++;
    signal.addEventListener('abort', () => this.aborts++, { once: true });
    try {
      if (argv[0] === 'hold') { await new Promise<void>((r) => this.holds.push(r)); return 0; }
      const [, n = '0', size = '0', follow] = argv[0] === 'exec' ? ['print', '1', '4', 'follow'] : argv;
      for (let i = 0; i < Number(n) && !signal.aborted; i++) {
        const w = write('stdout', `${i} ${'x'.repeat(Number(size))}\n`);
        this.wrote++;
        if (w) { this.waits++; this.blocked = true; await w; this.blocked = false; }
      }
      if (follow) await new Promise((r) => signal.aborted ? r(undefined) : signal.addEventListener('abort', r, { once: true }));
      if (follow) await write('stdout', 'bye\n');
      return 0;
    } finally { this.running--; }
  }

  follow(_node: string, argv: string[], out: (line: string) => void): FollowHandle | ExecResult | undefined {
    if (argv[0] !== 'conntrack' || !argv.includes('-E')) return undefined;
    this.outs.add(out);
    // `-q`: ends without last words.
    const quiet = argv.includes('-q');
    return { stop: () => { this.outs.delete(out); return { stdout: '', stderr: quiet ? '' : `conntrack v1.4.7 (conntrack-tools): ${this.emitted} flow events have been shown.\n`, exitCode: 0 }; } };
  }

  emit(line: string): void { this.emitted++; for (const o of this.outs) o(line); }
  get follows(): number { return this.outs.size; }
}
