// Out-of-order range tracker for TCP reassembly (smoltcp's `Assembler`, "contigs").
//
// Offsets are byte offsets relative to the current in-order point (RCV.NXT), never
// sequence numbers: the engine converts. The receive buffer stores the bytes themselves;
// this only remembers which ranges beyond the in-order point are present.
//
// RFC 9293 §3.10.7.4 lets a receiver keep segments that arrive out of order ("segments
// with higher beginning sequence numbers ... may be held for later processing"); a bound
// on the number of ranges keeps a hostile peer from making us allocate without limit
// (the same reason smoltcp's assembler has a fixed number of contigs).

/** Default bound on the number of disjoint ranges (each one sits after a hole). */
export const ASSEMBLER_MAX_RANGES = 32;

export class Assembler {
  /** Flattened [start0, end0, start1, end1, ...]: sorted, disjoint and never touching. */
  private r: number[] = [];
  readonly maxRanges: number;

  constructor(maxRanges: number = ASSEMBLER_MAX_RANGES) {
    if (!Number.isInteger(maxRanges) || maxRanges < 1) throw new RangeError(`bad maxRanges ${maxRanges}`);
    this.maxRanges = maxRanges;
  }

  /**
   * Mark [offset, offset+len) present, merging with every range it overlaps or touches.
   * Returns false (and records nothing) when the range is disjoint from all existing ones
   * and `maxRanges` ranges are already held: the caller must then drop the data.
   * A range that merges with an existing one never increases the count, so it always fits.
   */
  add(offset: number, len: number): boolean {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(len) || len < 0) {
      throw new RangeError(`Assembler.add(${offset}, ${len})`);
    }
    if (len === 0) return true;
    const start = offset;
    const end = offset + len;
    const r = this.r;
    const n = r.length;
    // Ranges that overlap or touch [start, end) are exactly those with end >= start and
    // start <= end; since ranges are sorted and disjoint they form one run [i, j).
    let i = 0;
    while (i < n && r[i + 1] < start) i += 2;
    let j = i;
    while (j < n && r[j] <= end) j += 2;
    if (i === j) {
      if (n / 2 >= this.maxRanges) return false;
      r.splice(i, 0, start, end);
      return true;
    }
    const ns = Math.min(start, r[i]);
    const ne = Math.max(end, r[j - 1]);
    r.splice(i, j - i, ns, ne);
    return true;
  }

  /** Length of the range starting at offset 0 (data that is now in order), else 0. */
  get frontLength(): number {
    return this.r.length > 0 && this.r[0] === 0 ? this.r[1] : 0;
  }

  /** The in-order point advanced by n: ranges move down by n; parts below 0 are cut. */
  shift(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Assembler.shift(${n})`);
    if (n === 0) return;
    const r = this.r;
    let k = 0;
    while (k < r.length && r[k + 1] <= n) k += 2;
    if (k > 0) r.splice(0, k);
    for (let m = 0; m < r.length; m++) r[m] -= n;
    if (r.length > 0 && r[0] < 0) r[0] = 0;
  }

  /** [start, end) pairs, sorted, disjoint, merged. A fresh array each call. */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let k = 0; k < this.r.length; k += 2) out.push([this.r[k], this.r[k + 1]]);
    return out;
  }

  /** The range containing `offset`, or null. */
  find(offset: number): [number, number] | null {
    const r = this.r;
    for (let k = 0; k < r.length; k += 2) {
      if (offset < r[k]) return null;
      if (offset < r[k + 1]) return [r[k], r[k + 1]];
    }
    return null;
  }

  /** Number of disjoint ranges held. */
  get count(): number {
    return this.r.length / 2;
  }

  /** Total bytes covered by all ranges. */
  get byteCount(): number {
    let sum = 0;
    for (let k = 0; k < this.r.length; k += 2) sum += this.r[k + 1] - this.r[k];
    return sum;
  }

  /** End of the highest range (0 when empty). */
  get highestEnd(): number {
    return this.r.length > 0 ? this.r[this.r.length - 1] : 0;
  }

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  clear(): void {
    this.r.length = 0;
  }
}
