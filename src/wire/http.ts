// Minimal HTTP/1.1 (RFC 9112): encode requests/responses and parse a byte
// stream incrementally into whole messages (Content-Length, chunked, or
// close-delimited bodies). Malformed input throws a clear Error; a message
// cut short just waits for more bytes.

export type HttpHeaders = Array<[string, string]>;

export interface HttpMessage {
  kind: 'request' | 'response';
  version: string;
  method?: string; path?: string;
  status?: number; reason?: string;
  headers: HttpHeaders;
  body: Uint8Array;
}

export interface HttpRequestInit { method: string; path: string; headers: HttpHeaders; body?: Uint8Array | string; version?: string }

const enc = new TextEncoder();
const latin1 = new TextDecoder('latin1');
const MAX_HEAD = 64 * 1024;

/** Value of the first header named `name` (case-insensitive). */
export function httpHeader(headers: HttpHeaders, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return undefined;
}

function toBytes(b: Uint8Array | string | undefined): Uint8Array {
  return b === undefined ? new Uint8Array(0) : typeof b === 'string' ? enc.encode(b) : b;
}

function encodeMessage(startLine: string, headers: HttpHeaders, body: Uint8Array, addLength: boolean): Uint8Array {
  let head = `${startLine}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  if (addLength && httpHeader(headers, 'content-length') === undefined && httpHeader(headers, 'transfer-encoding') === undefined) head += `Content-Length: ${body.length}\r\n`;
  const h = enc.encode(`${head}\r\n`);
  const out = new Uint8Array(h.length + body.length);
  out.set(h); out.set(body, h.length);
  return out;
}

/** Request bytes; adds Content-Length when there is a body and no length header. */
export function encodeRequest(r: HttpRequestInit): Uint8Array {
  const body = toBytes(r.body);
  return encodeMessage(`${r.method} ${r.path} ${r.version ?? 'HTTP/1.1'}`, r.headers, body, body.length > 0);
}

/** Response bytes; adds Content-Length unless the headers give a length or chunking. */
export function encodeResponse(status: number, reason: string, headers: HttpHeaders, body?: Uint8Array | string): Uint8Array {
  return encodeMessage(`HTTP/1.1 ${status} ${reason}`, headers, toBytes(body), !(status < 200 || status === 204 || status === 304));
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type BodyMode = { t: 'none' } | { t: 'length'; n: number } | { t: 'chunked' } | { t: 'close' };

export class HttpParser {
  private buf = new Uint8Array(0);
  private head: HttpMessage | null = null;
  private mode: BodyMode = { t: 'none' };
  private chunks: Uint8Array[] = [];
  /** Methods of requests whose responses this parser will read (HEAD responses have no body). */
  private readonly pendingMethods: string[] = [];

  constructor(readonly kind: 'request' | 'response') {}

  /** For a response parser: note the method of the next request sent on this connection. */
  expectResponseTo(method: string): void { this.pendingMethods.push(method.toUpperCase()); }

  /** Feed bytes; returns every message completed by them (in order). */
  push(chunk: Uint8Array): HttpMessage[] {
    const b = new Uint8Array(this.buf.length + chunk.length);
    b.set(this.buf); b.set(chunk, this.buf.length); this.buf = b;
    const out: HttpMessage[] = [];
    for (;;) {
      if (!this.head && !this.parseHead()) break;
      const m = this.parseBody();
      if (!m) break;
      out.push(m);
    }
    return out;
  }

  /** The peer closed: completes a close-delimited body; throws if a message was cut short. */
  end(): HttpMessage[] {
    if (this.head && this.mode.t === 'close') {
      const m = this.finish(this.buf); this.buf = new Uint8Array(0);
      return [m];
    }
    if (this.head || this.buf.length > 0) throw new Error(`HTTP: connection closed mid-${this.kind} (${this.head ? 'body' : 'headers'} incomplete)`);
    return [];
  }

  private parseHead(): boolean {
    const b = this.buf;
    let end = -1;
    for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) { end = i; break; }
    if (end < 0) {
      if (b.length > MAX_HEAD) throw new Error(`HTTP: header section larger than ${MAX_HEAD} bytes`);
      return false;
    }
    const lines = latin1.decode(b.subarray(0, end)).split('\r\n');
    this.buf = b.subarray(end + 4);
    const start = lines[0]!;
    const m: HttpMessage = { kind: this.kind, version: '', headers: [], body: new Uint8Array(0) };
    if (this.kind === 'request') {
      const p = /^([A-Z]+) (\S+) (HTTP\/\d\.\d)$/.exec(start);
      if (!p) throw new Error(`HTTP: malformed request line "${start}"`);
      m.method = p[1]; m.path = p[2]; m.version = p[3]!;
    } else {
      const p = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(start);
      if (!p) throw new Error(`HTTP: malformed status line "${start}"`);
      m.version = p[1]!; m.status = Number(p[2]); m.reason = p[3] ?? '';
    }
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0 || !TOKEN.test(line.slice(0, c))) throw new Error(`HTTP: malformed header line "${line}"`);
      m.headers.push([line.slice(0, c), line.slice(c + 1).trim()]);
    }
    this.head = m;
    this.mode = this.bodyMode(m);
    return true;
  }

  private bodyMode(m: HttpMessage): BodyMode {
    if (m.kind === 'response') {
      const method = this.pendingMethods.shift();
      if (method === 'HEAD' || m.status! < 200 || m.status === 204 || m.status === 304) return { t: 'none' };
    }
    const te = httpHeader(m.headers, 'transfer-encoding');
    if (te !== undefined && te.toLowerCase().split(',').map((s) => s.trim()).includes('chunked')) return { t: 'chunked' };
    const cl = httpHeader(m.headers, 'content-length');
    if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new Error(`HTTP: bad Content-Length "${cl}"`);
      return { t: 'length', n: Number(cl) };
    }
    return m.kind === 'response' ? { t: 'close' } : { t: 'none' };
  }

  private parseBody(): HttpMessage | null {
    const mode = this.mode;
    if (mode.t === 'none') return this.finish(new Uint8Array(0));
    if (mode.t === 'close') return null;
    if (mode.t === 'length') {
      if (this.buf.length < mode.n) return null;
      const body = this.buf.slice(0, mode.n);
      this.buf = this.buf.subarray(mode.n);
      return this.finish(body);
    }
    // Chunked: size line, data, CRLF ... "0" line, trailers, CRLF.
    for (;;) {
      const nl = indexOfCrlf(this.buf, 0);
      if (nl < 0) return null;
      const sizeText = latin1.decode(this.buf.subarray(0, nl)).split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`HTTP: bad chunk size "${sizeText}"`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        let o = nl + 2;
        for (;;) { // skip trailers up to the empty line
          const e = indexOfCrlf(this.buf, o);
          if (e < 0) return null;
          if (e === o) { this.buf = this.buf.subarray(o + 2); break; }
          o = e + 2;
        }
        const total = this.chunks.reduce((n, c) => n + c.length, 0);
        const body = new Uint8Array(total);
        let p = 0;
        for (const c of this.chunks) { body.set(c, p); p += c.length; }
        this.chunks = [];
        return this.finish(body);
      }
      if (this.buf.length < nl + 2 + size + 2) return null;
      this.chunks.push(this.buf.slice(nl + 2, nl + 2 + size));
      this.buf = this.buf.subarray(nl + 2 + size + 2);
    }
  }

  private finish(body: Uint8Array): HttpMessage {
    const m = this.head!;
    m.body = body;
    this.head = null; this.mode = { t: 'none' };
    return m;
  }
}

function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}
