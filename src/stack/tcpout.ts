// Serializing the engine's outgoing segments: IPv4 header + TCP header with options laid
// out exactly as Linux does (tcp_options_write): on a SYN `mss, sackOK, TS, nop, wscale`
// (or `mss, nop, nop, TS, nop, wscale` without SACK, `mss, nop, nop, sackOK, nop, wscale`
// without timestamps); on other segments `nop, nop, TS` then `nop, nop, sack …`.
import type { OutOptions, SegmentOut } from '../tcp/types.js';
import { TCP_SYN } from '../wire/tcp.js';
import { IPPROTO_TCP } from '../wire/ipv4.js';
import { writePlainIpv4 } from '../wire/ipv4fast.js';
import { pseudoHeaderSum, transportChecksum } from '../wire/checksum.js';
import { allocPacket } from './packetmem.js';

export { allocPacket } from './packetmem.js';

/** Byte length of the options `writeLinuxOptions` writes (always a multiple of 4). */
export function linuxOptionsLength(o: OutOptions, syn: boolean): number {
  let n = 0;
  if (syn) {
    if (o.mss >= 0) n += 4;
    if (o.ts) n += 12;
    else if (o.sackPermitted) n += 4;
    if (o.wscale >= 0) n += 4;
  } else if (o.ts) {
    n += 12;
  }
  if (o.sack.length > 0) n += 4 + 4 * o.sack.length;
  return n;
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24; b[i + 1] = (v >>> 16) & 255; b[i + 2] = (v >>> 8) & 255; b[i + 3] = v & 255;
}

export function writeLinuxOptions(o: OutOptions, syn: boolean, b: Uint8Array, i: number): number {
  const start = i;
  if (syn) {
    if (o.mss >= 0) { b[i++] = 2; b[i++] = 4; b[i++] = o.mss >>> 8; b[i++] = o.mss & 255; }
    if (o.ts) {
      if (o.sackPermitted) { b[i++] = 4; b[i++] = 2; } else { b[i++] = 1; b[i++] = 1; }
      b[i++] = 8; b[i++] = 10; put32(b, i, o.tsVal); put32(b, i + 4, o.tsEcr); i += 8;
    } else if (o.sackPermitted) {
      b[i++] = 1; b[i++] = 1; b[i++] = 4; b[i++] = 2;
    }
    if (o.wscale >= 0) { b[i++] = 1; b[i++] = 3; b[i++] = 3; b[i++] = o.wscale; }
  } else if (o.ts) {
    b[i++] = 1; b[i++] = 1; b[i++] = 8; b[i++] = 10; put32(b, i, o.tsVal); put32(b, i + 4, o.tsEcr); i += 8;
  }
  if (o.sack.length > 0) {
    b[i++] = 1; b[i++] = 1; b[i++] = 5; b[i++] = 2 + 4 * o.sack.length;
    for (const v of o.sack) { put32(b, i, v); i += 4; }
  }
  return i - start;
}

/**
 * Build the whole IPv4 packet for `seg` into a fresh buffer (ownership passes to the link),
 * or into the memory `alloc` returns.
 * `partialCsum`: the link completes the TCP checksum (checksum offload, like Linux
 * CHECKSUM_PARTIAL): the field gets the folded pseudo-header sum only.
 */
export function serializeSegment(
  seg: SegmentOut, src: number, srcPort: number, dst: number, dstPort: number, ttl: number, ipId: number, dscp = 0,
  partialCsum = false,
  alloc: ((len: number) => Uint8Array) | null = null,
): Uint8Array {
  const syn = (seg.flags & TCP_SYN) !== 0;
  const optLen = linuxOptionsLength(seg.opts, syn);
  const tcpHdr = 20 + optLen;
  const payloadLen = seg.payload === null ? 0 : seg.payload.length;
  const tcpLen = tcpHdr + payloadLen;
  // `alloc`: the link's own transmit memory (LinkEnd.txAlloc), written in place.
  const pkt = alloc === null ? allocPacket(20 + tcpLen) : alloc(20 + tcpLen);
  // DF: TCP does Path MTU Discovery (RFC 1191, tcp/icmp.ts). dscp: RFC 9293 §3.9.1.9 (Tcb.dscp).
  writePlainIpv4(pkt, 20 + tcpLen, ipId, dscp, ttl, IPPROTO_TCP, src, dst);
  const t = 20;
  pkt[t] = srcPort >>> 8; pkt[t + 1] = srcPort & 255;
  pkt[t + 2] = dstPort >>> 8; pkt[t + 3] = dstPort & 255;
  put32(pkt, t + 4, seg.seq >>> 0);
  put32(pkt, t + 8, seg.ack >>> 0);
  pkt[t + 12] = (tcpHdr >>> 2) << 4;
  pkt[t + 13] = seg.flags & 0xff;
  pkt[t + 14] = seg.window >>> 8; pkt[t + 15] = seg.window & 255;
  pkt[t + 18] = seg.urgentPointer >>> 8; pkt[t + 19] = seg.urgentPointer & 255;
  pkt[t + 16] = 0; pkt[t + 17] = 0; // the checksum field is summed below (memory may be reused)
  writeLinuxOptions(seg.opts, syn, pkt, t + 20);
  if (payloadLen > 0) pkt.set(seg.payload!, t + tcpHdr);
  const sum = partialCsum ? pseudoHeaderSum(src, dst, IPPROTO_TCP, tcpLen) : transportChecksum(src, dst, IPPROTO_TCP, pkt, t, tcpLen);
  pkt[t + 16] = sum >>> 8; pkt[t + 17] = sum & 255;
  return pkt;
}
