// NewReno congestion control: RFC 5681 §3.1 slow start + congestion avoidance, with
// Appropriate Byte Counting (RFC 3465) and the RFC 6928 initial window. The NewReno part
// proper (partial ACKs, RFC 6582) is loss recovery and lives in the engine; this controller
// only supplies ssthresh on loss and deflates on recovery exit (gVisor: tcp/reno.go).
//
// AbstractCc holds what NewReno and CUBIC share (RFC 9438 §4.10 lets CUBIC use Reno's
// slow start; §4.8 Reno's timeout response).

import type { Duration, Instant } from '../../time/instant.js';
import { ABC_LIMIT_SEGMENTS, SSTHRESH_INITIAL, initialWindow, type CongestionControl } from './types.js';

export abstract class AbstractCc implements CongestionControl {
  abstract readonly name: string;
  cwnd: number;
  ssthresh: number = SSTHRESH_INITIAL;

  private smss: number;
  /** Set once data has been sent, acknowledged or lost: IW is then no longer re-derived. */
  protected started = false;
  /**
   * True between an RTO and the next ACK of new data. RFC 5681 §3.1: when the segment timed
   * out again after being retransmitted by the RTO, ssthresh is held constant.
   */
  protected rtoStreak = false;

  constructor(mss: number) {
    this.smss = sanitizeMss(mss);
    this.cwnd = initialWindow(this.smss);
  }

  get mss(): number {
    return this.smss;
  }

  /** Slow start is used while cwnd < ssthresh (RFC 5681 §3.1; Linux tcp_in_slow_start). */
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }

  /** The initial window for the current MSS (RFC 6928 §2). */
  get initialWindow(): number {
    return initialWindow(this.smss);
  }

  setMss(mss: number): void {
    const next = sanitizeMss(mss);
    const old = this.smss;
    if (next === old) return;
    this.smss = next;
    if (!this.started) {
      // Nothing sent yet: IW simply follows the MSS (RFC 6928 §2).
      this.cwnd = initialWindow(next);
    } else if (next < old) {
      // RFC 5681 §3.1: when PMTUD finds the MSS too large, cwnd SHOULD be reduced by the ratio
      // of the old to the new segment size, i.e. keep the window's size in segments so a
      // burst of smaller segments is no larger (Linux keeps cwnd in packets, same effect).
      this.cwnd = Math.max(next, Math.round((this.cwnd * next) / old));
      if (this.ssthresh !== SSTHRESH_INITIAL) {
        this.ssthresh = Math.max(2 * next, Math.round((this.ssthresh * next) / old));
      }
    } else {
      // MSS grew (e.g. PLPMTUD, RFC 4821): keep cwnd in bytes, which is the conservative
      // choice. (Linux differs: it keeps the packet count, so the byte window grows.)
      this.cwnd = Math.max(this.cwnd, next);
      if (this.ssthresh !== SSTHRESH_INITIAL) this.ssthresh = Math.max(this.ssthresh, 2 * next);
    }
    this.onMssChanged(old, next);
  }

  abstract onAck(acked: number, now: Instant, rtt: Duration | null, inFlight: number): void;
  abstract onLossDetected(inFlight: number, now: Instant): void;

  onRecoveryExit(now: Instant): void {
    // RFC 6582 §3.2 step 3 (full ACK), option (2): deflate, cwnd = ssthresh.
    // Guard: without a prior loss ssthresh is still "infinite"; leave cwnd alone then.
    if (this.ssthresh !== SSTHRESH_INITIAL) this.cwnd = this.ssthresh;
    this.resetAccounting(now);
  }

  onRto(inFlight: number, now: Instant): void {
    this.started = true;
    if (!this.rtoStreak) this.ssthresh = this.ssthreshAfterLoss(inFlight);
    this.rtoStreak = true;
    // RFC 5681 §3.1: cwnd = LW = 1 full-sized segment, regardless of IW.
    this.cwnd = this.smss;
    this.resetAccounting(now);
  }

  onIdleRestart(now: Instant, rto: Duration, lastSendAt: Instant): void {
    // RFC 5681 §4.1: "if the TCP has not sent data in an interval exceeding the RTO",
    // cwnd SHOULD be no more than RW = min(IW, cwnd).
    // Linux difference (tcp_cwnd_restart): it halves cwnd once per RTO of idleness, down to
    // no less than the restart window, rather than dropping straight to RW.
    if (now - lastSendAt <= rto) return;
    const rw = Math.min(initialWindow(this.smss), this.cwnd);
    if (this.cwnd > rw) {
      // RFC 2861 §3 / Linux tcp_current_ssthresh: remember 3/4 of the old window in ssthresh
      // so slow start quickly regains it; this is not a congestion response.
      this.ssthresh = Math.max(this.ssthresh, Math.floor((3 * this.cwnd) / 4));
      this.cwnd = rw;
    }
    this.resetAccounting(now);
  }

  /**
   * Slow start with ABC (RFC 5681 §3.1 eq. 2 generalised by RFC 3465 §2.2 with L = 2*SMSS):
   * cwnd += min(acked, L), not beyond ssthresh. Returns the acked bytes left over once cwnd
   * reaches ssthresh, for congestion avoidance to use (Linux tcp_slow_start does the same).
   */
  protected slowStart(acked: number): number {
    const inc = Math.min(acked, ABC_LIMIT_SEGMENTS * this.smss);
    if (this.cwnd + inc < this.ssthresh) {
      this.cwnd += inc;
      return 0;
    }
    const used = this.ssthresh - this.cwnd;
    this.cwnd = this.ssthresh;
    return Math.max(0, acked - used);
  }

  /** RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). CUBIC overrides. */
  protected ssthreshAfterLoss(inFlight: number): number {
    return Math.max(Math.floor(Math.max(0, inFlight) / 2), 2 * this.smss);
  }

  /** Hook: drop per-algorithm counters after a window change. */
  protected resetAccounting(_now: Instant): void {}

  /** Hook: the MSS changed after start-up. */
  protected onMssChanged(_old: number, _next: number): void {}
}

export class NewReno extends AbstractCc {
  readonly name = 'newreno';
  /** Congestion avoidance byte counter (RFC 5681 §3.1, RECOMMENDED method). */
  private bytesAcked = 0;

  onAck(acked: number, _now: Instant, _rtt: Duration | null, _inFlight: number): void {
    this.started = true;
    this.rtoStreak = false;
    if (!(acked > 0)) return;
    let rest = acked;
    if (this.inSlowStart) {
      rest = this.slowStart(acked);
      if (rest === 0) return;
    }
    // Congestion avoidance, byte counting: once a window's worth of bytes has been acked,
    // cwnd += SMSS. RFC 5681 §3.1: "MUST NOT increase cwnd by more than SMSS bytes" per RTT,
    // so a stretch ACK covering more than a window still grows it by one SMSS and the carry
    // is kept below the new window.
    this.bytesAcked += rest;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += this.mss;
      if (this.bytesAcked >= this.cwnd) this.bytesAcked = this.cwnd - 1;
    }
  }

  onLossDetected(inFlight: number, _now: Instant): void {
    // RFC 5681 §3.2 step 2, eq. 4. cwnd is set by the engine's recovery (RFC 6582 / 6675).
    this.started = true;
    this.rtoStreak = false;
    this.ssthresh = this.ssthreshAfterLoss(inFlight);
    this.bytesAcked = 0;
  }

  protected override resetAccounting(_now: Instant): void {
    this.bytesAcked = 0;
  }
}

export function newReno(mss: number): NewReno {
  return new NewReno(mss);
}

/** MSS must be a positive integer; anything else is clamped rather than thrown on the packet path. */
function sanitizeMss(mss: number): number {
  return Number.isFinite(mss) && mss >= 1 ? Math.floor(mss) : 1;
}
