// Send-buffer size at establishment, as Linux 6.18 sets it (tcp_init_buffer_space →
// tcp_sndbuf_expand; measured with `synack pkt --target linux`, tests/pkt/sndbuf-established.pkt):
// 30 × per-segment charge, so 69120 for MSS 1460 and 3,939,840 on loopback (MSS 65495), capped
// at tcp_wmem[2]; a fixed SO_SNDBUF stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import type { StackOptions } from '../../src/stack/options.js';
import type { Tcb } from '../../src/tcp/tcb.js';

function established(opts: { mtu?: number; optionsA?: Partial<StackOptions>; sndBuf?: number }): { client: Tcb; server: Tcb; before: number } {
  const sim = new Simulation({ seed: 1 });
  const { a, b } = twoHosts(sim, { delay: 1_000, mtu: opts.mtu, optionsA: opts.optionsA, optionsB: opts.optionsA });
  const l = b.listen({ port: 80 });
  let server: Tcb | null = null;
  l.onAcceptable = () => { server = l.accept(); };
  const client = a.connect({ remoteAddr: "198.18.0.2", remotePort: 80, ...(opts.sndBuf !== undefined ? { sndBuf: opts.sndBuf } : {}) });
  const before = client.sndBuf.capacity;
  client.openActive(sim.now());
  sim.runFor(100_000);
  assert.equal(client.state, 'ESTABLISHED');
  assert.ok(server !== null);
  return { client, server: server!, before };
}

test('MSS 1460: tcp_wmem[1] (16384) before the handshake, 69120 once established, both ends', () => {
  const { client, server, before } = established({});
  assert.equal(before, 16384);
  assert.equal(client.sndBuf.capacity, 69120);
  assert.equal(server.sndBuf.capacity, 69120);
});

test('MSS 65495 (MTU 65535): 30 × (131072 + 256) = 3,939,840', () => {
  const { client } = established({ mtu: 65535 });
  assert.equal(client.sndBuf.capacity, 3_939_840);
});

test('capped at tcp_wmem[2], never shrunk below tcp_wmem[1]', () => {
  assert.equal(established({ optionsA: { tcp_wmem: [4096, 16384, 50000] } }).client.sndBuf.capacity, 50000);
  assert.equal(established({ optionsA: { tcp_wmem: [4096, 200000, 4194304] } }).client.sndBuf.capacity, 200000);
});

test('a fixed SO_SNDBUF is left as set', () => {
  assert.equal(established({ sndBuf: 8192 }).client.sndBuf.capacity, 8192);
});
