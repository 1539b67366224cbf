import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SendBuffer, clearSendBufferPool } from '../../src/tcp/sendbuf.js';

function bytes(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

describe('SendBuffer: lazy allocation, growth, release', () => {
  test('no storage until the first write', () => {
    const sb = new SendBuffer(65536);
    assert.equal(sb.allocated, 0);
    assert.equal(sb.length, 0);
    assert.equal(sb.free, 65536);
    sb.release();
    assert.equal(sb.allocated, 0);
  });

  test('grows by powers of two up to capacity', () => {
    const sb = new SendBuffer(65536);
    sb.write(bytes(10));
    const first = sb.allocated;
    assert.ok(first >= 10 && first <= 1024, `first allocation ${first}`);
    assert.equal(first & (first - 1), 0, 'power of two');
    let prev = first;
    const sizes = [first];
    while (sb.length < 65536) {
      sb.write(bytes(1000));
      if (sb.allocated !== prev) {
        assert.equal(sb.allocated & (sb.allocated - 1), 0, 'power of two');
        assert.ok(sb.allocated >= 2 * prev, 'geometric');
        prev = sb.allocated;
        sizes.push(prev);
      }
    }
    assert.equal(sb.allocated, 65536);
    assert.ok(sizes.length > 3);
  });

  test('non-power-of-two capacity: storage ends at exactly capacity', () => {
    const sb = new SendBuffer(100_000);
    sb.write(bytes(100_000));
    assert.equal(sb.length, 100_000);
    assert.equal(sb.allocated, 100_000);
  });

  test('tiny capacity: storage never exceeds it', () => {
    const sb = new SendBuffer(10);
    assert.equal(sb.write(bytes(20)), 10);
    assert.equal(sb.allocated, 10);
  });

  test('release only when empty', () => {
    const sb = new SendBuffer(4096);
    sb.write(bytes(100));
    sb.release();
    assert.ok(sb.allocated > 0);
    assert.deepEqual(sb.view(0, 100), bytes(100));
    sb.consume(100);
    sb.release();
    assert.equal(sb.allocated, 0);
    // Usable again after release.
    assert.equal(sb.write(bytes(5, 7)), 5);
    assert.deepEqual(sb.view(0, 5), bytes(5, 7));
  });

  test('growth preserves wrapped contents', () => {
    const sb = new SendBuffer(1 << 16);
    sb.write(bytes(400));
    sb.consume(300); // head at 300 in a 512 ring
    sb.write(bytes(300, 400)); // wraps
    assert.equal(sb.allocated, 512);
    sb.write(bytes(1000, 700)); // forces growth while wrapped
    assert.ok(sb.allocated >= 1400);
    const out = new Uint8Array(1400);
    sb.copyOut(0, 1400, out, 0);
    assert.deepEqual(out, bytes(1400, 300));
  });
});

describe('SendBuffer: capacity limits', () => {
  test('write accepts only up to free', () => {
    const sb = new SendBuffer(1000);
    assert.equal(sb.write(bytes(600)), 600);
    assert.equal(sb.free, 400);
    assert.equal(sb.write(bytes(600, 600)), 400);
    assert.equal(sb.free, 0);
    assert.equal(sb.write(bytes(1)), 0);
    assert.equal(sb.length, 1000);
  });

  test('write with off/len takes the right slice', () => {
    const sb = new SendBuffer(100);
    const src = bytes(50);
    assert.equal(sb.write(src, 10, 5), 5);
    assert.deepEqual(sb.view(0, 5), bytes(5, 10));
    assert.equal(sb.write(src, 45), 5);
    assert.deepEqual(sb.view(5, 5), bytes(5, 45));
    assert.throws(() => sb.write(src, 40, 20), RangeError);
    assert.throws(() => sb.write(src, -1, 2), RangeError);
  });

  test('shrinking capacity below length keeps data, stops writes', () => {
    const sb = new SendBuffer(1000);
    sb.write(bytes(800));
    sb.capacity = 500;
    assert.equal(sb.free, 0);
    assert.equal(sb.write(bytes(10)), 0);
    assert.equal(sb.length, 800);
    assert.deepEqual(sb.view(0, 800), bytes(800));
    sb.consume(400);
    assert.equal(sb.free, 100);
    assert.equal(sb.write(bytes(200, 800)), 100);
    assert.deepEqual(sb.view(0, 500), bytes(500, 400));
  });

  test('growing capacity allows more', () => {
    const sb = new SendBuffer(100);
    sb.write(bytes(100));
    sb.capacity = 5000;
    assert.equal(sb.write(bytes(4900, 100)), 4900);
    assert.deepEqual(sb.view(0, 5000), bytes(5000));
  });

  test('capacity must be a non-negative integer', () => {
    assert.throws(() => new SendBuffer(-1), RangeError);
    const sb = new SendBuffer(0);
    assert.equal(sb.write(bytes(3)), 0);
    assert.throws(() => {
      sb.capacity = 1.5;
    }, RangeError);
  });
});

describe('SendBuffer: ranges and errors', () => {
  test('copyOut / view / consume out of range throw RangeError', () => {
    const sb = new SendBuffer(100);
    sb.write(bytes(10));
    const dst = new Uint8Array(20);
    assert.throws(() => sb.copyOut(5, 6, dst, 0), RangeError);
    assert.throws(() => sb.copyOut(0, 10, dst, 15), RangeError);
    assert.throws(() => sb.view(11, 0), RangeError);
    assert.throws(() => sb.view(-1, 1), RangeError);
    assert.throws(() => sb.consume(11), RangeError);
    assert.equal(sb.view(10, 0).length, 0);
    sb.copyOut(10, 0, dst, 20);
  });

  test('view is zero-copy when contiguous, a scratch copy when wrapped', () => {
    const sb = new SendBuffer(512);
    sb.write(bytes(500));
    const v1 = sb.view(0, 100);
    const v2 = sb.view(0, 100);
    assert.equal(v1.buffer, v2.buffer, 'same backing store: zero copy');
    sb.consume(400);
    sb.write(bytes(300, 500)); // ring of 512: data at 400..511 then 0..287
    const w = sb.view(50, 200); // 450..511 + 0..137: wraps
    assert.deepEqual(w, bytes(200, 450));
    assert.notEqual(w.buffer, v1.buffer);
    const c = sb.view(0, 50); // contiguous
    assert.equal(c.buffer, v1.buffer);
    assert.deepEqual(c, bytes(50, 400));
  });

  test('consume everything resets to contiguous start', () => {
    const sb = new SendBuffer(512);
    sb.write(bytes(300));
    sb.consume(300);
    sb.write(bytes(512, 3));
    const v = sb.view(0, 512);
    assert.equal(v.byteOffset, 0);
    assert.deepEqual(v, bytes(512, 3));
  });
});

describe('SendBuffer: wrap-around', () => {
  test('write/consume across the end of the ring many times', () => {
    const cap = 1024;
    const sb = new SendBuffer(cap);
    let written = 0;
    let acked = 0;
    for (let round = 0; round < 2000; round++) {
      const want = ((round * 37) % 700) + 1;
      const n = sb.write(bytes(want, written));
      written += n;
      assert.ok(sb.length <= cap);
      // check the whole contents (two-piece copy across the wrap point)
      const all = new Uint8Array(sb.length);
      sb.copyOut(0, sb.length, all, 0);
      assert.deepEqual(all, bytes(sb.length, acked));
      const ack = Math.min(sb.length, ((round * 53) % 600) + 1);
      sb.consume(ack);
      acked += ack;
    }
    assert.equal(written, acked + sb.length);
    assert.ok(written > 100 * cap, 'wrapped many times');
    assert.ok(sb.allocated <= 2 * cap, 'ring (plus scratch) bounded by capacity');
  });
});

describe('SendBuffer: property vs naive array model', () => {
  test('random writes, consumes, reads, capacity changes and releases', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        data: fc.uint8Array({ maxLength: 300, size: 'max' }),
        off: fc.nat(300),
        len: fc.option(fc.nat(300), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant('consume' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({
        kind: fc.constant('view' as const),
        a: fc.double({ min: 0, max: 1, noNaN: true }),
        b: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('capacity' as const), cap: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant('release' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.array(op, { maxLength: 80, size: 'max' }), (cap0, ops) => {
        const sb = new SendBuffer(cap0);
        let cap = cap0;
        let model: number[] = [];
        for (const o of ops) {
          switch (o.kind) {
            case 'write': {
              const off = Math.min(o.off, o.data.length);
              const len = o.len === undefined ? o.data.length - off : Math.min(o.len, o.data.length - off);
              const n = sb.write(o.data, off, len);
              const expect = Math.min(len, Math.max(0, cap - model.length));
              assert.equal(n, expect);
              model = model.concat(Array.from(o.data.subarray(off, off + n)));
              break;
            }
            case 'consume': {
              const n = Math.floor(o.frac * model.length);
              sb.consume(n);
              model = model.slice(n);
              break;
            }
            case 'view': {
              const lo = Math.floor(Math.min(o.a, o.b) * model.length);
              const hi = Math.floor(Math.max(o.a, o.b) * model.length);
              assert.deepEqual(Array.from(sb.view(lo, hi - lo)), model.slice(lo, hi));
              const dst = new Uint8Array(hi - lo + 3);
              sb.copyOut(lo, hi - lo, dst, 3);
              assert.deepEqual(Array.from(dst.subarray(3)), model.slice(lo, hi));
              break;
            }
            case 'capacity':
              sb.capacity = o.cap;
              cap = o.cap;
              break;
            case 'release':
              sb.release();
              if (model.length === 0) assert.equal(sb.allocated, 0);
              break;
          }
          assert.equal(sb.length, model.length);
          assert.equal(sb.free, Math.max(0, cap - model.length));
        }
        const all = new Uint8Array(model.length);
        sb.copyOut(0, model.length, all, 0);
        assert.deepEqual(Array.from(all), model);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe('SendBuffer: the pool of released rings (issue 16)', () => {
  test('a large released ring serves the next large first write (no regrowth); small writes never take one', () => {
    clearSendBufferPool();
    const big = 1 << 20;
    const a = new SendBuffer(4 << 20);
    a.write(bytes(big, 1)); a.write(bytes(big, 2)); a.write(bytes(big, 3)); a.write(bytes(big, 4));
    assert.equal(a.allocated, 4 << 20);
    a.consume(a.length);
    a.release();
    assert.equal(a.allocated, 0);
    // Another buffer's small write allocates small storage, not the pooled 4 MiB ring.
    const small = new SendBuffer(4 << 20);
    small.write(bytes(100));
    assert.ok(small.allocated <= 1024, `small write took ${small.allocated} bytes`);
    // A 1 MiB first write takes the pooled ring: the next three writes need no growth.
    const b = new SendBuffer(4 << 20);
    b.write(bytes(big, 9));
    assert.equal(b.allocated, 4 << 20);
    b.write(bytes(big, 10)); b.write(bytes(big, 11));
    assert.equal(b.allocated, 4 << 20);
    // Only the bytes written are visible, whatever the ring held before.
    const out = new Uint8Array(3 * big);
    b.copyOut(0, 3 * big, out, 0);
    assert.deepEqual(out.subarray(0, big), bytes(big, 9));
    assert.deepEqual(out.subarray(2 * big), bytes(big, 11));
    // A ring larger than the capacity is not taken.
    b.consume(b.length); b.release();
    const c = new SendBuffer(1 << 20);
    c.write(bytes(big >>> 1));
    assert.equal(c.allocated, big >>> 1);
    clearSendBufferPool();
  });

  test('model check with rings reused across buffers: contents always equal what was written', () => {
    clearSendBufferPool();
    let seed = 0x16a;
    const rnd = (n: number): number => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };
    const bufs = [0, 1, 2].map(() => ({ sb: new SendBuffer(1 << 18), model: [] as number[] }));
    let tag = 0;
    for (let step = 0; step < 3000; step++) {
      const x = bufs[rnd(3)]!;
      const op = rnd(4);
      if (op === 0) {
        const n = rnd(3) === 0 ? 65536 + rnd(100000) : rnd(3000);
        const src = bytes(n, tag++);
        const k = x.sb.write(src);
        for (let i = 0; i < k; i++) x.model.push(src[i]!);
      } else if (op === 1) {
        const n = rnd(x.model.length + 1);
        x.sb.consume(n); x.model.splice(0, n);
      } else if (op === 2) {
        x.sb.release();
      } else if (x.model.length > 0) {
        const off = rnd(x.model.length), len = rnd(x.model.length - off + 1);
        const out = new Uint8Array(len);
        x.sb.copyOut(off, len, out, 0);
        assert.deepEqual(Array.from(out), x.model.slice(off, off + len));
      }
      assert.equal(x.sb.length, x.model.length);
    }
    clearSendBufferPool();
  });
});
