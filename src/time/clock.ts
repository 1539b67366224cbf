// Clocks. The stack never reads time itself: a driver asks a Clock and passes `now` in
// (DESIGN.md "Time"). ManualClock serves simulation and tests; RealtimeClock is the only
// place under src/ (with realtime.ts) allowed to read performance.now().

import type { Duration, Instant } from './instant.js';

export interface Clock {
  now(): Instant;
}

/** Virtual time moved only by its owner. Time never goes back, and stays integer µs. */
export class ManualClock implements Clock {
  private t: Instant;

  constructor(start: Instant = 0) {
    if (!Number.isSafeInteger(start)) {
      throw new RangeError(`ManualClock: start must be an integer number of µs, got ${start}`);
    }
    this.t = start;
  }

  now(): Instant {
    return this.t;
  }

  /** Jump to t. Throws RangeError if t is before now (or not an integer µs). */
  set(t: Instant): void {
    if (!Number.isSafeInteger(t)) {
      throw new RangeError(`ManualClock.set: time must be an integer number of µs, got ${t}`);
    }
    if (t < this.t) {
      throw new RangeError(`ManualClock.set: time never goes back (now ${this.t}, asked ${t})`);
    }
    this.t = t;
  }

  /** Move forward by d ≥ 0 µs. */
  advance(d: Duration): void {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`ManualClock.advance: need a non-negative integer µs, got ${d}`);
    }
    this.set(this.t + d);
  }
}

/**
 * Integer µs since construction, from globalThis.performance.now() (monotonic; exists in
 * browsers and Node ≥ 16). `source` (milliseconds, like performance.now) may be injected
 * for tests. The result is floored and clamped so it never decreases.
 */
export class RealtimeClock implements Clock {
  private readonly source: () => number;
  private readonly origin: number;
  private last: Instant = 0;

  constructor(source?: () => number) {
    if (source) {
      this.source = source;
    } else {
      const perf = globalThis.performance;
      this.source = () => perf.now();
    }
    this.origin = this.source();
  }

  now(): Instant {
    const t = Math.floor((this.source() - this.origin) * 1000);
    if (t > this.last) this.last = t;
    return this.last;
  }
}
