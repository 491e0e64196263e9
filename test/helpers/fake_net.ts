// In-memory stand-in for the kernel's SocketApi: hosts by IP, TCP/UDP/ICMP
// delivered through Sim events with a fixed one-way latency, optional
// service VIPs that pick a backend (what socket-LB would do).
import type { Endpoint4, Netns, NetDevice, PingReply, SocketApi, TcpConnection, UdpSocket } from '../../src/kernel/api.ts';
import { SocketError } from '../../src/kernel/api.ts';
import type { Sim } from '../../src/sim/sim.ts';
import { ipToU32 } from '../../src/wire/addr.ts';

type Ev = { kind: 'data'; data: Uint8Array } | { kind: 'end' };

class FakeConn implements TcpConnection {
  peer!: FakeConn;
  private dataCbs: ((d: Uint8Array) => void)[] = [];
  private endCbs: (() => void)[] = [];
  private closeCbs: ((e?: SocketError) => void)[] = [];
  private queued: Ev[] = [];
  sentFin = false; gotFin = false; closed = false;
  constructor(readonly net: FakeNet, readonly local: Endpoint4, readonly remote: Endpoint4) {}
  write(data: Uint8Array): void {
    if (this.sentFin) return;
    const copy = data.slice();
    this.net.sim.schedule(this.net.latencyNs, () => this.peer.deliver({ kind: 'data', data: copy }));
  }
  end(): void {
    if (this.sentFin) return;
    this.sentFin = true;
    this.net.sim.schedule(this.net.latencyNs, () => this.peer.deliver({ kind: 'end' }));
    this.maybeClose();
  }
  onData(cb: (d: Uint8Array) => void): void { this.dataCbs.push(cb); this.flush(); }
  onEnd(cb: () => void): void { this.endCbs.push(cb); this.flush(); }
  onClose(cb: (e?: SocketError) => void): void { this.closeCbs.push(cb); if (this.closed) cb(); }
  deliver(ev: Ev): void { this.queued.push(ev); this.flush(); }
  private flush(): void {
    while (this.queued.length > 0) {
      const ev = this.queued[0]!;
      if (ev.kind === 'data') { if (this.dataCbs.length === 0) return; this.queued.shift(); for (const cb of this.dataCbs) cb(ev.data); }
      else { if (this.endCbs.length === 0 && this.dataCbs.length === 0) return; this.queued.shift(); this.gotFin = true; for (const cb of this.endCbs) cb(); this.maybeClose(); }
    }
  }
  private maybeClose(): void {
    if (this.closed || !this.sentFin || !this.gotFin) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb();
  }
}

interface UdpSock { port: number; onMessage?: (d: Uint8Array, from: Endpoint4, reply: (d: Uint8Array) => void) => void; inbox: { data: Uint8Array; from: Endpoint4 }[]; waiters: ((m: { data: Uint8Array; from: Endpoint4 } | null) => void)[] }

export class FakeHost {
  readonly listeners = new Map<number, (c: TcpConnection) => void>();
  readonly udp = new Map<number, UdpSock>();
  private nextPort = 41320;
  readonly sockets: SocketApi;
  readonly netns: Netns;
  constructor(readonly net: FakeNet, readonly name: string, readonly ip: number, mac: Uint8Array) {
    this.sockets = {
      tcpConnect: (to, opts) => net.connect(this, to, opts?.timeoutNs),
      tcpListen: (port, cb) => { this.listeners.set(port, cb); return { close: () => this.listeners.delete(port) }; },
      udpBind: (port, onMessage) => this.bindUdp(port, onMessage),
      ping: (to, opts) => net.ping(this, to, opts.timeoutNs),
    };
    const dev = (ifindex: number, name: string, kind: NetDevice['kind'], addr: number, prefixLen: number, m: Uint8Array): NetDevice => ({
      ifindex, name, kind, mac: m, mtu: 1500, up: true, netns: undefined as unknown as Netns, addrs: [{ ip: addr, prefixLen, scope: kind === 'loopback' ? 'host' : 'global' }],
      tcx: { ingress: [], egress: [] }, stats: { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 },
    });
    const devices = new Map<string, NetDevice>([['lo', dev(1, 'lo', 'loopback', ipToU32('127.0.0.1'), 8, new Uint8Array(6))], ['eth0', dev(9, 'eth0', 'veth', ip, 32, mac)]]);
    this.netns = { name, node: { name: 'node', sim: net.sim } as Netns['node'], cookie: 1, devices, routes: [], sockets: this.sockets, ipForward: false,
      device: (n: string) => devices.get(n), addAddress: () => {}, addRoute: () => {} };
  }
  ephemeral(): number { return this.nextPort++; }
  private bindUdp(port: number, onMessage?: UdpSock['onMessage']): UdpSocket {
    const p = port || this.ephemeral();
    const s: UdpSock = { port: p, onMessage, inbox: [], waiters: [] };
    this.udp.set(p, s);
    const net = this.net;
    let peer: Endpoint4 | undefined;
    return {
      local: { ip: this.ip, port: p },
      send: (to, data) => net.sendUdp(this, p, to, data),
      // Translation stays per datagram here (sendUdp): the fake models no socket LB.
      connect: (to) => { peer = to; },
      write: (data) => { if (peer) net.sendUdp(this, p, peer, data); },
      recv: (timeoutNs) => {
        const m = s.inbox.shift();
        if (m) return Promise.resolve(m);
        return new Promise((resolve) => {
          let done = false;
          const timer = net.sim.schedule(timeoutNs, () => { if (done) return; done = true; s.waiters.splice(s.waiters.indexOf(w), 1); resolve(null); });
          const w = (msg: { data: Uint8Array; from: Endpoint4 } | null): void => { if (done) return; done = true; timer.cancel(); resolve(msg); };
          s.waiters.push(w);
        });
      },
      close: () => { this.udp.delete(p); },
    };
  }
  deliverUdp(port: number, data: Uint8Array, from: Endpoint4, replyVia: (d: Uint8Array) => void): void {
    const s = this.udp.get(port);
    if (!s) return;
    if (s.onMessage) { s.onMessage(data, from, replyVia); return; }
    const w = s.waiters.shift();
    if (w) w({ data, from }); else s.inbox.push({ data, from });
  }
}

export class FakeNet {
  readonly hosts = new Map<number, FakeHost>();
  /** "ip:port" of a service VIP -> backend chooser. */
  readonly vips = new Map<string, () => Endpoint4>();
  /** Addresses that never answer (SYN dropped). */
  readonly blackholes = new Set<number>();
  pingTtl = 64;
  constructor(readonly sim: Sim, readonly latencyNs = 50_000) {}
  addHost(name: string, ip: string, mac = '02:00:00:00:00:01'): FakeHost {
    const h = new FakeHost(this, name, ipToU32(ip), Uint8Array.from(mac.split(':'), (x) => parseInt(x, 16)));
    this.hosts.set(h.ip, h);
    return h;
  }
  addVip(ip: string, port: number, backends: { ip: string; port: number }[]): void {
    let i = 0;
    this.vips.set(`${ipToU32(ip)}:${port}`, () => { const b = backends[i++ % backends.length]!; return { ip: ipToU32(b.ip), port: b.port }; });
  }
  private xlate(to: Endpoint4): Endpoint4 { return this.vips.get(`${to.ip}:${to.port}`)?.() ?? to; }

  connect(from: FakeHost, to: Endpoint4, timeoutNs = 130e9): Promise<TcpConnection> {
    const dst = this.xlate(to);
    const server = this.hosts.get(dst.ip);
    return new Promise((resolve, reject) => {
      if (!server || this.blackholes.has(dst.ip)) { this.sim.schedule(timeoutNs, () => reject(new SocketError('ETIMEDOUT'))); return; }
      const accept = server.listeners.get(dst.port);
      if (!accept) { this.sim.schedule(2 * this.latencyNs, () => reject(new SocketError('ECONNREFUSED'))); return; }
      const local = { ip: from.ip, port: from.ephemeral() };
      const client = new FakeConn(this, local, to);
      const srv = new FakeConn(this, dst, local);
      client.peer = srv; srv.peer = client;
      this.sim.schedule(this.latencyNs, () => accept(srv));
      this.sim.schedule(2 * this.latencyNs, () => resolve(client));
    });
  }
  sendUdp(from: FakeHost, fromPort: number, to: Endpoint4, data: Uint8Array): void {
    const dst = this.xlate(to);
    const copy = data.slice();
    this.sim.schedule(this.latencyNs, () => {
      const h = this.hosts.get(dst.ip);
      h?.deliverUdp(dst.port, copy, { ip: from.ip, port: fromPort }, (reply) => {
        const r = reply.slice();
        // The reply appears to come from the address the client sent to (recvmsg reverse translation).
        this.sim.schedule(this.latencyNs, () => from.deliverUdp(fromPort, r, to, () => {}));
      });
    });
  }
  ping(from: FakeHost, to: number, timeoutNs: number): Promise<PingReply | null> {
    const ok = this.hosts.has(to) && !this.blackholes.has(to);
    return new Promise((resolve) => {
      if (!ok) { this.sim.schedule(timeoutNs, () => resolve(null)); return; }
      this.sim.schedule(2 * this.latencyNs, () => resolve({ ttl: this.pingTtl, rttNs: 2 * this.latencyNs + 114_000, bytes: 64, from: to }));
    });
  }
}
