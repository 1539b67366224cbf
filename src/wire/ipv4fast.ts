// The receive fast path's IPv4 check (RFC 791 §3.1), without building a parse record: the
// common datagram — version 4, a 20-byte header, not a fragment, a total length the buffer
// holds, a correct header checksum — is recognised in place. Anything else returns false and
// goes through parseIpv4, which says what is wrong with it.

/**
 * Whether `b` starts with a plain 20-byte IPv4 header carrying `protocol`, not a fragment,
 * with a valid checksum and a total length of 40..b.length (room for a TCP header).
 */
export function isPlainIpv4(b: Uint8Array, protocol: number): boolean {
  if (b.length < 40 || b[0] !== 0x45 || b[9] !== protocol) return false;
  // Flags and fragment offset: MF (0x20) clear and offset 0; DF and the reserved bit may be anything.
  if ((b[6]! & 0x3f) !== 0 || b[7] !== 0) return false;
  const total = (b[2]! << 8) | b[3]!;
  if (total < 40 || total > b.length) return false;
  // RFC 1071: the ones'-complement sum of the header, checksum included, is 0xffff.
  let s = ((b[0]! << 8) | b[1]!) + total + ((b[4]! << 8) | b[5]!) + ((b[6]! << 8) | b[7]!)
    + ((b[8]! << 8) | b[9]!) + ((b[10]! << 8) | b[11]!) + ((b[12]! << 8) | b[13]!) + ((b[14]! << 8) | b[15]!)
    + ((b[16]! << 8) | b[17]!) + ((b[18]! << 8) | b[19]!);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** The 32-bit big-endian value at b[i] as an unsigned number. */
export function readU32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/**
 * Write a 20-byte IPv4 header (no options, DF set, not a fragment, ECN 0) at b[0..20) with
 * its checksum computed from the field values (RFC 791 §3.1, RFC 1071) — the send fast path
 * of every TCP segment (stack/tcpout.ts), without emitIpv4Header's field record.
 */
export function writePlainIpv4(b: Uint8Array, total: number, id: number, dscp: number, ttl: number, protocol: number, src: number, dst: number): void {
  const tos = (dscp & 0x3f) << 2;
  id &= 0xffff; ttl &= 0xff;
  src >>>= 0; dst >>>= 0;
  b[0] = 0x45; b[1] = tos; b[2] = total >>> 8; b[3] = total & 0xff;
  b[4] = id >>> 8; b[5] = id & 0xff; b[6] = 0x40; b[7] = 0;
  b[8] = ttl; b[9] = protocol;
  b[12] = src >>> 24; b[13] = (src >>> 16) & 0xff; b[14] = (src >>> 8) & 0xff; b[15] = src & 0xff;
  b[16] = dst >>> 24; b[17] = (dst >>> 16) & 0xff; b[18] = (dst >>> 8) & 0xff; b[19] = dst & 0xff;
  let s = (0x4500 | tos) + total + id + 0x4000 + ((ttl << 8) | protocol)
    + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  const sum = ~s & 0xffff;
  b[10] = sum >>> 8; b[11] = sum & 0xff;
}
