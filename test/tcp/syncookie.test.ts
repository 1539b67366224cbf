import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SynCookies, SYNCOOKIE_MSS_TABLE, SYNCOOKIE_PERIOD, SYNCOOKIE_MAX_AGE,
  syncookieMss, syncookieCount, cookieTsVal, decodeCookieTs,
} from '../../src/tcp/syncookie.js';

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => (i * 29 + 5) & 0xff);
const CLIENT = 0xc0a80064; // 192.168.0.100
const SERVER = 0xc0a80001; // 192.168.0.1
const CPORT = 51234;
const SPORT = 80;
const MIN = SYNCOOKIE_PERIOD; // 60 s in µs
// Property tests whose failure would be a 4-in-2^24 hash coincidence use a fixed seed, so the
// suite is deterministic.
const SEEDED = { seed: 0x5eed, numRuns: 300 };

/** Builds a cookie and returns the check for the ACK that completes it. */
function roundTrip(c: SynCookies, clientIsn: number, mss: number, made: number, checked: number): number {
  const isn = c.make(CLIENT, CPORT, SERVER, SPORT, clientIsn, mss, made);
  return c.check(CLIENT, CPORT, SERVER, SPORT, clientIsn, (isn + 1) >>> 0, checked);
}

describe('SYN cookies (RFC 4987 §3.6, Linux syncookies.c)', () => {
  test('the Linux MSS table and constants', () => {
    assert.deepEqual(SYNCOOKIE_MSS_TABLE, [536, 1300, 1440, 1460]);
    assert.equal(SYNCOOKIE_PERIOD, 60_000_000);
    assert.equal(SYNCOOKIE_MAX_AGE, 2);
    assert.equal(syncookieCount(0), 0);
    assert.equal(syncookieCount(MIN - 1), 0);
    assert.equal(syncookieCount(MIN), 1);
  });

  test('round trip for each table MSS', () => {
    const c = new SynCookies(SECRET);
    for (const mss of SYNCOOKIE_MSS_TABLE) {
      for (const clientIsn of [0, 1, 0x7fffffff, 0xfffffffe, 0xffffffff, 0x12345678]) {
        assert.equal(roundTrip(c, clientIsn, mss, 5 * MIN + 17, 5 * MIN + 3_000_000), mss);
      }
    }
  });

  test('odd MSS values are rounded down to a table entry (536 below the table)', () => {
    const cases: [number, number][] = [
      [0, 536], [88, 536], [535, 536], [536, 536], [537, 536], [1299, 536],
      [1300, 1300], [1439, 1300], [1440, 1440], [1452, 1440], [1459, 1440],
      [1460, 1460], [1461, 1460], [8960, 1460], [65535, 1460],
    ];
    const c = new SynCookies(SECRET);
    for (const [peer, expected] of cases) {
      assert.equal(syncookieMss(peer), expected, `syncookieMss(${peer})`);
      assert.equal(roundTrip(c, 1000, peer, 0, 1), expected, `cookie for MSS ${peer}`);
    }
  });

  test('round trip on random tuples, ISNs and times (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 70000 }),
        fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: MIN - 1 }),
        (sa, sp, da, dp, isn, mss, made, delay) => {
          const c = new SynCookies(SECRET);
          const cookie = c.make(sa, sp, da, dp, isn, mss, made);
          assert.ok(Number.isInteger(cookie) && cookie >= 0 && cookie <= 0xffffffff);
          // Within one period the counter moved by at most 1: always accepted.
          assert.equal(c.check(sa, sp, da, dp, isn, (cookie + 1) >>> 0, made + delay), syncookieMss(mss));
        },
      ),
      SEEDED,
    );
  });

  test('a cookie built for one 4-tuple or client ISN fails for another', () => {
    const c = new SynCookies(SECRET);
    const isn = 0xdeadbeef;
    const ack = (c.make(CLIENT, CPORT, SERVER, SPORT, isn, 1460, 0) + 1) >>> 0;
    assert.equal(c.check(CLIENT, CPORT, SERVER, SPORT, isn, ack, 0), 1460);
    assert.equal(c.check(CLIENT + 1, CPORT, SERVER, SPORT, isn, ack, 0), 0);
    assert.equal(c.check(CLIENT, CPORT + 1, SERVER, SPORT, isn, ack, 0), 0);
    assert.equal(c.check(CLIENT, CPORT, SERVER + 1, SPORT, isn, ack, 0), 0);
    assert.equal(c.check(CLIENT, CPORT, SERVER, SPORT + 1, isn, ack, 0), 0);
    assert.equal(c.check(SERVER, SPORT, CLIENT, CPORT, isn, ack, 0), 0); // reversed
    assert.equal(c.check(CLIENT, SPORT, SERVER, CPORT, isn, ack, 0), 0); // ports swapped
    for (const d of [-4, -1000, 4, 1 << 24, 2 ** 31]) {
      assert.equal(c.check(CLIENT, CPORT, SERVER, SPORT, (isn + d) >>> 0, ack, 0), 0, `isn ${d}`);
    }
  });

  test('mismatches fail on random tuples too (property, fixed seed)', () => {
    const c = new SynCookies(SECRET);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 0xffff }),
        (sa, sp, da, dp, isn, which, delta) => {
          const ack = (c.make(sa, sp, da, dp, isn, 1460, 0) + 1) >>> 0;
          const t = [sa, sp, da, dp];
          t[which] = which % 2 === 0 ? (t[which]! + delta) >>> 0 : (t[which]! + delta) & 0xffff;
          assert.equal(c.check(t[0]!, t[1]!, t[2]!, t[3]!, isn, ack, 0), 0);
        },
      ),
      SEEDED,
    );
  });

  test('flipping any bit of the ACK number fails (bits 0-1 can at most select another MSS)', () => {
    const c = new SynCookies(SECRET);
    for (const mss of SYNCOOKIE_MSS_TABLE) {
      for (const isn of [0, 0x80000000, 0xffffffff, 0x0badf00d]) {
        const ack = (c.make(CLIENT, CPORT, SERVER, SPORT, isn, mss, 3 * MIN) + 1) >>> 0;
        for (let bit = 0; bit < 32; bit++) {
          const got = c.check(CLIENT, CPORT, SERVER, SPORT, isn, (ack ^ (1 << bit)) >>> 0, 3 * MIN);
          if (bit >= 2) assert.equal(got, 0, `mss ${mss} isn ${isn} bit ${bit}`);
          // Linux adds the MSS index into the low bits, so a ±1/±2 change moves the index; the
          // original MSS can never come back (the attacker still needed the other 30 bits).
          else assert.notEqual(got, mss, `mss ${mss} isn ${isn} bit ${bit}`);
        }
      }
    }
  });

  test('random ACK numbers are rejected', () => {
    const c = new SynCookies(SECRET);
    let x = 0x12345678;
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0; // fixed LCG: deterministic
      if (c.check(CLIENT, CPORT, SERVER, SPORT, 42, x, 10 * MIN) !== 0) accepted++;
    }
    assert.equal(accepted, 0);
  });

  test('another secret does not accept the cookie', () => {
    const a = new SynCookies(SECRET);
    const other = Uint8Array.from(SECRET);
    other[0]! ^= 1;
    const b = new SynCookies(other);
    const ack = (a.make(CLIENT, CPORT, SERVER, SPORT, 7, 1460, 0) + 1) >>> 0;
    assert.equal(a.check(CLIENT, CPORT, SERVER, SPORT, 7, ack, 0), 1460);
    assert.equal(b.check(CLIENT, CPORT, SERVER, SPORT, 7, ack, 0), 0);
  });

  test('age: valid while the counter moved by 0 or 1 (Linux MAX_SYNCOOKIE_AGE = 2)', () => {
    const c = new SynCookies(SECRET);
    // Made at the very start of a period: lives almost 2 periods.
    assert.equal(roundTrip(c, 9, 1460, 0, 0), 1460);
    assert.equal(roundTrip(c, 9, 1460, 0, MIN - 1), 1460);
    assert.equal(roundTrip(c, 9, 1460, 0, MIN), 1460);
    assert.equal(roundTrip(c, 9, 1460, 0, 2 * MIN - 1), 1460);
    assert.equal(roundTrip(c, 9, 1460, 0, 2 * MIN), 0);
    assert.equal(roundTrip(c, 9, 1460, 0, 3 * MIN), 0);
    // Made at the very end of a period: just over one period.
    assert.equal(roundTrip(c, 9, 1440, MIN - 1, 2 * MIN - 1), 1440);
    assert.equal(roundTrip(c, 9, 1440, MIN - 1, 2 * MIN), 0);
    // Far in the future: the 8-bit counter field wraps every 256 periods, but the hash over the
    // full counter still rejects it.
    for (const k of [255, 256, 257, 512]) assert.equal(roundTrip(c, 9, 1460, 0, k * MIN), 0, `k ${k}`);
  });

  test('a cookie from the future is rejected', () => {
    const c = new SynCookies(SECRET);
    assert.equal(roundTrip(c, 9, 1460, 10 * MIN, 10 * MIN - 1), 0);
    assert.equal(roundTrip(c, 9, 1460, 10 * MIN, 9 * MIN), 0);
  });

  test('valid across the 8-bit counter field wrap (255 → 256)', () => {
    const c = new SynCookies(SECRET);
    assert.equal(roundTrip(c, 77, 536, 255 * MIN + 5, 256 * MIN + 5), 536);
    assert.equal(roundTrip(c, 77, 536, 511 * MIN, 512 * MIN), 536);
  });

  test('cookies for the same SYN differ across periods (the counter is in the ISN)', () => {
    const c = new SynCookies(SECRET);
    const a = c.make(CLIENT, CPORT, SERVER, SPORT, 1, 1460, 0);
    assert.equal(c.make(CLIENT, CPORT, SERVER, SPORT, 1, 1460, MIN - 1), a);
    assert.notEqual(c.make(CLIENT, CPORT, SERVER, SPORT, 1, 1460, MIN), a);
  });

  test('longer secrets are accepted', () => {
    const c = new SynCookies(new Uint8Array(64).fill(0xa5));
    assert.equal(roundTrip(c, 3, 1300, 0, 1), 1300);
  });
});

describe('SYN cookie options in the timestamp (Linux cookie_init_timestamp)', () => {
  test('round trip for every wscale 0..14 and none × sack × ecn', () => {
    for (const tsNow of [0, 1, 63, 64, 1000, 0x12345640, 0x1234567f, 0xffffffc0, 0xffffffff]) {
      for (let wscale = -1; wscale <= 14; wscale++) {
        for (const sackOk of [false, true]) {
          for (const ecn of [false, true]) {
            const ts = cookieTsVal(tsNow, wscale, sackOk, ecn);
            assert.ok(Number.isInteger(ts) && ts >= 0 && ts <= 0xffffffff);
            assert.deepEqual(decodeCookieTs(ts), { wscale, sackOk, ecn }, `ts ${tsNow} ws ${wscale}`);
            // Not after tsNow, by less than 64 (modular, RFC 7323 timestamp order).
            const back = (tsNow - ts) >>> 0;
            assert.ok(back < 64, `ts ${tsNow} ws ${wscale} back ${back}`);
            // Only the low 6 bits (and a borrow) change.
            assert.equal(ts & 0x3f, (wscale < 0 ? 0xf : wscale) | (sackOk ? 16 : 0) | (ecn ? 32 : 0));
          }
        }
      }
    }
  });

  test('keeps the high bits when the options fit under tsNow, else subtracts 64', () => {
    assert.equal(cookieTsVal(0x1234567f, 7, true), 0x12345640 | 7 | 16);
    assert.equal(cookieTsVal(0x12345640, 7, true), 0x12345600 | 7 | 16); // would exceed: -64
    assert.equal(cookieTsVal(0x12345657, 7, true), 0x12345657); // equal: kept
    assert.equal(cookieTsVal(0x12345656, 7, true), 0x12345617);
    assert.equal(cookieTsVal(5, 7, false), 0xffffffc7); // wraps below 0
  });

  test('ecn defaults to false; wscale above 14 is clamped, below 0 means none', () => {
    assert.deepEqual(decodeCookieTs(cookieTsVal(5000, 3, false)), { wscale: 3, sackOk: false, ecn: false });
    assert.deepEqual(decodeCookieTs(cookieTsVal(5000, 15, false)), { wscale: 14, sackOk: false, ecn: false });
    assert.deepEqual(decodeCookieTs(cookieTsVal(5000, 200, true)), { wscale: 14, sackOk: true, ecn: false });
    assert.deepEqual(decodeCookieTs(cookieTsVal(5000, -7, true)), { wscale: -1, sackOk: true, ecn: false });
  });

  test('decode reads only the low 6 bits', () => {
    assert.deepEqual(decodeCookieTs((0xabcdef00 | 0x2f) >>> 0), { wscale: -1, sackOk: false, ecn: true });
    assert.deepEqual(decodeCookieTs(0x00000010), { wscale: 0, sackOk: true, ecn: false });
  });

  test('invalid encodings → null', () => {
    for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity]) assert.equal(decodeCookieTs(bad), null, `${bad}`);
    // Options this host has disabled cannot have come from our SYN-ACK (Linux rejects the ACK).
    const full = cookieTsVal(100_000, 7, true, true);
    assert.equal(decodeCookieTs(full, { sack: false }), null);
    assert.equal(decodeCookieTs(full, { ecn: false }), null);
    assert.equal(decodeCookieTs(full, { windowScaling: false }), null);
    assert.deepEqual(decodeCookieTs(full, { sack: true, ecn: true, windowScaling: true }), { wscale: 7, sackOk: true, ecn: true });
    // "No window scale" is fine even with window scaling disabled.
    assert.deepEqual(decodeCookieTs(cookieTsVal(100_000, -1, false), { windowScaling: false, sack: false, ecn: false }),
      { wscale: -1, sackOk: false, ecn: false });
    // With 4 bits, every pattern other than 0xf is 0..14: exhaustively, decode never yields > 14.
    for (let v = 0; v < 64; v++) {
      const d = decodeCookieTs(v);
      assert.ok(d !== null && d.wscale >= -1 && d.wscale <= 14);
    }
  });
});
