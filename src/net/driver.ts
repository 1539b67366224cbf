// Drivers for the `net` layer: one interface, two clocks (DESIGN.md "Time").
//
// The stack is sans-I/O; the socket layer above it needs three things from whoever runs it:
// the time, timers in that time (socket.setTimeout), and a way to wait for a condition.
//  - SimulationDriver: virtual time. Timers are simulation events; waiting is
//    sim.runUntilAsync(), which yields to the event loop between steps so stream
//    callbacks, process.nextTick and promise continuations run at the current virtual instant.
//  - RealtimeNetDriver: the real event loop and the real clock. It owns a RealtimeDriver
//    (one host timer for the earliest deadline of everything it runs), is itself a link
//    Scheduler (so createLinkPair(driver) delivers packets on the event loop), and wires
//    Stack.onWake → kick() so a new, earlier TCP deadline re-arms the host timer.
import type { Instant, Duration } from '../time/instant.js';
import type { Stack } from '../stack/stack.js';
import type { Scheduler, LinkEnd, Observable } from '../link/types.js';
import type { StackOptions } from '../stack/options.js';
import { Simulation } from '../sim/simulation.js';
import { RealtimeClock } from '../time/clock.js';
import { RealtimeDriver } from '../time/realtime.js';
import { TimerQueue } from '../time/timerqueue.js';
import { Stack as StackClass } from '../stack/stack.js';
import { createLinkPair } from '../sim/memlink.js';
import { FaultyLink, type FaultOptions } from '../link/faulty.js';
import { Rng } from '../sim/rng.js';
import type { FaultHandle } from '../sim/hosts.js';

/** A timer handle returned by NetDriver.setTimer. */
export type DriverTimer = unknown;

export interface UntilOptions {
  /** Give up after this much driver time (µs): virtual time in a simulation, wall time in real time. */
  timeout?: Duration;
}

export interface NetDriver {
  readonly kind: 'simulation' | 'realtime';
  /** Current time in integer µs (the stack's clock). */
  now(): Instant;
  /** Run fn after `delay` µs of driver time. Timers never keep a Node process alive. */
  setTimer(delay: Duration, fn: () => void): DriverTimer;
  clearTimer(t: DriverTimer): void;
  /** Something changed outside a poll: make sure the stacks' deadlines are honoured. */
  kick(): void;
  /** Poll `stack` at its deadlines (idempotent). */
  addStack(stack: Stack): void;
  /**
   * Resolve true once cond() holds; false when it cannot happen any more (the simulation
   * went idle) or the timeout passed. In a simulation this is what moves virtual time.
   */
  until(cond: () => boolean, opts?: UntilOptions): Promise<boolean>;
  /**
   * A referenced, active handle appeared (+1) or went away (-1): a listening server, or a
   * socket that is connecting, reading, or has a write the TCB has not taken yet (libuv's
   * rule, docs/net.md "Process liveness"). In real time the event loop stays alive while
   * any exists; protocol timers alone (TIME-WAIT, keepalive, orphans) never keep it alive.
   */
  hold(delta: 1 | -1): void;
}

// ------------------------------------------------------------------ virtual time

export class SimulationDriver implements NetDriver {
  readonly kind = 'simulation' as const;
  constructor(readonly sim: Simulation) {}
  now(): Instant { return this.sim.now(); }
  setTimer(delay: Duration, fn: () => void): DriverTimer { return this.sim.after(Math.max(0, Math.ceil(delay)), fn); }
  clearTimer(t: DriverTimer): void { if (typeof t === 'number') this.sim.cancel(t); }
  kick(): void { /* the simulation asks every stack for its deadline before each step */ }
  addStack(stack: Stack): void { this.sim.add(stack); }
  hold(_delta: 1 | -1): void { /* virtual time: nothing to keep alive */ }
  until(cond: () => boolean, opts: UntilOptions = {}): Promise<boolean> {
    return this.sim.runUntilAsync(cond, opts.timeout === undefined ? {} : { maxTime: opts.timeout });
  }
}

const simDrivers = new WeakMap<Simulation, SimulationDriver>();

/** The (shared) driver for a simulation. */
export function simulationDriver(sim: Simulation): SimulationDriver {
  let d = simDrivers.get(sim);
  if (d === undefined) { d = new SimulationDriver(sim); simDrivers.set(sim, d); }
  return d;
}

// ------------------------------------------------------------------ real time

export interface RealtimeNetDriverOptions {
  clock?: RealtimeClock;
  /** Exceptions thrown while polling (default: rethrown, i.e. an uncaught exception). */
  onError?: (err: unknown) => void;
}

export class RealtimeNetDriver implements NetDriver, Scheduler {
  readonly kind = 'realtime' as const;
  readonly clock: RealtimeClock;
  readonly driver: RealtimeDriver;
  /** Link deliveries and other scheduled callbacks, polled by the same host timer as the stacks. */
  private readonly events = new TimerQueue<() => void>();
  private readonly stacks = new Set<Stack>();
  private handles = 0;
  private stopped = false;
  /**
   * The host handle that keeps the process alive while any socket or server holds the
   * driver, even when no deadline is armed (an idle connection, a lone listener). With
   * nothing held, it and the host timer are unref()'d, so pending protocol timers
   * (TIME-WAIT, keepalive, an orphan's retransmissions) never keep a process alive by
   * themselves, as the kernel's do not.
   */
  private readonly keepAlive: { ref(): unknown; unref(): unknown };

  constructor(opts: RealtimeNetDriverOptions = {}) {
    this.clock = opts.clock ?? new RealtimeClock();
    this.driver = new RealtimeDriver(this.clock, opts.onError ? { onError: opts.onError } : {});
    const events = this.events;
    this.driver.add({
      nextDeadline: () => events.nextDeadline(),
      poll: (now) => { events.popExpired(now, (fn) => fn()); },
    });
    // Nothing holds the process until a socket or server does (see hold()).
    this.driver.unref();
    this.keepAlive = setInterval(noop, 0x7fffffff);
    this.keepAlive.unref();
  }

  hold(delta: 1 | -1): void {
    const before = this.handles;
    this.handles += delta;
    // The host timer follows too: an unref()'d setImmediate does not wake a blocked loop, so
    // while something is held the timer must be ref()'d or due work would wait.
    if (before === 0 && this.handles > 0) { if (!this.stopped) this.keepAlive.ref(); this.driver.ref(); }
    else if (before > 0 && this.handles === 0) { this.keepAlive.unref(); this.driver.unref(); }
  }

  /** Active handles (sockets and servers) keeping the event loop alive. */
  get activeHandles(): number { return this.handles; }

  now(): Instant { return this.clock.now(); }

  // Scheduler (for links): run fn at time t on the event loop.
  at(t: Instant, fn: () => void): number {
    const id = this.events.schedule(Math.ceil(t), fn);
    this.driver.kick();
    return id;
  }
  cancel(id: number): void { this.events.cancel(id); }

  setTimer(delay: Duration, fn: () => void): DriverTimer {
    const h = setTimeout(fn, Math.max(0, Math.ceil(delay / 1000)));
    h.unref();
    return h;
  }
  clearTimer(t: DriverTimer): void { clearTimeout(t as ReturnType<typeof setTimeout>); }

  kick(): void { this.driver.kick(); }

  addStack(stack: Stack): void {
    if (this.stacks.has(stack)) return;
    this.stacks.add(stack);
    // An earlier TCP deadline (a new RTO, a delayed ACK) must re-arm the one host timer.
    stack.onWake = () => this.driver.kick();
    this.driver.add(stack);
  }

  /** Checks cond on every event-loop turn (then every ms) until it holds or `timeout` µs of wall time pass. */
  async until(cond: () => boolean, opts: UntilOptions = {}): Promise<boolean> {
    const end = opts.timeout === undefined ? Infinity : this.now() + opts.timeout;
    for (let i = 0; ; i++) {
      if (cond()) return true;
      if (this.now() >= end) return false;
      await new Promise<void>((r) => (i < 64 ? setImmediate(r) : setTimeout(r, 1)));
    }
  }

  /** Stop the host timer (nothing runs until start()); nothing keeps the process alive meanwhile. */
  stop(): void { this.stopped = true; this.driver.stop(); this.keepAlive.unref(); }
  start(): void {
    this.stopped = false;
    if (this.handles > 0) this.keepAlive.ref();
    this.driver.start();
  }
}

export interface RealtimeHostsOptions {
  aAddr?: string;
  bAddr?: string;
  mtu?: number;
  /** One-way link delay, µs. */
  delay?: Duration;
  /** Link rate, bits/s (0 = unlimited). */
  bandwidth?: number;
  optionsA?: Partial<StackOptions>;
  optionsB?: Partial<StackOptions>;
  /** Faults applied to packets from A to B, and from B to A (`faults` sets both), as in twoHosts. */
  faults?: FaultOptions;
  faultsAtoB?: FaultOptions;
  faultsBtoA?: FaultOptions;
  /** Seed of the fault injectors' randomness (default 1). */
  seed?: number;
}

export interface RealtimeHosts<O extends RealtimeHostsOptions = RealtimeHostsOptions> {
  a: Stack;
  b: Stack;
  /** The raw link ends (observable). */
  linkA: LinkEnd & Observable;
  linkB: LinkEnd & Observable;
  /** Fault injectors on A's and B's sending side: non-null in the type when the options configure them. */
  faultA: FaultHandle<O, 'faultsAtoB'>;
  faultB: FaultHandle<O, 'faultsBtoA'>;
}

/** Two stacks on the real clock joined by an in-memory link (twoHosts' realtime twin, with the same faults). */
export function realtimeTwoHosts<O extends RealtimeHostsOptions = RealtimeHostsOptions>(driver: RealtimeNetDriver, o: O = {} as O): RealtimeHosts<O> {
  const mtu = o.mtu ?? 1500;
  const [linkA, linkB] = createLinkPair(driver, { mtu, delay: o.delay ?? 0, bandwidth: o.bandwidth ?? 0, queueLimit: 100_000 });
  const rng = new Rng(o.seed ?? 1);
  const fa = o.faultsAtoB ?? o.faults;
  const fb = o.faultsBtoA ?? o.faults;
  const faultA = fa ? new FaultyLink(linkA, fa, driver, rng.fork('faults-a')) : null;
  const faultB = fb ? new FaultyLink(linkB, fb, driver, rng.fork('faults-b')) : null;
  const a = new StackClass({ clock: driver.clock, options: o.optionsA });
  const b = new StackClass({ clock: driver.clock, options: o.optionsB });
  a.addInterface({ addr: o.aAddr ?? '198.18.0.1', prefixLen: 24, mtu, link: faultA ?? linkA });
  b.addInterface({ addr: o.bAddr ?? '198.18.0.2', prefixLen: 24, mtu, link: faultB ?? linkB });
  driver.addStack(a);
  driver.addStack(b);
  return { a, b, linkA, linkB, faultA, faultB } as RealtimeHosts<O>;
}

/**
 * Run a simulation until `promise` settles, for code that mixes real I/O or real timers
 * (a file read, a kernel socket, a worker) with a simulation run. Virtual time moves as
 * usual while the simulation has work; when it is idle but the promise is still pending,
 * the promise waits on something real, so this waits in real time (1 ms at a time) instead
 * of declaring the run over. Rejects after `realTimeoutMs` of wall time spent idle waiting.
 */
export async function runUntilSettled<T>(sim: Simulation, promise: Promise<T>, opts: { maxTime?: Duration; realTimeoutMs?: number } = {}): Promise<T> {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  const end = opts.maxTime === undefined ? Infinity : sim.now() + opts.maxTime;
  const realCap = opts.realTimeoutMs ?? 30_000;
  let idleSince = -1;
  while (!settled) {
    const left = end - sim.now();
    if (left <= 0) throw new Error('runUntilSettled: maxTime passed before the promise settled');
    const before = sim.now();
    await sim.runUntilAsync(() => settled, left === Infinity ? {} : { maxTime: left });
    if (settled) break;
    if (sim.now() !== before || sim.nextDeadline() !== Infinity) { idleSince = -1; continue; }
    if (idleSince < 0) idleSince = Date.now();
    else if (Date.now() - idleSince > realCap) throw new Error(`runUntilSettled: the simulation is idle and the promise still pending after ${realCap} ms of real time`);
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  return promise;
}

function noop(): void { /* the keep-alive interval never needs to do anything */ }

/** A Simulation or a NetDriver → a NetDriver. */
export function toDriver(d: NetDriver | Simulation): NetDriver {
  return d instanceof Simulation ? simulationDriver(d) : d;
}
