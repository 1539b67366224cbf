// Long transfers over a lossy path: 10 MB and 100 MB (the 100 MB run takes ~1.5 s of real
// time, so it is not behind the SYNACK_LONG flag; SYNACK_SKIP_100MB=1 skips it). A link with
// 1% loss in both directions and 10 ms one-way delay (20 ms RTT), default stack options
// (CUBIC, SACK-permitted, timestamps, window scaling), byte-exact delivery checked with a
// running FNV-1a hash on each side plus a per-byte comparison against the regenerated
// stream (nothing is stored), invariants after every step. Reports goodput in virtual time
// next to the Mathis et al. estimate MSS/RTT · 1.22/√p.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSpec, runTransfer, describeFailure, type TransferResult } from './transfer.js';

const RTT_S = 0.020;
const LOSS = 0.01;
const MSS = 1448; // 1500 − 40 − 12 bytes of timestamp option

export function longRun(bytes: number, seed: number, cc = 'cubic'): { r: TransferResult; realMs: number; goodputMbps: number; mathisMbps: number } {
  const opts = { tcp_congestion_control: cc };
  const spec = baseSpec(seed, {
    delay: 10_000, faultsAtoB: { loss: LOSS }, faultsBtoA: { loss: LOSS },
    optionsA: opts, optionsB: opts, bytesAtoB: bytes, bytesBtoA: 0, maxTime: 24 * 3600 * 1_000_000,
  });
  const t0 = performance.now();
  const r = runTransfer(spec);
  const realMs = performance.now() - t0;
  const goodputMbps = (bytes * 8) / r.dataDoneAt; // bits per µs = Mbit/s
  const mathisMbps = ((MSS * 8) / RTT_S) * (1.22 / Math.sqrt(LOSS)) / 1e6;
  return { r, realMs, goodputMbps, mathisMbps };
}

function check(bytes: number, seed: number, t: { diagnostic(msg: string): void }): void {
  const { r, realMs, goodputMbps, mathisMbps } = longRun(bytes, seed);
  assert.equal(r.error, undefined, describeFailure(r));
  assert.equal(r.b.received, bytes);
  assert.equal(r.a.sentHash, r.b.receivedHash, 'FNV-1a of the bytes sent and received');
  const msg = `${bytes / 1e6} MB: goodput ${goodputMbps.toFixed(2)} Mbit/s in virtual time (data done at ${(r.dataDoneAt / 1e6).toFixed(1)} s), ` +
    `Mathis ${mathisMbps.toFixed(2)} Mbit/s, real time ${(realMs / 1000).toFixed(1)} s, ${r.steps} steps, ` +
    `${r.a.retransmits} retransmissions of ${r.a.segsOut} segments`;
  t.diagnostic(msg);
  // A sanity bound, not a benchmark: loss-limited TCP lands within a small factor of Mathis.
  assert.ok(goodputMbps > mathisMbps / 4, msg);
}

describe('long transfers, 1% loss, 20 ms RTT', () => {
  test('10 MB byte-exact', (t) => check(10_000_000, 10, t));
  test('100 MB byte-exact', { skip: process.env.SYNACK_SKIP_100MB === '1' && 'SYNACK_SKIP_100MB=1' }, (t) => check(100_000_000, 100, t));
});
