// UDP (RFC 768) in a Stack: the socket table and demultiplexing, checksums (mandatory on
// send, zero accepted on receive: RFC 1122 §4.1.3.4), ICMP port unreachable for datagrams no
// socket wants (RFC 1122 §4.1.3.1, rate-limited by the stack like Linux's icmp_ratelimit),
// and ICMP errors delivered to connected sockets as Linux does (__udp4_lib_err).
// Get the layer of a stack with udpOf(stack); it registers itself as IP protocol 17.
import type { Instant } from '../time/instant.js';
import type { Stack, NetIf } from '../stack/stack.js';
import type { IpDatagram, IcmpErrorInfo } from '../stack/network.js';
import { IPPROTO_UDP } from '../wire/ipv4.js';
import { parseUdp, emitUdp, UDP_HEADER_LENGTH, UDP_MAX_PAYLOAD } from '../wire/udp.js';
import { ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM, ICMP_UNREACH_PORT } from '../wire/icmp.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { StackError } from '../stack/errors.js';
import { UdpSocket, type UdpMessage } from './socket.js';

/** A datagram event for traces: who sent what to whom (DHCP and DNS diagrams are drawn from these). */
export interface UdpTraceEvent {
  dir: 'in' | 'out';
  t: Instant;
  src: number; srcPort: number; dst: number; dstPort: number;
  len: number;
  data: Uint8Array;
}

/**
 * Linux icmp_err_convert[]: errno and "hard error" for each Destination Unreachable code
 * (RFC 1122 §4.1.3.3: UDP MUST pass ICMP errors up to the application).
 */
const UNREACH_ERRORS: ReadonlyArray<[string, boolean]> = [
  ['ENETUNREACH', true], ['EHOSTUNREACH', true], ['ENOPROTOOPT', true], ['ECONNREFUSED', true],
  ['EMSGSIZE', false], ['EOPNOTSUPP', false], ['ENETUNREACH', true], ['EHOSTDOWN', true],
  ['ENONET', true], ['ENETUNREACH', true], ['EHOSTUNREACH', true], ['ENETUNREACH', false],
  ['EHOSTUNREACH', false], ['EHOSTUNREACH', true], ['EHOSTUNREACH', true], ['EHOSTUNREACH', true],
];

const layers = new WeakMap<Stack, UdpLayer>();

/** The UDP layer of `stack`, created (and registered as protocol 17) on first use. */
export function udpOf(stack: Stack): UdpLayer {
  let l = layers.get(stack);
  if (l === undefined) { l = new UdpLayer(stack); layers.set(stack, l); }
  return l;
}

export class UdpLayer {
  /** Sockets by local port; several when addresses differ or SO_REUSEADDR is set. */
  private readonly byPort = new Map<number, UdpSocket[]>();
  private nextEphemeral: number;
  private readonly tracers: Array<(ev: UdpTraceEvent) => void> = [];

  constructor(readonly stack: Stack) {
    stack.registerProtocol(IPPROTO_UDP, (d) => this.input(d), (e) => this.icmpError(e));
    const [lo, hi] = stack.options.ip_local_port_range;
    this.nextEphemeral = lo + ((stack.tsOffsetFor(0, 0, 0, IPPROTO_UDP) >>> 0) % (hi - lo + 1));
  }

  /** A new, unbound socket with the stack's default buffer sizes (rmem_default / wmem_default). */
  createSocket(): UdpSocket {
    const o = this.stack.options;
    return new UdpSocket(this, o.rmem_default, o.wmem_default);
  }

  /** Watch every datagram sent or received (DHCP/DNS diagrams). Returns the unsubscribe function. */
  onDatagram(fn: (ev: UdpTraceEvent) => void): () => void {
    this.tracers.push(fn);
    return () => { const i = this.tracers.indexOf(fn); if (i >= 0) this.tracers.splice(i, 1); };
  }

  /** Every open socket (for tables and tests). */
  sockets(): UdpSocket[] {
    const out: UdpSocket[] = [];
    for (const l of this.byPort.values()) out.push(...l);
    return out;
  }

  // ---------------------------------------------------------------- bind / connect / close

  /**
   * bind(2). `addr` 0 is INADDR_ANY; it must otherwise be one of ours or a broadcast address
   * (Linux inet_bind accepts RTN_LOCAL and RTN_BROADCAST) — else EADDRNOTAVAIL. Port 0 picks an
   * ephemeral port. EADDRINUSE when another socket holds an overlapping address on the port,
   * unless both set SO_REUSEADDR. EINVAL when already bound.
   */
  bind(s: UdpSocket, addr: number, port: number): void {
    if (s.closed) throw new StackError('EBADF', 'bind');
    if (s.bound) throw new StackError('EINVAL', 'bind');
    addr >>>= 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StackError('EINVAL', 'bind', `port ${port}`);
    if (addr !== 0 && !this.stack.interfaces.some((i) => i.addr === addr) && !this.stack.isBroadcastFor(addr)) {
      throw new StackError('EADDRNOTAVAIL', 'bind', `${formatIpv4Address(addr)}:${port}`);
    }
    if (port === 0) port = this.ephemeral(addr, s.reuseAddr);
    else if (this.conflicts(addr, port, s.reuseAddr)) throw new StackError('EADDRINUSE', 'bind', `${formatIpv4Address(addr)}:${port}`);
    s.localAddr = addr;
    s.localPort = port;
    s.bound = true;
    const l = this.byPort.get(port);
    if (l === undefined) this.byPort.set(port, [s]); else l.push(s);
  }

  private conflicts(addr: number, port: number, reuse: boolean): boolean {
    const l = this.byPort.get(port);
    if (l === undefined) return false;
    for (const o of l) {
      if (reuse && o.reuseAddr) continue;
      if (o.localAddr === 0 || addr === 0 || o.localAddr === addr) return true;
    }
    return false;
  }

  /** Linux udp_lib_get_port: a random start in ip_local_port_range, the first free port. */
  private ephemeral(addr: number, reuse: boolean): number {
    const [lo, hi] = this.stack.options.ip_local_port_range;
    const span = hi - lo + 1;
    for (let i = 0; i < span; i++) {
      const p = lo + ((this.nextEphemeral - lo + i) % span);
      if (!this.conflicts(addr, p, reuse)) { this.nextEphemeral = p + 1 > hi ? lo : p + 1; return p; }
    }
    throw new StackError('EAGAIN', 'bind', 'no free ephemeral port');
  }

  /**
   * connect(2) on a datagram socket: sets the default peer and filters what is received
   * (RFC 1122 §4.1.3.4 lets the application specify the remote address). Binds an ephemeral
   * port and picks the source address by route first, as Linux ip4_datagram_connect does.
   */
  connect(s: UdpSocket, addr: number, port: number): void {
    if (s.closed) throw new StackError('EBADF', 'connect');
    addr >>>= 0;
    const nif = this.stack.route(addr);
    if (nif === null) throw new StackError('ENETUNREACH', 'connect');
    if (this.stack.isBroadcastFor(addr) && !s.broadcast) throw new StackError('EACCES', 'connect');
    if (!s.bound) this.bind(s, 0, 0);
    if (s.localAddr === 0) {
      // Linux keeps the wildcard bind but fixes the source (inet->inet_saddr) on connect.
      this.rehash(s, nif.addr);
    }
    s.remoteAddr = addr;
    s.remotePort = port;
    s.connected = true;
    s.pendingError = null;
  }

  /** Forget the peer; Linux udp_disconnect also resets a source address that connect() chose. */
  disconnect(s: UdpSocket): void {
    s.remoteAddr = 0;
    s.remotePort = 0;
    s.connected = false;
    if ((s as { autoAddr?: boolean }).autoAddr) { s.localAddr = 0; (s as { autoAddr?: boolean }).autoAddr = false; }
  }

  private rehash(s: UdpSocket, addr: number): void {
    s.localAddr = addr;
    (s as { autoAddr?: boolean }).autoAddr = true;
  }

  close(s: UdpSocket): void {
    if (s.closed) return;
    s.closed = true;
    if (!s.bound) return;
    const l = this.byPort.get(s.localPort);
    if (l !== undefined) {
      const i = l.indexOf(s);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.byPort.delete(s.localPort);
    }
    s.bound = false;
    while (s.recv() !== null) { /* free the queue */ }
  }

  // ---------------------------------------------------------------- output

  /**
   * Send one datagram. Without addr/port it goes to the connected peer (EDESTADDRREQ if none);
   * with them on a connected socket Linux sends there anyway (sendto overrides). EACCES for a
   * broadcast destination without SO_BROADCAST (Linux udp_sendmsg: RTCF_BROADCAST without
   * SOCK_BROADCAST); EMSGSIZE above 65507 bytes or above the path MTU (synack never
   * fragments, as with IP_PMTUDISC_DO); a pending ICMP error is reported first (sock_error).
   */
  send(s: UdpSocket, data: Uint8Array | readonly Uint8Array[], addr?: number, port?: number): number {
    if (s.closed) throw new StackError('EBADF', 'send');
    const pieces = data instanceof Uint8Array ? [data] : data;
    let len = 0;
    for (const p of pieces) len += p.length;
    let dst: number, dstPort: number;
    if (addr === undefined || port === undefined) {
      if (!s.connected) throw new StackError('EDESTADDRREQ', 'send');
      dst = s.remoteAddr; dstPort = s.remotePort;
    } else {
      dst = addr >>> 0; dstPort = port;
      if (!Number.isInteger(dstPort) || dstPort <= 0 || dstPort > 65535) throw new StackError('EINVAL', 'send', `port ${dstPort}`);
    }
    const err = s.takeError();
    if (err !== null) throw new StackError(err, 'send');
    if (len > UDP_MAX_PAYLOAD) throw new StackError('EMSGSIZE', 'send');
    const bcast = this.stack.isBroadcastFor(dst);
    if (bcast && !s.broadcast) throw new StackError('EACCES', 'send');
    const nif = dst === 0xffffffff ? (this.stack.interfaces.find((i) => i.kind === 'ethernet') ?? this.stack.interfaces[0] ?? null) : this.stack.route(dst);
    if (nif === null) throw new StackError('ENETUNREACH', 'send');
    if (len + UDP_HEADER_LENGTH + 20 > nif.mtu) throw new StackError('EMSGSIZE', 'send');
    if (!s.bound) this.bind(s, 0, 0);
    const src = s.localAddr !== 0 && !this.stack.isBroadcastFor(s.localAddr) ? s.localAddr : nif.addr;
    const seg = new Uint8Array(UDP_HEADER_LENGTH + len);
    emitUdp(s.localPort, dstPort, pieces, src, dst, seg, 0);
    this.stack.counters.UdpOutDatagrams++;
    this.trace('out', src, s.localPort, dst, dstPort, seg);
    this.stack.sendIpv4({ dst, src, protocol: IPPROTO_UDP, payload: seg, ttl: s.ttl >= 0 ? s.ttl : undefined, tos: s.tos, nif });
    return len;
  }

  /**
   * Send a datagram from a given source endpoint without a socket (a DHCP client before it has
   * an address sends from 0.0.0.0:68 to 255.255.255.255:67; RFC 2131 §4.1), on `nif`.
   */
  sendRaw(src: number, srcPort: number, dst: number, dstPort: number, data: Uint8Array | readonly Uint8Array[], nif?: NetIf): void {
    const pieces = data instanceof Uint8Array ? [data] : data;
    let len = 0;
    for (const p of pieces) len += p.length;
    const seg = new Uint8Array(UDP_HEADER_LENGTH + len);
    emitUdp(srcPort, dstPort, pieces, src >>> 0, dst >>> 0, seg, 0);
    this.stack.counters.UdpOutDatagrams++;
    this.trace('out', src >>> 0, srcPort, dst >>> 0, dstPort, seg);
    this.stack.sendIpv4({ dst: dst >>> 0, src: src >>> 0, protocol: IPPROTO_UDP, payload: seg, nif });
  }

  private trace(dir: 'in' | 'out', src: number, srcPort: number, dst: number, dstPort: number, seg: Uint8Array): void {
    if (this.tracers.length === 0) return;
    const ev: UdpTraceEvent = { dir, t: this.stack.now(), src, srcPort, dst, dstPort, len: seg.length - UDP_HEADER_LENGTH, data: seg.subarray(UDP_HEADER_LENGTH) };
    for (const f of [...this.tracers]) f(ev);
  }

  // ---------------------------------------------------------------- input

  input(ip: IpDatagram): void {
    const now = this.stack.now();
    const { nif, broadcast, packet } = ip;
    const c = this.stack.counters;
    const r = parseUdp(ip.payload, { src: ip.src, dst: ip.dst });
    if (!r.ok) {
      c.UdpInErrors++;
      if (r.error.kind === 'bad-checksum') c.UdpInCsumErrors++;
      this.stack.drop('udp: ' + r.error.kind, now);
      return;
    }
    const u = r.value;
    this.trace('in', ip.src, u.srcPort, ip.dst, u.dstPort, ip.payload.subarray(0, u.length));
    if (broadcast) {
      // Linux __udp4_lib_mcast_deliver: every matching socket gets a copy; never an ICMP error.
      let any = false;
      for (const s of this.byPort.get(u.dstPort) ?? []) {
        if (s.localAddr !== 0 && s.localAddr !== ip.dst) continue;
        if (s.connected && (s.remoteAddr !== ip.src || s.remotePort !== u.srcPort)) continue;
        any = true;
        this.deliver(s, u.payload, ip, u.srcPort, nif, now);
      }
      if (!any) { c.UdpNoPorts++; this.stack.drop('udp: no socket (broadcast)', now); }
      return;
    }
    const s = this.lookup(ip.dst, u.dstPort, ip.src, u.srcPort);
    if (s === null) {
      c.UdpNoPorts++;
      this.stack.drop('udp: no socket', now);
      this.stack.icmpUnreachable(ICMP_UNREACH_PORT, packet, nif);
      return;
    }
    this.deliver(s, u.payload, ip, u.srcPort, nif, now);
  }

  private deliver(s: UdpSocket, payload: Uint8Array, ip: IpDatagram, srcPort: number, nif: NetIf | null, now: Instant): void {
    const m: UdpMessage = { data: payload.slice(), srcAddr: ip.src, srcPort, dstAddr: ip.dst, nif, t: now };
    if (s.enqueue(m)) this.stack.counters.UdpInDatagrams++;
    else {
      this.stack.counters.UdpRcvbufErrors++;
      this.stack.counters.UdpInErrors++;
      this.stack.drop('udp: receive buffer full', now);
    }
  }

  /**
   * The best socket for a unicast datagram (Linux compute_score): a connected peer match and
   * an exact local address score higher than wildcards; among equals the last bound wins
   * (SO_REUSEADDR on Linux delivers to the most recent).
   */
  private lookup(dst: number, dstPort: number, src: number, srcPort: number): UdpSocket | null {
    const l = this.byPort.get(dstPort);
    if (l === undefined) return null;
    let best: UdpSocket | null = null;
    let bestScore = -1;
    for (const s of l) {
      let score = 0;
      if (s.localAddr !== 0) { if (s.localAddr !== dst) continue; score += 4; }
      if (s.connected) {
        if (s.remoteAddr !== src || s.remotePort !== srcPort) continue;
        score += 4;
      }
      if (score >= bestScore) { best = s; bestScore = score; }
    }
    return best;
  }

  /**
   * An ICMP error about a datagram we sent (Linux __udp4_lib_err). The socket is found by the
   * quoted ports and addresses. Hard errors (port/host/net unreachable, parameter problem) are
   * reported to connected sockets only, as Linux does without IP_RECVERR; soft ones (time
   * exceeded, fragmentation needed) are not reported.
   */
  icmpError(e: IcmpErrorInfo): void {
    const now = this.stack.now();
    const t = e.quote.transport;
    const quoted = e.quote.ip;
    if (t.length < 4) { this.stack.counters.IcmpInErrors++; return; }
    const sport = (t[0]! << 8) | t[1]!, dport = (t[2]! << 8) | t[3]!;
    const s = this.lookup(quoted.src, sport, quoted.dst, dport);
    if (s === null) { this.stack.drop('icmp: no udp socket', now); return; }
    let code: string, hard: boolean;
    if (e.type === ICMP_DEST_UNREACH) [code, hard] = UNREACH_ERRORS[e.code] ?? ['EHOSTUNREACH', false];
    else if (e.type === ICMP_TIME_EXCEEDED) { code = 'EHOSTUNREACH'; hard = false; }
    else if (e.type === ICMP_PARAMETER_PROBLEM) { code = 'EPROTO'; hard = true; }
    else return;
    if (!hard || !s.connected || s.remoteAddr !== quoted.dst || s.remotePort !== dport) {
      this.stack.drop('icmp: udp soft error', now);
      return;
    }
    s.pendingError = code;
    if (s.user !== null) s.user.onError(code);
  }
}

export { UdpSocket };
