import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RateLimiter, IntervalLimiter } from '../../src/tcp/ratelimit.js';

const SEC = 1_000_000;

function drain(l: RateLimiter, now: number): number {
  let n = 0;
  while (l.allow(now)) n++;
  return n;
}

describe('RateLimiter (RFC 5961 §7 challenge ACK throttling)', () => {
  test('starts full: a burst of perSecond, then refused (Linux tcp_challenge_ack_limit 1000/s)', () => {
    const l = new RateLimiter(1000);
    assert.equal(l.perSecond, 1000);
    assert.equal(drain(l, 0), 1000);
    assert.equal(l.allow(0), false);
  });

  test('explicit burst', () => {
    const l = new RateLimiter(2, 10); // RFC 5961 §7 example: 10 per 5 seconds
    assert.equal(drain(l, 0), 10);
    assert.equal(drain(l, 5 * SEC), 10);
    assert.equal(drain(l, 5 * SEC + 499_999), 0);
    assert.equal(drain(l, 5 * SEC + 500_000), 1);
  });

  test('refills at perSecond: 1000/s gives one token per 1000 µs', () => {
    const l = new RateLimiter(1000);
    drain(l, 0);
    assert.equal(l.allow(999), false);
    assert.equal(l.allow(1000), true);
    assert.equal(l.allow(1000), false);
    assert.equal(drain(l, 1000 + 250_000), 250);
    assert.equal(l.available(1000 + 250_000), 0);
  });

  test('exact µs arithmetic with a rate that does not divide a second (3/s)', () => {
    const l = new RateLimiter(3, 2);
    assert.equal(drain(l, 0), 2);
    assert.equal(l.allow(333_333), false); // 999_999 units: one short
    assert.equal(l.allow(333_334), true); // 1_000_002 units, 2 left over
    assert.equal(l.allow(666_666), false); // 2 + 3 * 333_332 = 999_998
    assert.equal(l.allow(666_667), true); // 1_000_001
    assert.equal(l.allow(999_999), false); // 1 + 999_996
    assert.equal(l.allow(1_000_000), true); // exactly 1_000_000: no drift after one second
  });

  test('polling every µs yields exactly burst + floor(rate * T) tokens', () => {
    const l = new RateLimiter(3, 2);
    let n = 0;
    for (let t = 0; t <= 3 * SEC; t++) if (l.allow(t)) n++;
    assert.equal(n, 2 + 9);
  });

  test('burst 1: refill beyond a full bucket is discarded (classic token bucket)', () => {
    // With room for one token only, credit that arrives between polls while the bucket is
    // already full overflows: 3/s polled every µs loses a unit or two per token.
    const l = new RateLimiter(3, 1);
    assert.equal(l.allow(0), true);
    assert.equal(l.allow(333_334), true); // 1_000_002 units capped at 1_000_000: 0 left
    assert.equal(l.allow(666_667), false); // 999_999: the 2 lost units show
    assert.equal(l.allow(666_668), true);
  });

  test('call pattern does not change the total (no drift)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 2, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 1, maxLength: 200 }),
        (rate, burst, raw) => {
          // Gaps short enough that the bucket, drained at each call, never hits its cap: then
          // no refill is lost and the total is exact whatever the spacing of the calls.
          const maxGap = Math.floor(((burst - 1) * SEC) / rate);
          const l = new RateLimiter(rate, burst);
          let t = 0;
          let n = drain(l, t);
          for (const r of raw) {
            t += r % (maxGap + 1);
            n += drain(l, t);
          }
          assert.equal(n, burst + Math.floor((rate * t) / SEC));
        },
      ),
    );
  });

  test('total never exceeds burst + rate * elapsed, whatever the gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 5 * SEC }), { minLength: 1, maxLength: 100 }),
        (rate, burst, gaps) => {
          const l = new RateLimiter(rate, burst);
          let t = 0;
          let n = drain(l, t);
          for (const g of gaps) {
            t += g;
            n += drain(l, t);
          }
          assert.ok(n <= burst + Math.floor((rate * t) / SEC));
        },
      ),
    );
  });

  test('the bucket never holds more than burst', () => {
    const l = new RateLimiter(100, 5);
    drain(l, 0);
    assert.equal(l.available(10 * SEC), 5);
    assert.equal(drain(l, 10 * SEC), 5);
  });

  test('long idle gaps do not overflow (huge rate, huge gap)', () => {
    const l = new RateLimiter(1e9, 1e6);
    assert.equal(drain(l, 0), 1e6);
    const late = Number.MAX_SAFE_INTEGER - 10;
    assert.equal(l.available(late), 1e6);
    assert.equal(drain(l, late), 1e6);
    assert.equal(l.allow(late), false);
    assert.equal(l.allow(late + 1), true); // 1e9/s is 1000 per µs
    assert.equal(drain(l, late + 1), 999);
  });

  test('time going backwards mints nothing', () => {
    const l = new RateLimiter(1000, 1);
    assert.equal(l.allow(10 * SEC), true);
    assert.equal(l.allow(0), false);
    assert.equal(l.allow(10 * SEC + 999), false);
    assert.equal(l.allow(10 * SEC + 1000), true);
  });

  test('perSecond 0 allows only the burst; Infinity allows everything', () => {
    const z = new RateLimiter(0, 2);
    assert.equal(drain(z, 0), 2);
    assert.equal(z.allow(Number.MAX_SAFE_INTEGER), false);
    assert.equal(new RateLimiter(0).allow(0), false);
    const inf = new RateLimiter(Infinity);
    for (let i = 0; i < 10_000; i++) assert.equal(inf.allow(0), true);
  });

  test('invalid configuration throws RangeError', () => {
    assert.throws(() => new RateLimiter(-1), RangeError);
    assert.throws(() => new RateLimiter(NaN), RangeError);
    assert.throws(() => new RateLimiter(10, -1), RangeError);
  });
});

describe('IntervalLimiter (Linux tcp_invalid_ratelimit, per socket)', () => {
  test('at most one per interval; the first is allowed', () => {
    const l = new IntervalLimiter(500_000);
    assert.equal(l.allow(1_000), true);
    assert.equal(l.allow(1_000), false);
    assert.equal(l.allow(500_999), false);
    assert.equal(l.allow(501_000), true);
  });

  test('refused attempts do not push the window forward', () => {
    const l = new IntervalLimiter(500_000);
    assert.equal(l.allow(0), true);
    assert.equal(l.allow(400_000), false);
    assert.equal(l.allow(500_000), true);
    assert.equal(l.allow(900_000), false);
    assert.equal(l.allow(1_000_000), true);
  });

  test('negative elapsed time allows and resets (as Linux tcp_oow_rate_limited)', () => {
    const l = new IntervalLimiter(500_000);
    assert.equal(l.allow(1_000_000), true);
    assert.equal(l.allow(10), true);
    assert.equal(l.allow(20), false);
  });

  test('interval 0 always allows; invalid interval throws', () => {
    const l = new IntervalLimiter(0);
    assert.equal(l.allow(5), true);
    assert.equal(l.allow(5), true);
    assert.throws(() => new IntervalLimiter(-1), RangeError);
  });

  test('huge instants', () => {
    const l = new IntervalLimiter(500_000);
    const t = Number.MAX_SAFE_INTEGER - 1_000_000;
    assert.equal(l.allow(t), true);
    assert.equal(l.allow(t + 499_999), false);
    assert.equal(l.allow(t + 500_000), true);
  });
});
