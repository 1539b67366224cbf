// Ethernet II framing (DIX Ethernet v2; IEEE 802.3 §3.2 for the field layout) and MAC
// addresses as 6-byte Uint8Arrays.
//
//    0                   1                   2                   3
//   +-------------------------------+-------------------------------+
//   |          Destination MAC (6)  |          Source MAC (6)       |
//   +-------------------------------+---------------+---------------+
//   | [0x8100 | TCI (VLAN tag, 802.1Q), 0x88a8 outer tag (802.1ad)]*| EtherType (2) | payload…
//
// A type/length field <= 1500 is an IEEE 802.3 length (LLC frames, spanning tree…), not an
// EtherType: such frames are 'unsupported', never read as Ethernet II. VLAN tags (802.1Q
// C-tag 0x8100, 802.1ad S-tag 0x88a8, and the pre-standard 0x9100) are recognised and
// skipped, at most two of them (QinQ); the frame's `vlan` lists their TCIs so a receiver can
// count and drop tagged frames rather than mistake the tag for the payload.
import { fail, ok, type ParseResult } from './errors.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETH_HEADER = 14;
export const ETH_VLAN_TAG = 4;
/** Smallest frame on the wire without the FCS (64 - 4): shorter frames are padded (802.3 §4.2.3.3). */
export const ETH_ZLEN = 60;
/** Most VLAN tags a frame may carry before we call it unsupported (802.1ad QinQ has two). */
export const ETH_MAX_TAGS = 2;

export type Mac = Uint8Array;
export const BROADCAST_MAC: Mac = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const ZERO_MAC: Mac = new Uint8Array(6);

export function isVlanType(t: number): boolean {
  return t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD;
}

/** "02:00:5e:10:00:01" (also with '-') → 6 bytes, or null. */
export function parseMac(s: string): Mac | null {
  const m = /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/.exec(s);
  if (m === null) return null;
  return Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}

export function formatMac(m: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (m[off + i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** The I/G bit (least significant bit of the first octet): a group (multicast or broadcast) address. */
export function isGroupMac(m: Uint8Array, off = 0): boolean {
  return (m[off]! & 1) === 1;
}

export function isBroadcastMac(m: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 6; i++) if (m[off + i] !== 0xff) return false;
  return true;
}

/**
 * A locally administered unicast MAC (U/L bit set, I/G clear: 02:…) from a 32-bit value,
 * as `ip link` would accept; deterministic, for simulations.
 */
export function localMac(n: number): Mac {
  const v = n >>> 0;
  return Uint8Array.of(0x02, 0x00, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export interface EthernetFrame {
  /** Views into the buffer (no copy). */
  dst: Mac;
  src: Mac;
  /** The EtherType after any VLAN tags. */
  etherType: number;
  /** The TCIs (PCP 3 bits, DEI 1, VID 12) of the VLAN tags, outermost first; empty when untagged. */
  vlan: number[];
  /** 14 + 4 per tag. */
  headerLength: number;
  /** Everything after the header, link padding included (the upper layer knows its length). */
  payload: Uint8Array;
}

/** Parse an Ethernet II frame (no FCS). Never throws, never reads past `buf`. */
export function parseEthernet(buf: Uint8Array): ParseResult<EthernetFrame> {
  if (buf.length < ETH_HEADER) return fail('truncated', `Ethernet header needs ${ETH_HEADER} bytes, have ${buf.length}`);
  let off = 12;
  let type = (buf[off]! << 8) | buf[off + 1]!;
  const vlan: number[] = [];
  while (isVlanType(type)) {
    if (vlan.length === ETH_MAX_TAGS) return fail('unsupported', `more than ${ETH_MAX_TAGS} VLAN tags`);
    if (buf.length < off + 2 + ETH_VLAN_TAG) return fail('truncated', `VLAN tag ${vlan.length + 1} cut at byte ${buf.length}`);
    vlan.push((buf[off + 2]! << 8) | buf[off + 3]!);
    off += ETH_VLAN_TAG;
    type = (buf[off]! << 8) | buf[off + 1]!;
  }
  // IEEE 802.3 §3.2.6: values up to 1500 are a length (an 802.3/LLC frame); 1501..1535 are undefined.
  if (type <= 1500) return fail('unsupported', `IEEE 802.3 length field ${type} (LLC frame), not an EtherType`);
  if (type < 0x0600) return fail('bad-length', `type/length field ${type} is neither a length nor an EtherType`);
  const hl = off + 2;
  return ok({ dst: buf.subarray(0, 6), src: buf.subarray(6, 12), etherType: type, vlan, headerLength: hl, payload: buf.subarray(hl) });
}

/**
 * The same as parseEthernet, without allocating: reset() on each frame, then read the
 * fields. For the receive path.
 */
export class EthernetView {
  buf: Uint8Array = ZERO_MAC;
  etherType = 0;
  /** VLAN tags seen (0 when untagged). */
  tags = 0;
  headerLength = ETH_HEADER;

  /** Returns null when the frame is a well-formed Ethernet II frame, else the parse error's kind and reason. */
  reset(buf: Uint8Array): { kind: 'truncated' | 'unsupported' | 'bad-length'; reason: string } | null {
    this.buf = buf;
    if (buf.length < ETH_HEADER) return { kind: 'truncated', reason: `Ethernet header needs ${ETH_HEADER} bytes, have ${buf.length}` };
    let off = 12;
    let type = (buf[off]! << 8) | buf[off + 1]!;
    let tags = 0;
    while (isVlanType(type)) {
      if (tags === ETH_MAX_TAGS) return { kind: 'unsupported', reason: `more than ${ETH_MAX_TAGS} VLAN tags` };
      if (buf.length < off + 2 + ETH_VLAN_TAG) return { kind: 'truncated', reason: `VLAN tag ${tags + 1} cut at byte ${buf.length}` };
      tags++;
      off += ETH_VLAN_TAG;
      type = (buf[off]! << 8) | buf[off + 1]!;
    }
    if (type <= 1500) return { kind: 'unsupported', reason: `IEEE 802.3 length field ${type} (LLC frame), not an EtherType` };
    if (type < 0x0600) return { kind: 'bad-length', reason: `type/length field ${type} is neither a length nor an EtherType` };
    this.tags = tags;
    this.etherType = type;
    this.headerLength = off + 2;
    return null;
  }

  get dstIsGroup(): boolean { return (this.buf[0]! & 1) === 1; }
  get dstIsBroadcast(): boolean { return isBroadcastMac(this.buf, 0); }
  dstIs(mac: Mac): boolean { return macEquals(this.buf, 0, mac); }
  srcIs(mac: Mac): boolean { return macEquals(this.buf, 6, mac); }
  payload(): Uint8Array { return this.buf.subarray(this.headerLength); }
}

export interface EthernetFields {
  dst: Mac;
  src: Mac;
  etherType: number;
  /** TCIs of VLAN tags to add (outermost first); each uses TPID 0x8100 (802.1Q). */
  vlan?: number[];
}

export function ethernetHeaderLength(f: EthernetFields): number {
  return ETH_HEADER + ETH_VLAN_TAG * (f.vlan?.length ?? 0);
}

/** Write the header at out[off..]; returns its length. Throws RangeError only for caller bugs. */
export function emitEthernetHeader(f: EthernetFields, out: Uint8Array, off: number): number {
  const hl = ethernetHeaderLength(f);
  if (f.dst.length !== 6 || f.src.length !== 6) throw new RangeError('MAC addresses are 6 bytes');
  if (!Number.isInteger(off) || off < 0 || off + hl > out.length) throw new RangeError(`Ethernet header of ${hl} bytes does not fit at ${off} of ${out.length}`);
  if (f.etherType < 0x0600 || f.etherType > 0xffff) throw new RangeError(`EtherType 0x${f.etherType.toString(16)} must be 0x0600..0xffff`);
  out.set(f.dst, off);
  out.set(f.src, off + 6);
  let p = off + 12;
  for (const tci of f.vlan ?? []) {
    out[p] = 0x81; out[p + 1] = 0x00; out[p + 2] = (tci >>> 8) & 0xff; out[p + 3] = tci & 0xff;
    p += 4;
  }
  out[p] = f.etherType >>> 8;
  out[p + 1] = f.etherType & 0xff;
  return hl;
}

/** A whole frame: header + payload, padded with zeros to ETH_ZLEN (60 bytes). */
export function buildEthernetFrame(f: EthernetFields, payload: Uint8Array): Uint8Array {
  const hl = ethernetHeaderLength(f);
  const out = new Uint8Array(Math.max(ETH_ZLEN, hl + payload.length));
  emitEthernetHeader(f, out, 0);
  out.set(payload, hl);
  return out;
}
