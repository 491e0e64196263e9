import t from 'tap';
import { encodeRequest, encodeResponse, HttpParser, httpHeader } from '../src/wire/http.ts';

const te = new TextEncoder(), td = new TextDecoder();
const text = (b: Uint8Array): string => td.decode(b);

t.test('encodeRequest / encodeResponse bytes', async (t) => {
  t.equal(text(encodeRequest({ method: 'GET', path: '/', headers: [['Host', 'webpod'], ['User-Agent', 'curl/8.5.0'], ['Accept', '*/*']] })),
    'GET / HTTP/1.1\r\nHost: webpod\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
  t.equal(text(encodeRequest({ method: 'POST', path: '/x', headers: [['Host', 'a']], body: 'hi' })),
    'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
  t.equal(text(encodeResponse(200, 'OK', [['Content-Type', 'text/plain']], 'hello')),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
  t.equal(text(encodeResponse(204, 'No Content', [])), 'HTTP/1.1 204 No Content\r\n\r\n');
});

t.test('request parsed byte by byte, then pipelined', async (t) => {
  const bytes = encodeRequest({ method: 'POST', path: '/api?q=1', headers: [['Host', 'webpod']], body: 'abc' });
  const p = new HttpParser('request');
  for (let i = 0; i < bytes.length - 1; i++) t.same(p.push(bytes.subarray(i, i + 1)), [], `no message after ${i + 1} bytes`);
  const [m] = p.push(bytes.subarray(bytes.length - 1));
  t.match(m, { kind: 'request', method: 'POST', path: '/api?q=1', version: 'HTTP/1.1' });
  t.equal(httpHeader(m!.headers, 'host'), 'webpod');
  t.equal(text(m!.body), 'abc');
  const two = new Uint8Array([...encodeRequest({ method: 'GET', path: '/a', headers: [] }), ...encodeRequest({ method: 'GET', path: '/b', headers: [] })]);
  t.same(new HttpParser('request').push(two).map((x) => x.path), ['/a', '/b']);
});

t.test('response bodies: length, chunked, close-delimited, HEAD, 304', async (t) => {
  const p = new HttpParser('response');
  t.same(p.push(te.encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel')), []);
  const [a] = p.push(te.encode('lo'));
  t.match(a, { status: 200, reason: 'OK' });
  t.equal(text(a!.body), 'hello');

  const c = new HttpParser('response');
  const [ch] = c.push(te.encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n'));
  t.equal(text(ch!.body), 'hello world');

  const close = new HttpParser('response');
  t.same(close.push(te.encode('HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it')), []);
  const [cl] = close.end();
  t.equal(text(cl!.body), 'all of it');

  const head = new HttpParser('response');
  head.expectResponseTo('HEAD');
  head.expectResponseTo('GET');
  const both = head.push(te.encode('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n'));
  t.same(both.map((m) => [m.status, m.body.length]), [[200, 0], [304, 0]]);
});

t.test('truncation waits; end() reports what was cut', async (t) => {
  const whole = encodeResponse(200, 'OK', [['X', 'y']], 'body');
  for (let n = 0; n < whole.length; n++) {
    const p = new HttpParser('response');
    t.same(p.push(whole.subarray(0, n)), [], `no message from ${n} bytes`);
    if (n > 0) t.throws(() => p.end(), /^HTTP: connection closed mid-response/);
  }
  t.same(new HttpParser('request').end(), [], 'clean close');
});

const MALFORMED: Array<['request' | 'response', string, RegExp]> = [
  ['request', 'GET /\r\n\r\n', /malformed request line "GET \/"/],
  ['request', 'GET / HTTP/1.1\r\nno colon\r\n\r\n', /malformed header line "no colon"/],
  ['response', 'HTTP/1.1 abc OK\r\n\r\n', /malformed status line/],
  ['response', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /bad Content-Length "-1"/],
  ['response', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size "zz"/],
];

t.test('malformed input throws a clear error', async (t) => {
  for (const [kind, s, re] of MALFORMED) t.throws(() => new HttpParser(kind).push(te.encode(s)), re, JSON.stringify(s));
});
