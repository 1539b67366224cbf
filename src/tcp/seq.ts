// Sequence-number arithmetic, mod 2^32 (RFC 9293 §3.4: "all arithmetic dealing with
// sequence numbers must be performed modulo 2^32"). Never compare two sequence numbers with
// < or > directly: they wrap from 2^32-1 to 0.
//
// Comparisons follow the usual serial-number rule (RFC 1982; Linux before()/after()):
// a < b iff the signed 32-bit difference a - b is negative. It is meaningful only when the
// two numbers are less than 2^31 apart, which TCP guarantees since windows are < 2^31
// (RFC 7323 §2.3 caps them at 2^30). At exactly 2^31 apart both a < b and b < a hold.
//
// Inputs may be any integers (e.g. an unnormalized `x + len`); results that are sequence
// numbers are normalized to [0, 2^32). Nothing here throws (smoltcp's seq subtraction panics
// on underflow; ours never does).

/** a + d mod 2^32; d may be negative. */
export function seqAdd(a: number, d: number): number {
  return (a + d) >>> 0;
}

/** Signed 32-bit distance a - b, in [-2^31, 2^31). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of a and b in sequence space. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a >>> 0 : b >>> 0;
}

/** The earlier of a and b in sequence space. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a >>> 0 : b >>> 0;
}

/** lo <= v < hi in sequence space (unsigned distance from lo). Empty when lo == hi. */
export function seqInRange(v: number, lo: number, hi: number): boolean {
  return ((v - lo) >>> 0) < ((hi - lo) >>> 0);
}

/** lo <= v <= hi in sequence space. */
export function seqInRangeIncl(v: number, lo: number, hi: number): boolean {
  return ((v - lo) >>> 0) <= ((hi - lo) >>> 0);
}

/** Largest window we reason about; larger values would make hi - lo wrap. */
const MAX_WINDOW = 0x7fffffff;

/**
 * RFC 9293 §3.10.7.4 (Table 6; the same as §3.4 Table 5): is an incoming segment acceptable?
 * segLen counts data plus SYN and FIN ("The segment length (SEG.LEN) includes both data and
 * sequence space-occupying controls", §3.4). rcvWnd is the receive window in octets.
 * Negative lengths/windows are treated as 0 and windows are capped at 2^31-1; never throws.
 *
 * The RFC test is applied literally. Linux (tcp_sequence()) differs in two ways worth knowing:
 * it measures the left edge from rcv_wup (the last advertised edge) rather than RCV.NXT, and
 * it accepts a segment that starts before the window and ends after it (neither its first
 * nor its last octet is in the window, so the RFC test refuses it).
 */
export function segmentAcceptable(segSeq: number, segLen: number, rcvNxt: number, rcvWnd: number): boolean {
  const wnd = rcvWnd > 0 ? (rcvWnd > MAX_WINDOW ? MAX_WINDOW : rcvWnd) : 0;
  const len = segLen > 0 ? segLen : 0;
  if (len === 0) {
    if (wnd === 0) {
      // "| 0 | 0 | SEG.SEQ = RCV.NXT |"
      return ((segSeq - rcvNxt) >>> 0) === 0;
    }
    // "| 0 | >0 | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND |"
    return ((segSeq - rcvNxt) >>> 0) < wnd;
  }
  if (wnd === 0) {
    // "| >0 | 0 | not acceptable |" — "If the RCV.WND is zero, no segments will be
    // acceptable, but special allowance should be made to accept valid ACKs, URGs, and RSTs."
    // That allowance is the caller's job (it still processes ACK/URG/RST fields, MUST-66).
    return false;
  }
  // "| >0 | >0 | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
  //              or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND |"
  // i.e. the first or the last octet of the segment falls in the window.
  return ((segSeq - rcvNxt) >>> 0) < wnd || ((segSeq + len - 1 - rcvNxt) >>> 0) < wnd;
}
