import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, RealtimeClock } from '../../src/time/clock.js';

describe('ManualClock', () => {
  test('starts at 0 or the given start', () => {
    assert.equal(new ManualClock().now(), 0);
    assert.equal(new ManualClock(1234).now(), 1234);
  });

  test('set and advance move forward', () => {
    const c = new ManualClock(10);
    c.advance(5);
    assert.equal(c.now(), 15);
    c.set(100);
    assert.equal(c.now(), 100);
    c.set(100); // same instant is fine
    c.advance(0);
    assert.equal(c.now(), 100);
  });

  test('refuses to go back', () => {
    const c = new ManualClock(100);
    assert.throws(() => c.set(99), RangeError);
    assert.throws(() => c.advance(-1), RangeError);
    assert.equal(c.now(), 100);
  });

  test('refuses non-integer or non-finite time', () => {
    const c = new ManualClock();
    assert.throws(() => c.set(1.5), RangeError);
    assert.throws(() => c.set(Number.NaN), RangeError);
    assert.throws(() => c.set(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => c.advance(0.5), RangeError);
    assert.throws(() => new ManualClock(0.5), RangeError);
    assert.equal(c.now(), 0);
  });
});

describe('RealtimeClock', () => {
  test('injected source: integer µs since construction, floored', () => {
    let t = 5000.25; // ms
    const c = new RealtimeClock(() => t);
    assert.equal(c.now(), 0);
    t += 1.0015;
    assert.equal(c.now(), 1001);
    t += 2;
    assert.equal(c.now(), 3001);
  });

  test('never decreases even if the source does', () => {
    let t = 10;
    const c = new RealtimeClock(() => t);
    t = 12;
    assert.equal(c.now(), 2000);
    t = 11;
    assert.equal(c.now(), 2000);
  });

  test('performance.now source: monotonic non-decreasing integers from ~0', () => {
    const c = new RealtimeClock();
    let prev = c.now();
    assert.ok(Number.isInteger(prev) && prev >= 0 && prev < 1_000_000);
    for (let i = 0; i < 10_000; i++) {
      const t = c.now();
      assert.ok(Number.isInteger(t));
      assert.ok(t >= prev);
      prev = t;
    }
  });
});
