// curl 8.7.1 over the netns sockets: resolve through resolv.conf as c-ares does
// (A+AAAA over one connected UDP socket), connect,
// one HTTP/1.1 exchange, curl's messages and exit codes (6, 7, 28, 52, 56).

import { SocketError, type TcpConnection } from '../../kernel/api.ts';
import { ipToU32 } from '../../wire/addr.ts';
import { encodeRequest, HttpParser, type HttpHeaders, type HttpMessage } from '../../wire/http.ts';
import type { ExecResult } from '../facade.ts';
import { resolvConf, type Cmd, type ShellCtx } from './context.ts';
import { parseCurlArgs, parseUrl, type CurlOpts, type ParsedUrl } from './curl_args.ts';
import { resolveHostAres } from './resolver.ts';

export const CURL_UA = 'curl/8.7.1';
const DEFAULT_CONNECT_TIMEOUT_S = 300;
const dec = new TextDecoder();

class CurlError extends Error { constructor(readonly code: number, msg: string) { super(msg); } }

/** verbose: curl's -v lines and its error line, written to stderr as they happen (a curl that `timeout` stops keeps them). */
interface Transfer { url: ParsedUrl; ip?: string; conn?: TcpConnection; res?: HttpMessage; startNs: number; verbose: { push(...lines: string[]): void } }

/** Resolves after ns of virtual time with a CurlError, unless cancelled. */
function timer(sh: ShellCtx, ns: number, err: () => CurlError): { p: Promise<never>; cancel(): void } {
  let h: { cancel(): void } | undefined;
  const p = new Promise<never>((_r, rej) => { h = sh.sim.schedule(ns, () => rej(err())); });
  p.catch(() => {});
  return { p, cancel: () => h?.cancel() };
}

function requestHeaders(o: CurlOpts, u: ParsedUrl): HttpHeaders {
  const hs: HttpHeaders = [['Host', u.hostHeader], ['User-Agent', CURL_UA], ['Accept', '*/*']];
  for (const h of o.headers) {
    const c = h.indexOf(':');
    if (c <= 0) continue;
    const name = h.slice(0, c).trim(), value = h.slice(c + 1).trim();
    const i = hs.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
    if (value === '' && h.endsWith(':')) { if (i >= 0) hs.splice(i, 1); continue; }
    if (i >= 0) hs[i] = [name, value]; else hs.push([name, value]);
  }
  if (o.data !== undefined) {
    hs.push(['Content-Length', String(new TextEncoder().encode(o.data).length)]);
    if (!hs.some(([k]) => k.toLowerCase() === 'content-type')) hs.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }
  return hs;
}

async function connect(sh: ShellCtx, o: CurlOpts, t: Transfer): Promise<TcpConnection> {
  const u = t.url;
  const r = await resolveHostAres(sh.netns, sh.sim, resolvConf(sh), u.host);
  if (!r.ok || r.v4.length === 0) throw new CurlError(6, `Could not resolve host: ${u.host}`);
  const ip = t.ip = r.v4[0]!;
  if (r.name !== ip || u.host !== ip) t.verbose.push(`* Host ${u.host}:${u.port} was resolved.`, `* IPv6: ${r.v6.join(', ') || '(none)'}`, `* IPv4: ${r.v4.join(', ')}`);
  t.verbose.push(`*   Trying ${ip}:${u.port}...`);
  const connectS = o.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S;
  const failMsg = (why: string): string => `Failed to connect to ${u.host} port ${u.port} after ${Math.floor((sh.sim.now() - t.startNs) / 1e6)} ms: ${why}`;
  const deadline = timer(sh, Math.max(0, t.startNs + connectS * 1e9 - sh.sim.now()), () => new CurlError(28, failMsg('Timeout was reached')));
  try {
    const conn = await Promise.race([sh.netns.sockets.tcpConnect({ ip: ipToU32(ip), port: u.port }, { timeoutNs: connectS * 1e9 }), deadline.p]);
    t.verbose.push(`* Connected to ${u.host} (${ip}) port ${u.port}`);
    return conn;
  } catch (e) {
    if (e instanceof CurlError) throw e;
    if (e instanceof SocketError && e.code === 'ETIMEDOUT') throw new CurlError(28, failMsg('Timeout was reached'));
    if (e instanceof SocketError) {
      const why = e.code === 'ECONNREFUSED' ? 'Connection refused' : e.code === 'EHOSTUNREACH' ? 'No route to host' : 'Network is unreachable';
      t.verbose.push(`* connect to ${ip} port ${u.port} failed: ${why}`);
      throw new CurlError(7, failMsg("Couldn't connect to server"));
    }
    throw e;
  } finally { deadline.cancel(); }
}

/** Send the request, read one response; resolves when it is complete. */
function exchange(conn: TcpConnection, method: string, o: CurlOpts, t: Transfer): Promise<HttpMessage> {
  const parser = new HttpParser('response');
  parser.expectResponseTo(method);
  const headers = requestHeaders(o, t.url);
  conn.write(encodeRequest({ method, path: t.url.path, headers, body: o.data }));
  t.verbose.push(`> ${method} ${t.url.path} HTTP/1.1`, ...headers.map(([k, v]) => `> ${k}: ${v}`), '> ', '* Request completely sent off');
  let received = 0;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (m: HttpMessage | undefined, err?: CurlError): void => {
      if (done) return; done = true;
      if (m) resolve(m); else reject(err);
    };
    conn.onData((d) => {
      received += d.length;
      try { const ms = parser.push(d); if (ms[0]) finish(ms[0]); } catch { finish(undefined, new CurlError(8, 'Weird server reply')); }
    });
    conn.onEnd(() => {
      if (received === 0) return finish(undefined, new CurlError(52, 'Empty reply from server'));
      try { const ms = parser.end(); if (ms[0]) finish(ms[0]); } catch { finish(undefined, new CurlError(18, 'transfer closed with outstanding read data remaining')); }
    });
    conn.onClose((err) => {
      if (err) finish(undefined, received === 0 && err.code === 'ECONNREFUSED' ? new CurlError(52, 'Empty reply from server') : new CurlError(56, 'Recv failure: Connection reset by peer'));
      else finish(undefined, new CurlError(52, 'Empty reply from server'));
    });
  });
}

function headText(m: HttpMessage): string {
  return `${m.version} ${m.status} ${m.reason}\r\n` + m.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

function writeOut(fmt: string, t: Transfer, sh: ShellCtx): string {
  const vars: Record<string, string> = {
    http_code: String(t.res?.status ?? 0).padStart(3, '0'), response_code: String(t.res?.status ?? 0).padStart(3, '0'),
    remote_ip: t.ip ?? '', remote_port: t.conn ? String(t.url.port) : '', local_ip: t.conn ? dottedLocal(t.conn) : '', local_port: t.conn ? String(t.conn.local.port) : '',
    size_download: String(t.res?.body.length ?? 0), time_total: ((sh.sim.now() - t.startNs) / 1e9).toFixed(6), url_effective: `${t.url.scheme}://${t.url.hostHeader}${t.url.path}`,
  };
  return fmt.replace(/%\{(\w+)\}/g, (_m, k: string) => vars[k] ?? '').replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r');
}
const dottedLocal = (c: TcpConnection): string => `${c.local.ip >>> 24}.${(c.local.ip >>> 16) & 255}.${(c.local.ip >>> 8) & 255}.${c.local.ip & 255}`;

async function transfer(sh: ShellCtx, o: CurlOpts, url: ParsedUrl, out: { stdout: string; stderr: string }, writeFile?: (p: string, s: string) => Promise<void>): Promise<number> {
  const say = (lines: string[]): void => { for (const l of lines) if (o.verbose || l.startsWith('curl: (')) out.stderr += l + '\n'; };
  const t: Transfer = { url, startNs: sh.sim.now(), verbose: { push: (...lines) => say(lines) } };
  const method = o.method ?? (o.head ? 'HEAD' : o.data !== undefined ? 'POST' : 'GET');
  const maxT = o.maxTimeS !== undefined ? timer(sh, o.maxTimeS * 1e9, () => new CurlError(28, `Operation timed out after ${Math.floor((sh.sim.now() - t.startNs) / 1e6)} milliseconds with 0 bytes received`)) : undefined;
  let code = 0;
  try {
    const run = async (): Promise<void> => {
      t.conn = await connect(sh, o, t);
      t.res = await exchange(t.conn, method, o, t);
      t.conn.end();
    };
    await (maxT ? Promise.race([run(), maxT.p]) : run());
    const res = t.res!;
    t.verbose.push(`< ${res.version} ${res.status} ${res.reason}`, ...res.headers.map(([k, v]) => `< ${k}: ${v}`), '< ', `* Connection #0 to host ${url.host} left intact`);
    if (o.fail && res.status! >= 400) throw new CurlError(22, `The requested URL returned error: ${res.status}`);
    let body = (o.head || o.include ? headText(res) : '') + (o.head ? '' : dec.decode(res.body));
    if (o.output && o.output !== '-') { if (o.output !== '/dev/null' && writeFile) await writeFile(o.output, body); body = ''; }
    out.stdout += body;
  } catch (e) {
    if (!(e instanceof CurlError)) throw e;
    t.conn?.end();
    code = e.code;
    if (o.verbose) t.verbose.push('* Closing connection');
    if (!o.silent || o.showError) t.verbose.push(`curl: (${e.code}) ${e.message}`);
  } finally { maxT?.cancel(); }
  if (o.writeOut) out.stdout += writeOut(o.writeOut, t, sh);
  return code;
}

export function makeCurl(writeFile?: (p: string, s: string) => Promise<void>): Cmd {
  return async (args, _stdin, sh): Promise<ExecResult> => {
    const o = parseCurlArgs(args);
    if ('error' in o) return { stdout: '', stderr: o.error, exitCode: o.code };
    if (o.urls.length === 0) return { stdout: '', stderr: "curl: try 'curl --help' or 'curl --manual' for more information\n", exitCode: 2 };
    const out = sh.progress ?? { stdout: '', stderr: '' };
    let code = 0;
    for (const raw of o.urls) {
      const u = parseUrl(raw);
      if (!u) { code = 3; if (!o.silent || o.showError) out.stderr += `curl: (3) URL rejected: Malformed input to a URL function\n`; continue; }
      code = await transfer(sh, o, u, out, writeFile);
    }
    return { stdout: out.stdout, stderr: out.stderr, exitCode: code };
  };
}
