// The neighbour cache alone (sans-I/O), against Linux's rules: retries and timers, the
// unresolved queue, locktime, gratuitous ARP, static entries, garbage collection.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NeighbourCache, renderNeighbours, type NeighbourParams } from '../../src/arp/neighbour.js';
import { localMac, formatMac } from '../../src/wire/ethernet.js';

const S = 1_000_000;

function cache(params: Partial<NeighbourParams> = {}) {
  const log: string[] = [];
  let now = 0;
  let r = 0.5;
  const c = new NeighbourCache({
    solicit: (t, to) => log.push(`solicit ${t} ${to === null ? 'bcast' : formatMac(to)} @${now / S}`),
    deliver: (p, mac) => log.push(`deliver ${p[0]} ${formatMac(mac)} @${now / S}`),
    unreachable: (t, ps) => log.push(`unreachable ${t} ${ps.map((p) => p[0]).join(',')} @${now / S}`),
    wake: () => {},
    random: () => r,
  }, params);
  const run = (until: number): void => {
    for (;;) {
      const d = c.nextDeadline();
      if (d > until) break;
      now = d;
      c.poll(now);
    }
    now = until;
  };
  return { c, log, run, at: () => now, setRandom: (x: number) => { r = x; } };
}
const pkt = (n: number): Uint8Array => Uint8Array.of(n, 0, 0, 0);

describe('NeighbourCache', () => {
  test('INCOMPLETE: mcast_solicit broadcasts 1 s apart, then FAILED with the queue reported', () => {
    const { c, log, run } = cache();
    c.output(7, pkt(1), 0);
    c.output(7, pkt(2), 0);
    run(10 * S);
    assert.deepEqual(log, ['solicit 7 bcast @0', 'solicit 7 bcast @1', 'solicit 7 bcast @2', 'unreachable 7 1,2 @3']);
    assert.equal(c.get(7)!.state, 'FAILED');
    assert.equal(c.counters.failed, 1);
  });

  test('unres_qlen: the oldest queued packet is dropped', () => {
    const { c, log } = cache({ unres_qlen: 2 });
    for (let i = 1; i <= 4; i++) c.output(7, pkt(i), 0);
    c.update(7, localMac(9), 'REACHABLE', 0, { create: false, cause: 'reply' });
    assert.deepEqual(log.filter((l) => l.startsWith('deliver')), ['deliver 3 02:00:00:00:00:09 @0', 'deliver 4 02:00:00:00:00:09 @0']);
    assert.equal(c.counters.unresDiscards, 2);
  });

  test('REACHABLE for reachable_time (base/2 + random·base), then STALE; reuse → DELAY → PROBE (unicast ×3) → FAILED', () => {
    const { c, log, run, setRandom } = cache();
    setRandom(0.25); // reachable_time = 15 + 7.5 = 22.5 s
    c.output(7, pkt(1), 0);
    c.update(7, localMac(9), 'REACHABLE', 0, { create: false, cause: 'reply' });
    run(22.4 * S);
    assert.equal(c.get(7)!.state, 'REACHABLE');
    run(22.6 * S);
    assert.equal(c.get(7)!.state, 'STALE');
    log.length = 0;
    c.output(7, pkt(2), 30 * S);
    assert.equal(c.get(7)!.state, 'DELAY');
    run(100 * S);
    assert.deepEqual(log, [
      'deliver 2 02:00:00:00:00:09 @22.6', // (the clock of the test harness: sent at once, from STALE)
      'solicit 7 02:00:00:00:00:09 @35', 'solicit 7 02:00:00:00:00:09 @36', 'solicit 7 02:00:00:00:00:09 @37',
    ]);
    assert.equal(c.get(7)!.state, 'FAILED');
  });

  test('a confirmation in DELAY makes it REACHABLE without a probe', () => {
    const { c, log, run } = cache();
    c.update(7, localMac(9), 'STALE', 0, { create: true, cause: 'request' });
    c.output(7, pkt(1), 10 * S);
    c.confirm(7, 12 * S);
    run(16 * S);
    assert.equal(c.get(7)!.state, 'REACHABLE');
    assert.ok(!log.some((l) => l.startsWith('solicit')));
  });

  test('locktime: a different answer within 1 s is ignored, later it replaces; gratuitous ARP always does', () => {
    const { c } = cache();
    c.output(7, pkt(1), 0);
    c.update(7, localMac(9), 'REACHABLE', 0, { create: false, cause: 'reply' });
    c.update(7, localMac(10), 'REACHABLE', 500_000, { create: false, cause: 'reply' });
    assert.equal(formatMac(c.get(7)!.mac!), '02:00:00:00:00:09');
    assert.equal(c.counters.lockedOut, 1);
    c.update(7, localMac(10), 'REACHABLE', 2 * S, { create: false, cause: 'reply' });
    assert.equal(formatMac(c.get(7)!.mac!), '02:00:00:00:00:0a');
    c.update(7, localMac(11), 'STALE', 2.1 * S, { create: false, cause: 'garp', garp: true });
    assert.equal(formatMac(c.get(7)!.mac!), '02:00:00:00:00:0b');
    assert.equal(c.get(7)!.state, 'STALE');
  });

  test('no entry is created by unsolicited news unless asked (arp_accept = 0); a STALE update keeps REACHABLE', () => {
    const { c } = cache();
    assert.equal(c.update(8, localMac(9), 'REACHABLE', 0, { create: false, cause: 'reply' }), null);
    assert.equal(c.size, 0);
    c.update(8, localMac(9), 'REACHABLE', 0, { create: true, cause: 'x' });
    c.update(8, localMac(9), 'STALE', 1, { create: true, cause: 'request' });
    assert.equal(c.get(8)!.state, 'REACHABLE');
  });

  test('static entries never time out and ignore ARP', () => {
    const { c, run } = cache();
    c.addStatic(9, localMac(3), 0);
    c.update(9, localMac(4), 'REACHABLE', 5 * S, { create: true, cause: 'reply' });
    run(1000 * S);
    const rows = c.entries(1000 * S);
    assert.deepEqual(rows.map((r) => [r.state, r.mac]), [['PERMANENT', '02:00:00:00:00:03']]);
    assert.equal(renderNeighbours(rows.map((r) => ({ ...r, dev: 'eth0' }))), '0.0.0.9 dev eth0 lladdr 02:00:00:00:00:03 PERMANENT\n');
  });

  test('garbage collection: nothing below gc_thresh1 (as Linux); above it, FAILED and long-unused entries go', () => {
    const small = cache();
    small.c.update(1, localMac(1), 'STALE', 0, { create: true, cause: 'x' });
    small.run(1000 * S);
    assert.equal(small.c.size, 1);
    const big = cache({ gc_thresh1: 3 });
    for (let i = 1; i <= 3; i++) big.c.update(i, localMac(i), 'STALE', 0, { create: true, cause: 'x' });
    big.run(50 * S);
    big.c.update(2, localMac(2), 'REACHABLE', 50 * S, { create: false, cause: 'reply' }); // confirmed: survives the gc at 75 s
    big.run(100 * S);
    assert.deepEqual(big.c.entries(100 * S).map((r) => r.addr), ['0.0.0.2']);
    assert.equal(big.c.counters.gcRemoved, 2);
    // Below gc_thresh1 again: no more collection, the last entry stays however old.
    big.run(10_000 * S);
    assert.equal(big.c.size, 1);
  });

  test('gc_thresh3: a full table refuses new entries after a forced collection finds nothing to drop', () => {
    const { c } = cache({ gc_thresh3: 2 });
    c.update(1, localMac(1), 'REACHABLE', 0, { create: true, cause: 'x' });
    c.update(2, localMac(2), 'REACHABLE', 0, { create: true, cause: 'x' });
    assert.equal(c.output(3, pkt(1), 1), false);
    assert.equal(c.counters.tableFull, 1);
  });
});
