// Regression test for issue 16's shard-tun-connrate failure: `synack bench` stopped with
// "connect client: {"done":3000,"failed":873}" — the kernel's clients got EADDRNOTAVAIL.
// They close first, so every connection leaves a TIME-WAIT socket on the kernel's side for
// 60 s; with Linux's default tcp_tw_reuse = 2 (loopback only) connect() never takes such a
// port again, and 5 runs × 6,000 connections outran ip_local_port_range's 28,232 ports. The
// bench's namespace now sets tcp_tw_reuse = 1, as a connect-rate benchmark on Linux does.
//
// Here the same bench code (its namespace, `synack serve --workers N`, its kernel clients)
// runs 3 rounds of 600 connect+close through a port range of 500, so every port is taken
// again from TIME-WAIT; synack must accept each new incarnation of a 4-tuple (the kernel
// reuses it with a higher ISN and timestamps, net/ipv4/tcp_ipv4.c tcp_twsk_unique) on the
// shard owning it. Root and TUN (CI runs it); the namespace is synack-16s-connrate-….
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { interopGate, testPrefix } from '../interop/netns.js';
import { BenchNetns, ShardServe, kernelConnects, type ServeStats } from '../../src/cli/bench/shard.js';

const gate = interopGate(['nstat']);
if (gate.fail !== null) test('sharded TUN connect churn', () => assert.fail(gate.fail!));
// tcp_tw_reuse_delay (Linux 6.13+) lets a TIME-WAIT port be taken again after 1 ms instead of 1 s.
const noDelay = gate.skip === false && gate.fail === null && !existsSync('/proc/sys/net/ipv4/tcp_tw_reuse_delay') ? 'needs net.ipv4.tcp_tw_reuse_delay (Linux 6.13+)' : false;

const PORTS = 500, ROUNDS = 3, PER_ROUND = 600;

for (const workers of [1, 2]) describe(`synack serve --workers ${workers} on TUN: ${ROUNDS * PER_ROUND} kernel connect+close through ${PORTS} ephemeral ports`, { skip: gate.skip || noDelay || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 120_000 }, () => {
  let ns: BenchNetns;
  let serve: ShardServe;
  const p = testPrefix(18 + workers);

  before(async () => {
    ns = new BenchNetns({ prefix: 'synack-16s-connrate', portRange: [40000, 40000 + PORTS - 1], twReuseDelayMs: 1 });
    serve = new ShardServe(ns, ['--tun', 'skcr0', '--addr', p.cidr, '--host-addr', p.kernel, '--workers', String(workers), '--discard', '9']);
    await serve.ready;
  });
  after(() => { if (serve !== undefined) ns.kill(serve.proc, 'SIGTERM'); ns?.destroy(); });

  test('every connection succeeds, ports are taken again from TIME-WAIT, each accepted by its shard', async () => {
    const a: ServeStats = await serve.stats();
    const tw0 = ns.nstat('TcpExtTWRecycled');
    for (let r = 0; r < ROUNDS; r++) await kernelConnects(ns, p.synack, 9, PER_ROUND, 2, 16);
    const b: ServeStats = await serve.stats();
    const opens = (s: ServeStats): number => s.counters.TcpPassiveOpens!;
    assert.equal(opens(b) - opens(a), ROUNDS * PER_ROUND, 'synack counted every passive open');
    // More connections than ports: the kernel must have reused TIME-WAIT ports (else the test proves nothing).
    assert.ok(ns.nstat('TcpExtTWRecycled') - tw0 >= ROUNDS * PER_ROUND - PORTS, `TcpExtTWRecycled ${ns.nstat('TcpExtTWRecycled') - tw0}`);
    assert.equal(b.counters.TcpAttemptFails ?? 0, a.counters.TcpAttemptFails ?? 0);
    if (workers === 2) {
      // Both shards took their share (the partition spreads the 500 ports over both).
      for (const k of [0, 1]) assert.ok(b.shards[k]!.counters.TcpPassiveOpens! - a.shards[k]!.counters.TcpPassiveOpens! > 0, `shard ${k} accepted none`);
    }
  });
});
