import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Cubic, cubic, type CubicRegion } from '../../src/tcp/cc/cubic.js';
import { SSTHRESH_INITIAL } from '../../src/tcp/cc/types.js';

const MSS = 1460;
const S = 1_000_000;

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);
}

interface RoundLog {
  t: number; // seconds since the epoch started
  segs: number; // cwnd in segments at the start of the round
  region: CubicRegion;
}

/**
 * An ACK-clocked bulk flow for `rounds` RTTs: each round the whole window is acked, one
 * segment per ACK, the ACKs spread evenly over the RTT.
 */
function run(cc: Cubic, start: number, rtt: number, rounds: number): { now: number; log: RoundLog[] } {
  let now = start;
  const log: RoundLog[] = [];
  for (let r = 0; r < rounds; r++) {
    const window = cc.cwnd;
    const n = Math.ceil(window / cc.mss);
    for (let i = 0; i < n; i++) {
      cc.onAck(cc.mss, now + Math.floor((i * rtt) / n), rtt, window - i * cc.mss);
      assert.ok(Number.isInteger(cc.cwnd), 'cwnd stays integer bytes');
    }
    now += rtt;
    log.push({ t: (now - (cc.tEpoch ?? now)) / S, segs: cc.cwnd / cc.mss, region: cc.region });
  }
  return { now, log };
}

/** A controller that just lost at `segs` segments with a full window in flight, then left recovery. */
function afterLoss(segs: number, opts: ConstructorParameters<typeof Cubic>[1] = {}): Cubic {
  const cc = new Cubic(MSS, opts);
  cc.cwnd = segs * MSS; // as if it had grown there
  cc.onLossDetected(segs * MSS, 0);
  cc.onRecoveryExit(0);
  return cc;
}

describe('CUBIC: slow start', () => {
  test('starts like Reno: IW 10 segments, ABC doubling per RTT', () => {
    const cc = cubic(MSS);
    assert.equal(cc.name, 'cubic');
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.ssthresh, SSTHRESH_INITIAL);
    run(cc, 0, 100_000, 3);
    assert.equal(cc.cwnd, 80 * MSS);
    assert.equal(cc.region, 'slow-start');
    cc.onAck(10 * MSS, 0, null, 0);
    assert.equal(cc.cwnd, 82 * MSS); // L = 2*SMSS
  });
});

describe('CUBIC: multiplicative decrease (RFC 9438 §4.6)', () => {
  test('ssthresh = 0.7 * FlightSize; W_max and cwnd_prior = cwnd; cwnd left to recovery', () => {
    const cc = cubic(MSS);
    cc.cwnd = 100 * MSS;
    cc.onLossDetected(100 * MSS, 0);
    assert.equal(cc.wMax, 100);
    assert.equal(cc.cwndPrior, 100);
    assert.equal(cc.ssthresh, 70 * MSS);
    assert.equal(cc.cwnd, 100 * MSS);
    cc.onRecoveryExit(0);
    assert.equal(cc.cwnd, 70 * MSS);
  });

  test('ssthresh is at least 2 SMSS', () => {
    const cc = cubic(MSS);
    cc.onLossDetected(2 * MSS, 0);
    assert.equal(cc.ssthresh, 2 * MSS);
  });

  test('RTO (§4.8): cwnd = 1 SMSS, ssthresh from beta, next stage has K = 0 and W_max = cwnd_epoch', () => {
    const cc = cubic(MSS);
    cc.cwnd = 100 * MSS;
    cc.onRto(100 * MSS, 0);
    assert.equal(cc.cwnd, MSS);
    assert.equal(cc.ssthresh, 70 * MSS);
    cc.onRto(100 * MSS, 0); // repeated timeout of the same data: held
    assert.equal(cc.ssthresh, 70 * MSS);
    assert.equal(cc.cwndPrior, 100);
    let now = 0;
    while (cc.inSlowStart) now = run(cc, now, 100_000, 1).now;
    assert.equal(cc.tEpoch !== null, true);
    assert.equal(cc.k, 0);
    assert.equal(cc.wMax, cc.cwndEpoch);
    close(cc.cwndEpoch, 70, 1e-9, 'cwnd_epoch');
    assert.equal(cc.wEst >= 70, true);
  });
});

describe('CUBIC: window increase function (RFC 9438 §4.2)', () => {
  test('K = cbrt((W_max - cwnd_epoch) / C) for known values', () => {
    const cc = afterLoss(100);
    cc.onAck(MSS, 5000, 100_000, 70 * MSS);
    assert.equal(cc.tEpoch, 5000);
    close(cc.cwndEpoch, 70, 1e-9, 'cwnd_epoch');
    close(cc.k, Math.cbrt(75), 1e-9, 'K'); // 4.2172 s
    close(cc.k, 4.2172, 1e-4, 'K');
    close(cc.wCubic(0), 70, 1e-9, 'W_cubic(0)');
    close(cc.wCubic(cc.k), 100, 1e-9, 'W_cubic(K)');

    const c36 = afterLoss(36); // 36 - 25.2 = 10.8 = 0.4 * 27
    c36.onAck(MSS, 0, 100_000, 0);
    close(c36.k, 3, 1e-4, 'K for W_max 36');

    const c1000 = afterLoss(1000);
    c1000.onAck(MSS, 0, 100_000, 0);
    close(c1000.k, Math.cbrt(750), 1e-6, 'K for W_max 1000'); // 9.0856 s
  });

  test('concave growth up to W_max, a plateau near K, then convex probing', () => {
    const rtt = 100_000;
    const cc = afterLoss(1000);
    const { log } = run(cc, 0, rtt, 160);
    const k = cc.k;
    const inc = log.map((r, i) => (i === 0 ? r.segs - 700 : r.segs - log[i - 1]!.segs));
    const at = (t: number): number => log.findIndex((r) => r.t >= t);

    // concave region: below W_max and the per-RTT increase shrinks
    const early = log.slice(1, at(k - 1));
    assert.ok(early.every((r) => r.region === 'concave' && r.segs < 1000));
    for (let i = 2; i < at(k - 1); i++) assert.ok(inc[i]! <= inc[i - 1]! + 1, `concave at round ${i}`);
    assert.ok(inc[1]! > 5 * inc[at(k - 0.5)]!, 'fast at first, slow near W_max');

    // plateau: cwnd is within 1% of W_max around t = K
    close(log[at(k)]!.segs, 1000, 10, 'cwnd at K');

    // convex region: above W_max and the per-RTT increase grows
    const late = log.slice(at(k + 1));
    assert.ok(late.every((r) => r.region === 'convex' && r.segs > 1000));
    for (let i = at(k + 1) + 1; i < log.length; i++) assert.ok(inc[i]! >= inc[i - 1]! - 1, `convex at round ${i}`);
    assert.ok(inc[log.length - 1]! > 5 * inc[at(k + 0.5)]!, 'accelerating away from W_max');

    // cwnd tracks W_cubic: at the start of each round it is within 2% of W_cubic(t)
    for (const r of log.slice(1)) close(r.segs, cc.wCubic(r.t), 0.02 * r.segs, `W_cubic(${r.t})`);
  });

  test('growth per ACK never exceeds slow start: target is capped at 1.5 * cwnd', () => {
    const cc = afterLoss(100);
    cc.onAck(MSS, 0, 100_000, 0);
    const before = cc.cwnd;
    // an ACK arriving 30 s into the epoch: W_cubic is huge, but one segment acked adds < 0.5 segment
    cc.onAck(MSS, 30 * S, 100_000, 0);
    assert.ok(cc.cwnd - before <= MSS / 2 + 1, `grew ${cc.cwnd - before}`);
    assert.ok(cc.cwnd - before >= MSS / 2 - 1, `grew ${cc.cwnd - before}`);
  });
});

describe('CUBIC: fast convergence (RFC 9438 §4.7)', () => {
  test('a loss below the previous W_max lowers W_max to cwnd * (1 + beta) / 2', () => {
    const cc = afterLoss(100);
    cc.cwnd = 80 * MSS;
    cc.onLossDetected(80 * MSS, 0);
    close(cc.wMax, 68, 1e-9, 'W_max');
    assert.equal(cc.cwndPrior, 80);
    assert.equal(cc.ssthresh, 56 * MSS);
    cc.onRecoveryExit(0);
    cc.onAck(MSS, 0, 100_000, 0);
    close(cc.k, Math.cbrt((68 - 56) / 0.4), 1e-9, 'K');
  });

  test('disabled: W_max is simply cwnd', () => {
    const cc = afterLoss(100, { fastConvergence: false });
    cc.cwnd = 80 * MSS;
    cc.onLossDetected(80 * MSS, 0);
    assert.equal(cc.wMax, 80);
    cc.onRecoveryExit(0);
    cc.onAck(MSS, 0, 100_000, 0);
    close(cc.k, Math.cbrt((80 - 56) / 0.4), 1e-9, 'K');
  });

  test('a loss above the previous W_max takes the new cwnd', () => {
    const cc = afterLoss(100);
    cc.cwnd = 120 * MSS;
    cc.onLossDetected(120 * MSS, 0);
    assert.equal(cc.wMax, 120);
  });
});

describe('CUBIC: Reno-friendly region (RFC 9438 §4.3)', () => {
  test('alpha_cubic = 3 * (1 - beta) / (1 + beta)', () => {
    close(cubic(MSS).alphaCubic, 0.9 / 1.7, 1e-12, 'alpha');
  });

  test('at a small RTT W_est outgrows W_cubic and sets cwnd (alpha_cubic per RTT, then 1)', () => {
    const rtt = 1000; // 1 ms: many rounds per second of CUBIC time
    const cc = afterLoss(100);
    const a = run(cc, 0, rtt, 50);
    assert.ok(a.log.slice(1).every((r) => r.region === 'reno-friendly'));
    // 50 RTTs at ~0.53 segment per RTT from 70 segments
    close(cc.cwnd / MSS, 70 + 50 * cc.alphaCubic, 1.5, 'cwnd after 50 RTTs');
    assert.ok(cc.wCubic(a.log.at(-1)!.t) < cc.cwnd / MSS - 20, 'CUBIC alone would be far lower');
    // once W_est >= cwnd_prior (100) it grows like Reno, 1 segment per RTT
    const b = run(cc, a.now, rtt, 100);
    assert.ok(cc.wEst >= cc.cwndPrior);
    const last = b.log.slice(-41);
    close(last.at(-1)!.segs - last[0]!.segs, 40, 2, 'growth over 40 RTTs');
    assert.equal(cc.region, 'reno-friendly');
  });

  test('at a large RTT the cubic function dominates instead', () => {
    const cc = afterLoss(100);
    const { log } = run(cc, 0, 200_000, 10);
    assert.ok(log.slice(1).every((r) => r.region === 'concave'));
    assert.ok(cc.cwnd / MSS > cc.wEst + 5);
  });
});

describe('CUBIC: idle periods (RFC 9438 §5.8, RFC 5681 §4.1)', () => {
  test('t excludes a short idle period: t_epoch moves forward by the idle time', () => {
    const cc = afterLoss(100);
    cc.onAck(MSS, 1_000_000, 100_000, 0);
    assert.equal(cc.tEpoch, 1_000_000);
    cc.onIdleRestart(1_900_000, 1_000_000, 1_200_000); // idle 700 ms < RTO
    assert.equal(cc.tEpoch, 1_700_000);
    assert.equal(cc.cwnd > 70 * MSS, true);
  });

  test('idle longer than the RTO restarts from IW and ends the epoch', () => {
    const cc = afterLoss(100);
    cc.onAck(MSS, 0, 100_000, 0);
    cc.onIdleRestart(5 * S, 1 * S, 1 * S);
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.tEpoch, null);
    assert.equal(cc.ssthresh, 70 * MSS); // max(70 MSS, 3/4 of ~70 MSS)
  });
});

describe('CUBIC: MSS change', () => {
  test('before data the IW follows the MSS; after, segment state survives a shrink', () => {
    const cc = cubic(536);
    assert.equal(cc.cwnd, 5360);
    cc.setMss(1460);
    assert.equal(cc.cwnd, 14600);
    const c2 = afterLoss(100);
    c2.setMss(1000);
    assert.equal(c2.cwnd, 70 * 1000);
    assert.equal(c2.wMax, 100);
    c2.onAck(1000, 0, 100_000, 0);
    close(c2.k, Math.cbrt(75), 1e-9, 'K');
  });
});
