// HTTP and WebSocket access to a running `dplab serve`, with failures turned
// into one-line CliErrors (server down, bad URL, API errors).

import type WebSocket from 'ws';
import { CliError } from './errors.ts';

/** The exec routes' answer: the command's output and exit code. */
export interface ExecResult { stdout: string; stderr: string; exitCode: number }

export const DEFAULT_SERVER = 'http://127.0.0.1:9876';

/** The server URL: --server, else $DPLAB_SERVER, else the default. */
export function serverUrl(flag?: string): string {
  return (flag || process.env.DPLAB_SERVER || DEFAULT_SERVER).replace(/\/+$/, '');
}

export class DplabClient {
  private readonly base: URL;
  /** A path in the server URL (a server behind a reverse proxy at http://h/dplab): prefixed to every route. */
  private readonly basePath: string;
  constructor(readonly server: string) {
    try { this.base = new URL(server); } catch { throw new CliError(`invalid server URL "${server}"`); }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new CliError(`invalid server URL "${server}" (want http://HOST:PORT[/PATH])`);
    if (this.base.search || this.base.hash || this.base.username || this.base.password) {
      throw new CliError(`invalid server URL "${server}": only http://HOST:PORT[/PATH], no query, fragment or credentials`);
    }
    this.basePath = this.base.pathname.replace(/\/+$/, '');
  }

  /** The URL of a route (path with its query), under the server URL's own path. */
  private url(path: string): URL { return new URL(this.basePath + path, this.base.origin); }

  private unreachable(): CliError {
    return new CliError(`cannot reach the dplab server at ${this.server} (is "dplab serve" running?)`);
  }

  /** GET or POST JSON; an API error answer becomes a CliError carrying its message. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch { throw this.unreachable(); }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try { json = JSON.parse(text); } catch { throw new CliError(`unexpected answer from ${this.server}${path} (HTTP ${res.status}): is this a dplab server?`); }
    if (!res.ok) throw new CliError((json as { error?: string }).error ?? `HTTP ${res.status}`);
    return json as T;
  }

  /** `body`: the objects (JSON, as kubectl sends them), or `{yaml}` for the server to parse. */
  apply(body: object[] | { yaml: string }): Promise<{ lines: string[] }> { return this.request('POST', '/v1/apply', body); }
  delete(body: object[] | { yaml: string }): Promise<{ lines: string[] }> { return this.request('POST', '/v1/delete', body); }
  kubectl(argv: string[], stdin?: string): Promise<ExecResult> { return this.request('POST', '/v1/kubectl', stdin === undefined ? { argv } : { argv, stdin }); }
  exec(namespace: string, pod: string, argv: string[]): Promise<ExecResult> { return this.request('POST', '/v1/exec', { namespace, pod, argv }); }
  nodeExec(node: string, argv: string[], stdin?: string): Promise<ExecResult> { return this.request('POST', `/v1/nodes/${encodeURIComponent(node)}/exec`, stdin === undefined ? { argv } : { argv, stdin }); }
  async nodes(): Promise<string[]> { return (await this.request<{ nodes: string[] }>('GET', '/v1/nodes')).nodes; }

  /**
   * Opens a WebSocket stream; rejects with a CliError if the server cannot be
   * reached. onMessage is attached before the handshake completes: the first
   * message can arrive in the same chunk as the upgrade answer. Once open, an
   * error never throws: the stream ends with its 'close'.
   */
  async openStream(path: string, onMessage: (data: Buffer, isBinary: boolean) => void): Promise<WebSocket> {
    // Loaded here: only the streaming verbs need ws, the others start without it.
    const { default: WebSocket } = await import('ws');
    const url = this.url(path);
    url.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('message', onMessage);
      ws.once('open', () => {
        // After the handshake an error (a malformed frame) is followed by the close every stream handles.
        ws.removeAllListeners('error');
        ws.on('error', () => {});
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => { ws.removeAllListeners('error'); reject(new CliError(`${path.split('?')[0]}: the server answered HTTP ${res.statusCode} instead of a stream`)); });
      ws.once('error', () => reject(this.unreachable()));
    });
  }
}
