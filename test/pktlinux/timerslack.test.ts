// The lateness `synack pkt --target linux` allows a kernel timer (src/pktlinux/timerslack.ts):
// one timer-wheel granularity at the level the timeout lands in, plus two jiffies; nothing in
// level 0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelHz, timerSlackUs } from '../../src/pktlinux/timerslack.js';

describe('pktlinux timer slack (kernel/time/timer.c levels)', () => {
  test('HZ=250: level 0 below 63 jiffies, then granularity 8, 64, 512 jiffies', () => {
    assert.equal(timerSlackUs(0, 250), 0); // level 0: the script's tolerance covers it
    assert.equal(timerSlackUs(200_000, 250), 0); // 50 jiffies: level 0
    assert.equal(timerSlackUs(300_000, 250), 10 * 4000); // 75 jiffies: level 1
    assert.equal(timerSlackUs(2_400_000, 250), 66 * 4000); // 600 jiffies: level 2
    assert.equal(timerSlackUs(20_000_000, 250), 514 * 4000); // 5000 jiffies: level 3
  });

  test('HZ=1000: the same timeouts land in finer slots', () => {
    assert.equal(timerSlackUs(300_000, 1000), 10 * 1000); // 300 jiffies: level 1
    assert.equal(timerSlackUs(2_400_000, 1000), 66 * 1000); // 2400 jiffies: level 2
    assert.equal(timerSlackUs(50_000, 1000), 0);
  });

  test('the running kernel reports a plausible HZ', () => {
    assert.ok([100, 250, 300, 1000].includes(kernelHz()));
  });
});
