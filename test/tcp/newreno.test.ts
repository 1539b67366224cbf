import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NewReno, newReno } from '../../src/tcp/cc/newreno.js';
import { Cubic } from '../../src/tcp/cc/cubic.js';
import { CONGESTION_CONTROLS, createCongestionControl } from '../../src/tcp/cc/index.js';
import { SSTHRESH_INITIAL, initialWindow } from '../../src/tcp/cc/types.js';

const MSS = 1460;
const RTT = 50_000;

/** One RTT of an ACK-clocked bulk flow: the whole window is acked in `perAck`-byte ACKs. */
function ackWindow(cc: NewReno, now: number, perAck = MSS): number {
  const window = cc.cwnd;
  let acked = 0;
  while (acked < window) {
    const n = Math.min(perAck, window - acked);
    cc.onAck(n, now, RTT, window - acked);
    acked += n;
  }
  return now + RTT;
}

/** Put the controller in congestion avoidance at `segs` segments via a loss episode. */
function inCongestionAvoidance(segs: number): NewReno {
  const cc = newReno(MSS);
  cc.onLossDetected(2 * segs * MSS, 0);
  cc.onRecoveryExit(0);
  assert.equal(cc.cwnd, segs * MSS);
  assert.equal(cc.inSlowStart, false);
  return cc;
}

describe('NewReno: initial window (RFC 6928)', () => {
  test('IW is 10 segments for MSS 1460, ssthresh "infinite"', () => {
    const cc = newReno(MSS);
    assert.equal(cc.name, 'newreno');
    assert.equal(cc.mss, MSS);
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.ssthresh, SSTHRESH_INITIAL);
    assert.equal(cc.inSlowStart, true);
  });

  test('IW = min(10*MSS, max(2*MSS, 14600))', () => {
    assert.equal(initialWindow(536), 5360);
    assert.equal(initialWindow(1460), 14600);
    assert.equal(initialWindow(4000), 14600);
    assert.equal(initialWindow(9000), 18000);
    assert.equal(newReno(9000).cwnd, 18000);
  });

  test('setMss before any data re-derives IW', () => {
    const cc = newReno(536);
    assert.equal(cc.cwnd, 5360);
    cc.setMss(1460);
    assert.equal(cc.mss, 1460);
    assert.equal(cc.cwnd, 14600);
  });
});

describe('NewReno: slow start (RFC 5681 §3.1, RFC 3465 ABC)', () => {
  test('cwnd doubles per RTT with one ACK per segment', () => {
    const cc = newReno(MSS);
    let now = 0;
    for (const segs of [20, 40, 80, 160]) {
      now = ackWindow(cc, now);
      assert.equal(cc.cwnd, segs * MSS);
    }
  });

  test('cwnd still doubles per RTT with delayed ACKs (L = 2*SMSS)', () => {
    const cc = newReno(MSS);
    let now = 0;
    for (const segs of [20, 40, 80]) {
      now = ackWindow(cc, now, 2 * MSS);
      assert.equal(cc.cwnd, segs * MSS);
    }
  });

  test('a stretch ACK grows cwnd by at most 2*SMSS', () => {
    const cc = newReno(MSS);
    cc.onAck(10 * MSS, 0, null, 10 * MSS);
    assert.equal(cc.cwnd, 12 * MSS);
  });

  test('a sub-MSS ACK grows cwnd by the bytes acked (eq. 2)', () => {
    const cc = newReno(MSS);
    cc.onAck(100, 0, null, 0);
    assert.equal(cc.cwnd, 14600 + 100);
  });

  test('slow start stops at ssthresh and the rest goes to congestion avoidance', () => {
    const cc = inCongestionAvoidance(20);
    cc.onRto(40 * MSS, 0); // ssthresh = 20 MSS, cwnd = 1 MSS
    let now = 0;
    while (cc.inSlowStart) now = ackWindow(cc, now);
    assert.equal(cc.cwnd, 20 * MSS);
    // one more RTT in CA: exactly one more segment
    ackWindow(cc, now);
    assert.equal(cc.cwnd, 21 * MSS);
  });

  test('zero or negative acked bytes change nothing', () => {
    const cc = newReno(MSS);
    cc.onAck(0, 0, null, 0);
    cc.onAck(-5, 0, null, 0);
    assert.equal(cc.cwnd, 14600);
  });
});

describe('NewReno: congestion avoidance', () => {
  test('grows by one SMSS per RTT', () => {
    const cc = inCongestionAvoidance(20);
    let now = 0;
    for (let i = 1; i <= 10; i++) {
      now = ackWindow(cc, now);
      assert.equal(cc.cwnd, (20 + i) * MSS);
    }
  });

  test('byte counting keeps the rate with delayed ACKs', () => {
    const cc = inCongestionAvoidance(20);
    let now = 0;
    for (let i = 1; i <= 5; i++) now = ackWindow(cc, now, 2 * MSS);
    assert.equal(cc.cwnd, 25 * MSS);
  });

  test('a huge ACK still grows cwnd by at most one SMSS', () => {
    const cc = inCongestionAvoidance(20);
    cc.onAck(100 * MSS, 0, null, 100 * MSS);
    assert.equal(cc.cwnd, 21 * MSS);
    // the carried-over count stays below a window: the next full window gives one more SMSS
    ackWindow(cc, 0);
    assert.equal(cc.cwnd, 22 * MSS);
  });
});

describe('NewReno: loss (RFC 5681 §3.2, RFC 6582)', () => {
  test('ssthresh = max(FlightSize/2, 2*SMSS); cwnd is left to the recovery', () => {
    const cc = newReno(MSS);
    for (let i = 0; i < 3; i++) ackWindow(cc, 0); // 80 segments
    const before = cc.cwnd;
    cc.onLossDetected(60 * MSS, 0);
    assert.equal(cc.ssthresh, 30 * MSS);
    assert.equal(cc.cwnd, before);
    cc.onRecoveryExit(0);
    assert.equal(cc.cwnd, 30 * MSS);
    assert.equal(cc.inSlowStart, false);
  });

  test('ssthresh is at least 2*SMSS', () => {
    const cc = newReno(MSS);
    cc.onLossDetected(MSS, 0);
    assert.equal(cc.ssthresh, 2 * MSS);
  });

  test('FlightSize, not cwnd, is halved', () => {
    const cc = newReno(MSS);
    for (let i = 0; i < 3; i++) ackWindow(cc, 0); // cwnd 80 segments
    cc.onLossDetected(10 * MSS, 0); // application-limited: only 10 segments in flight
    assert.equal(cc.ssthresh, 5 * MSS);
    cc.onLossDetected(7 * MSS + 1, 0);
    assert.equal(cc.ssthresh, Math.floor((7 * MSS + 1) / 2));
  });

  test('recovery exit without a prior loss leaves cwnd alone', () => {
    const cc = newReno(MSS);
    cc.onRecoveryExit(0);
    assert.equal(cc.cwnd, 14600);
  });
});

describe('NewReno: retransmission timeout', () => {
  test('cwnd = 1 SMSS, ssthresh = max(FlightSize/2, 2*SMSS)', () => {
    const cc = newReno(MSS);
    ackWindow(cc, 0);
    cc.onRto(20 * MSS, 0);
    assert.equal(cc.cwnd, MSS);
    assert.equal(cc.ssthresh, 10 * MSS);
    assert.equal(cc.inSlowStart, true);
  });

  test('a repeated RTO holds ssthresh; after new data is acked the next RTO recomputes it', () => {
    const cc = newReno(MSS);
    cc.onRto(20 * MSS, 0);
    cc.onRto(20 * MSS, 0); // FlightSize still 20 MSS, but cwnd is 1 MSS
    cc.onRto(4 * MSS, 0);
    assert.equal(cc.ssthresh, 10 * MSS);
    assert.equal(cc.cwnd, MSS);
    cc.onAck(MSS, 0, null, 3 * MSS);
    assert.equal(cc.cwnd, 2 * MSS); // slow start from the loss window
    cc.onRto(6 * MSS, 0);
    assert.equal(cc.ssthresh, 3 * MSS);
  });

  test('slow start after an RTO doubles from one segment', () => {
    const cc = newReno(MSS);
    cc.onRto(64 * MSS, 0);
    let now = 0;
    for (const segs of [2, 4, 8, 16, 32]) {
      now = ackWindow(cc, now);
      assert.equal(cc.cwnd, segs * MSS);
    }
  });
});

describe('NewReno: restart after idle (RFC 5681 §4.1)', () => {
  test('idle longer than the RTO: cwnd = RW = min(IW, cwnd)', () => {
    const cc = inCongestionAvoidance(40);
    cc.onIdleRestart(2_000_000, 1_000_000, 500_000);
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.ssthresh, 40 * MSS); // max(40 MSS (from the loss), 3/4 * 40 MSS)
  });

  test('ssthresh keeps 3/4 of the old window when it was lower', () => {
    const cc = inCongestionAvoidance(20);
    for (let i = 0; i < 20; i++) ackWindow(cc, 0); // 40 segments, ssthresh still 20
    cc.onIdleRestart(3_000_000, 200_000, 0);
    assert.equal(cc.cwnd, 14600);
    assert.equal(cc.ssthresh, 30 * MSS);
  });

  test('idle no longer than the RTO changes nothing', () => {
    const cc = inCongestionAvoidance(40);
    cc.onIdleRestart(1_000_000, 1_000_000, 0);
    assert.equal(cc.cwnd, 40 * MSS);
  });

  test('a window already below IW is kept', () => {
    const cc = newReno(MSS);
    cc.onRto(20 * MSS, 0);
    cc.onIdleRestart(10_000_000, 1_000_000, 0);
    assert.equal(cc.cwnd, MSS);
  });
});

describe('NewReno: MSS change', () => {
  test('a smaller MSS after start keeps the window size in segments (RFC 5681 §3.1)', () => {
    const cc = inCongestionAvoidance(20);
    cc.setMss(1000);
    assert.equal(cc.mss, 1000);
    assert.equal(cc.cwnd, 20 * 1000);
    assert.equal(cc.ssthresh, 20 * 1000);
    ackWindow(cc, 0, 1000);
    assert.equal(cc.cwnd, 21 * 1000);
  });

  test('a larger MSS after start keeps the window size in bytes', () => {
    const cc = inCongestionAvoidance(20);
    cc.setMss(2920);
    assert.equal(cc.cwnd, 20 * MSS);
    assert.equal(cc.ssthresh, 20 * MSS);
  });

  test('an invalid MSS is clamped, never thrown', () => {
    const cc = newReno(MSS);
    cc.setMss(0);
    assert.equal(cc.mss, 1);
    cc.setMss(Number.NaN);
    assert.equal(cc.mss, 1);
    cc.setMss(1460.9);
    assert.equal(cc.mss, 1460);
  });
});

describe('cc registry', () => {
  test('createCongestionControl builds each algorithm', () => {
    assert.deepEqual([...CONGESTION_CONTROLS], ['newreno', 'cubic']);
    const r = createCongestionControl('newreno', MSS);
    assert.ok(r instanceof NewReno);
    assert.equal(r.name, 'newreno');
    const c = createCongestionControl('cubic', 1000);
    assert.ok(c instanceof Cubic);
    assert.equal(c.name, 'cubic');
    assert.equal(c.cwnd, 10_000);
    for (const name of CONGESTION_CONTROLS) assert.equal(createCongestionControl(name, MSS).name, name);
  });

  test('an unknown name throws TypeError ERR_INVALID_ARG_VALUE', () => {
    assert.throws(() => createCongestionControl('bbr', MSS), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.equal((err as { code?: string }).code, 'ERR_INVALID_ARG_VALUE');
      assert.match((err as Error).message, /bbr/);
      return true;
    });
  });
});
