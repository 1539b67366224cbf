// The ceiling: the least work any TCP/IP stack in JavaScript must do per data segment, on
// this machine, in this run. Two ends in one thread, no TCP state at all:
//
//   sender    write the IPv4 header and its checksum, the TCP header (20 bytes + the 12-byte
//             timestamp option), copy the payload from the user's buffer into the packet
//             (copy 1) and compute the TCP checksum over pseudo header + segment;
//   receiver  parse and verify the IPv4 header (version, IHL, length, checksum), parse the
//             TCP header (ports, seq, ack, flags, window, data offset, timestamp option),
//             verify the TCP checksum, copy the payload into the reader's buffer (copy 2);
//   every second segment the receiver builds an ACK (IPv4 + TCP header with timestamps,
//   both checksums) and the sender parses and verifies it.
//
// It uses the same checksum code as the stack (src/wire/checksum.ts), so a faster checksum
// raises the ceiling too: the bulk figures are reported as a percentage of it (a ratio from
// the same run, which the machine's noise affects far less than the absolute numbers).
import { internetChecksum, onesSum, pseudoHeaderSum } from '../../wire/checksum.js';
import type { Sample } from './suite.js';

const SRC = 0xc6120001, DST = 0xc6120002;

function put16(b: Uint8Array, i: number, v: number): void { b[i] = v >>> 8; b[i + 1] = v & 255; }
function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24; b[i + 1] = (v >>> 16) & 255; b[i + 2] = (v >>> 8) & 255; b[i + 3] = v & 255;
}
function get16(b: Uint8Array, i: number): number { return (b[i]! << 8) | b[i + 1]!; }
function get32(b: Uint8Array, i: number): number { return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0; }

/** IPv4 + TCP header with the timestamp option; payload copied in; both checksums. Returns the packet length. */
function build(pkt: Uint8Array, src: number, dst: number, seq: number, ack: number, flags: number, ts: number, payload: Uint8Array | null, off: number, len: number): number {
  const tcpLen = 32 + len;
  const total = 20 + tcpLen;
  pkt[0] = 0x45; pkt[1] = 0; put16(pkt, 2, total); put16(pkt, 4, seq & 0xffff); put16(pkt, 6, 0x4000);
  pkt[8] = 64; pkt[9] = 6; pkt[10] = 0; pkt[11] = 0; put32(pkt, 12, src); put32(pkt, 16, dst);
  const ipSum = internetChecksum(pkt, 0, 20);
  pkt[10] = ipSum >>> 8; pkt[11] = ipSum & 255;
  put16(pkt, 20, 40000); put16(pkt, 22, 5001); put32(pkt, 24, seq); put32(pkt, 28, ack);
  pkt[32] = 8 << 4; pkt[33] = flags; put16(pkt, 34, 65535); pkt[36] = 0; pkt[37] = 0; put16(pkt, 38, 0);
  pkt[40] = 1; pkt[41] = 1; pkt[42] = 8; pkt[43] = 10; put32(pkt, 44, ts); put32(pkt, 48, ts);
  if (payload !== null) pkt.set(payload.subarray(off, off + len), 52);
  const sum = internetChecksum(pkt, 20, tcpLen, pseudoHeaderSum(src, dst, 6, tcpLen));
  pkt[36] = sum >>> 8; pkt[37] = sum & 255;
  return total;
}

/** Parse and verify; copies the payload into sink at sinkOff. Returns payload length, or -1 when invalid. */
function parse(pkt: Uint8Array, len: number, sink: Uint8Array | null, sinkOff: number): number {
  if (len < 20 || pkt[0]! >>> 4 !== 4) return -1;
  const ihl = (pkt[0]! & 15) * 4;
  const total = get16(pkt, 2);
  if (total > len || total < ihl + 20) return -1;
  if (internetChecksum(pkt, 0, ihl) !== 0 || pkt[9] !== 6) return -1;
  const src = get32(pkt, 12), dst = get32(pkt, 16);
  const t = ihl;
  const tcpLen = total - ihl;
  const doff = (pkt[t + 12]! >>> 4) * 4;
  if (doff < 20 || doff > tcpLen) return -1;
  // The fields a stack reads (kept live by the checks below).
  const ports = get16(pkt, t) ^ get16(pkt, t + 2);
  const seq = get32(pkt, t + 4), ack = get32(pkt, t + 8), win = get16(pkt, t + 14);
  let tsv = 0;
  if (doff >= 32 && pkt[t + 22] === 8 && pkt[t + 23] === 10) tsv = get32(pkt, t + 24);
  if (onesSum(pkt, t, tcpLen, pseudoHeaderSum(src, dst, 6, tcpLen)) !== 0xffff) return -1;
  if ((ports | seq | ack | win | tsv) < -1) return -1;
  const n = tcpLen - doff;
  if (sink !== null && n > 0) sink.set(pkt.subarray(t + doff, t + doff + n), sinkOff);
  return n;
}

/**
 * Move `mb` MiB through the minimal pipeline with `mss`-byte segments; returns payload
 * Mbit/s and µs per data segment.
 */
export function ceiling(mb: number, mss: number): Sample {
  const total = mb * (1 << 20);
  const src = new Uint8Array(1 << 20);
  for (let i = 0; i < src.length; i++) src[i] = (i * 31) & 255;
  const sink = new Uint8Array(1 << 20);
  const pkts = [new Uint8Array(mss + 60), new Uint8Array(mss + 60)];
  const ackPkt = new Uint8Array(64);
  let seq = 1, ack = 1, srcOff = 0, sinkOff = 0, moved = 0, segs = 0, acks = 0;
  const t0 = process.hrtime.bigint();
  while (moved < total) {
    const n = Math.min(mss, total - moved, src.length - srcOff);
    const p = pkts[segs & 1]!;
    const len = build(p, SRC, DST, seq, ack, 0x18, segs, src, srcOff, n);
    srcOff += n; if (srcOff === src.length) srcOff = 0;
    seq = (seq + n) >>> 0;
    if (sinkOff + n > sink.length) sinkOff = 0;
    const got = parse(p, len, sink, sinkOff);
    if (got !== n) throw new Error('ceiling: segment failed to verify');
    sinkOff += got;
    moved += got;
    segs++;
    if ((segs & 1) === 0 || moved >= total) {
      const alen = build(ackPkt, DST, SRC, ack, seq, 0x10, segs, null, 0, 0);
      if (parse(ackPkt, alen, null, 0) !== 0) throw new Error('ceiling: ACK failed to verify');
      acks++;
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink[0] !== src[0] || acks === 0) throw new Error('ceiling: data mismatch');
  return { value: (total * 8) / secs / 1e6, extra: { 'µs/segment': (secs * 1e6) / segs, 'segments/s': segs / secs } };
}
