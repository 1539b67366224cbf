// IPv4 header: RFC 791 §3.1. The TOS byte is split as DSCP (RFC 2474) + ECN (RFC 3168 §5).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options                    |    Padding    |

import { internetChecksum } from './checksum.js';
import { fail, ok, type ParseResult } from './errors.js';

export const IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
export const IPV4_MIN_HEADER = 20;
/** IHL is 4 bits of 32-bit words: at most 60 bytes of header, so at most 40 of options. */
export const IPV4_MAX_HEADER = 60;
export const IPV4_MAX_OPTIONS = 40;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export interface Ipv4Packet {
  version: number;
  /** Bytes (IHL * 4). */
  headerLength: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In bytes (field * 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: number;
  dst: number;
  /** Subarray view of the option bytes (no copy). */
  options: Uint8Array;
  /** Subarray view of buf bounded by totalLength (trailing link padding ignored). */
  payload: Uint8Array;
  /** MF set or offset != 0: the payload is not a whole transport segment (RFC 791 §2.3). */
  isFragment: boolean;
  checksumOk: boolean;
}

export interface ParseIpv4Options {
  /** Default true: a bad header checksum gives a 'bad-checksum' error. */
  verifyChecksum?: boolean;
  /**
   * Default false. When true, a buffer shorter than totalLength is accepted and the payload is
   * whatever is present: for the original datagram quoted inside ICMP errors (RFC 792: "Internet
   * Header + 64 bits of Original Data Datagram"). The header itself must still be complete.
   */
  allowTruncated?: boolean;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Parse an IPv4 datagram. Never throws and never reads past `buf`. */
export function parseIpv4(buf: Uint8Array, opts?: ParseIpv4Options): ParseResult<Ipv4Packet> {
  if (buf.length < IPV4_MIN_HEADER) {
    return fail('truncated', `IPv4 header needs ${IPV4_MIN_HEADER} bytes, have ${buf.length}`);
  }
  const version = buf[0]! >>> 4;
  if (version !== 4) return fail('bad-version', `IP version ${version}, expected 4`);
  const ihl = buf[0]! & 0x0f;
  // RFC 791 §3.1: "the minimum value for a correct header is 5".
  if (ihl < 5) return fail('bad-ihl', `IHL ${ihl} < 5`);
  const headerLength = ihl * 4;
  if (buf.length < headerLength) {
    return fail('truncated', `IHL says ${headerLength} header bytes, have ${buf.length}`);
  }
  const totalLength = u16(buf, 2);
  if (totalLength < headerLength) {
    return fail('bad-length', `total length ${totalLength} < header length ${headerLength}`);
  }
  if (buf.length < totalLength && !opts?.allowTruncated) {
    return fail('truncated', `total length ${totalLength}, have ${buf.length} bytes`);
  }
  const checksum = u16(buf, 10);
  // RFC 1071 §1: summing a header that includes its correct checksum gives 0 after `~`.
  const checksumOk = internetChecksum(buf, 0, headerLength) === 0;
  if (!checksumOk && (opts?.verifyChecksum ?? true)) {
    return fail('bad-checksum', `IPv4 header checksum 0x${checksum.toString(16).padStart(4, '0')} is wrong`);
  }
  const flagsFrag = u16(buf, 6);
  const moreFragments = (flagsFrag & FLAG_MF) !== 0;
  const fragmentOffset = (flagsFrag & OFFSET_MASK) * 8;
  return ok({
    version,
    headerLength,
    dscp: buf[1]! >>> 2,
    ecn: buf[1]! & 0x03,
    totalLength,
    identification: u16(buf, 4),
    dontFragment: (flagsFrag & FLAG_DF) !== 0,
    moreFragments,
    fragmentOffset,
    ttl: buf[8]!,
    protocol: buf[9]!,
    checksum,
    src: u32(buf, 12),
    dst: u32(buf, 16),
    options: buf.subarray(IPV4_MIN_HEADER, headerLength),
    payload: buf.subarray(headerLength, Math.min(totalLength, buf.length)),
    isFragment: moreFragments || fragmentOffset !== 0,
    checksumOk,
  });
}

export interface Ipv4Fields {
  dscp?: number;
  ecn?: number;
  identification?: number;
  /** Default false; the caller decides (TCP with PMTU discovery sets it, RFC 1191 §3). */
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes; must be a multiple of 8 and <= 65528. */
  fragmentOffset?: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  /** Raw option bytes, already padded: length a multiple of 4, <= 40. */
  options?: Uint8Array;
}

export function ipv4HeaderLength(f: Ipv4Fields): number {
  return IPV4_MIN_HEADER + (f.options?.length ?? 0);
}

/**
 * Write the header for a datagram carrying payloadLength bytes at out[off..], checksum
 * included; returns the header length. Small fields are masked to their width. Throws
 * RangeError only for caller bugs: out too small, bad options length, fragment offset not a
 * multiple of 8, or a total length over 65535.
 */
export function emitIpv4Header(f: Ipv4Fields, payloadLength: number, out: Uint8Array, off: number): number {
  const optLen = f.options?.length ?? 0;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_OPTIONS) {
    throw new RangeError(`IPv4 options length ${optLen} must be a multiple of 4 and <= ${IPV4_MAX_OPTIONS}`);
  }
  const hl = IPV4_MIN_HEADER + optLen;
  const total = hl + payloadLength;
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || total > 0xffff) {
    throw new RangeError(`IPv4 total length ${total} not in ${hl}..65535`);
  }
  if (!Number.isInteger(off) || off < 0 || off + hl > out.length) {
    throw new RangeError(`IPv4 header of ${hl} bytes does not fit at offset ${off} of ${out.length}`);
  }
  const fragOff = f.fragmentOffset ?? 0;
  if (!Number.isInteger(fragOff) || fragOff < 0 || fragOff % 8 !== 0 || fragOff / 8 > OFFSET_MASK) {
    throw new RangeError(`fragment offset ${fragOff} must be a multiple of 8 in 0..65528`);
  }
  const flagsFrag = (f.dontFragment ? FLAG_DF : 0) | (f.moreFragments ? FLAG_MF : 0) | (fragOff / 8);
  const id = (f.identification ?? 0) & 0xffff;
  const src = f.src >>> 0;
  const dst = f.dst >>> 0;
  out[off] = 0x40 | (hl >>> 2);
  out[off + 1] = (((f.dscp ?? 0) & 0x3f) << 2) | ((f.ecn ?? 0) & 0x03);
  out[off + 2] = total >>> 8;
  out[off + 3] = total & 0xff;
  out[off + 4] = id >>> 8;
  out[off + 5] = id & 0xff;
  out[off + 6] = flagsFrag >>> 8;
  out[off + 7] = flagsFrag & 0xff;
  out[off + 8] = f.ttl & 0xff;
  out[off + 9] = f.protocol & 0xff;
  out[off + 10] = 0;
  out[off + 11] = 0;
  out[off + 12] = src >>> 24;
  out[off + 13] = (src >>> 16) & 0xff;
  out[off + 14] = (src >>> 8) & 0xff;
  out[off + 15] = src & 0xff;
  out[off + 16] = dst >>> 24;
  out[off + 17] = (dst >>> 16) & 0xff;
  out[off + 18] = (dst >>> 8) & 0xff;
  out[off + 19] = dst & 0xff;
  if (optLen > 0) out.set(f.options!, off + IPV4_MIN_HEADER);
  // RFC 791 §3.1: checksum over the header only, computed with the field zero.
  const c = internetChecksum(out, off, hl);
  out[off + 10] = c >>> 8;
  out[off + 11] = c & 0xff;
  return hl;
}
