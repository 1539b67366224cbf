import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  US, MS, SECOND, MINUTE, HOUR, NEVER, ms, seconds, minutes, hours, formatDuration, parseDuration,
} from '../../src/time/instant.js';

describe('duration constants and constructors', () => {
  test('units', () => {
    assert.equal(US, 1);
    assert.equal(MS, 1000);
    assert.equal(SECOND, 1_000_000);
    assert.equal(MINUTE, 60 * SECOND);
    assert.equal(HOUR, 60 * MINUTE);
    assert.equal(NEVER, Number.POSITIVE_INFINITY);
  });

  test('ms / seconds round to integer µs, no -0', () => {
    assert.equal(ms(5), 5000);
    assert.equal(ms(0.0015), 2); // 1.5 µs rounds away from zero
    assert.equal(ms(-0.0015), -2);
    assert.equal(seconds(1.5), 1_500_000);
    assert.equal(seconds(0.2), 200_000);
    assert.equal(seconds(1e-7), 0);
    assert.ok(Object.is(seconds(-1e-7), 0));
    assert.equal(minutes(2), 2 * MINUTE);
    assert.equal(hours(2), 2 * HOUR);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [1, '1us'],
    [250, '250us'],
    [999, '999us'],
    [1000, '1ms'],
    [1500, '1.5ms'],
    [40 * MS, '40ms'],
    [999_999, '999.999ms'],
    [SECOND, '1s'],
    [1_500_000, '1.5s'],
    [1_234_567, '1.234567s'],
    [75 * SECOND, '1m15s'],
    [MINUTE, '1m'],
    [90 * MINUTE, '1h30m'],
    [2 * HOUR, '2h'],
    [2 * HOUR + 5 * SECOND, '2h0m5s'],
    [2 * HOUR + 5_500_000, '2h0m5.5s'],
    [-40 * MS, '-40ms'],
    [NEVER, 'never'],
  ];
  for (const [d, s] of cases) {
    test(`${d} → ${s}`, () => assert.equal(formatDuration(d), s));
  }
});

describe('parseDuration', () => {
  const cases: [string, number | null][] = [
    ['5ms', 5000],
    ['1.5s', 1_500_000],
    ['200us', 200],
    ['200µs', 200],
    ['2h', 2 * HOUR],
    ['75s', 75 * SECOND],
    ['1m15s', 75 * SECOND],
    ['2h0m5s', 2 * HOUR + 5 * SECOND],
    ['1h 30m', 90 * MINUTE],
    [' 40 ', 40 * MS],
    ['40', 40 * MS],
    ['2.5', 2500],
    ['.5s', 500_000],
    ['-3ms', -3000],
    ['0', 0],
    ['-0', 0],
    ['0.4us', 0],
    ['0.5us', 1],
    ['1.234567s', 1_234_567],
    ['never', NEVER],
    ['', null],
    ['ms', null],
    ['5x', null],
    ['5 ms extra', null],
    ['1e3ms', null],
    ['--5ms', null],
    ['5ms-', null],
    ['99999999999h', null], // beyond 2^53 µs
  ];
  for (const [s, d] of cases) {
    test(`${JSON.stringify(s)} → ${d}`, () => {
      const got = parseDuration(s);
      assert.equal(got, d);
      if (got === 0) assert.ok(Object.is(got, 0), 'no -0');
    });
  }

  test('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const d = parseDuration(s);
      return d === null || typeof d === 'number';
    }));
    assert.equal(parseDuration(undefined as unknown as string), null);
  });
});

describe('format/parse round trip', () => {
  test('all safe integers', () => {
    fc.assert(fc.property(
      fc.oneof(
        fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
        fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 100 }).map((k) => k * MINUTE + (k % 7) * SECOND),
      ),
      (d) => parseDuration(formatDuration(d)) === d,
    ), { numRuns: 5000 });
  });

  test('unit boundaries', () => {
    for (const base of [MS, SECOND, MINUTE, HOUR]) {
      for (const d of [base - 1, base, base + 1]) assert.equal(parseDuration(formatDuration(d)), d, `${d}`);
    }
    assert.equal(parseDuration(formatDuration(NEVER)), NEVER);
  });
});
