// `dplab kubectl port-forward [-n NS] [--address ADDR] TYPE/NAME [LOCAL:]REMOTE...`:
// kubectl's port-forward on the user's machine. The server resolves TYPE/NAME
// and the ports (POST /v1/portforward/plan, kubectl's error texts); this side
// listens as client-go's PortForwarder does (localhost: 127.0.0.1 and ::1,
// "Forwarding from ..." per listener) and carries each accepted connection
// over its own WebSocket to an emulated TCP connection to the pod's port
// ("Handling connection for N"), until Ctrl-C.
// Bounded: connections open at once (MAX_CONNECTIONS, more are closed as they
// come) and bytes in flight each way (the WebSocket's buffer and the local
// socket's, past which the other side stops being read).

import { createServer, type Server, type Socket } from 'node:net';
import type WebSocket from 'ws';
import type { DplabClient } from './client.ts';

interface ForwardedPort { local: number; remote: number }
interface Plan { namespace: string; pod: string; ports: ForwardedPort[] }
interface Args { namespace: string; addresses: string[]; resource: string; ports: string[] }

/** Connections forwarded at once, all ports together. */
export const MAX_CONNECTIONS = 64;
/** Bytes queued toward either side before the other stops being read. */
const BUFFER_BYTES = 1 << 20;

/** Thrown with kubectl's own text: printed as it is (not as a `dplab:` line). */
class KubectlError extends Error {}

/** True when the kubectl arguments run `port-forward` (global -n/--namespace may come first). */
export function isPortForward(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--namespace') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a === 'port-forward';
  }
  return false;
}

/** kubectl's flags for port-forward (namespace, address) and its positionals. */
function parseArgs(args: readonly string[]): Args {
  const out: Args = { namespace: 'default', addresses: ['localhost'], resource: '', ports: [] };
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const [k, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new KubectlError(`error: flag needs an argument: ${k}\nSee 'kubectl port-forward --help' for usage.`);
      return v;
    };
    if (k === '-n' || k === '--namespace') out.namespace = value();
    else if (/^-n./.test(a)) out.namespace = a.slice(2);
    else if (k === '--address') out.addresses = value().split(',');
    else if (k === '--pod-running-timeout') value();
    else if (a.startsWith('-') && a !== '-') throw new KubectlError(`error: unknown flag: ${k}\nSee 'kubectl port-forward --help' for usage.`);
    else pos.push(a);
  }
  pos.shift(); // the verb
  out.resource = pos[0] ?? '';
  out.ports = pos.slice(1);
  return out;
}

/** client-go's parseAddresses: localhost is 127.0.0.1 and ::1, either may fail; an explicit address must work. */
function listenAddresses(addresses: string[]): Array<{ family: 'tcp4' | 'tcp6'; host: string; must: boolean }> {
  const out: Array<{ family: 'tcp4' | 'tcp6'; host: string; must: boolean }> = [];
  for (const a of addresses) {
    if (a === 'localhost') out.push({ family: 'tcp4', host: '127.0.0.1', must: false }, { family: 'tcp6', host: '::1', must: false });
    else if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) out.push({ family: 'tcp4', host: a, must: true });
    else if (a.includes(':')) out.push({ family: 'tcp6', host: a, must: true });
    else throw new KubectlError(`error: ${a} is not a valid IP`);
  }
  return out;
}

const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's net.Listen error text for a failed listen. */
function listenError(family: string, host: string, port: number, e: NodeJS.ErrnoException): string {
  const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return `unable to create listener: Error listen ${family} ${joinHostPort(host, port)}: bind: ${why}`;
}

function listen(host: string, port: number, onConn: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer({ pauseOnConnect: true }, onConn);
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true }, () => { srv.off('error', reject); resolve(srv); });
  });
}

/** klog's error line, as kubectl prints a failed connection (portforward.go's runtime.HandleError). */
function klogError(msg: string): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `E${p(d.getMonth() + 1)}${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)} ${String(process.pid).padStart(7)} portforward.go:413] ${msg}\n`;
}

/** One local connection carried over its WebSocket to the pod's port. */
async function forward(client: DplabClient, plan: Plan, port: ForwardedPort, local: Socket): Promise<void> {
  let ws: WebSocket | undefined;
  let connected = false;
  const fail = (msg: string): void => {
    process.stderr.write(klogError(`an error occurred forwarding ${port.local} -> ${port.remote}: ${msg}`));
    local.destroy();
    ws?.terminate();
  };
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!connected) {
      let m: { connected?: unknown; error?: string } = {};
      try { m = JSON.parse(data.toString()) as typeof m; } catch { /* not ours */ }
      // The answer can come with the upgrade, before openStream resolves: start once both are there.
      if (m.connected) { connected = true; if (ws) start(); } else fail(m.error ?? 'the server refused the connection');
      return;
    }
    if (!isBinary) return;
    if (!local.write(data) && ws) { ws.pause(); local.once('drain', () => ws?.resume()); }
  };
  const start = (): void => {
    const w = ws!;
    local.on('data', (d: Buffer) => {
      w.send(d, { binary: true });
      if (w.bufferedAmount > BUFFER_BYTES) {
        local.pause();
        const again = setInterval(() => { if (w.readyState !== w.OPEN || w.bufferedAmount <= BUFFER_BYTES / 2) { clearInterval(again); local.resume(); } }, 5);
      }
    });
    local.resume();
  };
  const path = `/v1/namespaces/${encodeURIComponent(plan.namespace)}/pods/${encodeURIComponent(plan.pod)}/portforward?port=${port.remote}`;
  try { ws = await client.openStream(path, onMessage); } catch (e) { fail(e instanceof Error ? e.message : String(e)); return; }
  const w = ws;
  if (connected) start();
  w.once('close', () => { if (connected) local.end(); else if (!local.destroyed) fail('lost connection to pod'); });
  local.on('end', () => w.close(1000));
  local.on('error', () => w.terminate());
  local.on('close', () => { if (w.readyState === w.OPEN) w.close(1000); });
}

/** Runs until SIGINT/SIGTERM; the exit code. */
export async function portForward(client: DplabClient, args: readonly string[]): Promise<number> {
  let a: Args, plan: Plan;
  try {
    a = parseArgs(args);
    const addrs = listenAddresses(a.addresses);
    plan = await client.request<Plan>('POST', '/v1/portforward/plan', { namespace: a.namespace, resource: a.resource, ports: a.ports });
    const servers: Server[] = [];
    let open = 0;
    for (const port of plan.ports) {
      const errors: string[] = [];
      let ok = 0, mustFailed = false;
      const onConn = (s: Socket): void => {
        if (open >= MAX_CONNECTIONS) { process.stderr.write(klogError(`an error occurred forwarding ${port.local} -> ${port.remote}: dplab forwards at most ${MAX_CONNECTIONS} connections at once`)); s.destroy(); return; }
        open++;
        s.once('close', () => { open--; });
        process.stdout.write(`Handling connection for ${port.local}\n`);
        void forward(client, plan, port, s);
      };
      for (const addr of addrs) {
        try {
          const srv = await listen(addr.host, port.local, onConn);
          servers.push(srv);
          // Port 0: the first listener picks the port, the others take the same one.
          port.local = (srv.address() as { port: number }).port;
          ok++;
          process.stdout.write(`Forwarding from ${joinHostPort(addr.host, port.local)} -> ${port.remote}\n`);
        } catch (e) {
          errors.push(listenError(addr.family, addr.host, port.local, e as NodeJS.ErrnoException));
          if (addr.must) mustFailed = true;
        }
      }
      if (ok === 0 || mustFailed) process.stderr.write(`Unable to listen on port ${port.local}: Listeners failed to create with the following errors: [${errors.join(' ')}]\n`);
    }
    if (servers.length === 0) throw new KubectlError(`error: unable to listen on any of the requested ports: [${plan.ports.map((p) => `{${p.local} ${p.remote}}`).join(' ')}]`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); for (const s of servers) s.close(); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  } catch (e) {
    if (!(e instanceof KubectlError)) {
      // The server's answers carry kubectl's text (error: ..., Error from server ...).
      const msg = e instanceof Error ? e.message : String(e);
      if (/^(error: |Error from server)/.test(msg)) { process.stderr.write(`${msg}\n`); return 1; }
      throw e;
    }
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
}
