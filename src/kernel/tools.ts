// Shell entry point for kernel tools run inside a netns: ip, route, bpftool, tc.

import type { Netns } from './api.ts';
import { formatIpAddr, formatIpLink, formatIpNeigh } from './fmt_ip.ts';
import { formatIpRoute, formatRouteN, ipRouteGet } from './fmt_route.ts';
import { runBpftool } from './bpftool.ts';
import { BPFTOOL_HELP } from './bpftool_help.ts';
import { runTc } from './tc.ts';
import type { NetnsImpl } from './netns.ts';

export interface ToolResult { stdout: string; stderr: string; exitCode: number }

const ok = (stdout: string): ToolResult => ({ stdout, stderr: '', exitCode: 0 });
const fail = (stderr: string, exitCode: number): ToolResult => ({ stdout: '', stderr: stderr + '\n', exitCode });

/** Run `ip ...`, `route ...`, `bpftool ...` or `tc ...` against ns; undefined for other commands. */
export function runKernelTool(ns: Netns, argv: string[]): ToolResult | undefined {
  const n = ns as NetnsImpl;
  switch (argv[0]) {
    case 'ip': return runIp(n, argv.slice(1));
    case 'route': return ok(formatRouteN(n));
    // Programs and maps are the kernel's whatever the netns; `net show` lists the netns's own devices.
    case 'bpftool': return runBpftool(n.node, argv.slice(1), n);
    case 'tc': return runTc(n, argv.slice(1));
    default: return undefined;
  }
}

const SHOW = new Set(['show', 'list', 'lst', 'ls', 'sh', 'l']);
function isPrefix(word: string, full: string): boolean { return word.length > 0 && full.startsWith(word); }

/**
 * iproute2's matches_color(): -c, -co ... -color (a prefix of "-color"),
 * optionally =always|auto|never; a bare flag means always. An exec's stdout
 * here is never a terminal, so auto stays plain.
 */
function colorOpt(opt: string): boolean | undefined {
  const eq = opt.indexOf('=');
  const name = eq < 0 ? opt : opt.slice(0, eq), value = eq < 0 ? '' : opt.slice(eq + 1);
  if (name.length < 2 || !'-color'.startsWith(name)) return undefined;
  if (value === '' || value === 'always') return true;
  if (value === 'auto' || value === 'never') return false;
  return undefined;
}

function runIp(ns: NetnsImpl, args: string[]): ToolResult {
  let family: 4 | 6 | undefined;
  let color = false;
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const opt = args[i]!.replace(/^--/, '-'), o = opt.slice(1);
    const c = colorOpt(opt);
    if (o === '4') family = 4;
    else if (o === '6') family = 6;
    else if (c !== undefined) color = c;
    else if (/^(d|details|s|stats|statistics|h|human|n|netns)$/.test(o)) { /* accepted, no effect */ }
    else return fail(`Option "${opt}" is unknown, try "ip -help".`, 255);
  }
  const obj = args[i];
  if (obj === undefined) return fail('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }', 255);
  const rest = args.slice(i + 1);
  const cmd = rest[0] ?? 'show';
  const devArg = (): string | undefined => (rest[1] === 'dev' ? rest[2] : rest[1]);
  const checkDev = (name: string | undefined): ToolResult | null => (name !== undefined && !ns.devices.has(name) ? fail(`Device "${name}" does not exist.`, 1) : null);
  if (isPrefix(obj, 'address') || obj === 'a') {
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip address help".`, 1);
    const dev = devArg();
    return checkDev(dev) ?? ok(formatIpAddr(ns, { family, dev, color }));
  }
  if (isPrefix(obj, 'link')) {
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip link help".`, 1);
    const dev = devArg();
    return checkDev(dev) ?? ok(formatIpLink(ns, dev, color));
  }
  if (isPrefix(obj, 'route') || obj === 'r') {
    if (isPrefix(cmd, 'get')) return ipRouteGet(ns, rest.slice(1));
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip route help".`, 1);
    return ok(family === 6 ? '' : formatIpRoute(ns));
  }
  if (isPrefix(obj, 'neighbour') || isPrefix(obj, 'neighbor')) {
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip neigh help".`, 1);
    const dev = rest[1] === 'dev' ? rest[2] : undefined;
    return checkDev(dev) ?? ok(formatIpNeigh(ns, color, dev));
  }
  return fail(`Object "${obj}" is unknown, try "ip help".`, 1);
}

export { BPFTOOL_HELP };
