// The `dplab` command tree (commander). Every failure, ours or commander's,
// ends as one `dplab: <message>` line on stderr and exit code 1.

import { Command, CommanderError } from 'commander';
import { CliError, failureLine } from './errors.ts';
import { addHubbleVerb } from './hubble.ts';
import { addServeVerb } from './serve.ts';
import { addTcpdumpVerb } from './tcpdump.ts';
import { addNgrepVerb } from './ngrep.ts';
import { addCommandVerbs } from './verbs.ts';
import { addDockerVerbs } from './docker.ts';
import { addCompareVerb } from './compare.ts';
import { packageVersion } from './version.ts';

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let code = 0;
  const exit = (c: number): void => { code = c; };
  const program = new Command('dplab')
    .description('Kubernetes networking lab: a Cilium datapath emulated in one process')
    .version(packageVersion(), '-V, --version', 'print the dplab version')
    .option('--server <url>', 'dplab server URL (default: $DPLAB_SERVER or http://127.0.0.1:9876)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`${failureLine(new CliError(str.replace(/^error: /, '')))}\n`) });
  addServeVerb(program, exit);
  addCommandVerbs(program, exit);
  addDockerVerbs(program, exit);
  addTcpdumpVerb(program, exit);
  addNgrepVerb(program, exit);
  addHubbleVerb(program, exit);
  addCompareVerb(program, exit);
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(`${failureLine(err)}\n`);
    return 1;
  }
}
