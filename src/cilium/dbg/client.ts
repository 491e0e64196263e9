// cilium-dbg's side of the agent API: GET through the node's NodeApi (the
// same answers the HTTP routes give) and go-swagger's client errors
// (`[GET /map/{name}][404] getMapNameNotFound `) for what it refuses.

import type { NodeApi } from '../../datapath/contract.ts';

/** An API refusal as the generated client names it. */
export class ApiError extends Error {}

/** go-swagger operation ids of the GETs cilium-dbg makes, by path template. */
const OPS: Array<[RegExp, string, string]> = [
  [/^\/map\/[^/]+\/events$/, '/map/{name}/events', 'getMapNameEvents'],
  [/^\/map\/[^/]+$/, '/map/{name}', 'getMapName'],
  [/^\/endpoint\/[^/]+$/, '/endpoint/{id}', 'getEndpointId'],
  [/^\/identity\/[^/]+$/, '/identity/{id}', 'getIdentityId'],
  [/^\/service\/[^/]+$/, '/service/{id}', 'getServiceId'],
  [/^\/ip$/, '/ip', 'getIp'],
];
const SUFFIX: Record<number, string> = { 400: 'BadRequest', 404: 'NotFound' };

/** The client's error text for a refused GET of path (under /v1). */
export function swaggerError(path: string, status: number, body: unknown): string {
  const [, tmpl, op] = OPS.find(([re]) => re.test(path)) ?? [null, path, 'get'];
  // Endpoint ids that do not parse are getEndpointIdInvalid in Cilium's spec.
  const name = op + (op === 'getEndpointId' && status === 400 ? 'Invalid' : SUFFIX[status] ?? `Status${status}`);
  const payload = status === 400 ? ` ${JSON.stringify((body as { error?: string })?.error ?? '')}` : '';
  return `[GET ${tmpl}][${status}] ${name} ${payload}`;
}

/** GETs under /v1 of one node's API. */
export class DbgClient {
  constructor(private readonly api: NodeApi) {}

  /** The JSON answer; ApiError with the client's text when refused. */
  get<T>(path: string, query: Record<string, string> = {}): T {
    const a = this.api({ path: `/v1${path}`, query });
    if ('json' in a) return JSON.parse(a.json) as T;
    if (!('body' in a)) throw new Error(`GET /v1${path} is a stream`);
    if (a.status >= 400) throw new ApiError(swaggerError(path, a.status, a.body));
    return a.body as T;
  }

  /** A followed answer's messages: those there now, then (follow) each new one until stopped. */
  stream(path: string, query: Record<string, string>, onMessage: (m: unknown) => void): () => void {
    const a = this.api({ path: `/v1${path}`, query });
    if (!('stream' in a)) {
      if ('body' in a && a.status >= 400) throw new ApiError(swaggerError(path, a.status, a.body));
      throw new Error(`GET /v1${path} is not a stream`);
    }
    return a.stream((m) => onMessage(typeof m === 'function' ? (m as () => unknown)() : m), () => {});
  }
}

/**
 * Go's json.MarshalIndent(v, "", "  ") as `-o json` prints it: two-space
 * indent, and <, > and & escaped as encoding/json does by default.
 */
export function goJson(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n';
}
