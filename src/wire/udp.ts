// UDP header: RFC 768.
//
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |     Source      |   Destination   |
//   |      Port       |      Port       |
//   +--------+--------+--------+--------+
//   |     Length      |    Checksum     |
//   +--------+--------+--------+--------+
//
// Length covers header and data (>= 8). The checksum covers the IPv4 pseudo header, the
// header and the data; "An all zero transmitted checksum value means that the transmitter
// generated no checksum" (RFC 768), and a computed zero is sent as all ones. RFC 1122
// §4.1.3.4: a host MUST accept a zero checksum ("checksum not used") and MUST discard a
// datagram whose non-zero checksum is wrong; it SHOULD (Linux: always) generate one.
import { IPPROTO_UDP } from './ipv4.js';
import { transportChecksum } from './checksum.js';
import { fail, ok, type ParseResult } from './errors.js';

export const UDP_HEADER_LENGTH = 8;
/** Largest UDP payload in one IPv4 datagram with a 20-byte header: 65535 - 20 - 8. */
export const UDP_MAX_PAYLOAD = 65507;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** The Length field (header + data). */
  length: number;
  checksum: number;
  /** Subarray of the input bounded by Length (trailing bytes past it are ignored, as Linux does). */
  payload: Uint8Array;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/**
 * Parse a UDP datagram (the IP payload). Checks Length against the buffer (RFC 768; Linux
 * __udp4_lib_rcv: ulen < 8 or ulen > skb->len is a length error; a shorter Length trims). When
 * `src`/`dst` are given the checksum is verified unless it is zero (RFC 1122 §4.1.3.4).
 * Never throws.
 */
export function parseUdp(buf: Uint8Array, addrs?: { src: number; dst: number }): ParseResult<UdpDatagram> {
  if (buf.length < UDP_HEADER_LENGTH) return fail('truncated', `UDP header needs 8 bytes, have ${buf.length}`);
  const length = u16(buf, 4);
  if (length < UDP_HEADER_LENGTH) return fail('bad-length', `UDP length ${length} < 8`);
  if (length > buf.length) return fail('truncated', `UDP length ${length} > ${buf.length} bytes present`);
  const checksum = u16(buf, 6);
  if (addrs !== undefined && checksum !== 0 && transportChecksum(addrs.src, addrs.dst, IPPROTO_UDP, buf, 0, length) !== 0) {
    return fail('bad-checksum', 'UDP checksum mismatch');
  }
  return ok({ srcPort: u16(buf, 0), dstPort: u16(buf, 2), length, checksum, payload: buf.subarray(UDP_HEADER_LENGTH, length) });
}

/**
 * Write header + payload pieces at out[off..]; returns the datagram length. The checksum is
 * always computed (RFC 1122 §4.1.3.4 SHOULD; Linux default), 0 sent as 0xffff (RFC 768).
 * RangeError when out is too small or the datagram exceeds 65535 bytes.
 */
export function emitUdp(
  srcPort: number, dstPort: number, payload: Uint8Array | readonly Uint8Array[], src: number, dst: number,
  out: Uint8Array, off: number,
): number {
  const pieces = payload instanceof Uint8Array ? [payload] : payload;
  let dataLen = 0;
  for (const p of pieces) dataLen += p.length;
  const len = UDP_HEADER_LENGTH + dataLen;
  if (len > 0xffff) throw new RangeError(`UDP datagram of ${len} bytes exceeds 65535`);
  if (off < 0 || off + len > out.length) throw new RangeError(`UDP datagram of ${len} bytes does not fit at ${off} in ${out.length}`);
  out[off] = srcPort >>> 8; out[off + 1] = srcPort & 0xff;
  out[off + 2] = dstPort >>> 8; out[off + 3] = dstPort & 0xff;
  out[off + 4] = len >>> 8; out[off + 5] = len & 0xff;
  out[off + 6] = 0; out[off + 7] = 0;
  let p = off + UDP_HEADER_LENGTH;
  for (const piece of pieces) { out.set(piece, p); p += piece.length; }
  let c = transportChecksum(src, dst, IPPROTO_UDP, out, off, len);
  if (c === 0) c = 0xffff;
  out[off + 6] = c >>> 8; out[off + 7] = c & 0xff;
  return len;
}

/** A complete UDP datagram as a new buffer (convenience for tests and small senders). */
export function buildUdp(srcPort: number, dstPort: number, payload: Uint8Array | readonly Uint8Array[], src: number, dst: number): Uint8Array {
  const pieces = payload instanceof Uint8Array ? [payload] : payload;
  let n = UDP_HEADER_LENGTH;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  emitUdp(srcPort, dstPort, pieces, src, dst, out, 0);
  return out;
}
