import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeDriver, type Pollable } from '../../src/time/realtime.js';
import { RealtimeClock } from '../../src/time/clock.js';
import { NEVER, type Instant } from '../../src/time/instant.js';

/** A fake host: a controllable ms source and a list of armed timers. */
class FakeHost {
  ms = 0;
  nextHandle = 1;
  armed = new Map<number, { fn: () => void; delayMs: number; unrefd: boolean }>();
  sets = 0;
  clears = 0;
  clock = new RealtimeClock(() => this.ms);
  setTimer = (fn: () => void, delayMs: number): unknown => {
    this.sets++;
    const h = this.nextHandle++;
    const entry = { fn, delayMs, unrefd: false };
    this.armed.set(h, entry);
    return { h, unref: () => { entry.unrefd = true; }, ref: () => { entry.unrefd = false; } };
  };
  clearTimer = (handle: unknown): void => {
    this.clears++;
    this.armed.delete((handle as { h: number }).h);
  };
  only(): { fn: () => void; delayMs: number; unrefd: boolean } {
    assert.equal(this.armed.size, 1, 'exactly one timer armed');
    return [...this.armed.values()][0]!;
  }
  /** Advance the fake time to when the single armed timer fires, and fire it. */
  fire(): void {
    const [h, t] = [...this.armed.entries()][0]!;
    assert.equal(this.armed.size, 1, 'exactly one timer armed');
    this.armed.delete(h);
    this.ms += t.delayMs;
    t.fn();
  }
  driver(onError?: (e: unknown) => void): RealtimeDriver {
    return new RealtimeDriver(this.clock, { setTimer: this.setTimer, clearTimer: this.clearTimer, ...(onError ? { onError } : {}) });
  }
}

/** A pollable with a list of deadlines; poll(now) consumes those <= now. */
class Fake implements Pollable {
  polls: Instant[] = [];
  constructor(public deadlines: Instant[] = []) {}
  nextDeadline(): Instant {
    return this.deadlines.length ? Math.min(...this.deadlines) : NEVER;
  }
  poll(now: Instant): void {
    this.polls.push(now);
    this.deadlines = this.deadlines.filter((d) => d > now);
  }
}

describe('RealtimeDriver (fake timers)', () => {
  test('arms one timer for the earliest deadline, in whole ms rounded up', () => {
    const host = new FakeHost();
    const d = host.driver();
    d.add(new Fake([5_000, 20_000]));
    d.add(new Fake([2_500]));
    assert.equal(host.only().delayMs, 3); // 2.5 ms → 3 ms
    assert.equal(d.armedDeadline, 2_500);
  });

  test('no deadline, no timer; adding then removing disarms', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake();
    d.add(p);
    assert.equal(host.armed.size, 0);
    const q = new Fake([1000]);
    d.add(q);
    assert.equal(host.armed.size, 1);
    d.remove(q);
    assert.equal(host.armed.size, 0);
    assert.equal(d.armedDeadline, NEVER);
  });

  test('on fire polls only due pollables with now, then re-arms for the next', () => {
    const host = new FakeHost();
    const d = host.driver();
    const a = new Fake([1_000, 4_000]);
    const b = new Fake([3_000]);
    d.add(a);
    d.add(b);
    host.fire(); // t = 1 ms
    assert.deepEqual(a.polls, [1_000]);
    assert.deepEqual(b.polls, []);
    assert.equal(host.only().delayMs, 2);
    host.fire(); // t = 3 ms
    assert.deepEqual(b.polls, [3_000]);
    assert.deepEqual(a.polls, [1_000]);
    host.fire(); // t = 4 ms
    assert.deepEqual(a.polls, [1_000, 4_000]);
    assert.equal(host.armed.size, 0);
  });

  test('a due or past deadline arms with delay 0', () => {
    const host = new FakeHost();
    host.ms = 10;
    const d = host.driver(); // clock origin is at 10 ms
    d.add(new Fake([0]));
    assert.equal(host.only().delayMs, 0);
  });

  test('kick with an earlier deadline re-arms: still exactly one timer', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake([50_000]);
    d.add(p);
    assert.equal(host.only().delayMs, 50);
    p.deadlines.push(10_000);
    d.kick();
    assert.equal(host.only().delayMs, 10);
    assert.equal(host.clears, 1);
  });

  test('kick with a later deadline keeps the earlier timer (no churn), which re-arms on fire', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake([10_000]);
    d.add(p);
    const sets = host.sets;
    for (let i = 1; i <= 100; i++) { // RTO pushed later on every ACK
      p.deadlines = [10_000 + i * 1000];
      d.kick();
    }
    assert.equal(host.sets, sets);
    assert.equal(host.clears, 0);
    host.fire(); // t = 10 ms: nothing due
    assert.deepEqual(p.polls, []);
    assert.equal(host.only().delayMs, 100);
    host.fire();
    assert.deepEqual(p.polls, [110_000]);
  });

  test('deadline moving to NEVER clears the timer', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake([10_000]);
    d.add(p);
    p.deadlines = [];
    d.kick();
    assert.equal(host.armed.size, 0);
  });

  test('very long deadlines are clamped to the setTimeout limit', () => {
    const host = new FakeHost();
    const d = host.driver();
    d.add(new Fake([100 * 24 * 3600 * 1_000_000])); // 100 days
    assert.equal(host.only().delayMs, 0x7fffffff);
  });

  test('kicks and removals from inside poll are handled after the round', () => {
    const host = new FakeHost();
    const d = host.driver();
    const b = new Fake([1_000]);
    const late = new Fake();
    let aPolled = false;
    const a: Pollable = {
      nextDeadline: () => (aPolled ? NEVER : 1_000),
      poll: () => {
        aPolled = true;
        d.remove(b); // b is due too but removed first
        late.deadlines.push(7_000);
        d.add(late);
        d.kick();
      },
    };
    d.add(a);
    d.add(b);
    host.fire();
    assert.ok(aPolled);
    assert.deepEqual(b.polls, []);
    assert.equal(host.only().delayMs, 6);
  });

  test('stop disarms and ignores kicks; start resumes', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake([5_000]);
    d.add(p);
    d.stop();
    assert.equal(host.armed.size, 0);
    d.kick();
    assert.equal(host.armed.size, 0);
    d.start();
    assert.equal(host.only().delayMs, 5);
  });

  test('unref applies to the armed timer and later ones', () => {
    const host = new FakeHost();
    const d = host.driver();
    const p = new Fake([1_000, 2_000]);
    d.add(p);
    d.unref();
    assert.equal(host.only().unrefd, true);
    host.fire();
    assert.equal(host.only().unrefd, true);
    d.ref();
    assert.equal(host.only().unrefd, false);
  });

  test('a throwing poll does not stop the others; the error is rethrown after re-arming', () => {
    const host = new FakeHost();
    const d = host.driver();
    const bad: Pollable = { nextDeadline: () => 1_000, poll: () => { throw new Error('boom'); } };
    const good = new Fake([1_000, 9_000]);
    d.add(bad);
    d.add(good);
    assert.throws(() => host.fire(), /boom/);
    assert.deepEqual(good.polls, [1_000]);
    assert.equal(host.armed.size, 1); // bad still reports a past deadline: immediate re-arm
    assert.equal(host.only().delayMs, 0);
  });

  test('onError receives poll errors instead of throwing', () => {
    const host = new FakeHost();
    const errors: unknown[] = [];
    const d = host.driver((e) => errors.push(e));
    let n = 0;
    d.add({ nextDeadline: () => (n ? NEVER : 1_000), poll: () => { n++; throw new Error('x'); } });
    host.fire();
    assert.equal(errors.length, 1);
    assert.equal(host.armed.size, 0);
  });
});

test('setTimer without clearTimer (or the reverse) is refused', () => {
  assert.throws(() => new RealtimeDriver(undefined, { setTimer: () => 0 }), TypeError);
  assert.throws(() => new RealtimeDriver(undefined, { clearTimer: () => {} }), TypeError);
});

describe('RealtimeDriver (real timers, short)', () => {
  test('polls a pollable due in 2 ms', { timeout: 2000 }, async () => {
    const d = new RealtimeDriver();
    const due = d.clock.now() + 2_000;
    const polledAt = await new Promise<Instant>((resolve) => {
      let done = false;
      d.add({
        nextDeadline: () => (done ? NEVER : due),
        poll: (now) => { done = true; resolve(now); },
      });
    });
    assert.ok(polledAt >= due, `${polledAt} >= ${due}`);
    assert.equal(d.armedDeadline, NEVER);
    d.stop();
  });

  test('a past deadline is polled promptly', { timeout: 2000 }, async () => {
    const d = new RealtimeDriver();
    await new Promise<void>((resolve) => {
      let done = false;
      d.add({ nextDeadline: () => (done ? NEVER : 0), poll: () => { done = true; resolve(); } });
    });
    d.stop();
  });
});
