import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { createLinkPair } from '../../src/sim/memlink.js';
import { Rng } from '../../src/sim/rng.js';
import { FaultyLink, type FaultOptions } from '../../src/link/faulty.js';
import type { LinkEvent } from '../../src/link/types.js';
import { packet, tagOf } from './helpers.js';

function setup(opts: FaultOptions, seed = 1234, link: Parameters<typeof createLinkPair>[1] = {}) {
  const sim = new Simulation({ seed });
  const [a0, b] = createLinkPair(sim, { queueLimit: 1_000_000, ...link });
  const a = new FaultyLink(a0, opts, sim, sim.rng.fork('a->b'));
  const got: Uint8Array[] = [];
  const times: number[] = [];
  b.setReceiver((p) => { got.push(p); times.push(sim.now()); });
  const events: LinkEvent[] = [];
  a.observe((e) => events.push(e));
  return { sim, a, b, got, times, events };
}

/** Send n tagged packets; return which were delivered (set of tags). */
function blast(opts: FaultOptions, n: number, seed = 1234): { delivered: Set<number>; a: FaultyLink; events: LinkEvent[] } {
  const { sim, a, got, events } = setup(opts, seed);
  for (let i = 0; i < n; i++) a.send(packet(40, i));
  sim.runUntilIdle();
  return { delivered: new Set(got.map(tagOf)), a, events };
}

describe('FaultyLink', () => {
  test('no faults: transparent, mtu of the inner link', () => {
    const { sim, a, got } = setup({}, 1, { mtu: 1280 });
    assert.equal(a.mtu, 1280);
    for (let i = 0; i < 10; i++) a.send(packet(100, i));
    sim.runUntilIdle();
    assert.deepEqual(got.map(tagOf), [...Array(10).keys()]);
    assert.equal(a.stats.sent, 10);
    assert.equal(a.stats.delivered, 10);
    assert.equal(a.stats.dropped, 0);
  });

  test('loss rate is close to p over 100k packets with a fixed seed', () => {
    const n = 100_000;
    const { delivered, a, events } = blast({ loss: 0.1 }, n);
    const lost = n - delivered.size;
    assert.ok(Math.abs(lost / n - 0.1) < 0.005, `loss ${lost / n}`);
    assert.equal(a.stats.dropped, lost);
    assert.equal(events.filter((e) => e.kind === 'drop' && e.reason === 'loss').length, lost);
    assert.equal(events.filter((e) => e.kind === 'send').length, n);
  });

  test('same seed → identical drop pattern; different seed → different', () => {
    const run = (seed: number) => [...blast({ loss: 0.2 }, 2000, seed).delivered].join(',');
    assert.equal(run(7), run(7));
    assert.notEqual(run(7), run(8));
  });

  test('Gilbert–Elliott bursts: losses cluster, average matches the stationary rate', () => {
    const n = 100_000;
    const burst = { pEnter: 0.01, pExit: 0.1 };
    const { delivered, events } = blast({ burst }, n);
    const lost = n - delivered.size;
    const stationary = burst.pEnter / (burst.pEnter + burst.pExit); // ≈ 0.0909
    assert.ok(Math.abs(lost / n - stationary) < 0.015, `loss ${lost / n}`);
    assert.ok(events.some((e) => e.reason === 'burst-loss'));
    // Mean run length of consecutive losses ≈ 1/pExit = 10, far above independent loss (~1.1).
    let runs = 0;
    for (let i = 0; i < n; i++) if (!delivered.has(i) && (i === 0 || delivered.has(i - 1))) runs++;
    assert.ok(lost / runs > 5, `mean burst ${lost / runs}`);
  });

  test('duplication sends a second, separate copy', () => {
    const n = 10_000;
    const { sim, a, got } = setup({ duplicate: 0.1 });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < n; i++) { const p = packet(40, i); sent.push(p); a.send(p); }
    sim.runUntilIdle();
    const dups = got.length - n;
    assert.ok(Math.abs(dups / n - 0.1) < 0.015, `dup ${dups / n}`);
    assert.equal(a.stats.duplicated, dups);
    assert.equal(a.stats.delivered, got.length);
    const byTag = new Map<number, Uint8Array[]>();
    for (const p of got) byTag.set(tagOf(p), [...(byTag.get(tagOf(p)) ?? []), p]);
    const pair = [...byTag.values()].find((v) => v.length === 2)!;
    assert.notEqual(pair[0], pair[1]);
    assert.deepEqual(pair[0], pair[1]);
  });

  test('corruption flips exactly one bit, in a copy', () => {
    const { sim, a, got } = setup({ corrupt: 1 });
    const orig = packet(200, 5);
    const before = orig.slice();
    a.send(orig);
    sim.runUntilIdle();
    assert.deepEqual(orig, before, 'the sender buffer must not change');
    assert.equal(got.length, 1);
    assert.notEqual(got[0], orig);
    let bits = 0;
    for (let i = 0; i < orig.length; i++) {
      let x = orig[i]! ^ got[0]![i]!;
      while (x) { bits += x & 1; x >>>= 1; }
    }
    assert.equal(bits, 1);
    assert.equal(a.stats.corrupted, 1);
  });

  test('corruption rate ~p and flipped bits spread over the packet', () => {
    const { sim, a, got } = setup({ corrupt: 0.05 });
    const n = 20_000;
    for (let i = 0; i < n; i++) a.send(new Uint8Array(40));
    sim.runUntilIdle();
    const bad = got.filter((p) => p.some((x) => x !== 0));
    assert.ok(Math.abs(bad.length / n - 0.05) < 0.01);
    const positions = new Set(bad.map((p) => p.findIndex((x) => x !== 0)));
    assert.ok(positions.size > 30, `${positions.size} byte positions`);
  });

  test('delay and jitter: arrivals within [delay, delay+jitter], and jitter reorders', () => {
    const { sim, a, got, times } = setup({ delay: 10_000, jitter: 5000 });
    for (let i = 0; i < 1000; i++) sim.at(i * 100, () => a.send(packet(40, i)));
    sim.runUntilIdle();
    assert.equal(got.length, 1000);
    const tags = got.map(tagOf);
    for (let k = 0; k < got.length; k++) {
      const sentAt = tags[k]! * 100;
      const lag = times[k]! - sentAt;
      assert.ok(lag >= 10_000 && lag <= 15_000, `lag ${lag}`);
    }
    assert.ok(tags.some((t, k) => k > 0 && t < tags[k - 1]!), 'some packets were reordered');
  });

  test('reorder: held-back packets are overtaken', () => {
    const { sim, a, got } = setup({ reorder: 0.2, delay: 1000 });
    const n = 1000;
    for (let i = 0; i < n; i++) sim.at(i * 100, () => a.send(packet(40, i)));
    sim.runUntilIdle();
    const tags = got.map(tagOf);
    assert.equal(tags.length, n);
    let inversions = 0;
    for (let k = 1; k < tags.length; k++) if (tags[k]! < tags[k - 1]!) inversions++;
    assert.ok(inversions > 100, `${inversions} inversions`);
    assert.ok(Math.abs(a.stats.reordered / n - 0.2) < 0.05);
    assert.deepEqual([...tags].sort((x, y) => x - y), [...Array(n).keys()]);
  });

  test('partition drops everything, including packets still held; lifting it restores delivery', () => {
    const { sim, a, got, events } = setup({ delay: 1000 });
    a.send(packet(40, 1)); // in flight inside the wrapper
    a.partition(true);
    for (let i = 2; i < 50; i++) a.send(packet(40, i));
    sim.runUntilIdle();
    assert.equal(got.length, 0);
    assert.equal(a.stats.dropped, 49);
    assert.ok(events.filter((e) => e.kind === 'drop').every((e) => e.reason === 'partition'));
    a.partition(false);
    a.send(packet(40, 99));
    sim.runUntilIdle();
    assert.deepEqual(got.map(tagOf), [99]);
    const p = setup({ partitioned: true });
    p.a.send(packet(40));
    p.sim.runUntilIdle();
    assert.equal(p.got.length, 0);
  });

  test('rate limiting: throughput matches the bottleneck; the byte queue tail-drops', () => {
    // 1 Mbit/s, 1000-byte packets = 8 ms each; 100 packets = 800 ms.
    const { sim, a, got, times, events } = setup({ rate: 1_000_000, queueLimit: 1_000_000 });
    for (let i = 0; i < 100; i++) a.send(packet(1000, i));
    sim.runUntilIdle();
    assert.equal(got.length, 100);
    assert.equal(times[0], 8000);
    assert.equal(times.at(-1), 800_000);
    assert.deepEqual(got.map(tagOf), [...Array(100).keys()]);
    assert.equal(events.filter((e) => e.kind === 'drop').length, 0);

    const q = setup({ rate: 1_000_000, queueLimit: 10_000 });
    for (let i = 0; i < 100; i++) q.a.send(packet(1000, i));
    q.sim.runUntilIdle();
    assert.equal(q.got.length, 10);
    const drops = q.events.filter((e) => e.kind === 'drop');
    assert.equal(drops.length, 90);
    assert.ok(drops.every((e) => e.reason === 'queue-full'));
  });

  test('rate with a steady sender: delivered throughput equals the rate', () => {
    const { sim, a, got } = setup({ rate: 2_000_000, queueLimit: 20_000 });
    // Offer 4 Mbit/s for one second: half gets through, the queue drops the rest.
    for (let i = 0; i < 500; i++) sim.at(i * 2000, () => a.send(packet(1000, i)));
    sim.runFor(1_000_000);
    const bits = got.length * 1000 * 8;
    assert.ok(Math.abs(bits - 2_000_000) <= 20_000 * 8, `${bits} bits in 1 s`);
  });

  test('configure changes options on the fly; undefined turns a fault off', () => {
    const { sim, a, got } = setup({ loss: 1 });
    a.send(packet(40, 1));
    a.configure({ loss: undefined, delay: 500 });
    assert.equal(a.options.delay, 500);
    a.send(packet(40, 2));
    sim.runUntilIdle();
    assert.deepEqual(got.map(tagOf), [2]);
    assert.equal(sim.now(), 500);
  });

  test('dropWhen drops matching packets deterministically, by content or index', () => {
    const { sim, a, got, events } = setup({});
    const stop = a.dropWhen((p) => tagOf(p) === 3);
    a.dropWhen((_p, index) => index === 5 || index === 7, 1); // only once
    for (let i = 0; i < 10; i++) a.send(packet(40, i));
    stop();
    a.send(packet(40, 3));
    sim.runUntilIdle();
    assert.deepEqual(got.map(tagOf), [0, 1, 2, 4, 6, 7, 8, 9, 3]);
    assert.deepEqual(events.filter((e) => e.kind === 'drop').map((e) => [tagOf(e.packet), e.reason]), [
      [3, 'scripted'], [5, 'scripted'],
    ]);
  });

  test('observer events: send for every packet, drop with reason, deliver when passed on', () => {
    const { sim, a, events } = setup({ delay: 100 });
    a.dropWhen((_p, i) => i === 1);
    a.send(packet(40, 0));
    a.send(packet(40, 1));
    sim.runUntilIdle();
    assert.deepEqual(events.map((e) => [e.kind, e.t, tagOf(e.packet), e.reason]), [
      ['send', 0, 0, undefined],
      ['send', 0, 1, undefined],
      ['drop', 0, 1, 'scripted'],
      ['deliver', 100, 0, undefined],
    ]);
  });

  test('received packets pass through unchanged (faults apply to sending only)', () => {
    const sim = new Simulation();
    const [a0, b] = createLinkPair(sim);
    const a = new FaultyLink(a0, { loss: 1 }, sim, new Rng(1));
    let n = 0;
    a.setReceiver(() => n++);
    for (let i = 0; i < 10; i++) b.send(packet(40));
    sim.runUntilIdle();
    assert.equal(n, 10);
  });

  test('stacked wrappers compose', () => {
    const sim = new Simulation();
    const [a0, b] = createLinkPair(sim);
    const inner = new FaultyLink(a0, { delay: 1000 }, sim, new Rng(1));
    const outer = new FaultyLink(inner, { delay: 2000 }, sim, new Rng(2));
    let at = -1;
    b.setReceiver(() => (at = sim.now()));
    outer.send(packet(40));
    sim.runUntilIdle();
    assert.equal(at, 3000);
  });
});
