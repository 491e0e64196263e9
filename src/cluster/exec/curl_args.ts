// curl's command line: the options a lab uses, combined short flags (-sS,
// -so /dev/null), long forms, and URL splitting (host, host:port, scheme://host:port/path).

export interface CurlOpts {
  silent: boolean; showError: boolean; verbose: boolean; head: boolean; include: boolean; fail: boolean;
  output?: string; writeOut?: string; method?: string; data?: string;
  headers: string[]; maxTimeS?: number; connectTimeoutS?: number; ipv4: boolean;
  urls: string[];
}

export interface ParsedUrl { scheme: 'http' | 'https'; host: string; port: number; path: string; hostHeader: string }

const WITH_ARG: Record<string, keyof CurlOpts> = {
  o: 'output', w: 'writeOut', X: 'method', d: 'data', H: 'headers', m: 'maxTimeS',
};
const LONG_WITH_ARG: Record<string, keyof CurlOpts> = {
  output: 'output', 'write-out': 'writeOut', request: 'method', data: 'data', 'data-raw': 'data', 'data-binary': 'data',
  header: 'headers', 'max-time': 'maxTimeS', 'connect-timeout': 'connectTimeoutS',
  'user-agent': 'headers', 'resolve': 'urls', 'retry': 'urls',
};
const FLAGS: Record<string, keyof CurlOpts | null> = {
  s: 'silent', S: 'showError', v: 'verbose', I: 'head', i: 'include', f: 'fail', '4': 'ipv4',
  k: null, L: null, N: null, q: null,
};
const LONG_FLAGS: Record<string, keyof CurlOpts | null> = {
  silent: 'silent', 'show-error': 'showError', verbose: 'verbose', head: 'head', include: 'include', fail: 'fail', ipv4: 'ipv4',
  insecure: null, location: null, 'no-buffer': null, 'no-progress-meter': null, http1: null, 'http1.1': null,
};

export function parseCurlArgs(args: string[]): CurlOpts | { error: string; code: number } {
  const o: CurlOpts = { silent: false, showError: false, verbose: false, head: false, include: false, fail: false, headers: [], ipv4: false, urls: [] };
  const set = (key: keyof CurlOpts, v: string, opt: string): string | undefined => {
    if (key === 'headers') o.headers.push(opt === 'user-agent' ? `User-Agent: ${v}` : v);
    else if (key === 'maxTimeS' || key === 'connectTimeoutS') {
      const n = Number(v);
      if (!Number.isFinite(n)) return `curl: option --${opt}: expected a proper numerical parameter`;
      o[key] = n;
    } else if (key === 'urls') { /* options we accept and ignore */ }
    else (o as unknown as Record<string, string>)[key] = v;
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (name in LONG_FLAGS) { const k = LONG_FLAGS[name]; if (k) (o as unknown as Record<string, boolean>)[k] = true; continue; }
      const key = LONG_WITH_ARG[name];
      if (!key) return { error: `curl: option ${a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`, code: 2 };
      const v = inline ?? args[++i];
      if (v === undefined) return { error: `curl: option ${a}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n`, code: 2 };
      const e = set(key, v, name); if (e) return { error: e + '\n', code: 2 };
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c in FLAGS) { const k = FLAGS[c]; if (k) (o as unknown as Record<string, boolean>)[k] = true; continue; }
        const key = WITH_ARG[c];
        if (!key) return { error: `curl: option -${c}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`, code: 2 };
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return { error: `curl: option -${c}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n`, code: 2 };
        const e = set(key, v, c === 'm' ? 'max-time' : c); if (e) return { error: e + '\n', code: 2 };
        break;
      }
      continue;
    }
    o.urls.push(a);
  }
  return o;
}

/** Split a URL the way curl guesses one without a scheme (http). Returns null when curl would say "URL rejected". */
export function parseUrl(raw: string): ParsedUrl | null {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):\/\/)?([^/:?#\s]+)(?::(\d*))?([/?][^#\s]*)?(?:#.*)?$/.exec(raw);
  if (!m) return null;
  const scheme = (m[1] ?? 'http').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  const def = scheme === 'https' ? 443 : 80;
  const port = m[3] ? Number(m[3]) : def;
  if (port > 65535) return null;
  let path = m[4] ?? '/';
  if (path.startsWith('?')) path = '/' + path;
  const host = m[2]!.toLowerCase();
  return { scheme, host, port, path, hostHeader: port === def ? host : `${host}:${port}` };
}
