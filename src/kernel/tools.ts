// Shell entry point for kernel tools run inside a netns: ip, route, bpftool.

import type { Netns } from './api.ts';
import { formatIpAddr, formatIpLink, formatIpNeigh } from './fmt_ip.ts';
import { formatIpRoute, formatRouteN } from './fmt_route.ts';
import { formatMap, formatMapList, formatNetShow, formatProg, formatProgList } from './fmt_bpftool.ts';
import type { NetnsImpl } from './netns.ts';

export interface ToolResult { stdout: string; stderr: string; exitCode: number }

const ok = (stdout: string): ToolResult => ({ stdout, stderr: '', exitCode: 0 });
const fail = (stderr: string, exitCode: number): ToolResult => ({ stdout: '', stderr: stderr + '\n', exitCode });

/** Run `ip ...`, `route ...` or `bpftool ...` against ns; undefined for other commands. */
export function runKernelTool(ns: Netns, argv: string[]): ToolResult | undefined {
  const n = ns as NetnsImpl;
  switch (argv[0]) {
    case 'ip': return runIp(n, argv.slice(1));
    case 'route': return ok(formatRouteN(n));
    case 'bpftool': return runBpftool(n, argv.slice(1));
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
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip route help".`, 1);
    return ok(family === 6 ? '' : formatIpRoute(ns));
  }
  if (isPrefix(obj, 'neighbour') || isPrefix(obj, 'neighbor')) {
    if (!SHOW.has(cmd)) return fail(`Command "${cmd}" is unknown, try "ip neigh help".`, 1);
    return ok(formatIpNeigh(ns, color));
  }
  return fail(`Object "${obj}" is unknown, try "ip help".`, 1);
}

/** bpftool's do_help() (main.c), printed on stderr. */
export const BPFTOOL_HELP = `Usage: bpftool [OPTIONS] OBJECT { COMMAND | help }
       bpftool batch file FILE
       bpftool version

       OBJECT := { prog | map | link | cgroup | perf | net | feature | btf | gen | struct_ops | iter }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-V|--version} }
`;

/** bpftool's usage(): the help, then exit(-1), i.e. 255. */
const usage = (error?: string): ToolResult => ({ stdout: '', stderr: `${error === undefined ? '' : `Error: ${error}\n`}${BPFTOOL_HELP}`, exitCode: 255 });

function runBpftool(ns: NetnsImpl, args: string[]): ToolResult {
  const node = ns.node;
  // getopt: -h/--help prints the help and exits 0, whatever follows.
  if (args.some((a) => a === '--help' || /^-[a-zA-Z]*h[a-zA-Z]*$/.test(a))) return { stdout: '', stderr: BPFTOOL_HELP, exitCode: 0 };
  const words = args.filter((a) => !/^-(-?(color|colour)(=.*)?|c|p|-pretty|f|-bpffs|m|-mapcompat|n|-nomount)$/.test(a));
  const bad = words.find((w) => w.startsWith('-'));
  if (bad) return bad === '-j' || bad === '--json' ? fail('Error: JSON output is not supported here', 255) : usage(`unrecognized option '${bad}'`);
  const [obj, cmd = 'show', ...rest] = words;
  // cmd_select(): no object runs the first command, "help" (exit 0); a word that prefixes none prints the help, exit 255.
  if (obj === undefined || isPrefix(obj, 'help')) return { stdout: '', stderr: BPFTOOL_HELP, exitCode: 0 };
  const isShow = cmd === 'show' || cmd === 'list';
  if (isPrefix(obj, 'net')) {
    if (!isShow) return fail(`Error: unknown command '${cmd}'`, 255);
    const dev = rest[0] === 'dev' ? rest[1] : undefined;
    if (rest[0] === 'dev' && (dev === undefined || !node.hostNs.devices.has(dev))) return fail(`Error: invalid devname ${dev ?? ''}`, 255);
    return ok(formatNetShow(node, dev));
  }
  if (isPrefix(obj, 'prog')) {
    if (!isShow) return fail(`Error: unknown command '${cmd}'`, 255);
    if (rest.length === 0) return ok(formatProgList(node));
    if (rest[0] !== 'id' || !/^\d+$/.test(rest[1] ?? '')) return fail(`Error: expected 'id', 'tag', 'name' or 'pinned', got: '${rest[0] ?? ''}'?`, 255);
    const p = node.progs.get(Number(rest[1]));
    return p ? ok(formatProg(p)) : fail(`Error: get by id (${rest[1]}): No such file or directory`, 255);
  }
  if (isPrefix(obj, 'map')) {
    if (!isShow) return fail(`Error: unknown command '${cmd}'`, 255);
    if (rest.length === 0) return ok(formatMapList(node));
    if (rest[0] !== 'id' || !/^\d+$/.test(rest[1] ?? '')) return fail(`Error: expected 'id', 'name' or 'pinned', got: '${rest[0] ?? ''}'?`, 255);
    const m = node.maps.get(Number(rest[1]));
    return m ? ok(formatMap(m)) : fail(`Error: get map by id (${rest[1]}): No such file or directory`, 255);
  }
  return usage();
}
