import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { createLinkPair } from '../../src/sim/memlink.js';
import type { LinkEvent } from '../../src/link/types.js';
import { packet, tagOf } from './helpers.js';

describe('memlink', () => {
  test('delivers to the peer through the scheduler, never synchronously', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim);
    assert.equal(a.mtu, 1500);
    const got: number[] = [];
    b.setReceiver((p) => got.push(tagOf(p)));
    a.send(packet(100, 1));
    assert.deepEqual(got, []); // not inside send()
    sim.runUntilIdle();
    assert.deepEqual(got, [1]);
    assert.equal(sim.now(), 0);
  });

  test('both directions work independently', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { delay: 5000 });
    const atA: number[] = [], atB: number[] = [];
    a.setReceiver((p) => atA.push(tagOf(p)));
    b.setReceiver((p) => atB.push(tagOf(p)));
    a.send(packet(60, 1));
    b.send(packet(60, 2));
    sim.runUntilIdle();
    assert.deepEqual(atA, [2]);
    assert.deepEqual(atB, [1]);
    assert.equal(sim.now(), 5000);
  });

  test('propagation delay', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { delay: 10_000 });
    const times: number[] = [];
    b.setReceiver(() => times.push(sim.now()));
    a.send(packet(1000));
    sim.at(3000, () => a.send(packet(1000)));
    sim.runUntilIdle();
    assert.deepEqual(times, [10_000, 13_000]);
  });

  test('bandwidth: 1500-byte packets at 12 Mbit/s take 1 ms each, FIFO behind each other', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { bandwidth: 12_000_000, delay: 500 });
    const got: Array<[number, number]> = [];
    b.setReceiver((p) => got.push([tagOf(p), sim.now()]));
    for (let i = 0; i < 5; i++) a.send(packet(1500, i));
    sim.runUntilIdle();
    assert.deepEqual(got, [
      [0, 1500], [1, 2500], [2, 3500], [3, 4500], [4, 5500],
    ]);
    // After the link drained, a new packet starts right away.
    sim.at(10_000, () => a.send(packet(750, 9)));
    sim.runUntilIdle();
    assert.deepEqual(got.at(-1), [9, 11_000]);
  });

  test('bandwidth with fractional serialization times keeps exact throughput', () => {
    const sim = new Simulation();
    // 100-byte packets at 3 Mbit/s = 266.67 µs each: 3000 packets take exactly 800 ms.
    const [a, b] = createLinkPair(sim, { bandwidth: 3_000_000, queueLimit: 10_000 });
    let last = 0, n = 0;
    b.setReceiver(() => { n++; last = sim.now(); });
    for (let i = 0; i < 3000; i++) a.send(packet(100, i));
    sim.runUntilIdle();
    assert.equal(n, 3000);
    assert.equal(last, 800_000);
  });

  test('queue overflow drops at the tail with reason queue-full', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { bandwidth: 12_000_000, queueLimit: 3 });
    const drops: LinkEvent[] = [];
    a.observe((e) => { if (e.kind === 'drop') drops.push(e); });
    const got: number[] = [];
    b.setReceiver((p) => got.push(tagOf(p)));
    // One goes on the wire at once, three wait, the rest are dropped.
    for (let i = 0; i < 8; i++) a.send(packet(1500, i));
    sim.runUntilIdle();
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.equal(drops.length, 4);
    assert.ok(drops.every((d) => d.reason === 'queue-full'));
    assert.deepEqual(drops.map((d) => tagOf(d.packet)), [4, 5, 6, 7]);
  });

  test('the queue frees up as packets go on the wire', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { bandwidth: 12_000_000, queueLimit: 1 });
    const got: number[] = [];
    b.setReceiver((p) => got.push(tagOf(p)));
    a.send(packet(1500, 0)); // on the wire until 1000
    a.send(packet(1500, 1)); // waits
    a.send(packet(1500, 2)); // dropped
    sim.at(1000, () => a.send(packet(1500, 3))); // #1 started at 1000, so there is room
    sim.runUntilIdle();
    assert.deepEqual(got, [0, 1, 3]);
  });

  test('packets bigger than the MTU are dropped with reason mtu', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { mtu: 576 });
    const events: string[] = [];
    a.observe((e) => events.push(`${e.kind}${e.reason ? ':' + e.reason : ''}`));
    let n = 0;
    b.setReceiver(() => n++);
    a.send(packet(577));
    a.send(packet(576));
    sim.runUntilIdle();
    assert.equal(n, 1);
    assert.deepEqual(events, ['send', 'drop:mtu', 'send', 'deliver']);
  });

  test('observers see send then deliver with times; unsubscribe works; no receiver = drop', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim, { delay: 100 });
    const ev: LinkEvent[] = [];
    const off = a.observe((e) => ev.push(e));
    b.setReceiver(() => {});
    const p = packet(40, 7);
    a.send(p);
    sim.runUntilIdle();
    assert.deepEqual(ev.map((e) => [e.kind, e.t]), [['send', 0], ['deliver', 100]]);
    assert.equal(ev[0]!.packet, p);
    b.setReceiver(null);
    a.send(packet(40));
    sim.runUntilIdle();
    assert.deepEqual(ev.slice(2).map((e) => [e.kind, e.reason]), [['send', undefined], ['drop', 'no-receiver']]);
    off();
    a.send(packet(40));
    sim.runUntilIdle();
    assert.equal(ev.length, 4);
  });

  test('a reply sent from inside the receiver is not delivered re-entrantly', () => {
    const sim = new Simulation();
    const [a, b] = createLinkPair(sim);
    const log: string[] = [];
    b.setReceiver((p) => {
      log.push('b got');
      b.send(p);
      log.push('b sent');
    });
    a.setReceiver(() => log.push('a got'));
    a.send(packet(40));
    sim.runUntilIdle();
    assert.deepEqual(log, ['b got', 'b sent', 'a got']);
  });
  test('the in-flight queue is reused across bursts and compacted under a long backlog: every packet once, in order, on time', () => {
    const sim = new Simulation();
    // 1 Mbit/s: a 125-byte packet takes 1 ms on the wire, so a burst stays in flight for a while.
    const [a, b] = createLinkPair(sim, { delay: 300, bandwidth: 1e6, queueLimit: 10_000 });
    const got: number[] = [];
    const at: number[] = [];
    b.setReceiver((p) => { got.push(tagOf(p)); at.push(sim.now()); });
    let tag = 0;
    const sent: number[] = [];
    // Bursts of 1..3000 packets; some sent while an earlier burst is still in flight.
    for (const n of [1, 5, 3000, 2, 0, 1500, 7, 2500, 1]) {
      for (let i = 0; i < n; i++) { a.send(packet(125, ++tag)); sent.push(tag); }
      sim.runFor(n === 1500 ? 100_000 : 5_000_000);
    }
    sim.runUntilIdle();
    assert.deepEqual(got, sent);
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! >= at[i - 1]!, 'arrival times never go back');
    assert.equal(at[0], 1300); // 1 ms on the wire + 300 µs
  });
});
