// Datapath implementations by name, as a Cluster file chooses them
// (`cni: cilium`, `serviceProxy: cilium`, or the short form `datapath: cilium`).
// Implementations hand in bundles; the registry knows none of them.

import type { Cni, CniPlugin, DatapathContext, PluginConfig, ServiceProxy, ServiceProxyPlugin } from './contract.ts';

export interface DatapathChoice { cni: string; serviceProxy: string }

/** What one implementation package offers: its plugins and the short forms they make up. */
export interface DatapathBundle {
  cnis?: CniPlugin[];
  serviceProxies?: ServiceProxyPlugin[];
  /** `datapath: NAME` -> the CNI and service proxy it stands for. */
  shortForms?: Record<string, DatapathChoice>;
}

/** A choice that cannot be built: the spec field at fault and why. */
export interface DatapathProblem { field: 'datapath' | 'cni' | 'serviceProxy' | 'routing' | 'cniConfig' | 'serviceProxyConfig'; message: string }

/** The spec's settings for the chosen plugins; absent ones are not checked (routing: the CNI's default). */
export interface DatapathSettings { routing?: string; cniConfig?: PluginConfig; serviceProxyConfig?: PluginConfig }

export class DatapathError extends Error {
  constructor(readonly problem: DatapathProblem) { super(problem.message); }
}

function put<T>(m: Map<string, T>, name: string, v: T, what: string): void {
  // Two bundles claiming one name is a wiring mistake, not user input.
  if (m.has(name)) throw new Error(`${what} "${name}" registered twice`);
  m.set(name, v);
}

/** A plugin's verdict on its settings; one without configError takes none. */
function configError(p: { name: string; configError?(c: PluginConfig): string | undefined }, what: string, c: PluginConfig | undefined): string | undefined {
  if (c === undefined) return undefined;
  if (p.configError) return p.configError(c);
  const keys = Object.keys(c);
  return keys.length ? `${what} ${p.name} takes no settings, got "${keys[0]}"` : undefined;
}

const known = (names: string[]) => `known: ${names.length ? names.join(', ') : 'none'}`;

export class DatapathRegistry {
  private readonly cnis = new Map<string, CniPlugin>();
  private readonly proxies = new Map<string, ServiceProxyPlugin>();
  private readonly shorts = new Map<string, DatapathChoice>();

  constructor(bundles: DatapathBundle[]) {
    for (const b of bundles) {
      for (const p of b.cnis ?? []) put(this.cnis, p.name, p, 'CNI');
      for (const p of b.serviceProxies ?? []) put(this.proxies, p.name, p, 'service proxy');
      for (const [name, c] of Object.entries(b.shortForms ?? {})) put(this.shorts, name, c, 'datapath');
    }
  }

  cniNames(): string[] { return [...this.cnis.keys()]; }
  serviceProxyNames(): string[] { return [...this.proxies.keys()]; }
  /** Short forms whose CNI and service proxy are both registered. */
  shortFormNames(): string[] { return [...this.shorts].filter(([, c]) => this.cnis.has(c.cni) && this.proxies.has(c.serviceProxy)).map(([n]) => n); }

  /** Routing modes of a CNI (first = default); undefined for an unknown CNI. */
  routings(cni: string): readonly string[] | undefined { return this.cnis.get(cni)?.routings; }

  /** Expand `datapath: NAME`; a problem when it names nothing buildable. */
  expand(short: string): DatapathChoice | DatapathProblem {
    const c = this.shorts.get(short);
    if (c && this.shortFormNames().includes(short)) return c;
    return { field: 'datapath', message: `unknown datapath "${short}" (${known(this.shortFormNames())})` };
  }

  /** Why a choice cannot be built with these settings, or undefined when it can. */
  problem(choice: DatapathChoice, settings: DatapathSettings = {}): DatapathProblem | undefined {
    const { routing } = settings;
    const cni = this.cnis.get(choice.cni);
    if (!cni) return { field: 'cni', message: `unknown CNI "${choice.cni}" (${known(this.cniNames())})` };
    const proxy = this.proxies.get(choice.serviceProxy);
    if (!proxy) return { field: 'serviceProxy', message: `unknown service proxy "${choice.serviceProxy}" (${known(this.serviceProxyNames())})` };
    if (proxy.cnis && !proxy.cnis.includes(cni.name)) {
      return { field: 'serviceProxy', message: `service proxy "${proxy.name}" runs only with CNI ${proxy.cnis.join(' or ')}, not "${cni.name}"` };
    }
    if (routing !== undefined && !cni.routings.includes(routing)) {
      return { field: 'routing', message: `CNI ${cni.name} routes ${cni.routings.join(' or ')}, got "${routing}"` };
    }
    const c = configError(cni, 'CNI', settings.cniConfig);
    if (c) return { field: 'cniConfig', message: c };
    const s = configError(proxy, 'service proxy', settings.serviceProxyConfig);
    return s ? { field: 'serviceProxyConfig', message: s } : undefined;
  }

  /** Build the configured CNI, then the service proxy beside it. Throws DatapathError on a problem(). */
  build(ctx: DatapathContext): { cni: Cni; serviceProxy: ServiceProxy } {
    const p = this.problem(ctx.config, ctx.config);
    if (p) throw new DatapathError(p);
    const cni = this.cnis.get(ctx.config.cni)!.create(ctx);
    return { cni, serviceProxy: this.proxies.get(ctx.config.serviceProxy)!.create(ctx, cni) };
  }
}
