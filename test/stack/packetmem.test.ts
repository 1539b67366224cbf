import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { allocPacket, packetMemStats, releasePacket, retainPacket } from '../../src/stack/packetmem.js';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';

/** Carve packets until a new slab starts; returns the packets of the slab that was current. */
function fillSlab(): Uint8Array[] {
  const first = allocPacket(1500);
  const out = [first];
  for (;;) {
    const p = allocPacket(1500);
    if (p.buffer !== first.buffer) { releasePacket(p); return out; }
    out.push(p);
  }
}

describe('packet memory: slabs recycled only when every packet came back (issue 16)', () => {
  test('a slab whose packets were all released is reused; one with a packet still out is not', () => {
    // Start on a fresh slab boundary.
    fillSlab();
    const a = fillSlab();
    const b = fillSlab();
    const bufA = a[0]!.buffer, bufB = b[0]!.buffer;
    // All of A back, all of B but one.
    for (const p of a) releasePacket(p);
    for (const p of b.slice(1)) releasePacket(p);
    // The slab being filled now is finished first; the next one is A again.
    fillSlab();
    const next = fillSlab();
    assert.ok(next[0]!.buffer === bufA, 'the slab with every packet back is reused');
    const after: ArrayBufferLike[] = [];
    for (let k = 0; k < 20; k++) after.push(fillSlab()[0]!.buffer);
    assert.ok(!after.includes(bufB), 'a slab with a packet still out is never reused');
    assert.ok(!after.includes(bufA), 'a reused slab whose packets were not released is not reused again');
  });

  test('a retained packet keeps its slab out of reuse even when all its packets come back', () => {
    fillSlab();
    const a = fillSlab();
    retainPacket(a[3]!);
    for (const p of a) releasePacket(p);
    const bufs: ArrayBufferLike[] = [];
    for (let k = 0; k < 20; k++) bufs.push(fillSlab()[0]!.buffer);
    assert.ok(!bufs.includes(a[0]!.buffer), 'retained slab reused');
  });

  test('arrays not from allocPacket are ignored', () => {
    releasePacket(new Uint8Array(100));
    retainPacket(new Uint8Array(100));
    const big = allocPacket(200_000); // above the slab limit: its own buffer
    releasePacket(big);
    assert.equal(big.length, 200_000);
  });

  test('a bulk transfer with a capture on the link: every captured packet stays byte-identical, the data arrives intact', () => {
    const sim = new Simulation({ seed: 16 });
    const { a, b, rawA, rawB } = twoHosts(sim, { delay: 1 });
    const captured: Array<[Uint8Array, Uint8Array]> = [];
    // A capture that keeps packets (as a pcap writer might): observed on one direction only,
    // so the other direction's packets are recycled meanwhile.
    // It stops after 1500 packets: later slabs are recycled while the captured ones must stay.
    const stop = rawA.observe((ev) => {
      if (ev.kind === 'send') captured.push([ev.packet, ev.packet.slice()]);
      if (captured.length >= 1500) stop();
    });
    const reused0 = packetMemStats.slabsReused;
    const l = b.listen({ port: 7 });
    const total = 12 << 20;
    const got = new Uint8Array(total);
    let n = 0;
    l.onAcceptable = () => {
      const s = l.accept()!;
      s.user = { onReadable: () => { let k; while ((k = s.receiveInto(got, n, total - n, sim.now())) > 0) n += k; } };
    };
    const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 7 });
    const data = new Uint8Array(total);
    for (let i = 0; i < total; i++) data[i] = (i * 7 + (i >>> 11)) & 255;
    let sent = 0;
    const pump = (): void => { while (sent < total) { const k = c.send(data, sim.now(), sent, total - sent); if (k <= 0) break; sent += k; } };
    c.user = { onEstablished: pump, onWritable: pump };
    c.openActive(sim.now());
    sim.runUntil(() => n >= total);
    assert.equal(n, total);
    assert.deepEqual(got, data);
    assert.equal(captured.length, 1500);
    assert.ok(packetMemStats.slabsReused - reused0 > 20, `slabs reused: ${packetMemStats.slabsReused - reused0}`);
    let same = true;
    for (const [live, copy] of captured) if (!live.every((v, i) => v === copy[i])) same = false;
    assert.ok(same, 'a captured packet changed');
    void rawB;
  });
});
