// The stack-wide RFC 5961 §7 challenge-ACK budget, made unobservable (CVE-2016-5696): redrawn
// at random every second in [limit/2, limit + limit/2 - 1], as Linux tcp_send_challenge_ack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChallengeAckBudget } from '../../src/tcp/ratelimit.js';
import { Rng } from '../../src/sim/rng.js';

function perSecond(limit: number, seconds: number, seed = 1): number[] {
  const rng = new Rng(seed);
  const b = new ChallengeAckBudget(() => limit, (n) => rng.bytes(n));
  const out: number[] = [];
  for (let s = 0; s < seconds; s++) {
    let n = 0;
    // Far more attempts than the limit, spread over the second.
    for (let i = 0; i < 4 * limit + 10; i++) if (b.allow(s * 1_000_000 + Math.floor((i * 1_000_000) / (4 * limit + 10)))) n++;
    out.push(n);
  }
  return out;
}

test('each second allows a random count in [limit/2, limit + limit/2 - 1]', () => {
  const counts = perSecond(1000, 200);
  for (const n of counts) assert.ok(n >= 500 && n <= 1499, `${n}`);
  // Not a constant an attacker could subtract: many different counts, spread over the range.
  assert.ok(new Set(counts).size > 150, `${new Set(counts).size} distinct counts in 200 s`);
  assert.ok(Math.min(...counts) < 700 && Math.max(...counts) > 1300, `${Math.min(...counts)}..${Math.max(...counts)}`);
});

test('limit 0: no challenge ACKs; 2^31-1 (Linux INT_MAX): no stack-wide limit', () => {
  assert.deepEqual(perSecond(0, 3), [0, 0, 0]);
  const rng = new Rng(2);
  const b = new ChallengeAckBudget(() => 0x7fffffff, (n) => rng.bytes(n));
  for (let i = 0; i < 100_000; i++) assert.equal(b.allow(0), true);
});

test('the limit is read each second (a sysctl may change it)', () => {
  let limit = 10;
  const rng = new Rng(3);
  const b = new ChallengeAckBudget(() => limit, (n) => rng.bytes(n));
  let n = 0;
  for (let i = 0; i < 100; i++) if (b.allow(0)) n++;
  assert.ok(n >= 5 && n <= 14, `${n}`);
  limit = 2;
  n = 0;
  for (let i = 0; i < 100; i++) if (b.allow(1_000_000)) n++;
  assert.ok(n >= 1 && n <= 2, `${n}`);
});
