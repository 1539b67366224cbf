// The network layer around the TCP stack (docs/network.md): Ethernet interfaces with ARP,
// interface configuration and a default route, an IPv4 output entry for any protocol
// (sendIpv4), input hooks for protocols other than TCP and ICMP (registerProtocol), the
// delivery of broadcasts and of datagrams reaching an unconfigured interface (what a DHCP
// client needs), and extra pollables (protocol timers run with the stack's).
import type { Instant } from '../time/instant.js';
import type { LinkEnd, Pollable } from '../link/types.js';
import type { Ipv4Packet } from '../wire/ipv4.js';
import type { NeighbourParams, NeighbourRow } from '../arp/neighbour.js';
import type { NetIf, Stack } from './stack.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP } from '../wire/ipv4.js';
import { emitIcmpDestUnreachable, icmpDestUnreachableLength, ICMP_UNREACH_HOST } from '../wire/icmp.js';
import { inPrefix, isBroadcastOrMulticast, formatIpv4Address, parseIpv4Address, prefixMask } from '../wire/ipv4addr.js';
import { localMac, type Mac } from '../wire/ethernet.js';
import { EthernetInterface, type EthernetTraceEvent } from './ethernet.js';
import { StackError } from './errors.js';

export interface EthernetInterfaceOptions {
  /** Interface name for tables and traces (default eth0, eth1, …). */
  name?: string;
  /** The MAC address (6 bytes, unicast); default a locally administered one derived from the interface number. */
  mac?: Mac;
  link: LinkEnd;
  /** Our address; absent or 0: unconfigured (0.0.0.0) until configureInterface (e.g. by DHCP). */
  addr?: number | string;
  prefixLen?: number;
  /** IP MTU (the largest datagram; frames are 14 bytes longer). Default link.mtu. */
  mtu?: number;
  /** ARP parameters (Linux's names and defaults). */
  neighbour?: Partial<NeighbourParams>;
}

/** An IPv4 datagram handed to a registered protocol. */
export interface IpDatagram {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** The TOS byte (DSCP << 2 | ECN). */
  tos: number;
  /** The datagram's payload (bounded by its total length). */
  payload: Uint8Array;
  /** The whole datagram (header included): quote it in an ICMP error (stack.icmpUnreachable). */
  packet: Uint8Array;
  /** The interface it arrived on (null when injected with stack.input(p) and no interface). */
  nif: NetIf | null;
  /**
   * Not addressed to one of our addresses: a limited (255.255.255.255) or subnet broadcast,
   * a multicast, or a unicast datagram that reached an interface with no address yet.
   */
  broadcast: boolean;
}
export type IpProtocolHandler = (d: IpDatagram) => void;

/** An ICMP error about a datagram of a registered protocol that we sent. */
export interface IcmpErrorInfo {
  type: number;
  code: number;
  /** Next-hop MTU of a "fragmentation needed" (RFC 1191), else 0. */
  nextHopMtu: number;
  /** Who sent the ICMP error. */
  src: number;
  /** The quoted datagram: its IPv4 header and the first bytes of its payload (the transport header). */
  quote: { ip: Ipv4Packet; transport: Uint8Array };
}
export type IcmpErrorHandler = (e: IcmpErrorInfo) => void;

export interface SendIpv4Options {
  dst: number | string;
  /** Default: the outgoing interface's address (0.0.0.0 when unconfigured — what DHCP sends from). */
  src?: number | string;
  protocol: number;
  /** The payload, or its pieces (header + data) to concatenate. */
  payload: Uint8Array | Uint8Array[];
  /** Default ip_default_ttl (64). */
  ttl?: number;
  /** The TOS byte (DSCP << 2 | ECN). */
  tos?: number;
  /** Send through this interface (needed for a broadcast when there are several). */
  nif?: NetIf;
  dontFragment?: boolean;
}

function addrOf(a: number | string, what: string): number {
  if (typeof a === 'number') return a >>> 0;
  const v = parseIpv4Address(a);
  if (v === null) throw Object.assign(new TypeError(`invalid IPv4 address for ${what}: ${a}`), { code: 'ERR_INVALID_IP_ADDRESS' });
  return v;
}

export class NetworkLayer implements Pollable {
  private gateway: number | null = null;
  private gatewayIf: NetIf | null = null;
  private readonly protocols = new Map<number, { input: IpProtocolHandler; icmpError: IcmpErrorHandler | undefined }>();
  private readonly pollables: Pollable[] = [];
  private readonly ethernets: EthernetInterface[] = [];
  private readonly rand: () => number;

  constructor(private readonly stack: Stack, random: (n: number) => Uint8Array) {
    // Neighbour timers (reachable_time) need a uniform draw: 32 random bits at a time, from the stack's (seeded) source.
    this.rand = () => {
      const b = random(4);
      return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 4294967296;
    };
  }

  // ------------------------------------------------------------------ interfaces

  addEthernetInterface(cfg: EthernetInterfaceOptions): EthernetInterface {
    const st = this.stack;
    const index = this.ethernets.length;
    const mtu = cfg.mtu ?? cfg.link.mtu;
    const nif = new EthernetInterface({
      now: () => st.clock.now(),
      ipInput: (p, n) => st.input(p, n),
      isLocal: (a) => st.isLocal(a),
      unreachable: (n, target, packets) => this.unreachable(n, target, packets),
      wake: () => { if (st.onWake !== null) st.onWake(); },
      random: this.rand,
      drop: (reason) => st.drop(reason, st.clock.now()),
      get trace() { return st.tracer === null ? null : (ev: EthernetTraceEvent) => traceEthernet(st, nif, ev); },
    }, {
      name: cfg.name ?? `eth${index}`,
      mac: cfg.mac ?? localMac(((st.interfaces.length + 1) << 16) ^ (this.rand() * 0xffff)),
      link: cfg.link,
      addr: cfg.addr === undefined ? 0 : addrOf(cfg.addr, 'addr'),
      prefixLen: cfg.prefixLen ?? (cfg.addr === undefined ? 0 : 24),
      mtu,
      neighbour: cfg.neighbour,
    });
    this.ethernets.push(nif);
    st.interfaces.push(nif);
    cfg.link.setReceiver((f) => nif.onFrame(f));
    if (nif.addr !== 0) nif.announce();
    return nif;
  }

  configureInterface(nif: NetIf, addr: number, prefixLen: number): void {
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) throw new RangeError(`prefix length ${prefixLen} not in 0..32`);
    nif.addr = addr >>> 0;
    nif.prefixLen = prefixLen;
    if (nif.kind === 'ethernet') (nif as EthernetInterface).announce();
  }

  setDefaultRoute(gateway: number | null, nif?: NetIf): void {
    this.gateway = gateway;
    this.gatewayIf = gateway === null ? null : nif ?? null;
  }

  /** The default route as (gateway, interface), when there is one. */
  defaultRoute(): { gateway: number; nif: NetIf } | null {
    if (this.gateway === null) return null;
    const nif = this.defaultInterface();
    return nif === null ? null : { gateway: this.gateway, nif };
  }

  /** @internal the interface of the default route. */
  defaultInterface(): NetIf | null {
    if (this.gateway === null) return null;
    if (this.gatewayIf !== null) return this.gatewayIf;
    for (const i of this.stack.interfaces) if (i.addr !== 0 && inPrefix(this.gateway, i.addr, i.prefixLen)) return i;
    return null;
  }

  /** @internal Where a datagram for `dst` leaving through `nif` goes next: dst itself on-link, else the gateway. */
  nextHop(dst: number, nif: NetIf): number {
    if (dst === 0xffffffff || nif.addr === 0 || inPrefix(dst, nif.addr, nif.prefixLen) || isBroadcastOrMulticast(dst)) return dst;
    if (this.gateway !== null && this.defaultInterface() === nif) return this.gateway;
    return dst; // no route via a gateway: try the destination itself (it may answer ARP, or proxy)
  }

  /**
   * Upper-layer reachability confirmation (RFC 1122 §2.3.2.1 "advice from higher layers";
   * Linux dst_confirm/neigh_confirm): TCP saw new data acknowledged from `remote`, so the
   * neighbour on the path to it works — no ARP probe needed when its entry is DELAY.
   */
  confirmReachable(remote: number, now: Instant): void {
    if (this.ethernets.length === 0) return;
    const nif = this.stack.route(remote);
    if (nif === null || nif.kind !== 'ethernet') return;
    (nif as EthernetInterface).neighbours.confirm(this.nextHop(remote, nif), now);
  }

  /** Every Ethernet interface's neighbour table, like `ip neigh`. */
  neighbourTable(): Array<NeighbourRow & { dev: string }> {
    return this.ethernets.flatMap((e) => e.neighbourTable());
  }

  // ------------------------------------------------------------------ output

  sendIpv4(o: SendIpv4Options): void {
    const st = this.stack;
    const dst = addrOf(o.dst, 'dst');
    let nif = o.nif ?? null;
    if (nif === null) {
      if (dst === 0xffffffff) nif = this.ethernets[0] ?? st.interfaces[0] ?? null;
      else nif = st.route(dst);
    }
    if (nif === null) throw new StackError('ENETUNREACH', 'sendto', formatIpv4Address(dst));
    const src = o.src === undefined ? nif.addr : addrOf(o.src, 'src');
    const parts = o.payload instanceof Uint8Array ? [o.payload] : o.payload;
    let len = 0;
    for (const p of parts) len += p.length;
    if (20 + len > nif.mtu) throw new StackError('EMSGSIZE', 'sendto', `${20 + len} > MTU ${nif.mtu}`);
    const pkt = new Uint8Array(20 + len);
    const tos = o.tos ?? 0;
    emitIpv4Header({
      ttl: o.ttl ?? st.options.ip_default_ttl, protocol: o.protocol, src, dst, identification: st.allocIpId(),
      dscp: tos >> 2, ecn: tos & 3, dontFragment: o.dontFragment ?? false,
    }, len, pkt, 0);
    let off = 20;
    for (const p of parts) { pkt.set(p, off); off += p.length; }
    st.transmit(pkt, dst, nif);
  }

  /**
   * Resolution of `target` failed on `nif` (Linux arp_error_report): each datagram we
   * originated gets an ICMP host unreachable delivered back to us, as Linux's icmp_send to a
   * local sender does — so a connecting socket learns EHOSTUNREACH.
   */
  private unreachable(nif: NetIf, target: number, packets: Uint8Array[]): void {
    const st = this.stack;
    st.drop(`arp: ${formatIpv4Address(target)} unreachable`, st.clock.now());
    for (const p of packets) {
      if (p.length < 20) continue;
      const src = ((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0;
      if (!st.isLocal(src)) continue;
      const len = icmpDestUnreachableLength(p);
      const icmp = new Uint8Array(20 + len);
      emitIpv4Header({ ttl: st.options.ip_default_ttl, protocol: IPPROTO_ICMP, src, dst: src, identification: st.allocIpId() }, len, icmp, 0);
      emitIcmpDestUnreachable(ICMP_UNREACH_HOST, p, icmp, 20);
      st.counters.IcmpOutDestUnreachs++;
      st.input(icmp, nif);
    }
  }

  // ------------------------------------------------------------------ input

  registerProtocol(protocol: number, input: IpProtocolHandler, icmpError?: IcmpErrorHandler): () => void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255 || protocol === IPPROTO_TCP || protocol === IPPROTO_ICMP) {
      throw new RangeError(`registerProtocol: protocol ${protocol} must be 0..255 and not TCP or ICMP`);
    }
    if (this.protocols.has(protocol)) throw new StackError('EADDRINUSE', 'registerProtocol', `protocol ${protocol}`);
    const entry = { input, icmpError };
    this.protocols.set(protocol, entry);
    return () => { if (this.protocols.get(protocol) === entry) this.protocols.delete(protocol); };
  }

  /** @internal A datagram for us (or a broadcast) of a non-TCP/ICMP protocol: true when a handler took it. */
  deliver(ip: Ipv4Packet, packet: Uint8Array, nif: NetIf | null, broadcast: boolean): boolean {
    const h = this.protocols.get(ip.protocol);
    if (h === undefined) return false;
    h.input({
      src: ip.src, dst: ip.dst, protocol: ip.protocol, ttl: ip.ttl, tos: (ip.dscp << 2) | ip.ecn, payload: ip.payload,
      packet: packet.subarray(0, ip.totalLength), nif, broadcast,
    });
    return true;
  }

  /**
   * @internal A datagram not addressed to any of our addresses. Taken (true) when it is for a
   * registered protocol and is a broadcast (limited, or the subnet broadcast of the arrival
   * interface), a multicast, or arrived on an interface with no address yet — a DHCP client
   * must see the server's OFFER, which RFC 2131 §4.1 lets a server unicast to the address it
   * offers. The source may then be 0.0.0.0 (a DHCP client's DISCOVER, RFC 1122 §3.2.1.3 (a)),
   * but no other martian. Fragments are not reassembled.
   */
  inputOther(ip: Ipv4Packet, packet: Uint8Array, nif: NetIf | null, now: Instant): boolean {
    if (!this.protocols.has(ip.protocol)) return false;
    const dst = ip.dst;
    const unconfigured = nif !== null && nif.addr === 0;
    const bcast = dst === 0xffffffff || isBroadcastOrMulticast(dst, nif !== null && nif.addr !== 0 ? [nif] : []);
    if (!bcast && !unconfigured) return false;
    const st = this.stack;
    if (ip.src !== 0 && isBroadcastOrMulticast(ip.src, st.interfaces.filter((i) => i.addr !== 0))) { st.drop('ip: martian source', now); return true; }
    if (ip.isFragment) { st.counters.IpReasmFails++; st.drop('ip: fragment', now); return true; }
    return this.deliver(ip, packet, nif, true);
  }

  /** @internal An ICMP error quoting a datagram of `protocol`: true when a handler took it. */
  icmpError(protocol: number, e: IcmpErrorInfo): boolean {
    const h = this.protocols.get(protocol);
    if (h === undefined || h.icmpError === undefined) return false;
    h.icmpError(e);
    return true;
  }

  // ------------------------------------------------------------------ timers

  addPollable(p: Pollable): () => void {
    this.pollables.push(p);
    if (this.stack.onWake !== null) this.stack.onWake();
    return () => {
      const i = this.pollables.indexOf(p);
      if (i >= 0) this.pollables.splice(i, 1);
    };
  }

  nextDeadline(): Instant {
    let d = Infinity;
    // (Indexed loops: asked several times per simulation step, for every stack.)
    const es = this.ethernets, ps = this.pollables;
    for (let i = 0; i < es.length; i++) { const x = es[i]!.neighbours.nextDeadline(); if (x < d) d = x; }
    for (let i = 0; i < ps.length; i++) { const x = ps[i]!.nextDeadline(); if (x < d) d = x; }
    return d;
  }

  poll(now: Instant): void {
    for (const e of this.ethernets) if (e.neighbours.nextDeadline() <= now) e.neighbours.poll(now);
    for (const p of [...this.pollables]) if (p.nextDeadline() <= now) p.poll(now);
  }
}

function traceEthernet(st: Stack, nif: EthernetInterface, ev: EthernetTraceEvent): void {
  const tr = st.tracer;
  if (tr === null) return;
  const t = st.clock.now();
  const host = st.traceHost;
  if (ev.kind === 'arp') {
    tr({ type: 'arp', t, host, conn: null, ifname: nif.name, dir: ev.dir, op: ev.op, sha: ev.sha, spa: ev.spa, tha: ev.tha, tpa: ev.tpa, dst: ev.dst });
  } else {
    tr({ type: 'neigh', t, host, conn: null, ifname: nif.name, addr: ev.addr, mac: ev.mac, from: ev.from, to: ev.to, cause: ev.cause });
  }
}

/** The netmask of an interface, for listings. */
export function netmaskOf(nif: NetIf): string {
  return formatIpv4Address(prefixMask(nif.prefixLen));
}
