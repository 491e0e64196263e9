// Client verbs that run one command on the server and print its output:
// apply, delete, kubectl, ip, bpftool, cilium (monitor is a stream).

import type { Command } from 'commander';
import { DplabClient, serverUrl } from './client.ts';
import { CliError } from './errors.ts';
import { printExec, readManifest, readStdin } from './io.ts';
import { mapGetArgs, mapGetOverApi } from './cilium_api.ts';
import { isPortForward, portForward } from './port_forward.ts';
import { kubectlStream, wantsStream } from './kubectl_stream.ts';

/** Everything a verb needs: the server client, and the exit code it should end with. */
export type VerbAction<A extends unknown[]> = (client: DplabClient, ...args: A) => Promise<number>;

/** Wraps a verb so it gets a client for the global --server and records its exit code. */
export function clientAction<A extends unknown[]>(program: Command, exit: (code: number) => void, fn: VerbAction<A>): (...args: A) => Promise<void> {
  return async (...args: A) => { exit(await fn(new DplabClient(serverUrl(program.opts<{ server?: string }>().server)), ...args)); };
}

/** The server names a manifest STDIN, as `kubectl -f -` does; for `-f FILE` kubectl names the file instead. */
function namingSource(err: unknown, file: string): unknown {
  if (file === '-' || !(err instanceof CliError)) return err;
  return new CliError(err.message.replace(/^error: error parsing STDIN:/, `error: error parsing ${file}:`).replace(/ from "STDIN"/g, ` from "${file}"`));
}

/** --node if given, else the first node (as `kubectl exec ds/cilium` lands on some agent). */
export async function resolveNode(client: DplabClient, node: string | undefined): Promise<string> {
  if (node) return node;
  const nodes = await client.nodes();
  if (nodes.length === 0) throw new CliError('the cluster has no nodes');
  return nodes[0]!;
}

/** True when kubectl args read a manifest from stdin (-f -, --filename=-, -f=-). */
export function kubectlReadsStdin(args: string[]): boolean {
  return args.some((a, i) => ((a === '-f' || a === '--filename') && args[i + 1] === '-') || a === '-f=-' || a === '--filename=-' || a === '-f-');
}

/**
 * `kubectl apply|delete -f -`: the manifest parsed here and sent as JSON, as
 * kubectl does. `create` keeps its YAML: the server's create reads its
 * stdin document by document with the `yaml` library, JSON would gain nothing.
 */
async function kubectlStdin(args: string[], stdin: string): Promise<string> {
  if ((args[0] !== 'apply' && args[0] !== 'delete') || stdin.trim() === '') return stdin;
  return (await manifestModule()).manifestStdin(stdin);
}

/** The YAML parser loads only for the verbs that read manifests (`--help` and the other verbs start without it). */
const manifestModule = () => import('./manifest.ts');

/** Passes every argument after the verb through verbatim, options included. */
function passthrough(cmd: Command): Command {
  return cmd.helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]');
}

export function addCommandVerbs(program: Command, exit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: VerbAction<A>) => clientAction(program, exit, fn);

  for (const verb of ['apply', 'delete'] as const) {
    program.command(verb).description(`${verb} manifests (multi-document YAML) on the server`)
      .requiredOption('-f, --filename <file>', 'manifest file, or - for stdin')
      .action(act(async (client, opts: { filename: string }) => {
        const yaml = await readManifest(opts.filename);
        const body = yaml.trim() === '' ? undefined : (await manifestModule()).manifestBody(yaml);
        const { lines } = body === undefined ? { lines: [] } : await (verb === 'apply' ? client.apply(body) : client.delete(body)).catch((e: unknown) => { throw namingSource(e, opts.filename); });
        // kubectl on input without objects: apply fails, delete says so on stdout and succeeds.
        if (lines.length === 0 && verb === 'apply') throw new CliError('error: no objects passed to apply');
        for (const l of lines.length ? lines : ['No resources found']) process.stdout.write(`${l}\n`);
        return 0;
      }));
  }

  passthrough(program.command('kubectl').description('run kubectl against the emulated cluster (arguments passed through)'))
    .action(act(async (client, args: string[]) => {
      // port-forward listens here, on the user's machine (src/cli/port_forward.ts); the rest runs on the server.
      if (isPortForward(args)) return portForward(client, args);
      if (wantsStream(args)) return kubectlStream(client, args);
      return printExec(await client.kubectl(args, kubectlReadsStdin(args) ? await kubectlStdin(args, await readStdin()) : undefined));
    }));

  passthrough(program.command('ip').description('run ip on a node (--node) or in a pod (--pod [-n NS]); options before the ip arguments'))
    .option('--node <node>', 'node whose host network namespace to use')
    .option('--pod <pod>', 'run inside this pod instead')
    .option('-n, --namespace <ns>', 'pod namespace', 'default')
    .action(act(async (client, args: string[], opts: { node?: string; pod?: string; namespace: string }) => {
      const argv = ['ip', ...args];
      if (opts.pod) return printExec(await client.exec(opts.namespace, opts.pod, argv));
      if (!opts.node) throw new CliError('ip: give --node NODE or --pod POD');
      return printExec(await client.nodeExec(opts.node, argv));
    }));

  passthrough(program.command('bpftool').description('run bpftool on a node (net show, prog show, map list, ...)'))
    .option('--node <node>', 'node (default: the first)')
    .action(act(async (client, args: string[], opts: { node?: string }) =>
      printExec(await client.nodeExec(await resolveNode(client, opts.node), ['bpftool', ...args]))));

  passthrough(program.command('cilium').description('run cilium-dbg on a node; "monitor" streams its events'))
    .option('--node <node>', 'node whose agent to use (default: the first)')
    .action(act(async (client, args: string[], opts: { node?: string }) => {
      const node = await resolveNode(client, opts.node);
      if (args[0] === 'monitor') return monitor(client, node);
      const get = mapGetArgs(args);
      if (get) return mapGetOverApi(client, node, get);
      const name = args[0] === 'map' && args[1] === 'events' ? args.slice(2).find((a) => !a.startsWith('-')) : undefined;
      if (name && args.some((a) => a === '-f' || a === '--follow')) return followMapEvents(client, node, name);
      return printExec(await client.nodeExec(node, ['cilium-dbg', ...args]));
    }));
}

/** A MapEvent as the agent streams it (GET /v1/map/{name}/events), or dplab's `{lost}` line. */
interface MapEventLine { key?: string; value?: string; timestamp?: string; action?: string; 'desired-action'?: string; 'last-error'?: string; lost?: number; error?: string }

/**
 * `cilium-dbg map events NAME -f` over the agent API: the buffered events,
 * then each new one, printed as map_event_list.go does, until Ctrl-C.
 * Events the server skipped because we fell behind are reported on stderr.
 */
async function followMapEvents(client: DplabClient, node: string, name: string): Promise<number> {
  const url = `${client.server}/nodes/${encodeURIComponent(node)}/v1/map/${encodeURIComponent(name)}/events?follow=true`;
  const ctl = new AbortController();
  const onSig = (): void => ctl.abort();
  process.once('SIGINT', onSig); process.once('SIGTERM', onSig);
  try {
    let res: Response;
    try { res = await fetch(url, { signal: ctl.signal }); } catch { throw new CliError(`cannot reach the dplab server at ${client.server} (is "dplab serve" running?)`); }
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as MapEventLine;
      throw new CliError(res.status === 404 && body.error === 'Map not found' ? '[GET /map/{name}/events][404] getMapNameEventsNotFound ' : (body.error ?? `HTTP ${res.status}`));
    }
    let buf = '';
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        buf += dec.decode(chunk as Uint8Array, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const e = JSON.parse(buf.slice(0, nl)) as MapEventLine;
          buf = buf.slice(nl + 1);
          if (e.lost !== undefined) { process.stderr.write(`${e.lost} events lost: this reader fell behind\n`); continue; }
          process.stdout.write(`key=${JSON.stringify(e.key ?? '')} value=${JSON.stringify(e.value ?? '')} time=${e.timestamp} action=${e.action} desiredState=${e['desired-action']} lastError=${JSON.stringify(e['last-error'] ?? '')}\n`);
        }
      }
    } catch (err) { if (!ctl.signal.aborted) throw new CliError('the server closed the map event stream'); }
    return 0;
  } finally { process.off('SIGINT', onSig); process.off('SIGTERM', onSig); }
}

/** A monitor stream message: a line, `{lost}` when the server skipped lines for us, or `{error}` before it closes. */
export interface MonitorMessage { text?: string; lost?: number; error?: string }

/**
 * What `cilium-dbg monitor` prints for a message: the line, or for lines the
 * server skipped because we fell behind, its lost-record line
 * (monitor/format LostEvent: "CPU %02d: Lost %d events"; the server's queue is
 * not per CPU, so CPU 00).
 */
export function monitorOutput(msg: MonitorMessage): string | undefined {
  if (msg.text !== undefined) return `${msg.text}\n`;
  if (msg.lost !== undefined) return `CPU 00: Lost ${msg.lost} events\n`;
  return undefined;
}

/** Streams `cilium-dbg monitor` lines until Ctrl-C or the server closes. */
async function monitor(client: DplabClient, node: string): Promise<number> {
  let error: string | undefined;
  const ws = await client.openStream(`/v1/nodes/${encodeURIComponent(node)}/monitor`, (data) => {
    const msg = JSON.parse(String(data)) as MonitorMessage;
    if (msg.error) error = msg.error;
    const out = monitorOutput(msg);
    if (out !== undefined) process.stdout.write(out);
  });
  return new Promise((resolve, reject) => {
    const onSig = (): void => { ws.close(); resolve(0); };
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    ws.on('close', () => {
      process.off('SIGINT', onSig); process.off('SIGTERM', onSig);
      reject(new CliError(error ?? 'the server closed the monitor stream'));
    });
  });
}
