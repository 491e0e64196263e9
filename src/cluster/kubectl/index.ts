// `kubectl` inside the emulation: get, describe, apply/create/delete -f -,
// delete TYPE NAME, patch, exec. Prints what kubectl prints; errors go to
// stderr with exit code 1.

import { ClusterError, type ExecResult } from '../facade.ts';
import type { KubeApi } from '../kube/api.ts';
import { kindInfo, KINDS, type Any, type KindInfo, type KObject } from '../kube/types.ts';
import { kindLabel } from '../kube/request.ts';
import { matchesSelector } from '../kube/validate.ts';
import { clusterInfo } from './cluster_info.ts';
import { kubectlCreate } from './create.ts';
import { describe } from './describe.ts';
import { defaultContainer, execPod } from './exec_target.ts';
import { byFieldSelector } from './field_selector.ts';
import { KUBECTL_HELP, verbHelp, wantsRootHelp } from './help.ts';
import { toJson, toYaml } from './format.ts';
import { renderJsonPath } from './jsonpath.ts';
import { printTable, type TableCtx } from './tables.ts';

/** What kubectl needs from the cluster. */
export interface KubectlHost {
  readonly api: KubeApi;
  readonly sim: { wallMs(): number };
  exec(namespace: string, pod: string, argv: string[], stdin?: string): Promise<ExecResult>;
  /** A command in the node's host namespaces (what a host-network container sees). */
  nodeExec(node: string, argv: string[], stdin?: string): Promise<ExecResult>;
  identityOf(namespace: string, pod: string): number | undefined;
}

interface Flags { ns?: string; all: boolean; out?: string; sel?: string; fieldSel?: string; file?: string; type: string; patch?: string; noHeaders: boolean; showLabels: boolean; showKind: boolean; container?: string; quiet: boolean; dash: boolean; pos: string[]; rest: string[] }

function parseFlags(argv: string[]): Flags {
  const f: Flags = { all: false, type: 'strategic', noHeaders: false, showLabels: false, showKind: false, quiet: false, dash: false, pos: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => { const v = argv[++i]; if (v === undefined) throw new ClusterError(`error: flag needs an argument: ${a}`, 400, a); return v; };
    const eq = a.indexOf('=');
    const [k, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const v = (): string => inline ?? val();
    if (a === '--') { f.dash = true; f.rest = argv.slice(i + 1); break; }
    else if (k === '-n' || k === '--namespace') f.ns = v();
    else if (/^-n./.test(a)) f.ns = a.slice(2);
    else if (k === '-A' || k === '--all-namespaces') f.all = true;
    else if (k === '-o' || k === '--output') f.out = v();
    else if (/^-o./.test(a)) f.out = a.slice(2).replace(/^=/, '');
    else if (k === '-l' || k === '--selector') f.sel = v();
    else if (k === '--field-selector') f.fieldSel = v();
    else if (k === '-f' || k === '--filename') f.file = v();
    else if (k === '--type') f.type = v();
    else if (k === '-p' || k === '--patch') f.patch = v();
    else if (k === '-c' || k === '--container') f.container = v();
    else if (k === '--no-headers') f.noHeaders = true;
    else if (k === '--show-labels') f.showLabels = true;
    else if (k === '--show-kind') f.showKind = true;
    else if (k === '-q' || k === '--quiet') f.quiet = true;
    else if (['-i', '-t', '-it', '-ti', '--stdin', '--tty', '-w', '--wait', '--force'].includes(k) || k.startsWith('--grace-period') || k.startsWith('--now')) { /* accepted, no effect */ }
    else if (a.startsWith('-') && a !== '-') throw new ClusterError(`error: unknown flag: ${a}`, 400, a);
    else f.pos.push(a);
  }
  return f;
}

function parseSelector(sel: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of sel.split(',').filter(Boolean)) {
    const m = /^([^=!]+)==?(.*)$/.exec(part);
    if (!m) throw new ClusterError(`error: unsupported selector "${part}" (only key=value)`, 400, 'selector');
    out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

/** Run kubectl argv; never throws for user errors. */
export async function runKubectl(host: KubectlHost, argv: string[], stdin = ''): Promise<ExecResult> {
  try {
    return await dispatch(host, argv, stdin);
  } catch (e) {
    return errorResult(e);
  }
}

/** What kubectl prints for a failure: 422 Invalid errors bare ("The Service "s" is invalid: ..."), others after "Error from server: ". */
function errorResult(e: unknown): ExecResult {
  if (e instanceof ClusterError) return { stdout: '', stderr: `${/^(error|Error)|^The \S+ ".*" is invalid: /.test(e.message) ? '' : 'Error from server: '}${e.message}\n`, exitCode: 1 };
  return { stdout: '', stderr: `error: ${(e as Error).message}\n`, exitCode: 1 };
}

async function dispatch(host: KubectlHost, argv: string[], stdin: string): Promise<ExecResult> {
  if (wantsRootHelp(argv)) return { stdout: KUBECTL_HELP, stderr: '', exitCode: 0 };
  const help = verbHelp(argv);
  if (help) return help;
  const [verb, ...args] = argv;
  const f = parseFlags(args);
  const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
  switch (verb) {
    case 'get': return get(host, f);
    case 'describe': return ok(describeAll(host, f));
    case 'apply': case 'create': {
      if (f.file !== '-') throw new ClusterError(`error: only "-f -" (stdin) is supported`, 400, 'filename');
      if (verb === 'create') return kubectlCreate(host.api, stdin);
      const lines = host.api.apply(stdin);
      if (lines.length === 0) throw new ClusterError('error: no objects passed to apply', 400, 'filename');
      return ok(lines.join('\n') + '\n');
    }
    case 'delete': {
      // kubectl delete on input without objects says so on stdout and succeeds.
      if (f.file === '-') return ok((host.api.delete(stdin).join('\n') || 'No resources found') + '\n');
      const { kind, names } = target(f);
      if (names.length === 0) throw new ClusterError('error: resource(s) were provided, but no name was specified', 400, 'name');
      return ok(host.api.deleteNamed(kind, f.ns ?? 'default', names).join('\n') + '\n');
    }
    case 'patch': {
      const { kind, names } = target(f);
      if (names.length !== 1 || f.patch === undefined) throw new ClusterError('error: patch requires TYPE NAME and -p PATCH', 400, 'patch');
      if (!['merge', 'strategic', 'json'].includes(f.type)) throw new ClusterError(`error: --type must be one of [json merge strategic], not "${f.type}"`, 400, 'type');
      return ok(host.api.patch(kind, f.ns ?? 'default', names[0]!, f.type as 'merge', f.patch).join('\n') + '\n');
    }
    case 'exec': return exec(host, f, stdin);
    case 'cluster-info': return clusterInfo(host, f.pos, f.ns);
    case 'version': return ok('Client Version: v1.30.4\nKustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3\nServer Version: v1.30.4\n');
    default: throw new ClusterError(`error: unknown command "${verb ?? ''}" for "kubectl"`, 400, 'verb');
  }
}

/**
 * kubectl 1.30's exec (ExecOptions.Complete/Validate/Run): the command after
 * `--`, or, deprecated, the words after the pod; a container named with -c
 * is checked by the API server (pod/strategy.go streamLocation).
 */
async function exec(host: KubectlHost, f: Flags, stdin: string): Promise<ExecResult> {
  const ref = f.pos[0];
  let warning = '';
  let command = f.rest;
  if (!f.dash && f.pos.length > 1) {
    if (!f.quiet) warning = 'kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use kubectl exec [POD] -- [COMMAND] instead.\n';
    command = f.pos.slice(1);
  }
  if (!ref) throw new ClusterError('error: pod, type/name or --filename must be specified', 400, 'pod');
  if (command.length === 0) throw new ClusterError('error: you must specify at least one command for the container', 400, 'command');
  const ns = f.ns ?? 'default';
  let r: ExecResult;
  // The deprecation warning comes first, whatever follows (kubectl prints it while parsing its arguments).
  try {
    // pod/NAME, or a workload's first pod as kubectl picks it (ds/cilium).
    const { name: pod, pod: obj } = execPod(host.api, ns, ref);
    if (obj && f.container !== undefined) {
      const inits = (obj.spec.initContainers ?? []).map((c: { name: string }) => c.name);
      const names = [...(obj.spec.containers ?? []).map((c: { name: string }) => c.name), ...inits];
      if (!names.includes(f.container)) return { stdout: '', stderr: `${warning}Error from server (BadRequest): container ${f.container} is not valid for pod ${pod}\n`, exitCode: 1 };
      // Init containers ran to completion: kubelet has no running container to exec in.
      if (inits.includes(f.container)) return { stdout: '', stderr: `${warning}error: unable to upgrade connection: container not found ("${f.container}")\n`, exitCode: 1 };
    }
    if (obj && f.container === undefined) warning += defaultContainer(obj, f.quiet).notice;
    // A host-network container (Cilium's agent) shares the node's network and UTS namespaces: it runs on the node.
    r = obj?.spec.hostNetwork && obj.spec.nodeName ? await host.nodeExec(obj.spec.nodeName, command, stdin) : await host.exec(ns, pod, command, stdin);
  } catch (e) { const err = errorResult(e); return { ...err, stderr: warning + err.stderr }; }
  const stderr = `${warning}${r.stderr}`;
  return r.exitCode === 0 ? { ...r, stderr } : { ...r, stderr: `${stderr}command terminated with exit code ${r.exitCode}\n` };
}

/** The `all` category as kubectl expands it, restricted to the kinds the lab serves (pods, services, daemonsets, deployments, replicasets). */
const ALL_KINDS = ['Pod', 'Service', 'DaemonSet', 'Deployment', 'ReplicaSet'];

/** TYPE[,TYPE...] [NAME...] or TYPE/NAME...; `multi` when kubectl would print kind-prefixed names (resource.MultipleTypesRequested). */
function target(f: Flags): { kind: string; names: string[]; kinds: string[]; multi: boolean } {
  const first = f.pos[0];
  if (!first) throw new ClusterError('error: You must specify the type of resource to get.', 400, 'resource');
  if (first.includes('/')) {
    const [type, name] = first.split('/');
    const info = kindInfo(type!);
    if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${type}"`, 404, 'resource');
    return { kind: info.kind, kinds: [info.kind], names: [name!, ...f.pos.slice(1).map((p) => p.split('/').pop()!)], multi: false };
  }
  const types = first.split(',');
  const kinds = [...new Set(types.flatMap((t) => {
    if (t === 'all') return ALL_KINDS;
    const info = kindInfo(t);
    if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${t}"`, 404, 'resource');
    return [info.kind];
  }))];
  return { kind: kinds[0]!, kinds, names: f.pos.slice(1), multi: types.length > 1 || types.includes('all') };
}

function objectsOf(host: KubectlHost, kind: string, ns: string | undefined): KObject[] {
  if (kind !== 'CiliumEndpoint') return host.api.list(kind, ns);
  return host.api.list('Pod', ns).flatMap((p) => {
    const id = host.identityOf(p.metadata.namespace!, p.metadata.name);
    if (id === undefined || p.spec.hostNetwork) return [];
    return [{
      apiVersion: 'cilium.io/v2', kind: 'CiliumEndpoint',
      metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: p.metadata.labels, creationTimestamp: p.metadata.creationTimestamp, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid! }] },
      status: { identity: { id }, state: 'ready', networking: { addressing: [{ ipv4: p.status.podIP }], node: p.status.hostIP } },
    } as KObject];
  });
}

function get(host: KubectlHost, f: Flags): ExecResult {
  const { kinds, names, multi } = target(f);
  const nsLabel = f.ns ?? 'default';
  const ctx: TableCtx = { nowMs: host.sim.wallMs(), wide: f.out === 'wide', identityOf: (n, p) => host.identityOf(n, p) };
  const all: KObject[] = [];
  let stdout = '';
  let stderr = '';
  for (const kind of kinds) {
    const info = KINDS.find((k) => k.kind === kind)!;
    const ns = !info.namespaced || f.all ? undefined : nsLabel;
    let objs = objectsOf(host, kind, ns);
    if (f.sel) { const sel = parseSelector(f.sel); objs = objs.filter((o) => matchesSelector(o.metadata.labels, sel)); }
    if (f.fieldSel !== undefined) objs = byFieldSelector(objs, kind, f.fieldSel, f.sel);
    if (names.length) {
      const found: KObject[] = [];
      for (const n of names) {
        const o = objs.find((x) => x.metadata.name === n);
        if (o) found.push(o); else stderr += `Error from server (NotFound): ${groupResource(info)} "${n}" not found\n`;
      }
      objs = found;
    }
    all.push(...objs);
    if (!f.out || f.out === 'wide') {
      if (objs.length) stdout += (stdout ? '\n' : '') + printTable(kind, objs, ctx, { allNamespaces: f.all && info.namespaced, noHeaders: f.noHeaders, showLabels: f.showLabels, kindPrefix: multi || f.showKind ? kindLabel(kind) : undefined });
    }
  }
  const single = names.length === 1 && kinds.length === 1 && all.length === 1;
  const listObj = { apiVersion: 'v1', items: all, kind: 'List', metadata: { resourceVersion: '' } };
  const doc: Any = single ? all[0] : listObj;
  if (f.out === 'yaml') stdout = all.length || !names.length ? toYaml(doc) : '';
  else if (f.out === 'json') stdout = all.length || !names.length ? toJson(doc) : '';
  else if (f.out === 'name') stdout = all.map((o) => `${kindLabel(o.kind)}/${o.metadata.name}\n`).join('');
  else if (f.out?.startsWith('jsonpath=') || f.out?.startsWith('jsonpath-as-json=')) {
    try { stdout = renderJsonPath(f.out.slice(f.out.indexOf('=') + 1), JSON.parse(JSON.stringify(doc))); } catch (e) { throw new ClusterError(`error: ${(e as Error).message}`, 400, 'output'); }
  } else if (f.out && f.out !== 'wide') throw new ClusterError(`error: unable to match a printer suitable for the output format "${f.out}", allowed formats are: json,jsonpath,jsonpath-as-json,name,wide,yaml`, 400, 'output');
  if (all.length === 0 && names.length === 0 && (!f.out || f.out === 'wide')) {
    stderr += f.all ? 'No resources found\n' : `No resources found in ${nsLabel} namespace.\n`;
  }
  return { stdout, stderr, exitCode: stderr.includes('NotFound') ? 1 : 0 };
}

function describeAll(host: KubectlHost, f: Flags): string {
  const { kinds, names } = target(f);
  const kind = kinds[0]!;
  const info = KINDS.find((k) => k.kind === kind)!;
  const ns = info.namespaced ? f.ns ?? 'default' : undefined;
  let objs = host.api.list(kind, f.all ? undefined : ns);
  if (names.length) {
    objs = names.map((n) => {
      const o = objs.find((x) => x.metadata.name === n) ?? objs.find((x) => x.metadata.name.startsWith(n));
      if (!o) throw new ClusterError(`Error from server (NotFound): ${groupResource(info)} "${n}" not found`, 404, 'name');
      return o;
    });
  }
  // Each describer's text ends with a newline; kubectl puts two more between objects.
  return objs.map((o) => describe(host, o) + '\n').join('\n\n');
}

/** The resource as the API server names it in errors: plural, then the group for non-core kinds (daemonsets.apps). */
function groupResource(info: KindInfo): string {
  const slash = info.apiVersion.indexOf('/');
  return slash < 0 ? info.resource : `${info.resource}.${info.apiVersion.slice(0, slash)}`;
}
