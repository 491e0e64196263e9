// Entry point of the `dplab` command (bin/dplab.js, npm start).

import { runCli } from './program.ts';

const code = await runCli(process.argv.slice(2));
// Idle keep-alive sockets must not hold the process open after the answer.
process.exit(code);
