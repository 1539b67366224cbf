// Classic libpcap file format (https://wiki.wireshark.org/Development/LibpcapFileFormat,
// draft-ietf-opsawg-pcap): a 24-byte global header, then per packet a 16-byte record header
// and the captured bytes. We write little-endian, microsecond timestamps, LINKTYPE_RAW (raw
// IPv4/IPv6 with no link header), which is what a TUN device carries.

import { fail, ok, type ParseResult } from './errors.js';

export const LINKTYPE_RAW = 101;
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;
const DEFAULT_SNAPLEN = 65535;
/** Records claiming more than this are treated as corrupt rather than allocated/trusted. */
const MAX_RECORD = 0x4000000;
const CHUNK = 64 * 1024;

export interface PcapRecord {
  /** Microseconds (since the epoch, or virtual time): sec * 1e6 + usec. */
  tUs: number;
  /** Length of the packet on the wire; data may be shorter (snaplen). */
  origLen: number;
  /** View into the file bytes (no copy). */
  data: Uint8Array;
}

/**
 * Accumulates a pcap file in memory. Packets are appended into 64 KiB chunks so writing a
 * packet never copies the file so far; bytes() joins the chunks once.
 */
export class PcapWriter {
  readonly snaplen: number;
  readonly linktype: number;
  private readonly chunks: Uint8Array[] = [];
  private cur: Uint8Array;
  private curView: DataView;
  private pos = 0;
  private count = 0;

  constructor(opts?: { snaplen?: number; linktype?: number }) {
    this.snaplen = opts?.snaplen ?? DEFAULT_SNAPLEN;
    this.linktype = opts?.linktype ?? LINKTYPE_RAW;
    if (!Number.isInteger(this.snaplen) || this.snaplen <= 0 || this.snaplen > 0xffffffff) {
      throw new RangeError(`snaplen ${this.snaplen} must be a positive uint32`);
    }
    this.cur = new Uint8Array(CHUNK);
    this.curView = new DataView(this.cur.buffer);
    const v = this.curView;
    v.setUint32(0, PCAP_MAGIC_US, true);
    v.setUint16(4, 2, true); // version_major
    v.setUint16(6, 4, true); // version_minor
    v.setInt32(8, 0, true); // thiszone: timestamps are UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, this.linktype >>> 0, true);
    this.pos = PCAP_GLOBAL_HEADER;
  }

  get packetCount(): number {
    return this.count;
  }

  /** Append one packet captured at tUs microseconds (integer >= 0); data beyond snaplen is cut. */
  writePacket(tUs: number, packet: Uint8Array): void {
    if (!Number.isFinite(tUs) || tUs < 0) throw new RangeError(`pcap timestamp ${tUs} must be >= 0`);
    const t = Math.floor(tUs);
    const sec = Math.floor(t / 1e6);
    if (sec > 0xffffffff) throw new RangeError(`pcap timestamp ${tUs} overflows 32-bit seconds`);
    const incl = Math.min(packet.length, this.snaplen);
    const need = PCAP_RECORD_HEADER + incl;
    if (this.cur.length - this.pos < need) this.nextChunk(need);
    const v = this.curView;
    const p = this.pos;
    v.setUint32(p, sec, true);
    v.setUint32(p + 4, t - sec * 1e6, true);
    v.setUint32(p + 8, incl, true);
    v.setUint32(p + 12, packet.length, true);
    this.cur.set(incl === packet.length ? packet : packet.subarray(0, incl), p + PCAP_RECORD_HEADER);
    this.pos = p + need;
    this.count++;
  }

  private nextChunk(need: number): void {
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = new Uint8Array(Math.max(CHUNK, need));
    this.curView = new DataView(this.cur.buffer);
    this.pos = 0;
  }

  /** The whole file including the global header (a fresh copy each call). */
  bytes(): Uint8Array {
    let total = this.pos;
    for (const c of this.chunks) total += c.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    out.set(this.cur.subarray(0, this.pos), o);
    return out;
  }
}

/**
 * Read a classic pcap file in either byte order, with microsecond or nanosecond
 * (0xa1b23c4d) timestamps; nanoseconds are floored to microseconds. Record data are views
 * into `file`. Never throws.
 */
export function readPcap(file: Uint8Array): ParseResult<{ linktype: number; snaplen: number; records: PcapRecord[] }> {
  if (file.length < PCAP_GLOBAL_HEADER) {
    return fail('truncated', `pcap global header needs ${PCAP_GLOBAL_HEADER} bytes, have ${file.length}`);
  }
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  } else {
    return fail('unsupported', `not a classic pcap file (magic 0x${magicBe.toString(16).padStart(8, '0')})`);
  }
  const major = v.getUint16(4, le);
  if (major !== 2) return fail('bad-version', `pcap version ${major}.${v.getUint16(6, le)}, expected 2.x`);
  const snaplen = v.getUint32(16, le);
  // The LinkType is the low 16 bits; the upper bits may carry FCS information (draft-ietf-opsawg-pcap §4).
  const linktype = v.getUint32(20, le) & 0xffff;
  const records: PcapRecord[] = [];
  let p = PCAP_GLOBAL_HEADER;
  while (p < file.length) {
    if (file.length - p < PCAP_RECORD_HEADER) {
      return fail('truncated', `pcap record ${records.length} header cut at byte ${p}`);
    }
    const sec = v.getUint32(p, le);
    const frac = v.getUint32(p + 4, le);
    const incl = v.getUint32(p + 8, le);
    const origLen = v.getUint32(p + 12, le);
    if (incl > MAX_RECORD) return fail('bad-length', `pcap record ${records.length} claims ${incl} bytes`);
    const start = p + PCAP_RECORD_HEADER;
    if (file.length - start < incl) {
      return fail('truncated', `pcap record ${records.length} needs ${incl} bytes, have ${file.length - start}`);
    }
    records.push({ tUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac), origLen, data: file.subarray(start, start + incl) });
    p = start + incl;
  }
  return ok({ linktype, snaplen, records });
}
