// The gateway (slirp-style, browser-clean core): synack owns the guest side of a virtual
// subnet and terminates every TCP connection and UDP flow the guest opens to any address
// (Stack.setTransparent, the "accept any destination" hook), handing each to a Connector.
//
// TCP (slirp/passt model, refusal carried to the guest):
//   1. A guest SYN to D:P with no connection: D is mapped through the host-alias table
//      (198.18.0.2 → 127.0.0.1); the allow-list decides. Refused → RST at once (counted).
//   2. Allowed: the SYN is held (not answered) and the connector opens the real connection.
//      Guest SYN retransmissions meanwhile are dropped.
//   3. Real connection up → the held SYN is fed to the stack again and a listener for port P
//      (transparent, any address) answers SYN-ACK; once ESTABLISHED a TcpPipe joins the two.
//      Real connection refused/failed → the held SYN is fed again and answered with RST
//      (a real ECONNREFUSED is a RST to the guest, as if the server were on the guest's link).
// UDP: each (guest addr, port, dst, port) is a flow with an idle timeout (udpflows.ts).
// Port forwards (hostfwd): forwardInbound() connects from the gateway address to the guest.
import type { Instant, Duration } from '../time/instant.js';
import type { Stack, NetIf } from '../stack/stack.js';
import type { Tcb } from '../tcp/tcb.js';
import { Listener } from '../tcp/listener.js';
import type { EthernetInterface } from '../stack/ethernet.js';
import { TCP_ACK, TCP_SYN } from '../wire/tcp.js';
import { formatIpv4Address, parseIpv4Address } from '../wire/ipv4addr.js';
import type { Connector, FlowTarget, OutboundTcp } from './connector.js';
import { Policy } from './policy.js';
import { TcpPipe } from './tcppipe.js';
import { UdpFlows } from './udpflows.js';

export interface GatewayOptions {
  stack: Stack;
  connector: Connector;
  /** Destination rules, checked on the mapped (real) destination. Deny by default. */
  policy?: Policy | string[];
  /** Virtual address → real host (e.g. { '198.18.0.2': '127.0.0.1' }). */
  hostAliases?: Record<string, string>;
  /** Idle timeout of a UDP flow, µs (default 60 s). */
  udpIdleTimeout?: Duration;
  /** Most TCP connections being opened at once (further SYNs are dropped). Default 256. */
  maxPendingTcp?: number;
  log?: (msg: string) => void;
}

export interface GatewayCounters {
  tcpAccepted: number;
  tcpRefusedByPolicy: number;
  tcpConnectFailed: number;
  tcpResetByReal: number;
  tcpActive: number;
  tcpPendingDropped: number;
  udpFlows: number;
  udpRefusedByPolicy: number;
  udpIdleClosed: number;
  datagramsToReal: number;
  datagramsToGuest: number;
  forwardsAccepted: number;
  otherDropped: number;
}

interface PendingTcp {
  state: 'connecting' | 'ready' | 'refused';
  packet: Uint8Array;
  out: OutboundTcp;
  target: FlowTarget;
}

function key(src: number, sp: number, dst: number, dp: number): string { return `${src}:${sp}>${dst}:${dp}`; }

export class Gateway {
  readonly stack: Stack;
  readonly policy: Policy;
  readonly counters: GatewayCounters = {
    tcpAccepted: 0, tcpRefusedByPolicy: 0, tcpConnectFailed: 0, tcpResetByReal: 0, tcpActive: 0, tcpPendingDropped: 0,
    udpFlows: 0, udpRefusedByPolicy: 0, udpIdleClosed: 0, datagramsToReal: 0, datagramsToGuest: 0, forwardsAccepted: 0, otherDropped: 0,
  };
  /** Live pipes (for tests and stats). */
  readonly pipes = new Set<TcpPipe>();
  /** Extra handler for other non-TCP datagrams to non-local addresses (tried after UDP). */
  datagramHandler: ((packet: Uint8Array, protocol: number, src: number, dst: number, payload: Uint8Array, nif: NetIf | null) => boolean) | null = null;
  /** The UDP flow table (idle timeouts run with the stack's timers). */
  readonly udp: UdpFlows;
  readonly connector: Connector;
  readonly udpIdleTimeout: Duration;
  private readonly aliases = new Map<number, string>();
  private readonly pending = new Map<string, PendingTcp>();
  private readonly listeners = new Map<number, Listener>();
  private readonly maxPending: number;
  private readonly log: (msg: string) => void;
  private readonly removeUdpTimer: () => void;

  constructor(o: GatewayOptions) {
    this.stack = o.stack;
    this.connector = o.connector;
    this.policy = o.policy instanceof Policy ? o.policy : new Policy(o.policy ?? []);
    for (const [v, h] of Object.entries(o.hostAliases ?? {})) {
      const a = parseIpv4Address(v);
      if (a === null) throw Object.assign(new TypeError(`host alias: bad virtual address '${v}'`), { code: 'ERR_INVALID_IP_ADDRESS' });
      this.aliases.set(a, h);
    }
    this.udpIdleTimeout = o.udpIdleTimeout ?? 60_000_000;
    this.maxPending = o.maxPendingTcp ?? 256;
    this.log = o.log ?? (() => {});
    // The guest ARPs for an alias in its own subnet (198.18.0.2): answer for it (proxy ARP).
    for (const nif of this.stack.interfaces) {
      if (nif.kind === 'ethernet') (nif as EthernetInterface).proxyArp = (a) => this.aliases.has(a);
    }
    this.udp = new UdpFlows(this, this.udpIdleTimeout);
    this.removeUdpTimer = this.stack.addPollable(this.udp);
    this.stack.setTransparent({
      tcp: (packet, src, sp, dst, dp, flags) => this.onTcp(packet, src, sp, dst, dp, flags),
      datagram: (packet, protocol, src, dst, payload, nif) => {
        if (this.udp.input(packet, protocol, src, dst, payload)) return;
        if (this.datagramHandler !== null && this.datagramHandler(packet, protocol, src, dst, payload, nif)) return;
        this.counters.otherDropped++;
        this.stack.drop('gateway: protocol not relayed', this.stack.clock.now());
      },
    });
  }

  /** Map a guest destination to the real one: the alias table, else the address itself. */
  target(dst: number, port: number): FlowTarget {
    return { host: this.aliases.get(dst) ?? formatIpv4Address(dst), port, virtualAddr: dst, virtualPort: port };
  }

  /** Is a flow to this (mapped) target allowed? Name targets are matched by name. */
  allowed(proto: 'tcp' | 'udp', t: FlowTarget): boolean {
    const a = parseIpv4Address(t.host);
    return this.policy.allows({ proto, addr: a, name: a === null ? t.host : null, port: t.port });
  }

  private now(): Instant { return this.stack.clock.now(); }

  private onTcp(packet: Uint8Array, src: number, sp: number, dst: number, dp: number, flags: number): Listener | 'rst' | 'drop' {
    const k = key(src, sp, dst, dp);
    const p = this.pending.get(k);
    if (p !== undefined) {
      if (p.state === 'connecting') return 'drop';
      if (p.state === 'refused') { this.pending.delete(k); return 'rst'; }
      return this.listenerFor(dp);
    }
    // A segment of no connection that is not an initial SYN: reset (RFC 9293 §3.10.7.1).
    if ((flags & (TCP_SYN | TCP_ACK)) !== TCP_SYN) return 'rst';
    const target = this.target(dst, dp);
    if (!this.allowed('tcp', target)) {
      this.counters.tcpRefusedByPolicy++;
      this.log(`refused tcp ${formatIpv4Address(src)}:${sp} → ${formatIpv4Address(dst)}:${dp} (${target.host}:${dp}): no rule`);
      return 'rst';
    }
    if (this.pending.size >= this.maxPending) { this.counters.tcpPendingDropped++; return 'drop'; }
    const out = this.connector.connectTcp(target);
    const entry: PendingTcp = { state: 'connecting', packet: packet.slice(), out, target };
    this.pending.set(k, entry);
    out.onconnect = () => {
      if (entry.state !== 'connecting') return;
      entry.state = 'ready';
      out.pause(); // nothing may arrive before the guest's handshake completes
      this.stack.input(entry.packet);
      // The SYN did not create a connection (the listener's queue was full): give up cleanly.
      if (this.pending.get(k) === entry && !this.hasTcb(src, sp, dst, dp)) { this.pending.delete(k); out.destroy(); }
    };
    out.onerror = (code) => {
      if (entry.state !== 'connecting') return;
      entry.state = 'refused';
      this.counters.tcpConnectFailed++;
      this.log(`tcp ${target.host}:${dp}: ${code} → RST to the guest`);
      this.stack.input(entry.packet);
      this.pending.delete(k);
    };
    return 'drop';
  }

  private hasTcb(src: number, sp: number, dst: number, dp: number): boolean {
    for (const t of this.stack.tcbs()) if (t.localAddr === dst && t.localPort === dp && t.remoteAddr === src && t.remotePort === sp) return true;
    return false;
  }

  private listenerFor(port: number): Listener {
    let l = this.listeners.get(port);
    if (l === undefined) {
      l = new Listener(this.stack, 0, port, 1024);
      l.onAcceptable = (ls) => { for (let t: Tcb | null; (t = ls.accept()) !== null;) this.accepted(t); };
      this.listeners.set(port, l);
    }
    return l;
  }

  private accepted(t: Tcb): void {
    const k = key(t.remoteAddr, t.remotePort, t.localAddr, t.localPort);
    const p = this.pending.get(k);
    this.pending.delete(k);
    if (p === undefined || p.state !== 'ready') { t.abort(this.now(), 'gateway: no real connection'); return; }
    this.counters.tcpAccepted++;
    this.join(t, p.out);
    p.out.resume();
  }

  private join(t: Tcb, out: OutboundTcp): TcpPipe {
    this.counters.tcpActive++;
    const pipe = new TcpPipe(t, out, () => this.now(), (pp) => {
      this.pipes.delete(pp);
      this.counters.tcpActive--;
      if (pp.realError !== null) this.counters.tcpResetByReal++;
    });
    this.pipes.add(pipe);
    return pipe;
  }

  /**
   * Port forward into the guest (slirp hostfwd): join an accepted host-side connection to a
   * new connection from the gateway's address to guestAddr:guestPort. The host side is
   * paused until the guest accepts; a guest RST/refusal destroys it.
   */
  forwardInbound(inbound: OutboundTcp, guestAddr: number | string, guestPort: number): void {
    this.counters.forwardsAccepted++;
    inbound.pause();
    let tcb: Tcb;
    try {
      tcb = this.stack.connect({ remoteAddr: guestAddr, remotePort: guestPort });
    } catch {
      inbound.destroy();
      return;
    }
    tcb.user = {
      onEstablished: () => { queueMicrotask(() => { this.join(tcb, inbound); inbound.resume(); }); },
      onClosed: () => { queueMicrotask(() => inbound.destroy()); },
    };
    tcb.openActive(this.now());
  }

  /** Stop: reset every listener's half-open connections and leave transparent mode. */
  close(): void {
    const now = this.now();
    for (const l of this.listeners.values()) l.close(now);
    for (const p of this.pending.values()) p.out.destroy();
    this.pending.clear();
    this.udp.closeAll();
    this.removeUdpTimer();
    this.stack.setTransparent(null);
  }
}
