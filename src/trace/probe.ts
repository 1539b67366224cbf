// A probe: one snapshot of a connection's protocol variables, named as in RFC 9293 §3.3.1
// (send and receive sequence space), RFC 6298 (srtt, rttvar, rto) and RFC 5681 (cwnd,
// ssthresh). Sequence numbers are absolute; times are integer microseconds.
import type { Instant, Duration } from '../time/instant.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/types.js';
import { seqDiff } from '../tcp/seq.js';
import { formatConnId } from './conn.js';

export interface Probe {
  /** Virtual time of the connection's latest event. */
  t: Instant;
  /** "local:port-peer:port". */
  conn: string;
  state: TcpState;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  /** Highest sequence number sent + 1. */
  sndMax: number;
  /** The peer's window, scaled (bytes). */
  sndWnd: number;
  rcvNxt: number;
  /** The window we last advertised, from RCV.NXT (bytes). */
  rcvWnd: number;
  /** Congestion window and slow-start threshold in bytes (ssthresh 0x7fffffff = not yet set). */
  cwnd: number;
  ssthresh: number;
  /** Effective send MSS. */
  mss: number;
  srtt: Duration;
  rttvar: Duration;
  rto: Duration;
  /** SND.NXT − SND.UNA. */
  bytesInFlight: number;
  /** Segments retransmitted over the connection's life. */
  retransmissions: number;
  /** Consecutive retransmission timeouts without progress (the backoff exponent). */
  backoff: number;
  inRecovery: boolean;
  /** Loss recovery in use: RFC 6675 SACK-based when SACK was negotiated, else NewReno (RFC 6582). */
  recovery: 'sack' | 'newreno';
  /** Octets the peer has SACKed above SND.UNA (the scoreboard, RFC 6675 §3). */
  sacked: number;
  /** RFC 6675 pipe: the sender's estimate of octets in the network (in flight minus SACKed; SetPipe() in SACK recovery). */
  pipe: number;
  dupAcks: number;
  /** Bytes the user has not read yet / written and not yet acknowledged. */
  recvQ: number;
  sendQ: number;
  congestionControl: string;
}

export function probe(tcb: Tcb): Probe {
  return {
    t: tcb.now,
    conn: formatConnId(tcb.connId),
    state: tcb.state,
    iss: tcb.iss, irs: tcb.irs,
    sndUna: tcb.sndUna, sndNxt: tcb.sndNxt, sndMax: tcb.sndMax, sndWnd: tcb.sndWnd,
    rcvNxt: tcb.rcvNxt, rcvWnd: Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt)),
    cwnd: tcb.cc.cwnd, ssthresh: tcb.cc.ssthresh, mss: tcb.effMss,
    srtt: tcb.rtt.srtt, rttvar: tcb.rtt.rttvar, rto: tcb.rtt.rto,
    bytesInFlight: tcb.inFlight,
    retransmissions: tcb.retransmittedSegs,
    backoff: tcb.retransmits,
    inRecovery: tcb.inRecovery,
    recovery: tcb.sackOk ? 'sack' : 'newreno',
    sacked: tcb.scoreboard.sackedBytes,
    pipe: !tcb.sackOk ? tcb.inFlight : tcb.inRecovery ? tcb.scoreboard.pipe : tcb.inFlight - tcb.scoreboard.sackedBetween(tcb.sndUna, tcb.sndNxt),
    dupAcks: tcb.dupAcks,
    recvQ: tcb.rcvBuf.readable,
    sendQ: tcb.sndBuf.length,
    congestionControl: tcb.cc.name,
  };
}
