// One error shape for every route: `{ error, field? }` with a 4xx status for
// user mistakes, so clients print one line and never a stack trace.

import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError } from '../cluster/facade.ts';

/** JSON body of every error answer. */
export interface ErrorBody { error: string; field?: string }

/** Maps a thrown error to the HTTP status and body the API answers with. */
export function errorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ClusterError) {
    const body: ErrorBody = { error: err.message };
    if (err.field !== undefined) body.field = err.field;
    return { status: err.status, body };
  }
  const fe = err as Partial<FastifyError> & { message?: string };
  if (fe && Array.isArray(fe.validation)) {
    const v = fe.validation[0];
    const missing = (v?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = missing ?? (v?.instancePath ? v.instancePath.replace(/^\//, '').split('/')[0] : undefined);
    const body: ErrorBody = { error: fe.message ?? 'invalid request' };
    if (field) body.field = field;
    return { status: 400, body };
  }
  const status = typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  const message = status === 500 ? `internal error: ${fe?.message ?? String(err)}` : (fe?.message ?? 'bad request');
  return { status, body: { error: message } };
}

/** WebSocket close code for an error status: 4000 + HTTP status (4404 unknown node/iface). */
export function closeCodeFor(status: number): number { return 4000 + (status >= 400 && status < 600 ? status : 500); }

/** How long a client that never answers the close handshake may hold a stream (ws's own wait is 30 s). */
const CLOSE_GRACE_MS = 1000;

/** Cuts a socket off once the close grace has passed without it closing. */
function terminateLater(socket: WebSocket): void {
  setTimeout(() => { if (socket.readyState !== socket.CLOSED) socket.terminate(); }, CLOSE_GRACE_MS).unref();
}

/** Closes a stream (if still open) with code and reason, cut off after the grace if the client never answers. */
export function closeStream(socket: WebSocket, code: number, reason = ''): void {
  if (socket.readyState === socket.OPEN) socket.close(code, reason);
  terminateLater(socket);
}

/** How every WebSocket stream refuses (limits, bad node or argument): `{error}`, then close 4000+status. */
export function refuseStream(socket: WebSocket, err: unknown): void {
  const { status, body } = errorBody(err);
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(body));
  closeStream(socket, closeCodeFor(status), body.error.slice(0, 120));
}

/** Installs the JSON error and not-found handlers on the root instance (inherited by route plugins). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorBody(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` } satisfies ErrorBody);
  });
}

/**
 * The answer to a request Node's HTTP parser refused before any route ran
 * (fastify's clientErrorHandler): the same `{error}` shape as every other
 * answer, then the connection is closed, as Node does.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let error = `malformed HTTP request: ${err.reason ?? err.message.replace(/^Parse Error: /, '')}`;
  if (err.code === 'HPE_HEADER_OVERFLOW') { status = 431; error = `request headers too large (the server takes ${maxHeaderSize} bytes)`; }
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') { status = 408; error = 'request timed out before its headers were complete'; }
  const body = JSON.stringify({ error } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
