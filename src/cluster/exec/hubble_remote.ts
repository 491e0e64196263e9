// The agent pod's `hubble --server HOST:PORT` dials over the emulated
// network, as hubble dials from the node (the hubble-relay Service, its pod,
// or any other address): names resolve through cluster DNS, as the agent
// pod's ClusterFirstWithHostNet policy does, and the emulated TCP connection
// is made here, so a dial fails with hubble's words before any gRPC happens.
// The connection then carries Hubble's gRPC client (grpc-js), as `dplab
// hubble` uses it.

import { SocketError, type Netns } from '../../kernel/api.ts';
import { DialError, HubbleClient } from '../../hubble/grpc/client.ts';
import type { Sim } from '../../sim/sim.ts';
import { TcpStream } from '../images/tcp_stream.ts';
import { parseResolvConf, resolveHost } from './resolver.ts';

/** What the dial needs: the node's netns and clock, and the cluster's DNS server. */
export interface RemoteEnv { netns: Netns; sim: Sim; clusterDns: string }

function dialError(server: string, why: string): DialError {
  return new DialError(`failed to connect to '${server}': connection error: desc = "transport: error while dialing: ${why}"`);
}

/** Connects to HOST:PORT from the node and returns a Hubble client on that connection (close() it when done). */
export async function dialRemote(env: RemoteEnv, server: string): Promise<HubbleClient> {
  const m = /^(.*):(\d+)$/.exec(server);
  if (!m || Number(m[2]) > 65535) throw dialError(server, `dial tcp: address ${server}: missing port in address`);
  const host = m[1] || 'localhost', port = Number(m[2]);
  const rc = parseResolvConf(`nameserver ${env.clusterDns}\nsearch kube-system.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
  const r = await resolveHost(env.netns, env.sim, rc, host, 4);
  if (!r.ok || r.v4.length === 0) throw dialError(server, `dial tcp: lookup ${host}: no such host`);
  const ip = r.v4[0]!;
  let conn;
  try {
    conn = await env.netns.sockets.tcpConnect({ ip: ip.split('.').reduce((v, o) => v * 256 + Number(o), 0) >>> 0, port }, { timeoutNs: 5e9 });
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    throw dialError(server, `dial tcp ${ip}:${port}: ${e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.code === 'ETIMEDOUT' ? 'i/o timeout' : e.message}`);
  }
  const stream = new TcpStream(conn);
  // A reset or a reader far behind ends the stream with an error; the client sees the connection closed.
  stream.on('error', () => {});
  return HubbleClient.over(stream, server);
}
