// ICMP for IPv4: RFC 792, with the Next-Hop MTU of RFC 1191 §4.
//
//   Echo / Echo Reply (RFC 792 p.14)        Destination Unreachable (RFC 792 p.4, RFC 1191 §4)
//   | Type | Code |    Checksum     |       | Type=3 | Code |    Checksum      |
//   |   Identifier  | Sequence Number |     |  unused (0)   |  Next-Hop MTU    |
//   | Data ...                              | Internet Header + 64 bits of Original Data |

import { internetChecksum } from './checksum.js';
import { fail, ok, type ParseResult } from './errors.js';
import { parseIpv4, type Ipv4Packet } from './ipv4.js';

export const ICMP_ECHO_REPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO_REQUEST = 8, ICMP_TIME_EXCEEDED = 11;
/** RFC 792 p.8: its original datagram is quoted after the pointer word, like Time Exceeded's. */
export const ICMP_PARAMETER_PROBLEM = 12;
/** Destination Unreachable codes (RFC 792 p.4). Code 4 carries a Next-Hop MTU (RFC 1191 §4). */
export const ICMP_UNREACH_NET = 0, ICMP_UNREACH_HOST = 1, ICMP_UNREACH_PROTOCOL = 2,
  ICMP_UNREACH_PORT = 3, ICMP_UNREACH_NEEDFRAG = 4;
export const ICMP_HEADER_LENGTH = 8;
/** RFC 792: the quote is the original "Internet Header + 64 bits of Original Data Datagram". */
export const ICMP_QUOTED_DATA = 8;

export interface IcmpEcho { type: 0 | 8; code: number; checksum: number; identifier: number; sequence: number; data: Uint8Array }
export interface IcmpDestUnreachable { type: 3; code: number; checksum: number; nextHopMtu: number; quoted: Uint8Array }
export interface IcmpOther { type: number; code: number; checksum: number; rest: Uint8Array }

export type IcmpMessage =
  | { type: 0 | 8; code: number; checksum: number; identifier: number; sequence: number; data: Uint8Array }
  | { type: 3; code: number; checksum: number; nextHopMtu: number /* RFC 1191, code 4 */; quoted: Uint8Array /* original IP header + ≥ 8 bytes */ }
  | { type: number; code: number; checksum: number; rest: Uint8Array };

/** Type guards: `type: number` in the catch-all variant defeats narrowing on `type` alone. */
export function isIcmpEcho(m: IcmpMessage): m is IcmpEcho {
  return 'identifier' in m;
}
export function isIcmpDestUnreachable(m: IcmpMessage): m is IcmpDestUnreachable {
  return 'quoted' in m;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/**
 * Parse an ICMP message (the IPv4 payload). Echo and Destination Unreachable get their own
 * shape; other types keep bytes 4.. as `rest`. Fields are views into buf (no copy). Never throws.
 */
export function parseIcmp(buf: Uint8Array, opts?: { verifyChecksum?: boolean }): ParseResult<IcmpMessage> {
  if (buf.length < ICMP_HEADER_LENGTH) {
    return fail('truncated', `ICMP needs ${ICMP_HEADER_LENGTH} bytes, have ${buf.length}`);
  }
  const type = buf[0]!;
  const code = buf[1]!;
  const checksum = u16(buf, 2);
  // RFC 792: the checksum covers the whole ICMP message starting with the Type field.
  if ((opts?.verifyChecksum ?? true) && internetChecksum(buf, 0, buf.length) !== 0) {
    return fail('bad-checksum', `ICMP checksum 0x${checksum.toString(16).padStart(4, '0')} is wrong`);
  }
  if (type === ICMP_ECHO_REPLY || type === ICMP_ECHO_REQUEST) {
    return ok({ type, code, checksum, identifier: u16(buf, 4), sequence: u16(buf, 6), data: buf.subarray(8) });
  }
  if (type === ICMP_DEST_UNREACH) {
    // RFC 1191 §4: the low 16 bits of the unused word carry the MTU only for code 4.
    const nextHopMtu = code === ICMP_UNREACH_NEEDFRAG ? u16(buf, 6) : 0;
    return ok({ type, code, checksum, nextHopMtu, quoted: buf.subarray(8) });
  }
  return ok({ type, code, checksum, rest: buf.subarray(4) });
}

/**
 * Parse the datagram quoted in an ICMP error (RFC 792): its IP header must be complete and
 * followed by at least 8 bytes (RFC 792's 64 bits: for TCP, the ports and sequence number).
 * The quoted header's checksum is not enforced (see `ip.checksumOk`): RFC 1812 §4.3.2.3
 * routers may quote a header they already modified.
 */
export function parseIcmpQuote(quoted: Uint8Array): ParseResult<{ ip: Ipv4Packet; transport: Uint8Array }> {
  const r = parseIpv4(quoted, { verifyChecksum: false, allowTruncated: true });
  if (!r.ok) return r;
  if (r.value.payload.length < ICMP_QUOTED_DATA) {
    return fail('truncated', `ICMP quote has ${r.value.payload.length} bytes of original data, need ${ICMP_QUOTED_DATA}`);
  }
  return ok({ ip: r.value, transport: r.value.payload });
}

function fits(out: Uint8Array, off: number, len: number): void {
  if (!Number.isInteger(off) || off < 0 || off + len > out.length) {
    throw new RangeError(`ICMP message of ${len} bytes does not fit at offset ${off} of ${out.length}`);
  }
}

function writeChecksum(out: Uint8Array, off: number, len: number): void {
  out[off + 2] = 0;
  out[off + 3] = 0;
  const c = internetChecksum(out, off, len);
  out[off + 2] = c >>> 8;
  out[off + 3] = c & 0xff;
}

export function icmpEchoLength(dataLen: number): number {
  return ICMP_HEADER_LENGTH + dataLen;
}

/** Write an Echo (8) or Echo Reply (0) at out[off..]; returns its length. RangeError if out is too small. */
export function emitIcmpEcho(
  type: 0 | 8, identifier: number, sequence: number, data: Uint8Array, out: Uint8Array, off: number,
): number {
  const len = icmpEchoLength(data.length);
  fits(out, off, len);
  out[off] = type;
  out[off + 1] = 0; // RFC 792: code 0
  out[off + 4] = (identifier >>> 8) & 0xff;
  out[off + 5] = identifier & 0xff;
  out[off + 6] = (sequence >>> 8) & 0xff;
  out[off + 7] = sequence & 0xff;
  out.set(data, off + ICMP_HEADER_LENGTH);
  writeChecksum(out, off, len);
  return len;
}

/**
 * How many bytes of `ipPacket` an ICMP error quotes: its header plus the first 8 bytes of
 * data (RFC 792), never more than the packet holds (bounded by its total length when that is
 * sane, so link padding is not quoted).
 */
function quoteLength(ipPacket: Uint8Array): number {
  if (ipPacket.length === 0) return 0;
  const hl = Math.max(20, (ipPacket[0]! & 0x0f) * 4);
  let bound = ipPacket.length;
  if (ipPacket.length >= 4) {
    const total = u16(ipPacket, 2);
    if (total >= hl && total < bound) bound = total;
  }
  return Math.min(bound, hl + ICMP_QUOTED_DATA);
}

export function icmpDestUnreachableLength(quotedIpPacket: Uint8Array): number {
  return ICMP_HEADER_LENGTH + quoteLength(quotedIpPacket);
}

/**
 * Write a Destination Unreachable quoting the offending datagram's IP header + first 8 bytes
 * of its data (RFC 792 p.4); nextHopMtu goes in bytes 6..7 (RFC 1191 §4, meant for code 4).
 * Returns the length. RangeError if out is too small.
 */
export function emitIcmpDestUnreachable(
  code: number, quotedIpPacket: Uint8Array, out: Uint8Array, off: number, nextHopMtu = 0,
): number {
  const q = quoteLength(quotedIpPacket);
  const len = ICMP_HEADER_LENGTH + q;
  fits(out, off, len);
  out[off] = ICMP_DEST_UNREACH;
  out[off + 1] = code & 0xff;
  out[off + 4] = 0;
  out[off + 5] = 0;
  out[off + 6] = (nextHopMtu >>> 8) & 0xff;
  out[off + 7] = nextHopMtu & 0xff;
  out.set(quotedIpPacket.subarray(0, q), off + ICMP_HEADER_LENGTH);
  writeChecksum(out, off, len);
  return len;
}
