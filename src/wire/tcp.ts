// The TCP header: RFC 9293 §3.1 (Figure 1, header format; Figure 2, IPv4 pseudo-header).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |          Source Port          |       Destination Port        |   bytes 0..3
// |                        Sequence Number                        |   bytes 4..7
// |                    Acknowledgment Number                      |   bytes 8..11
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |   bytes 12..15
// |           Checksum            |         Urgent Pointer        |   bytes 16..19
// |                           [Options]                           |   bytes 20..DOffset*4
//
// Two levels, as in smoltcp's wire module (DESIGN "src/wire"):
// - TcpView: a checked view for the engine's hot path; reset() validates the lengths once,
//   then every getter is a plain byte read that cannot fail and allocates nothing.
// - TcpSegment: a parsed record (parseTcp) and its inverse (emitTcp).
// Flags stay a bitmask, so odd combinations (SYN|FIN, no flags at all) are representable.

import type { ParseError, ParseResult } from './errors.js';
import { fail, ok } from './errors.js';
import { onesSum, pseudoHeaderSum, transportChecksum } from './checksum.js';
import type { TcpOption } from './tcpoptions.js';
import { parseTcpOptions, tcpOptionsLength, writeTcpOptions } from './tcpoptions.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_MIN_HEADER = 20;
/** DOffset is 4 bits of 32-bit words: at most 15 * 4 = 60 header bytes, 40 of options. */
export const TCP_MAX_HEADER = 60;

/** IP protocol number of TCP, for the pseudo-header (RFC 9293 §3.1 Figure 2 "PTCL"). */
const PROTO_TCP = 6;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes (DOffset * 4), 20..60. */
  dataOffset: number;
  /** The 4 reserved bits (RFC 9293 §3.1 "Rsrvd"); ignored on receipt, 0 when sent. */
  reserved: number;
  /** 8-bit mask of TCP_* flags; any combination, including SYN|FIN. */
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  options: TcpOption[];
  /** A view into the parsed buffer, not a copy. */
  payload: Uint8Array;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function hex4(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

/** Length checks shared by parseTcp and TcpView.reset: length >= 20, 5 <= DOffset <= len/4. */
function headerError(buf: Uint8Array): ParseError | null {
  const len = buf.length;
  if (len < TCP_MIN_HEADER) {
    return { kind: 'truncated', reason: `TCP segment of ${len} bytes is shorter than the ${TCP_MIN_HEADER}-byte header` };
  }
  const words = buf[12]! >>> 4;
  if (words < 5) return { kind: 'bad-data-offset', reason: `data offset ${words} words is below the minimum 5` };
  if (words * 4 > len) {
    return { kind: 'bad-data-offset', reason: `data offset ${words} words (${words * 4} bytes) exceeds the ${len}-byte segment` };
  }
  return null;
}

/**
 * The checksum field value that would make buf correct: the complement of the sum over the
 * pseudo-header and the segment with the checksum field (bytes 16..17) left out.
 */
function expectedChecksum(buf: Uint8Array, src: number, dst: number): number {
  const head = onesSum(buf, 0, 16, pseudoHeaderSum(src, dst, PROTO_TCP, buf.length));
  return ~onesSum(buf, 18, buf.length - 18, head) & 0xffff;
}

/** RFC 9293 §3.1 MUST-3: the receiver checks the checksum; a correct segment sums to 0. */
function checksumValid(buf: Uint8Array, src: number, dst: number): boolean {
  return transportChecksum(src, dst, PROTO_TCP, buf, 0, buf.length) === 0;
}

/**
 * Parses a whole TCP segment: `buf` must be exactly the IPv4 payload (bounded by the IP total
 * length), because its length enters the pseudo-header. When both `src` and `dst` are given and
 * verifyChecksum is not false, the checksum is verified over the pseudo-header. Checks run
 * in this order: length ('truncated'), data offset ('bad-data-offset'), checksum
 * ('bad-checksum'), options ('bad-option').
 */
export function parseTcp(
  buf: Uint8Array,
  opts?: { src?: number; dst?: number; verifyChecksum?: boolean },
): ParseResult<TcpSegment> {
  const err = headerError(buf);
  if (err !== null) return { ok: false, error: err };
  const hlen = (buf[12]! >>> 4) * 4;
  if (opts !== undefined && opts.src !== undefined && opts.dst !== undefined && opts.verifyChecksum !== false) {
    if (!checksumValid(buf, opts.src, opts.dst)) {
      return fail('bad-checksum',
        `TCP checksum ${hex4(u16(buf, 16))} is wrong, expected ${hex4(expectedChecksum(buf, opts.src, opts.dst))}`);
    }
  }
  const options = parseTcpOptions(buf, TCP_MIN_HEADER, hlen - TCP_MIN_HEADER);
  if (!options.ok) return options;
  return ok({
    srcPort: u16(buf, 0),
    dstPort: u16(buf, 2),
    seq: u32(buf, 4),
    ack: u32(buf, 8),
    dataOffset: hlen,
    reserved: buf[12]! & 0x0f,
    flags: buf[13]!,
    window: u16(buf, 14),
    checksum: u16(buf, 16),
    urgentPointer: u16(buf, 18),
    options: options.value,
    payload: buf.subarray(hlen),
  });
}

/** A valid all-zero header that a failed reset() points the view at. */
const EMPTY_HEADER = new Uint8Array(TCP_MIN_HEADER);

/**
 * No-allocation view over one TCP segment. After reset() returns null every getter is safe;
 * after it returns an error the view shows an empty 20-byte all-zero header instead of the
 * previous segment, so stale data is never mistaken for the new one.
 */
export class TcpView {
  private b: Uint8Array = EMPTY_HEADER;
  private hlen = TCP_MIN_HEADER;

  /** Points the view at `buf` (a whole segment) after checking length >= 20 and 5 <= DOffset <= len/4. */
  reset(buf: Uint8Array): ParseError | null {
    const err = headerError(buf);
    if (err !== null) {
      this.b = EMPTY_HEADER;
      this.hlen = TCP_MIN_HEADER;
      return err;
    }
    this.b = buf;
    this.hlen = (buf[12]! >>> 4) * 4;
    return null;
  }

  get buf(): Uint8Array { return this.b; }
  get srcPort(): number { return u16(this.b, 0); }
  get dstPort(): number { return u16(this.b, 2); }
  get seq(): number { return u32(this.b, 4); }
  get ack(): number { return u32(this.b, 8); }
  /** Header length in bytes. */
  get dataOffset(): number { return this.hlen; }
  get reserved(): number { return this.b[12]! & 0x0f; }
  get flags(): number { return this.b[13]!; }
  get window(): number { return u16(this.b, 14); }
  get checksum(): number { return u16(this.b, 16); }
  get urgentPointer(): number { return u16(this.b, 18); }
  get optionsOffset(): number { return TCP_MIN_HEADER; }
  get optionsLength(): number { return this.hlen - TCP_MIN_HEADER; }
  get payloadOffset(): number { return this.hlen; }
  get payloadLength(): number { return this.b.length - this.hlen; }
  /** The payload as a subarray of buf (no copy). */
  payload(): Uint8Array { return this.b.subarray(this.hlen); }
  /** RFC 9293 §3.1 MUST-3: true when the checksum over pseudo-header + segment is correct. */
  checksumOk(src: number, dst: number): boolean { return checksumValid(this.b, src, dst); }
}

export interface TcpEmitFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgentPointer?: number;
  /** The 4 reserved bits; RFC 9293 §3.1 says 0 in generated segments (the default). */
  reserved?: number;
  options?: readonly TcpOption[];
}

/** 20 + options padded to 4 bytes; throws RangeError when that exceeds 60 bytes. */
export function tcpHeaderLength(f: { options?: readonly TcpOption[] }): number {
  const raw = f.options === undefined ? 0 : tcpOptionsLength(f.options);
  const len = TCP_MIN_HEADER + ((raw + 3) & ~3);
  if (len > TCP_MAX_HEADER) {
    throw new RangeError(`TCP options of ${raw} bytes exceed the 40-byte option space`);
  }
  return len;
}

function check16(name: string, v: number): void {
  if ((v & 0xffff) !== v) throw new RangeError(`TCP ${name} ${v} is not a 16-bit unsigned integer`);
}

/**
 * Writes header, options (EOL-padded) and a copy of the payload at out[off..], then the
 * checksum over the IPv4 pseudo-header (RFC 9293 §3.1 MUST-2). seq/ack are taken mod 2^32
 * (int32 values from bit operations are fine). `payload` may already sit at out[off+hlen..]
 * (the copy is then a no-op). Returns the segment length. Throws RangeError
 * for values that do not fit their fields or when `out` is too small (caller bugs).
 */
export function emitTcp(
  f: TcpEmitFields, payload: Uint8Array | null, src: number, dst: number, out: Uint8Array, off: number,
): number {
  const hlen = tcpHeaderLength(f);
  const plen = payload === null ? 0 : payload.length;
  const total = hlen + plen;
  if (total > 0xffff) throw new RangeError(`TCP segment of ${total} bytes exceeds 65535`);
  if (!Number.isInteger(off) || off < 0 || off + total > out.length) {
    throw new RangeError(`TCP segment of ${total} bytes at offset ${off} does not fit a ${out.length}-byte buffer`);
  }
  check16('source port', f.srcPort);
  check16('destination port', f.dstPort);
  check16('window', f.window);
  const urg = f.urgentPointer ?? 0;
  check16('urgent pointer', urg);
  const reserved = f.reserved ?? 0;
  if ((reserved & 0x0f) !== reserved) throw new RangeError(`TCP reserved bits ${reserved} do not fit 4 bits`);
  if ((f.flags & 0xff) !== f.flags) throw new RangeError(`TCP flags ${f.flags} do not fit 8 bits`);
  const seq = f.seq >>> 0;
  const ack = f.ack >>> 0;
  out[off] = f.srcPort >>> 8;
  out[off + 1] = f.srcPort & 0xff;
  out[off + 2] = f.dstPort >>> 8;
  out[off + 3] = f.dstPort & 0xff;
  out[off + 4] = seq >>> 24;
  out[off + 5] = (seq >>> 16) & 0xff;
  out[off + 6] = (seq >>> 8) & 0xff;
  out[off + 7] = seq & 0xff;
  out[off + 8] = ack >>> 24;
  out[off + 9] = (ack >>> 16) & 0xff;
  out[off + 10] = (ack >>> 8) & 0xff;
  out[off + 11] = ack & 0xff;
  out[off + 12] = ((hlen >>> 2) << 4) | reserved;
  out[off + 13] = f.flags;
  out[off + 14] = f.window >>> 8;
  out[off + 15] = f.window & 0xff;
  out[off + 16] = 0; // "While computing the checksum, the checksum field itself is replaced with zeros."
  out[off + 17] = 0;
  out[off + 18] = urg >>> 8;
  out[off + 19] = urg & 0xff;
  if (hlen > TCP_MIN_HEADER) writeTcpOptions(f.options!, out, off + TCP_MIN_HEADER);
  if (payload !== null && plen > 0) out.set(payload, off + hlen);
  const sum = transportChecksum(src, dst, PROTO_TCP, out, off, total);
  out[off + 16] = sum >>> 8;
  out[off + 17] = sum & 0xff;
  return total;
}

/** tcpdump's letters in tcpdump's order (print-tcp.c tcp_flag_values); "none" when no flag is set. */
const FLAG_LETTERS: ReadonlyArray<[number, string]> = [
  [TCP_SYN, 'S'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P'],
  [TCP_ACK, '.'], [TCP_URG, 'U'], [TCP_ECE, 'E'], [TCP_CWR, 'W'],
];

/** "S", "S.", "F.", "P.", "R", "SF", …, or "none" for 0 (as tcpdump prints `Flags [none]`). */
export function flagsToString(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s === '' ? 'none' : s;
}
