import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Assembler, ASSEMBLER_MAX_RANGES } from '../../src/tcp/assembler.js';

describe('Assembler: basics', () => {
  test('starts empty', () => {
    const a = new Assembler();
    assert.equal(a.isEmpty, true);
    assert.equal(a.frontLength, 0);
    assert.deepEqual(a.ranges(), []);
    assert.equal(a.count, 0);
    assert.equal(a.byteCount, 0);
    assert.equal(a.highestEnd, 0);
  });

  test('zero-length add records nothing and succeeds', () => {
    const a = new Assembler();
    assert.equal(a.add(10, 0), true);
    assert.equal(a.isEmpty, true);
  });

  test('single range away from the front', () => {
    const a = new Assembler();
    assert.equal(a.add(10, 5), true);
    assert.deepEqual(a.ranges(), [[10, 15]]);
    assert.equal(a.frontLength, 0);
    assert.equal(a.isEmpty, false);
  });

  test('range at offset 0 gives frontLength', () => {
    const a = new Assembler();
    a.add(0, 7);
    assert.equal(a.frontLength, 7);
  });

  test('rejects negative or fractional arguments', () => {
    const a = new Assembler();
    assert.throws(() => a.add(-1, 2), RangeError);
    assert.throws(() => a.add(1, -2), RangeError);
    assert.throws(() => a.add(1.5, 2), RangeError);
    assert.throws(() => a.shift(-1), RangeError);
  });

  test('clear empties', () => {
    const a = new Assembler();
    a.add(3, 4);
    a.add(10, 4);
    a.clear();
    assert.equal(a.isEmpty, true);
    assert.deepEqual(a.ranges(), []);
  });
});

describe('Assembler: merging', () => {
  test('adjacent ranges merge (after and before)', () => {
    const a = new Assembler();
    a.add(10, 5);
    a.add(15, 5);
    assert.deepEqual(a.ranges(), [[10, 20]]);
    a.add(5, 5);
    assert.deepEqual(a.ranges(), [[5, 20]]);
  });

  test('overlapping ranges merge', () => {
    const a = new Assembler();
    a.add(10, 10);
    a.add(15, 10);
    assert.deepEqual(a.ranges(), [[10, 25]]);
    a.add(5, 8);
    assert.deepEqual(a.ranges(), [[5, 25]]);
  });

  test('contained range changes nothing', () => {
    const a = new Assembler();
    a.add(10, 20);
    a.add(12, 3);
    assert.deepEqual(a.ranges(), [[10, 30]]);
    a.add(10, 20);
    assert.deepEqual(a.ranges(), [[10, 30]]);
  });

  test('containing range swallows several', () => {
    const a = new Assembler();
    a.add(10, 2);
    a.add(20, 2);
    a.add(30, 2);
    a.add(40, 2);
    a.add(15, 20); // [15, 35) covers 20-22 and 30-32
    assert.deepEqual(a.ranges(), [[10, 12], [15, 35], [40, 42]]);
    a.add(5, 100);
    assert.deepEqual(a.ranges(), [[5, 105]]);
  });

  test('filling a hole exactly bridges two ranges', () => {
    const a = new Assembler();
    a.add(0, 10);
    a.add(20, 10);
    a.add(10, 10);
    assert.deepEqual(a.ranges(), [[0, 30]]);
    assert.equal(a.frontLength, 30);
  });

  test('disjoint ranges stay sorted regardless of arrival order', () => {
    const a = new Assembler();
    a.add(50, 5);
    a.add(10, 5);
    a.add(30, 5);
    assert.deepEqual(a.ranges(), [[10, 15], [30, 35], [50, 55]]);
    assert.equal(a.byteCount, 15);
    assert.equal(a.highestEnd, 55);
    assert.deepEqual(a.find(31), [30, 35]);
    assert.equal(a.find(35), null);
    assert.equal(a.find(0), null);
  });
});

describe('Assembler: shift', () => {
  test('moves ranges down and cuts those below 0', () => {
    const a = new Assembler();
    a.add(0, 10);
    a.add(20, 10);
    a.add(40, 10);
    a.shift(10);
    assert.deepEqual(a.ranges(), [[10, 20], [30, 40]]);
    a.shift(15); // cuts into [10,20)
    assert.deepEqual(a.ranges(), [[0, 5], [15, 25]]);
    assert.equal(a.frontLength, 5);
    a.shift(100);
    assert.equal(a.isEmpty, true);
  });

  test('shift by exactly a range end drops it', () => {
    const a = new Assembler();
    a.add(5, 5);
    a.shift(10);
    assert.equal(a.isEmpty, true);
  });

  test('shift 0 is a no-op', () => {
    const a = new Assembler();
    a.add(5, 5);
    a.shift(0);
    assert.deepEqual(a.ranges(), [[5, 10]]);
  });
});

describe('Assembler: bounded number of ranges', () => {
  function full(): Assembler {
    const a = new Assembler();
    for (let k = 0; k < ASSEMBLER_MAX_RANGES; k++) assert.equal(a.add(10 + 10 * k, 5), true);
    assert.equal(a.count, ASSEMBLER_MAX_RANGES);
    return a;
  }

  test('max is 32 holes', () => {
    assert.equal(ASSEMBLER_MAX_RANGES, 32);
  });

  test('refuses a new disjoint range when full and records nothing', () => {
    const a = full();
    const before = a.ranges();
    assert.equal(a.add(1000, 5), false);
    assert.equal(a.add(0, 5), false); // disjoint from [10,15)
    assert.deepEqual(a.ranges(), before);
  });

  test('still accepts ranges that merge when full', () => {
    const a = full();
    assert.equal(a.add(15, 5), true); // bridges [10,15) and [20,25)
    assert.equal(a.count, ASSEMBLER_MAX_RANGES - 1);
    assert.equal(a.add(5, 5), true); // touches [10,...)
    assert.equal(a.add(12, 1), true); // contained
    assert.equal(a.add(1000, 5), true); // one slot is free again
    assert.equal(a.add(2000, 5), false);
  });

  test('custom bound', () => {
    const a = new Assembler(2);
    assert.equal(a.add(2, 1), true);
    assert.equal(a.add(4, 1), true);
    assert.equal(a.add(6, 1), false);
    assert.throws(() => new Assembler(0), RangeError);
  });
});

describe('Assembler: property vs a per-byte model', () => {
  test('ranges always equal the runs of a boolean model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), off: fc.nat(300), len: fc.nat(40) }),
      fc.record({ kind: fc.constant('shift' as const), n: fc.nat(60) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120, size: 'max' }), fc.integer({ min: 1, max: 8 }), (ops, maxRanges) => {
        const a = new Assembler(maxRanges);
        let model: boolean[] = [];
        const runs = (m: boolean[]): Array<[number, number]> => {
          const out: Array<[number, number]> = [];
          for (let i = 0; i < m.length; i++) {
            if (!m[i]) continue;
            const s = i;
            while (i < m.length && m[i]) i++;
            out.push([s, i]);
          }
          return out;
        };
        for (const o of ops) {
          if (o.kind === 'add') {
            const before = runs(model);
            const touches = before.some(([s, e]) => e >= o.off && s <= o.off + o.len);
            const expectOk = o.len === 0 || touches || before.length < maxRanges;
            assert.equal(a.add(o.off, o.len), expectOk);
            if (expectOk) for (let i = o.off; i < o.off + o.len; i++) model[i] = true;
          } else {
            a.shift(o.n);
            model = model.slice(o.n);
          }
          const r = runs(model);
          assert.deepEqual(a.ranges(), r);
          assert.equal(a.frontLength, r.length > 0 && r[0]![0] === 0 ? r[0]![1] : 0);
          assert.equal(a.isEmpty, r.length === 0);
          assert.ok(a.count <= maxRanges);
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
  });
});
