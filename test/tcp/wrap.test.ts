// Sequence-number wraparound: transfers whose ISNs lie within 10 kB below 2^32 on both sides,
// so SND.UNA/SND.NXT/RCV.NXT, the send buffer's sequence base, SACK blocks, the FIN and the
// window edges all cross 2^32 → 0 mid-transfer (RFC 9293 §3.4: arithmetic mod 2^32). ISNs are
// forced with ConnectOptions.iss (client) and Stack.isnOverride (server). Invariants are
// checked after every simulation step.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSpec, runTransfer, describeFailure, randomSpec, type TransferSpec, type TransferResult } from './property/transfer.js';
import { Rng } from '../../src/sim/rng.js';

const TWO32 = 2 ** 32;

function run(spec: TransferSpec): TransferResult {
  const r = runTransfer(spec);
  assert.equal(r.error, undefined, describeFailure(r));
  return r;
}

/** The data (plus SYN and FIN) carried each side's sequence numbers across 2^32. */
function assertWrapped(r: TransferResult): void {
  for (const [name, side, bytes] of [['A', r.a, r.spec.bytesAtoB], ['B', r.b, r.spec.bytesBtoA]] as const) {
    assert.ok(side.iss >= TWO32 - 10_000, `${name} ISS ${side.iss} not within 10 kB below 2^32`);
    assert.ok(bytes + 2 > TWO32 - side.iss, `${name} sends too little to wrap`);
    assert.equal(side.sndMax, (side.iss + bytes + 2) % TWO32, `${name} final SND.MAX = ISS + data + SYN + FIN mod 2^32`);
    assert.ok(side.sndMax < side.iss, `${name} sequence space did not wrap`);
  }
}

describe('sequence wraparound (ISNs within 10 kB below 2^32)', () => {
  test('ISS = 2^32 - 1 on both sides: the first data byte is sequence number 0', () => {
    assertWrapped(run(baseSpec(1, { issA: TWO32 - 1, issB: TWO32 - 1, bytesAtoB: 50_000, bytesBtoA: 50_000 })));
  });

  test('ISS = 2^32 - 2: the SYN-ACK ACKs 2^32 - 1, data starts at 2^32 - 1', () => {
    assertWrapped(run(baseSpec(2, { issA: TWO32 - 2, issB: TWO32 - 2, bytesAtoB: 20_000, bytesBtoA: 20_000 })));
  });

  test('ISS 10,000 below 2^32, 100 kB each way, clean link', () => {
    assertWrapped(run(baseSpec(3, { issA: TWO32 - 10_000, issB: TWO32 - 10_000 })));
  });

  test('the FIN itself is sequence number 2^32 - 1 (data ends exactly at the wrap)', () => {
    const issA = TWO32 - 1 - 1 - 7_000; // ISS + SYN + 7000 bytes → FIN at 2^32 - 1
    const r = run(baseSpec(4, { issA, issB: TWO32 - 3_000, bytesAtoB: 7_000, bytesBtoA: 30_000 }));
    assert.equal(r.a.sndMax, 0, 'SND.MAX after the FIN is 0');
  });

  test('lossy, reordering link with SACK, timestamps, window scaling: retransmissions and SACK blocks across the wrap', () => {
    const faults = { loss: 0.05, reorder: 0.1, duplicate: 0.02, jitter: 3000 };
    const opts = { tcp_sack: 1, tcp_timestamps: 1, tcp_window_scaling: 1 };
    assertWrapped(run(baseSpec(5, {
      issA: TWO32 - 4_321, issB: TWO32 - 9_876, faultsAtoB: faults, faultsBtoA: faults,
      optionsA: opts, optionsB: { ...opts, tcp_msl: 60 }, bytesAtoB: 150_000, bytesBtoA: 120_000,
    })));
  });

  test('no options (no SACK, timestamps, scaling), NewReno, 10% loss: go-back-N across the wrap', () => {
    const faults = { loss: 0.1 };
    const opts = { tcp_sack: 0, tcp_timestamps: 0, tcp_window_scaling: 0, tcp_congestion_control: 'newreno', tcp_msl: 60 };
    assertWrapped(run(baseSpec(6, {
      issA: TWO32 - 1_000, issB: TWO32 - 2_000, faultsAtoB: faults, faultsBtoA: faults, optionsA: opts, optionsB: opts,
      bytesAtoB: 60_000, bytesBtoA: 60_000,
    })));
  });

  test('tiny receive buffers and a slow reader: zero windows and persist probes across the wrap', () => {
    assertWrapped(run(baseSpec(7, {
      issA: TWO32 - 500, issB: TWO32 - 700, clientRcvBuf: 600, optionsB: { tcp_rmem: [512, 700, 700] },
      readDelay: 50_000, readBurst: 300, readChunk: 100, bytesAtoB: 12_000, bytesBtoA: 12_000,
    })));
  });

  test('small MSS (MTU 200) and small writes with TCP_NODELAY: many segments straddle the wrap', () => {
    assertWrapped(run(baseSpec(8, {
      mtu: 200, issA: TWO32 - 333, issB: TWO32 - 4_444, noDelayA: true, noDelayB: true, writeChunk: 97,
      bytesAtoB: 8_000, bytesBtoA: 9_000,
    })));
  });

  test('60 random property specs with both ISNs forced within 10 kB below 2^32', () => {
    const rng = new Rng(0x57a9);
    for (let i = 0; i < 60; i++) {
      const seed = 900_000 + i;
      const spec = randomSpec(seed);
      spec.issA = TWO32 - rng.int(1, 10_001);
      spec.issB = TWO32 - rng.int(1, 10_001);
      // SYN cookies choose the server ISN themselves; keep them off so issB applies.
      spec.optionsB = { ...spec.optionsB, tcp_syncookies: 0 };
      const r = run(spec);
      assert.equal(r.a.iss, spec.issA);
      assert.equal(r.b.iss, spec.issB);
    }
  });
});
