// ARP, RFC 826 ("An Ethernet Address Resolution Protocol"), for IPv4 over Ethernet only:
//
//   ar$hrd (2) hardware space: 1 (Ethernet)      ar$pro (2) protocol space: 0x0800 (IPv4)
//   ar$hln (1) 6                                 ar$pln (1) 4
//   ar$op  (2) 1 REQUEST, 2 REPLY
//   ar$sha (6) sender hardware address           ar$spa (4) sender protocol address
//   ar$tha (6) target hardware address           ar$tpa (4) target protocol address
//
// 28 bytes; an Ethernet frame pads it to 46. Other hardware/protocol spaces, address lengths
// and opcodes (RARP 3/4 of RFC 903, InARP 8/9 of RFC 2390) are 'unsupported'.
import { fail, ok, type ParseResult } from './errors.js';
import type { Mac } from './ethernet.js';

export const ARP_LENGTH = 28;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export interface ArpPacket {
  op: 1 | 2;
  /** Views into the buffer. */
  sha: Mac;
  spa: number;
  tha: Mac;
  tpa: number;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Parse an ARP packet (trailing link padding ignored). Never throws. */
export function parseArp(buf: Uint8Array): ParseResult<ArpPacket> {
  if (buf.length < 8) return fail('truncated', `ARP header needs 8 bytes, have ${buf.length}`);
  const hrd = (buf[0]! << 8) | buf[1]!;
  const pro = (buf[2]! << 8) | buf[3]!;
  const hln = buf[4]!, pln = buf[5]!;
  const op = (buf[6]! << 8) | buf[7]!;
  if (hrd !== ARPHRD_ETHER) return fail('unsupported', `ARP hardware type ${hrd}, only 1 (Ethernet)`);
  if (pro !== 0x0800) return fail('unsupported', `ARP protocol type 0x${pro.toString(16)}, only 0x0800 (IPv4)`);
  if (hln !== 6 || pln !== 4) return fail('bad-length', `ARP address lengths ${hln}/${pln}, expected 6/4`);
  if (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) return fail('unsupported', `ARP opcode ${op}, only 1 (request) and 2 (reply)`);
  if (buf.length < ARP_LENGTH) return fail('truncated', `ARP packet needs ${ARP_LENGTH} bytes, have ${buf.length}`);
  return ok({ op, sha: buf.subarray(8, 14), spa: u32(buf, 14), tha: buf.subarray(18, 24), tpa: u32(buf, 24) });
}

export interface ArpFields {
  op: 1 | 2;
  sha: Mac;
  spa: number;
  tha: Mac;
  tpa: number;
}

/** Write the 28-byte packet at out[off..]; returns 28. */
export function emitArp(f: ArpFields, out: Uint8Array, off: number): number {
  if (!Number.isInteger(off) || off < 0 || off + ARP_LENGTH > out.length) throw new RangeError(`ARP packet does not fit at ${off} of ${out.length}`);
  if (f.sha.length !== 6 || f.tha.length !== 6) throw new RangeError('MAC addresses are 6 bytes');
  out[off] = 0; out[off + 1] = ARPHRD_ETHER;
  out[off + 2] = 0x08; out[off + 3] = 0x00;
  out[off + 4] = 6; out[off + 5] = 4;
  out[off + 6] = 0; out[off + 7] = f.op;
  out.set(f.sha, off + 8);
  const w = (v: number, at: number): void => {
    out[at] = v >>> 24; out[at + 1] = (v >>> 16) & 0xff; out[at + 2] = (v >>> 8) & 0xff; out[at + 3] = v & 0xff;
  };
  w(f.spa >>> 0, off + 14);
  out.set(f.tha, off + 18);
  w(f.tpa >>> 0, off + 24);
  return ARP_LENGTH;
}
