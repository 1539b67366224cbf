// The partition: Toeplitz against Microsoft's RSS verification vectors, symmetry (both
// directions of a flow, and ICMP errors about it, map to one shard) for any shard count,
// balance over one client's ports, and the merged table / counters helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ToeplitzHash, MICROSOFT_RSS_KEY } from '../../src/shard/hash.js';
import { ShardMap, flowOf, ANY_SHARD } from '../../src/shard/partition.js';
import { mergeTables, sumCounters } from '../../src/shard/sharded.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { newCounters } from '../../src/stack/counters.js';
import type { ConnRow } from '../../src/stack/table.js';

const ip = (s: string): number => parseIpv4Address(s)!;

// "Verifying the RSS Hash Calculation" (Microsoft), IPv4: source, destination, hash with
// TCP ports, hash over the addresses only.
const VECTORS: Array<[string, number, string, number, number, number]> = [
  ['66.9.149.187', 2794, '161.142.100.80', 1766, 0x51ccc178, 0x323e8fc2],
  ['199.92.111.2', 14230, '65.69.140.83', 4739, 0xc626b0ea, 0xd718262a],
  ['24.19.198.95', 12898, '12.22.207.184', 38024, 0x5c2b394a, 0xd2d0a5de],
  ['38.27.205.30', 48228, '209.142.163.6', 2217, 0xafc7327f, 0x82989176],
  ['153.39.163.191', 44251, '202.188.127.2', 1303, 0x10e828a2, 0x5d1809c5],
];

test('Toeplitz hash matches the RSS verification vectors', () => {
  const h = new ToeplitzHash(MICROSOFT_RSS_KEY);
  for (const [s, sp, d, dp, withPorts, addrsOnly] of VECTORS) {
    assert.equal(h.hash(ip(s), ip(d), sp, dp), withPorts >>> 0, `${s}:${sp} → ${d}:${dp}`);
    assert.equal(h.hashAddrs(ip(s), ip(d)), addrsOnly >>> 0, `${s} → ${d}`);
  }
});

test('the Microsoft key is not symmetric (why the partition uses 0x6d5a…)', () => {
  const h = new ToeplitzHash(MICROSOFT_RSS_KEY);
  const [s, sp, d, dp] = VECTORS[0]!;
  assert.notEqual(h.hash(ip(s), ip(d), sp, dp), h.hash(ip(d), ip(s), dp, sp));
});

/** A minimal IPv4 + TCP header (no checksums: the partition reads addresses and ports only). */
function tcpPacket(src: number, sport: number, dst: number, dport: number, flags = 0x02): Uint8Array {
  const p = new Uint8Array(40);
  const v = new DataView(p.buffer);
  p[0] = 0x45; v.setUint16(2, 40); p[8] = 64; p[9] = 6;
  v.setUint32(12, src); v.setUint32(16, dst);
  v.setUint16(20, sport); v.setUint16(22, dport); p[32] = 0x50; p[33] = flags;
  return p;
}

/** An ICMP error (type 3 code 4, "fragmentation needed") from `router` quoting `quoted`. */
function icmpError(router: number, to: number, quoted: Uint8Array): Uint8Array {
  const q = quoted.subarray(0, 28);
  const p = new Uint8Array(20 + 8 + q.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45; v.setUint16(2, p.length); p[8] = 64; p[9] = 1;
  v.setUint32(12, router); v.setUint32(16, to);
  p[20] = 3; p[21] = 4;
  p.set(q, 28);
  return p;
}

const addr = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 65535 });

test('both directions of a flow map to one shard, for 1..16 shards (property)', () => {
  const maps = Array.from({ length: 16 }, (_, i) => new ShardMap(i + 1));
  fc.assert(fc.property(addr, port, addr, port, (a, pa, b, pb) => {
    for (const m of maps) {
      const o = m.owner(a, pa, b, pb);
      assert.equal(m.owner(b, pb, a, pa), o);
      assert.ok(o >= 0 && o < m.shards);
      // From the packets themselves: a segment each way, and an ICMP error about the flow
      // (quoting our segment to b) sent to us by a router.
      const out = tcpPacket(a, pa, b, pb), back = tcpPacket(b, pb, a, pa, 0x12);
      assert.equal(m.ownerOfPacket(out), o);
      assert.equal(m.ownerOfPacket(back), o);
      assert.equal(m.ownerOfPacket(icmpError(0xc6120001, a, out)), m.shards === 1 ? 0 : o);
    }
  }), { numRuns: 300, seed: 16 });
});

test('flowOf: ICMP echo, other protocols, fragments and short packets belong to no flow', () => {
  const m = new ShardMap(4);
  const echo = new Uint8Array(28); echo[0] = 0x45; echo[9] = 1; echo[20] = 8;
  assert.equal(flowOf(echo), null);
  assert.equal(m.ownerOfPacket(echo), ANY_SHARD);
  const frag = tcpPacket(1, 2, 3, 4); frag[6] = 0x00; frag[7] = 0x10; // offset 16×8
  assert.equal(m.ownerOfPacket(frag), ANY_SHARD);
  assert.equal(m.ownerOfPacket(new Uint8Array(10)), ANY_SHARD);
  const gre = tcpPacket(1, 2, 3, 4); gre[9] = 47;
  assert.equal(m.ownerOfPacket(gre), ANY_SHARD);
  const udp = tcpPacket(1, 2, 3, 4); udp[9] = 17;
  assert.deepEqual(flowOf(udp), { protocol: 17, src: 1, dst: 3, srcPort: 2, dstPort: 4 });
});

test("one client's ephemeral ports spread evenly over 2, 3, 4 and 8 shards", () => {
  const client = ip('198.18.0.1'), server = ip('198.18.0.2');
  for (const n of [2, 3, 4, 8]) {
    const m = new ShardMap(n);
    const count = new Array<number>(n).fill(0);
    for (let p = 32768; p <= 60999; p++) count[m.owner(client, p, server, 80)]!++;
    const total = 60999 - 32768 + 1;
    // The RETA has 128 entries: with 3 shards, two get 43 and one 42 (±1.6 %).
    for (const c of count) assert.ok(Math.abs(c / total - 1 / n) < 0.2 / n, `${n} shards: ${count.join(' ')}`);
  }
});

test('ShardMap rejects bad sizes with a code', () => {
  assert.throws(() => new ShardMap(0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new ShardMap(2, { retaSize: 100 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new ShardMap(1.5), { code: 'ERR_OUT_OF_RANGE' });
});

function row(local: string, lp: number, peer: string, pp: number | '*', listener = false): ConnRow {
  return { state: listener ? 'LISTEN' : 'ESTABLISHED', ssState: listener ? 'LISTEN' : 'ESTAB', recvQ: 0, sendQ: 0, localAddr: local, localPort: lp, peerAddr: peer, peerPort: pp, listener, timer: null, info: null };
}

test('mergeTables is the union of the shard tables, tagged and ordered; sumCounters adds', () => {
  const t0 = [row('198.18.0.2', 80, '0.0.0.0', '*', true), row('198.18.0.2', 80, '198.18.0.1', 40002)];
  const t1 = [row('198.18.0.2', 80, '0.0.0.0', '*', true), row('198.18.0.2', 80, '198.18.0.1', 40001), row('198.18.0.2', 7, '198.18.0.1', 40000)];
  const m = mergeTables([t0, t1]);
  assert.equal(m.length, 5);
  assert.deepEqual(m.map((r) => [r.shard, r.localPort, r.peerPort]), [[0, 80, '*'], [1, 80, '*'], [1, 7, 40000], [1, 80, 40001], [0, 80, 40002]]);
  const c1 = newCounters(), c2 = newCounters();
  c1.TcpInSegs = 5; c2.TcpInSegs = 7; c1.TcpCurrEstab = 1; c2.TcpCurrEstab = 2;
  const s = sumCounters([c1 as unknown as Record<string, number>, c2 as unknown as Record<string, number>]);
  assert.equal(s.TcpInSegs, 12);
  assert.equal(s.TcpCurrEstab, 3);
});

test('renderShardTable: the merged table shard by shard, as ss prints each', async () => {
  const { renderShardTable } = await import('../../src/cli/serve-sharded.js');
  const rows = mergeTables([
    [row('198.18.0.2', 80, '0.0.0.0', '*', true), row('198.18.0.2', 80, '198.18.0.1', 40002)],
    [row('198.18.0.2', 80, '0.0.0.0', '*', true)],
  ]);
  const out = renderShardTable(rows, 2).split('\n');
  assert.equal(out[0], 'shard 0: 1 connections');
  assert.match(out[1]!, /^State\s+Recv-Q\s+Send-Q/);
  assert.match(out[2]!, /^LISTEN .*198\.18\.0\.2:80/);
  assert.match(out[3]!, /^ESTAB .*198\.18\.0\.2:80 +198\.18\.0\.1:40002/);
  assert.equal(out[4], 'shard 1: 0 connections');
  assert.match(out[6]!, /^LISTEN /);
});
