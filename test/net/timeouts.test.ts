// Errors as Node reports them when a connection dies under a pending write (issue 11,
// deliverable 5), and virtual time that does not jump to cancelled timers (deliverable 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, B } from './helpers.js';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { attachNet } from '../../src/net/index.js';
import type { SystemError } from '../../src/net/errors.js';
import type { FaultyLink } from '../../src/link/faulty.js';

/** A connection whose peer vanishes while a write larger than the send buffer is pending. */
async function deadPeerUnderWrite(optionsA: Record<string, unknown>, userTimeout = false) {
  const { sim, netA, netB, faultA, faultB } = pair({ faults: {}, delay: 1000, optionsA });
  netB.createServer({ pauseOnConnect: true }, () => {}).listen(80);
  const c = netA.connect(80, B);
  let up = false;
  c.on('connect', () => { up = true; });
  await sim.runUntilAsync(() => up);
  if (userTimeout) c.tcb!.userTimeout = 5_000_000;
  faultA!.partition(true);
  faultB!.partition(true);
  const cut = sim.now();
  let err: SystemError | null = null;
  let writeErr: Error | null | undefined;
  const log: string[] = [];
  c.on('error', (e: SystemError) => { err = e; log.push(`error:${e.code}`); });
  c.on('close', (h: boolean) => log.push(`close:${h}`));
  c.write(Buffer.alloc(8 << 20), (e) => { writeErr = e; });
  await sim.runUntilAsync(() => c.destroyed && log.length === 2);
  return { err: err as unknown as SystemError, log, writeErr, took: sim.now() - cut };
}

test('retransmissions give up (tcp_retries2) with a write pending: read ETIMEDOUT, not EPIPE', async () => {
  const r = await deadPeerUnderWrite({ tcp_retries2: 5 });
  assert.deepEqual(r.log, ['error:ETIMEDOUT', 'close:true']);
  assert.equal(r.err.message, 'read ETIMEDOUT');
  assert.equal(r.err.errno, -110);
  assert.equal(r.err.syscall, 'read');
  // Node 20.20 on Linux calls the cancelled write back without an error, after 'error'
  // (measured: test/net/errors-linux.test.ts).
  assert.equal(r.writeErr, null, 'the pending write calls back without an error, as in Node');
});

test('the user timeout (TCP_USER_TIMEOUT) with a write pending: ETIMEDOUT', async () => {
  const r = await deadPeerUnderWrite({}, true);
  assert.deepEqual(r.log, ['error:ETIMEDOUT', 'close:true']);
  assert.equal(r.err.errno, -110);
});

test('virtual time: a handshake at 15 ms leaves the clock there, not at the cancelled SYN timer (1 s)', async () => {
  const sim = new Simulation({ seed: 1 });
  const { a, b } = twoHosts(sim, { delay: 5_000 });
  const netA = attachNet(a, sim);
  attachNet(b, sim).createServer(() => {}).listen(80);
  netA.connect(80, B);
  await sim.runUntilIdleAsync();
  // SYN 5 ms, SYN-ACK 10 ms, ACK 15 ms; nothing else is due (no data, no keepalive).
  assert.equal(sim.now(), 15_000);
  assert.equal(a.nextDeadline(), Infinity);
  assert.equal(b.nextDeadline(), Infinity);
});

test('virtual time: the synchronous runner does not visit stale deadlines either', () => {
  const sim = new Simulation({ seed: 1 });
  const { a, b } = twoHosts(sim, { delay: 5_000 });
  b.listen({ port: 80 });
  const t = a.connect({ remoteAddr: B, remotePort: 80 });
  t.openActive(sim.now());
  let steps = 0;
  while (sim.step()) steps++;
  assert.equal(t.state, 'ESTABLISHED');
  assert.equal(sim.now(), 15_000);
  assert.ok(steps <= 4, `${steps} steps`);
});

test('faults options give non-null fault handles in the type; realtimeTwoHosts takes the same faults', async () => {
  const sim = new Simulation({ seed: 2 });
  const withFaults = twoHosts(sim, { faults: { loss: 0 } });
  withFaults.faultA.partition(false); // no `!`: the type says FaultyLink when faults are given
  const oneWay = twoHosts(new Simulation(), { faultsAtoB: {} });
  oneWay.faultA.partition(false);
  // @ts-expect-error faultB may be null: only A→B has faults
  const fb: FaultyLink = oneWay.faultB;
  assert.equal(fb, null);
  const { RealtimeNetDriver, realtimeTwoHosts } = await import('../../src/net/driver.js');
  const driver = new RealtimeNetDriver();
  const rt = realtimeTwoHosts(driver, { faults: { loss: 0 } });
  const netA = attachNet(rt.a, driver);
  const netB = attachNet(rt.b, driver);
  // A partition on the realtime link: the SYN never arrives, the connect does not complete.
  rt.faultA.partition(true);
  const srv = netB.createServer((s) => s.end('hi')).listen(80);
  const c = netA.connect(80, B);
  let got = '';
  c.on('data', (d: Buffer) => { got += d; });
  await driver.until(() => rt.faultA.stats.dropped > 0, { timeout: 20_000_000 });
  assert.equal(c.connecting, true);
  rt.faultA.partition(false);
  // The SYN retransmission (1 s) gets through once the partition is lifted.
  assert.equal(await driver.until(() => c.destroyed, { timeout: 20_000_000 }), true);
  assert.equal(got, 'hi');
  srv.close();
  driver.stop();
});

test('runUntilSettled: a simulation run that waits for real I/O (a kernel socket) does not stop at idle', async () => {
  const { runUntilSettled } = await import('../../src/net/driver.js');
  const nodeNet = await import('node:net');
  const sim = new Simulation({ seed: 3 });
  const { a, b } = twoHosts(sim, { delay: 1000 });
  const netA = attachNet(a, sim);
  attachNet(b, sim).createServer((s) => s.pipe(s)).listen(7);
  // A real kernel echo server on loopback: the simulated client's payload comes from it.
  const real = nodeNet.createServer((s) => s.end('from the kernel')).listen(0, '127.0.0.1');
  await new Promise((r) => real.once('listening', r));
  const port = (real.address() as { port: number }).port;
  const result = runUntilSettled(sim, (async () => {
    const payload = await new Promise<string>((resolve) => {
      let s = '';
      nodeNet.connect(port, '127.0.0.1').on('data', (d) => { s += d; }).on('end', () => resolve(s));
    });
    const c = netA.connect(7, B);
    c.end(payload);
    let echoed = '';
    c.on('data', (d: Buffer) => { echoed += d; });
    await new Promise((r) => c.on('end', r));
    return echoed;
  })());
  assert.equal(await result, 'from the kernel');
  real.close();
});
