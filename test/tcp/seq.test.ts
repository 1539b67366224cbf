import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  seqAdd, seqDiff, seqLt, seqLe, seqGt, seqGe, seqMax, seqMin,
  seqInRange, seqInRangeIncl, segmentAcceptable,
} from '../../src/tcp/seq.js';

const TOP = 0xffffffff;
const HALF = 2 ** 31;

// Sequence numbers clustered around the wrap (…, 0xFFFFFFFE, 0xFFFFFFFF, 0, 1, …) plus anywhere.
const nearWrap = fc.oneof(
  fc.integer({ min: 0, max: 4096 }).map((k) => TOP - k),
  fc.integer({ min: 0, max: 4096 }),
  fc.integer({ min: 0, max: TOP }),
);
// Signed distances that are strictly inside the comparable window.
const delta = fc.oneof(
  fc.integer({ min: -5000, max: 5000 }),
  fc.integer({ min: -(HALF - 1), max: HALF - 1 }),
);

describe('seq arithmetic', () => {
  test('examples across the wrap', () => {
    assert.equal(seqAdd(TOP, 1), 0);
    assert.equal(seqAdd(TOP, 2), 1);
    assert.equal(seqAdd(0, -1), TOP);
    assert.equal(seqAdd(5, -10), TOP - 4);
    assert.equal(seqDiff(0, TOP), 1);
    assert.equal(seqDiff(TOP, 0), -1);
    assert.equal(seqDiff(10, 10), 0);
    assert.ok(seqLt(TOP, 0));
    assert.ok(seqGt(0, TOP));
    assert.ok(seqLe(TOP, TOP));
    assert.ok(seqGe(TOP, TOP));
    assert.ok(!seqLt(TOP, TOP));
    assert.equal(seqMax(TOP, 3), 3);
    assert.equal(seqMin(TOP, 3), TOP);
    assert.equal(seqMax(-1, 3), 3); // unnormalized input is fine
    assert.equal(seqMin(-1, 3), TOP);
  });

  test('seqDiff never throws and stays in [-2^31, 2^31)', () => {
    fc.assert(fc.property(nearWrap, nearWrap, (a, b) => {
      const d = seqDiff(a, b);
      return Number.isInteger(d) && d >= -HALF && d < HALF;
    }));
  });

  test('seqAdd results are normalized to [0, 2^32)', () => {
    fc.assert(fc.property(nearWrap, delta, (a, d) => {
      const r = seqAdd(a, d);
      return Number.isInteger(r) && r >= 0 && r <= TOP;
    }));
  });

  test('seqDiff(seqAdd(a, d), a) === d for |d| < 2^31', () => {
    fc.assert(fc.property(nearWrap, delta, (a, d) => seqDiff(seqAdd(a, d), a) === d), { numRuns: 2000 });
  });

  test('seqAdd(b, seqDiff(a, b)) === a', () => {
    fc.assert(fc.property(nearWrap, nearWrap, (a, b) => seqAdd(b, seqDiff(a, b)) === a));
  });

  test('a + d is later than a exactly when d > 0', () => {
    fc.assert(fc.property(nearWrap, delta, (a, d) => {
      const b = seqAdd(a, d);
      return seqGt(b, a) === d > 0 && seqLt(b, a) === d < 0 && seqGe(b, a) === d >= 0 && seqLe(b, a) === d <= 0;
    }), { numRuns: 2000 });
  });

  test('antisymmetry: lt(a,b) === gt(b,a), and not both lt(a,b) and lt(b,a)', () => {
    fc.assert(fc.property(nearWrap, delta, (a, d) => {
      const b = seqAdd(a, d);
      return seqLt(a, b) === seqGt(b, a) && seqLe(a, b) === seqGe(b, a) &&
        !(seqLt(a, b) && seqLt(b, a)) && (seqLe(a, b) && seqLe(b, a)) === (a === b);
    }), { numRuns: 2000 });
  });

  test('exactly 2^31 apart is ambiguous (documented): both compare less', () => {
    assert.ok(seqLt(0, HALF) && seqLt(HALF, 0));
  });

  test('transitivity within a 2^31 window', () => {
    const win = fc.integer({ min: 0, max: HALF - 1 });
    fc.assert(fc.property(nearWrap, win, win, win, (base, x, y, z) => {
      const [a, b, c] = [seqAdd(base, x), seqAdd(base, y), seqAdd(base, z)];
      if (seqLt(a, b) && seqLt(b, c)) assert.ok(seqLt(a, c));
      if (seqLe(a, b) && seqLe(b, c)) assert.ok(seqLe(a, c));
      // Within the window the order is the order of offsets from base.
      assert.equal(seqLt(a, b), x < y);
    }), { numRuns: 2000 });
  });

  test('seqMax / seqMin pick by sequence order and return one of the inputs', () => {
    fc.assert(fc.property(nearWrap, delta, (a, d) => {
      const b = seqAdd(a, d);
      const hi = seqMax(a, b), lo = seqMin(a, b);
      return (hi === a || hi === b) && (lo === a || lo === b) && seqGe(hi, lo) &&
        (d >= 0 ? hi === b && lo === a : hi === a && lo === b);
    }));
  });
});

describe('seqInRange', () => {
  test('examples across the wrap', () => {
    const lo = TOP - 1; // window [0xFFFFFFFE, 2) covers FFFFFFFE, FFFFFFFF, 0, 1
    const hi = seqAdd(lo, 4);
    assert.equal(hi, 2);
    for (const v of [TOP - 1, TOP, 0, 1]) assert.ok(seqInRange(v, lo, hi), `in ${v}`);
    for (const v of [TOP - 2, 2, 3]) assert.ok(!seqInRange(v, lo, hi), `out ${v}`);
    assert.ok(seqInRangeIncl(2, lo, hi));
    assert.ok(!seqInRangeIncl(3, lo, hi));
    assert.ok(!seqInRange(lo, lo, lo)); // empty range
    assert.ok(seqInRangeIncl(lo, lo, lo));
  });

  test('matches the offset definition', () => {
    const len = fc.integer({ min: 0, max: HALF });
    fc.assert(fc.property(nearWrap, len, fc.integer({ min: -1000, max: HALF + 1000 }), (lo, n, off) => {
      const hi = seqAdd(lo, n);
      const v = seqAdd(lo, off);
      assert.equal(seqInRange(v, lo, hi), off >= 0 && off < n);
      assert.equal(seqInRangeIncl(v, lo, hi), off >= 0 && off <= n);
    }), { numRuns: 2000 });
  });
});

describe('segmentAcceptable (RFC 9293 §3.10.7.4)', () => {
  test('length 0, window 0: only SEG.SEQ = RCV.NXT', () => {
    assert.ok(segmentAcceptable(TOP, 0, TOP, 0));
    assert.ok(!segmentAcceptable(0, 0, TOP, 0));
    assert.ok(!segmentAcceptable(TOP - 1, 0, TOP, 0));
    fc.assert(fc.property(nearWrap, nearWrap, (seq, nxt) => segmentAcceptable(seq, 0, nxt, 0) === (seq === nxt)));
  });

  test('length 0, window > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND', () => {
    const nxt = TOP - 9; // window of 20 spans the wrap: [FFFFFFF6 .. 9]
    assert.ok(segmentAcceptable(nxt, 0, nxt, 20));
    assert.ok(segmentAcceptable(TOP, 0, nxt, 20));
    assert.ok(segmentAcceptable(0, 0, nxt, 20));
    assert.ok(segmentAcceptable(9, 0, nxt, 20));
    assert.ok(!segmentAcceptable(10, 0, nxt, 20)); // = RCV.NXT+RCV.WND
    assert.ok(!segmentAcceptable(nxt - 1, 0, nxt, 20));
  });

  test('length > 0, window 0: never acceptable', () => {
    fc.assert(fc.property(nearWrap, fc.integer({ min: 1, max: 65535 }), nearWrap, (seq, len, nxt) =>
      !segmentAcceptable(seq, len, nxt, 0)));
    assert.ok(!segmentAcceptable(7, 1, 7, 0));
  });

  test('length > 0, window > 0: first or last octet in the window', () => {
    const nxt = TOP - 9;
    const wnd = 20; // last acceptable octet is seqAdd(nxt, 19) = 9
    assert.ok(segmentAcceptable(nxt, 100, nxt, wnd)); // starts at RCV.NXT, overruns the window
    assert.ok(segmentAcceptable(9, 5, nxt, wnd)); // starts at the last octet of the window
    assert.ok(!segmentAcceptable(10, 5, nxt, wnd)); // starts just past the window
    assert.ok(segmentAcceptable(seqAdd(nxt, -5), 6, nxt, wnd)); // old data whose last octet is RCV.NXT
    assert.ok(!segmentAcceptable(seqAdd(nxt, -5), 5, nxt, wnd)); // entirely old: ends at RCV.NXT-1
    // Starts before and ends after the window: neither end inside, so the RFC table refuses it.
    assert.ok(!segmentAcceptable(seqAdd(nxt, -1), wnd + 2, nxt, wnd));
  });

  test('SYN/FIN count in SEG.LEN: a bare FIN at RCV.NXT with zero window is refused', () => {
    // A FIN occupies one sequence number, so SEG.LEN = 1 and the >0/0 case applies.
    assert.ok(!segmentAcceptable(100, 1, 100, 0));
    assert.ok(segmentAcceptable(100, 1, 100, 1));
  });

  test('property: agrees with the table written with offsets from RCV.NXT', () => {
    fc.assert(fc.property(
      nearWrap,
      fc.integer({ min: -70000, max: 140000 }),
      fc.integer({ min: 0, max: 70000 }),
      fc.integer({ min: 0, max: 65535 }),
      (nxt, off, len, wnd) => {
        const seq = seqAdd(nxt, off);
        const first = off, last = off + len - 1;
        let want: boolean;
        if (len === 0 && wnd === 0) want = off === 0;
        else if (len === 0) want = first >= 0 && first < wnd;
        else if (wnd === 0) want = false;
        else want = (first >= 0 && first < wnd) || (last >= 0 && last < wnd);
        assert.equal(segmentAcceptable(seq, len, nxt, wnd), want);
      },
    ), { numRuns: 5000 });
  });

  test('degenerate inputs never throw', () => {
    assert.equal(segmentAcceptable(5, -3, 5, 10), true); // negative length treated as 0
    assert.equal(segmentAcceptable(5, 1, 5, -1), false); // negative window treated as 0
    assert.equal(segmentAcceptable(5, 1, 5, 2 ** 40), true); // huge window capped
  });
});
