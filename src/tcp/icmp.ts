// ICMP error messages for a connection (RFC 9293 §3.9.2.2 MUST-54, RFC 1122 §4.2.3.9).
// The stack finds the connection from the datagram quoted in the message (Stack.icmpInput).
// Here the connection first checks that the quote is one of its segments in flight
// (RFC 5927 §4.1, against blind ICMP attacks), then treats the error as
//  - soft: remembered in Tcb.softError, reported through TcbUser.onSoftError (MUST-47,
//    SHLD-25), and used as the error if the connection later times out (Linux sk_err_soft,
//    tcp_write_err). Never an abort (MUST-56);
//  - hard (Destination Unreachable codes 2 and 3): an open attempt is aborted (SHLD-26);
//  - Datagram Too Big (code 4): Path MTU Discovery lowers the send MSS (RFC 1191).
import type { Tcb } from './tcb.js';
import type { TcpErrorCode } from './types.js';
import { isSynchronized } from './types.js';
import { seqInRange } from './seq.js';
import {
  ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM, ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_PORT, ICMP_UNREACH_PROTOCOL,
} from '../wire/icmp.js';

/** An ICMP error as the connection sees it. */
export interface IcmpErrorIn {
  type: number;
  code: number;
  /** SEG.SEQ of the quoted segment (RFC 792: the first 8 bytes of the original data). */
  seq: number;
  /** Next-Hop MTU of a Datagram Too Big (RFC 1191 §4); 0 when absent (an RFC 792 router). */
  nextHopMtu: number;
}

export type IcmpAction = 'soft' | 'hard' | 'pmtu';

/**
 * The errno of each Destination Unreachable code, as Linux reports it (icmp_err_convert[]);
 * codes 6–12 are RFC 1122 §3.2.2.1's, 13–15 RFC 1812 §5.2.7.1's.
 */
const UNREACH_ERRNO: readonly TcpErrorCode[] = [
  'ENETUNREACH',  // 0 net unreachable
  'EHOSTUNREACH', // 1 host unreachable
  'ENOPROTOOPT',  // 2 protocol unreachable
  'ECONNREFUSED', // 3 port unreachable
  'EMSGSIZE',     // 4 fragmentation needed and DF set
  'EOPNOTSUPP',   // 5 source route failed
  'ENETUNREACH',  // 6 destination network unknown
  'EHOSTDOWN',    // 7 destination host unknown
  'ENONET',       // 8 source host isolated
  'ENETUNREACH',  // 9 network administratively prohibited
  'EHOSTUNREACH', // 10 host administratively prohibited
  'ENETUNREACH',  // 11 network unreachable for type of service
  'EHOSTUNREACH', // 12 host unreachable for type of service
  'EHOSTUNREACH', // 13 communication administratively prohibited
  'EHOSTUNREACH', // 14 host precedence violation
  'EHOSTUNREACH', // 15 precedence cutoff in effect
];

/**
 * How TCP treats an ICMP error (RFC 1122 §4.2.3.9, RFC 9293 §3.9.2.2) and the errno Linux
 * reports for it (tcp_v4_err); null for messages TCP does not act on (Source Quench, MUST-55;
 * Redirect; unknown codes, which Linux ignores too).
 */
export function classifyIcmpError(type: number, code: number): { action: IcmpAction; error: TcpErrorCode } | null {
  if (type === ICMP_DEST_UNREACH) {
    const error = UNREACH_ERRNO[code];
    if (error === undefined) return null;
    if (code === ICMP_UNREACH_NEEDFRAG) return { action: 'pmtu', error };
    // "Destination Unreachable -- codes 2-4 … are hard error conditions" (code 4 is PMTUD's).
    if (code === ICMP_UNREACH_PROTOCOL || code === ICMP_UNREACH_PORT) return { action: 'hard', error };
    // Codes 0, 1, 5 are soft (a routing transient "MUST … be interpreted as only a hint",
    // RFC 1122 §3.2.2.1); so are the later codes, which RFC 1122 §4.2.3.9 does not classify.
    return { action: 'soft', error };
  }
  // "Time Exceeded -- codes 0, 1" and "Parameter Problem": "handled the same way as
  // Destination Unreachable codes 0, 1, 5". Linux: EHOSTUNREACH and EPROTO.
  if (type === ICMP_TIME_EXCEEDED) return { action: 'soft', error: 'EHOSTUNREACH' };
  if (type === ICMP_PARAMETER_PROBLEM) return { action: 'soft', error: 'EPROTO' };
  return null;
}

/**
 * Linux's net.ipv4.route.min_pmtu: a Datagram Too Big reporting less than 552 bytes, or no
 * MTU at all (RFC 1191 §5: an old router), lowers the path MTU to 552 and no further. RFC 1191
 * §3 only forbids going below 68; the floor keeps a forged ICMP from shrinking segments to
 * a few bytes (RFC 5927 §7.1).
 */
export const MIN_PMTU = 552;

/** An ICMP error quoting a segment of this connection arrived (the stack matched its 4-tuple). */
export function icmpErrorArrives(tcb: Tcb, m: IcmpErrorIn): void {
  const cls = classifyIcmpError(m.type, m.code);
  if (cls === null) return;
  const s = tcb.state;
  // TIME-WAIT has nothing left to report to (Linux tcp_v4_err ignores it too).
  if (s === 'CLOSED' || s === 'LISTEN' || s === 'TIME-WAIT') return;
  // RFC 5927 §4.1: act only when the quoted segment is in flight, SND.UNA =< SEG.SEQ < SND.NXT.
  // SND.MAX stands for SND.NXT: after a go-back-N rewind, segments up to SND.MAX are still
  // in the network. (Probes at SND.UNA−1 fail the test, as in Linux.)
  if (!seqInRange(m.seq, tcb.sndUna, tcb.sndMax)) {
    tcb.host.counters.TcpExtOutOfWindowIcmps++;
    drop(tcb, 'icmp: quoted sequence number not in flight');
    return;
  }
  if (cls.action === 'pmtu') { pathMtuReduced(tcb, m.nextHopMtu); return; }
  if (cls.action === 'hard' && (s === 'SYN-SENT' || s === 'SYN-RECEIVED')) {
    // SHLD-26: abort the open (Linux tcp_v4_err: ECONNREFUSED for a port, ENOPROTOOPT for a
    // protocol unreachable). A passive half-open connection has no user yet: it goes
    // silently, as after a RST (§3.10.7.4, "return to LISTEN").
    if (tcb.passive) { tcb.closeTcb('unreachable', null); return; }
    tcb.host.counters.TcpAttemptFails++;
    tcb.closeTcb('unreachable', cls.error);
    return;
  }
  // Soft errors, in every state (MUST-56: never an abort, not even in SYN-SENT, where Linux
  // aborts; RFC 9293 §3.9.2.2 notes that practice). Hard errors once synchronized are soft
  // too: RFC 9293 §3.9.2.2 notes that implementations keep such connections, as Linux does
  // ("rfc1122 4.2.3.9 allows to consider as hard errors only PROTO_UNREACH and PORT_UNREACH"
  // — and a forged one could otherwise reset any connection, RFC 5927 §5.2).
  tcb.softError = cls.error;
  tcb.user?.onSoftError?.(cls.error);
}

/**
 * RFC 1191 §6.4: a Datagram Too Big lowers the PMTU; the send MSS follows (Tcb.updateEffMss;
 * the MSS we announce does not change, §6.4 last paragraph). The dropped segments are sent
 * again at once in segments of the new size (§6.2 "should be notified that its datagram has
 * been dropped … so that it may retransmit"), without touching the congestion window, whose
 * size in segments cc.setMss keeps (RFC 5681 §3.1). Only a decrease of the PMTU in use counts:
 * the other messages of the same burst change and retransmit nothing (§6.4 Note).
 */
function pathMtuReduced(tcb: Tcb, nextHopMtu: number): void {
  let mtu = nextHopMtu;
  if (mtu < MIN_PMTU) {
    mtu = Math.min(tcb.pmtu, MIN_PMTU);
    // Linux tcp_v4_mtu_reduced: segments that still do not fit may never get through; remember
    // the reason in case the connection times out.
    if (nextHopMtu < mtu) tcb.softError = 'EMSGSIZE';
  }
  if (mtu >= tcb.pmtu) return;
  tcb.pmtu = mtu;
  const before = tcb.effMss;
  tcb.updateEffMss();
  if (!isSynchronized(tcb.state) || tcb.effMss >= before || tcb.sndUna === tcb.sndMax) return;
  // Loss recovery already resends what is missing (in segments of the new size).
  if (tcb.inRecovery) return;
  // Go back N from SND.UNA (FreeBSD tcp_mtudisc); the cwnd allows as many segments as before.
  tcb.sndNxt = tcb.sndUna;
  // RFC 6582 §3.2 "recover": duplicate ACKs caused by these resends start no fast retransmit.
  tcb.recover = tcb.sndMax;
}

function drop(tcb: Tcb, reason: string): void {
  const tr = tcb.host.tracer;
  if (tr !== null) tr({ type: 'drop', t: tcb.now, host: tcb.host.traceHost, conn: tcb.connId, reason });
}
