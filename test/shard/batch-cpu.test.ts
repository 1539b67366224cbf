// The cross-thread pieces of sharding that the measurements rest on: batches are posted once
// per turn of the event loop (not once per microtask checkpoint, which Node runs after every
// MessagePort message), per-thread CPU from /proc, and the bench's port choice that spreads
// a few connections evenly over the shards. No timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { PacketBatcher, forEachPacket } from '../../src/shard/batch.js';
import { ownTid, threadCpuMs, allThreadsCpuMs, machineBusyMs } from '../../src/shard/threadcpu.js';
import { ShardedStack } from '../../src/shard/sharded.js';
import { ShardMap } from '../../src/shard/partition.js';
import { balancedPorts } from '../../src/cli/bench/shard.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';

test('PacketBatcher: packets added across microtask checkpoints of one turn go out as one message', async () => {
  const ch = new MessageChannel();
  const b = new PacketBatcher(ch.port1);
  const first = new Promise<number[]>((resolve) => ch.port2.once('message', (buf: ArrayBuffer) => { const lens: number[] = []; forEachPacket(buf, (p) => lens.push(p.length)); resolve(lens); }));
  b.add(new Uint8Array(20));
  await Promise.resolve(); // a microtask checkpoint, as after each MessagePort message
  b.add(new Uint8Array(41));
  await Promise.resolve();
  b.add(new Uint8Array(60));
  assert.deepEqual(await first, [20, 41, 60]);
  ch.port1.close(); ch.port2.close();
  assert.equal(b.messages, 1);
  assert.equal(b.packetsOut, 3);
});

test('PacketBatcher: a full batch is posted at once, the rest at the end of the turn; bytes and flags intact', async () => {
  const ch = new MessageChannel();
  const b = new PacketBatcher(ch.port1, 4);
  const got: Array<Array<[number[], number]>> = [];
  const all = new Promise<void>((resolve) => ch.port2.on('message', (buf: ArrayBuffer) => {
    const l: Array<[number[], number]> = [];
    forEachPacket(buf, (p, f) => l.push([[...p], f]));
    got.push(l);
    if (got.flat().length === 6) resolve();
  }));
  for (let i = 0; i < 6; i++) b.add(Uint8Array.from({ length: 1 + i * 3 }, (_, j) => (i * 7 + j) & 255), i & 1);
  await all;
  ch.port1.close(); ch.port2.close();
  assert.equal(got.length, 2);
  assert.deepEqual(got.flat().map(([p, f]) => [p.length, f]), [[1, 0], [4, 1], [7, 0], [10, 1], [13, 0], [16, 1]]);
  got.flat().forEach(([p], i) => p.forEach((v, j) => assert.equal(v, (i * 7 + j) & 255)));
});

const linux = process.platform === 'linux';

test('threadcpu: this thread\'s CPU time grows as it works; every thread is listed', { skip: linux ? false : 'Linux /proc only' }, () => {
  const tid = ownTid();
  assert.ok(tid !== null && tid > 0);
  const a = threadCpuMs(tid!)!;
  const c0 = process.cpuUsage();
  let x = 0;
  // Burn until the process has used 60 ms of CPU (the thread's clock ticks every 10 ms).
  while ((process.cpuUsage(c0).user + process.cpuUsage(c0).system) < 60_000) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
  assert.ok(threadCpuMs(tid!)! > a, `${threadCpuMs(tid!)} > ${a} (${x})`);
  assert.ok(allThreadsCpuMs().has(tid!));
  const m = machineBusyMs()!;
  assert.ok(m.cores >= 1 && m.busyMs > 0);
});

test('ShardedStack.threadCpu: the main thread, one entry per shard (their own threads), the rest', { skip: linux ? false : 'Linux /proc only' }, async () => {
  const sh = await ShardedStack.start({ workers: 2, addr: '198.18.0.2', link: { kind: 'memory' } });
  try {
    const t = sh.threadCpu()!;
    assert.equal(t.shardMs.length, 2);
    for (const v of [t.mainMs, ...t.shardMs, t.otherMs]) assert.ok(Number.isFinite(v) && v >= 0);
    // Each worker started a stack and compiled it: its thread has run.
    assert.ok(t.shardMs.every((ms) => ms > 0), JSON.stringify(t));
  } finally {
    await sh.close();
  }
});

test('bench: balancedPorts gives each shard its turn, for the partition the shards use', () => {
  for (const shards of [1, 2, 3]) {
    const ports = balancedPorts('198.18.5.2', '198.18.5.1', 80, shards, 6, 20000);
    assert.equal(ports.length, 6);
    const map = new ShardMap(shards);
    const c = parseIpv4Address('198.18.5.2')!, s = parseIpv4Address('198.18.5.1')!;
    assert.deepEqual(ports.map((p) => map.owner(c, p, s, 80)), [0, 1, 2, 3, 4, 5].map((i) => i % shards));
    assert.ok(ports.every((p, i) => p >= 20000 && (i === 0 || p > ports[i - 1]!)));
  }
});
