// Fails on any import that points up the layers of DESIGN.md or crosses one
// of its "never" pairs. Static, type-only and dynamic imports all count: a
// file cannot name another layer's type without one of them.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const RANK: Record<string, number> = {
  'src/wire': 0, 'src/sim': 0, 'src/bpf': 1, 'src/netfilter': 1, 'src/kernel': 2, maps: 3, programs: 4, 'src/datapath': 5,
  'src/cilium': 6, 'src/kubeproxy': 6, 'src/cni': 6, 'src/hubble': 7, 'src/userspace': 8, 'src/k8s': 8, 'src/cluster': 9,
  'src/api': 10, 'src/grpc': 10, 'src/compare': 10, 'src/cli': 11,
  // The package entry (the library API): re-exports the cluster and compare, above everything.
  'src/index.ts': 12,
};

/** The composition point: the one cluster file that may import implementations (their plugin bundles). */
const COMPOSITION = 'src/cluster/datapaths.ts';
const IMPLEMENTATIONS = ['src/cilium', 'src/kubeproxy', 'src/cni', 'maps', 'programs'];
/**
 * Hubble's printer, flag parser and gRPC client: the CLI's one way below the API (they import only each other,
 * proto.ts and wire). The CLI and the hubble in agent pods share Hubble's gRPC client.
 */
const HUBBLE_SHARED = ['src/hubble/printer/', 'src/hubble/cli/', 'src/hubble/grpc/'];

/** DESIGN.md's "never" pairs: files of `from` never import `to`. */
const NEVER: Array<{ rule: string; from: string[]; to: string[]; except?: (file: string, target: string) => boolean }> = [
  { rule: 'programs never import the agent, Hubble or the API', from: ['programs'], to: ['src/cilium', 'src/hubble', 'src/api'] },
  { rule: 'the BPF engine knows no Cilium', from: ['src/bpf'], to: ['src/cilium', 'maps', 'programs'] },
  { rule: 'netfilter knows no kube-proxy', from: ['src/netfilter'], to: ['src/kubeproxy'] },
  { rule: 'the seam knows no implementation', from: ['src/datapath'], to: IMPLEMENTATIONS },
  {
    rule: 'the cluster holds the contracts, never an implementation', from: ['src/cluster'], to: IMPLEMENTATIONS,
    except: (file, target) => file === COMPOSITION && /^src\/(cilium|kubeproxy|cni)\/plugin\.ts$/.test(target),
  },
  {
    rule: 'no Cilium type outside Cilium, maps, programs, Hubble and the seam\'s Cilium side',
    from: ['src/wire', 'src/sim', 'src/bpf', 'src/netfilter', 'src/kernel', 'src/datapath', 'src/kubeproxy', 'src/cni', 'src/userspace', 'src/k8s',
      'src/api', 'src/grpc', 'src/compare', 'src/cli'],
    to: ['src/cilium', 'maps', 'programs'],
  },
  {
    rule: 'the CLI talks to the server: nothing below the API but wire codecs', from: ['src/cli'],
    to: Object.keys(RANK).filter((l) => RANK[l]! < RANK['src/api']! && l !== 'src/wire'),
    // The one exception: the CLI may import Hubble's printer, flag parser and gRPC client (shared with the hubble in agent pods).
    except: (_file, target) => HUBBLE_SHARED.some((d) => target.startsWith(d)),
  },
  {
    rule: 'Hubble\'s printer, flag parser and gRPC client import nothing of the cluster', from: ['src/hubble'], to: Object.keys(RANK),
    except: (file, target) => !HUBBLE_SHARED.some((d) => file.startsWith(d))
      || HUBBLE_SHARED.some((d) => target.startsWith(d)) || target === 'src/hubble/proto.ts' || target.startsWith('src/wire/'),
  },
];

function layerOf(rel: string): string | undefined {
  return Object.keys(RANK).find((k) => rel === k || rel.startsWith(k + '/'));
}

interface Edge { file: string; spec: string; target: string }

/** Every relative import in a file's source, resolved to a repository path. */
function edgesOf(file: string, src: string): Edge[] {
  const out: Edge[] = [];
  for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    out.push({ file, spec, target: relative(root, resolve(root, dirname(file), spec)).split('\\').join('/') });
  }
  return out;
}

/** Layer violations of a set of import edges, one line each. */
function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { file, spec, target } of edges) {
    const from = layerOf(file), to = layerOf(target);
    if (!from) { out.push(`${file} is in no layer`); continue; }
    if (!to) { out.push(`${file} imports ${spec}, outside every layer`); continue; }
    if (to !== from && RANK[to]! >= RANK[from]!) out.push(`${file} (${from}) imports ${spec} (${to})`);
    for (const n of NEVER) {
      if (n.from.includes(from) && n.to.includes(to) && !n.except?.(file, target)) out.push(`${file} imports ${spec}: ${n.rule}`);
    }
  }
  return out;
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

t.test('the source tree keeps the layers and the never pairs', async (t) => {
  const files = ['src', 'maps', 'programs'].flatMap((d) => walk(join(root, d), []));
  t.ok(files.length > 0, 'found source files');
  const edges = files.flatMap((f) => {
    const rel = relative(root, f).split('\\').join('/');
    return layerOf(rel) ? edgesOf(rel, readFileSync(f, 'utf8')) : [{ file: rel, spec: '', target: '' }];
  });
  t.same(violations(edges), [], 'no import points up the layers or crosses a never pair');
});

// The checker itself: each rule bites on the import it forbids and lets the allowed one through.
const cases: Array<[string, string, string, string | null]> = [
  ['up the ranks', 'src/kernel/node.ts', `import { Cluster } from '../cluster/cluster.ts';`, 'src/kernel/node.ts (src/kernel) imports ../cluster/cluster.ts (src/cluster)'],
  ['programs -> agent', 'programs/cil_to_host.ts', `import type { NodeAgent } from '../src/cilium/agent.ts';`, 'programs/cil_to_host.ts imports ../src/cilium/agent.ts: programs never import the agent, Hubble or the API'],
  ['bpf -> maps', 'src/bpf/map.ts', `import { EndpointKey } from '../../maps/cilium_lxc.ts';`, 'src/bpf/map.ts imports ../../maps/cilium_lxc.ts: the BPF engine knows no Cilium'],
  ['netfilter -> kube-proxy', 'src/netfilter/nat.ts', `import { sync } from '../kubeproxy/iptables.ts';`, 'src/netfilter/nat.ts imports ../kubeproxy/iptables.ts: netfilter knows no kube-proxy'],
  ['seam -> maps', 'src/datapath/contract.ts', `import type { NodeMaps } from '../../maps/index.ts';`, 'src/datapath/contract.ts imports ../../maps/index.ts: the seam knows no implementation'],
  ['cluster -> agent', 'src/cluster/cluster.ts', `import type { CiliumControl } from '../cilium/api.ts';`, 'src/cluster/cluster.ts imports ../cilium/api.ts: the cluster holds the contracts, never an implementation'],
  ['cluster dynamic import', 'src/cluster/deps.ts', `const m = await import('../cilium/control.ts');`, 'src/cluster/deps.ts imports ../cilium/control.ts: the cluster holds the contracts, never an implementation'],
  ['composition point -> plugin', COMPOSITION, `import { ciliumDatapaths } from '../cilium/plugin.ts';`, null],
  ['composition point -> agent', COMPOSITION, `import { NodeAgent } from '../cilium/agent.ts';`, `${COMPOSITION} imports ../cilium/agent.ts: the cluster holds the contracts, never an implementation`],
  ['api -> Cilium type', 'src/api/routes/streams.ts', `import type { CiliumCluster } from '../../cilium/control.ts';`, 'src/api/routes/streams.ts imports ../../cilium/control.ts: no Cilium type outside Cilium, maps, programs, Hubble and the seam\'s Cilium side'],
  ['CLI -> model', 'src/cli/serve.ts', `import type { ClusterFacade } from '../cluster/facade.ts';`, 'src/cli/serve.ts imports ../cluster/facade.ts: the CLI talks to the server: nothing below the API but wire codecs'],
  ['CLI -> wire codec', 'src/cli/tcpdump.ts', `import { pcapHeader } from '../wire/pcap.ts';`, null],
  ['CLI -> API', 'src/cli/serve.ts', `const { launchServer } = await import('../api/launch.ts');`, null],
  ['CLI -> Hubble printer', 'src/cli/hubble.ts', `import { FlowPrinter } from '../hubble/printer/flows.ts';`, null],
  ['CLI -> Hubble flag parser', 'src/cli/hubble.ts', `import { parseHubbleArgs } from '../hubble/cli/command.ts';`, null],
  ['CLI -> Hubble observer', 'src/cli/hubble.ts', `import { Observer } from '../hubble/observer.ts';`, 'src/cli/hubble.ts imports ../hubble/observer.ts: the CLI talks to the server: nothing below the API but wire codecs'],
  ['Hubble printer -> protos', 'src/hubble/printer/flows.ts', `import { GetFlowsResponse } from '../proto.ts';`, null],
  ['Hubble printer -> wire', 'src/hubble/printer/flows.ts', `import { ipv4 } from '../../wire/ipv4.ts';`, null],
  ['Hubble flag parser -> observer', 'src/hubble/cli/filters.ts', `import { matches } from '../filters.ts';`, 'src/hubble/cli/filters.ts imports ../filters.ts: Hubble\'s printer, flag parser and gRPC client import nothing of the cluster'],
  ['CLI -> Hubble gRPC client', 'src/cli/hubble_run.ts', `import { HubbleClient } from '../hubble/grpc/client.ts';`, null],
  ['Hubble gRPC client -> protos', 'src/hubble/grpc/client.ts', `import { GetFlowsResponse } from '../proto.ts';`, null],
  ['Hubble gRPC client -> observer', 'src/hubble/grpc/client.ts', `import { Observer } from '../observer.ts';`, 'src/hubble/grpc/client.ts imports ../observer.ts: Hubble\'s printer, flag parser and gRPC client import nothing of the cluster'],
  ['cluster -> Hubble gRPC client', 'src/cluster/exec/hubble_remote.ts', `import { HubbleClient } from '../../hubble/grpc/client.ts';`, null],
  ['cluster -> gRPC server', 'src/cluster/exec/hubble_remote.ts', `import { startHubbleGrpc } from '../../grpc/server.ts';`, 'src/cluster/exec/hubble_remote.ts (src/cluster) imports ../../grpc/server.ts (src/grpc)'],
  ['Hubble printer -> kernel', 'src/hubble/printer/flows.ts', `import type { KernelNode } from '../../kernel/api.ts';`, 'src/hubble/printer/flows.ts imports ../../kernel/api.ts: Hubble\'s printer, flag parser and gRPC client import nothing of the cluster'],
];
for (const [name, file, src, want] of cases) {
  t.test(`checker: ${name}`, async (t) => {
    const v = violations(edgesOf(file, src));
    if (want === null) t.same(v, [], 'allowed');
    else t.ok(v.includes(want), want, { got: v });
  });
}
