// The Internet checksum: RFC 1071 (computation), RFC 1624 (incremental update),
// RFC 9293 §3.1 (the IPv4 pseudo header that TCP/UDP checksums cover).
//
// Speed: summing 32-bit words through a Uint32Array is ~2x faster than a 16-bit byte loop
// (notes/machine.md: ~4 GB/s vs ~1.7 GB/s over 1460 B). RFC 1071 §2 (B) "byte order
// independence" and (C) "parallel summation" are what make that valid: the ones'-complement
// sum of 32-bit words, folded to 16 bits, equals the 16-bit sum, and on a little-endian host
// the result only needs one final byte swap.

/** True when this host stores multi-byte integers little-endian (checked once at load). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the plain 16-bit loop beats creating a Uint32Array view. */
const WORD_PATH_MIN = 64;

/** Fold every 2^20 words so the double accumulator stays far below 2^53 (2^20 * 2^32 = 2^52). */
const FOLD_EVERY_WORDS = 0x100000;

/** Ones'-complement fold of a non-negative integer < 2^53 to 16 bits (end-around carry). */
function fold(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/**
 * Unfolded sum of big-endian 16-bit words over buf[start..end); the byte at `start` is a
 * high byte, and an odd trailing byte is padded with a zero low byte (RFC 1071 §1).
 */
function sumBytes(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) s += buf[i]! << 8;
  return s;
}

/**
 * A Uint32Array over the whole of the last ArrayBuffer summed: packets are carved from
 * shared slabs (stack/packetmem.ts allocPacket, the TUN batch buffer), so one view serves many
 * packets instead of a new view object per checksum (GC; issue 16).
 */
let wordsBuffer: ArrayBufferLike | null = null;
let wordsView: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** Folded sum of buf[start..start+len) where buf.byteOffset+start is 4-byte aligned. */
function sumAligned(buf: Uint8Array, start: number, len: number): number {
  const words = len >>> 2;
  const ab = buf.buffer;
  if (ab !== wordsBuffer || wordsView.length !== ab.byteLength >>> 2) {
    wordsBuffer = ab;
    wordsView = new Uint32Array(ab, 0, ab.byteLength >>> 2);
  }
  const view = wordsView;
  const first = (buf.byteOffset + start) >>> 2;
  const last = first + words;
  let acc = 0;
  for (let i = first; i < last;) {
    const end = Math.min(last, i + FOLD_EVERY_WORDS);
    // Four independent sums (RFC 1071 §2 (C) parallel summation): ~1.5x faster than one
    // accumulator, whose every add waits for the previous one.
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (; i + 3 < end; i += 4) { c0 += view[i]!; c1 += view[i + 1]!; c2 += view[i + 2]!; c3 += view[i + 3]!; }
    for (; i < end; i++) c0 += view[i]!;
    acc = fold(acc + c0 + c1 + c2 + c3);
  }
  // Words were read in host order; on little-endian hosts the folded sum is byte-swapped
  // (RFC 1071 §2 (B)).
  let s = LITTLE_ENDIAN ? swap16(acc) : acc;
  // The 0..3 tail bytes start at an even distance from `start`, so no phase change.
  s += sumBytes(buf, start + words * 4, start + len);
  return fold(s);
}

function checkRange(buf: Uint8Array, off: number, len: number): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > buf.length) {
    throw new RangeError(`checksum range off=${off} len=${len} outside buffer of ${buf.length}`);
  }
}

/**
 * Folded 16-bit ones'-complement sum of buf[off..off+len), NOT inverted (RFC 1071 §4.1 loop
 * without the final `~`). `initial` is a previous folded sum to continue from; the previous
 * piece must have had even length (16-bit word boundaries line up). Throws RangeError only
 * when off/len lie outside `buf` (a caller bug).
 */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  checkRange(buf, off, len);
  if (len < WORD_PATH_MIN) return fold(initial + sumBytes(buf, off, off + len));
  // Sum up to 3 leading bytes by hand so the rest starts 4-byte aligned for the Uint32Array.
  const lead = (4 - ((buf.byteOffset + off) & 3)) & 3;
  const leadSum = sumBytes(buf, off, off + lead);
  let body = sumAligned(buf, off + lead, len - lead);
  // After an odd number of leading bytes the body's word pairing is shifted by one byte:
  // its high bytes are really low bytes, so swap its sum (RFC 1071 §2 (B)).
  if (lead & 1) body = swap16(body);
  return fold(initial + leadSum + body);
}

/** The Internet checksum of buf[off..off+len): (~onesSum) & 0xffff (RFC 1071 §1). */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~onesSum(buf, off, len, initial) & 0xffff;
}

/**
 * Folded sum of the IPv4 pseudo header (RFC 9293 §3.1: source address, destination address,
 * zero, protocol, TCP length; RFC 768 uses the same for UDP). Addresses are uint32 numbers
 * (int32 values from bit operations are accepted too).
 */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  const s = src >>> 0;
  const d = dst >>> 0;
  return fold((s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + (protocol & 0xff) + (length & 0xffff));
}

/**
 * Final TCP/UDP checksum over the pseudo header plus buf[off..off+len). The checksum field
 * inside the segment must be zero when computing (or be included when verifying: a correct
 * segment then yields 0). Note RFC 768: a UDP sender transmits a computed 0 as 0xffff.
 */
export function transportChecksum(
  src: number, dst: number, protocol: number, buf: Uint8Array, off: number, len: number,
): number {
  return internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, protocol, len));
}

/**
 * Incremental update when one 16-bit word changes from oldWord to newWord:
 * RFC 1624 §3 [Eqn. 3] HC' = ~(~HC + ~m + m'). Unlike RFC 1141's eqn. 2 it never yields
 * the "-0" result that a full recompute would not produce.
 */
export function checksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  const s = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold(s) & 0xffff;
}

/** RFC 1624 [Eqn. 3] applied to a 32-bit field (an address or sequence number): two words. */
export function checksumUpdate32(oldChecksum: number, oldValue: number, newValue: number): number {
  const o = oldValue >>> 0;
  const n = newValue >>> 0;
  const s = (~oldChecksum & 0xffff)
    + (~(o >>> 16) & 0xffff) + (~o & 0xffff)
    + (n >>> 16) + (n & 0xffff);
  return ~fold(s) & 0xffff;
}
