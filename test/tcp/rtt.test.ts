import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RttEstimator, type RttConfig } from '../../src/tcp/rtt.js';

const MS = 1000;
const S = 1_000_000;
const linuxLike: RttConfig = { initialRto: 1 * S, minRto: 200 * MS, maxRto: 120 * S };

describe('RttEstimator: RFC 6298 §2', () => {
  test('§2.1: before any sample RTO is the initial 1 s', () => {
    const r = new RttEstimator(linuxLike);
    assert.equal(r.hasSample, false);
    assert.equal(r.rto, 1 * S);
    assert.equal(r.srtt, 0);
    assert.equal(r.rttvar, 0);
    assert.equal(r.backoffCount, 0);
  });

  test('§2.2: first sample sets SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(100 * MS);
    assert.equal(r.hasSample, true);
    assert.equal(r.srtt, 100 * MS);
    assert.equal(r.rttvar, 50 * MS);
    assert.equal(r.rto, 300 * MS);
  });

  test('§2.3: later samples use alpha 1/8, beta 1/4, RTTVAR updated with the old SRTT', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(100 * MS);
    r.sample(200 * MS);
    // RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms (with the new SRTT it would be 59.375 ms)
    assert.equal(r.rttvar, 62_500);
    // SRTT = 7/8*100 + 1/8*200 = 112.5 ms
    assert.equal(r.srtt, 112_500);
    assert.equal(r.rto, 112_500 + 4 * 62_500);
    r.sample(50 * MS);
    // RTTVAR = 3/4*62.5 + 1/4*|112.5-50| = 46.875 + 15.625 = 62.5 ms
    // SRTT = 7/8*112.5 + 1/8*50 = 104.6875 ms -> 104688 µs (exposed rounded)
    assert.equal(r.rttvar, 62_500);
    assert.equal(r.srtt, 104_688);
    assert.equal(r.rto, Math.round(104_687.5 + 4 * 62_500));
  });

  test('values stay integer microseconds', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(1001.7);
    assert.equal(r.srtt, 1002);
    assert.equal(r.rttvar, 501);
    r.sample(333);
    assert.ok(Number.isInteger(r.srtt) && Number.isInteger(r.rttvar) && Number.isInteger(r.rto));
  });

  test('§4: the variance term is at least G once RTTVAR has decayed', () => {
    const r = new RttEstimator({ initialRto: S, minRto: 1, maxRto: 120 * S, granularity: MS });
    for (let i = 0; i < 200; i++) r.sample(10 * MS);
    assert.equal(r.srtt, 10 * MS);
    assert.equal(r.rttvar, 0);
    assert.equal(r.rto, 10 * MS + 1 * MS);
  });

  test('G defaults to 1 ms', () => {
    const r = new RttEstimator({ initialRto: S, minRto: 1, maxRto: 120 * S });
    for (let i = 0; i < 200; i++) r.sample(5 * MS);
    assert.equal(r.rto, 6 * MS);
  });

  test('RTO is clamped to minRto', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(1 * MS); // 1 + 4*0.5 = 3 ms
    assert.equal(r.baseRto, 200 * MS);
    assert.equal(r.rto, 200 * MS);
  });

  test('§2.5: RTO is clamped to maxRto', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(100 * S); // 100 s + 200 s
    assert.equal(r.rto, 120 * S);
  });

  test('the RFC floor of 1 s is just a config choice', () => {
    const r = new RttEstimator({ initialRto: S, minRto: S, maxRto: 60 * S });
    r.sample(10 * MS);
    assert.equal(r.rto, S);
  });

  test('minRtt and latestRtt track raw samples', () => {
    const r = new RttEstimator(linuxLike);
    assert.equal(r.minRtt, null);
    r.sample(30 * MS);
    r.sample(10 * MS);
    r.sample(20 * MS);
    assert.equal(r.minRtt, 10 * MS);
    assert.equal(r.latestRtt, 20 * MS);
  });

  test('negative samples count as 0, non-finite ones are ignored', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(Number.NaN);
    assert.equal(r.hasSample, false);
    r.sample(-5);
    assert.equal(r.hasSample, true);
    assert.equal(r.srtt, 0);
    assert.equal(r.rto, 200 * MS);
  });
});

describe('RttEstimator: RFC 6298 §5 backoff', () => {
  test('§5.5: each backoff doubles the RTO, up to maxRto', () => {
    const r = new RttEstimator(linuxLike);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      seen.push(r.rto);
      r.backoff();
    }
    assert.deepEqual(seen.map((v) => v / S), [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
    assert.equal(r.backoffCount, 10);
  });

  test('backoff applies to the clamped base RTO', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(1 * MS); // base clamps to 200 ms
    r.backoff();
    assert.equal(r.rto, 400 * MS);
    r.backoff();
    assert.equal(r.rto, 800 * MS);
    assert.equal(r.baseRto, 200 * MS);
  });

  test('many backoffs never overflow past maxRto', () => {
    const r = new RttEstimator(linuxLike);
    for (let i = 0; i < 5000; i++) r.backoff();
    assert.equal(r.rto, 120 * S);
  });

  test('a sample does not reset the backoff; resetBackoff() does', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(100 * MS);
    r.backoff();
    r.backoff();
    assert.equal(r.rto, 1200 * MS);
    r.sample(100 * MS);
    assert.equal(r.backoffCount, 2);
    r.resetBackoff();
    assert.equal(r.backoffCount, 0);
    assert.equal(r.rto, r.baseRto);
  });

  test('reset() forgets samples and backoff', () => {
    const r = new RttEstimator(linuxLike);
    r.sample(100 * MS);
    r.backoff();
    r.reset();
    assert.equal(r.hasSample, false);
    assert.equal(r.backoffCount, 0);
    assert.equal(r.minRtt, null);
    assert.equal(r.rto, 1 * S);
    r.sample(80 * MS); // next sample is a first sample again (§2.2)
    assert.equal(r.srtt, 80 * MS);
    assert.equal(r.rttvar, 40 * MS);
  });

  test('§5.7: after a SYN timeout the no-sample RTO is 3 s when configured', () => {
    const r = new RttEstimator({ ...linuxLike, rtoAfterSynTimeout: 3 * S });
    r.backoff();
    r.reset(true);
    assert.equal(r.rto, 3 * S);
    r.reset();
    assert.equal(r.rto, 1 * S);
    const plain = new RttEstimator(linuxLike);
    plain.reset(true);
    assert.equal(plain.rto, 1 * S);
    // never lowers an initial RTO already above 3 s
    const slow = new RttEstimator({ ...linuxLike, initialRto: 5 * S, rtoAfterSynTimeout: 3 * S });
    slow.reset(true);
    assert.equal(slow.rto, 5 * S);
  });

  test('property: RTO is always an integer within [minRto, maxRto]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200 * S }), fc.constant(-1)), { maxLength: 60 }),
        (ops) => {
          const r = new RttEstimator(linuxLike);
          for (const op of ops) {
            if (op < 0) r.backoff();
            else r.sample(op);
            const rto = r.rto;
            if (!Number.isInteger(rto) || rto < 200 * MS || rto > 120 * S) return false;
            if (r.hasSample && r.baseRto < Math.min(120 * S, r.srtt)) return false;
          }
          return true;
        },
      ),
    );
  });
});
