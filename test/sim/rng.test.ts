import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/sim/rng.js';

describe('Rng', () => {
  test('same seed gives the same stream; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
    assert.equal(a.seed, 42);
  });

  test('golden values stay stable (a changed generator would change every seeded run)', () => {
    const r = new Rng(1);
    const first = [r.nextU32(), r.nextU32(), r.nextU32()];
    const again = new Rng(1);
    assert.deepEqual([again.nextU32(), again.nextU32(), again.nextU32()], first);
    for (const v of first) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  });

  test('seeds above 2^32 and negative seeds are distinct streams', () => {
    const vals = [0, 1, 2 ** 32, 2 ** 32 + 1, -1, 2 ** 40].map((s) => new Rng(s).nextU32());
    assert.equal(new Set(vals).size, vals.length);
  });

  test('float is in [0,1) with mean ~0.5', () => {
    const r = new Rng(7);
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      sum += f;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  });

  test('int(lo, hi) covers [lo, hi) uniformly, never hi', () => {
    const r = new Rng(9);
    const counts = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const v = r.int(5, 15);
      assert.ok(Number.isInteger(v) && v >= 5 && v < 15);
      counts[v - 5]++;
    }
    for (const c of counts) assert.ok(Math.abs(c - n / 10) < n / 10 * 0.05, `bucket ${c}`);
    assert.equal(r.int(3, 4), 3);
    assert.throws(() => r.int(4, 4), RangeError);
    // Ranges wider than 2^32 still work.
    const big = r.int(0, 2 ** 40);
    assert.ok(big >= 0 && big < 2 ** 40 && Number.isInteger(big));
  });

  test('chance(p) frequency ~p; 0 never, 1 always', () => {
    const r = new Rng(11);
    let hits = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (r.chance(0.3)) hits++;
    assert.ok(Math.abs(hits / n - 0.3) < 0.01, `${hits / n}`);
    for (let i = 0; i < 1000; i++) {
      assert.equal(r.chance(0), false);
      assert.equal(r.chance(1), true);
    }
  });

  test('bytes(n): length, determinism, all byte values appear', () => {
    for (const n of [0, 1, 3, 4, 5, 17]) assert.equal(new Rng(1).bytes(n).length, n);
    assert.deepEqual(new Rng(5).bytes(33), new Rng(5).bytes(33));
    const seen = new Set(new Rng(5).bytes(20_000));
    assert.equal(seen.size, 256);
  });

  test('fork: deterministic, label-dependent, independent of parent consumption', () => {
    const p1 = new Rng(100), p2 = new Rng(100);
    for (let i = 0; i < 50; i++) p2.nextU32(); // consuming the parent must not shift forks
    const f1 = p1.fork('link-a'), f2 = p2.fork('link-a'), g = p1.fork('link-b');
    const s1 = Array.from({ length: 20 }, () => f1.nextU32());
    assert.deepEqual(s1, Array.from({ length: 20 }, () => f2.nextU32()));
    assert.notDeepEqual(s1, Array.from({ length: 20 }, () => g.nextU32()));
    // The parent stream is unaffected by forking.
    const q = new Rng(100);
    const p3 = new Rng(100);
    p3.fork('x');
    assert.equal(p3.nextU32(), q.nextU32());
    // A fork's seed reproduces it, and is a safe integer.
    const f = new Rng(100).fork('link-a');
    assert.ok(Number.isSafeInteger(f.seed));
    assert.deepEqual(Array.from({ length: 20 }, () => new Rng(f.seed).nextU32()).slice(0, 1), [s1[0]]);
    // Different parent seeds give different forks of the same label.
    assert.notEqual(new Rng(1).fork('a').nextU32(), new Rng(2).fork('a').nextU32());
  });
});
