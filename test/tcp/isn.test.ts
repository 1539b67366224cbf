import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IsnGenerator, fourMicrosecondTimer } from '../../src/tcp/isn.js';

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
const OTHER = Uint8Array.from({ length: 16 }, (_, i) => (i * 91 + 3) & 0xff);
const A = 0x0a000001; // 10.0.0.1
const B = 0x0a000002; // 10.0.0.2
const TWO32 = 2 ** 32;

describe('IsnGenerator (RFC 6528 §3)', () => {
  test('deterministic for a fixed secret', () => {
    const g1 = new IsnGenerator(SECRET);
    const g2 = new IsnGenerator(Uint8Array.from(SECRET));
    for (const now of [0, 1, 4, 123_456_789, 2 ** 40]) {
      assert.equal(g1.isn(A, 40000, B, 80, now), g2.isn(A, 40000, B, 80, now));
      assert.equal(g1.isn(A, 40000, B, 80, now), g1.isn(A, 40000, B, 80, now));
    }
  });

  test('differs across each 4-tuple field and across secrets', () => {
    const g = new IsnGenerator(SECRET);
    const base = g.isn(A, 40000, B, 80, 1000);
    const variants = [
      g.isn(A + 1, 40000, B, 80, 1000),
      g.isn(A, 40001, B, 80, 1000),
      g.isn(A, 40000, B + 1, 80, 1000),
      g.isn(A, 40000, B, 81, 1000),
      g.isn(B, 80, A, 40000, 1000), // the reverse direction is another connection-id
      new IsnGenerator(OTHER).isn(A, 40000, B, 80, 1000),
    ];
    for (const v of variants) assert.notEqual(v, base);
    assert.equal(new Set(variants).size, variants.length);
  });

  test('ports and addresses do not alias (local/remote ports are not just summed)', () => {
    const g = new IsnGenerator(SECRET);
    assert.notEqual(g.isn(A, 1, B, 2, 0), g.isn(A, 2, B, 1, 0));
    assert.notEqual(g.isn(A, 1, B, 2, 0), g.isn(B, 1, A, 2, 0));
  });

  test('many ports give distinct ISNs (F looks random)', () => {
    const g = new IsnGenerator(SECRET);
    const seen = new Set<number>();
    for (let port = 1024; port < 3024; port++) seen.add(g.isn(A, port, B, 443, 0));
    assert.equal(seen.size, 2000);
  });

  test('advances by 1 per 4 µs on the same tuple', () => {
    const g = new IsnGenerator(SECRET);
    const t = 1_000_000;
    const i0 = g.isn(A, 40000, B, 80, t);
    assert.equal((g.isn(A, 40000, B, 80, t + 4000) - i0 + TWO32) % TWO32, 1000);
    assert.equal((g.isn(A, 40000, B, 80, t + 4) - i0 + TWO32) % TWO32, 1);
    assert.equal(g.isn(A, 40000, B, 80, t + 3), i0); // t is a multiple of 4: same tick
    assert.equal((g.isn(A, 40000, B, 80, t + 60_000_000) - i0 + TWO32) % TWO32, 15_000_000);
  });

  test('wraps mod 2^32', () => {
    const g = new IsnGenerator(SECRET);
    const f = g.isn(A, 40000, B, 80, 0); // M = 0, so this is F itself
    const zeroAt = 4 * (TWO32 - f); // M + F = 2^32 ≡ 0
    assert.equal(g.isn(A, 40000, B, 80, zeroAt), 0);
    assert.equal(g.isn(A, 40000, B, 80, zeroAt - 4), 0xffffffff);
    assert.equal(g.isn(A, 40000, B, 80, zeroAt + 4), 1);
    // M itself wraps after 4 * 2^32 µs (~4.8 h).
    assert.equal(g.isn(A, 40000, B, 80, 4 * TWO32 + 123), g.isn(A, 40000, B, 80, 123));
  });

  test('exact at large instants (near 2^53 µs)', () => {
    const g = new IsnGenerator(SECRET);
    const t = 2 ** 52;
    const i0 = g.isn(A, 1, B, 2, t);
    assert.equal((g.isn(A, 1, B, 2, t + 4000) - i0 + TWO32) % TWO32, 1000);
    assert.equal(fourMicrosecondTimer(2 ** 52 + 8), (2 ** 50 + 2) % TWO32);
  });

  test('fourMicrosecondTimer handles negative instants', () => {
    assert.equal(fourMicrosecondTimer(-4), 0xffffffff);
    assert.equal(fourMicrosecondTimer(0), 0);
    assert.equal(fourMicrosecondTimer(7), 1);
  });

  test('always a uint32', () => {
    const g = new IsnGenerator(SECRET);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (la, lp, ra, rp, now) => {
          const v = g.isn(la, lp, ra, rp, now);
          assert.ok(Number.isInteger(v) && v >= 0 && v < TWO32);
        },
      ),
    );
  });

  test('longer secrets use all their bytes', () => {
    const long1 = new Uint8Array(32).fill(7);
    const long2 = Uint8Array.from(long1);
    long2[31] = 8;
    assert.notEqual(new IsnGenerator(long1).isn(A, 1, B, 2, 0), new IsnGenerator(long2).isn(A, 1, B, 2, 0));
    assert.equal(new IsnGenerator(long1).isn(A, 1, B, 2, 0), new IsnGenerator(Uint8Array.from(long1)).isn(A, 1, B, 2, 0));
  });
});
