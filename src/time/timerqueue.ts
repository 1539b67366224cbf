// One timer queue per stack (DESIGN.md "Time"): a binary min-heap ordered by
// (deadline, schedule order), with lazy cancellation as in gVisor's tcp timers — cancel only
// marks the entry, which is dropped when it reaches the top or at the next compaction.
// A TCP connection re-arms its retransmission timer on every ACK, so schedule/cancel must be
// cheap and allocation-free:
//  - the heap is three parallel typed arrays (deadline, sequence, slot), no object per entry;
//  - each entry owns a *slot* holding its payload, state and generation; the TimerId encodes
//    slot + generation, so cancel(id) is O(1) array reads with no Map or Set;
//  - a freed slot bumps its generation, so an id that already fired or was cancelled can
//    never match the slot's next occupant;
//  - entries scheduled in deadline order — no earlier than the last one appended — go to a
//    FIFO "run" beside the heap instead: O(1) in and out. Most timers are such: a link's
//    deliveries (now + delay), TIME-WAIT (now + 2·MSL, thousands at once in a connect-rate
//    run; Linux keeps them on a timer wheel). The earliest entry is the smaller of the heap's
//    top and the run's head by (deadline, schedule order), so the order is exactly the one
//    a heap alone gives (issue 16).

import { NEVER, type Instant } from './instant.js';

/** Opaque timer handle. Always a positive integer: 0 is never issued (see NO_TIMER). */
export type TimerId = number;
/** A TimerId value that is never issued, usable as "no timer armed". */
export const NO_TIMER: TimerId = 0;

// id = generation * SLOT_LIMIT + slot, kept below 2^53 so ids are exact doubles.
const SLOT_LIMIT = 2 ** 24; // max entries in the heap at once (live + cancelled)
const GEN_LIMIT = 2 ** 29; // a slot used this many times is retired, so ids never repeat

const FREE = 0;
const LIVE = 1;
const CANCELLED = 2;

const INITIAL_CAPACITY = 16;

function grownF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

export class TimerQueue<T> {
  // Heap, positions 0..heapLen-1; entry i is (heapAt[i], heapSeq[i], heapSlot[i]).
  private heapAt = new Float64Array(INITIAL_CAPACITY);
  private heapSeq = new Float64Array(INITIAL_CAPACITY);
  private heapSlot = new Int32Array(INITIAL_CAPACITY);
  private heapLen = 0;

  // The run, positions runHead..runTail-1, in (deadline, sequence) order.
  private runAt = new Float64Array(INITIAL_CAPACITY);
  private runSeq = new Float64Array(INITIAL_CAPACITY);
  private runSlot = new Int32Array(INITIAL_CAPACITY);
  private runHead = 0;
  private runTail = 0;

  // Slots, indexed by slot number.
  private slotGen = new Int32Array(INITIAL_CAPACITY);
  private slotState = new Uint8Array(INITIAL_CAPACITY);
  private readonly slotPayload: (T | undefined)[] = [];
  private slotCount = 0;
  private freeSlots = new Int32Array(INITIAL_CAPACITY);
  private freeLen = 0;

  private nextSeq = 0; // FIFO tie-break among equal deadlines
  private live = 0;
  private cancelled = 0; // cancelled entries still in the heap or the run
  private lastHeadAt: Instant = NEVER; // head()'s deadline, for headAt()

  /** Live (scheduled, not cancelled, not fired) entries. */
  get size(): number {
    return this.live;
  }

  /**
   * Schedule payload at deadline `at` (may be NEVER, in which case it never fires).
   * Entries with equal deadlines fire in the order they were scheduled.
   */
  schedule(at: Instant, payload: T): TimerId {
    if (at !== at) throw new RangeError('TimerQueue.schedule: deadline is NaN');
    const slot = this.allocSlot();
    this.slotState[slot] = LIVE;
    this.slotPayload[slot] = payload;
    this.live++;
    const seq = this.nextSeq++;
    // In deadline order (and not NEVER, which would keep everything after it out of the run).
    if (at !== NEVER && (this.runTail === this.runHead || at >= this.runAt[this.runTail - 1]!)) this.append(at, seq, slot);
    else this.push(at, seq, slot);
    return this.slotGen[slot]! * SLOT_LIMIT + slot;
  }

  /**
   * Cancel a live timer: O(1), it is only marked (lazy). Returns false when the id is unknown,
   * already fired or already cancelled. Rebuilds the heap when cancelled entries are more
   * than half of it, so memory stays bounded by twice the live count.
   */
  cancel(id: TimerId): boolean {
    if (!(id > 0) || !Number.isSafeInteger(id)) return false;
    const slot = id % SLOT_LIMIT;
    if (slot >= this.slotCount) return false;
    if (this.slotState[slot] !== LIVE || this.slotGen[slot] !== (id - slot) / SLOT_LIMIT) return false;
    this.slotState[slot] = CANCELLED;
    this.slotPayload[slot] = undefined; // let the payload be collected now
    this.live--;
    this.cancelled++;
    if (this.cancelled * 2 > this.heapLen + this.runTail - this.runHead) this.compact();
    return true;
  }

  /** True if id is scheduled and has neither fired nor been cancelled. */
  has(id: TimerId): boolean {
    if (!(id > 0) || !Number.isSafeInteger(id)) return false;
    const slot = id % SLOT_LIMIT;
    return slot < this.slotCount && this.slotState[slot] === LIVE &&
      this.slotGen[slot] === (id - slot) / SLOT_LIMIT;
  }

  /** The earliest live deadline, or NEVER when there is none. Drops cancelled entries at the top. */
  nextDeadline(): Instant {
    for (;;) {
      const r = this.topInRun();
      if (r < 0) return NEVER;
      const slot = r === 1 ? this.runSlot[this.runHead]! : this.heapSlot[0]!;
      if (this.slotState[slot] !== CANCELLED) return r === 1 ? this.runAt[this.runHead]! : this.heapAt[0]!;
      this.dropTop(r);
      this.cancelled--;
      this.freeSlot(slot);
    }
  }

  /** The payload of the entry nextDeadline() reports; undefined when the queue is empty. */
  peek(): T | undefined {
    return this.head();
  }

  /**
   * The payload of the live entry at the top (what nextDeadline() reports), undefined when
   * there is none: nextDeadline() and peek() in one pass, for callers that look at the head
   * on every step (Stack.settledTimerHead).
   */
  head(): T | undefined {
    for (;;) {
      const r = this.topInRun();
      if (r < 0) return undefined;
      const slot = r === 1 ? this.runSlot[this.runHead]! : this.heapSlot[0]!;
      if (this.slotState[slot] !== CANCELLED) {
        this.lastHeadAt = r === 1 ? this.runAt[this.runHead]! : this.heapAt[0]!;
        return this.slotPayload[slot];
      }
      this.dropTop(r);
      this.cancelled--;
      this.freeSlot(slot);
    }
  }

  /** The deadline of the entry head() just returned (valid until the queue changes). */
  headAt(): Instant {
    return this.lastHeadAt;
  }

  /**
   * Remove and return the payload of the earliest live entry with deadline <= now, in
   * (deadline, schedule order); undefined when none is due. popExpired without a callback
   * (no closure per call), for queues whose payloads are never undefined (the simulation's
   * events). The entry is removed before it is returned, as in popExpired.
   */
  takeExpired(now: Instant): T | undefined {
    for (;;) {
      const r = this.topInRun();
      if (r < 0) return undefined;
      if (!((r === 1 ? this.runAt[this.runHead]! : this.heapAt[0]!) <= now)) return undefined;
      const slot = r === 1 ? this.runSlot[this.runHead]! : this.heapSlot[0]!;
      this.dropTop(r);
      if (this.slotState[slot] === CANCELLED) {
        this.cancelled--;
        this.freeSlot(slot);
        continue;
      }
      const payload = this.slotPayload[slot] as T;
      this.live--;
      this.freeSlot(slot);
      return payload;
    }
  }

  /** Remove the entry nextDeadline() reports without firing it (a stale entry its owner settled). */
  dropNext(): void {
    this.nextDeadline(); // cancelled entries off the top first
    const r = this.topInRun();
    if (r < 0) return;
    const slot = r === 1 ? this.runSlot[this.runHead]! : this.heapSlot[0]!;
    this.dropTop(r);
    this.live--;
    this.freeSlot(slot);
  }

  /**
   * Fire every live entry with deadline <= now, in (deadline, schedule order), calling
   * fn(payload, at, id). Each entry is removed before fn runs, so fn may schedule, cancel
   * (cancel of the firing id returns false), clear, or even call popExpired again; entries fn
   * schedules with at <= now fire in this same call (a fn that always re-schedules at <= now
   * therefore never returns). If fn throws, the exception propagates and the remaining
   * entries stay queued. Returns the number of entries fired.
   */
  popExpired(now: Instant, fn: (payload: T, at: Instant, id: TimerId) => void): number {
    let fired = 0;
    for (;;) {
      const r = this.topInRun();
      if (r < 0) break;
      const at = r === 1 ? this.runAt[this.runHead]! : this.heapAt[0]!;
      if (!(at <= now)) break;
      const slot = r === 1 ? this.runSlot[this.runHead]! : this.heapSlot[0]!;
      this.dropTop(r);
      if (this.slotState[slot] === CANCELLED) {
        this.cancelled--;
        this.freeSlot(slot);
        continue;
      }
      const id = this.slotGen[slot]! * SLOT_LIMIT + slot;
      const payload = this.slotPayload[slot] as T;
      this.live--;
      this.freeSlot(slot);
      fired++;
      fn(payload, at, id);
    }
    return fired;
  }

  /** Drop every entry; their ids become unknown (cancel returns false). */
  clear(): void {
    const n = this.heapLen;
    this.heapLen = 0;
    for (let i = 0; i < n; i++) this.freeSlot(this.heapSlot[i]!);
    for (let i = this.runHead; i < this.runTail; i++) this.freeSlot(this.runSlot[i]!);
    this.runHead = 0;
    this.runTail = 0;
    this.live = 0;
    this.cancelled = 0;
  }

  // ---- slots ----

  private allocSlot(): number {
    if (this.freeLen > 0) return this.freeSlots[--this.freeLen]!;
    const slot = this.slotCount;
    if (slot >= SLOT_LIMIT) throw new RangeError(`TimerQueue: more than ${SLOT_LIMIT} pending timers`);
    if (slot === this.slotGen.length) {
      const n = Math.min(slot * 2, SLOT_LIMIT);
      this.slotGen = grownI32(this.slotGen, n);
      const st = new Uint8Array(n);
      st.set(this.slotState);
      this.slotState = st;
      this.freeSlots = grownI32(this.freeSlots, n);
    }
    this.slotCount = slot + 1;
    this.slotGen[slot] = 1; // generation starts at 1 so no id is 0 (NO_TIMER)
    this.slotPayload.push(undefined);
    return slot;
  }

  private freeSlot(slot: number): void {
    this.slotState[slot] = FREE;
    this.slotPayload[slot] = undefined;
    const gen = this.slotGen[slot]! + 1;
    // A slot that has issued GEN_LIMIT ids is retired (stays FREE forever) rather than
    // wrapping its generation, so a stale id can never cancel a newer timer.
    if (gen >= GEN_LIMIT) return;
    this.slotGen[slot] = gen;
    this.freeSlots[this.freeLen++] = slot;
  }

  // ---- run and heap ----

  /** Where the earliest entry is: 1 the run's head, 0 the heap's top, -1 both empty. */
  private topInRun(): number {
    const h = this.runHead;
    if (h === this.runTail) return this.heapLen > 0 ? 0 : -1;
    if (this.heapLen === 0) return 1;
    const ra = this.runAt[h]!, ha = this.heapAt[0]!;
    return ra < ha || (ra === ha && this.runSeq[h]! < this.heapSeq[0]!) ? 1 : 0;
  }

  /** Remove the entry topInRun() pointed at. */
  private dropTop(inRun: number): void {
    if (inRun === 1) {
      if (++this.runHead === this.runTail) { this.runHead = 0; this.runTail = 0; }
    } else {
      this.removeTop();
    }
  }

  private append(at: number, seq: number, slot: number): void {
    let t = this.runTail;
    if (t === this.runAt.length) {
      const live = t - this.runHead;
      if (this.runHead > 0 && live * 2 <= t) {
        // Mostly consumed: slide the live part to the front instead of growing.
        this.runAt.copyWithin(0, this.runHead, t);
        this.runSeq.copyWithin(0, this.runHead, t);
        this.runSlot.copyWithin(0, this.runHead, t);
      } else {
        const n = t * 2;
        const a = new Float64Array(n), q = new Float64Array(n), sl = new Int32Array(n);
        a.set(this.runAt.subarray(this.runHead, t));
        q.set(this.runSeq.subarray(this.runHead, t));
        sl.set(this.runSlot.subarray(this.runHead, t));
        this.runAt = a; this.runSeq = q; this.runSlot = sl;
      }
      this.runHead = 0;
      t = live;
    }
    this.runAt[t] = at;
    this.runSeq[t] = seq;
    this.runSlot[t] = slot;
    this.runTail = t + 1;
  }

  private push(at: number, seq: number, slot: number): void {
    let i = this.heapLen;
    if (i === this.heapAt.length) {
      const n = i * 2;
      this.heapAt = grownF64(this.heapAt, n);
      this.heapSeq = grownF64(this.heapSeq, n);
      this.heapSlot = grownI32(this.heapSlot, n);
    }
    this.heapLen = i + 1;
    const hAt = this.heapAt, hSeq = this.heapSeq, hSlot = this.heapSlot;
    // Sift up with a hole: move parents down until the new entry's place is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pAt = hAt[p]!;
      if (pAt < at || (pAt === at && hSeq[p]! < seq)) break;
      hAt[i] = pAt;
      hSeq[i] = hSeq[p]!;
      hSlot[i] = hSlot[p]!;
      i = p;
    }
    hAt[i] = at;
    hSeq[i] = seq;
    hSlot[i] = slot;
  }

  private removeTop(): void {
    const last = --this.heapLen;
    if (last > 0) {
      this.heapAt[0] = this.heapAt[last]!;
      this.heapSeq[0] = this.heapSeq[last]!;
      this.heapSlot[0] = this.heapSlot[last]!;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const hAt = this.heapAt, hSeq = this.heapSeq, hSlot = this.heapSlot, n = this.heapLen;
    const at = hAt[i]!, seq = hSeq[i]!, slot = hSlot[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n) {
        const rAt = hAt[r]!, cAt = hAt[c]!;
        if (rAt < cAt || (rAt === cAt && hSeq[r]! < hSeq[c]!)) c = r;
      }
      const cAt = hAt[c]!;
      if (at < cAt || (at === cAt && seq < hSeq[c]!)) break;
      hAt[i] = cAt;
      hSeq[i] = hSeq[c]!;
      hSlot[i] = hSlot[c]!;
      i = c;
    }
    hAt[i] = at;
    hSeq[i] = seq;
    hSlot[i] = slot;
  }

  /** Remove every cancelled entry from the heap (re-heapify: Floyd, O(n)) and the run. */
  private compact(): void {
    const w = this.keepLive(this.heapAt, this.heapSeq, this.heapSlot, 0, this.heapLen);
    this.heapLen = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.siftDown(i);
    // The run keeps its order.
    this.runTail = this.keepLive(this.runAt, this.runSeq, this.runSlot, this.runHead, this.runTail);
    this.runHead = 0;
    this.cancelled = 0;
  }

  /**
   * Move the live entries of [from, to) to the front of the arrays, in order, and free the
   * slots of the cancelled ones. Returns how many are kept.
   */
  private keepLive(at: Float64Array, seq: Float64Array, slots: Int32Array, from: number, to: number): number {
    let w = 0;
    for (let r = from; r < to; r++) {
      const slot = slots[r]!;
      if (this.slotState[slot] === CANCELLED) {
        this.freeSlot(slot);
        continue;
      }
      at[w] = at[r]!;
      seq[w] = seq[r]!;
      slots[w] = slot;
      w++;
    }
    return w;
  }
}
