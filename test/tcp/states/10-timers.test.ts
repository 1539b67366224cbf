// Timers and send/ACK policy seen from one connection: retransmission (RFC 6298), delayed
// ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2), Nagle (RFC 9293 §3.7.4), SWS avoidance (RFC 1122
// §4.2.3.3–4), zero-window probing (RFC 9293 §3.8.6.1), keepalive (RFC 1122 §4.2.3.6) and the
// user timeout (RFC 9293 §3.10.8, RFC 5482).
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, REMOTE_ISN, ms, sec } from './harness.js';

afterEach(finishAll);

const NO_QUICKACK = { tcp_quickack_segments: 0 };

describe('timers: retransmission (RFC 6298)', () => {
  test('§2.4 minimum RTO: after an instant handshake the RTO is tcp_rto_min = 200 ms', () => {
    const h = fixture('ESTABLISHED');
    assert.equal(h.c.rtt.rto, ms(200));
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    assert.equal(h.c.rtoAt, h.now + ms(200));
  });

  test('§5.4–5.6: retransmit the first unacknowledged segment on RTO, doubling the timer each time', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    for (const gap of [200, 400, 800, 1600, 3200]) {
      h.advance(ms(gap) - 1);
      h.expectNothing();
      h.advance(1);
      h.expectOne({ flags: 'PA', seq: h.L, ack: h.R, len: 100 });
    }
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.expectNothing();
    assert.equal(h.c.rtoAt, Infinity);
    assert.equal(h.c.rtt.backoffCount, 5, 'the ACK of retransmitted data is no RTT sample (Karn): the backoff stays');
    assert.equal(h.c.retransmittedSegs, 5);
  });

  test('§5 note after 5.7, §3 (Karn): the backoff collapses only with a fresh RTT sample (Linux tcp_ack_update_rtt)', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    h.advance(ms(200));
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    h.advance(ms(10));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    // New data after an ACK that gave no sample: still the backed-off RTO (400 ms).
    h.write(10);
    h.expectOne({ flags: 'PA', seq: h.L + 100, len: 10 });
    assert.equal(h.c.rtoAt, h.now + ms(400));
    // Its ACK (the segment was sent once) is a sample: the RTO is recomputed, the backoff gone.
    h.advance(ms(50));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 110 });
    assert.equal(h.c.rtt.backoffCount, 0);
    h.write(10);
    h.expectOne({ flags: 'PA', seq: h.L + 110, len: 10 });
    assert.equal(h.c.rtoAt, h.now + h.c.rtt.baseRto);
    assert.ok(h.c.rtt.baseRto < ms(400));
  });

  test('RFC 5681 §3.1: after an RTO only the head goes out (cwnd = 1 MSS); the rest follows as ACKs arrive (go-back-N)', () => {
    const h = fixture('ESTABLISHED');
    h.write(2920);
    h.expectOut([{ flags: 'A', seq: h.L, len: 1460 }, { flags: 'PA', seq: h.L + 1460, len: 1460 }]);
    h.advance(ms(200));
    h.expectOne({ flags: 'A', seq: h.L, len: 1460 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1460 });
    h.expectOne({ flags: 'PA', seq: h.L + 1460, len: 1460 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    h.expectNothing();
  });

  test('tcp_retries2: the connection is aborted with ETIMEDOUT after that many retransmissions', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_retries2: 3 } });
    h.write(10);
    h.expectOne({ flags: 'PA' });
    for (const gap of [200, 400, 800]) { h.advance(ms(gap)); h.expectOne({ flags: 'PA', seq: h.L }); }
    h.advance(ms(1600) - 1);
    h.expectState('ESTABLISHED');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
  });

  test('§5.7: after the SYN timed out, data starts with RTO = 3 s (no RTT sample, Karn)', () => {
    const h = fixture('SYN-SENT');
    h.advance(sec(1));
    h.expectOne({ flags: 'S' });
    h.advance(ms(500));
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A' });
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    h.advance(sec(3) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'PA', seq: h.L, len: 10 });
  });
});

describe('timers: acknowledgments (RFC 1122 §4.2.3.2, RFC 5681 §4.2)', () => {
  test('delayed ACK: one segment is acknowledged after 40 ms (tcp_delack_min)', () => {
    const h = fixture('ESTABLISHED', { stack: NO_QUICKACK });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 }, { at: h.now + ms(7) });
    h.expectNothing();
    h.advance(ms(40) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 100 });
    assert.equal(h.stack.counters.TcpExtDelayedACKs, 1);
  });

  test('"an ACK SHOULD be generated for at least every second full-sized segment"', () => {
    const h = fixture('ESTABLISHED', { stack: NO_QUICKACK });
    h.send({ flags: 'A', seq: h.R, ack: h.L, payload: 1460 });
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R + 1460, ack: h.L, payload: 1460 });
    h.expectOne({ flags: 'A', ack: h.R + 2920 });
    h.advance(ms(100));
    h.expectNothing();
  });

  test('quick-ack at connection start: the first tcp_quickack_segments segments are ACKed at once', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_quickack_segments: 3 } });
    for (let i = 0; i < 3; i++) {
      h.send({ flags: 'PA', seq: h.R + 10 * i, ack: h.L, payload: 10 });
      h.expectOne({ flags: 'A', ack: h.R + 10 * (i + 1) });
    }
    h.send({ flags: 'PA', seq: h.R + 30, ack: h.L, payload: 10 });
    h.expectNothing();
    h.advance(ms(40));
    h.expectOne({ flags: 'A', ack: h.R + 40 });
  });

  test('RFC 5681 §4.2: out-of-order data is ACKed at once even in delayed-ACK mode, and so is the segment that fills the hole', () => {
    const h = fixture('ESTABLISHED', { stack: NO_QUICKACK });
    h.send({ flags: 'PA', seq: h.R + 100, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 200 });
  });

  test('a pending delayed ACK rides on outgoing data and its timer is cancelled', () => {
    const h = fixture('ESTABLISHED', { stack: NO_QUICKACK });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectNothing();
    h.write('answer');
    h.expectOne({ flags: 'PA', seq: h.L, ack: h.R + 100, payload: 'answer' });
    assert.equal(h.c.delackAt, Infinity);
    h.advance(ms(40));
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R + 100, ack: h.L + 6 });
  });
});

describe('timers: Nagle and sender SWS avoidance (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4)', () => {
  test('Nagle on: a small segment waits while data is unacknowledged, then the queued bytes go as one segment', () => {
    const h = fixture('ESTABLISHED');
    h.write('a');
    h.expectOne({ flags: 'PA', payload: 'a' });
    h.write('b');
    h.write('c');
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
    h.expectOne({ flags: 'PA', seq: h.L + 1, payload: 'bc' });
  });

  test('Nagle off (noDelay): small segments go at once', () => {
    const h = fixture('ESTABLISHED');
    h.c.noDelay = true;
    h.write('a');
    h.write('b');
    h.expectOut([{ flags: 'PA', payload: 'a' }, { flags: 'PA', seq: h.L + 1, payload: 'b' }]);
  });

  test('Minshall (RFC 9293 Appendix A.3, Linux tcp_minshall_check): the tail of a write goes at once behind full-sized segments; the next small one waits for it', () => {
    const h = fixture('ESTABLISHED');
    h.write(3000);
    h.expectOut([{ flags: 'A', len: 1460 }, { flags: 'A', seq: h.L + 1460, len: 1460 }, { flags: 'PA', seq: h.L + 2920, len: 80 }]);
    // A short segment (the 80 bytes) is unacknowledged now: the next short write waits.
    h.write(10);
    h.expectNothing();
    // The full-sized ones being acknowledged changes nothing while the short one is out.
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 3000 });
    h.expectOne({ flags: 'PA', seq: h.L + 3000, len: 10 });
  });

  test('Nagle never holds a full-sized segment', () => {
    const h = fixture('ESTABLISHED');
    h.write('a');
    h.expectOne({ flags: 'PA', len: 1 });
    h.write(1460);
    h.expectOne({ flags: 'PA', seq: h.L + 1, len: 1460 });
  });

  test('a window-limited fragment below half the largest window waits for the SWS override (persist) timer', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.write(1500);
    h.expectNothing();
    h.advance(ms(200) - 1);
    h.expectNothing();
    h.advance(1);
    // (With PSH, as Linux tcp_write_wakeup marks what it sends.)
    h.expectOne({ flags: 'PA', seq: h.L, len: 1000 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1000, win: 2000 });
    h.expectOne({ flags: 'PA', seq: h.L + 1000, len: 500 });
  });
});

describe('timers: zero window (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17)', () => {
  test('persist: probes <SEQ=SND.UNA-1><ACK=RCV.NXT> after one RTO, backing off exponentially, forever while answered', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    h.write(100);
    h.expectNothing();
    let gap = 200;
    for (let i = 0; i < 8; i++) {
      h.advance(ms(gap) - 1);
      h.expectNothing();
      h.advance(1);
      h.expectOne({ flags: 'A', seq: h.L - 1, ack: h.R, len: 0 });
      h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
      h.expectNothing();
      gap *= 2;
    }
    h.expectState('ESTABLISHED');
    assert.equal(h.stack.counters.TcpExtTCPZeroWindowProbes, 8);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    assert.equal(h.c.persistAt, Infinity);
  });

  test('receiver: reading frees space → window update once it grows by min(buffer/2, MSS) (RFC 1122 §4.2.3.3)', () => {
    // A 4000-byte SO_RCVBUF: the SYN-ACK offered 2920 (whole segments, Linux), which is also
    // rcv_ssthresh, the most this side offers until more data arrives.
    const h = fixture('ESTABLISHED', { rcvBuf: 4000 });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 2920 });
    // 1080 bytes free, but moving the edge by less than min(2000, 1460) would be silly: 0.
    h.expectOne({ flags: 'A', ack: h.R + 2920, win: 0 });
    h.c.receive(100, h.now);
    h.expectNothing(); // 1180 free: still below min(2000, 1460)
    h.c.receive(1400, h.now);
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 2920, win: 2580 });
    h.c.receive(5000, h.now);
    // All 4000 free, but the offer stays within rcv_ssthresh (2920): it would grow by 340 only.
    h.expectNothing();
  });

  test('receiver: the advertised right edge never moves left (RFC 9293 §3.8.6: RCV.NXT+RCV.WND not reduced)', () => {
    const h = fixture('ESTABLISHED', { rcvBuf: 4000 });
    assert.equal(h.c.rcvAdv, (h.R + 2920) >>> 0, 'the SYN-ACK offered 2920');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1000 });
    // 3000 free; moving the edge by 1080 < min(2000, 1460) would be silly: it holds at R + 2920.
    h.expectOne({ flags: 'A', ack: h.R + 1000, win: 1920 });
    h.send({ flags: 'PA', seq: h.R + 1000, ack: h.L, payload: 1000 });
    h.expectOne({ flags: 'A', ack: h.R + 2000, win: 920 });
    assert.equal(h.c.rcvAdv, (h.R + 2920) >>> 0);
  });
});

describe('timers: keepalive (RFC 1122 §4.2.3.6; Linux 7200 s / 75 s / 9)', () => {
  test('idle 7200 s → probe <SEQ=SND.UNA-1>; every 75 s; after 9 unanswered probes → RST, ETIMEDOUT', () => {
    const h = fixture('ESTABLISHED');
    const start = h.now;
    h.c.setKeepAlive(h.now, true);
    h.advance(sec(7200) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'A', seq: h.L - 1, ack: h.R, len: 0 });
    for (let i = 1; i < 9; i++) {
      h.advance(sec(75) - 1);
      h.expectNothing();
      h.advance(1);
      h.expectOne({ flags: 'A', seq: h.L - 1, ack: h.R, len: 0 });
    }
    h.advance(sec(75) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'RA', seq: h.L, ack: h.R });
    h.expectState('CLOSED');
    assert.equal(h.now - start, sec(7200 + 9 * 75));
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'keepalive-timeout' });
  });

  test('an answered probe resets the count; the next probe comes 7200 s after the last segment received', () => {
    const h = fixture('ESTABLISHED');
    h.c.setKeepAlive(h.now, true);
    h.advance(sec(7200));
    h.expectOne({ flags: 'A', seq: h.L - 1 });
    h.advance(sec(10));
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    h.advance(sec(7200) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'A', seq: h.L - 1 });
    assert.equal(h.c.keepaliveProbes, 1);
  });

  test('traffic keeps a keepalive connection quiet', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_keepalive_time: 100 } });
    h.c.setKeepAlive(h.now, true);
    for (let i = 0; i < 5; i++) {
      h.advance(sec(90));
      h.send({ flags: 'PA', seq: h.R + i, ack: h.L, payload: 1 });
      h.expectOne({ flags: 'A', ack: h.R + i + 1 });
    }
    h.advance(sec(99));
    h.expectNothing();
  });
});

describe('timers: user timeout (RFC 9293 §3.10.8, RFC 5482)', () => {
  test('unacknowledged data older than the user timeout aborts the connection at that moment (ETIMEDOUT)', () => {
    const h = fixture('ESTABLISHED');
    h.c.userTimeout = ms(2500);
    const start = h.now;
    h.write(10);
    h.expectOne({ flags: 'PA' });
    for (const gap of [200, 400, 800]) { h.advance(ms(gap)); h.expectOne({ flags: 'PA', seq: h.L }); }
    h.advanceTo(start + ms(2500) - 1);
    h.expectState('ESTABLISHED');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'user-timeout' });
  });

  test('an ACK of new data restarts the user timeout', () => {
    const h = fixture('ESTABLISHED');
    h.c.noDelay = true;
    h.c.userTimeout = sec(1);
    h.write(10);
    h.expectOne({ flags: 'PA' });
    h.advance(ms(150));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 });
    h.write(10);
    h.expectOne({ flags: 'PA', seq: h.L + 10 });
    h.advance(ms(900));
    h.drain();
    h.expectState('ESTABLISHED');
    h.advance(ms(100));
    h.drain();
    h.expectState('CLOSED');
  });
});
