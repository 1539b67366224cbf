import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import type { Pollable } from '../../src/link/types.js';

const HOUR = 3_600_000_000;

/** A pollable with a list of deadlines; records when it was polled. */
class Timers implements Pollable {
  polled: number[] = [];
  constructor(public deadlines: number[]) {}
  nextDeadline(): number {
    return this.deadlines.length ? Math.min(...this.deadlines) : Infinity;
  }
  poll(now: number): void {
    this.polled.push(now);
    this.deadlines = this.deadlines.filter((d) => d > now);
  }
}

describe('Simulation', () => {
  test('defaults: time 0, seeded rng, idle', () => {
    const sim = new Simulation();
    assert.equal(sim.now(), 0);
    assert.equal(sim.nextDeadline(), Infinity);
    assert.equal(sim.step(), false);
    const s2 = new Simulation({ seed: 9, start: 500 });
    assert.equal(s2.now(), 500);
    assert.equal(s2.seed, 9);
    assert.equal(s2.rng.nextU32(), new Simulation({ seed: 9 }).rng.nextU32());
  });

  test('step runs events in time order, same-time events in schedule order', () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.at(30, () => log.push('c30'));
    sim.at(10, () => log.push('a10'));
    sim.at(10, () => log.push('b10'));
    sim.after(20, () => log.push('x20'));
    assert.equal(sim.nextDeadline(), 10);
    assert.equal(sim.step(), true);
    assert.deepEqual(log, ['a10', 'b10']);
    assert.equal(sim.now(), 10);
    sim.step();
    assert.equal(sim.now(), 20);
    sim.step();
    assert.deepEqual(log, ['a10', 'b10', 'x20', 'c30']);
    assert.equal(sim.step(), false);
    assert.equal(sim.now(), 30);
  });

  test('cancel removes an event, including one cancelled by an earlier event of the same instant', () => {
    const sim = new Simulation();
    const log: string[] = [];
    const id = sim.at(5, () => log.push('no'));
    sim.cancel(id);
    let second = 0;
    sim.at(7, () => { log.push('first'); sim.cancel(second); });
    second = sim.at(7, () => log.push('second'));
    sim.runUntilIdle();
    assert.deepEqual(log, ['first']);
  });

  test('an event in the past runs at the current instant', () => {
    const sim = new Simulation({ start: 1000 });
    let ranAt = -1;
    sim.at(5, () => (ranAt = sim.now()));
    sim.step();
    assert.equal(ranAt, 1000);
  });

  test('same-instant cascades: events scheduled "now" and pollables woken by them run in the same step', () => {
    const sim = new Simulation();
    const log: string[] = [];
    // A "stack" that wants to reply as soon as it receives a packet.
    const stack = {
      pending: 0,
      nextDeadline: () => (stack.pending > 0 ? sim.now() : Infinity),
      poll(now: number) {
        log.push(`poll@${now}`);
        stack.pending--;
        sim.at(now, () => log.push(`reply@${sim.now()}`));
      },
    };
    sim.add(stack);
    sim.at(100, () => {
      log.push('deliver');
      sim.at(sim.now(), () => {
        log.push('deliver2');
        stack.pending++;
      });
    });
    assert.equal(sim.step(), true);
    assert.deepEqual(log, ['deliver', 'deliver2', 'poll@100', 'reply@100']);
    assert.equal(sim.step(), false);
    assert.equal(sim.now(), 100);
  });

  test('a poll that makes another pollable due, or schedules an event that does, runs it in the same instant', () => {
    const sim = new Simulation();
    const log: string[] = [];
    const mk = (name: string): { due: boolean; nextDeadline(): number; poll(now: number): void; then?: () => void } => {
      const p = {
        due: false,
        nextDeadline: () => (p.due ? sim.now() : Infinity),
        poll(now: number) { log.push(`${name}@${now}`); p.due = false; p.then?.(); },
        then: undefined as (() => void) | undefined,
      };
      return p;
    };
    const a = mk('a'), b = mk('b'), c = mk('c');
    sim.add(a); sim.add(b); sim.add(c);
    // a (polled first) wakes c directly; c schedules an event at now that wakes b.
    a.then = () => { c.due = true; };
    c.then = () => { sim.at(sim.now(), () => { log.push('event'); b.due = true; }); };
    sim.at(50, () => { a.due = true; });
    assert.equal(sim.step(), true);
    assert.deepEqual(log, ['a@50', 'c@50', 'event', 'b@50']);
    assert.equal(sim.nextDeadline(), Infinity);
    assert.equal(sim.step(), false);
  });

  test('pollables are polled only when due; nextDeadline is the min over events and pollables', () => {
    const sim = new Simulation();
    const p = new Timers([50, 200]);
    sim.add(p);
    sim.add(p); // adding twice is harmless
    sim.at(100, () => {});
    assert.equal(sim.nextDeadline(), 50);
    sim.step();
    assert.deepEqual(p.polled, [50]);
    sim.step();
    assert.deepEqual(p.polled, [50]); // the t=100 step only ran the event
    assert.equal(sim.now(), 100);
    sim.step();
    assert.deepEqual(p.polled, [50, 200]);
    sim.remove(p);
    p.deadlines = [300];
    assert.equal(sim.step(), false);
  });

  test('a Pollable with a 2-hour deadline completes instantly in real time', () => {
    const sim = new Simulation();
    const p = new Timers([2 * HOUR]);
    let queries = 0;
    sim.add({ nextDeadline: () => { queries++; return p.nextDeadline(); }, poll: (now) => p.poll(now) });
    let steps = 0;
    while (sim.step()) steps++;
    // One jump, not one iteration per microsecond (or per millisecond tick).
    assert.equal(steps, 1);
    assert.ok(queries < 10, `${queries} deadline queries`);
    assert.deepEqual(p.polled, [2 * HOUR]);
    assert.equal(sim.now(), 2 * HOUR);
  });

  test('keepalive-like chain: 9 probes every 75 s after 2 h', () => {
    const sim = new Simulation();
    const probes: number[] = [];
    const probe = (n: number) => {
      probes.push(sim.now());
      if (n < 9) sim.after(75_000_000, () => probe(n + 1));
    };
    sim.after(2 * HOUR, () => probe(1));
    sim.runUntilIdle();
    assert.equal(probes.length, 9);
    assert.equal(sim.now(), 2 * HOUR + 8 * 75_000_000);
  });

  test('runUntilIdle with maxTime stops there and sets the clock to start+maxTime', () => {
    const sim = new Simulation({ start: 10 });
    const log: number[] = [];
    for (const t of [20, 50, 80]) sim.at(t, () => log.push(t));
    sim.runUntilIdle({ maxTime: 50 }); // end = 60
    assert.deepEqual(log, [20, 50]);
    assert.equal(sim.now(), 60);
    sim.runUntilIdle();
    assert.deepEqual(log, [20, 50, 80]);
    assert.equal(sim.now(), 80);
    // Idle before maxTime: the clock stays where the last work was.
    sim.at(90, () => {});
    sim.runUntilIdle({ maxTime: 1000 });
    assert.equal(sim.now(), 90);
  });

  test('runUntilIdle with maxSteps counts instants', () => {
    const sim = new Simulation();
    const log: number[] = [];
    for (const t of [1, 2, 2, 3]) sim.at(t, () => log.push(t));
    sim.runUntilIdle({ maxSteps: 2 });
    assert.deepEqual(log, [1, 2, 2]);
  });

  test('runUntil checks cond before each step and reports whether it held', () => {
    const sim = new Simulation();
    let n = 0;
    const tick = () => { n++; sim.after(10, tick); };
    sim.at(0, tick);
    assert.equal(sim.runUntil(() => n === 5), true);
    assert.equal(n, 5);
    assert.equal(sim.now(), 40);
    assert.equal(sim.runUntil(() => true), true); // holds immediately: no step
    assert.equal(sim.now(), 40);
    assert.equal(sim.runUntil(() => n === 1000, { maxTime: 100 }), false);
    assert.equal(sim.now(), 140);
    assert.equal(sim.runUntil(() => false, { maxSteps: 3 }), false);
    const idle = new Simulation();
    idle.at(5, () => {});
    assert.equal(idle.runUntil(() => false), false);
    assert.equal(idle.now(), 5);
  });

  test('runFor processes everything due up to now+d and ends exactly there', () => {
    const sim = new Simulation();
    const log: number[] = [];
    for (const t of [100, 200, 300]) sim.at(t, () => log.push(t));
    sim.runFor(200);
    assert.deepEqual(log, [100, 200]);
    assert.equal(sim.now(), 200);
    sim.runFor(1000);
    assert.deepEqual(log, [100, 200, 300]);
    assert.equal(sim.now(), 1200);
    sim.runFor(0);
    assert.equal(sim.now(), 1200);
  });

  test('a Pollable that never advances its deadline is reported, not looped forever', () => {
    const sim = new Simulation();
    sim.add({ nextDeadline: () => 0, poll: () => {} });
    assert.throws(() => sim.step(), /iterations at virtual instant 0/);
  });

  test('an event rescheduling itself at the same instant is reported', () => {
    const sim = new Simulation();
    const again = () => { sim.at(sim.now(), again); };
    sim.at(1, again);
    assert.throws(() => sim.step(), /iterations at virtual instant 1/);
  });

  test('an explicit maxSteps stops a never-ending run quietly', () => {
    const sim = new Simulation();
    const tick = () => { sim.after(1, tick); };
    sim.at(0, tick);
    sim.runUntilIdle({ maxSteps: 100 });
    assert.equal(sim.now(), 99);
  });

  test('an exception from an event propagates and the remaining events still run later', () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.at(5, () => { throw new Error('boom'); });
    sim.at(5, () => log.push('after'));
    assert.throws(() => sim.step(), /boom/);
    sim.runUntilIdle();
    assert.deepEqual(log, ['after']);
  });

  test('step() cannot be re-entered from an event', () => {
    const sim = new Simulation();
    let err: unknown;
    sim.at(1, () => { try { sim.step(); } catch (e) { err = e; } });
    sim.at(2, () => {});
    sim.step();
    assert.match(String(err), /re-entered/);
  });

  test('fractional deadlines are rounded up to whole microseconds', () => {
    const sim = new Simulation();
    let at = -1;
    sim.at(10.2, () => (at = sim.now()));
    sim.runUntilIdle();
    assert.equal(at, 11);
    const p = new Timers([20.5]);
    sim.add(p);
    sim.runUntilIdle();
    assert.deepEqual(p.polled, [21]);
  });
});

describe('Simulation async variants', () => {
  test('runUntilAsync lets an await-loop that schedules events interleave', async () => {
    const sim = new Simulation();
    const sleep = (d: number) => new Promise<void>((r) => sim.after(d, r));
    const seen: number[] = [];
    let done = false;
    (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(1000);
        seen.push(sim.now());
      }
      done = true;
    })();
    assert.equal(await sim.runUntilAsync(() => done), true);
    assert.deepEqual(seen, [1000, 2000, 3000, 4000, 5000]);
    assert.equal(sim.now(), 5000);
  });

  test('runUntilIdleAsync waits for work scheduled after a promise hop', async () => {
    const sim = new Simulation();
    const log: number[] = [];
    // Work that appears only after several microtask/macrotask hops.
    sim.at(10, () => {
      Promise.resolve().then(() => Promise.resolve()).then(() => {
        setImmediate(() => sim.after(5, () => log.push(sim.now())));
      });
    });
    await sim.runUntilIdleAsync();
    assert.deepEqual(log, [15]);
    // The synchronous variant would not have seen it:
    const s2 = new Simulation();
    const l2: number[] = [];
    s2.at(10, () => { Promise.resolve().then(() => s2.after(5, () => l2.push(1))); });
    s2.runUntilIdle();
    assert.deepEqual(l2, []);
  });

  test('runForAsync ends exactly at now+d; maxTime in runUntilAsync', async () => {
    const sim = new Simulation();
    let n = 0;
    const tick = () => { n++; sim.after(100, tick); };
    sim.at(0, tick);
    await sim.runForAsync(1000);
    assert.equal(sim.now(), 1000);
    assert.equal(n, 11);
    assert.equal(await sim.runUntilAsync(() => n === 1_000_000, { maxTime: 500 }), false);
    assert.equal(sim.now(), 1500);
    assert.equal(n, 16);
    const idle = new Simulation();
    await idle.runForAsync(2 * HOUR);
    assert.equal(idle.now(), 2 * HOUR);
  });

  test('runUntilAsync returns false when idle', async () => {
    const sim = new Simulation();
    assert.equal(await sim.runUntilAsync(() => false), false);
  });
});
