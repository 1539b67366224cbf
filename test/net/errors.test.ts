// Failures as Node reports them: refused, timed out, reset, keepalive on a dead peer,
// idle timeouts, writes after end — all in virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, recordEvents, squash, B } from './helpers.js';
import type { SystemError } from '../../src/net/errors.js';

test('connect refused: ECONNREFUSED after one round trip, then close(true)', async () => {
  const { sim, netA } = pair({ delay: 2000 });
  const c = netA.connect(81, B);
  const log = recordEvents(c, ['connect', 'error', 'close']);
  let err: SystemError | null = null;
  c.on('error', (e: SystemError) => { err = e; });
  await sim.runUntilAsync(() => c.destroyed && log.length === 2);
  const e = err as unknown as SystemError;
  assert.deepEqual(log, ['error:ECONNREFUSED', 'close:true']);
  assert.equal(e.message, `connect ECONNREFUSED ${B}:81`);
  assert.equal(e.errno, -111);
  assert.equal(e.syscall, 'connect');
  assert.equal(e.address, B);
  assert.equal(e.port, 81);
  assert.equal(sim.now(), 4000);
});

test('connect timeout: ETIMEDOUT after the SYN retries (1+2+…+64 s), in virtual time', async () => {
  const { sim, netA } = pair({ delay: 1000 });
  const c = netA.connect(80, '198.18.0.77'); // nobody has this address: SYNs go unanswered
  let err: SystemError | null = null;
  c.on('error', (e: SystemError) => { err = e; });
  const log = recordEvents(c, ['connect', 'error', 'close']);
  await sim.runUntilAsync(() => log.length === 2);
  const e = err as unknown as SystemError;
  assert.deepEqual(log, ['error:ETIMEDOUT', 'close:true']);
  assert.equal(e.syscall, 'connect');
  assert.equal(e.errno, -110);
  assert.equal(e.message, 'connect ETIMEDOUT 198.18.0.77:80');
  assert.equal(sim.now(), 127_000_000, 'tcp_syn_retries = 6: 1+2+4+8+16+32+64 s');
});

test('connect timeout follows tcp_syn_retries', async () => {
  const { sim, netA } = pair({ optionsA: { tcp_syn_retries: 2 } });
  const c = netA.connect(80, '198.18.0.77');
  let code = '';
  c.on('error', (e: SystemError) => { code = e.code; });
  await sim.runUntilAsync(() => c.destroyed);
  assert.equal(code, 'ETIMEDOUT');
  assert.equal(sim.now(), 7_000_000);
});

test('socket.setTimeout: \'timeout\' after idle time, pushed back by activity, socket stays open', async () => {
  const { sim, netA, netB } = pair();
  let server: import('../../src/net/socket.js').Socket | null = null;
  netB.createServer((s) => { server = s; s.resume(); }).listen(80);
  const c = netA.connect({ port: 80, host: B, timeout: 3000 });
  assert.equal(c.timeout, 3000);
  const times: number[] = [];
  c.on('timeout', () => times.push(sim.now()));
  await sim.runUntilAsync(() => server !== null);
  sim.at(2_000_000, () => c.write('activity'));
  await sim.runUntilAsync(() => times.length === 1);
  assert.equal(times[0], 5_000_000, '3 s after the write at 2 s');
  assert.equal(c.destroyed, false);
  // No activity: no second timeout until something happens.
  await sim.runUntilAsync(() => false, { maxTime: 10_000_000 });
  assert.equal(times.length, 1);
  c.write('again');
  await sim.runUntilAsync(() => times.length === 2);
  assert.equal(times[1], sim.now());
  c.setTimeout(0);
  c.write('x');
  await sim.runUntilAsync(() => false, { maxTime: 10_000_000 });
  assert.equal(times.length, 2, 'setTimeout(0) disables');
  c.destroy();
  await sim.runUntilIdleAsync();
});

test('keepalive detects a dead peer: probes after the idle time, ETIMEDOUT (read) after 10 unanswered', async () => {
  const { sim, netA, netB, faultA, faultB, a } = pair({ faults: {}, delay: 1000 });
  netB.createServer((s) => s.resume()).listen(80);
  const c = netA.connect(80, B);
  c.setKeepAlive(true, 60_000);
  let up = false;
  c.on('connect', () => { up = true; });
  await sim.runUntilAsync(() => up);
  const t0 = sim.now();
  // A live peer answers the probes: the connection survives a long idle stretch.
  await sim.runUntilAsync(() => false, { maxTime: 3_600_000_000 });
  assert.equal(c.destroyed, false);
  assert.ok(a.counters.TcpExtTCPKeepAlive >= 50, `probes sent while idle: ${a.counters.TcpExtTCPKeepAlive}`);
  // The peer vanishes (a partition, not a reset): nothing answers any more.
  faultA!.partition(true);
  faultB!.partition(true);
  const cut = sim.now();
  let err: SystemError | null = null;
  c.on('error', (e: SystemError) => { err = e; });
  await sim.runUntilAsync(() => c.destroyed);
  const e = err as unknown as SystemError;
  assert.equal(e.code, 'ETIMEDOUT');
  assert.equal(e.syscall, 'read');
  assert.equal(e.message, 'read ETIMEDOUT');
  const took = sim.now() - cut;
  assert.ok(took >= 10_000_000 && took <= 70_000_000, `dead peer detected ${took / 1e6} s after the cut (idle 60 s, 10 probes at 1 s)`);
  assert.ok(t0 > 0);
});

test('write after end: ERR_STREAM_WRITE_AFTER_END to the callback and as an error', async () => {
  const { sim, netA, netB } = pair();
  netB.createServer((s) => s.resume()).listen(80);
  const c = netA.connect(80, B);
  c.end('last');
  let cbErr: (Error & { code?: string }) | null = null;
  let evErr: (Error & { code?: string }) | null = null;
  c.on('error', (e: Error & { code?: string }) => { evErr = e; });
  c.write('more', (e) => { cbErr = e ?? null; });
  await sim.runUntilAsync(() => cbErr !== null && evErr !== null);
  assert.equal((cbErr as unknown as { code: string }).code, 'ERR_STREAM_WRITE_AFTER_END');
  assert.equal((evErr as unknown as { code: string }).code, 'ERR_STREAM_WRITE_AFTER_END');
});

test('write after the peer\'s FIN without allowHalfOpen: EPIPE "ended by the other party"', async () => {
  const { sim, netA, netB } = pair();
  netB.createServer((s) => s.end()).listen(80);
  const c = netA.connect(80, B);
  let ended = false;
  c.on('end', () => { ended = true; });
  c.resume();
  await sim.runUntilAsync(() => ended);
  await sim.runUntilAsync(() => c.writableEnded);
  let err: (Error & { code?: string }) | null = null;
  assert.equal(c.write('late', (e) => { err = e ?? null; }), false);
  await sim.runUntilAsync(() => err !== null);
  assert.equal((err as unknown as { code: string }).code, 'EPIPE');
  assert.equal((err as unknown as Error).message, 'This socket has been ended by the other party');
});

test('a reset connection: ECONNRESET (read) to the socket, queued data delivered first', async () => {
  const { sim, netA, netB } = pair({ delay: 500 });
  netB.createServer((s) => { s.write('partial'); s.resetAndDestroy(); }).listen(80);
  const c = netA.connect(80, B);
  const log = recordEvents(c, ['connect', 'data', 'end', 'error', 'close']);
  let got = '';
  c.on('data', (d: Buffer) => { got += d; });
  let err: SystemError | null = null;
  c.on('error', (e: SystemError) => { err = e; });
  await sim.runUntilAsync(() => c.destroyed && log.includes('close:true'));
  assert.deepEqual(squash(log), ['connect', 'data', 'error:ECONNRESET', 'close:true']);
  assert.equal(got, 'partial');
  assert.equal((err as unknown as SystemError).syscall, 'read');
  assert.equal((err as unknown as SystemError).errno, -104);
});
