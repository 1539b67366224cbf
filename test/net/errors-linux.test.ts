// Errors as Node reports them on Linux (issue 11, deliverable 5): every way a connection
// ends, with the events, their order and code/errno/syscall/message that Node 20.20 showed
// on Linux 6.18, replayed on synack in virtual time.
//
// How the expected values were measured (once, by hand; the scripts need root and two
// network namespaces, so they are not part of the suite): client and server in namespaces
// synack-11-wa/-wb joined by a veth pair, 198.18.11.1 ↔ 198.18.11.2, permanent neighbour
// entries (so ARP cannot interfere), in the client namespace `sysctl net.ipv4.tcp_retries2=3
// net.ipv4.tcp_syn_retries=1`; "the peer vanishes" is `ip addr del 198.18.11.2/24 dev b0` in
// the server namespace (its packets are then dropped without ICMP: a host that does not
// forward drops datagrams for addresses it does not have). The reset cases ran on the
// kernel loopback. Node's net was driven exactly as the scenarios below drive synack's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, B } from './helpers.js';
import type { Socket } from '../../src/net/socket.js';

type E = { code?: string; errno?: number; syscall?: string; message: string };
const fmt = (e: E): string => `${e.code}/${e.errno}/${e.syscall}: ${e.message}`;

function watch(c: Socket, log: string[]): void {
  c.on('error', (e: E) => log.push(`error ${fmt(e)}`));
  c.on('close', (h: unknown) => log.push(`close ${h}`));
}

/** Connect A → B:port, wait for 'connect', optionally pause, then cut the path both ways. */
async function connectedThenCut(opts: { port: number; paused: boolean; serverPaused: boolean; keepAliveMs?: number }) {
  const p = pair({ faults: {}, delay: 500, optionsA: { tcp_retries2: 3, tcp_syn_retries: 1 } });
  p.netB.createServer((s) => { s.on('error', () => {}); if (opts.serverPaused) s.pause(); else s.resume(); }).listen(opts.port);
  const c = p.netA.connect(opts.port, B);
  const log: string[] = [];
  watch(c, log);
  let up = false;
  c.on('connect', () => { up = true; });
  await p.sim.runUntilAsync(() => up);
  if (opts.keepAliveMs !== undefined) c.setKeepAlive(true, opts.keepAliveMs);
  if (opts.paused) c.pause(); else c.on('data', () => {});
  p.faultA!.partition(true);
  p.faultB!.partition(true);
  return { ...p, c, log };
}

for (const paused of [false, true]) {
  test(`retransmission timeout (tcp_retries2) with a small write, ${paused ? 'paused' : 'reading'}: the write completed, then read ETIMEDOUT`, async () => {
    const { sim, c, log } = await connectedThenCut({ port: 7001, paused, serverPaused: true });
    c.write(Buffer.alloc(1000), (e) => log.push(`write cb ${e ? fmt(e) : 'ok'}`));
    await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
    // Node 20.20 / Linux, both reading and paused: the write had reached the kernel.
    assert.deepEqual(log, ['write cb ok', 'error ETIMEDOUT/-110/read: read ETIMEDOUT', 'close true']);
  });

  test(`retransmission timeout with a large pending write, ${paused ? 'paused' : 'reading'}: read ETIMEDOUT, then the write callback without an error`, async () => {
    const { sim, c, log } = await connectedThenCut({ port: 7001, paused, serverPaused: true });
    c.write(Buffer.alloc(8 << 20), (e) => log.push(`write cb ${e ? fmt(e) : 'ok'}`));
    await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
    // Node 20.20: the error comes from the read side; libuv cancels the queued write and
    // Node's onWriteComplete calls back with null on a destroyed stream.
    assert.deepEqual(log, ['error ETIMEDOUT/-110/read: read ETIMEDOUT', 'write cb ok', 'close true']);
  });

  test(`keepalive timeout, ${paused ? 'paused' : 'reading'}: read ETIMEDOUT`, async () => {
    const { sim, log } = await connectedThenCut({ port: 7002, paused, serverPaused: false, keepAliveMs: 1000 });
    await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
    assert.deepEqual(log, ['error ETIMEDOUT/-110/read: read ETIMEDOUT', 'close true']);
  });
}

test('SYN timeout (tcp_syn_retries): connect ETIMEDOUT address:port', async () => {
  const { sim, netA, netB, faultA } = pair({ faults: {}, delay: 500, optionsA: { tcp_syn_retries: 1 } });
  netB.createServer(() => {}).listen(7002);
  faultA!.partition(true);
  const c = netA.connect(7002, B);
  const log: string[] = [];
  watch(c, log);
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  assert.deepEqual(log, [`error ETIMEDOUT/-110/connect: connect ETIMEDOUT ${B}:7002`, 'close true']);
  assert.equal(sim.now(), 3_000_000, 'tcp_syn_retries = 1: the SYN at 0 s, once more at 1 s, given up at 3 s');
});

test('connection refused: connect ECONNREFUSED address:port', async () => {
  const { sim, netA } = pair();
  const c = netA.connect(7003, B);
  const log: string[] = [];
  watch(c, log);
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  assert.deepEqual(log, [`error ECONNREFUSED/-111/connect: connect ECONNREFUSED ${B}:7003`, 'close true']);
});

/** A connection whose server side resets it on demand. */
async function resetPair(clientPaused: boolean, serverPaused: boolean) {
  const p = pair({ delay: 500 });
  let server: Socket | null = null;
  p.netB.createServer((s) => { server = s; s.on('error', () => {}); if (serverPaused) s.pause(); }).listen(7004);
  const c = p.netA.connect(7004, B);
  const log: string[] = [];
  watch(c, log);
  let up = false;
  c.on('connect', () => { up = true; });
  await p.sim.runUntilAsync(() => up && server !== null);
  if (clientPaused) c.pause(); else c.on('data', () => {});
  return { ...p, c, log, reset: () => server!.resetAndDestroy() };
}

test('reset by the peer while reading: read ECONNRESET', async () => {
  const { sim, log, reset } = await resetPair(false, false);
  reset();
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  assert.deepEqual(log, ['error ECONNRESET/-104/read: read ECONNRESET', 'close true']);
});

test('reset by the peer while paused, then a write: read ECONNRESET, and the write finds a destroyed stream', async () => {
  const { sim, c, log, reset } = await resetPair(true, false);
  reset();
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  c.write('x', (e) => log.push(`write cb ${e ? fmt(e as E) : 'ok'}`));
  await sim.runUntilAsync(() => log.length === 3);
  assert.deepEqual(log, ['error ECONNRESET/-104/read: read ECONNRESET', 'close true',
    'write cb ERR_STREAM_DESTROYED/undefined/undefined: Cannot call write after a stream was destroyed']);
});

test('reset by the peer during a large write, not reading: read ECONNRESET, then the write callback without an error', async () => {
  const { sim, c, log, reset } = await resetPair(true, true);
  c.write(Buffer.alloc(16 << 20), (e) => log.push(`write cb ${e ? fmt(e) : 'ok'}`));
  await sim.runUntilAsync(() => false, { maxTime: 100_000 });
  reset();
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  assert.deepEqual(log, ['error ECONNRESET/-104/read: read ECONNRESET', 'write cb ok', 'close true']);
});

test('write after end(): ERR_STREAM_WRITE_AFTER_END to the callback, then as the error', async () => {
  const { sim, netA, netB } = pair();
  netB.createServer((s) => { s.on('error', () => {}); s.resume(); }).listen(7005);
  const c = netA.connect(7005, B);
  const log: string[] = [];
  watch(c, log);
  let up = false;
  c.on('connect', () => { up = true; });
  await sim.runUntilAsync(() => up);
  c.end();
  c.write('x', (e) => log.push(`write cb ${e ? fmt(e as E) : 'ok'}`));
  await sim.runUntilAsync(() => log.some((l) => l.startsWith('close')));
  assert.deepEqual(log, ['write cb ERR_STREAM_WRITE_AFTER_END/undefined/undefined: write after end',
    'error ERR_STREAM_WRITE_AFTER_END/undefined/undefined: write after end', 'close true']);
});
