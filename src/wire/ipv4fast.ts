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
