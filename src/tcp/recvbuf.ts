// TCP receive buffer: one byte ring that is both the in-order queue the reader drains and
// the reassembly area (smoltcp style). Readable bytes sit at the front; a segment that
// arrives out of order is written at its final position beyond them, and an Assembler
// remembers which ranges are present. When the hole before them fills, they become
// readable without being copied again.
//
// Offsets are relative to RCV.NXT (offset 0 = the next byte expected), never sequence
// numbers: the engine converts.
//
// Memory: storage is allocated on the first write, grows by powers of two up to
// `capacity`, and `release()` drops it when nothing is held.

import { Assembler } from './assembler.js';

/** Smallest storage allocated on first write (clamped to the capacity). */
const MIN_STORAGE = 512;

/** Storage size for `need` bytes: the next power of two >= need, clamped to `limit`. */
function growSize(need: number, limit: number): number {
  let size = MIN_STORAGE;
  while (size < need) size *= 2;
  const cap = limit > need ? limit : need;
  return size < cap ? size : cap;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

export class ReceiveBuffer {
  private cap: number;
  private buf: Uint8Array | null = null;
  /** Ring index of the first readable byte (RCV.NXT - readable). */
  private head = 0;
  /** In-order bytes waiting for the reader. */
  private len = 0;
  /** Out-of-order ranges, offsets relative to RCV.NXT. */
  private readonly asm = new Assembler();
  /** Bytes made in-order since creation: turns RCV.NXT-relative offsets into stable positions. */
  private base = 0;
  /**
   * RFC 2018 §4 bookkeeping: for each out-of-order range, the stream position (base-relative
   * → absolute) of the segment that most recently touched it, newest first, at most one
   * entry per range. The first SACK block is the range of the newest entry; the following
   * ones repeat the most recently reported ranges.
   */
  private recent: number[] = [];
  /**
   * In-order text not yet copied into the ring (issue 16: two copies per byte instead of
   * three on the receive side): a segment that arrives while nothing is readable is held as
   * the packet's own bytes, [pendOff, pend.length), so a reader that takes it at once (in
   * onReadable, as recv(2) on a waiting reader; Linux tcp_recvmsg's prequeue/ucopy did the
   * same) copies straight from the packet into its buffer. What the reader leaves must be
   * copied into the ring by settle() before the packet's memory may be reused — the engine
   * calls it right after onReadable (tcp/input.ts processText). While `pend` is set the ring
   * holds no readable bytes and no out-of-order ones.
   */
  private pend: Uint8Array | null = null;
  private pendOff = 0;

  constructor(capacity: number) {
    checkCount('capacity', capacity);
    this.cap = capacity;
  }

  /** SO_RCVBUF. */
  get capacity(): number {
    return this.cap;
  }
  set capacity(v: number) {
    checkCount('capacity', v);
    this.cap = v;
  }

  /** In-order bytes ready for the reader. */
  get readable(): number {
    return this.len;
  }

  /**
   * Bytes the peer may still send beyond RCV.NXT (RFC 9293 §3.8.6: the window offered is
   * the buffer space available). Out-of-order data already held lies inside this window.
   */
  get window(): number {
    return this.cap > this.len ? this.cap - this.len : 0;
  }

  get hasOutOfOrder(): boolean {
    return !this.asm.isEmpty;
  }

  /** Bytes held beyond RCV.NXT (out of order). */
  get outOfOrderBytes(): number {
    return this.asm.byteCount;
  }

  /** Bytes of storage currently allocated; 0 in the lazy state. */
  get allocated(): number {
    return this.buf?.length ?? 0;
  }

  /**
   * Data that starts `offset` bytes past RCV.NXT. Returns how many bytes became newly in
   * order (the caller advances RCV.NXT by that much).
   *
   * RFC 9293 §3.10.7.4 / §3.3 (segment acceptability): bytes before RCV.NXT (offset < 0)
   * are old duplicates and bytes at or beyond RCV.NXT+RCV.WND lie outside the window;
   * both are trimmed and only the part inside the window is kept. Out-of-order data is
   * dropped if the assembler cannot record another disjoint range.
   */
  write(offset: number, data: Uint8Array, defer = false): number {
    if (!Number.isInteger(offset)) throw new RangeError(`write offset must be an integer, got ${offset}`);
    if (this.pend !== null) this.settle();
    const s = offset < 0 ? 0 : offset;
    const win = this.window;
    let e = offset + data.length;
    if (e > win) e = win;
    if (e <= s) return 0;

    if (s === 0) {
      if (defer && this.len === 0 && this.asm.isEmpty) {
        // Nothing readable, nothing beyond: hold the bytes where they are (see `pend`).
        this.pend = e === data.length && offset === 0 ? data : data.subarray(s - offset, e - offset);
        this.pendOff = 0;
        this.len = e;
        this.base += e;
        if (this.recent.length > 0) this.recent = [];
        return e;
      }
      // In order: store, then absorb any out-of-order ranges this reaches or fills.
      this.ensure(this.len + e);
      this.copyIn(this.len, data, s - offset, e);
      this.asm.shift(e);
      const extra = this.asm.frontLength;
      this.asm.shift(extra);
      const advanced = e + extra;
      this.len += advanced;
      this.base += advanced;
      // Ranges that became in order vanish from the SACK list (RFC 2018 §4: SACK blocks
      // only describe data beyond the cumulative ACK).
      if (this.recent.length > 0) this.recent = this.recent.filter((p) => p >= this.base);
      return advanced;
    }

    if (!this.asm.add(s, e - s)) return 0;
    this.ensure(this.len + e);
    this.copyIn(this.len + s, data, s - offset, e - s);
    this.touch(s);
    return 0;
  }

  /**
   * Copy held text (`pend`) that the reader did not take into the ring: after this the
   * buffer no longer refers to the segment's memory. A no-op when nothing is held.
   */
  settle(): void {
    const p = this.pend;
    if (p === null) return;
    this.pend = null;
    const n = p.length - this.pendOff;
    // Nothing else is readable while text is held (write() settles first), so the ring is
    // empty and `len` counts exactly the held bytes.
    if (n > 0) {
      this.ensure(n);
      this.copyIn(0, p, this.pendOff, n);
    }
  }

  /** Remove and return up to `max` in-order bytes (a fresh array; empty when none). */
  read(max: number): Uint8Array {
    const n = this.clampRead(max);
    const out = new Uint8Array(n);
    if (n > 0) {
      this.copyOut(n, out, 0);
      this.advance(n);
    }
    return out;
  }

  /** Remove up to `max` in-order bytes into dst at dstOff (bounded by dst's room); returns the count. */
  readInto(dst: Uint8Array, dstOff: number, max: number): number {
    checkCount('dstOff', dstOff);
    if (dstOff > dst.length) throw new RangeError(`readInto: dstOff ${dstOff} beyond destination`);
    let n = this.clampRead(max);
    if (n > dst.length - dstOff) n = dst.length - dstOff;
    if (n > 0) {
      this.copyOut(n, dst, dstOff);
      this.advance(n);
    }
    return n;
  }

  /** Up to `max` in-order bytes without removing them (a copy). */
  peek(max: number): Uint8Array {
    const n = this.clampRead(max);
    const out = new Uint8Array(n);
    if (n > 0) this.copyOut(n, out, 0);
    return out;
  }

  /**
   * SACK blocks, RFC 2018 §4, as [start, end) offsets relative to RCV.NXT, at most `max`:
   * first the block containing the most recently received out-of-order segment, then the
   * most recently reported others, then (if room remains) any other ranges held, lowest first.
   * A segment that advanced RCV.NXT is not reported (its data is covered by the ACK).
   */
  sackBlocks(max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (max <= 0 || this.asm.isEmpty) return out;
    for (const pos of this.recent) {
      const rel = pos - this.base;
      if (rel < 0) continue;
      const range = this.asm.find(rel);
      if (range === null || out.some((b) => b[0] === range[0])) continue;
      out.push(range);
      if (out.length >= max) return out;
    }
    // Normally every range has an entry in `recent`; this keeps the list complete anyway.
    for (const range of this.asm.ranges()) {
      if (out.some((b) => b[0] === range[0])) continue;
      out.push(range);
      if (out.length >= max) break;
    }
    return out;
  }

  /** Free the storage when nothing is held (neither readable nor out-of-order bytes). */
  release(): void {
    if (this.len !== 0 || !this.asm.isEmpty) return;
    this.buf = null;
    this.head = 0;
    this.recent = [];
  }

  private clampRead(max: number): number {
    if (!(max > 0)) return 0;
    const m = Math.floor(max);
    return m < this.len ? m : this.len;
  }

  /** The segment now at `rel` (out of order) touched its range: move that range to the front. */
  private touch(rel: number): void {
    const range = this.asm.find(rel)!;
    const lo = this.base + range[0];
    const hi = this.base + range[1];
    // One entry per range: entries inside the (possibly just merged) range are superseded.
    // Compacted in place: at most maxRanges entries, no allocation per segment.
    const r = this.recent;
    let w = 0;
    for (let k = 0; k < r.length; k++) {
      const p = r[k];
      if (p >= this.base && (p < lo || p >= hi)) r[w++] = p;
    }
    r.length = w;
    r.unshift(this.base + rel);
  }

  /** Copy src[srcOff, srcOff+count) to ring position `pos` (relative to the head). */
  private copyIn(pos: number, src: Uint8Array, srcOff: number, count: number): void {
    const buf = this.buf!;
    const size = buf.length;
    let idx = this.head + pos;
    if (idx >= size) idx -= size;
    const first = size - idx < count ? size - idx : count;
    buf.set(src.subarray(srcOff, srcOff + first), idx);
    if (first < count) buf.set(src.subarray(srcOff + first, srcOff + count), 0);
  }

  /** Copy the first `count` readable bytes into dst at dstOff. */
  private copyOut(count: number, dst: Uint8Array, dstOff: number): void {
    const p = this.pend;
    if (p !== null) {
      const o = this.pendOff;
      dst.set(o === 0 && count === p.length ? p : p.subarray(o, o + count), dstOff);
      return;
    }
    const buf = this.buf!;
    const size = buf.length;
    const first = size - this.head < count ? size - this.head : count;
    dst.set(buf.subarray(this.head, this.head + first), dstOff);
    if (first < count) dst.set(buf.subarray(0, count - first), dstOff + first);
  }

  private advance(n: number): void {
    this.len -= n;
    if (this.pend !== null) {
      // The ring is empty while text is held (see `pend`); its head stays.
      this.pendOff += n;
      if (this.len === 0) this.pend = null;
      return;
    }
    if (this.len === 0 && this.asm.isEmpty) {
      // Nothing held: restart at index 0 so the next data lands contiguously.
      this.head = 0;
      return;
    }
    this.head += n;
    const size = this.buf!.length;
    if (this.head >= size) this.head -= size;
  }

  /**
   * Make the ring hold at least `need` bytes from the head. The whole old ring is copied
   * rotated so the head lands at index 0: out-of-order bytes keep their offsets.
   */
  private ensure(need: number): void {
    const old = this.buf;
    const size = old === null ? 0 : old.length;
    if (need <= size) return;
    const next = new Uint8Array(growSize(need, this.cap));
    if (old !== null) {
      next.set(old.subarray(this.head), 0);
      next.set(old.subarray(0, this.head), size - this.head);
    }
    this.buf = next;
    this.head = 0;
  }
}
