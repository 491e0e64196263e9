// grpc-js dials only real sockets (servers have createConnectionInjector,
// clients nothing public), so a client over a Duplex (an emulated TCP
// connection) gets a one-connection bridge: a unix socket in a fresh mkdtemp
// directory (mode 0700: no other local user can take the connection), whose
// first accepted socket is piped both ways into the stream. No TCP port is
// opened; the socket and its directory are gone once grpc-js has connected.

import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

/** The name every bridge directory under os.tmpdir() starts with. */
export const BRIDGE_PREFIX = 'dplab-grpc-';

export interface StreamBridge {
  /** The grpc-js target to dial (`unix:<path>`). */
  target: string;
  /** Ends both sides and removes what is left of the listener. */
  close(): void;
  /** True once the stream has ended without a byte from it (a server that closed before its HTTP/2 preface). */
  endedSilent(): boolean;
}

/** Opens a bridge to stream; everything goes when close() is called or either side ends or fails. */
export async function bridgeStream(stream: Duplex): Promise<StreamBridge> {
  if (stream.destroyed) throw new Error('the connection is closed');
  const dir = await mkdtemp(join(tmpdir(), BRIDGE_PREFIX));
  const path = join(dir, 'grpc.sock');
  const server = createServer();
  // One connection only: a second one (grpc-js reconnecting) is refused, as the emulated connection is spent.
  server.maxConnections = 1;
  let sock: Socket | undefined;
  let closed = false, streamEnded = false;
  const unlisten = (): void => { server.close(); rmSync(dir, { recursive: true, force: true }); };
  const close = (): void => {
    if (closed) return;
    closed = true;
    unlisten();
    sock?.destroy();
    stream.destroy();
  };
  server.once('connection', (s) => {
    sock = s;
    unlisten();
    // pipe() holds each side back while the other is full, both ways.
    s.pipe(stream);
    stream.pipe(s);
    s.once('close', close);
    s.on('error', close);
  });
  stream.once('end', () => { streamEnded = true; });
  stream.once('close', () => { streamEnded = true; close(); });
  stream.on('error', close);
  // The stream may have gone while the directory was made.
  if (stream.destroyed) close();
  if (closed) throw new Error('the connection is closed');
  await new Promise<void>((resolve, reject) => {
    const fail = (e?: Error): void => { close(); reject(e ?? new Error('the connection is closed')); };
    // close() before the listener is up: 'listening' never comes, 'close' does.
    const early = (): void => fail();
    server.once('error', fail);
    server.once('close', early);
    server.listen(path, () => { server.off('error', fail); server.off('close', early); resolve(); });
  });
  // What the stream sent is what the bridge wrote to grpc-js's socket.
  return { target: `unix:${path}`, close, endedSilent: () => streamEnded && (sock?.bytesWritten ?? 0) === 0 };
}
