// Rate limiters for replies an attacker can provoke, in integer µs time with no timers.
//
// RFC 5961 §7 (ACK throttling): challenge ACKs (§3.2 RST, §4.2 SYN, §5.2 ACK) SHOULD be limited
// to a tunable number per interval; "no timer is needed ... a timestamp and a counter can be
// used". Linux: net.ipv4.tcp_challenge_ack_limit (1000 per second, once global and then per
// netns; Linux 6.0 made the default INT_MAX, i.e. off, because a shared deterministic counter is
// an off-path side channel, CVE-2016-5696 — callers should keep RateLimiter instances per socket
// or randomise the limit if they share one), plus the per-socket net.ipv4.tcp_invalid_ratelimit
// (500 ms) for duplicate ACKs answering out-of-window segments (tcp_oow_rate_limited) — that one
// is IntervalLimiter.
import type { Duration, Instant } from '../time/instant.js';

const MICROS_PER_SECOND = 1_000_000;

/**
 * Token bucket: holds up to `burst` tokens, refills at `perSecond` tokens per second, and each
 * allowed event takes one. Starts full. Credit is counted in token-µs-per-second units (one token
 * = 1e6 units, perSecond units added per µs), so with an integer `perSecond` all arithmetic is
 * exact integer arithmetic on µs timestamps: no drift, no rounding, whatever the call pattern.
 * `perSecond = Infinity` means unlimited; `perSecond = 0` means only the initial burst.
 */
export class RateLimiter {
  readonly perSecond: number;
  readonly burst: number;
  private readonly capacity: number; // burst * 1e6 units
  private credit: number;
  private last: Instant | null = null;

  constructor(perSecond: number, burst: number = perSecond) {
    if (!(perSecond >= 0) || !(burst >= 0)) {
      throw new RangeError(`RateLimiter: perSecond and burst must be >= 0 (got ${perSecond}, ${burst})`);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.capacity = Math.floor(burst) * MICROS_PER_SECOND;
    this.credit = this.capacity;
  }

  /** Consumes one token if one is available at `now` (integer µs) and says whether it did. */
  allow(now: Instant): boolean {
    if (this.perSecond === Infinity) return true;
    this.refill(now);
    if (this.credit >= MICROS_PER_SECOND) {
      this.credit -= MICROS_PER_SECOND;
      return true;
    }
    return false;
  }

  /** Whole tokens available at `now`, without consuming any (for stats and tests). */
  available(now: Instant): number {
    if (this.perSecond === Infinity) return Infinity;
    this.refill(now);
    return Math.floor(this.credit / MICROS_PER_SECOND);
  }

  private refill(now: Instant): void {
    if (this.last === null) {
      this.last = now;
      return;
    }
    const elapsed = now - this.last;
    // Time never runs backwards in our clocks; if it appears to, add nothing and keep the later
    // timestamp so a glitch cannot mint tokens.
    if (elapsed <= 0) return;
    this.last = now;
    const missing = this.capacity - this.credit;
    if (missing <= 0 || this.perSecond === 0) return;
    // Compare before multiplying: after a long idle gap elapsed * perSecond could pass 2^53.
    // The +1 margin absorbs rounding in the division; below it the product is small and exact.
    if (elapsed > missing / this.perSecond + 1) this.credit = this.capacity;
    else this.credit = Math.min(this.capacity, this.credit + elapsed * this.perSecond);
  }
}

/**
 * At most one event per `interval` µs (Linux tcp_oow_rate_limited with tcp_invalid_ratelimit =
 * 500 ms, per socket). The first event is always allowed; an event is allowed again once
 * `interval` has fully elapsed since the last allowed one. As in Linux, an apparently negative
 * elapsed time (clock glitch) allows the event and resets the reference point.
 */
export class IntervalLimiter {
  readonly interval: Duration;
  private last: Instant | null = null;

  constructor(interval: Duration) {
    if (!(interval >= 0)) throw new RangeError(`IntervalLimiter: interval must be >= 0 (got ${interval})`);
    this.interval = interval;
  }

  /** When the last event was allowed (null: never); a compacted TIME-WAIT keeps it (tcp/timewait.ts). */
  get lastAllowed(): Instant | null { return this.last; }
  set lastAllowed(v: Instant | null) { this.last = v; }

  allow(now: Instant): boolean {
    if (this.last !== null) {
      const elapsed = now - this.last;
      if (elapsed >= 0 && elapsed < this.interval) return false;
    }
    this.last = now;
    return true;
  }
}

/**
 * The stack-wide challenge-ACK budget of RFC 5961 §7, made unobservable as Linux does since
 * CVE-2016-5696 ("Off-Path TCP Exploits", Cao et al. 2016): with one deterministic counter
 * shared by every connection, a blind attacker who provokes challenge ACKs on its own
 * connection and counts them learns whether its spoofed segments made another connection
 * spend budget — whether that connection exists and whether a guessed sequence number is in
 * its window. As Linux tcp_send_challenge_ack: every second the budget is redrawn uniformly
 * from [limit/2, limit + limit/2 − 1], so the count an attacker sees carries no signal; and
 * each connection is first limited on its own (IntervalLimiter, tcp_invalid_ratelimit), so
 * one connection cannot drain the shared budget. A limit of 2^31−1 (Linux's INT_MAX) or more
 * means no stack-wide limit.
 */
export class ChallengeAckBudget {
  private second = -1;
  private count = 0;

  /** `limit()`: the current per-second limit (a sysctl may change it). `random(n)`: n random bytes. */
  constructor(private readonly limit: () => number, private readonly random: (n: number) => Uint8Array) {}

  allow(now: Instant): boolean {
    const limit = Math.floor(this.limit());
    if (limit >= 0x7fffffff) return true;
    const second = Math.floor(now / MICROS_PER_SECOND);
    if (second !== this.second) {
      this.second = second;
      const half = (limit + 1) >>> 1;
      const b = this.random(4);
      const r = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      // Uniform in [half, limit + half − 1] (Linux get_random_u32_inclusive); 0 when limit is 0.
      this.count = limit <= 0 ? 0 : half + (r % limit);
    }
    if (this.count <= 0) return false;
    this.count--;
    return true;
  }
}
