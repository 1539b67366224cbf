import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { createLinkPair } from '../../src/sim/memlink.js';
import { TapLink } from '../../src/link/tap.js';
import { packet, tagOf } from './helpers.js';

describe('TapLink', () => {
  test('sees both directions, passes packets on unchanged', () => {
    const sim = new Simulation();
    const [a0, b] = createLinkPair(sim, { mtu: 1400 });
    const seen: Array<[string, number]> = [];
    const a = new TapLink(a0, (dir, p) => seen.push([dir, tagOf(p)]));
    assert.equal(a.mtu, 1400);
    const atA: Uint8Array[] = [];
    const atB: Uint8Array[] = [];
    a.setReceiver((p) => atA.push(p));
    b.setReceiver((p) => atB.push(p));
    const out = packet(100, 1);
    a.send(out);
    b.send(packet(100, 2));
    sim.runUntilIdle();
    assert.deepEqual(seen, [['out', 1], ['in', 2]]);
    assert.equal(atB[0], out); // same bytes, not copied
    assert.deepEqual(atA.map(tagOf), [2]);
  });

  test('setReceiver(null) detaches', () => {
    const sim = new Simulation();
    const [a0, b] = createLinkPair(sim);
    const seen: string[] = [];
    const a = new TapLink(a0, (dir) => seen.push(dir));
    a.setReceiver(() => {});
    a.setReceiver(null);
    b.send(packet(60));
    sim.runUntilIdle();
    assert.deepEqual(seen, []);
  });
});
