// The SACK scoreboard of RFC 6675 §3–§4: which sequence ranges above SND.UNA the receiver has
// selectively acknowledged (RFC 2018 §5), and the functions the loss recovery of §5 is built
// on — IsLost(), SetPipe(), NextSeg() — with the state variables HighRxt and RescueRxt.
// (gVisor: tcp/sack_scoreboard.go; Linux keeps the same marks per skb: TCPCB_SACKED_ACKED.)
//
// The scoreboard keeps ranges, not segment boundaries (RFC 6675 §3 allows both). Ranges are
// [left, right) with absolute sequence numbers, sorted and merged (never adjacent or
// overlapping), all within [SND.UNA, SND.MAX) — a span below 2^31, so the mod-2^32
// comparisons of seq.ts order them.
//
// Conventions. The RFC's variables name octets (inclusive); here every "end" is exclusive:
//   HighACK (RFC: highest octet cumulatively acked) ............ SND.UNA − 1
//   HighData (RFC: highest octet sent) ......................... SND.MAX − 1
//   highRxt = 1 + RFC HighRxt  (octets below highRxt were retransmitted in this recovery)
//   rescueRxt = 1 + RFC RescueRxt, or null when undefined
//   RecoveryPoint (RFC: HighData at entry) is the engine's `recover` = SND.MAX at entry.
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../seq.js';

/** RFC 5681 §3.2 / RFC 6675 §2: DupThresh. */
export const DUP_THRESH = 3;

/**
 * Most ranges remembered. A receiver reports at most 4 blocks per ACK (RFC 2018 §3) but
 * they accumulate over a window; past this bound the highest ranges are forgotten, which
 * only makes the sender more conservative (SACK information is advisory, RFC 2018 §5).
 */
export const MAX_SACK_RANGES = 64;

/** A segment NextSeg() chose: sequence space [seq, seq+len) and the rule of RFC 6675 §4 that chose it. */
export interface NextSegment {
  seq: number;
  /** Sequence space (a FIN counts one). */
  len: number;
  rule: 1 | 2 | 3 | 4;
}

export class Scoreboard {
  /** Flat sorted [left0, right0, left1, right1, …]. */
  private edges: number[] = [];
  /** Total octets SACKed above SND.UNA (RFC 6675 §4 Update(): "the total number of octets SACKed"). */
  sackedBytes = 0;
  /** One past the highest octet retransmitted in the current recovery (RFC 6675 §2 HighRxt + 1). */
  highRxt = 0;
  /** One past RescueRxt (RFC 6675 §2), or null when undefined. */
  rescueRxt: number | null = null;
  /** The last SetPipe() result, plus what was sent since (RFC 6675 §5 (C.4)). */
  pipe = 0;
  /** Times the receiver appeared to renege (an ACK stopped at a SACKed range) and the scoreboard was cleared. */
  reneges = 0;

  /** Number of disjoint SACKed ranges. */
  get count(): number { return this.edges.length >>> 1; }
  get empty(): boolean { return this.edges.length === 0; }

  /** One past the highest SACKed octet (valid when not empty). */
  get highSacked(): number { return this.edges[this.edges.length - 1]!; }

  /** The ranges, for tests and traces. */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.edges.length; i += 2) out.push([this.edges[i]!, this.edges[i + 1]!]);
    return out;
  }

  /** Forget every SACKed range (RFC 2018 §8 reneging; RFC 6675 §5.1). HighRxt/RescueRxt stay. */
  clear(): void {
    this.edges.length = 0;
    this.sackedBytes = 0;
  }

  /** Reset for a new connection or a new recovery's variables. */
  resetRecovery(highAck: number): void {
    this.highRxt = highAck;
    this.rescueRxt = null;
    this.pipe = 0;
  }

  /**
   * Update(): record the SACK blocks of one ACK (`count` [left, right) pairs in `blocks`).
   * Only blocks strictly above `lower` (the ACK's cumulative point: SND.UNA or the new ACK
   * value) and at most `upper` (SND.MAX) are used. Blocks at or below it are D-SACKs
   * (RFC 2883) or stale, and a block reaching beyond SND.MAX, reversed, or straddling the
   * cumulative point is not believable (Linux tcp_is_sackblock_valid). Returns the number of
   * octets newly SACKed: > 0 makes the ACK a "duplicate acknowledgment" (RFC 6675 §2).
   */
  update(blocks: ArrayLike<number>, count: number, lower: number, upper: number): number {
    let added = 0;
    for (let i = 0; i < count; i++) {
      const l = blocks[2 * i]! >>> 0;
      const r = blocks[2 * i + 1]! >>> 0;
      if (!seqLt(l, r)) continue;                 // empty or reversed
      if (!seqGt(l, lower)) continue;              // D-SACK / old, or straddles the ACK point
      if (seqGt(r, upper)) continue;               // data we never sent
      added += this.insert(l, r);
    }
    if (this.count > MAX_SACK_RANGES) this.trimHighest();
    return added;
  }

  /**
   * SND.UNA moved to `una`: forget what is now cumulatively acknowledged. Returns true when a
   * remembered range reached `una`: the receiver holds data contiguous with its cumulative
   * ACK yet did not acknowledge it, so it must have discarded it — reneging (RFC 2018 §8;
   * Linux FLAG_SACK_RENEGING). The caller then clears the scoreboard.
   */
  advance(una: number): boolean {
    const e = this.edges;
    let drop = 0;
    while (drop < e.length && seqLe(e[drop + 1]!, una)) {
      this.sackedBytes -= seqDiff(e[drop + 1]!, e[drop]!);
      drop += 2;
    }
    if (drop > 0) e.splice(0, drop);
    return e.length > 0 && seqLe(e[0]!, una);
  }

  /** The octet `seq` has been SACKed. */
  isSacked(seq: number): boolean {
    const e = this.edges;
    for (let i = 0; i < e.length; i += 2) {
      if (seqLt(seq, e[i]!)) return false;
      if (seqLt(seq, e[i + 1]!)) return true;
    }
    return false;
  }

  /** `seq`, or the end of the SACKed range containing it (to skip what the receiver holds). */
  skipSacked(seq: number): number {
    const e = this.edges;
    for (let i = 0; i < e.length; i += 2) {
      if (seqLt(seq, e[i]!)) return seq;
      if (seqLt(seq, e[i + 1]!)) return e[i + 1]!;
    }
    return seq;
  }

  /** Where the un-SACKed run starting at `seq` ends: the next SACKed range's left edge, or `limit`. */
  holeEnd(seq: number, limit: number): number {
    const e = this.edges;
    for (let i = 0; i < e.length; i += 2) {
      if (seqGt(e[i]!, seq)) return seqLt(e[i]!, limit) ? e[i]! : limit;
    }
    return limit;
  }

  /** Octets SACKed within [a, b). */
  sackedBetween(a: number, b: number): number {
    if (!seqLt(a, b)) return 0;
    let n = 0;
    const e = this.edges;
    for (let i = 0; i < e.length; i += 2) {
      const l = e[i]!, r = e[i + 1]!;
      if (seqGe(l, b)) break;
      const lo = seqGt(l, a) ? l : a;
      const hi = seqLt(r, b) ? r : b;
      if (seqLt(lo, hi)) n += seqDiff(hi, lo);
    }
    return n;
  }

  /**
   * IsLost(SeqNum) (RFC 6675 §4): true when DupThresh discontiguous SACKed ranges lie above
   * `seq`, or more than (DupThresh − 1)·SMSS SACKed octets do. (RFC 3517 required
   * DupThresh·SMSS; RFC 6675 §9 lowered it so that segments a little shorter than SMSS —
   * e.g. ones that gave room to TCP options — still count as three.)
   */
  isLost(seq: number, smss: number): boolean {
    const e = this.edges;
    let ranges = 0;
    let bytes = 0;
    for (let i = e.length - 2; i >= 0; i -= 2) {
      const l = e[i]!, r = e[i + 1]!;
      if (seqLe(r, seq)) break;
      ranges++;
      bytes += seqGt(l, seq) ? seqDiff(r, l) : seqDiff(r, seq) - 1;
      if (ranges >= DUP_THRESH || bytes > (DUP_THRESH - 1) * smss) return true;
    }
    return false;
  }

  /**
   * IsLost() is monotone (fewer SACKed octets lie above a higher sequence number), so the
   * un-SACKed octets it declares lost are exactly those below one edge: the left edge of the
   * lowest range from which DupThresh ranges or more than (DupThresh−1)·SMSS octets are
   * SACKed. Returns that edge, or `una` when nothing is lost.
   */
  lostEdge(una: number, smss: number): number {
    const e = this.edges;
    let ranges = 0;
    let bytes = 0;
    for (let i = e.length - 2; i >= 0; i -= 2) {
      ranges++;
      bytes += seqDiff(e[i + 1]!, e[i]!);
      if (ranges >= DUP_THRESH || bytes > (DUP_THRESH - 1) * smss) return e[i]!;
    }
    return una;
  }

  /**
   * SetPipe() (RFC 6675 §4): over the un-SACKed octets of [HighACK+1, HighData], count one
   * for each that is not lost (IsLost false: presumed still in the network) and one more for
   * each at or below HighRxt (its retransmission is in the network). Stores and returns pipe.
   */
  setPipe(una: number, sndMax: number, smss: number): number {
    if (!seqLt(una, sndMax)) { this.pipe = 0; return 0; }
    const edge = this.lostEdge(una, smss);
    // (a) un-SACKed octets from the lost edge up: IsLost false.
    let pipe = seqDiff(sndMax, edge) - this.sackedBetween(edge, sndMax);
    // (b) un-SACKed octets below HighRxt: retransmitted.
    const rxtEnd = seqGt(this.highRxt, sndMax) ? sndMax : this.highRxt;
    if (seqGt(rxtEnd, una)) pipe += seqDiff(rxtEnd, una) - this.sackedBetween(una, rxtEnd);
    this.pipe = pipe;
    return pipe;
  }

  /**
   * NextSeg() (RFC 6675 §4) for SND.UNA `una`, HighData+1 `sndMax`, RecoveryPoint `recover`.
   * `newLen` is how much never-sent sequence space rule (2) may use now (0 when there is no
   * new data, or the receiver's window, Nagle or SWS avoidance holds it back; the caller
   * knows the buffers and windows). Returns null when nothing is to be sent (rule 5).
   * Rules (1) and (3) stop at the next SACKed range: SACKed octets are never resent.
   * Rule (4) sets RescueRxt; HighRxt is the caller's to update (§5 (C.2)) since the segment
   * actually sent may be shorter. `recover` is one past RecoveryPoint (SND.MAX at entry).
   */
  nextSeg(una: number, sndMax: number, recover: number, smss: number, newLen: number): NextSegment | null {
    // The smallest un-SACKed octet above HighRxt ((1.a)).
    let s = seqGt(this.highRxt, una) ? this.highRxt : una;
    s = this.skipSacked(s);
    if (!this.empty && seqLt(s, this.highSacked)) {
      // (1.b) holds: s is below the highest SACKed octet.
      const end = this.holeEnd(s, sndMax);
      const len = Math.min(smss, seqDiff(end, s));
      // (1.c) IsLost(s): rule (1). Otherwise rule (3) — unless rule (2) has new data.
      if (seqLt(s, this.lostEdge(una, smss))) return { seq: s, len, rule: 1 };
      if (newLen > 0) return { seq: sndMax, len: newLen, rule: 2 };
      return { seq: s, len, rule: 3 };
    }
    if (newLen > 0) return { seq: sndMax, len: newLen, rule: 2 };
    // (4) One rescue retransmission per recovery, when HighACK > RescueRxt (or it is
    // undefined): one segment ending with the highest outstanding un-SACKed octet. It exists
    // for "loss at the end of the window" (§2 RescueRxt), which no SACK can reveal: so it is
    // taken only when the tail of the window that was outstanding at entry (below
    // RecoveryPoint) is un-SACKed, and ends at RecoveryPoint — data first sent during the
    // recovery is not rescued a moment after it left (FreeBSD applies the same bound:
    // snd_fack < snd_recover).
    if (this.rescueRxt === null || seqGt(una, this.rescueRxt)) {
      const top = seqLt(recover, sndMax) ? recover : sndMax;
      const floor = !this.empty && seqGt(this.highSacked, una) ? this.highSacked : una;
      if (seqGt(top, floor)) {
        const start = seqDiff(top, floor) > smss ? seqAdd(top, -smss) : floor;
        this.rescueRxt = recover;
        return { seq: start, len: seqDiff(top, start), rule: 4 };
      }
    }
    return null;
  }

  /** Merge [l, r) in; returns how many octets were not SACKed before. */
  private insert(l: number, r: number): number {
    const e = this.edges;
    // First range whose right edge reaches l (touching ranges merge).
    let i = 0;
    while (i < e.length && seqLt(e[i + 1]!, l)) i += 2;
    let j = i;
    let covered = 0;
    let nl = l, nr = r;
    // Ranges starting at or before r overlap or touch [l, r).
    while (j < e.length && seqLe(e[j]!, r)) {
      const el = e[j]!, er = e[j + 1]!;
      const lo = seqGt(el, l) ? el : l;
      const hi = seqLt(er, r) ? er : r;
      if (seqLt(lo, hi)) covered += seqDiff(hi, lo);
      if (seqLt(el, nl)) nl = el;
      if (seqGt(er, nr)) nr = er;
      j += 2;
    }
    const added = seqDiff(r, l) - covered;
    e.splice(i, j - i, nl, nr);
    this.sackedBytes += added;
    return added;
  }

  private trimHighest(): void {
    const e = this.edges;
    while (e.length > 2 * MAX_SACK_RANGES) {
      const r = e.pop()!;
      const l = e.pop()!;
      this.sackedBytes -= seqDiff(r, l);
    }
  }
}
