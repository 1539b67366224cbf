// runScenario: sysctl overrides, drops by ordinal, snapshots for stepping (the lab's API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findScenario, runScenario, addDrop, parseSysctl, SCENARIOS } from '../../src/scenarios/index.js';
import type { SegmentEvent } from '../../src/trace/events.js';

const sc = (n: string) => findScenario(n)!;
const sent = (r: ReturnType<typeof runScenario>) => r.events.filter((e): e is SegmentEvent & { lost?: boolean } => e.type === 'segment' && e.dir === 'out');

test('without a setup the run is the scenario\'s own, and ordinals number the sent segments', () => {
  const r = runScenario(sc('handshake'));
  assert.equal(r.ok, true);
  assert.deepEqual(r.ordinal.filter((x) => x >= 0), [0, 1, 2]);
  assert.equal(sent(r).length, 3);
});

test('dropping segment #1 (the SYN-ACK) makes TCP retransmit it; the run is identical before it', () => {
  const base = runScenario(sc('handshake'));
  const r = runScenario(sc('handshake'), { drops: [1] });
  assert.equal(r.ok, false);
  const s = sent(r);
  assert.equal(s[1]!.lost, true);
  assert.equal(s[1]!.flags, 0x12);
  // The SYN (client) and SYN-ACK (server) are retransmitted 1 s later.
  assert.ok(s.slice(2).some((x) => x.flags === 0x12 && x.retransmit === true));
  assert.deepEqual(JSON.stringify(r.events.slice(0, 5).map((e) => ({ ...e, lost: undefined }))), JSON.stringify(base.events.slice(0, 5).map((e) => ({ ...e, lost: undefined }))));
  // Same setup, same run.
  assert.equal(JSON.stringify(runScenario(sc('handshake'), { drops: [1] }).events), JSON.stringify(r.events));
});

test('sysctl overrides win over the scenario\'s own options', () => {
  const r = runScenario(sc('connect-timeout'), { sysctls: { tcp_syn_retries: 2 } });
  const syns = sent(r).map((e) => e.t / 1e6);
  assert.deepEqual(syns, [0, 1, 3]);
  assert.throws(() => runScenario(sc('handshake'), { sysctls: { tcp_msl: -1 } }), { code: 'ERR_OUT_OF_RANGE' });
});

test('snapshots: TCB state, sequence variables and armed timers at each step', () => {
  const r = runScenario(sc('handshake'), { snapshots: true });
  const synOut = r.events.findIndex((e) => e.type === 'segment' && e.dir === 'out');
  const s0 = r.snapshotAt(synOut)['198.18.0.1']!;
  assert.equal(s0.tcbs[0]!.state, 'SYN-SENT');
  assert.equal(s0.tcbs[0]!.sndNxt, (s0.tcbs[0]!.iss + 1) >>> 0);
  assert.deepEqual(s0.tcbs[0]!.timers.map((x) => x.name), ['syn']);
  assert.equal(s0.tcbs[0]!.timers[0]!.at, 1_000_000);
  const end = r.snapshotAt(r.events.length - 1);
  assert.equal(end['198.18.0.1']!.tcbs[0]!.state, 'ESTABLISHED');
  assert.equal(end['198.18.0.2']!.table.filter((x) => x.state === 'LISTEN').length, 1);
});

test('addDrop keeps only earlier drops; parseSysctl reads name=value', () => {
  assert.deepEqual(addDrop([2, 5, 9], 6), [2, 5, 6]);
  assert.deepEqual(addDrop([], 0), [0]);
  assert.deepEqual(parseSysctl('tcp_syn_retries=3'), ['tcp_syn_retries', 3]);
  assert.deepEqual(parseSysctl('net.ipv4.tcp_msl = 0'), ['tcp_msl', 0]);
  assert.throws(() => parseSysctl('tcp_nope=1'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => parseSysctl('tcp_msl=-3'), /number >= 0/);
  assert.throws(() => parseSysctl('tcp_msl'), /name=value/);
});

test('every scenario runs with snapshots and stays green', () => {
  for (const s of SCENARIOS) {
    const r = runScenario(s, { snapshots: true });
    assert.equal(r.ok, true, s.name);
    assert.ok(Object.keys(r.snapshotAt(Math.floor(r.events.length / 2))).length >= 2, s.name);
  }
});
