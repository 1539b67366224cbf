// The test pattern served by `synack serve` GET /bytes/N (src/cli/tunhost.ts): the cached
// reader (PatternCache) yields exactly the bytes of the plain generator (PatternStream),
// whatever the read sizes, across chunk boundaries and past the cached part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatternCache, PatternStream, patternBytes } from '../../src/cli/tunhost.js';
import { Rng } from '../../src/sim/rng.js';

const C = PatternCache.CHUNK;

function readAll(next: (k: number) => Uint8Array, sizes: number[]): Uint8Array {
  const total = sizes.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const k of sizes) {
    const b = next(k);
    assert.equal(b.length, k);
    out.set(b, off);
    off += k;
  }
  return out;
}

test('PatternStream.clone continues at the same position (odd offsets too)', () => {
  const a = new PatternStream();
  a.next(7);
  const b = a.clone();
  assert.deepEqual(a.next(1001), b.next(1001));
  assert.deepEqual(patternBytes(1008).subarray(7), new PatternStream().next(1008).subarray(7));
});

test('PatternCache: random read sizes equal the plain stream, within, across and past the cache', () => {
  const rng = new Rng(16);
  // A cache of 2 chunks (limit just short of 3): reads cross chunk boundaries and run past it.
  const cache = new PatternCache(3 * C - 1);
  const total = 3 * C + 12345;
  const want = patternBytes(total);
  for (let round = 0; round < 3; round++) {
    const sizes: number[] = [];
    let left = total;
    while (left > 0) {
      const pick = rng.float() < 0.3 ? 1 + Math.floor(rng.float() * 7) : 1 + Math.floor(rng.float() * (round === 2 ? C * 1.5 : 300_000));
      const k = Math.min(left, pick);
      sizes.push(k);
      left -= k;
    }
    const r = cache.open();
    assert.ok(Buffer.from(readAll((k) => r.next(k), sizes)).equals(Buffer.from(want)), `round ${round}`);
  }
  assert.equal(cache.size, 2 * C, 'holds whole chunks up to its limit');
  // Reading does not change what a later reader sees.
  const again = cache.open();
  assert.deepEqual(again.next(100), want.subarray(0, 100));
});

test('PatternCache: aligned reads inside the cache are views, not copies', () => {
  const cache = new PatternCache(C);
  const r = cache.open();
  const a = r.next(256 * 1024);
  const b = cache.open().next(256 * 1024);
  assert.equal(a.buffer, b.buffer, 'the same cached memory');
  const none = new PatternCache(0).open();
  assert.deepEqual(none.next(1000), patternBytes(1000), 'a zero limit generates everything');
});
