// ICMP at the stack (RFC 792, RFC 1122 §3.2.2): echo replies, ICMP errors handed to the
// connection (or other protocol) whose datagram they quote, and ICMP errors sent by us,
// rate-limited as Linux does. Split out of stack.ts; the Stack owns one IcmpLayer.
import type { Instant } from '../time/instant.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP } from '../wire/ipv4.js';
import {
  parseIcmp, parseIcmpQuote, emitIcmpEcho, icmpEchoLength, isIcmpEcho, isIcmpDestUnreachable, emitIcmpDestUnreachable,
  icmpDestUnreachableLength, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM,
} from '../wire/icmp.js';
import { RateLimiter } from '../tcp/ratelimit.js';
import type { Tcb } from '../tcp/tcb.js';
import type { NetIf, Stack } from './stack.js';

const EMPTY = new Uint8Array(0);

export type TcbLookup = (localAddr: number, localPort: number, remoteAddr: number, remotePort: number) => Tcb | undefined;

export class IcmpLayer {
  private readonly globalLimiter: RateLimiter;
  private readonly peerLimiters = new Map<number, RateLimiter>();

  constructor(private readonly host: Stack, private readonly findTcb: TcbLookup) {
    this.globalLimiter = new RateLimiter(host.options.icmp_msgs_per_sec, host.options.icmp_msgs_burst);
  }

  /**
   * May we send an ICMP error to `dst` now? Linux icmpv4_xrlim_allow + icmp_global_allow:
   * a global token bucket (icmp_msgs_per_sec 1000, icmp_msgs_burst 50) and one per
   * destination (icmp_ratelimit 1000 ms per token, XRLIM_BURST_FACTOR 6 tokens of burst).
   * RFC 1812 §4.3.2.8 / RFC 1122 §3.2.2: ICMP errors SHOULD be rate-limited.
   */
  errorAllowed(dst: number, now: Instant): boolean {
    const perDst = this.host.options.icmp_ratelimit;
    if (perDst > 0) {
      let l = this.peerLimiters.get(dst);
      if (l === undefined) {
        if (this.peerLimiters.size >= 4096) this.peerLimiters.clear(); // inet_peer GC, coarsely
        l = new RateLimiter(1000 / perDst, 6);
        this.peerLimiters.set(dst, l);
      }
      if (l.available(now) < 1) { this.host.counters.IcmpOutRateLimitHost++; return false; }
      if (!this.globalLimiter.allow(now)) { this.host.counters.IcmpOutRateLimitGlobal++; return false; }
      l.allow(now);
      return true;
    }
    if (!this.globalLimiter.allow(now)) { this.host.counters.IcmpOutRateLimitGlobal++; return false; }
    return true;
  }

  sendUnreachable(code: number, offending: Uint8Array, src: number, dst: number, nif: NetIf | null): void {
    const len = icmpDestUnreachableLength(offending);
    const pkt = new Uint8Array(20 + len);
    emitIpv4Header({ ttl: this.host.options.ip_default_ttl, protocol: IPPROTO_ICMP, src, dst, identification: this.host.allocIpId() }, len, pkt, 0);
    emitIcmpDestUnreachable(code, offending, pkt, 20);
    this.host.counters.IcmpOutDestUnreachs++;
    this.host.transmit(pkt, dst, nif);
  }

  input(src: number, dst: number, payload: Uint8Array, now: Instant, nif: NetIf | null): void {
    const c = this.host.counters;
    c.IcmpInMsgs++;
    const r = parseIcmp(payload);
    if (!r.ok) { c.IcmpInErrors++; this.host.drop('icmp: ' + r.error.kind, now); return; }
    const m = r.value;
    if (isIcmpEcho(m)) {
      if (m.type !== ICMP_ECHO_REQUEST) return;
      c.IcmpInEchos++;
      if (!this.host.options.icmp_echo_enable) return;
      const len = icmpEchoLength(m.data.length);
      const pkt = new Uint8Array(20 + len);
      emitIpv4Header({ ttl: this.host.options.ip_default_ttl, protocol: IPPROTO_ICMP, src: dst, dst: src, identification: this.host.allocIpId() }, len, pkt, 0);
      emitIcmpEcho(0, m.identifier, m.sequence, m.data, pkt, 20);
      c.IcmpOutEchoReps++;
      this.host.transmit(pkt, src, nif);
      return;
    }
    // RFC 9293 §3.9.2.2 MUST-54: an ICMP error goes to the connection that sent the quoted
    // datagram (RFC 1122 §4.2.3.9); tcp/icmp.ts decides what it means. Source Quench (type 4)
    // and the other types are counted only (MUST-55).
    let quoted: Uint8Array;
    let mtu = 0;
    if (isIcmpDestUnreachable(m)) { c.IcmpInDestUnreachs++; quoted = m.quoted; mtu = m.nextHopMtu; }
    else if (m.type === ICMP_TIME_EXCEEDED || m.type === ICMP_PARAMETER_PROBLEM) {
      if (m.type === ICMP_TIME_EXCEEDED) c.IcmpInTimeExcds++; else c.IcmpInParmProbs++;
      quoted = 'rest' in m ? m.rest.subarray(4) : EMPTY; // the pointer / unused word, then the quote (RFC 792)
    } else return;
    const q = parseIcmpQuote(quoted);
    if (!q.ok) { c.IcmpInErrors++; this.host.drop('icmp: ' + q.error.kind, now); return; }
    const o = q.value.ip;
    if (o.protocol !== IPPROTO_TCP) {
      if (this.host.network.icmpError(o.protocol, { type: m.type, code: m.code, nextHopMtu: mtu, src, quote: q.value })) return;
      this.host.drop('icmp: not about tcp', now); return;
    }
    const t = q.value.transport;
    const tcb = this.findTcb(o.src, (t[0]! << 8) | t[1]!, o.dst, (t[2]! << 8) | t[3]!);
    // Linux tcp_v4_err counts an error for no connection as an ICMP input error.
    if (tcb === undefined) { c.IcmpInErrors++; this.host.drop('icmp: no connection', now); return; }
    const seq = ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0;
    tcb.onIcmpError({ type: m.type, code: m.code, seq, nextHopMtu: mtu }, now);
  }
}
