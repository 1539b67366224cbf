// The virtio-net header on a TUN device opened with IFF_VNET_HDR (Node only; used by
// src/link/tun.ts in offload mode). Layout (linux/virtio_net.h, struct
// virtio_net_hdr_mrg_rxbuf, little-endian; the device is told 12 bytes with TUNSETVNETHDRSZ
// so the IP packet after it stays 4-byte aligned):
//
//   0 flags        NEEDS_CSUM (1): the checksum at csum_start+csum_offset holds only the
//                  pseudo-header sum, the rest is owed; DATA_VALID (2): already checked
//   1 gso_type     NONE (0), TCPV4 (1), | ECN (0x80)
//   2 hdr_len      bytes of IP + TCP header in front of the payload
//   4 gso_size     payload bytes per segment when the packet is split (the MSS)
//   6 csum_start   where checksumming starts (the TCP header: IHL × 4)
//   8 csum_offset  where the checksum field is, from csum_start (16 for TCP)
//  10 num_buffers  unused on TUN
//
// Receive: the kernel (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4) sends TCP super-segments of
// up to 64 KB with NEEDS_CSUM; synack takes each as one segment and trusts the checksum the
// way Linux trusts CHECKSUM_PARTIAL from its own stack (skb_csum_unnecessary).
// Send: GsoStager joins runs of full-sized segments of one connection that the stack hands
// over in one turn into one super-segment (gso_type TCPV4, gso_size = the first segment's
// payload) that the kernel splits (tcp_gso_segment: each piece gets the header with its own
// sequence number, PSH/FIN only on the last, the checksum completed).
import { onesSum, pseudoHeaderSum, internetChecksum } from '../wire/checksum.js';

export const VNET_HDR_LEN = 12;
/** TUNSETOFFLOAD flags (linux/if_tun.h). */
export const TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1, VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0, VIRTIO_NET_HDR_GSO_TCPV4 = 1, VIRTIO_NET_HDR_GSO_ECN = 0x80;

const IPPROTO_TCP = 6;
/** TCP flags a segment inside a super-segment may carry: ACK, and PSH on the last one. */
const ACK = 0x10, PSH = 0x08;
/** IPv4 total length is 16 bits. */
const MAX_SUPER = 65535;

export interface VnetRx {
  /** The IP packet (a view after the header). */
  packet: Uint8Array;
  /** The TCP checksum need not be verified (NEEDS_CSUM on TCP, or DATA_VALID). */
  csumValid: boolean;
  /** A GSO super-segment (gso_type TCPV4). */
  gso: boolean;
}

const rxRecord: VnetRx = { packet: new Uint8Array(0), csumValid: false, gso: false };

/**
 * Split one frame read from the device into header facts and the IP packet. A NEEDS_CSUM
 * packet that is not TCP gets its checksum completed here (the stack verifies those itself).
 * Returns a record reused by the next call, or null for a frame shorter than the header.
 */
export function parseVnetRx(frame: Uint8Array): VnetRx | null {
  if (frame.length < VNET_HDR_LEN + 20) return null;
  const flags = frame[0]!;
  const gsoType = frame[1]! & ~VIRTIO_NET_HDR_GSO_ECN;
  const packet = frame.subarray(VNET_HDR_LEN);
  let valid = (flags & VIRTIO_NET_HDR_F_DATA_VALID) !== 0;
  if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
    const start = frame[6]! | (frame[7]! << 8);
    const offset = frame[8]! | (frame[9]! << 8);
    if (packet[9] === IPPROTO_TCP && start === (packet[0]! & 15) * 4 && offset === 16) valid = true;
    else if (start + offset + 2 <= packet.length) {
      // RFC 1071: the field holds the pseudo-header sum; fold in the rest and store ~sum.
      const sum = onesSum(packet, start, packet.length - start);
      const c = ~sum & 0xffff;
      packet[start + offset] = c >>> 8;
      packet[start + offset + 1] = c & 0xff;
    }
  }
  rxRecord.packet = packet;
  rxRecord.csumValid = valid;
  rxRecord.gso = gsoType === VIRTIO_NET_HDR_GSO_TCPV4;
  return rxRecord;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/**
 * Builds the send stage of a TUN link in offload mode: each entry is a 12-byte virtio-net
 * header and an IP packet; consecutive full-sized segments of one connection (same header
 * apart from the sequence number, consecutive sequence numbers, partial checksum) are joined
 * into the open entry instead of starting a new one.
 */
export class GsoStager {
  /** Stage offset of the open entry's virtio-net header; -1: no entry can be extended. */
  private cur = -1;
  private curIndex = -1;
  /** One past the open entry's last byte. */
  end = 0;
  private hdrLen = 0;
  private gsoSize = 0;
  private segs = 0;
  private nextSeq = 0;
  /** Super-segments finished since the last finish(). */
  private supers = 0;

  constructor(private readonly stage: Uint8Array, private readonly lens: Uint32Array) {}

  /** Start entry `index` at stage offset `at` (the stage has room); returns the offset after it. */
  start(packet: Uint8Array, partial: boolean, index: number, at: number): number {
    this.close();
    const st = this.stage;
    const len = packet.length;
    st.fill(0, at, at + VNET_HDR_LEN);
    const ihl = (packet[0]! & 15) * 4;
    const tcp = packet[9] === IPPROTO_TCP && len >= ihl + 20;
    if (partial && tcp) {
      st[at] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      st[at + 6] = ihl; // csum_start (little-endian, < 256)
      st[at + 8] = 16; // csum_offset
    }
    st.set(packet, at + VNET_HDR_LEN);
    this.lens[index] = VNET_HDR_LEN + len;
    const end = at + VNET_HDR_LEN + len;
    if (partial && tcp && ihl === 20) {
      const doff = (packet[32]! >>> 4) * 4;
      const payload = len - 20 - doff;
      // Only a bare ACK-flagged data segment can be followed by more (PSH ends a run).
      if (payload > 0 && packet[33] === ACK) {
        this.cur = at;
        this.curIndex = index;
        this.end = end;
        this.hdrLen = 20 + doff;
        this.gsoSize = payload;
        this.segs = 1;
        this.nextSeq = (u32(packet, 24) + payload) >>> 0;
      }
    }
    return end;
  }

  /**
   * Stage a super-segment the stack built itself (TSO, `gsoSize` payload bytes per piece) as
   * entry `index` at `at`: NEEDS_CSUM (its checksum field holds the pseudo-header sum over the
   * whole TCP length, as tcp_gso_segment expects), gso_type TCPV4. Returns the offset after it.
   */
  startGso(packet: Uint8Array, gsoSize: number, index: number, at: number): number {
    this.close();
    const st = this.stage;
    const len = packet.length;
    const ihl = (packet[0]! & 15) * 4;
    const hdrLen = ihl + (packet[ihl + 12]! >>> 4) * 4;
    st.fill(0, at, at + VNET_HDR_LEN);
    st[at] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    // CWR goes on the first piece only (tcp_gso_segment); the ECN bit says the packet has it.
    st[at + 1] = VIRTIO_NET_HDR_GSO_TCPV4 | ((packet[ihl + 13]! & 0x80) !== 0 ? VIRTIO_NET_HDR_GSO_ECN : 0);
    st[at + 2] = hdrLen & 0xff; st[at + 3] = hdrLen >>> 8;
    st[at + 4] = gsoSize & 0xff; st[at + 5] = gsoSize >>> 8;
    st[at + 6] = ihl; // csum_start
    st[at + 8] = 16; // csum_offset
    // Built in place (TunLink.txAlloc) or copied in.
    if (packet.buffer !== st.buffer || packet.byteOffset !== st.byteOffset + at + VNET_HDR_LEN) st.set(packet, at + VNET_HDR_LEN);
    this.lens[index] = VNET_HDR_LEN + len;
    this.supers++;
    return at + VNET_HDR_LEN + len;
  }

  /**
   * Join `packet` to the open entry if it continues it; `index` is the entry about to be
   * staged next (the open one must be just before it). Returns false when it cannot.
   */
  append(packet: Uint8Array, partial: boolean, index: number, _at: number): boolean {
    if (this.cur < 0 || !partial || this.curIndex !== index - 1) return false;
    const len = packet.length;
    const h = this.hdrLen;
    if (len <= h || packet[9] !== IPPROTO_TCP || packet[0] !== 0x45) return false;
    const payload = len - h;
    if (payload > this.gsoSize) return false;
    const st = this.stage;
    const base = this.cur + VNET_HDR_LEN;
    const total = this.end - base + payload;
    if (total > MAX_SUPER || this.end + payload > st.length) return false;
    const flags = packet[33]!;
    if ((flags & ~PSH) !== ACK) return false;
    if (u32(packet, 24) !== this.nextSeq) return false;
    // IPv4: the same but for total length (2-3), identification (4-5) and checksum (10-11).
    if (packet[1] !== st[base + 1] || packet[6] !== st[base + 6] || packet[7] !== st[base + 7] || packet[8] !== st[base + 8]) return false;
    for (let i = 12; i < 20; i++) if (packet[i] !== st[base + i]) return false;
    // TCP: ports, ack, data offset, window, urgent pointer and options identical.
    for (let i = 20; i < 24; i++) if (packet[i] !== st[base + i]) return false;
    for (let i = 28; i < 33; i++) if (packet[i] !== st[base + i]) return false;
    if (packet[34] !== st[base + 34] || packet[35] !== st[base + 35] || packet[38] !== st[base + 38] || packet[39] !== st[base + 39]) return false;
    for (let i = 40; i < h; i++) if (packet[i] !== st[base + i]) return false;
    st.set(packet.subarray(h), this.end);
    this.end += payload;
    this.lens[this.curIndex] = this.end - this.cur;
    this.segs++;
    this.nextSeq = (this.nextSeq + payload) >>> 0;
    if ((flags & PSH) !== 0) st[base + 33] = flags;
    // A short or PSH segment ends the run; so does a super-segment too full for another.
    if (payload < this.gsoSize || (flags & PSH) !== 0 || total + this.gsoSize > MAX_SUPER) this.close();
    return true;
  }

  /** Finish the open entry: a super-segment gets its virtio-net GSO fields and fixed headers. */
  private close(): void {
    if (this.cur < 0) return;
    if (this.segs > 1) {
      const st = this.stage;
      const v = this.cur;
      const p = v + VNET_HDR_LEN;
      const total = this.end - p;
      st[v + 1] = VIRTIO_NET_HDR_GSO_TCPV4;
      st[v + 2] = this.hdrLen & 0xff; st[v + 3] = this.hdrLen >>> 8;
      st[v + 4] = this.gsoSize & 0xff; st[v + 5] = this.gsoSize >>> 8;
      // IPv4 total length and header checksum (RFC 791 §3.1) of the super-segment.
      st[p + 2] = total >>> 8; st[p + 3] = total & 0xff;
      st[p + 10] = 0; st[p + 11] = 0;
      const ipSum = internetChecksum(st, p, 20);
      st[p + 10] = ipSum >>> 8; st[p + 11] = ipSum & 0xff;
      // The partial TCP checksum covers the pseudo header with the whole TCP length; the
      // kernel adjusts it per piece (tcp_gso_segment).
      const src = u32(st, p + 12), dst = u32(st, p + 16);
      const ps = pseudoHeaderSum(src, dst, IPPROTO_TCP, total - 20);
      st[p + 36] = ps >>> 8; st[p + 37] = ps & 0xff;
      this.supers++;
    }
    this.cur = -1;
    this.curIndex = -1;
  }

  /** Before the stage is written: close the open entry; returns super-segments since the last call. */
  finish(): number {
    this.close();
    const n = this.supers;
    this.supers = 0;
    return n;
  }

  /** The stage was emptied without writing. */
  reset(): void {
    this.cur = -1;
    this.curIndex = -1;
    this.supers = 0;
  }
}
