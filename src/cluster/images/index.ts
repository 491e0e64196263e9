// Container images as emulated apps: startContainers dispatches each
// container of a pod on its image name (registry and tag ignored).

import type { PodRuntimeContext, RunningPod } from '../runtime_contract.ts';
import { INTERNET_IMAGE } from '../runtime_contract.ts';
import { startGeneric, startNginx, startNodeHello } from './apps.ts';
import { startCoredns } from './coredns.ts';
import { relayListenPort, startHubbleRelay } from './hubble_relay.ts';
import { startInternet } from './internet.ts';
import { startWhoami } from './whoami.ts';

export { startInternet, internetAddress, DEFAULT_EXTERNAL_HOSTS } from './internet.ts';
export { linkLocalFromMac } from './whoami.ts';

/** "registry.k8s.io/coredns/coredns:v1.11.1" -> "registry.k8s.io/coredns/coredns"; "nginx@sha256:.." -> "nginx". */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** Last path element: "traefik/whoami" -> "whoami", "docker.io/library/nginx" -> "nginx". */
const baseName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** Value of `--port`/`-port` style flags in a container's args (whoami honours --port). */
function flagPort(args: string[] | undefined): number | undefined {
  for (let i = 0; i < (args ?? []).length; i++) {
    const m = /^--?port(?:=(\d+))?$/.exec(args![i]!);
    if (m) return Number(m[1] ?? args![i + 1]);
  }
  return undefined;
}

export function startContainers(ctx: PodRuntimeContext): RunningPod {
  const running: { close(): void }[] = [];
  for (const c of ctx.containers) {
    const name = imageName(c.image);
    const base = baseName(name);
    const tcpPorts = c.ports.filter((p) => p.protocol === 'TCP').map((p) => p.containerPort);
    const confined = c.confined ?? false;
    if (name === INTERNET_IMAGE) running.push(startInternet(ctx.netns, ctx.sim, ctx.dns.externalHosts, ctx.env));
    else if (base === 'whoami') {
      const port = flagPort(c.args) ?? Number(c.env.WHOAMI_PORT_NUMBER ?? ctx.env.WHOAMI_PORT_NUMBER ?? 80);
      running.push(startWhoami(ctx.netns, ctx.sim, ctx.hostname, port, c.env.WHOAMI_NAME, confined));
    } else if (base === 'netshoot' || base === 'busybox' || base === 'alpine' || base === 'pause' || base === 'dnsutils' || base === 'curl') {
      // Runs its command (sleep / tail -f /dev/null): no listener.
    } else if (base === 'coredns') running.push(startCoredns(ctx.netns, ctx.sim, ctx.dns, confined));
    else if (base === 'hubble-relay') running.push(startHubbleRelay(ctx, relayListenPort(c.args), {}, confined));
    else if (base === 'node-hello') running.push(startNodeHello(ctx.netns, ctx.sim, tcpPorts[0] ?? 8080, confined));
    else if (base === 'nginx') running.push(startNginx(ctx.netns, ctx.sim, 80, confined)); // nginx.conf listens on 80 whatever the manifest says
    else for (const p of tcpPorts) running.push(startGeneric(ctx.netns, ctx.sim, ctx.name, p));
  }
  return { stop: () => { for (const r of running.splice(0)) r.close(); }, ready: () => true };
}
