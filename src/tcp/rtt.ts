// RTT estimation and the retransmission timeout (RFC 6298).
//
// All times are integer microseconds. SRTT and RTTVAR are kept unrounded internally and read
// back rounded to integer µs: rounding after every update would create fixed points (RTTVAR
// would stick at 2 µs: round(3*2/4) = 2) instead of the RFC's exact exponential averages.
//
// RTO formula: RFC 6298 §2 says RTO = SRTT + max(G, K*RTTVAR) with K = 4, then (§2.4) a lower
// bound and (§2.5) an upper bound. We clamp to [minRto, maxRto] (Linux-like 200 ms .. 120 s
// rather than the RFC's 1 s floor).
// Linux difference (tcp_set_rto / tcp_rtt_estimator): Linux computes rto = srtt + rttvar where
// its rttvar is the max of 4*mdev over the last RTT and tcp_rto_min, i.e. effectively
// rto = srtt + max(4*mdev, tcp_rto_min). So on a low-jitter path Linux's RTO is roughly
// SRTT + 200 ms, whereas ours is max(200 ms, SRTT + 4*RTTVAR) — smaller on paths whose RTT is
// well above 200 ms and nearly constant. We keep the RFC formula; a caller wanting Linux's
// behaviour can raise minRto.

import type { Duration } from '../time/instant.js';

export interface RttConfig {
  /** RFC 6298 §2.1: RTO before any sample (1 s). */
  initialRto: Duration;
  /** Lower clamp (RFC 6298 §2.4 says 1 s; Linux TCP_RTO_MIN is 200 ms). */
  minRto: Duration;
  /** Upper clamp, at least 60 s (RFC 6298 §2.5; Linux TCP_RTO_MAX is 120 s). */
  maxRto: Duration;
  /** Clock granularity G (RFC 6298 §4); default 1 ms. */
  granularity?: Duration;
  /**
   * RFC 6298 §5.7: if the SYN (or SYN-ACK) timed out and the RTO in use is below 3 s, the RTO is
   * re-initialised to this value (3 s) when data transfer begins. Applied by `reset(true)`.
   */
  rtoAfterSynTimeout?: Duration;
}

/** RFC 6298 §2.2 / §2.3 constants. */
const K = 4;
const DEFAULT_GRANULARITY: Duration = 1000; // 1 ms

export class RttEstimator {
  private srttF = 0;
  private rttvarF = 0;
  /** Whether at least one RTT sample has been taken since construction / reset(). */
  hasSample = false;
  /** Number of consecutive backoffs (RFC 6298 §5.5) since the last resetBackoff(). */
  backoffCount = 0;
  /** Most recent raw sample (µs), or null. Useful to RACK (RFC 8985) and CUBIC. */
  latestRtt: Duration | null = null;
  /** Smallest raw sample seen since construction / reset() (µs), or null. */
  minRtt: Duration | null = null;

  private readonly cfg: Required<Omit<RttConfig, 'rtoAfterSynTimeout'>> & { rtoAfterSynTimeout?: Duration };
  /** RTO used while there is no sample (initialRto, or 3 s after a SYN timeout, §5.7). */
  private noSampleRto: Duration;

  constructor(cfg: RttConfig) {
    // A complete configuration is used as given (and may be shared by every connection of a
    // stack: one object instead of one per connection; issue 16). It is never modified.
    this.cfg = cfg.granularity !== undefined ? cfg as RttEstimator['cfg'] : {
      initialRto: cfg.initialRto,
      minRto: cfg.minRto,
      maxRto: cfg.maxRto,
      granularity: DEFAULT_GRANULARITY,
      rtoAfterSynTimeout: cfg.rtoAfterSynTimeout,
    };
    this.noSampleRto = cfg.initialRto;
  }

  /** Smoothed RTT (integer µs); 0 until the first sample. */
  get srtt(): Duration {
    return Math.round(this.srttF);
  }

  /** RTT variation (integer µs); 0 until the first sample. */
  get rttvar(): Duration {
    return Math.round(this.rttvarF);
  }

  /** RTO without backoff (integer µs), clamped to [minRto, maxRto]. */
  get baseRto(): Duration {
    const raw = this.hasSample
      ? Math.round(this.srttF + Math.max(this.cfg.granularity, K * this.rttvarF)) // RFC 6298 §2.2/§2.3
      : this.noSampleRto; // RFC 6298 §2.1
    return clamp(raw, this.cfg.minRto, this.cfg.maxRto);
  }

  /** Current RTO including exponential backoff (RFC 6298 §5.5), at most maxRto. */
  get rto(): Duration {
    // 2 ** n grows to Infinity for absurd n; Math.min still yields maxRto.
    return Math.min(this.cfg.maxRto, this.baseRto * 2 ** this.backoffCount);
  }

  /**
   * Feed one RTT measurement R (µs). The caller applies Karn's algorithm (RFC 6298 §3): never
   * sample a retransmitted segment unless the sample comes from a timestamp echo. Does not
   * touch the backoff; call resetBackoff() when new data is acknowledged.
   */
  sample(r: Duration): void {
    if (!Number.isFinite(r)) return;
    const rtt = Math.max(0, Math.round(r));
    this.latestRtt = rtt;
    this.minRtt = this.minRtt === null ? rtt : Math.min(this.minRtt, rtt);
    if (!this.hasSample) {
      // RFC 6298 §2.2: first measurement.
      this.srttF = rtt;
      this.rttvarF = rtt / 2;
      this.hasSample = true;
      return;
    }
    // RFC 6298 §2.3, alpha = 1/8, beta = 1/4. RTTVAR first, using the old SRTT.
    this.rttvarF = (3 * this.rttvarF + Math.abs(this.srttF - rtt)) / 4;
    this.srttF = (7 * this.srttF + rtt) / 8;
  }

  /** RFC 6298 §5.5: the retransmission timer expired, RTO <- RTO * 2 (capped at maxRto). */
  backoff(): void {
    this.backoffCount++;
  }

  /**
   * Undo the backoff. RFC 6298 §5 (note after 5.7): once new data is acknowledged and a fresh
   * RTT measurement is taken, the RTO is recomputed from SRTT/RTTVAR, collapsing the backoff.
   * The caller does so only with a sample (Karn): an ACK of retransmitted data keeps it
   * (Linux tcp_ack_update_rtt: "only reset backoff on valid RTT measurement").
   */
  resetBackoff(): void {
    this.backoffCount = 0;
  }

  /**
   * Forget all samples and the backoff (RFC 6298 §5: "MAY clear SRTT and RTTVAR after backing
   * off the timer multiple times"). With `afterSynTimeout` and a configured
   * `rtoAfterSynTimeout`, the no-sample RTO becomes max(initialRto, rtoAfterSynTimeout)
   * (RFC 6298 §5.7: 3 s once data transmission begins after a SYN timeout).
   */
  reset(afterSynTimeout = false): void {
    this.srttF = 0;
    this.rttvarF = 0;
    this.hasSample = false;
    this.backoffCount = 0;
    this.latestRtt = null;
    this.minRtt = null;
    const syn = this.cfg.rtoAfterSynTimeout;
    this.noSampleRto =
      afterSynTimeout && syn !== undefined ? Math.max(this.cfg.initialRto, syn) : this.cfg.initialRto;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
