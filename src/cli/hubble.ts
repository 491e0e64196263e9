// `dplab hubble observe|status|list nodes`: registered here, run by
// ./hubble_run.ts, loaded only when the verb runs (gRPC and the protos stay
// out of the other verbs' start-up).

import type { Command } from 'commander';

export function addHubbleVerb(program: Command, exit: (code: number) => void): void {
  program.command('hubble')
    .description('the hubble CLI against the server\'s Hubble gRPC API: observe, status, list nodes (hubble\'s flags; --server HOST:PORT, default localhost:4245)')
    .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]')
    .action(async (args: string[]) => {
      const { runHubble } = await import('./hubble_run.ts');
      exit(await runHubble(args));
    });
}
