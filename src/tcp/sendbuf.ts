// TCP send buffer: a byte ring holding data the user wrote that is not yet acknowledged.
//
// Offset 0 is the byte at SND.UNA (the oldest unacknowledged byte); bytes below SND.NXT
// are in flight, the rest are queued. Unacknowledged data stays here until it is ACKed
// (RFC 9293 §3.8.1: the retransmission queue), so retransmission just re-reads a range:
// there are no per-segment objects (smoltcp keeps unacked data in the same ring).
//
// Memory: with ~100,000 idle connections in mind, storage is allocated on the first write,
// grows by powers of two up to `capacity`, and `release()` drops it once empty.

/** Smallest storage allocated on first write (clamped to the capacity). */
const MIN_STORAGE = 512;

const EMPTY = new Uint8Array(0);

/**
 * Rings released by connections whose send queue emptied, for the next ring allocation
 * (issue 16). A connection that writes in bursts (the `net` API's 1 MiB writes, each
 * waiting for 'drain') empties its queue between bursts; release() then dropped a ring of
 * several MiB and the next write grew a new one from 512 bytes by doubling — zeroed
 * allocations and copies of ~1.6× the bytes sent, plus the GC of them. The pool keeps a few
 * large rings (at most 4, 32 MiB together; as Linux recycles page fragments for skbs) so
 * the next burst, of this or any connection in this thread, starts with one; small rings
 * are not kept, so idle connections still hold nothing. The contents of a pooled ring are never read: only bytes written
 * after allocation are (`len` starts at 0).
 */
const POOL_MIN = 64 * 1024;
const POOL_MAX_RINGS = 4;
/** At most this much memory is held in the pool (per thread). */
const POOL_MAX_BYTES = 32 * 1024 * 1024;
const pool: Uint8Array[] = [];

/** A pooled ring of at least `min` and at most `max` bytes (the smallest such), or null. */
function takePooled(min: number, max: number): Uint8Array | null {
  let best = -1;
  for (let k = 0; k < pool.length; k++) {
    const n = pool[k]!.length;
    if (n >= min && n <= max && (best < 0 || n < pool[best]!.length)) best = k;
  }
  if (best < 0) return null;
  const b = pool[best]!;
  pool[best] = pool[pool.length - 1]!;
  pool.pop();
  return b;
}

function givePooled(b: Uint8Array): void {
  if (b.length < POOL_MIN || b.length > POOL_MAX_BYTES) return;
  pool.push(b);
  // Over the limits: drop the smallest rings (the largest save the most growth).
  let total = 0;
  for (const r of pool) total += r.length;
  while (pool.length > POOL_MAX_RINGS || total > POOL_MAX_BYTES) {
    let small = 0;
    for (let k = 1; k < pool.length; k++) if (pool[k]!.length < pool[small]!.length) small = k;
    total -= pool[small]!.length;
    pool[small] = pool[pool.length - 1]!;
    pool.pop();
  }
}

/** @internal for tests: empty the pool. */
export function clearSendBufferPool(): void {
  pool.length = 0;
}

/** Storage size for `need` bytes: the next power of two >= need, clamped to `limit`. */
function growSize(need: number, limit: number): number {
  let size = MIN_STORAGE;
  while (size < need) size *= 2;
  // Non-power-of-two capacities end with exactly `limit` bytes rather than overshooting.
  const cap = limit > need ? limit : need;
  return size < cap ? size : cap;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

export class SendBuffer {
  private cap: number;
  private buf: Uint8Array | null = null;
  /** Ring index of offset 0. */
  private head = 0;
  private len = 0;
  /** For `view()` of a range that wraps around the end of the ring. */
  private scratch: Uint8Array | null = null;

  constructor(capacity: number) {
    checkCount('capacity', capacity);
    this.cap = capacity;
  }

  /** SO_SNDBUF. Shrinking below `length` keeps the data and only stops further writes. */
  get capacity(): number {
    return this.cap;
  }
  set capacity(v: number) {
    checkCount('capacity', v);
    this.cap = v;
  }

  /** Bytes held: unacknowledged (in flight) plus not yet sent. */
  get length(): number {
    return this.len;
  }

  /** Room left for writes (never negative). */
  get free(): number {
    return this.cap > this.len ? this.cap - this.len : 0;
  }

  /** Bytes of storage currently allocated (ring + scratch); 0 in the lazy state. */
  get allocated(): number {
    return (this.buf?.length ?? 0) + (this.scratch?.length ?? 0);
  }

  /** Append up to `free` bytes of src[off, off+len); returns how many were accepted. */
  write(src: Uint8Array, off = 0, len: number = src.length - off): number {
    checkCount('off', off);
    checkCount('len', len);
    if (off + len > src.length) throw new RangeError(`write: [${off}, ${off + len}) exceeds source length ${src.length}`);
    const n = len < this.free ? len : this.free;
    if (n === 0) return 0;
    this.ensure(this.len + n);
    const buf = this.buf!;
    const size = buf.length;
    let idx = this.head + this.len;
    if (idx >= size) idx -= size;
    const first = size - idx < n ? size - idx : n;
    buf.set(src.subarray(off, off + first), idx);
    if (first < n) buf.set(src.subarray(off + first, off + n), 0);
    this.len += n;
    return n;
  }

  /** Copy bytes [offset, offset+len) of the buffer into dst at dstOff. */
  copyOut(offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    this.checkRange(offset, len);
    checkCount('dstOff', dstOff);
    if (dstOff + len > dst.length) throw new RangeError(`copyOut: destination too small`);
    if (len === 0) return;
    const buf = this.buf!;
    const size = buf.length;
    let idx = this.head + offset;
    if (idx >= size) idx -= size;
    const first = size - idx < len ? size - idx : len;
    dst.set(buf.subarray(idx, idx + first), dstOff);
    if (first < len) dst.set(buf.subarray(0, len - first), dstOff + first);
  }

  /**
   * Bytes [offset, offset+len): a zero-copy subarray of the ring when contiguous, else a
   * copy in an internal scratch buffer. Either way valid only until the next call on this
   * buffer; callers copy it into the outgoing segment.
   */
  view(offset: number, len: number): Uint8Array {
    this.checkRange(offset, len);
    if (len === 0) return EMPTY;
    const buf = this.buf!;
    const size = buf.length;
    let idx = this.head + offset;
    if (idx >= size) idx -= size;
    if (idx + len <= size) return buf.subarray(idx, idx + len);
    if (this.scratch === null || this.scratch.length < len) {
      this.scratch = new Uint8Array(growSize(len, size));
    }
    this.copyOut(offset, len, this.scratch, 0);
    return this.scratch.subarray(0, len);
  }

  /** Drop n bytes from the front: they were acknowledged (SND.UNA advanced by n). */
  consume(n: number): void {
    checkCount('n', n);
    if (n > this.len) throw new RangeError(`consume(${n}) exceeds length ${this.len}`);
    if (n === 0) return;
    this.len -= n;
    if (this.len === 0) {
      // Restart at index 0 so the next writes are contiguous (view() stays zero-copy).
      this.head = 0;
      return;
    }
    this.head += n;
    const size = this.buf!.length;
    if (this.head >= size) this.head -= size;
  }

  /** If empty, free the storage (back to the lazy state). */
  release(): void {
    if (this.len !== 0) return;
    if (this.buf !== null) givePooled(this.buf);
    this.buf = null;
    this.scratch = null;
    this.head = 0;
  }

  private checkRange(offset: number, len: number): void {
    checkCount('offset', offset);
    checkCount('len', len);
    if (offset + len > this.len) {
      throw new RangeError(`[${offset}, ${offset + len}) out of range (length ${this.len})`);
    }
  }

  /** Make the ring hold at least `need` bytes, unwrapping the contents to index 0. */
  private ensure(need: number): void {
    const old = this.buf;
    const size = old === null ? 0 : old.length;
    if (need <= size) return;
    const want = growSize(need, this.cap);
    // A large first write (a bulk writer's burst) takes a pooled ring up to the capacity:
    // that also saves the growth steps of the next writes. Small writes never take one.
    const next = (old === null && want >= POOL_MIN ? takePooled(want, Math.max(want, this.cap)) : null) ?? new Uint8Array(want);
    if (old !== null && this.len > 0) {
      const first = size - this.head < this.len ? size - this.head : this.len;
      next.set(old.subarray(this.head, this.head + first), 0);
      if (first < this.len) next.set(old.subarray(0, this.len - first), first);
    }
    this.buf = next;
    this.head = 0;
  }
}
