// The traffic compare runs: a small YAML list of exec steps, each a command in
// a pod repeated N times, e.g.
//   - exec: {pod: netpod, command: curl -s webpod, repeat: 10}
//   - exec: {pod: netpod, command: [nslookup, webpod]}
//   - exec: {node: internet, command: curl -s 172.18.0.3:30080, repeat: 5}
// A step runs in a pod, or with `node:` on a node's host (`internet` is the
// emulated outside: NodePort and LoadBalancer traffic from off the cluster).
// Bounded: at most MAX_STEPS steps and MAX_REQUESTS commands in all.

import { parse } from 'yaml';
import { ClusterError } from '../cluster/facade.ts';

/** A command in a pod (`pod`) or on a node's host (`node`), repeated. */
export interface TrafficStep { pod?: string; node?: string; namespace: string; argv: string[]; repeat: number }

export const MAX_STEPS = 100;
export const MAX_REPEAT = 1000;
export const MAX_REQUESTS = 2000;

function bad(msg: string): never { throw new ClusterError(`traffic: ${msg}`, 400, 'traffic'); }

/** Parse and check a traffic file; ClusterError naming the step and field on bad input. */
export function parseTraffic(text: string): TrafficStep[] {
  let doc: unknown;
  try { doc = parse(text); } catch (e) { return bad(`invalid YAML: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`); }
  if (!Array.isArray(doc) || doc.length === 0) bad('must be a non-empty list of steps ({exec: {pod | node, command, repeat}})');
  if (doc.length > MAX_STEPS) bad(`${doc.length} steps (at most ${MAX_STEPS})`);
  const steps = doc.map((s, i) => step(s, i));
  const total = steps.reduce((a, s) => a + s.repeat, 0);
  if (total > MAX_REQUESTS) bad(`${total} commands in all (at most ${MAX_REQUESTS})`);
  return steps;
}

function step(s: unknown, i: number): TrafficStep {
  const f = `step ${i + 1}`;
  const e = (s as { exec?: unknown } | null)?.exec as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object' || Array.isArray(e)) bad(`${f}: want {exec: {pod | node, command, repeat}}`);
  if ((e.pod === undefined) === (e.node === undefined)) bad(`${f}: exec needs one of pod and node`);
  const where = e.pod !== undefined ? 'pod' : 'node';
  const name = e[where];
  if (typeof name !== 'string' || name === '') bad(`${f}: exec.${where} must be a ${where} name`);
  const ns = e.namespace ?? 'default';
  if (typeof ns !== 'string' || ns === '') bad(`${f}: exec.namespace must be a namespace name`);
  const argv = typeof e.command === 'string' ? e.command.trim().split(/\s+/).filter((x) => x) : e.command;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) bad(`${f}: exec.command must be a command line or a list of strings`);
  const repeat = e.repeat ?? 1;
  if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT) bad(`${f}: exec.repeat must be an integer in 1..${MAX_REPEAT}, got ${JSON.stringify(repeat)}`);
  return { [where]: name, namespace: ns, argv: argv as string[], repeat };
}
