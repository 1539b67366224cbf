// Engine-side TSO (src/tcp/output.ts transmitData, Stack.tsoMaxPayload): over a link that
// splits super-segments itself (LinkEnd.gsoMaxSize, like a TUN device with offloads), new
// data leaves in segments of up to ~64 KB, whole multiples of the MSS. What reaches the peer
// must be exactly what it would get without TSO: the same MSS-sized segments (sequence,
// acknowledgment, flags, window, options, payload) at the same instants — with and without
// loss — with retransmissions MSS-sized and the counters counting the segments on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { createLinkPair } from '../../src/sim/memlink.js';
import { FaultyLink } from '../../src/link/faulty.js';
import { Stack } from '../../src/stack/stack.js';
import { TX_CSUM_PARTIAL, type LinkEnd, type PacketHandler } from '../../src/link/types.js';
import { internetChecksum, transportChecksum } from '../../src/wire/checksum.js';

const A = 0xc6120001, B = 0xc6120002;
const MAX_GSO = 65535;

/**
 * A device with segmentation and checksum offload, in software: what the kernel does with a
 * TUN GSO packet (tcp_gso_segment + inet_gso_segment): split the payload into gsoSize pieces,
 * each with the header, its own sequence number, IP total length and ID (+1 per piece), PSH
 * and FIN on the last piece only, CWR on the first only, checksums completed.
 */
class SoftGsoLink implements LinkEnd {
  readonly txChecksumOffload: boolean;
  readonly gsoMaxSize: number | undefined;
  readonly txAlloc: ((len: number) => Uint8Array) | undefined;
  readonly supers: Array<{ payload: number; gsoSize: number }> = [];
  private readonly scratch = new Uint8Array(1 << 17);
  /** The highest sequence number sent so far (+1), -1 before any. */
  private sndMax = -1;
  constructor(private readonly inner: LinkEnd, offload: boolean, inPlace: boolean) {
    this.txChecksumOffload = offload;
    this.gsoMaxSize = offload ? MAX_GSO : undefined;
    // In-place building (TunLink's stage): a reused buffer, as the link copies at once.
    this.txAlloc = offload && inPlace ? (len) => this.scratch.subarray(8, 8 + len) : undefined;
  }
  get mtu(): number { return this.inner.mtu; }
  setReceiver(h: PacketHandler | null): void { this.inner.setReceiver(h); }
  send(p: Uint8Array, flags = 0, gsoSize = 0): void {
    const partial = (flags & TX_CSUM_PARTIAL) !== 0;
    assert.ok(p.length <= (gsoSize > 0 ? MAX_GSO : this.mtu), `packet of ${p.length} bytes`);
    if (gsoSize === 0) {
      const q = p.slice();
      const ihl = (p[0]! & 15) * 4;
      const end = (new DataView(p.buffer, p.byteOffset).getUint32(ihl + 4) + p.length - ihl - (p[ihl + 12]! >>> 4) * 4) >>> 0;
      if (p[9] === 6 && (this.sndMax === -1 || ((end - this.sndMax) | 0) > 0)) this.sndMax = end;
      if (partial) complete(q);
      this.inner.send(q);
      return;
    }
    assert.ok(partial, 'a super-segment comes with a partial checksum');
    const dv = new DataView(p.buffer, p.byteOffset, p.length);
    const ihl = (p[0]! & 15) * 4;
    const hdr = ihl + (p[ihl + 12]! >>> 4) * 4;
    const payload = p.length - hdr;
    assert.ok(payload > gsoSize, 'more than one segment');
    this.supers.push({ payload, gsoSize });
    const seq0 = dv.getUint32(ihl + 4), id0 = dv.getUint16(4);
    // Only new data goes out as a super-segment: retransmissions stay MSS-sized.
    if (this.sndMax !== -1) assert.ok(((seq0 - this.sndMax) | 0) >= 0, 'a super-segment carries no retransmitted data');
    this.sndMax = (seq0 + payload) >>> 0;
    for (let off = hdr, i = 0; off < p.length; off += gsoSize, i++) {
      const n = Math.min(gsoSize, p.length - off);
      const q = new Uint8Array(hdr + n);
      q.set(p.subarray(0, hdr));
      q.set(p.subarray(off, off + n), hdr);
      const v = new DataView(q.buffer);
      v.setUint16(2, q.length);
      v.setUint16(4, (id0 + i) & 0xffff);
      v.setUint32(ihl + 4, (seq0 + i * gsoSize) >>> 0);
      if (off + n < p.length) q[ihl + 13] = q[ihl + 13]! & ~0x09;
      if (i > 0) q[ihl + 13] = q[ihl + 13]! & ~0x80;
      complete(q);
      this.inner.send(q);
    }
  }
}

function complete(q: Uint8Array): void {
  const ihl = (q[0]! & 15) * 4;
  q[10] = 0; q[11] = 0;
  const ip = internetChecksum(q, 0, ihl);
  q[10] = ip >>> 8; q[11] = ip & 255;
  q[ihl + 16] = 0; q[ihl + 17] = 0;
  const c = transportChecksum(A, B, 6, q, ihl, q.length - ihl);
  q[ihl + 16] = c >>> 8; q[ihl + 17] = c & 255;
}

interface Seen { t: number; seq: number; ack: number; flags: number; win: number; opts: string; len: number; sum: number }

/** A sends `total` bytes to B; returns what B's link delivered (A → B data segments), A's counters and the supers. */
function run(o: { offload: boolean; inPlace?: boolean; loss?: number; total: number; seed: number; writes?: number }) {
  const sim = new Simulation({ seed: o.seed });
  const [ra, rb] = createLinkPair(sim, { mtu: 1500, delay: 50, queueLimit: 100_000 });
  const wire = o.loss ? new FaultyLink(ra, { loss: o.loss }, sim, sim.rng.fork('loss')) : ra;
  const la = new SoftGsoLink(wire, o.offload, o.inPlace ?? true);
  const seen: Seen[] = [];
  let maxPiece = 0;
  // Watch B's arrivals (the wire after the split): every TCP segment from A.
  const tap: LinkEnd = {
    get mtu() { return rb.mtu; },
    send: (p, f) => rb.send(p, f),
    setReceiver: (h) => rb.setReceiver(h === null ? null : (p, f) => {
      const dv = new DataView(p.buffer, p.byteOffset, p.length);
      const ihl = (p[0]! & 15) * 4;
      if (dv.getUint32(12) === A && p[9] === 6) {
        assert.equal(internetChecksum(p, 0, ihl), 0, 'IP checksum');
        assert.equal(transportChecksum(A, B, 6, p, ihl, p.length - ihl), 0, 'TCP checksum');
        const doff = (p[ihl + 12]! >>> 4) * 4;
        const len = p.length - ihl - doff;
        maxPiece = Math.max(maxPiece, len);
        let sum = 0;
        for (let i = ihl + doff; i < p.length; i++) sum = (sum * 31 + p[i]!) >>> 0;
        seen.push({ t: sim.now(), seq: dv.getUint32(ihl + 4), ack: dv.getUint32(ihl + 8), flags: p[ihl + 13]!, win: dv.getUint16(ihl + 14),
          opts: Buffer.from(p.subarray(ihl + 20, ihl + doff)).toString('hex'), len, sum });
      }
      h(p, f);
    }),
  };
  const ra2 = sim.rng.fork('a'), rb2 = sim.rng.fork('b');
  const a = new Stack({ clock: sim.clock, random: (n) => ra2.bytes(n), options: { tcp_wmem: [4096, 1 << 20, 1 << 20] } });
  const b = new Stack({ clock: sim.clock, random: (n) => rb2.bytes(n), options: { tcp_rmem: [4096, 1 << 20, 1 << 20] } });
  a.addInterface({ addr: A, prefixLen: 24, mtu: 1500, link: la });
  b.addInterface({ addr: B, prefixLen: 24, mtu: 1500, link: tap });
  sim.add(a); sim.add(b);
  const l = b.listen({ port: 80 });
  const got: Uint8Array[] = [];
  let gotLen = 0;
  let finished = false;
  l.onAcceptable = () => {
    const s = l.accept()!;
    const sink = new Uint8Array(1 << 16);
    s.user = {
      onReadable: () => { let n; while ((n = s.receiveInto(sink, 0, sink.length, sim.now())) > 0) { got.push(sink.slice(0, n)); gotLen += n; } },
      onEnd: () => { finished = true; },
    };
  };
  const data = new Uint8Array(o.total);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >>> 11)) & 255;
  const c = a.connect({ remoteAddr: B, remotePort: 80 });
  c.openActive(sim.now());
  sim.runUntil(() => c.state === 'ESTABLISHED');
  // Writes of varied sizes, each after the previous one was acknowledged: with the
  // congestion window open, a large write leaves in ~64 KB super-segments; odd sizes leave
  // sub-MSS tails.
  const sizes = [7, 100_000, 65_536, 1448 * 3 + 1, 300_000, 1, 250_000, 1448 * 45];
  let sent = 0;
  for (let k = 0; sent < data.length; k++) {
    const end = Math.min(data.length, sent + sizes[k % sizes.length]!);
    while (sent < end) {
      const n = c.send(data, sim.now(), sent, end - sent);
      sent += n;
      if (n === 0) sim.runUntil(() => c.sendSpace > 0 || c.state !== 'ESTABLISHED');
    }
    sim.runUntil(() => c.sndUna === c.sndMax);
  }
  c.close(sim.now());
  sim.runUntil(() => finished, { maxTime: 600_000_000 });
  assert.ok(finished, `transfer finished (${gotLen} of ${o.total})`);
  const all = Buffer.concat(got);
  assert.ok(all.equals(Buffer.from(data)), 'byte-exact');
  return { seen, counters: { ...a.counters }, supers: la.supers, maxPiece, segsOut: c.segsOut };
}

test('TSO: the peer sees the same MSS-sized segments at the same instants as without TSO', () => {
  const plain = run({ offload: false, total: 3_000_000, seed: 1 });
  const tso = run({ offload: true, total: 3_000_000, seed: 1 });
  const copied = run({ offload: true, inPlace: false, total: 3_000_000, seed: 1 });
  assert.equal(plain.supers.length, 0);
  assert.ok(tso.supers.length > 20, `super-segments sent: ${tso.supers.length}`);
  for (const s of tso.supers) {
    assert.equal(s.payload % s.gsoSize, 0, 'whole segments only');
    assert.ok(s.payload + 52 <= MAX_GSO, `${s.payload} bytes fit one IPv4 packet`);
  }
  assert.ok(tso.supers.some((s) => s.payload > 40 * s.gsoSize), 'some ~64 KB');
  assert.equal(tso.maxPiece, 1448);
  assert.deepEqual(tso.seen, plain.seen);
  assert.deepEqual(copied.seen, plain.seen);
  assert.equal(tso.counters.TcpOutSegs, plain.counters.TcpOutSegs, 'TcpOutSegs counts the segments on the wire');
  assert.equal(tso.segsOut, plain.segsOut);
});

test('TSO with 2% loss: same wire as without, retransmissions MSS-sized, byte-exact', () => {
  for (const seed of [3, 4]) {
    const plain = run({ offload: false, loss: 0.02, total: 1_500_000, seed });
    const tso = run({ offload: true, loss: 0.02, total: 1_500_000, seed });
    assert.ok(plain.counters.TcpRetransSegs > 0, 'losses were repaired');
    assert.ok(tso.supers.length > 0);
    assert.deepEqual(tso.seen, plain.seen, `seed ${seed}`);
    assert.equal(tso.counters.TcpRetransSegs, plain.counters.TcpRetransSegs);
    assert.equal(tso.counters.TcpOutSegs, plain.counters.TcpOutSegs);
  }
});
