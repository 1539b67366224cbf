// The congestion controller interface (gVisor-style: tcp/cubic.go, tcp/reno.go implement
// congestionControl {HandleLossDetected, HandleRTOExpired, Update, PostRecovery}).
//
// Split of responsibilities: the controller owns cwnd growth and ssthresh; loss *recovery*
// (fast retransmit, NewReno partial ACKs RFC 6582, SACK pipe RFC 6675, PRR RFC 6937, RACK)
// belongs to the engine, which may write `cwnd` directly while in recovery and calls
// onRecoveryExit() at the end. onAck() is only called for ACKs of new data outside recovery.

import type { Duration, Instant } from '../../time/instant.js';

export interface CongestionControl {
  /** 'newreno' | 'cubic' */
  readonly name: string;
  /** Congestion window in bytes. The engine's recovery algorithm may assign it. */
  cwnd: number;
  /** Slow start threshold in bytes; SSTHRESH_INITIAL until the first congestion event. */
  ssthresh: number;
  /** Sender maximum segment size (SMSS) in bytes. */
  readonly mss: number;
  /**
   * SMSS changed. Before any data has been sent or acknowledged this re-derives IW
   * (RFC 6928); afterwards cwnd keeps its size in segments when the MSS shrinks
   * (RFC 5681 §3.1, PMTUD) and its size in bytes when it grows.
   */
  setMss(mss: number): void;
  /**
   * `acked` bytes of new data were cumulatively acknowledged outside loss recovery.
   * Slow start with ABC (RFC 3465, L = 2*SMSS) or congestion avoidance.
   * `rtt` is this ACK's RTT sample if one was taken, `inFlight` the FlightSize.
   */
  onAck(acked: number, now: Instant, rtt: Duration | null, inFlight: number): void;
  /**
   * Fast retransmit / SACK loss detection: entering recovery. Sets ssthresh
   * (RFC 5681 §3.2 step 2, eq. 4 for Reno; RFC 9438 §4.6 for CUBIC). cwnd is left alone;
   * the engine's recovery algorithm sets it.
   */
  onLossDetected(inFlight: number, now: Instant): void;
  /** Recovery finished (full ACK): deflate, cwnd = ssthresh (RFC 6582 §3.2 step 3). */
  onRecoveryExit(now: Instant): void;
  /** Retransmission timeout: ssthresh per RFC 5681 §3.1 eq. 4, cwnd = LW = 1 SMSS. */
  onRto(inFlight: number, now: Instant): void;
  /**
   * About to send after a period with nothing in flight. `lastSendAt` is when data was last
   * sent. RFC 5681 §4.1: if idle longer than `rto`, cwnd = min(cwnd, RW), RW = min(IW, cwnd).
   */
  onIdleRestart(now: Instant, rto: Duration, lastSendAt: Instant): void;
  /** Optional: `bytes` were just sent; `inFlight` includes them. */
  onSend?(bytes: number, now: Instant, inFlight: number): void;
}

export type CcFactory = (mss: number) => CongestionControl;

/** "Arbitrarily high" initial ssthresh (RFC 5681 §3.1); Linux TCP_INFINITE_SSTHRESH. */
export const SSTHRESH_INITIAL = 0x7fffffff;

/** RFC 3465 §2.2: during slow start cwnd grows by at most L = 2*SMSS per ACK. */
export const ABC_LIMIT_SEGMENTS = 2;

/** RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}
