import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReceiveBuffer } from '../../src/tcp/recvbuf.js';
import { ASSEMBLER_MAX_RANGES } from '../../src/tcp/assembler.js';

function bytes(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

describe('ReceiveBuffer: in order', () => {
  test('lazy: nothing allocated until data arrives', () => {
    const rb = new ReceiveBuffer(65536);
    assert.equal(rb.allocated, 0);
    assert.equal(rb.readable, 0);
    assert.equal(rb.window, 65536);
    assert.equal(rb.read(100).length, 0);
    assert.equal(rb.peek(100).length, 0);
    assert.equal(rb.hasOutOfOrder, false);
    assert.deepEqual(rb.sackBlocks(4), []);
  });

  test('in-order data is readable at once and shrinks the window', () => {
    const rb = new ReceiveBuffer(4096);
    assert.equal(rb.write(0, bytes(100)), 100);
    assert.equal(rb.readable, 100);
    assert.equal(rb.window, 3996);
    assert.equal(rb.write(0, bytes(50, 100)), 50);
    assert.deepEqual(rb.peek(1000), bytes(150));
    assert.equal(rb.readable, 150);
    assert.deepEqual(rb.read(120), bytes(120));
    assert.equal(rb.window, 4096 - 30);
    assert.deepEqual(rb.read(1000), bytes(30, 120));
    assert.equal(rb.readable, 0);
  });

  test('readInto respects max and destination room', () => {
    const rb = new ReceiveBuffer(1000);
    rb.write(0, bytes(100));
    const dst = new Uint8Array(30);
    assert.equal(rb.readInto(dst, 10, 50), 20);
    assert.deepEqual(dst.subarray(10), bytes(20));
    assert.equal(rb.readInto(dst, 0, 5), 5);
    assert.deepEqual(dst.subarray(0, 5), bytes(5, 20));
    assert.equal(rb.readable, 75);
    assert.equal(rb.readInto(dst, 30, 10), 0);
    assert.throws(() => rb.readInto(dst, 31, 1), RangeError);
  });

  test('read of zero or negative max returns empty', () => {
    const rb = new ReceiveBuffer(100);
    rb.write(0, bytes(10));
    assert.equal(rb.read(0).length, 0);
    assert.equal(rb.read(-3).length, 0);
    assert.equal(rb.readable, 10);
  });

  test('storage grows by powers of two up to capacity and is released when empty', () => {
    const rb = new ReceiveBuffer(100_000);
    rb.write(0, bytes(100));
    const first = rb.allocated;
    assert.ok(first >= 100 && first <= 1024);
    assert.equal(first & (first - 1), 0);
    rb.write(0, bytes(5000, 100));
    assert.equal(rb.allocated, 8192);
    rb.write(0, bytes(100_000, 5100)); // trimmed to the window
    assert.equal(rb.readable, 100_000);
    assert.equal(rb.allocated, 100_000);
    rb.release();
    assert.equal(rb.allocated, 100_000, 'not released while data is held');
    assert.deepEqual(rb.read(200_000), bytes(100_000));
    rb.release();
    assert.equal(rb.allocated, 0);
    assert.equal(rb.write(0, bytes(10, 9)), 10);
    assert.deepEqual(rb.read(10), bytes(10, 9));
  });

  test('not released while only out-of-order data is held', () => {
    const rb = new ReceiveBuffer(4096);
    rb.write(100, bytes(10));
    rb.release();
    assert.ok(rb.allocated > 0);
    assert.equal(rb.write(0, bytes(100)), 110);
  });

  test('ring wraps around many times', () => {
    const cap = 1000; // not a power of two: storage is exactly 1000 at the end
    const rb = new ReceiveBuffer(cap);
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 3000; round++) {
      const len = ((round * 97) % 450) + 1;
      // half the time, deliver a later piece first (out of order) then the first piece
      const data = bytes(len, sent);
      let n: number;
      if (round % 2 === 0 && len > 2) {
        const cut = len >> 1;
        assert.equal(rb.write(cut, data.subarray(cut)), 0);
        n = rb.write(0, data.subarray(0, cut));
      } else {
        n = rb.write(0, data);
      }
      sent += n;
      const r = rb.read(((round * 61) % 500) + 1);
      assert.deepEqual(r, bytes(r.length, got));
      got += r.length;
      assert.equal(rb.readable, sent - got);
      // Anything still held out of order (a tail whose in-order half was trimmed by the
      // window) lies inside the window.
      for (const [s, e] of rb.sackBlocks(4)) assert.ok(s > 0 && e <= rb.window);
    }
    assert.ok(got > 100 * cap);
    assert.ok(rb.allocated <= cap);
  });
});

describe('ReceiveBuffer: out of order', () => {
  test('out-of-order then fill', () => {
    const rb = new ReceiveBuffer(4096);
    assert.equal(rb.write(100, bytes(100, 100)), 0);
    assert.equal(rb.readable, 0);
    assert.equal(rb.hasOutOfOrder, true);
    assert.equal(rb.outOfOrderBytes, 100);
    assert.equal(rb.window, 4096, 'out-of-order data does not shrink the window');
    assert.deepEqual(rb.sackBlocks(4), [[100, 200]]);
    assert.equal(rb.write(0, bytes(100)), 200);
    assert.equal(rb.hasOutOfOrder, false);
    assert.equal(rb.outOfOrderBytes, 0);
    assert.deepEqual(rb.sackBlocks(4), []);
    assert.deepEqual(rb.read(1000), bytes(200));
  });

  test('a fill that covers only part of the hole advances only to the hole', () => {
    const rb = new ReceiveBuffer(4096);
    rb.write(300, bytes(100, 300));
    rb.write(100, bytes(100, 100));
    assert.equal(rb.write(0, bytes(50)), 50);
    assert.deepEqual(rb.sackBlocks(4), [[50, 150], [250, 350]]);
    assert.equal(rb.write(0, bytes(100, 50)), 150); // 50..150 plus the held 150..200
    assert.equal(rb.readable, 200);
    assert.deepEqual(rb.sackBlocks(4), [[100, 200]]); // 300..400
    assert.equal(rb.write(0, bytes(100, 200)), 200); // 200..300 plus the held 300..400
    assert.deepEqual(rb.read(1000), bytes(400));
  });

  test('overlapping duplicates are trimmed (negative offsets)', () => {
    const rb = new ReceiveBuffer(4096);
    rb.write(0, bytes(100));
    // retransmission of bytes 50..150 arrives at offset -50 relative to RCV.NXT=100
    assert.equal(rb.write(-50, bytes(100, 50)), 50);
    assert.equal(rb.readable, 150);
    // entirely old duplicate
    assert.equal(rb.write(-150, bytes(100)), 0);
    assert.equal(rb.write(-10, bytes(10, 140)), 0);
    assert.deepEqual(rb.read(1000), bytes(150));
  });

  test('negative offset into out-of-order data absorbs it', () => {
    const rb = new ReceiveBuffer(4096);
    rb.write(0, bytes(10));
    rb.write(20, bytes(10, 30));
    assert.equal(rb.write(-5, bytes(30, 5)), 30); // covers 5..35; RCV.NXT 10 -> 40
    assert.deepEqual(rb.read(100), bytes(40));
  });

  test('overlapping out-of-order segments merge', () => {
    const rb = new ReceiveBuffer(4096);
    rb.write(10, bytes(20, 10));
    rb.write(20, bytes(20, 20));
    rb.write(5, bytes(10, 5));
    assert.deepEqual(rb.sackBlocks(4), [[5, 40]]);
    assert.equal(rb.outOfOrderBytes, 35);
    assert.equal(rb.write(0, bytes(5)), 40);
    assert.deepEqual(rb.read(100), bytes(40));
  });

  test('data beyond the window is trimmed', () => {
    const rb = new ReceiveBuffer(1000);
    rb.write(0, bytes(600));
    assert.equal(rb.window, 400);
    assert.equal(rb.write(300, bytes(300, 900)), 0); // 900..1200, only 900..1000 kept
    assert.deepEqual(rb.sackBlocks(4), [[300, 400]]);
    assert.equal(rb.write(400, bytes(10, 1000)), 0, 'entirely beyond the window');
    assert.equal(rb.write(0, bytes(500, 600)), 400); // 600..1100 trimmed to 600..1000
    assert.equal(rb.window, 0);
    assert.equal(rb.write(0, bytes(10, 1000)), 0, 'zero window accepts nothing');
    assert.deepEqual(rb.read(2000), bytes(1000));
    assert.equal(rb.window, 1000);
  });

  test('refuses a 33rd disjoint out-of-order range but always accepts in-order data', () => {
    const rb = new ReceiveBuffer(1 << 20);
    for (let k = 0; k < ASSEMBLER_MAX_RANGES; k++) rb.write(100 + 100 * k, bytes(10, 100 + 100 * k));
    const before = rb.outOfOrderBytes;
    assert.equal(rb.write(50_000, bytes(10)), 0);
    assert.equal(rb.outOfOrderBytes, before, 'the 33rd range was dropped');
    assert.equal(rb.write(105, bytes(10, 105)), 0, 'merging with an existing range still works');
    assert.equal(rb.write(0, bytes(50)), 50, 'in-order data is accepted when the assembler is full');
  });

  test('capacity change: shrink stops accepting, growth reopens', () => {
    const rb = new ReceiveBuffer(1000);
    rb.write(0, bytes(800));
    rb.capacity = 500;
    assert.equal(rb.window, 0);
    assert.equal(rb.write(0, bytes(10, 800)), 0);
    rb.capacity = 2000;
    assert.equal(rb.window, 1200);
    assert.equal(rb.write(0, bytes(1500, 800)), 1200);
    assert.deepEqual(rb.read(5000), bytes(2000));
    assert.throws(() => {
      rb.capacity = -1;
    }, RangeError);
  });

  test('growth while wrapped keeps out-of-order data in place', () => {
    const rb = new ReceiveBuffer(1 << 16);
    rb.write(0, bytes(500));
    rb.read(400); // head at 400 in a 512 ring
    rb.write(200, bytes(50, 700)); // ooo, wraps in the 512 ring
    rb.write(1500, bytes(100, 2000)); // forces growth
    assert.equal(rb.write(0, bytes(200, 500)), 250);
    assert.deepEqual(rb.read(10_000), bytes(350, 400));
    assert.deepEqual(rb.sackBlocks(4), [[1250, 1350]]);
  });
});

describe('ReceiveBuffer: SACK blocks (RFC 2018 §4, examples of §7)', () => {
  // A receiver whose left window edge is 5000; segments are 500 bytes. The helper converts
  // between sequence numbers and buffer offsets as the engine does.
  function receiver() {
    const rb = new ReceiveBuffer(65536);
    let rcvNxt = 5000;
    return {
      rb,
      seg(seq: number, len = 500): void {
        rcvNxt += rb.write(seq - rcvNxt, bytes(len, seq));
      },
      ack: () => rcvNxt,
      sack: (max = 3) => rb.sackBlocks(max).map(([s, e]) => [rcvNxt + s, rcvNxt + e]),
    };
  }

  test('Case 1: first 4 received, last 4 dropped: plain ACK 7000, no SACK', () => {
    const r = receiver();
    for (const s of [5000, 5500, 6000, 6500]) r.seg(s);
    assert.equal(r.ack(), 7000);
    assert.deepEqual(r.sack(), []);
  });

  test('Case 2: first segment dropped, the other 7 received', () => {
    const r = receiver();
    const expected: Array<[number, number]> = [
      [5500, 6000], [5500, 6500], [5500, 7000], [5500, 7500], [5500, 8000], [5500, 8500], [5500, 9000],
    ];
    [5500, 6000, 6500, 7000, 7500, 8000, 8500].forEach((seq, k) => {
      r.seg(seq);
      assert.equal(r.ack(), 5000);
      assert.deepEqual(r.sack(), [expected[k]]);
    });
  });

  test('Case 3: 2nd, 4th, 6th and 8th dropped; then the 4th, then the 2nd arrive', () => {
    const r = receiver();
    r.seg(5000);
    assert.equal(r.ack(), 5500);
    assert.deepEqual(r.sack(), []);
    r.seg(6000);
    assert.deepEqual(r.sack(), [[6000, 6500]]);
    r.seg(7000);
    assert.deepEqual(r.sack(), [[7000, 7500], [6000, 6500]]);
    r.seg(8000);
    assert.equal(r.ack(), 5500);
    assert.deepEqual(r.sack(), [[8000, 8500], [7000, 7500], [6000, 6500]]);
    // the 4th packet (6500) arrives: first block is the one containing it
    r.seg(6500);
    assert.equal(r.ack(), 5500);
    assert.deepEqual(r.sack(), [[6000, 7500], [8000, 8500]]);
    // the 2nd packet (5500) arrives: ACK 7500, block 8000-8500
    r.seg(5500);
    assert.equal(r.ack(), 7500);
    assert.deepEqual(r.sack(), [[8000, 8500]]);
  });

  test('more ranges than blocks: the most recently reported ones are repeated', () => {
    const r = receiver();
    // five holes: 5500, 6500, 7500, 8500, 9500 received out of order in this order
    for (const s of [5500, 6500, 7500, 8500, 9500]) r.seg(s);
    assert.deepEqual(r.sack(3), [[9500, 10000], [8500, 9000], [7500, 8000]]);
    // a duplicate of an old segment makes its block first again
    r.seg(5500);
    assert.deepEqual(r.sack(3), [[5500, 6000], [9500, 10000], [8500, 9000]]);
    assert.deepEqual(r.sack(4), [[5500, 6000], [9500, 10000], [8500, 9000], [7500, 8000]]);
    // a segment extending a block counts as touching it
    r.seg(7000);
    assert.deepEqual(r.sack(3), [[6500, 8000], [5500, 6000], [9500, 10000]]);
    // filling the first hole: ranges that became in order vanish
    r.seg(5000);
    assert.equal(r.ack(), 6000);
    assert.deepEqual(r.sack(4), [[6500, 8000], [9500, 10000], [8500, 9000]]);
    assert.deepEqual(r.sack(0), []);
  });

  test('an entirely old duplicate does not reorder blocks', () => {
    const r = receiver();
    r.seg(5000);
    r.seg(6000);
    r.seg(7000);
    r.seg(5000); // old duplicate, trimmed entirely
    assert.deepEqual(r.sack(), [[7000, 7500], [6000, 6500]]);
  });
});

describe('ReceiveBuffer: property', () => {
  test('any permutation of overlapping/duplicated chunks, with reads interleaved, yields exactly the stream', () => {
    const scenario = fc
      .record({
        stream: fc.uint8Array({ minLength: 1, maxLength: 1500, size: 'max' }),
        capacity: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 2048 })),
        cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30, size: 'max' }),
        extra: fc.array(
          fc.record({ a: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 0, max: 300 }) }),
          { maxLength: 30, size: 'max' },
        ),
        keys: fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        reads: fc.array(fc.integer({ min: -1, max: 400 }), { minLength: 1, maxLength: 40, size: 'max' }),
      });
    fc.assert(
      fc.property(scenario, ({ stream, capacity, cuts, extra, keys, reads }) => {
        const L = stream.length;
        // a covering partition of the stream, plus random extra (overlapping, duplicate) chunks
        const points = [...new Set([0, L, ...cuts.map((c) => Math.floor(c * L))])].sort((x, y) => x - y);
        const chunks: Array<[number, number]> = [];
        for (let k = 0; k + 1 < points.length; k++) chunks.push([points[k]!, points[k + 1]!]);
        for (const x of extra) {
          const s = Math.floor(x.a * L);
          chunks.push([s, Math.min(L, s + x.len)]);
        }
        const order = chunks.map((c, k) => ({ c, key: keys[k % keys.length]! * 64 + k }));
        order.sort((p, q) => p.key - q.key);

        const rb = new ReceiveBuffer(capacity);
        let rcvNxt = 0; // absolute position of RCV.NXT
        let got = 0; // bytes handed to the reader
        const present = new Uint8Array(L); // model: bytes held out of order (absolute)
        let readIdx = 0;

        const doRead = (max: number): void => {
          const before = rb.readable;
          const out = max < 0 ? rb.peek(1 << 30) : rb.read(max);
          assert.deepEqual(out, stream.subarray(got, got + out.length));
          if (max >= 0) got += out.length;
          assert.equal(rb.readable, before - (max >= 0 ? out.length : 0));
        };

        const modelRanges = (): Array<[number, number]> => {
          const out: Array<[number, number]> = [];
          // nothing is ever held beyond the right window edge, which never moves left here
          const end = Math.min(L, rcvNxt + capacity);
          for (let i = rcvNxt; i < end; i++) {
            if (!present[i]) continue;
            const s = i;
            while (i < end && present[i]) i++;
            out.push([s - rcvNxt, i - rcvNxt]);
          }
          return out;
        };

        let rounds = 0;
        while (got < L) {
          assert.ok(rounds++ < L + 2, 'progress every round');
          for (const { c } of order) {
            const [s, e] = c;
            const winEnd = rcvNxt + rb.window;
            const ts = Math.max(s, rcvNxt);
            const te = Math.min(e, winEnd);
            // model of the assembler bound: a new disjoint out-of-order range is refused when full
            const ranges = modelRanges();
            const refused =
              te > ts && ts > rcvNxt &&
              ranges.length >= ASSEMBLER_MAX_RANGES &&
              !ranges.some(([a, b]) => b + rcvNxt >= ts && a + rcvNxt <= te);
            const readableBefore = rb.readable;
            const n = rb.write(s - rcvNxt, stream.subarray(s, e));
            if (te > ts && !refused) for (let i = ts; i < te; i++) present[i] = 1;
            let expectAdvance = 0;
            while (rcvNxt + expectAdvance < L && present[rcvNxt + expectAdvance]) expectAdvance++;
            assert.equal(n, expectAdvance);
            rcvNxt += n;
            assert.equal(rb.readable, readableBefore + n);
            assert.equal(rb.window, Math.max(0, capacity - rb.readable));
            const mr = modelRanges();
            assert.equal(rb.hasOutOfOrder, mr.length > 0);
            assert.equal(rb.outOfOrderBytes, mr.reduce((sum, [a, b]) => sum + b - a, 0));
            const sacks = rb.sackBlocks(64);
            assert.deepEqual([...sacks].sort((x, y) => x[0] - y[0]), mr);
            // RFC 2018 §4: the first block holds the segment that triggered this ACK, unless it advanced RCV.NXT
            if (n === 0 && te > ts && !refused) {
              const [fs, fe] = sacks[0]!;
              assert.ok(fs + rcvNxt <= ts && te <= fe + rcvNxt, 'first SACK block contains the new segment');
            }
            const r = reads[readIdx++ % reads.length]!;
            doRead(r);
          }
          doRead(1 << 30); // drain so the next round (a retransmission of everything) can progress
        }
        assert.equal(got, L);
        assert.equal(rb.readable, 0);
        assert.equal(rb.hasOutOfOrder, false);
        rb.release();
        assert.equal(rb.allocated, 0);
        assert.ok(rounds >= 1);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe('ReceiveBuffer: text held in the segment until settle() (issue 16)', () => {
  test('a deferred in-order write is read straight from the segment; what is left is copied at settle()', () => {
    const rb = new ReceiveBuffer(65536);
    const seg = bytes(1448, 5);
    assert.equal(rb.write(0, seg, true), 1448);
    assert.equal(rb.readable, 1448);
    assert.equal(rb.window, 65536 - 1448);
    assert.equal(rb.allocated, 0, 'nothing copied into the ring yet');
    const dst = new Uint8Array(1000);
    assert.equal(rb.readInto(dst, 0, 1000), 1000);
    assert.deepEqual(dst, bytes(1000, 5));
    rb.settle();
    seg.fill(0xee); // the packet's memory is reused: the buffer must not see it
    assert.deepEqual(rb.read(1000), bytes(448, 5 + 1000));
    assert.equal(rb.readable, 0);
  });

  test('fully read before settle(): nothing is ever copied into the ring', () => {
    const rb = new ReceiveBuffer(65536);
    const dst = new Uint8Array(4096);
    for (let k = 0; k < 10; k++) {
      const seg = bytes(1448, k);
      rb.write(0, seg, true);
      assert.equal(rb.readInto(dst, 0, dst.length), 1448);
      assert.deepEqual(dst.subarray(0, 1448), seg);
      rb.settle();
    }
    assert.equal(rb.allocated, 0);
  });

  test('not deferred while bytes are readable or out of order; trimmed to the window', () => {
    const rb = new ReceiveBuffer(2000);
    rb.write(0, bytes(100), true);
    rb.settle();
    assert.equal(rb.allocated > 0, true);
    const seg = bytes(100, 100);
    rb.write(0, seg, true); // readable bytes exist: copied at once
    seg.fill(0);
    assert.deepEqual(rb.read(200), bytes(200));
    const ooo = new ReceiveBuffer(2000);
    ooo.write(500, bytes(100, 7));
    const s2 = bytes(300, 1);
    assert.equal(ooo.write(0, s2, true), 300);
    s2.fill(0);
    assert.deepEqual(ooo.read(300), bytes(300, 1));
    // A segment beyond the window is trimmed, deferred or not.
    const small = new ReceiveBuffer(1000);
    const big = bytes(1500, 3);
    assert.equal(small.write(0, big, true), 1000);
    assert.equal(small.window, 0);
    small.settle(); big.fill(0);
    assert.deepEqual(small.read(2000), bytes(1000, 3));
  });

  test('seeded random stream: deferred writes, reads before and after settle(), the source clobbered after each settle()', () => {
    let seed = 0x5eed16a;
    const rnd = (n: number): number => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };
    for (let round = 0; round < 40; round++) {
      const L = 20000 + rnd(20000);
      const stream = new Uint8Array(L);
      for (let i = 0; i < L; i++) stream[i] = rnd(256);
      const cap = 1000 + rnd(8000);
      const rb = new ReceiveBuffer(cap);
      let rcvNxt = 0, got = 0;
      const read = (max: number): void => {
        const kind = rnd(3);
        if (kind === 0) {
          const out = rb.read(max);
          assert.deepEqual(out, stream.subarray(got, got + out.length)); got += out.length;
        } else if (kind === 1) {
          const dst = new Uint8Array(max + 3);
          const n = rb.readInto(dst, 3, max);
          assert.deepEqual(dst.subarray(3, 3 + n), stream.subarray(got, got + n)); got += n;
        } else {
          const out = rb.peek(max);
          assert.deepEqual(out, stream.subarray(got, got + out.length));
        }
      };
      let guard = 0;
      while (got < L) {
        assert.ok(guard++ < 100000);
        // A segment: mostly in order, sometimes ahead (out of order) or an old duplicate.
        const r = rnd(10);
        const start = r < 7 ? rcvNxt : r < 9 ? Math.min(L - 1, rcvNxt + rnd(3000)) : Math.max(0, rcvNxt - rnd(2000));
        const end = Math.min(L, start + 1 + rnd(1600));
        const seg = stream.slice(start, end); // the packet's own memory
        const adv = rb.write(start - rcvNxt, seg, rnd(4) !== 0);
        rcvNxt += adv;
        if (rnd(2) === 0) read(rnd(3000));
        rb.settle();
        seg.fill(0xa5);
        if (rnd(2) === 0) read(rnd(3000));
        assert.equal(rb.readable, rcvNxt - got);
      }
    }
  });
});
