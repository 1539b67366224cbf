// The virtual-time driver. Time never passes on its own: step() jumps the clock straight to
// the next thing that has work (an event, or a Pollable's deadline) and runs everything due at
// that instant, so a 2-hour keepalive timeout takes microseconds of real time.
// See DESIGN.md "Time": the simulation driver jumps virtual time to min(next delivery, next timer).
import type { Instant, Duration } from '../time/instant.js';
import { ManualClock } from '../time/clock.js';
import { TimerQueue } from '../time/timerqueue.js';
import type { Pollable, Scheduler } from '../link/types.js';
import { Rng } from './rng.js';

export interface RunOptions {
  /** Virtual time budget, relative to now when the run starts. */
  maxTime?: Duration;
  /** At most this many steps (each step is one virtual instant). */
  maxSteps?: number;
  /**
   * Async runs only: how many event-loop turns to wait with nothing scheduled before the
   * simulation counts as idle (JavaScript above the stack may still be about to act). Default 4.
   */
  idleYields?: number;
}

/** Steps a run may take when the caller gave no maxSteps; exceeding it is treated as a bug. */
export const DEFAULT_MAX_STEPS = 10_000_000;
/** Iterations (event batches + polls) allowed inside one virtual instant before we call it a loop. */
export const MAX_ITERATIONS_PER_INSTANT = 1_000_000;
const DEFAULT_IDLE_YIELDS = 4;

type MessageChannelCtor = new () => {
  port1: { onmessage: ((ev: unknown) => void) | null; unref?: () => void };
  port2: { postMessage(v: unknown): void; unref?: () => void };
};
let channel: InstanceType<MessageChannelCtor> | undefined;
const channelWaiters: Array<() => void> = [];

/**
 * Let the JavaScript event loop run one macrotask turn, so stream callbacks, process.nextTick
 * and promise continuations scheduled by code on top of the stack get to run. Uses
 * setImmediate where it exists (Node), else a MessageChannel message (browsers).
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as unknown as {
    setImmediate?: (fn: () => void) => unknown;
    MessageChannel?: MessageChannelCtor;
  };
  if (typeof g.setImmediate === 'function') {
    const si = g.setImmediate;
    return new Promise((resolve) => si(resolve));
  }
  if (typeof g.MessageChannel === 'function') {
    if (!channel) {
      channel = new g.MessageChannel();
      channel.port1.onmessage = () => channelWaiters.shift()?.();
    }
    const ch = channel;
    return new Promise((resolve) => {
      channelWaiters.push(resolve);
      ch.port2.postMessage(0);
    });
  }
  return Promise.resolve();
}

function tooManyIterations(now: Instant): Error {
  return new Error(
    `Simulation: more than ${MAX_ITERATIONS_PER_INSTANT} iterations at virtual instant ${now} µs ` +
      '— an event keeps rescheduling itself at the same instant, or a Pollable still reports ' +
      'a deadline <= now after poll()',
  );
}

export class Simulation implements Scheduler {
  readonly clock: ManualClock;
  readonly rng: Rng;
  readonly seed: number;

  /** Events in (time, schedule order); TimerQueue keeps unrun entries if one throws. */
  private readonly queue = new TimerQueue<() => void>();
  private pollables: Pollable[] = [];
  private inStep = false;

  constructor(opts: { seed?: number; start?: Instant } = {}) {
    this.seed = opts.seed ?? 1;
    this.rng = new Rng(this.seed);
    this.clock = new ManualClock(opts.start ?? 0);
  }

  now(): Instant {
    return this.clock.now();
  }

  /** Run fn at virtual time t (at the current instant if t is in the past). */
  at(t: Instant, fn: () => void): number {
    if (Number.isNaN(t)) throw new RangeError('Simulation.at: time is NaN');
    // Time is integer µs: a fractional instant runs at the next whole microsecond.
    return this.queue.schedule(Math.ceil(t), fn);
  }

  after(d: Duration, fn: () => void): number {
    return this.at(this.now() + d, fn);
  }

  cancel(id: number): void {
    this.queue.cancel(id);
  }

  /** Register something to poll at its deadlines (a stack, a link with its own timers). */
  add(p: Pollable): void {
    if (!this.pollables.includes(p)) this.pollables = [...this.pollables, p];
  }

  remove(p: Pollable): void {
    this.pollables = this.pollables.filter((q) => q !== p);
  }

  /** Earliest instant at which anything has work; Infinity when idle. */
  nextDeadline(): Instant {
    let d = this.queue.nextDeadline();
    const ps = this.pollables;
    for (let i = 0; i < ps.length; i++) {
      const pd = ps[i]!.nextDeadline();
      if (pd < d) d = pd;
    }
    return d;
  }

  /**
   * Jump to nextDeadline() and run every event and poll every pollable due at that instant,
   * repeating while work is due at the same instant (a delivered packet may make a stack want
   * to send right now). Returns false when idle (nothing scheduled).
   */
  step(): boolean {
    if (this.inStep) throw new Error('Simulation.step() re-entered from inside an event or poll');
    const d = this.nextDeadline();
    if (d === Infinity) return false;
    this.stepTo(d);
    return true;
  }

  /** step() to `d`, the nextDeadline() just computed (runUntil has it already: not twice per step). */
  private stepTo(d: Instant): void {
    if (this.inStep) throw new Error('Simulation.step() re-entered from inside an event or poll');
    this.inStep = true;
    try {
      // A Pollable may report a fractional deadline; time is integer µs, so round up.
      if (d > this.clock.now()) this.clock.set(Math.ceil(d));
      this.runInstant();
    } finally {
      this.inStep = false;
    }
  }

  private runInstant(): void {
    const now = this.clock.now();
    const queue = this.queue;
    let iterations = 0;
    // Whether anything ran since the pollables were last asked (at first: the step itself).
    let ranSinceCheck = true;
    for (;;) {
      // Events due now, in (time, schedule order); ones they schedule at <= now run in this
      // same call. If one throws, the rest stay queued for the next step.
      for (let fn = queue.takeExpired(now); fn !== undefined; fn = queue.takeExpired(now)) {
        if (++iterations > MAX_ITERATIONS_PER_INSTANT) throw tooManyIterations(now);
        ranSinceCheck = true;
        fn();
      }
      // Nothing ran since every pollable said it had nothing due: it still has nothing due
      // (its deadline depends only on its own state), so asking again is skipped — one round
      // of nextDeadline() calls less per step (issue 16).
      if (!ranSinceCheck) return;
      ranSinceCheck = false;
      // Snapshot: pollables added or removed by a poll take effect on the next iteration.
      const ps = this.pollables;
      for (let i = 0; i < ps.length; i++) {
        const p = ps[i]!;
        if (p.nextDeadline() <= now) {
          if (++iterations > MAX_ITERATIONS_PER_INSTANT) throw tooManyIterations(now);
          p.poll(now);
          ranSinceCheck = true;
        }
      }
    }
  }

  /** Run until nothing is scheduled, or maxTime has passed (clock = start + maxTime), or maxSteps. */
  runUntilIdle(opts: RunOptions = {}): void {
    this.runUntil(() => false, opts);
  }

  /**
   * Step until cond() holds (checked before each step). Returns true when it held; false when
   * the simulation went idle or hit maxTime / maxSteps first.
   */
  runUntil(cond: () => boolean, opts: RunOptions = {}): boolean {
    const end = this.endOf(opts);
    const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    for (let steps = 0; ; steps++) {
      if (cond()) return true;
      const d = this.nextDeadline();
      if (d === Infinity) return false;
      if (d > end) {
        this.clock.set(end);
        return cond();
      }
      if (steps >= maxSteps) return this.stepLimit(opts, steps);
      this.stepTo(d);
    }
  }

  /** Process everything due up to now+d; the clock ends exactly at now+d. */
  runFor(d: Duration): void {
    if (!Number.isFinite(d)) throw new RangeError('Simulation.runFor: duration must be finite (use runUntilIdle)');
    const end = this.endAfter(d);
    this.runUntilIdle({ maxTime: d });
    if (end > this.clock.now()) this.clock.set(end);
  }

  /** Async runUntil: yields to the event loop between steps. */
  runUntilAsync(cond: () => boolean, opts: RunOptions = {}): Promise<boolean> {
    return this.runAsync(cond, opts);
  }

  /** Async runUntilIdle: idle means no events and nothing newly scheduled after a few yields. */
  async runUntilIdleAsync(opts: RunOptions = {}): Promise<void> {
    await this.runAsync(() => false, opts);
  }

  /** Async runFor: the clock ends exactly at now+d. */
  async runForAsync(d: Duration): Promise<void> {
    if (!Number.isFinite(d)) throw new RangeError('Simulation.runForAsync: duration must be finite');
    const end = this.endAfter(d);
    await this.runAsync(() => false, { maxTime: d });
    if (end > this.clock.now()) this.clock.set(end);
  }

  private async runAsync(cond: () => boolean, opts: RunOptions): Promise<boolean> {
    const end = this.endOf(opts);
    const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    const idleYields = opts.idleYields ?? DEFAULT_IDLE_YIELDS;
    for (let steps = 0; ; steps++) {
      if (cond()) return true;
      await yieldToEventLoop();
      if (cond()) return true;
      let d = this.nextDeadline();
      // Nothing due within the budget: JavaScript on top may still be about to schedule
      // something (a stream write, a promise continuation), so give it a few more turns.
      for (let i = 0; i < idleYields && (d === Infinity || d > end); i++) {
        await yieldToEventLoop();
        if (cond()) return true;
        d = this.nextDeadline();
      }
      if (d === Infinity) return false;
      if (d > end) {
        this.clock.set(end);
        await yieldToEventLoop();
        return cond();
      }
      if (steps >= maxSteps) return this.stepLimit(opts, steps);
      this.stepTo(d);
    }
  }

  private endAfter(d: Duration): Instant {
    if (!(d >= 0)) throw new RangeError(`Simulation: duration must be >= 0, got ${d}`);
    return this.clock.now() + Math.ceil(d); // time is integer µs
  }

  private endOf(opts: RunOptions): Instant {
    return opts.maxTime === undefined ? Infinity : this.endAfter(opts.maxTime);
  }

  private stepLimit(opts: RunOptions, steps: number): false {
    if (opts.maxSteps === undefined) {
      throw new Error(
        `Simulation: still busy after ${steps} steps (virtual time ${this.clock.now()} µs); ` +
          'pass maxSteps or maxTime if the run is meant to be this long',
      );
    }
    return false;
  }
}
