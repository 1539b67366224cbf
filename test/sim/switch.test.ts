import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { Switch } from '../../src/sim/switch.js';
import type { LinkEvent } from '../../src/link/types.js';
import { ip, packet, tagOf } from './helpers.js';

describe('Switch', () => {
  test('forwards by destination address, after the delay', () => {
    const sim = new Simulation();
    const sw = new Switch(sim, { delay: 250 });
    const h1 = sw.attach([ip('10.0.0.1')]);
    const h2 = sw.attach([ip('10.0.0.2'), ip('10.0.1.2')]);
    const h3 = sw.attach([ip('10.0.0.3')], { mtu: 9000 });
    assert.equal(h1.mtu, 1500);
    assert.equal(h3.mtu, 9000);
    const got: Record<string, Array<[number, number]>> = { h1: [], h2: [], h3: [] };
    h1.setReceiver((p) => got.h1!.push([tagOf(p), sim.now()]));
    h2.setReceiver((p) => got.h2!.push([tagOf(p), sim.now()]));
    h3.setReceiver((p) => got.h3!.push([tagOf(p), sim.now()]));
    h1.send(packet(100, 1, ip('10.0.0.2')));
    h1.send(packet(100, 2, ip('10.0.1.2')));
    h1.send(packet(100, 3, ip('10.0.0.3')));
    h3.send(packet(100, 4, ip('10.0.0.1')));
    assert.deepEqual(got.h2, []); // never synchronous
    sim.runUntilIdle();
    assert.deepEqual(got, { h1: [[4, 250]], h2: [[1, 250], [2, 250]], h3: [[3, 250]] });
  });

  test('unknown destination → no-route; malformed → malformed; too big → mtu', () => {
    const sim = new Simulation();
    const sw = new Switch(sim);
    const h1 = sw.attach([ip('10.0.0.1')]);
    const h2 = sw.attach([ip('10.0.0.2')], { mtu: 576 });
    const drops: string[] = [];
    const all: LinkEvent[] = [];
    sw.observe((e) => { all.push(e); if (e.kind === 'drop') drops.push(e.reason!); });
    let n = 0;
    h2.setReceiver(() => n++);
    h1.send(packet(100, 0, ip('192.168.1.1')));
    h1.send(new Uint8Array(10));
    const v6 = packet(100);
    v6[0] = 0x60;
    h1.send(v6);
    h1.send(packet(1000, 0, ip('10.0.0.2'))); // fits h1, not h2
    h1.send(packet(1600, 0, ip('10.0.0.2'))); // does not fit h1
    h1.send(packet(500, 0, ip('10.0.0.2')));
    sim.runUntilIdle();
    assert.deepEqual(drops, ['no-route', 'malformed', 'malformed', 'mtu', 'mtu']);
    assert.equal(n, 1);
    assert.equal(all.filter((e) => e.kind === 'send').length, 6);
    assert.equal(all.filter((e) => e.kind === 'deliver').length, 1);
  });

  test('duplicate addresses are refused; detach makes an address unknown', () => {
    const sim = new Simulation();
    const sw = new Switch(sim);
    const h1 = sw.attach([ip('10.0.0.1')]);
    const h2 = sw.attach([ip('10.0.0.2')]);
    assert.throws(() => sw.attach([ip('10.0.0.2')]), /already attached/);
    const drops: string[] = [];
    sw.observe((e) => { if (e.kind === 'drop') drops.push(e.reason!); });
    h2.setReceiver(() => assert.fail('detached host got a packet'));
    sw.detach(h2);
    h1.send(packet(100, 0, ip('10.0.0.2')));
    sim.runUntilIdle();
    assert.deepEqual(drops, ['no-route']);
  });

  test('a host can send to itself', () => {
    const sim = new Simulation();
    const sw = new Switch(sim);
    const h1 = sw.attach([ip('10.0.0.1')]);
    let got = 0;
    h1.setReceiver(() => got++);
    h1.send(packet(60, 0, ip('10.0.0.1')));
    sim.runUntilIdle();
    assert.equal(got, 1);
  });
});
