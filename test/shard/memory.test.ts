// A stack sharded over 2 and 3 worker threads on the in-memory wire, with the main thread's
// stack as the peer. The wire steers packets to queues by a hash that disagrees with the
// partition (as the kernel's does), so the shards must forward wrong-queue packets: every
// connection must still be accepted by the shard owning its 4-tuple, appear exactly once
// in the merged table, and carry its bytes exactly. Real time, no timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../src/stack/stack.js';
import { RealtimeNetDriver } from '../../src/net/driver.js';
import { createNet } from '../../src/net/index.js';
import type { Socket } from '../../src/net/socket.js';
import { ShardedStack } from '../../src/shard/sharded.js';
import { ToeplitzHash, MICROSOFT_RSS_KEY } from '../../src/shard/hash.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';

const CLIENT = '198.18.0.1', SERVER = '198.18.0.2';
const ip = (s: string): number => parseIpv4Address(s)!;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 11)) & 255;
  return b;
}

async function withShards(workers: number, fn: (sh: ShardedStack, net: ReturnType<typeof createNet>, driver: RealtimeNetDriver) => Promise<void>, steer: 'hash' | 'hash-only' | 'owner' = 'hash'): Promise<void> {
  const sh = await ShardedStack.start({
    workers, addr: SERVER, link: { kind: 'memory', steer }, services: { echo: 7, http: 80 },
    setup: new URL('./fixtures/connect-setup.js', import.meta.url),
  });
  const driver = new RealtimeNetDriver();
  try {
    const stack = new Stack({ clock: driver.clock, name: 'client' });
    stack.addInterface({ addr: CLIENT, prefixLen: 24, link: sh.wire! });
    driver.addStack(stack);
    await fn(sh, createNet(stack, driver), driver);
  } finally {
    driver.stop();
    await sh.close();
  }
}

// 2 shards behind a wire that learns each flow's queue from the replies (as the kernel's TUN
// does); 3 behind one that never learns, so every packet of a mis-steered flow is forwarded.
for (const [workers, steer] of [[2, 'hash'], [3, 'hash-only']] as const) {
  test(`${workers} shards, wire steering '${steer}': each connection lives on the shard owning its 4-tuple; merged table and counters; echo byte-exact`, { timeout: 60_000 }, async () => {
    await withShards(workers, async (sh, net) => {
      const M = 12, SIZE = 200_000;
      const socks: Socket[] = [];
      await Promise.all(Array.from({ length: M }, () => new Promise<void>((resolve, reject) => {
        const s = net.connect({ port: 7, host: SERVER }, () => resolve());
        s.on('error', reject);
        socks.push(s);
      })));
      // The client's final ACKs may still be on their way: wait until every shard has them.
      while ((await sh.counters()).TcpCurrEstab < M) await new Promise((r) => setImmediate(r));
      // Every connection is established: the merged table has one listener per shard and
      // each connection once, on its owner.
      const rows = await sh.connections();
      const listeners = rows.filter((r) => r.listener && r.localPort === 7);
      assert.deepEqual(listeners.map((r) => r.shard).sort(), Array.from({ length: workers }, (_, i) => i));
      const conns = rows.filter((r) => !r.listener);
      assert.equal(conns.length, M);
      const ports = socks.map((s) => s.localPort!).sort((a, b) => a - b);
      assert.deepEqual(conns.map((r) => r.peerPort as number).sort((a, b) => a - b), ports);
      for (const r of conns) {
        assert.equal(r.state, 'ESTABLISHED');
        assert.equal(r.shard, sh.map.owner(ip(r.peerAddr), r.peerPort as number, ip(r.localAddr), r.localPort), `${r.peerPort} on shard ${r.shard}`);
      }
      // The union: each shard's own count matches its rows in the merged view.
      const stats = await sh.stats();
      for (const st of stats) assert.equal(st.connections, conns.filter((r) => r.shard === st.shard).length);
      const counters = await sh.counters();
      assert.equal(counters.TcpPassiveOpens, M);
      assert.equal(counters.TcpCurrEstab, M);
      assert.equal(counters.TcpOutRsts, 0);
      // Wrong-queue packets were forwarded exactly when the wire's hash disagreed with the partition.
      const other = new ToeplitzHash(MICROSOFT_RSS_KEY);
      const wrong = ports.filter((p) => Math.floor((other.hash(ip(CLIENT), ip(SERVER), p, 7) * workers) / 2 ** 32) !== sh.map.owner(ip(CLIENT), p, ip(SERVER), 7)).length;
      const forwarded = stats.reduce((a, s) => a + s.link.rxForwarded, 0);
      const fromPeers = stats.reduce((a, s) => a + s.link.rxFromPeers, 0);
      assert.equal(forwarded, fromPeers);
      if (wrong > 0) assert.ok(forwarded >= wrong, `${wrong} flows steered to the wrong queue, ${forwarded} packets forwarded`);
      else assert.equal(forwarded, 0);

      // Data both ways, byte-exact, on every connection at once.
      const results = await Promise.all(socks.map((s, i) => new Promise<boolean>((resolve, reject) => {
        const data = pattern(SIZE, i);
        const got: Buffer[] = [];
        s.on('data', (d: Buffer) => got.push(Buffer.from(d)));
        s.on('end', () => resolve(Buffer.compare(Buffer.concat(got), data) === 0));
        s.on('error', reject);
        s.end(data);
      })));
      assert.deepEqual(results, new Array(M).fill(true));
    }, steer);
  });
}

test('active opens from each shard take local ports the shard owns and complete', { timeout: 60_000 }, async () => {
  await withShards(2, async (sh, net) => {
    const srv = net.createServer({ allowHalfOpen: true }, (s: Socket) => { s.on('error', () => s.destroy()); s.pipe(s); });
    await new Promise<void>((r) => srv.listen(9000, CLIENT, () => r()));
    const replies = await Promise.all([0, 1, 0, 1, 0, 1].map((k) => sh.request(k, { connect: { host: CLIENT, port: 9000, bytes: 100_000 } }))) as Array<{ shard: number; localPort: number; ok: boolean; length: number }>;
    for (const r of replies) {
      assert.equal(r.ok, true, `shard ${r.shard}: ${r.length} bytes echoed`);
      assert.equal(sh.map.owner(ip(SERVER), r.localPort, ip(CLIENT), 9000), r.shard);
    }
    srv.close();
    const c = await sh.counters();
    assert.equal(c.TcpActiveOpens, 6);
  });
});

test("wire steering 'owner' (an RSS NIC with the shards' key, or TUN with eBPF steering): nothing is forwarded", { timeout: 60_000 }, async () => {
  await withShards(2, async (sh, net) => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => new Promise<boolean>((resolve, reject) => {
      const data = pattern(50_000, 100 + i);
      const got: Buffer[] = [];
      const s = net.connect({ port: 7, host: SERVER }, () => s.end(data));
      s.on('data', (d: Buffer) => got.push(Buffer.from(d)));
      s.on('end', () => resolve(Buffer.compare(Buffer.concat(got), data) === 0));
      s.on('error', reject);
    })));
    assert.deepEqual(results, new Array(6).fill(true));
    const stats = await sh.stats();
    assert.equal(stats.reduce((a, s) => a + s.link.rxForwarded, 0), 0);
    assert.equal(stats.reduce((a, s) => a + s.counters.TcpPassiveOpens!, 0), 6);
  }, 'owner');
});
