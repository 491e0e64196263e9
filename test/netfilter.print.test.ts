// iptables-restore input -> the emulator's iptables-save / -S / -L output,
// compared with what the real iptables 1.8.9 (nf_tables) printed for the
// same input (test/scenarios/netfilter/*.expected, made by capture.sh there),
// and the error texts and exit codes of bad input (errors.expected).

import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ruleset } from '../src/netfilter/ruleset.ts';
import { restore } from '../src/netfilter/restore.ts';
import { iptables, iptablesSave } from '../src/netfilter/exec.ts';
import { splitArgs } from '../src/netfilter/args.ts';

const dir = join(import.meta.dirname, 'scenarios/netfilter');

/** "### header" sections of an expected file, in order. */
function sections(text: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  for (const part of text.split(/^### /m).slice(1)) {
    const nl = part.indexOf('\n');
    out.push({ head: part.slice(0, nl), body: part.slice(nl + 1) });
  }
  return out;
}

/** Runs one captured command line against the emulator. */
function run(rs: Ruleset, line: string): { stdout: string; stderr: string; code: number } {
  const [prog, ...args] = line.split(' ');
  return prog === 'iptables-save' ? iptablesSave(rs, args) : iptables(rs, args);
}

for (const f of readdirSync(dir).filter((n) => n.endsWith('.rules'))) {
  t.test(f, async (t) => {
    const rs = new Ruleset();
    const r = restore(rs, readFileSync(join(dir, f), 'utf8'));
    t.equal(r.code, 0, r.stderr);
    for (const { head, body } of sections(readFileSync(join(dir, f.replace(/\.rules$/, '.expected')), 'utf8'))) {
      t.equal(run(rs, head).stdout, body, head);
    }
  });
}

t.test('error texts and exit codes match iptables 1.8.9', async (t) => {
  const cases = sections(readFileSync(join(dir, 'errors.expected'), 'utf8'));
  for (let i = 0; i < cases.length; i += 2) {
    const { head, body } = cases[i]!;
    const code = Number(cases[i + 1]!.head.replace('rc=', ''));
    const [kind, arg] = [head.slice(0, head.indexOf('|')), head.slice(head.indexOf('|') + 1)];
    // The namespace capture.sh prepared: chains EXISTING and USED, INPUT jumping to USED.
    const rs = new Ruleset();
    restore(rs, '*filter\n:EXISTING - [0:0]\n:USED - [0:0]\n-A INPUT -j USED\nCOMMIT\n');
    const before = iptablesSave(rs, []).stdout;
    const res = kind === 'restore'
      ? restore(rs, arg.replace(/\\n/g, '\n'), { noflush: true })
      : iptables(rs, arg.split(' '));
    t.equal(res.stderr, body, head);
    t.equal(res.code, code, `${head}: exit code`);
    if (res.code !== 0) t.equal(iptablesSave(rs, []).stdout, before, `${head}: tables unchanged`);
  }
});

t.test('a failing COMMIT block leaves its table unchanged; earlier blocks stay', async (t) => {
  const rs = new Ruleset();
  const r = restore(rs, '*filter\n:OK1 - [0:0]\nCOMMIT\n*nat\n:X - [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n');
  t.equal(r.stderr, 'iptables-restore: line 6 failed: No chain/target/match by that name.\n');
  t.match(iptables(rs, ['-S']).stdout, /-N OK1/);
  t.equal(iptables(rs, ['-t', 'nat', '-S']).stdout, '-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n');
});

t.test('--noflush flushes declared chains only; -X deletes; --counters loads counters', async (t) => {
  const rs = new Ruleset();
  restore(rs, '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j RETURN\n-A B -j RETURN\n-A PREROUTING -j A\nCOMMIT\n');
  restore(rs, '*nat\n:A - [0:0]\n:C - [0:0]\n-A A -j ACCEPT\n-X C\nCOMMIT\n', { noflush: true });
  t.equal(iptables(rs, ['-t', 'nat', '-S']).stdout,
    '-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n-N A\n-N B\n-A PREROUTING -j A\n-A A -j ACCEPT\n-A B -j RETURN\n');
  restore(rs, '*filter\n:INPUT ACCEPT [5:500]\n[3:300] -A INPUT -j ACCEPT\nCOMMIT\n', { counters: true });
  t.equal(iptablesSave(rs, ['-c', '-t', 'filter']).stdout, '*filter\n:INPUT ACCEPT [5:500]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[3:300] -A INPUT -j ACCEPT\nCOMMIT\n');
  t.equal(iptables(rs, ['-L', 'INPUT', '-v', '-x', '-n']).stdout,
    'Chain INPUT (policy ACCEPT 5 packets, 500 bytes)\n    pkts      bytes target     prot opt in     out     source               destination         \n' +
    '       3      300 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n');
  t.equal(iptables(rs, ['-Z']).code, 0);
  t.match(iptablesSave(rs, ['-c']).stdout, /\[0:0\] -A INPUT -j ACCEPT/);
});

t.test('restore argument splitting (xshared.c add_param_to_argv)', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['-A X -m comment --comment "a b" -j Y', ['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']],
    ['--comment "q\\"uote"', ['--comment', 'q"uote']],
    ["--comment 'a b'", ['--comment', "'a", "b'"]],
    ['a\\ b', ['a\\', 'b']],
    ['--comment "abc -j X\n', ['--comment', 'abc -j X\n']],
    ['x  \t y\n', ['x', 'y']],
  ];
  for (const [line, want] of cases) t.same(splitArgs(line), want, line);
});

t.test('counters print with K/M/G like xtables_print_num', async (t) => {
  const rs = new Ruleset();
  restore(rs, '*nat\n[5938:356280] -A PREROUTING -j ACCEPT\n[1555:93270] -A PREROUTING -j ACCEPT\n[99999:100000] -A PREROUTING -j ACCEPT\n[123456789:98765432100] -A PREROUTING -j ACCEPT\nCOMMIT\n', { counters: true });
  const lines = iptables(rs, ['-t', 'nat', '-L', 'PREROUTING', '-v', '-n']).stdout.split('\n');
  t.equal(lines[2], ' 5938  356K ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0           ');
  t.equal(lines[3], ' 1555 93270 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0           ');
  t.equal(lines[4], '99999  100K ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0           ');
  t.equal(lines[5], ' 123M   99G ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0           ');
});
