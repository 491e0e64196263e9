// --demo-traffic: gentle periodic traffic in the default lab so a newcomer's
// tcpdump or monitor shows something at once. One round at a time: netpod
// curls the service and a webpod by IP, pings a pod on another node, and
// looks the service up in DNS. Commands a user would type, via cluster.exec.

import type { ClusterFacade } from '../cluster/facade.ts';
import type { Background } from './driver.ts';

export interface DemoOptions {
  /** Wall-clock milliseconds between rounds. */
  intervalMs?: number;
  /** Pod that sends the traffic. */
  client?: string;
  /** Pods whose name starts with this are targets; the Service of that name is curled. */
  target?: string;
  namespace?: string;
}

interface PodRow { name: string; ip: string; node: string }

/** Rows of `kubectl get pods -o wide`, by header position (columns vary by version). */
export function parsePodsWide(out: string): PodRow[] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header) return [];
  const cols = header.trim().split(/\s+/);
  const iName = cols.indexOf('NAME'), iIp = cols.indexOf('IP'), iNode = cols.indexOf('NODE');
  if (iName < 0 || iIp < 0) return [];
  return lines.map((l) => l.trim().split(/\s+/)).map((c) => ({ name: c[iName] ?? '', ip: c[iIp] ?? '', node: iNode >= 0 ? c[iNode] ?? '' : '' }))
    .filter((r) => /^\d+\.\d+\.\d+\.\d+$/.test(r.ip));
}

/** The commands of one round, given the pods found; empty when the client pod is missing. */
export function demoRound(pods: PodRow[], client: string, target: string, round: number): string[][] {
  const me = pods.find((p) => p.name === client);
  const targets = pods.filter((p) => p.name.startsWith(target) && p.name !== client);
  if (!me || targets.length === 0) return [];
  const byIp = targets[round % targets.length]!;
  const remote = targets.filter((p) => p.node !== me.node);
  const pingTo = (remote.length > 0 ? remote : targets)[round % (remote.length || targets.length)]!;
  return [['curl', '-s', target], ['curl', '-s', byIp.ip], ['ping', '-c', '1', pingTo.ip], ['nslookup', target]];
}

/** Starts the generator; stop() ends it after the command in flight. */
export function startDemoTraffic(cluster: ClusterFacade, opts: DemoOptions = {}): Background {
  const intervalMs = opts.intervalMs ?? 2000, client = opts.client ?? 'netpod', target = opts.target ?? 'webpod';
  const ns = opts.namespace ?? 'default';
  let stopped = false, round = 0;
  let pods: PodRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const once = async (): Promise<void> => {
    // Rediscover now and then: pods come and go with apply/delete.
    if (pods.length === 0 || round % 15 === 0) {
      const r = await cluster.sim.settle(cluster.kubectl(['get', 'pods', '-n', ns, '-o', 'wide']));
      pods = r.exitCode === 0 ? parsePodsWide(r.stdout) : [];
    }
    for (const argv of demoRound(pods, client, target, round)) {
      if (stopped) return;
      try { await cluster.sim.settle(cluster.exec(ns, client, argv)); } catch { pods = []; return; }
    }
  };
  const loop = (): void => {
    if (stopped) return;
    running = once().catch(() => { pods = []; }).then(() => { round++; if (!stopped) timer = setTimeout(loop, intervalMs); });
  };
  timer = setTimeout(loop, Math.min(intervalMs, 500));
  return { async stop() { stopped = true; if (timer) clearTimeout(timer); await running; } };
}
