// The realtime driver (DESIGN.md "Time"): the stack is sans-I/O and only answers "when do I
// next need attention?"; this driver keeps exactly one host timer armed for the earliest of
// those deadlines and calls poll(now) when it fires. Its twin, the simulation driver, jumps
// virtual time instead. This file (with clock.ts) is the only place under src/time allowed to
// touch setTimeout / performance.now.

import { RealtimeClock } from './clock.js';
import { MS, NEVER, type Instant } from './instant.js';

export interface Pollable {
  /** The next Instant at which poll() must run; NEVER if nothing is pending. */
  nextDeadline(): Instant;
  /** Do everything due at `now` (timers, transmissions). */
  poll(now: Instant): void;
}

/** Host timer primitives; injectable so the driver's logic can be tested without waiting. */
export interface TimerApi {
  /** Run fn once after delayMs milliseconds; delayMs 0 means "as soon as possible". */
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface RealtimeDriverOptions extends Partial<TimerApi> {
  /** Called with an exception thrown by poll(); without it the first one is rethrown from
   *  the timer callback (after re-arming), which in Node is an uncaught exception. */
  onError?: (err: unknown) => void;
}

// setTimeout treats delays above 2^31-1 ms (~24.8 days) as 1 ms; clamp and re-arm on fire.
const MAX_DELAY_MS = 0x7fffffff;

interface Unrefable {
  unref?: () => unknown;
  ref?: () => unknown;
}

type HostGlobals = {
  setImmediate?: (fn: () => void) => unknown;
  clearImmediate?: (h: unknown) => void;
};

/** A default handle remembers which primitive made it, so it is cleared with the right one. */
class HostTimer implements Unrefable {
  constructor(readonly immediate: boolean, readonly h: unknown) {}
  unref(): void {
    (this.h as Unrefable | null)?.unref?.();
  }
  ref(): void {
    (this.h as Unrefable | null)?.ref?.();
  }
}

function hostTimerApi(): TimerApi {
  const g = globalThis as unknown as HostGlobals;
  return {
    setTimer(fn, delayMs) {
      // A deadline already due goes through setImmediate (Node) so I/O callbacks still get a
      // turn between polls; browsers lack it and get setTimeout(0).
      if (delayMs <= 0 && typeof g.setImmediate === 'function') return new HostTimer(true, g.setImmediate(fn));
      return new HostTimer(false, setTimeout(fn, delayMs));
    },
    clearTimer(handle) {
      const t = handle as HostTimer;
      if (t.immediate) g.clearImmediate?.(t.h);
      else clearTimeout(t.h as Parameters<typeof clearTimeout>[0]);
    },
  };
}

export class RealtimeDriver {
  readonly clock: RealtimeClock;
  private readonly setTimer: TimerApi['setTimer'];
  private readonly clearTimer: TimerApi['clearTimer'];
  private readonly onError: ((err: unknown) => void) | undefined;
  private readonly pollables = new Set<Pollable>();
  private handle: unknown = undefined;
  private armed = false;
  private armedAt: Instant = NEVER;
  private stopped = false;
  private firing = false;
  private unrefd = false;
  private readonly onFire = (): void => this.fire();

  constructor(clock?: RealtimeClock, options: RealtimeDriverOptions = {}) {
    this.clock = clock ?? new RealtimeClock();
    if (!options.setTimer !== !options.clearTimer) {
      throw new TypeError('RealtimeDriver: give both setTimer and clearTimer, or neither');
    }
    const api = options.setTimer && options.clearTimer
      ? { setTimer: options.setTimer, clearTimer: options.clearTimer }
      : hostTimerApi();
    this.setTimer = api.setTimer;
    this.clearTimer = api.clearTimer;
    this.onError = options.onError;
  }

  /** The deadline the armed timer was set for, or NEVER when none is armed. */
  get armedDeadline(): Instant {
    return this.armed ? this.armedAt : NEVER;
  }

  add(p: Pollable): void {
    this.pollables.add(p);
    this.kick();
  }

  remove(p: Pollable): void {
    this.pollables.delete(p);
    this.kick();
  }

  /**
   * Something changed (a send, an arrival, a new timer): recompute the head deadline and
   * make sure the one timer fires no later than it. An already armed *earlier* timer is kept
   * — it fires, finds nothing due and re-arms — so re-arming the RTO on every ACK (which only
   * moves the deadline later) costs no clearTimeout/setTimeout pair. With no deadline at all
   * the timer is cleared so Node can exit. Kicks from inside poll() are folded into the
   * re-arm that follows the poll round.
   */
  kick(): void {
    if (this.stopped || this.firing) return;
    this.arm(this.headDeadline());
  }

  /** Disarm and ignore kicks until start(). */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  /** Undo stop(). */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Don't let the armed timer (now or later ones) keep a Node process alive. */
  unref(): void {
    this.unrefd = true;
    if (this.armed) (this.handle as Unrefable | null)?.unref?.();
  }

  /** Undo unref(). */
  ref(): void {
    this.unrefd = false;
    if (this.armed) (this.handle as Unrefable | null)?.ref?.();
  }

  /** min(nextDeadline) over all pollables; NEVER if none. */
  headDeadline(): Instant {
    let min = NEVER;
    for (const p of this.pollables) {
      const d = p.nextDeadline();
      if (d < min) min = d;
    }
    return min;
  }

  private arm(head: Instant): void {
    if (!(head < NEVER)) {
      this.disarm();
      return;
    }
    if (this.armed && this.armedAt <= head) return;
    this.disarm();
    const now = this.clock.now();
    // Round up: waking before the deadline would only cost another re-arm.
    const delayMs = head <= now ? 0 : Math.min(MAX_DELAY_MS, Math.ceil((head - now) / MS));
    this.handle = this.setTimer(this.onFire, delayMs);
    this.armed = true;
    this.armedAt = head;
    if (this.unrefd) (this.handle as Unrefable | null)?.unref?.();
  }

  private disarm(): void {
    if (!this.armed) return;
    const h = this.handle;
    this.armed = false;
    this.armedAt = NEVER;
    this.handle = undefined;
    this.clearTimer(h);
  }

  private fire(): void {
    this.armed = false;
    this.armedAt = NEVER;
    this.handle = undefined;
    if (this.stopped) return;
    let failed = false;
    let error: unknown;
    this.firing = true;
    try {
      const now = this.clock.now();
      // Snapshot: poll() may add or remove pollables; removed ones are skipped.
      for (const p of Array.from(this.pollables)) {
        if (!this.pollables.has(p)) continue;
        try {
          if (p.nextDeadline() <= now) p.poll(now);
        } catch (e) {
          if (this.onError) this.onError(e);
          else if (!failed) {
            failed = true;
            error = e;
          }
        }
      }
    } finally {
      this.firing = false;
    }
    if (!this.stopped) this.arm(this.headDeadline());
    if (failed) throw error;
  }
}
