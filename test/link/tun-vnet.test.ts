// The virtio-net side of TUN offloads, without a device: GsoStager joins a run of segments
// into one super-segment exactly as the kernel will split it back (tcp_gso_segment), and
// parseVnetRx takes the kernel's partial-checksum packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GsoStager, parseVnetRx, VNET_HDR_LEN, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 } from '../../src/link/tun-vnet.js';
import { serializeSegment } from '../../src/stack/tcpout.js';
import { newOutOptions, type SegmentOut } from '../../src/tcp/types.js';
import { onesSum, transportChecksum } from '../../src/wire/checksum.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const SRC = 0xc6120001, DST = 0xc6120002;

function seg(seq: number, payload: Uint8Array, flags = 0x10, tsVal = 1000): Uint8Array {
  const opts = newOutOptions();
  opts.ts = true; opts.tsVal = tsVal; opts.tsEcr = 77;
  const s: SegmentOut = { seq, ack: 5000, flags, window: 512, urgentPointer: 0, opts, payload, retransmit: false };
  return serializeSegment(s, SRC, 40000, DST, 80, 64, seq & 0xffff, 0, true);
}

/** What the kernel does with a GSO packet: split by gso_size, fix lengths, seq, PSH, checksums. */
function kernelSplit(frame: Uint8Array): Uint8Array[] {
  const gsoType = frame[1]!, hdrLen = frame[2]! | (frame[3]! << 8), gsoSize = frame[4]! | (frame[5]! << 8);
  const p = frame.subarray(VNET_HDR_LEN);
  assert.equal(parseIpv4(p).ok, true, 'super-segment IPv4 header valid');
  if (gsoType === 0) return [p];
  assert.equal(gsoType, VIRTIO_NET_HDR_GSO_TCPV4);
  const out: Uint8Array[] = [];
  const seq0 = new DataView(p.buffer, p.byteOffset).getUint32(24);
  for (let off = hdrLen, i = 0; off < p.length; off += gsoSize, i++) {
    const n = Math.min(gsoSize, p.length - off);
    const q = new Uint8Array(hdrLen + n);
    q.set(p.subarray(0, hdrLen)); q.set(p.subarray(off, off + n), hdrLen);
    const dv = new DataView(q.buffer);
    dv.setUint16(2, q.length); dv.setUint32(24, (seq0 + i * gsoSize) >>> 0);
    if (off + n < p.length) q[33] = q[33]! & ~0x09; // PSH/FIN on the last piece only
    dv.setUint16(36, 0);
    dv.setUint16(36, transportChecksum(SRC, DST, 6, q, 20, q.length - 20));
    out.push(q);
  }
  return out;
}

test('GsoStager: a run of full segments becomes one TCPV4 super-segment the kernel splits back byte-exact', () => {
  const stage = new Uint8Array(1 << 20);
  const lens = new Uint32Array(64);
  const g = new GsoStager(stage, lens);
  const data = new Uint8Array(1448 * 5 + 300);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
  const pkts: Uint8Array[] = [];
  for (let off = 0, seq = 1000; off < data.length; off += 1448, seq += 1448) {
    const n = Math.min(1448, data.length - off);
    pkts.push(seg(seq, data.subarray(off, off + n), off + n === data.length ? 0x18 : 0x10));
  }
  let count = 0, bytes = 0;
  for (const p of pkts) {
    if (g.append(p, true, count, bytes)) bytes = g.end;
    else { bytes = g.start(p, true, count, bytes); count++; }
  }
  assert.equal(g.finish(), 1);
  assert.equal(count, 1, 'one entry');
  const frame = stage.subarray(0, lens[0]);
  assert.equal(frame[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
  assert.equal(frame[4]! | (frame[5]! << 8), 1448, 'gso_size');
  const pieces = kernelSplit(frame);
  assert.equal(pieces.length, pkts.length);
  for (let i = 0; i < pieces.length; i++) {
    // The original segment with its checksum completed is what the kernel rebuilt.
    const want = pkts[i]!.slice();
    want[36] = 0; want[37] = 0;
    const c = transportChecksum(SRC, DST, 6, want, 20, want.length - 20);
    want[36] = c >>> 8; want[37] = c & 255;
    const got = pieces[i]!;
    got[4] = want[4]!; got[5] = want[5]!; got[10] = want[10]!; got[11] = want[11]!; // IP id/checksum are the kernel's
    assert.deepEqual(got, want, `piece ${i}`);
  }
});

test('GsoStager: different options (a new timestamp), a gap, or a SYN start a new entry', () => {
  const stage = new Uint8Array(1 << 20);
  const lens = new Uint32Array(64);
  const g = new GsoStager(stage, lens);
  const d = new Uint8Array(1448);
  const pkts = [seg(1, d), seg(1449, d, 0x10, 1001), seg(2897 + 1448, d), seg(9000, new Uint8Array(0), 0x12)];
  let count = 0, bytes = 0;
  for (const p of pkts) {
    if (g.append(p, true, count, bytes)) bytes = g.end;
    else { bytes = g.start(p, true, count, bytes); count++; }
  }
  assert.equal(count, 4);
  assert.equal(g.finish(), 0);
  for (let i = 0, off = 0; i < count; off += lens[i]!, i++) assert.equal(stage[off + 1], 0, 'gso_type NONE');
});

test('parseVnetRx: NEEDS_CSUM TCP is trusted; NEEDS_CSUM of another protocol is completed; short frames refused', () => {
  const p = seg(1, new Uint8Array(100));
  const f = new Uint8Array(VNET_HDR_LEN + p.length);
  f.set(p, VNET_HDR_LEN);
  f[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM; f[6] = 20; f[8] = 16;
  const r = parseVnetRx(f)!;
  assert.equal(r.csumValid, true);
  assert.equal(r.packet.length, p.length);
  // Pretend it is UDP (protocol 17, checksum at +6): the link completes the checksum itself.
  const u = f.slice();
  u[VNET_HDR_LEN + 9] = 17; u[8] = 6;
  const ru = parseVnetRx(u)!;
  assert.equal(ru.csumValid, false);
  // The field held the pseudo-header sum: that sum plus the completed region is all ones.
  const pseudo = (p[26]! << 8) | p[27]!;
  assert.equal(onesSum(ru.packet, 20, ru.packet.length - 20, pseudo), 0xffff, 'completed checksum verifies');
  assert.equal(parseVnetRx(new Uint8Array(20)), null);
});

test('GsoStager.startGso: a super-segment the stack built (TSO) is split back into its MSS-sized segments, in place or copied', () => {
  const data = new Uint8Array(1448 * 44);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 255;
  const big = seg(7000, data, 0x18);
  for (const inPlace of [false, true]) {
    const stage = new Uint8Array(1 << 20);
    const lens = new Uint32Array(8);
    const g = new GsoStager(stage, lens);
    // An ordinary packet first, then the super-segment after it.
    const ack = seg(7000, new Uint8Array(0), 0x10);
    let bytes = g.start(ack, true, 0, 0);
    let pkt = big;
    if (inPlace) { pkt = stage.subarray(bytes + VNET_HDR_LEN, bytes + VNET_HDR_LEN + big.length); pkt.set(big); }
    bytes = g.startGso(pkt, 1448, 1, bytes);
    assert.equal(g.finish(), 1);
    assert.equal(lens[1], VNET_HDR_LEN + big.length);
    const frame = stage.subarray(lens[0]!, lens[0]! + lens[1]!);
    assert.equal(frame[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert.equal(frame[1], VIRTIO_NET_HDR_GSO_TCPV4);
    assert.equal(frame[2]! | (frame[3]! << 8), 20 + 32, 'hdr_len: IP + TCP with timestamps');
    assert.equal(frame[4]! | (frame[5]! << 8), 1448, 'gso_size');
    assert.equal(frame[6], 20); assert.equal(frame[8], 16);
    const pieces = kernelSplit(frame);
    assert.equal(pieces.length, 44);
    for (let i = 0; i < 44; i++) {
      const want = seg(7000 + i * 1448, data.subarray(i * 1448, (i + 1) * 1448), i === 43 ? 0x18 : 0x10);
      const got = pieces[i]!;
      // The kernel numbers IP IDs per piece; compare the rest.
      assert.deepEqual(got.subarray(20), completed(want).subarray(20), `piece ${i} ${inPlace ? 'in place' : 'copied'}`);
    }
  }
});

/** A partial-checksum packet with its TCP checksum completed. */
function completed(p: Uint8Array): Uint8Array {
  const q = p.slice();
  q[36] = 0; q[37] = 0;
  const c = transportChecksum(SRC, DST, 6, q, 20, q.length - 20);
  q[36] = c >>> 8; q[37] = c & 255;
  return q;
}
