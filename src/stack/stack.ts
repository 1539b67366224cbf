// The Stack: IPv4 interfaces, input validation and demultiplexing, ICMP echo, TCP
// connections and listeners, ephemeral ports, ISNs and SYN cookies, the per-stack timer
// queue, counters and the trace hook. Runs unchanged in a browser: time comes from the
// injected Clock and a driver calls poll() at nextDeadline().
import type { Instant } from '../time/instant.js';
import type { Clock } from '../time/clock.js';
import { RX_CSUM_VALID, TX_CSUM_PARTIAL, type LinkEnd, type Pollable } from '../link/types.js';
import type { SegmentIn, SegmentOut, TcpState } from '../tcp/types.js';
import type { ConnId, TraceEvent, TraceSink, SegmentTraceOptions } from '../trace/events.js';
import { TimerQueue } from '../time/timerqueue.js';
import { isPlainIpv4, readU32 } from '../wire/ipv4fast.js';
import { parseIpv4, IPPROTO_ICMP, IPPROTO_TCP } from '../wire/ipv4.js';
import { ICMP_UNREACH_PROTOCOL } from '../wire/icmp.js';
import { TcpView, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { newTcpOptionSummary, scanTcpOptions, type TcpOptionSummary } from '../wire/tcpoptions.js';
import { transportChecksum } from '../wire/checksum.js';
import { formatIpv4Address, inPrefix, isBroadcastOrMulticast, parseIpv4Address, prefixMask } from '../wire/ipv4addr.js';
import { Tcb, type TcbHost } from '../tcp/tcb.js';
import { Listener, type ListenerHost } from '../tcp/listener.js';
import { IsnGenerator } from '../tcp/isn.js';
import { SynCookies } from '../tcp/syncookie.js';
import { ChallengeAckBudget } from '../tcp/ratelimit.js';
import { sipHash24Words12, sipKeyWords } from '../tcp/siphash.js';
import { newOutOptions } from '../tcp/types.js';
import { seqAdd, seqGt } from '../tcp/seq.js';
import { resolveOptions, initialWindowScale, type StackOptions } from './options.js';
import { newCounters, DropCounters, type Counters } from './counters.js';
import { ConnTable, type ConnEntry } from './demux.js';
import { TimeWaitRecord } from '../tcp/timewait.js';
import { compactable, compactTimeWait, endTimeWait, expandTimeWait, type TimeWaitCompaction, type TimeWaitTables } from './timewait.js';
import { serializeSegment } from './tcpout.js';
import { markConsumed } from './packetmem.js';
import { StackError } from './errors.js';
import { IcmpLayer } from './icmp.js';
import { connectionTable, type ConnRow } from './table.js';
import { EthernetInterface } from './ethernet.js';
import { LoopbackLink, LOOPBACK_ADDR, LOOPBACK_MTU, isLoopbackAddr, loopbackSource } from './loopback.js';
import {
  NetworkLayer, type EthernetInterfaceOptions, type IpProtocolHandler, type IcmpErrorHandler, type SendIpv4Options,
} from './network.js';

// The interface, init and option types live in stack-api.ts; re-exported here for callers.
import type { NetIf, TransparentHook, StackInit, IsnOverride, ConnectOptions, ListenOptions } from './stack-api.js';
export type { NetIf, TransparentHook, StackInit, IsnOverride, ConnectOptions, ListenOptions } from './stack-api.js';

function defaultRandom(n: number): Uint8Array {
  const b = new Uint8Array(n);
  globalThis.crypto.getRandomValues(b);
  return b;
}

function toAddr(a: number | string, what: string): number {
  if (typeof a === 'number') return a >>> 0;
  const v = parseIpv4Address(a);
  if (v === null) throw Object.assign(new TypeError(`invalid IPv4 address for ${what}: ${a}`), { code: 'ERR_INVALID_IP_ADDRESS' });
  return v;
}

export class Stack implements Pollable, TcbHost, ListenerHost {
  readonly options: StackOptions;
  readonly counters: Counters = newCounters();
  readonly drops = new DropCounters();
  readonly clock: Clock;
  /** The real interfaces; interfaces[0] names the stack in traces and is the default route. */
  readonly interfaces: NetIf[] = [];
  /** Some interface's link splits super-segments itself (LinkEnd.gsoMaxSize): TSO may apply. */
  private hasGso = false;
  /** `lo`, 127.0.0.1/8, MTU 65536: carries traffic to any of our own addresses (src/stack/loopback.ts). Not in `interfaces`. */
  readonly loopback: NetIf & { readonly link: LoopbackLink };
  readonly cookies: SynCookies;
  tracer: TraceSink | null = null;
  /** Called when an earlier deadline was scheduled (a realtime driver re-arms its timer). */
  onWake: (() => void) | null = null;
  /** Tests only: passive ISN override (StackInit.isnOverride); settable after construction. */
  isnOverride: IsnOverride | null = null;
  /**
   * Sharding over worker threads (src/shard): when set, active opens only take ephemeral
   * ports for which it returns true — the ports whose 4-tuple this shard owns, so the replies
   * come back to it (as DPDK stacks pick source ports per core). Null: every port.
   */
  ephemeralFilter: ((local: number, port: number, remote: number, remotePort: number) => boolean) | null = null;

  private readonly conns = new ConnTable();
  private transparent: TransparentHook | null = null;
  private transparentPacket: Uint8Array | null = null;
  private readonly listenersByPort = new Map<number, Listener[]>();
  /** Listeners with SO_REUSEADDR, and the connections they created (which keep the flag, into TIME-WAIT). */
  private readonly reuseAddr = new WeakSet<object>();
  /** Listeners in reuseAddr: while there are none, a new passive connection skips the scan for one (issue 16). */
  private reuseAddrListeners = 0;
  private readonly timers = new TimerQueue<ConnEntry>();
  /**
   * Closed connections in TIME-WAIT become compact records (tcp/timewait.ts); 'off' keeps
   * full TCBs (tests compare the two). @internal
   */
  timeWaitCompaction: TimeWaitCompaction = 'on';
  private readonly tw: TimeWaitTables = { conns: this.conns, timers: this.timers, reuseAddr: this.reuseAddr };
  private readonly isnGen: IsnGenerator;
  /** The timestamp-offset secret as SipHash key words (sipKeyWords). */
  private readonly tsKeyWords: Uint32Array;
  private readonly challengeLimiter: ChallengeAckBudget;
  /** ICMP errors we send: Linux icmp_msgs_per_sec 1000, icmp_msgs_burst 50 (RFC 1812 §4.3.2.8 rate limiting). */
  /** Per-destination ICMP error buckets (Linux icmp_ratelimit through inet_peer). */
  /** ICMP in (echo, errors to connections) and ICMP errors out, rate-limited (src/stack/icmp.ts). */
  private readonly icmp: IcmpLayer;
  private readonly traceSinks: TraceSink[] = [];
  private readonly view = new TcpView();
  private readonly optSummary: TcpOptionSummary = newTcpOptionSummary();
  private readonly segIn: SegmentIn = { seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, payload: new Uint8Array(0), opts: this.optSummary };
  private readonly rstOut: SegmentOut = { seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false };
  private nextEphemeral: number;
  private ipId = 0;
  private orphans = 0;
  private pendingIss: number | null = null;
  private readonly name0: string | undefined;
  readonly defaultRcvWscale: number;
  /** Ethernet/ARP, routes, sendIpv4, other IP protocols (src/stack/network.ts). */
  readonly network: NetworkLayer;

  constructor(init: StackInit) {
    this.clock = init.clock;
    this.options = resolveOptions(init.options);
    const random = init.random ?? defaultRandom;
    this.isnGen = new IsnGenerator(random(16));
    this.cookies = new SynCookies(random(16));
    this.tsKeyWords = sipKeyWords(random(16));
    this.challengeLimiter = new ChallengeAckBudget(() => this.options.tcp_challenge_ack_limit, random);
    this.icmp = new IcmpLayer(this, (la, lp, ra, rp) => this.lookup(la, lp, ra, rp));
    const [lo, hi] = this.options.ip_local_port_range;
    const r = random(2);
    this.nextEphemeral = lo + (((r[0]! << 8) | r[1]!) % (hi - lo + 1));
    this.name0 = init.name;
    this.isnOverride = init.isnOverride ?? null;
    this.defaultRcvWscale = this.options.tcp_window_scaling ? initialWindowScale(this.options, this.options.tcp_rmem[1], false) : 0;
    this.network = new NetworkLayer(this, random);
    const loLink = new LoopbackLink(this.clock, () => { if (this.onWake !== null) this.onWake(); });
    this.loopback = { kind: 'loopback', name: 'lo', addr: LOOPBACK_ADDR, prefixLen: 8, mtu: LOOPBACK_MTU, link: loLink };
    loLink.setReceiver((p) => this.input(p, this.loopback));
    this.network.addPollable(loLink);
  }

  get name(): string {
    return this.name0 ?? (this.interfaces[0] ? formatIpv4Address(this.interfaces[0].addr) : 'stack');
  }

  /** Address used in traces (the first interface; 127.0.0.1 for a stack with only lo). */
  get traceHost(): number { return this.interfaces[0]?.addr ?? LOOPBACK_ADDR; }

  get defaultRcvWindow(): number { return this.options.tcp_rmem[1]; }

  now(): Instant { return this.clock.now(); }

  // ---------------------------------------------------------------- interfaces

  addInterface(cfg: { addr: number | string; prefixLen?: number; mtu?: number; link: LinkEnd; name?: string }): NetIf {
    const nif: NetIf = {
      kind: 'ip', name: cfg.name ?? `ip${this.interfaces.length}`, addr: toAddr(cfg.addr, 'interface'), prefixLen: cfg.prefixLen ?? 24,
      mtu: cfg.mtu ?? cfg.link.mtu, link: cfg.link,
    };
    this.interfaces.push(nif);
    if ((cfg.link.gsoMaxSize ?? 0) > nif.mtu) this.hasGso = true;
    cfg.link.setReceiver((p, f) => this.input(p, nif, f));
    return nif;
  }

  /** Enter (or, with null, leave) transparent mode: see TransparentHook. */
  setTransparent(hook: TransparentHook | null): void { this.transparent = hook; }

  /** An Ethernet interface (frames on `link`, ARP); `addr` may be absent: unconfigured until configureInterface (DHCP). */
  addEthernetInterface(cfg: EthernetInterfaceOptions): EthernetInterface {
    return this.network.addEthernetInterface(cfg);
  }

  /** Give an interface its address (an Ethernet one announces it with a gratuitous ARP). */
  configureInterface(nif: NetIf, cfg: { addr: number | string; prefixLen: number }): void {
    this.network.configureInterface(nif, toAddr(cfg.addr, 'addr'), cfg.prefixLen);
  }

  /** The default route: datagrams for off-link destinations go to `gateway` (through `nif`, or the interface it is on-link with). */
  setDefaultRoute(gateway: number | string | null, nif?: NetIf): void {
    this.network.setDefaultRoute(gateway === null ? null : toAddr(gateway, 'gateway'), nif);
  }

  /** Send an IPv4 datagram of any protocol (UDP, DHCP with source 0.0.0.0, broadcast). See docs/network.md. */
  sendIpv4(o: SendIpv4Options): void { this.network.sendIpv4(o); }

  /** Receive IPv4 datagrams of `protocol` (not TCP/ICMP), and ICMP errors about the ones we sent. */
  registerProtocol(protocol: number, handler: IpProtocolHandler, icmpError?: IcmpErrorHandler): () => void {
    return this.network.registerProtocol(protocol, handler, icmpError);
  }

  /** Something with deadlines to run with the stack's (a DHCP client, UDP timers): polled by stack.poll(). */
  addPollable(p: Pollable): () => void { return this.network.addPollable(p); }

  /** Is `addr` one of our (configured) addresses? */
  isLocal(addr: number): boolean {
    if (addr === 0) return false;
    if (isLoopbackAddr(addr)) return true; // lo holds all of 127.0.0.0/8 (Linux: local route)
    for (const i of this.interfaces) if (i.addr === addr) return true;
    return false;
  }

  /**
   * The interface towards `dst`: a configured interface whose prefix holds it, else the
   * default route's interface, else the first interface (IP-level links have no next hop to
   * choose).
   */
  route(dst: number): NetIf | null {
    // RFC 1122 §3.2.1.3: a datagram to one of our own addresses is looped back internally.
    if (this.isLocal(dst)) return this.loopback;
    for (const i of this.interfaces) if (i.addr !== 0 && inPrefix(dst, i.addr, i.prefixLen)) return i;
    return this.network.defaultInterface() ?? this.interfaces[0] ?? null;
  }

  mssFor(remoteAddr: number): number {
    const nif = this.route(remoteAddr);
    return Math.max(88, (nif?.mtu ?? 576) - 40);
  }

  // ---------------------------------------------------------------- tracing

  /** Subscribe to every trace event of this stack. Returns an unsubscribe function. */
  addTraceListener(fn: TraceSink): () => void {
    this.traceSinks.push(fn);
    this.tracer = this.traceSinks.length === 1 ? fn : (ev: TraceEvent) => { for (const s of this.traceSinks) s(ev); };
    return () => {
      const i = this.traceSinks.indexOf(fn);
      if (i >= 0) this.traceSinks.splice(i, 1);
      const n = this.traceSinks.length;
      this.tracer = n === 0 ? null : n === 1 ? this.traceSinks[0]! : (ev: TraceEvent) => { for (const s of this.traceSinks) s(ev); };
    };
  }

  drop(reason: string, now: Instant, conn: ConnId | null = null): void {
    this.drops.add(reason);
    const tr = this.tracer;
    if (tr !== null) tr({ type: 'drop', t: now, host: this.traceHost, conn, reason });
  }

  // ---------------------------------------------------------------- input

  /** An IPv4 packet arrived on `nif`. Malformed input is counted and dropped, never thrown. */
  input(packet: Uint8Array, nif: NetIf | null = null, rxFlags = 0): void {
    const now = this.clock.now();
    const c = this.counters;
    c.IpInReceives++;
    // Fast path: a plain TCP datagram for us, read in place (no parse record); anything
    // else, and anything odd, takes the general path below.
    if (isPlainIpv4(packet, IPPROTO_TCP)) {
      const dst = readU32(packet, 16), src = readU32(packet, 12);
      // (127/8 on a real interface is a martian, §3.2.1.3 (g): the general path drops it.)
      if (this.isLocal(dst) && !this.invalidPeer(src) && (nif === null || nif.kind === 'loopback' || (!isLoopbackAddr(src) && !isLoopbackAddr(dst)))) {
        this.tcpInput(src, dst, packet.subarray(20, (packet[2]! << 8) | packet[3]!), now, rxFlags);
        // Nothing keeps a reference to the packet (the engine copies what it keeps): a link
        // may reuse its memory (stack/packetmem.ts).
        markConsumed(packet);
        return;
      }
    }
    const r = parseIpv4(packet);
    if (!r.ok) { c.IpInHdrErrors++; this.drop('ip: ' + r.error.kind, now); return; }
    const ip = r.value;
    // Transparent mode (the gateway): any non-local unicast destination is taken, below.
    const transparent = this.transparent !== null && !this.isLocal(ip.dst) && ip.dst !== 0xffffffff && !isBroadcastOrMulticast(ip.dst, this.interfaces);
    if (!transparent && !this.isLocal(ip.dst)) {
      // Broadcasts, and anything on an unconfigured interface, may still be for a registered
      // protocol (DHCP): network.ts decides (docs/network.md).
      if (this.network.inputOther(ip, packet, nif, now)) return;
      c.IpInAddrErrors++; this.drop('ip: not for us', now); return;
    }
    // RFC 1122 §3.2.1.3: "silently discard an incoming datagram containing an IP source address
    // that is invalid" — 0.0.0.0, a broadcast or a multicast address (Linux: martian source).
    // Nothing, not even a RST, may answer one (RFC 9293 §3.9.2.3 MUST-63).
    if (this.invalidPeer(ip.src)) { this.drop('ip: martian source', now); return; }
    // §3.2.1.3 (g): 127.x "MUST NOT appear outside a host" — only lo may carry it (Linux: martian).
    if (nif !== null && nif.kind !== 'loopback' && (isLoopbackAddr(ip.src) || isLoopbackAddr(ip.dst))) { this.drop('ip: martian loopback address', now); return; }
    if (ip.isFragment) { c.IpReasmFails++; this.drop('ip: fragment', now); return; }
    if (transparent) {
      if (ip.protocol !== IPPROTO_TCP) { this.transparent!.datagram(packet.subarray(0, ip.totalLength), ip.protocol, ip.src, ip.dst, ip.payload, nif); return; }
      this.transparentPacket = packet.subarray(0, ip.totalLength);
      try { this.tcpInput(ip.src, ip.dst, ip.payload, now, rxFlags); } finally { this.transparentPacket = null; }
      return;
    }
    if (ip.protocol === IPPROTO_TCP) this.tcpInput(ip.src, ip.dst, ip.payload, now, rxFlags);
    else if (ip.protocol === IPPROTO_ICMP) this.icmp.input(ip.src, ip.dst, ip.payload, now, nif);
    else if (this.network.deliver(ip, packet, nif, false)) return;
    else {
      c.IpInUnknownProtos++;
      this.drop('ip: unknown protocol', now);
      // RFC 1122 §3.2.2.1: a host SHOULD answer with Destination Unreachable, code 2 (protocol
      // unreachable). Not for a fragment or a martian (§3.2.2, filtered above); rate-limited.
      if (this.icmpErrorAllowed(ip.src, now)) this.icmp.sendUnreachable(ICMP_UNREACH_PROTOCOL, packet.subarray(0, ip.totalLength), ip.dst, ip.src, nif);
    }
  }

  /** 0.0.0.0, or an address of more than one host (broadcast, multicast): never a TCP peer. */
  private invalidPeer(addr: number): boolean {
    return addr === 0 || isBroadcastOrMulticast(addr, this.interfaces);
  }

  /**
   * ICMP Destination Unreachable about `datagram` (a whole IPv4 datagram we received), e.g.
   * port unreachable (code 3) for UDP: rate-limited like Linux's icmp_ratelimit. Returns
   * whether it was sent.
   */
  icmpUnreachable(code: number, datagram: Uint8Array, nif: NetIf | null = null): boolean {
    const r = parseIpv4(datagram);
    if (!r.ok || r.value.isFragment && r.value.fragmentOffset !== 0) return false;
    const ip = r.value;
    // RFC 1122 §3.2.2: never about a broadcast/multicast datagram or from a martian source.
    // In transparent mode (the gateway) the datagram was for a non-local unicast address we
    // answer for: the error comes from that address, as from the real destination.
    const forUs = this.isLocal(ip.dst) || (this.transparent !== null && ip.dst !== 0xffffffff && !isBroadcastOrMulticast(ip.dst, this.interfaces));
    if (!forUs || this.invalidPeer(ip.src)) return false;
    if (!this.icmpErrorAllowed(ip.src, this.clock.now())) return false;
    this.icmp.sendUnreachable(code, datagram.subarray(0, ip.totalLength), ip.dst, ip.src, nif);
    return true;
  }

  /** 255.255.255.255, or the directed broadcast address of one of our configured interfaces. */
  isBroadcastFor(addr: number): boolean {
    if (addr === 0xffffffff) return true;
    for (const i of this.interfaces) {
      if (i.prefixLen >= 31 || i.addr === 0) continue;
      const m = prefixMask(i.prefixLen);
      if ((addr & m) >>> 0 === (i.addr & m) >>> 0 && (addr | m) >>> 0 === 0xffffffff) return true;
    }
    return false;
  }

  /** May we send an ICMP error to `dst` now? (Linux's two rate limits: src/stack/icmp.ts.) */
  icmpErrorAllowed(dst: number, now: Instant): boolean { return this.icmp.errorAllowed(dst, now); }

  private tcpInput(src: number, dst: number, bytes: Uint8Array, now: Instant, rxFlags = 0): void {
    const c = this.counters;
    const v = this.view;
    const err = v.reset(bytes);
    if (err !== null) { c.TcpInErrs++; this.drop('tcp: ' + err.kind, now); return; }
    // RX_CSUM_VALID: the link (a TUN device with offloads) vouches for it, as Linux trusts
    // CHECKSUM_PARTIAL / CHECKSUM_UNNECESSARY packets (skb_csum_unnecessary).
    if ((rxFlags & RX_CSUM_VALID) === 0 && transportChecksum(src, dst, IPPROTO_TCP, bytes, 0, bytes.length) !== 0) {
      c.TcpInErrs++; c.TcpInCsumErrors++; this.drop('tcp: bad checksum', now); return;
    }
    const oerr = scanTcpOptions(bytes, 20, v.optionsLength, this.optSummary);
    if (oerr !== null) { c.TcpInErrs++; this.drop('tcp: ' + oerr.kind, now); return; }
    c.TcpInSegs++;
    const seg = this.segIn;
    seg.seq = v.seq; seg.ack = v.ack; seg.flags = v.flags; seg.window = v.window; seg.urgentPointer = v.urgentPointer;
    seg.payload = v.payloadLength > 0 ? v.payload() : EMPTY;
    const srcPort = v.srcPort, dstPort = v.dstPort;
    let tcb = this.lookup(dst, dstPort, src, srcPort);
    if (this.tracer !== null) this.traceSegment('in', dst, dstPort, src, srcPort, seg.seq, seg.ack, seg.flags, seg.window, seg.payload.length, seg.urgentPointer, this.optSummary, now, false);
    if (tcb !== undefined && tcb.state === 'TIME-WAIT' && (seg.flags & (TCP_SYN | TCP_RST | TCP_ACK)) === TCP_SYN && this.timeWaitAcceptsSyn(tcb, seg)
      && this.transparentPacket === null && this.findListener(dst, dstPort) !== null) {
      // RFC 6191 / RFC 9293 §3.10.7.4 note: a new SYN with a higher timestamp (or sequence
      // number) may reuse a TIME-WAIT 4-tuple. Linux picks ISS = old SND.NXT + 65535 + 2.
      // Only a listener can take the new connection; without one TIME-WAIT stays and the
      // SYN gets its challenge ACK (Linux tcp_v4_rcv: TCP_TW_SYN with no listener → TCP_TW_ACK).
      this.pendingIss = seqAdd(tcb.sndNxt, 65537);
      this.counters.TcpExtTWRecycled++;
      tcb.closeTcb('reuse', null);
      tcb = undefined;
    }
    if (tcb !== undefined) {
      const una = tcb.sndUna;
      tcb.onSegmentArrives(seg, now);
      this.pendingIss = null;
      if (tcb.state === 'TIME-WAIT' && this.timeWaitCompaction !== 'off' && this.tracer === null && compactable(tcb)) {
        this.timersChanged(compactTimeWait(this.tw, tcb));
      }
      // Forward progress confirms the neighbour on the path (Linux tcp_ack → sk_dst_confirm).
      if (tcb.sndUna !== una) this.network.confirmReachable(src, now);
      return;
    }
    const tp = this.transparentPacket;
    const hook = tp === null ? null : this.transparent!.tcp(tp, src, srcPort, dst, dstPort, seg.flags);
    if (hook === 'drop') { this.pendingIss = null; this.drop('tcp: transparent hold', now); return; }
    const l = tp === null ? this.findListener(dst, dstPort) : hook === 'rst' ? null : hook;
    if (l !== null) {
      l.onSegment(seg, src, srcPort, dst, now);
      this.pendingIss = null;
      return;
    }
    this.pendingIss = null;
    this.drop('tcp: no socket', now);
    this.rstForClosed(dst, dstPort, src, srcPort, seg);
  }

  /** The connection for a 4-tuple as a Tcb (a compacted TIME-WAIT becomes one again). */
  private lookup(la: number, lp: number, ra: number, rp: number): Tcb | undefined {
    const e = this.conns.find(la, lp, ra, rp);
    if (!(e instanceof TimeWaitRecord)) return e;
    const t = expandTimeWait(this.tw, e, this);
    this.timersChanged(t);
    return t;
  }

  /** End a TIME-WAIT connection, full or compacted: 2·MSL passed or its 4-tuple is reused (RFC 6191). */
  private endTimeWait(e: ConnEntry, cause: 'reuse' | 'time-wait-done', now: Instant): void {
    if (e instanceof TimeWaitRecord) {
      // What the Tcb's end would have done; it has no callbacks to call (compactable).
      endTimeWait(this.tw, e);
      if (cause === 'time-wait-done') this.counters.TcpExtTW++;
      if (e.orphan) this.orphans--;
    } else if (cause === 'reuse') {
      e.closeTcb('reuse', null);
    } else {
      e.onTimeout(now);
    }
  }

  private timeWaitAcceptsSyn(tw: Tcb, seg: SegmentIn): boolean {
    if (tw.tsOk && seg.opts.tsPresent) return ((seg.opts.tsVal - tw.tsRecent) | 0) > 0;
    return seqGt(seg.seq, tw.rcvNxt);
  }

  /** RFC 9293 §3.10.7.1: a segment for no connection gets a RST unless it is one. */
  private rstForClosed(local: number, localPort: number, remote: number, remotePort: number, seg: SegmentIn): void {
    if (seg.flags & TCP_RST) return;
    const s = this.rstOut;
    if (seg.flags & TCP_ACK) {
      s.seq = seg.ack; s.ack = 0; s.flags = TCP_RST;
    } else {
      let len = seg.payload.length;
      if (seg.flags & TCP_SYN) len++;
      if (seg.flags & TCP_FIN) len++;
      s.seq = 0; s.ack = seqAdd(seg.seq, len); s.flags = TCP_RST | TCP_ACK;
    }
    s.window = 0; s.urgentPointer = 0; s.payload = null; s.retransmit = false;
    const o = s.opts; o.mss = -1; o.wscale = -1; o.sackPermitted = false; o.ts = false; o.sack.length = 0;
    this.counters.TcpOutRsts++;
    this.sendStateless(local, localPort, remote, remotePort, s);
  }

  private findListener(addr: number, port: number): Listener | null {
    const ls = this.listenersByPort.get(port);
    if (ls === undefined) return null;
    let any: Listener | null = null;
    for (const l of ls) {
      if (l.localAddr === addr) return l;
      if (l.localAddr === 0) any = l;
    }
    return any;
  }

  // ---------------------------------------------------------------- output

  private nextIpId(): number { this.ipId = (this.ipId + 1) & 0xffff; return this.ipId; }

  /** @internal the next IPv4 identification (network.ts uses it too). */
  allocIpId(): number { return this.nextIpId(); }

  /**
   * @internal send a finished datagram towards `dst` (through `nif`, or the routed interface).
   * `txFlags` (TX_CSUM_PARTIAL) goes to a link that completes checksums (TUN with offloads).
   */
  transmit(pkt: Uint8Array, dst: number, nif: NetIf | null, txFlags = 0, gsoSize = 0): void {
    const out = nif ?? this.route(dst);
    if (out === null) { this.drop('ip: no route', this.clock.now()); return; }
    this.counters.IpOutRequests++;
    if (out.kind === 'ethernet') (out as EthernetInterface).output(pkt, this.network.nextHop(dst, out));
    else if (txFlags === 0) out.link.send(pkt);
    else if (gsoSize === 0) out.link.send(pkt, txFlags);
    else out.link.send(pkt, txFlags, gsoSize);
  }

  emit(tcb: Tcb, seg: SegmentOut): void {
    // A TSO super-segment (output.ts transmitData): the link splits it into effMss-sized ones.
    const gso = seg.payload !== null && seg.payload.length > tcb.effMss ? tcb.effMss : 0;
    this.sendStateless(tcb.localAddr, tcb.localPort, tcb.remoteAddr, tcb.remotePort, seg, tcb.dscp, gso);
  }

  /**
   * TcbHost: TSO. The payload one segment may carry when the routed link splits it itself
   * (LinkEnd.gsoMaxSize; needs checksum offload), a multiple of effMss; 0: no TSO.
   */
  tsoMaxPayload(tcb: Tcb): number {
    if (!this.hasGso) return 0;
    const nif = this.route(tcb.remoteAddr);
    if (nif === null || nif.kind !== 'ip' || nif.link.txChecksumOffload !== true) return 0;
    const max = nif.link.gsoMaxSize ?? 0;
    if (max <= nif.mtu) return 0;
    // The IPv4 header and the TCP header with the timestamp option (SACK blocks: no TSO, output.ts).
    const mss = tcb.effMss;
    const segs = Math.floor((max - 40 - (tcb.tsOk ? 12 : 0)) / mss);
    return segs >= 2 ? segs * mss : 0;
  }

  /**
   * Send a TCP segment; `dscp` is the connection's Diffserv codepoint (RFC 9293 MUST-48, SHLD-22).
   * `gsoSize` > 0: a super-segment for a link with segmentation offload, split at that payload size.
   */
  sendStateless(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, seg: SegmentOut, dscp = 0, gsoSize = 0): void {
    // Linux counts a TSO packet as the segments it becomes (TCP_MIB_OUTSEGS += tcp_skb_pcount).
    this.counters.TcpOutSegs += gsoSize === 0 ? 1 : Math.ceil(seg.payload!.length / gsoSize);
    // A link that completes checksums (TUN with offloads) gets the pseudo-header sum only.
    const nif = this.route(remoteAddr);
    const partial = nif !== null && nif.link.txChecksumOffload === true;
    const alloc = gsoSize > 0 && partial ? nif!.link.txAlloc ?? null : null;
    const pkt = serializeSegment(seg, localAddr, localPort, remoteAddr, remotePort, this.options.ip_default_ttl, this.nextIpId(), dscp, partial, alloc);
    if (this.tracer !== null) {
      const len = seg.payload === null ? 0 : seg.payload.length;
      this.traceSegment('out', localAddr, localPort, remoteAddr, remotePort, seg.seq, seg.ack, seg.flags, seg.window, len, seg.urgentPointer, seg.opts, this.clock.now(), seg.retransmit);
    }
    this.transmit(pkt, remoteAddr, nif, partial ? TX_CSUM_PARTIAL : 0, partial ? gsoSize : 0);
  }

  private traceSegment(
    dir: 'in' | 'out', la: number, lp: number, ra: number, rp: number, seq: number, ack: number, flags: number,
    win: number, len: number, urg: number,
    o: { mss: number; wscale: number; sackPermitted: boolean; ts?: boolean; tsPresent?: boolean; tsVal: number; tsEcr: number; sack?: number[]; sackCount?: number; sackBlocks?: Uint32Array },
    t: Instant, retransmit: boolean,
  ): void {
    const options: SegmentTraceOptions = {};
    if (o.mss >= 0) options.mss = o.mss;
    if (o.wscale >= 0) options.wscale = o.wscale;
    if (o.sackPermitted) options.sackOK = true;
    if (o.ts === true || o.tsPresent === true) options.ts = { val: o.tsVal, ecr: o.tsEcr };
    const blocks: Array<[number, number]> = [];
    if (o.sack !== undefined) for (let i = 0; i + 1 < o.sack.length; i += 2) blocks.push([o.sack[i]!, o.sack[i + 1]!]);
    if (o.sackBlocks !== undefined && o.sackCount) for (let i = 0; i < o.sackCount; i++) blocks.push([o.sackBlocks[2 * i]!, o.sackBlocks[2 * i + 1]!]);
    if (blocks.length > 0) options.sack = blocks;
    const ev: TraceEvent = {
      type: 'segment', t, host: this.traceHost, conn: { localAddr: la, localPort: lp, remoteAddr: ra, remotePort: rp },
      dir, seq, ack, flags, win, len, urg, options,
    };
    if (retransmit) ev.retransmit = true;
    this.tracer!(ev);
  }

  // ---------------------------------------------------------------- TcbHost

  stateChanged(tcb: Tcb, from: TcpState, to: TcpState, cause: string): void {
    const c = this.counters;
    if (to === 'ESTABLISHED' || (to === 'CLOSE-WAIT' && from !== 'ESTABLISHED')) c.TcpCurrEstab++;
    if ((from === 'ESTABLISHED' || from === 'CLOSE-WAIT') && to !== 'CLOSE-WAIT' && to !== 'ESTABLISHED') c.TcpCurrEstab--;
    if (to === 'CLOSED') {
      this.conns.remove(tcb);
      // Its queue entry would keep the closed TCB reachable until its deadline (issue 16: GC).
      if (tcb.timerId !== 0) { this.timers.cancel(tcb.timerId); tcb.timerId = 0; tcb.scheduledAt = Infinity; }
      if (tcb.orphan) this.orphans--;
    }
    const tr = this.tracer;
    if (tr !== null) tr({ type: 'state', t: this.clock.now(), host: this.traceHost, conn: tcb.connId, from, to, cause });
  }

  challengeAckAllowed(now: Instant): boolean { return this.challengeLimiter.allow(now); }

  timersChanged(tcb: ConnEntry): void {
    const d = tcb.nextDeadline();
    if (d < tcb.scheduledAt) {
      // The later entry it supersedes is cancelled (it would only be skipped when popped, and
      // hold the TCB until then).
      if (tcb.timerId !== 0) this.timers.cancel(tcb.timerId);
      tcb.scheduledAt = d;
      tcb.timerId = this.timers.schedule(d, tcb);
      if (this.onWake !== null) this.onWake();
    }
  }

  /** A connection became an orphan (the user closed it). Linux resets orphans above tcp_max_orphans. */
  orphaned(tcb: Tcb): void {
    this.orphans++;
    if (this.orphans > this.options.tcp_max_orphans && tcb.state !== 'CLOSED' && tcb.state !== 'TIME-WAIT') {
      this.counters.TcpExtTCPAbortOnMemory++;
      tcb.abort(this.clock.now(), 'too many orphaned connections');
    }
  }

  get orphanCount(): number { return this.orphans; }

  tsOffsetFor(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): number {
    // SipHash-2-4 of the 12 bytes localAddr, remoteAddr (big-endian), localPort, remotePort
    // (big-endian), read as little-endian words: no array per connection (issue 16).
    const lp = localPort & 0xffff, rp = remotePort & 0xffff;
    return sipHash24Words12(this.tsKeyWords, bswap32(localAddr), bswap32(remoteAddr),
      (lp >>> 8) | ((lp & 0xff) << 8) | ((rp >>> 8) << 16) | ((rp & 0xff) << 24));
  }

  createPassiveTcb(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, iss: number | null, now: Instant): Tcb {
    const isn = iss ?? this.pendingIss ?? this.isnOverride?.(localAddr, localPort, remoteAddr, remotePort) ?? this.isnGen.isn(localAddr, localPort, remoteAddr, remotePort, now);
    const tcb = new Tcb(this, {
      localAddr, localPort, remoteAddr, remotePort, mtu: this.route(remoteAddr)?.mtu ?? 576, iss: isn,
      tsOffset: this.tsOffsetFor(localAddr, localPort, remoteAddr, remotePort),
    });
    tcb.now = now;
    if (this.reuseAddrListeners > 0) {
      for (const l of this.listenersByPort.get(localPort) ?? []) {
        if ((l.localAddr === 0 || l.localAddr === localAddr) && this.reuseAddr.has(l)) this.reuseAddr.add(tcb);
      }
    }
    this.conns.add(tcb);
    return tcb;
  }

  // ---------------------------------------------------------------- user API

  /**
   * Prepare an active OPEN: choose the source address and port and create the TCB in CLOSED.
   * Nothing is sent yet: set `tcb.user`, then call `tcb.openActive(now)`, which sends the SYN
   * (docs/core.md). Throws StackError (EADDRINUSE, EADDRNOTAVAIL, ENETUNREACH, EINVAL).
   */
  connect(opts: ConnectOptions): Tcb {
    const remote = toAddr(opts.remoteAddr, 'remoteAddr');
    const now = this.clock.now();
    // RFC 9293 §3.9.1.1 MUST-46: "reject as an error a local OPEN call for an invalid remote IP
    // address (e.g., a broadcast or multicast address)". Linux tcp_v4_connect: RTCF_MULTICAST |
    // RTCF_BROADCAST → ENETUNREACH.
    if (this.invalidPeer(remote)) throw new StackError('ENETUNREACH', 'connect', formatIpv4Address(remote));
    let dscp = 0;
    if (opts.tos !== undefined || opts.dscp !== undefined) {
      const v = opts.dscp ?? (opts.tos! >> 2);
      if (!Number.isInteger(v) || v < 0 || v > 63 || (opts.tos !== undefined && !(opts.tos >= 0 && opts.tos <= 255))) throw new StackError('EINVAL', 'connect', 'dscp/tos');
      dscp = v;
    }
    const nif = this.route(remote);
    if (nif === null) throw new StackError('ENETUNREACH', 'connect');
    const src = nif.kind === 'loopback' ? loopbackSource(remote) : nif.addr;
    let local = src;
    if (opts.localAddr !== undefined) {
      local = toAddr(opts.localAddr, 'localAddr');
      if (local !== 0 && !this.isLocal(local)) throw new StackError('EADDRNOTAVAIL', 'connect', formatIpv4Address(local));
      if (local === 0) local = src;
    }
    let port: number;
    if (opts.localPort !== undefined && opts.localPort !== 0) {
      port = opts.localPort;
      const existing = this.conns.find(local, port, remote, opts.remotePort);
      if (existing !== undefined) {
        if (!(existing.state === 'TIME-WAIT' && this.options.tcp_tw_reuse && existing.tsOk)) throw new StackError('EADDRINUSE', 'connect', `${formatIpv4Address(local)}:${port}`);
        this.endTimeWait(existing, 'reuse', now);
      }
    } else {
      port = this.allocateEphemeral(local, remote, opts.remotePort);
    }
    const tcb = new Tcb(this, {
      localAddr: local, localPort: port, remoteAddr: remote, remotePort: opts.remotePort, mtu: nif.mtu,
      iss: opts.iss ?? this.pendingIss ?? this.isnGen.isn(local, port, remote, opts.remotePort, now),
      tsOffset: this.tsOffsetFor(local, port, remote, opts.remotePort),
      rcvBufSize: opts.rcvBuf, sndBufSize: opts.sndBuf,
    });
    tcb.dscp = dscp;
    this.pendingIss = null;
    this.conns.add(tcb);
    return tcb;
  }

  /** Pick a local port from ip_local_port_range whose 4-tuple is free (a TIME-WAIT one only with tcp_tw_reuse + timestamps, RFC 6191). */
  private allocateEphemeral(local: number, remote: number, remotePort: number): number {
    const range = this.options.ip_local_port_range;
    const lo = range[0], hi = range[1];
    const span = hi - lo + 1;
    const reuseOk = this.options.tcp_tw_reuse !== 0;
    // Every port already leads to this remote endpoint: skip the search for a free one.
    const full = this.conns.portsInUseTo(remote, remotePort) >= span;
    let reusable: ConnEntry | null = null;
    for (let i = 0; i < span; i++) {
      const port = lo + ((this.nextEphemeral - lo + i) % span);
      if (this.listenersByPort.has(port)) continue;
      if (this.ephemeralFilter !== null && !this.ephemeralFilter(local, port, remote, remotePort)) continue;
      const t = this.conns.find(local, port, remote, remotePort);
      if (t === undefined) { this.nextEphemeral = port + 1 > hi ? lo : port + 1; return port; }
      if (reusable === null && reuseOk && t.state === 'TIME-WAIT' && t.tsOk) {
        reusable = t;
        if (full) break;
      }
    }
    if (reusable !== null) {
      const port = reusable.localPort;
      this.nextEphemeral = port + 1 > hi ? lo : port + 1;
      this.pendingIss = seqAdd(reusable.sndNxt, 65537);
      this.counters.TcpExtTWRecycled++;
      this.endTimeWait(reusable, 'reuse', this.clock.now());
      return port;
    }
    throw new StackError('EADDRNOTAVAIL', 'connect', 'no free ephemeral port');
  }

  /** Passive OPEN. Throws StackError EADDRINUSE when a listener already owns addr:port. */
  listen(opts: ListenOptions): Listener {
    const addr = opts.addr === undefined ? 0 : toAddr(opts.addr, 'addr');
    if (addr !== 0 && !this.isLocal(addr)) throw new StackError('EADDRNOTAVAIL', 'listen', formatIpv4Address(addr));
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new StackError('EINVAL', 'listen', `port ${opts.port}`);
    let port = opts.port;
    if (port === 0) port = this.allocateListenPort();
    const ls = this.listenersByPort.get(port) ?? [];
    for (const l of ls) if (l.localAddr === addr || l.localAddr === 0 || addr === 0) throw new StackError('EADDRINUSE', 'listen', `${formatIpv4Address(addr)}:${port}`);
    // A TIME-WAIT connection on the port (a server restarted after closing first) conflicts
    // unless both sockets set SO_REUSEADDR (Linux inet_csk_bind_conflict; the TIME-WAIT socket
    // keeps its creator's flag). Linux refuses for any socket bound to the port; synack only
    // for TIME-WAIT, because RFC 9293 MUST-42 requires LISTEN on a port while a connection
    // from it is in SYN-SENT or SYN-RECEIVED (the RFC and Linux disagree there; the RFC wins).
    for (const t of this.conns.values()) {
      if (t.localPort !== port || t.state !== 'TIME-WAIT' || (addr !== 0 && t.localAddr !== addr)) continue;
      if (opts.reuseAddr === true && this.reuseAddr.has(t)) continue;
      throw new StackError('EADDRINUSE', 'listen', `${formatIpv4Address(addr)}:${port} (a connection in ${t.state} holds it${opts.reuseAddr === true ? '' : '; SO_REUSEADDR not set'})`);
    }
    const backlog = Math.max(1, Math.min(opts.backlog ?? 511, this.options.somaxconn));
    const l = new Listener(this, addr, port, backlog);
    if (opts.reuseAddr === true) { this.reuseAddr.add(l); this.reuseAddrListeners++; }
    ls.push(l);
    this.listenersByPort.set(port, ls);
    return l;
  }

  private allocateListenPort(): number {
    const [lo, hi] = this.options.ip_local_port_range;
    for (let p = lo; p <= hi; p++) if (!this.listenersByPort.has(p)) return p;
    throw new StackError('EADDRINUSE', 'listen', 'no free port');
  }

  closeListener(l: Listener): void {
    const ls = this.listenersByPort.get(l.localPort);
    if (ls !== undefined) {
      const i = ls.indexOf(l);
      if (i >= 0) {
        ls.splice(i, 1);
        if (this.reuseAddr.has(l)) this.reuseAddrListeners--;
      }
      if (ls.length === 0) this.listenersByPort.delete(l.localPort);
    }
    l.close(this.clock.now());
  }

  /** Every connection (TCB) this stack knows, in all states but CLOSED. */
  tcbs(): Tcb[] {
    return [...this.conns.values()].map((e) => e instanceof TimeWaitRecord ? this.lookup(e.localAddr, e.localPort, e.remoteAddr, e.remotePort)! : e);
  }

  /** The connection table, like `ss -tanoi` (render it with renderConnectionTable). */
  connections(): ConnRow[] { return connectionTable(this); }

  listeners(): Listener[] {
    const out: Listener[] = [];
    for (const ls of this.listenersByPort.values()) out.push(...ls);
    return out;
  }

  get connectionCount(): number { return this.conns.size; }

  /** Live protocol timers (the queue may also hold stale entries, which are skipped). */
  get pendingTimers(): number {
    let n = 0;
    for (const t of this.conns.values()) if (t.nextDeadline() !== Infinity) n++;
    return n;
  }

  // ---------------------------------------------------------------- driver

  nextDeadline(): Instant {
    const d = this.settledTimerHead();
    const n = this.network.nextDeadline();
    return n < d ? n : d;
  }

  /**
   * The earliest TCP deadline that still means something. The queue keeps an entry when a
   * TCB's deadline moves later or goes away (re-arming the RTO on every ACK must stay cheap);
   * reported as is, such a stale head makes a simulation jump to a time with nothing to do
   * (the cancelled 1 s SYN timer after a 15 ms handshake) and a realtime driver wake for
   * nothing. So stale heads are dropped here, and a later deadline re-queued at its real time.
   */
  private settledTimerHead(): Instant {
    for (;;) {
      const tcb = this.timers.head();
      if (tcb === undefined) return Infinity;
      const d = this.timers.headAt();
      if (tcb.scheduledAt === d && tcb.state !== 'CLOSED') {
        const real = tcb.nextDeadline();
        if (real <= d) return d;
        this.timers.dropNext();
        tcb.scheduledAt = real;
        tcb.timerId = real !== Infinity ? this.timers.schedule(real, tcb) : 0;
      } else {
        this.timers.dropNext();
        if (tcb.scheduledAt === d) { tcb.scheduledAt = Infinity; tcb.timerId = 0; }
      }
    }
  }

  poll(now: Instant): void {
    this.network.poll(now);
    this.timers.popExpired(now, (tcb, at) => {
      if (tcb.scheduledAt !== at) return;
      tcb.scheduledAt = Infinity;
      tcb.timerId = 0;
      if (tcb.state === 'CLOSED') return;
      if (tcb.nextDeadline() > now) this.timersChanged(tcb);
      else if (tcb instanceof TimeWaitRecord) this.endTimeWait(tcb, 'time-wait-done', now);
      else tcb.onTimeout(now);
    });
  }
}

const EMPTY = new Uint8Array(0);

/** The 32-bit value with its bytes reversed (a big-endian field read as a little-endian word). */
function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
}

