import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue, NO_TIMER, type TimerId } from '../../src/time/timerqueue.js';
import { NEVER } from '../../src/time/instant.js';

/** Deterministic PRNG (mulberry32) so the random-ops test is reproducible. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

function drain<T>(q: TimerQueue<T>, now = Number.MAX_SAFE_INTEGER): T[] {
  const out: T[] = [];
  q.popExpired(now, (p) => out.push(p));
  return out;
}

function heapLen(q: TimerQueue<unknown>): number {
  const x = q as unknown as { heapLen: number; runHead: number; runTail: number };
  return x.heapLen + x.runTail - x.runHead;
}

describe('TimerQueue', () => {
  test('empty queue', () => {
    const q = new TimerQueue<string>();
    assert.equal(q.size, 0);
    assert.equal(q.nextDeadline(), NEVER);
    assert.equal(q.popExpired(1e9, () => assert.fail('nothing to fire')), 0);
  });

  test('fires in deadline order, only those due', () => {
    const q = new TimerQueue<number>();
    const ats = [50, 10, 40, 30, 20, 60, 5];
    for (const at of ats) q.schedule(at, at);
    assert.equal(q.size, 7);
    assert.equal(q.nextDeadline(), 5);
    const got: [number, number][] = [];
    assert.equal(q.popExpired(30, (p, at) => got.push([p, at])), 4);
    assert.deepEqual(got, [[5, 5], [10, 10], [20, 20], [30, 30]]);
    assert.equal(q.size, 3);
    assert.equal(q.nextDeadline(), 40);
    assert.deepEqual(drain(q), [40, 50, 60]);
    assert.equal(q.size, 0);
  });

  test('FIFO among equal deadlines', () => {
    const q = new TimerQueue<string>();
    for (const s of ['a', 'b', 'c', 'd', 'e']) q.schedule(100, s);
    q.schedule(50, 'first');
    q.schedule(100, 'f');
    assert.deepEqual(drain(q), ['first', 'a', 'b', 'c', 'd', 'e', 'f']);
  });

  test('FIFO ties survive many interleaved deadlines', () => {
    const q = new TimerQueue<[number, number]>();
    const r = rng(7);
    for (let i = 0; i < 2000; i++) q.schedule(r(20), [0, i]);
    let prev: [number, number] | null = null;
    q.popExpired(NEVER, (p, at) => {
      const cur: [number, number] = [at, p[1]];
      if (prev) assert.ok(prev[0] < cur[0] || (prev[0] === cur[0] && prev[1] < cur[1]), `${prev} then ${cur}`);
      prev = cur;
    });
  });

  test('popExpired passes the id that schedule returned', () => {
    const q = new TimerQueue<string>();
    const a = q.schedule(1, 'a');
    const b = q.schedule(2, 'b');
    const seen: TimerId[] = [];
    q.popExpired(2, (_p, _at, id) => seen.push(id));
    assert.deepEqual(seen, [a, b]);
  });

  test('ids are positive, unique, never NO_TIMER', () => {
    const q = new TimerQueue<number>();
    const ids = new Set<number>();
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) {
        const id = q.schedule(i, i);
        assert.ok(id > 0 && id !== NO_TIMER && Number.isSafeInteger(id));
        assert.ok(!ids.has(id), 'id reused');
        ids.add(id);
      }
      drain(q);
    }
  });

  test('cancel before fire: not fired, size drops, second cancel false', () => {
    const q = new TimerQueue<string>();
    const a = q.schedule(10, 'a');
    const b = q.schedule(20, 'b');
    q.schedule(30, 'c');
    assert.ok(q.has(b));
    assert.equal(q.cancel(b), true);
    assert.ok(!q.has(b));
    assert.equal(q.size, 2);
    assert.equal(q.cancel(b), false);
    assert.equal(q.size, 2);
    assert.deepEqual(drain(q), ['a', 'c']);
    assert.equal(q.cancel(a), false);
  });

  test('cancel after fire returns false, also after the slot is reused', () => {
    const q = new TimerQueue<string>();
    const a = q.schedule(10, 'a');
    assert.deepEqual(drain(q, 10), ['a']);
    assert.equal(q.cancel(a), false);
    const b = q.schedule(20, 'b'); // likely reuses a's slot
    assert.notEqual(a, b);
    assert.equal(q.cancel(a), false, 'stale id must not cancel the new occupant');
    assert.equal(q.size, 1);
    assert.deepEqual(drain(q), ['b']);
  });

  test('cancel of unknown / malformed ids is false', () => {
    const q = new TimerQueue<string>();
    const a = q.schedule(10, 'a');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, a + 1, a + 2 ** 24]) {
      assert.equal(q.cancel(bad), false, String(bad));
    }
    assert.equal(q.size, 1);
  });

  test('nextDeadline skips cancelled entries at the top', () => {
    const q = new TimerQueue<string>();
    const ids = [q.schedule(1, 'a'), q.schedule(2, 'b'), q.schedule(3, 'c'), q.schedule(4, 'd'), q.schedule(5, 'e')];
    q.cancel(ids[0]!);
    assert.equal(q.nextDeadline(), 2);
    q.cancel(ids[1]!);
    assert.equal(q.nextDeadline(), 3);
    q.cancel(ids[3]!); // not at top
    assert.equal(q.nextDeadline(), 3);
    q.cancel(ids[2]!);
    assert.equal(q.nextDeadline(), 5);
    q.cancel(ids[4]!);
    assert.equal(q.nextDeadline(), NEVER);
    assert.equal(q.size, 0);
  });

  test('cancelled entries are not counted or fired even when due', () => {
    const q = new TimerQueue<string>();
    q.schedule(1, 'a');
    const b = q.schedule(1, 'b');
    q.schedule(1, 'c');
    q.cancel(b);
    assert.equal(q.popExpired(1, () => {}), 2);
  });

  test('schedule during pop: due entries fire in the same call, later ones wait', () => {
    const q = new TimerQueue<string>();
    q.schedule(10, 'a');
    q.schedule(30, 'z');
    const got: string[] = [];
    const n = q.popExpired(20, (p, at) => {
      got.push(`${p}@${at}`);
      if (p === 'a') {
        q.schedule(15, 'b'); // due: fires now
        q.schedule(20, 'c'); // due (== now)
        q.schedule(21, 'd'); // not yet
        q.schedule(5, 'e'); // in the past: fires next
      }
    });
    assert.deepEqual(got, ['a@10', 'e@5', 'b@15', 'c@20']);
    assert.equal(n, 4);
    assert.equal(q.size, 2);
    assert.equal(q.nextDeadline(), 21);
  });

  test('fn may cancel pending entries and its own id (false)', () => {
    const q = new TimerQueue<string>();
    let bId = 0;
    const aId = q.schedule(1, 'a');
    bId = q.schedule(2, 'b');
    const got: string[] = [];
    q.popExpired(10, (p) => {
      got.push(p);
      if (p === 'a') {
        assert.equal(q.cancel(aId), false);
        assert.equal(q.cancel(bId), true);
      }
    });
    assert.deepEqual(got, ['a']);
    assert.equal(q.size, 0);
  });

  test('fn may clear the queue', () => {
    const q = new TimerQueue<string>();
    q.schedule(1, 'a');
    q.schedule(2, 'b');
    assert.equal(q.popExpired(10, () => q.clear()), 1);
    assert.equal(q.size, 0);
    assert.equal(q.nextDeadline(), NEVER);
  });

  test('an exception in fn propagates and leaves the rest queued', () => {
    const q = new TimerQueue<string>();
    q.schedule(1, 'a');
    q.schedule(2, 'b');
    assert.throws(() => q.popExpired(10, (p) => { if (p === 'a') throw new Error('boom'); }), /boom/);
    assert.equal(q.size, 1);
    assert.deepEqual(drain(q), ['b']);
  });

  test('NEVER deadlines are live but never fire; NaN is refused', () => {
    const q = new TimerQueue<string>();
    const id = q.schedule(NEVER, 'x');
    assert.equal(q.size, 1);
    assert.equal(q.popExpired(Number.MAX_VALUE, () => assert.fail()), 0);
    assert.ok(q.cancel(id));
    assert.throws(() => q.schedule(Number.NaN, 'y'), RangeError);
    assert.equal(q.size, 0);
  });

  test('clear drops everything and forgets ids', () => {
    const q = new TimerQueue<number>();
    const ids = [1, 2, 3].map((t) => q.schedule(t, t));
    q.cancel(ids[1]!);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.nextDeadline(), NEVER);
    for (const id of ids) assert.equal(q.cancel(id), false);
    q.schedule(7, 7);
    assert.deepEqual(drain(q), [7]);
  });

  test('size accounting through schedule / cancel / fire', () => {
    const q = new TimerQueue<number>();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push(q.schedule(i, i));
    assert.equal(q.size, 100);
    for (let i = 0; i < 100; i += 3) q.cancel(ids[i]!);
    assert.equal(q.size, 66);
    assert.equal(q.popExpired(49, () => {}), 33);
    assert.equal(q.size, 33);
    drain(q);
    assert.equal(q.size, 0);
  });

  test('compaction keeps the heap within twice the live count (re-arm on every ACK)', () => {
    const q = new TimerQueue<number>();
    // 1000 connections, each re-arming its timer 200 times: cancel + schedule later.
    const ids: number[] = [];
    for (let c = 0; c < 1000; c++) ids.push(q.schedule(1000 + c, c));
    for (let k = 1; k <= 200; k++) {
      for (let c = 0; c < 1000; c++) {
        assert.ok(q.cancel(ids[c]!));
        ids[c] = q.schedule(1000 + k * 10 + c, c);
      }
      assert.ok(heapLen(q) <= 2 * q.size + 1, `heap ${heapLen(q)} vs live ${q.size}`);
    }
    assert.equal(q.size, 1000);
    const got = drain(q);
    assert.equal(got.length, 1000);
    assert.deepEqual(got, [...Array(1000).keys()]);
  });

  test('entries in deadline order go to the run, others to the heap; the order is (deadline, schedule order) across both', () => {
    const q = new TimerQueue<string>();
    const x = q as unknown as { heapLen: number; runHead: number; runTail: number };
    const want: [number, number, string][] = [];
    let seq = 0;
    const add = (at: number, p: string): void => { q.schedule(at, p); want.push([at, seq++, p]); };
    for (let i = 0; i < 500; i++) add(100 + i * 2, `up${i}`); // ascending: the run
    for (let i = 0; i < 500; i++) add(1100 - i * 2, `down${i}`); // descending: the heap, equal deadlines to the run's
    add(NEVER, 'never'); // never in the run
    for (let i = 0; i < 50; i++) add(2000, `tie${i}`);
    assert.ok(x.runTail - x.runHead >= 500 && x.heapLen >= 499, `run ${x.runTail - x.runHead}, heap ${x.heapLen}`);
    want.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const got: string[] = [];
    q.popExpired(1e9, (p) => got.push(p));
    assert.deepEqual(got, want.filter((w) => w[0] !== NEVER).map((w) => w[2]));
    assert.equal(q.size, 1);
    assert.equal(q.peek(), 'never');
  });

  test('head/headAt and takeExpired agree with peek/nextDeadline and popExpired on random ops', () => {
    const r = rng(16);
    const a = new TimerQueue<number>(), b = new TimerQueue<number>();
    const ids: [TimerId, TimerId][] = [];
    let now = 0, p = 1;
    for (let op = 0; op < 20_000; op++) {
      const k = r(10);
      if (k < 5) {
        const at = now + r(50) - 5;
        ids.push([a.schedule(at, p), b.schedule(at, p)]);
        p++;
      } else if (k < 7 && ids.length > 0) {
        const [ia, ib] = ids[r(ids.length)]!;
        assert.equal(a.cancel(ia), b.cancel(ib));
      } else if (k < 9) {
        now += r(10);
        const want: [number, number][] = [];
        b.popExpired(now, (x, at) => want.push([x, at]));
        const got: [number, number][] = [];
        for (;;) {
          const at = a.nextDeadline();
          const x = a.takeExpired(now);
          if (x === undefined) break;
          got.push([x, at]);
        }
        assert.deepEqual(got, want, `op ${op}`);
      }
      const h = a.head();
      assert.equal(h, b.peek(), `op ${op}: head`);
      if (h !== undefined) assert.equal(a.headAt(), b.nextDeadline(), `op ${op}: headAt`);
      else assert.equal(b.nextDeadline(), NEVER);
      assert.equal(a.size, b.size);
    }
  });

  test('100k random ops against a naive reference model (seeded)', () => {
    for (const seed of [1, 2, 3]) randomOps(seed, 100_000 / 3 | 0);
  });
});

interface RefEntry { at: number; seq: number; id: TimerId; payload: number }

function randomOps(seed: number, ops: number): void {
  const r = rng(seed);
  const q = new TimerQueue<number>();
  // Count compactions (a private method) to be sure the test exercises them.
  let compactions = 0;
  const qi = q as unknown as { compact: () => void };
  const compact = qi.compact;
  qi.compact = function (this: unknown) { compactions++; compact.call(this); };
  let ref: RefEntry[] = [];
  let seq = 0;
  let now = 0;
  let nextPayload = 1;
  const issued: TimerId[] = [];
  const issuedSet = new Set<TimerId>();

  const refSchedule = (at: number, payload: number, id: TimerId): void => {
    assert.ok(!issuedSet.has(id), `seed ${seed}: id ${id} issued twice`);
    issuedSet.add(id);
    issued.push(id);
    ref.push({ at, seq: seq++, id, payload });
  };
  const refMin = (): number => {
    let best = -1;
    for (let i = 0; i < ref.length; i++) {
      const e = ref[i]!, b = best < 0 ? null : ref[best]!;
      if (!b || e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
    }
    return best;
  };
  const pickAt = (): number => {
    const k = r(10);
    if (k < 5) return now + r(20); // many ties
    if (k < 8) return now + r(3000);
    if (k < 9) return now - r(5); // already due
    return r(50) === 0 ? NEVER : now + r(100_000);
  };

  for (let op = 0; op < ops; op++) {
    const kind = r(100);
    if (kind < 40) {
      const at = pickAt();
      const p = nextPayload++;
      refSchedule(at, p, q.schedule(at, p));
    } else if (kind < 62) {
      // Cancel: a live id, a dead id, or garbage.
      let id: number;
      const k = r(10);
      if (k < 6 && ref.length) id = ref[r(ref.length)]!.id;
      else if (k < 9 && issued.length) id = issued[r(issued.length)]!;
      else id = r(1 << 30);
      const idx = ref.findIndex((e) => e.id === id);
      assert.equal(q.cancel(id), idx >= 0, `seed ${seed} op ${op}: cancel(${id})`);
      if (idx >= 0) ref.splice(idx, 1);
    } else if (kind < 90) {
      now += r(40);
      // Real run first, recording what fn scheduled so the model can replay it.
      const got: [number, number][] = [];
      const children: { at: number; p: number; id: TimerId }[] = [];
      const n = q.popExpired(now, (p, at, id) => {
        got.push([p, id]);
        if (p % 5 === 0) {
          const at2 = at + (p % 3) * 7; // sometimes still due, sometimes not
          const c = nextPayload++;
          children.push({ at: at2, p: c, id: q.schedule(at2, c) });
        }
      });
      const want: [number, number][] = [];
      let child = 0;
      for (;;) {
        const i = refMin();
        if (i < 0 || !(ref[i]!.at <= now)) break;
        const e = ref.splice(i, 1)[0]!;
        want.push([e.payload, e.id]);
        if (e.payload % 5 === 0) {
          const c = children[child++]!;
          assert.ok(c, `seed ${seed} op ${op}: model expected a child`);
          assert.equal(c.at, e.at + (e.payload % 3) * 7);
          refSchedule(c.at, c.p, c.id);
        }
      }
      assert.deepEqual(got, want, `seed ${seed} op ${op}: fired`);
      assert.equal(n, want.length);
      assert.equal(child, children.length);
    } else if (kind < 99) {
      const i = refMin();
      assert.equal(q.nextDeadline(), i < 0 ? NEVER : ref[i]!.at, `seed ${seed} op ${op}: nextDeadline`);
    } else if (r(50) === 0) {
      q.clear();
      ref = [];
    }
    assert.equal(q.size, ref.length, `seed ${seed} op ${op}: size`);
  }
  // Finally everything left (except NEVER entries) drains in model order.
  const got: number[] = [];
  q.popExpired(Number.MAX_VALUE, (p) => got.push(p));
  const want = ref.filter((e) => e.at !== NEVER)
    .sort((a, b) => a.at - b.at || a.seq - b.seq).map((e) => e.payload);
  assert.deepEqual(got, want);
  assert.ok(compactions > 10, `seed ${seed}: only ${compactions} compactions`);
}
