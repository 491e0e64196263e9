// Entry point of the `dplab` command (bin/dplab.js, npm start).

import { runCli } from './program.ts';

// `dplab cilium monitor | head` closes our stdout: stop quietly, like the real tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
}

const code = await runCli(process.argv.slice(2));
// Idle keep-alive sockets must not hold the process open after the answer.
process.exit(code);
