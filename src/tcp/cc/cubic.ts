// CUBIC congestion control, RFC 9438 (Linux: net/ipv4/tcp_cubic.c; gVisor: tcp/cubic.go).
//
// cwnd/ssthresh are bytes (the interface), but the RFC's window math is done in segments
// (floating point) and its times in seconds, converting at the edges (RFC 9438 §4.1).
// Slow start is Reno's with ABC (RFC 9438 §4.10 allows it; HyStart++ is not implemented).

import type { Duration, Instant } from '../../time/instant.js';
import { AbstractCc } from './newreno.js';

export interface CubicOptions {
  /** RFC 9438 §4.7: SHOULD be on; SHOULD be off for a single flow alone on a path. Default on (as Linux). */
  fastConvergence?: boolean;
  /** C, segments/s^3 (RFC 9438 §5: 0.4). */
  c?: number;
  /** beta_cubic (RFC 9438 §4.6: 0.7). */
  beta?: number;
}

export type CubicRegion = 'slow-start' | 'reno-friendly' | 'concave' | 'convex';

const US_PER_S = 1_000_000;

/** The constants of one CUBIC configuration, shared by every controller that uses it (heap per connection; issue 16). */
interface CubicParams {
  readonly c: number;
  readonly beta: number;
  readonly fastConvergence: boolean;
  readonly alphaCubic: number;
}

function cubicParams(c: number, beta: number, fastConvergence: boolean): CubicParams {
  return Object.freeze({ c, beta, fastConvergence, alphaCubic: (3 * (1 - beta)) / (1 + beta) });
}

/** RFC 9438 §5 defaults: C = 0.4, beta_cubic = 0.7, fast convergence on. */
const DEFAULT_PARAMS = cubicParams(0.4, 0.7, true);

export class Cubic extends AbstractCc {
  /**
   * The configuration: one shared object per controller instead of four fields (three of
   * them boxed doubles) in each — about 80 bytes per connection (issue 16).
   */
  private readonly params: CubicParams;
  get name(): 'cubic' { return 'cubic'; }
  get c(): number { return this.params.c; }
  get beta(): number { return this.params.beta; }
  get fastConvergence(): boolean { return this.params.fastConvergence; }
  /** RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta) (≈ 0.529 for beta 0.7). */
  get alphaCubic(): number { return this.params.alphaCubic; }

  // RFC 9438 §4.1.2 variables; windows in segments, K in seconds.
  /** W_max; 0 means "undefined" (before the first loss, and after an RTO, §4.8). */
  wMax = 0;
  /** cwnd_prior: cwnd when ssthresh was last set; 0 until then. */
  cwndPrior = 0;
  /** K, seconds. */
  k = 0;
  /** t_epoch (µs), or null when no congestion avoidance stage is running. */
  tEpoch: Instant | null = null;
  /** cwnd_epoch. */
  cwndEpoch = 0;
  /** W_est, the Reno-friendly estimate. */
  wEst = 0;
  /** Region used by the last onAck (for traces and tests). */
  region: CubicRegion = 'slow-start';
  /** Smoothed RTT (µs) from the `rtt` samples given to onAck (RFC 6298 weights); null before any. */
  srtt: Duration | null = null;
  /** Minimum and latest RTT samples seen (µs). */
  minRtt: Duration | null = null;
  lastRtt: Duration | null = null;

  /** Fractional bytes of cwnd growth not yet applied (cwnd stays an integer). */
  private carry = 0;

  constructor(mss: number, opts: CubicOptions = {}) {
    super(mss);
    const c = opts.c ?? 0.4, beta = opts.beta ?? 0.7, fc = opts.fastConvergence ?? true;
    this.params = c === DEFAULT_PARAMS.c && beta === DEFAULT_PARAMS.beta && fc === DEFAULT_PARAMS.fastConvergence
      ? DEFAULT_PARAMS : cubicParams(c, beta, fc);
  }

  /** W_cubic(t) = C*(t-K)^3 + W_max, t in seconds since t_epoch (RFC 9438 §4.2 Figure 1). */
  wCubic(tSeconds: number): number {
    const d = tSeconds - this.k;
    return this.c * d * d * d + this.wMax;
  }

  onAck(acked: number, now: Instant, rtt: Duration | null, _inFlight: number): void {
    this.started = true;
    this.rtoStreak = false;
    if (rtt !== null && Number.isFinite(rtt) && rtt >= 0) this.noteRtt(rtt);
    if (!(acked > 0)) return;
    let rest = acked;
    if (this.inSlowStart) {
      this.region = 'slow-start';
      rest = this.slowStart(acked);
      if (rest === 0) return;
    }
    this.congestionAvoidance(rest, now);
  }

  private congestionAvoidance(acked: number, now: Instant): void {
    const mss = this.mss;
    if (this.tEpoch === null) this.startEpoch(now);
    // The engine may have written cwnd; never divide by a window below one segment.
    const cwnd = Math.max(this.cwnd, mss) / mss;
    const segmentsAcked = acked / mss;
    const t = (now - (this.tEpoch as number)) / US_PER_S;

    // RFC 9438 §4.3 Figure 4: W_est += alpha * segments_acked / cwnd; alpha becomes 1 once
    // W_est has reached cwnd_prior (Reno's AIMD(1, 0.5) rate).
    const alpha = this.wEst >= this.cwndPrior ? 1 : this.alphaCubic;
    this.wEst += (alpha * segmentsAcked) / cwnd;

    if (this.wCubic(t) < this.wEst) {
      // Reno-friendly region (§4.3): cwnd SHOULD be set to W_est. Never shrink on an ACK
      // (Linux applies W_est only when it exceeds cwnd, tcp_cubic.c bictcp_update).
      this.region = 'reno-friendly';
      const estBytes = Math.floor(this.wEst * mss);
      if (estBytes > this.cwnd) {
        this.cwnd = estBytes;
        this.carry = 0;
      }
      return;
    }

    // §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5*cwnd].
    this.region = cwnd < this.wMax ? 'concave' : 'convex';
    const rttS = (this.srtt ?? 0) / US_PER_S;
    const target = Math.min(Math.max(this.wCubic(t + rttS), cwnd), 1.5 * cwnd);
    // §4.4 / §4.5: cwnd += (target - cwnd) / cwnd per ACK of one segment; scaled by the
    // segments this ACK covers so delayed ACKs do not halve growth (Linux: cnt per acked pkt).
    this.carry += ((target - cwnd) / cwnd) * segmentsAcked * mss;
    const whole = Math.floor(this.carry);
    if (whole > 0) {
      this.cwnd += whole;
      this.carry -= whole;
    }
  }

  /** Start a congestion avoidance stage (RFC 9438 §4.2, §4.8, §4.10). */
  private startEpoch(now: Instant): void {
    this.tEpoch = now;
    this.cwndEpoch = this.cwnd / this.mss;
    if (this.cwndPrior === 0) this.cwndPrior = this.cwndEpoch; // §4.10: exit slow start w/o loss
    if (this.wMax <= this.cwndEpoch) {
      // W_max undefined (after an RTO §4.8, or no loss yet §4.10) or already below cwnd:
      // K = 0 and W_max = cwnd_epoch. Figure 2 would give a negative K here; Linux
      // (bictcp_update) uses K = 0 with origin = cwnd, as do we.
      this.k = 0;
      this.wMax = this.cwndEpoch;
    } else {
      // §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch) / C).
      this.k = Math.cbrt((this.wMax - this.cwndEpoch) / this.c);
    }
    this.wEst = this.cwndEpoch; // §4.3
    this.carry = 0;
  }

  onLossDetected(inFlight: number, _now: Instant): void {
    this.started = true;
    this.rtoStreak = false;
    const cwnd = this.cwnd / this.mss;
    // §4.7 fast convergence, applied to W_max before the reduction.
    this.wMax = this.fastConvergence && cwnd < this.wMax ? (cwnd * (1 + this.beta)) / 2 : cwnd;
    // §4.6 Figure 5. cwnd itself is set by the engine's recovery (e.g. ssthresh, or PRR).
    this.cwndPrior = cwnd;
    this.ssthresh = this.ssthreshAfterLoss(inFlight);
    this.tEpoch = null;
    this.carry = 0;
  }

  override onRto(inFlight: number, now: Instant): void {
    // §4.8: Reno's timeout response (cwnd = 1 SMSS) with ssthresh from beta_cubic; the next
    // congestion avoidance stage uses K = 0 and W_max = cwnd_epoch (Linux bictcp_reset on
    // TCP_CA_Loss zeroes last_max_cwnd). A repeated RTO holds everything (RFC 5681 §3.1).
    if (!this.rtoStreak) {
      this.cwndPrior = this.cwnd / this.mss;
      this.wMax = 0;
    }
    super.onRto(inFlight, now);
  }

  override onIdleRestart(now: Instant, rto: Duration, lastSendAt: Instant): void {
    // RFC 9438 §5.8: t must not include idle periods. Linux (cubictcp_cwnd_event,
    // CA_EVENT_TX_START) shifts t_epoch forward by the idle time.
    // An idle period longer than the RTO instead ends the stage (RFC 5681 §4.1 restart; the
    // base class calls resetAccounting, which clears t_epoch).
    const idle = now - lastSendAt;
    if (this.tEpoch !== null && idle > 0) this.tEpoch += idle;
    super.onIdleRestart(now, rto, lastSendAt);
  }

  /** RFC 9438 §4.6 Figure 5: ssthresh = max(flight_size * beta_cubic, 2 SMSS). */
  protected override ssthreshAfterLoss(inFlight: number): number {
    // The epsilon absorbs 0.7's binary inexactness (1460000 * 0.7 = 1021999.9999999999).
    return Math.max(Math.floor(Math.max(0, inFlight) * this.beta + 1e-6), 2 * this.mss);
  }

  protected override resetAccounting(_now: Instant): void {
    this.tEpoch = null;
    this.carry = 0;
  }

  protected override onMssChanged(old: number, next: number): void {
    // Windows in segments: a shrink keeps cwnd's segment count (see AbstractCc.setMss), so the
    // segment-valued state stays; a growth keeps bytes, so convert.
    if (next > old) {
      const f = old / next;
      this.wMax *= f;
      this.cwndPrior *= f;
    }
    this.tEpoch = null;
    this.carry = 0;
  }

  private noteRtt(rtt: Duration): void {
    this.lastRtt = rtt;
    this.minRtt = this.minRtt === null ? rtt : Math.min(this.minRtt, rtt);
    // RFC 9438 §4.1.2: RTT is the smoothed RTT of RFC 6298 (alpha = 1/8).
    this.srtt = this.srtt === null ? rtt : this.srtt + (rtt - this.srtt) / 8;
  }
}

export function cubic(mss: number): Cubic {
  return new Cubic(mss);
}
