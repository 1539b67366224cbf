// Behaviour aligned with Linux where RFC 9293 permits it or is silent (issue 12: the
// differential run of tests/pkt against the kernel found each of these). Every test names
// the RFC text that allows it and the Linux function it follows.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, ms } from './harness.js';

afterEach(finishAll);

describe('D-SACK (RFC 2883 §4; Linux tcp_dsack_set)', () => {
  test('a wholly duplicate segment: the ACK carries the duplicate as its first SACK block, once', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 100, sack: [] });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 100, sack: [[h.R, h.R + 100]] });
    // Reported once: the next ACK has no block.
    h.send({ flags: 'PA', seq: h.R + 100, ack: h.L, payload: 10 });
    h.advance(ms(40));
    h.expectOne({ flags: 'A', ack: h.R + 110, sack: [] });
  });

  test('a partly old segment: only the old part is reported; out-of-order blocks follow it', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 100 });
    h.send({ flags: 'PA', seq: h.R + 200, ack: h.L, payload: 50 });
    h.expectOne({ flags: 'A', ack: h.R + 100, sack: [[h.R + 200, h.R + 250]] });
    h.send({ flags: 'PA', seq: h.R + 50, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 150, sack: [[h.R + 50, h.R + 100], [h.R + 200, h.R + 250]] });
  });

  test('a retransmitted FIN in CLOSE-WAIT is D-SACKed (the FIN counts as one octet)', () => {
    const h = fixture('CLOSE-WAIT', { peer: { sack: true } });
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', ack: h.R + 1, sack: [[h.R, h.R + 1]] });
  });

  test('without SACK there is no D-SACK', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: false } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 100 });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 100, sack: [] });
  });
});

describe('the ACK of a FIN in ESTABLISHED (Linux tcp_fin: pingpong mode, RFC 1122 §4.2.3.2)', () => {
  test('a FIN after data is acknowledged after the delayed-ACK time; an answer in time carries the ACK', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.send({ flags: 'FA', seq: h.R + 10, ack: h.L });
    h.expectNothing();
    h.expectState('CLOSE-WAIT');
    h.advance(ms(20));
    assert.equal(h.write('answer'), 6);
    h.expectOne({ flags: 'PA', ack: h.R + 11, payload: 'answer' });
    h.advance(ms(40));
    h.expectNothing();
  });

  test('a FIN before any data is acknowledged at once (Linux: its ato is still 0)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', ack: h.R + 1 });
  });

  test('a FIN that ends two full-sized segments is acknowledged at once (RFC 5681 §4.2)', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_quickack_segments: 0 } });
    h.send({ flags: 'A', seq: h.R, ack: h.L, payload: 1460 });
    h.expectNothing();
    h.send({ flags: 'FPA', seq: h.R + 1460, ack: h.L, payload: 1460 });
    h.expectOne({ flags: 'A', ack: h.R + 2921 });
  });

  test('FIN-WAIT-2: the FIN is acknowledged at once (TIME-WAIT)', () => {
    const h = fixture('FIN-WAIT-2', { halfClose: true });
    h.send({ flags: 'PA', seq: h.R, ack: h.L + 1, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.send({ flags: 'FA', seq: h.R + 10, ack: h.L + 1 });
    h.expectOne({ flags: 'A', ack: h.R + 11 });
    h.expectState('TIME-WAIT');
  });
});

describe('TIME-WAIT acknowledges every acceptable segment but a bare ACK at RCV.NXT (§3.10.7.4 fifth step; Linux tcp_timewait_state_process)', () => {
  test('data at RCV.NXT → ACK, the text ignored', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L + 1, payload: 10 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
  });

  test('a FIN at RCV.NXT → ACK and the 2·MSL timer restarts', () => {
    const h = fixture('TIME-WAIT');
    h.advance(ms(1000));
    h.send({ flags: 'FA', seq: h.R + 1, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    assert.equal(h.c.timeWaitAt, h.now + 60_000_000);
  });

  test('a bare ACK at RCV.NXT → nothing; elsewhere in the window → ACK, rate-limited (tcp_invalid_ratelimit)', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R + 5, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.send({ flags: 'A', seq: h.R + 6, ack: h.L + 1 });
    h.expectNothing();
  });
});

describe('RST and shutdown as Linux reports them', () => {
  test('CLOSE-WAIT + RST at RCV.NXT: EPIPE (the receiving side is already over)', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectNothing();
    assert.deepEqual(h.closed, { error: 'EPIPE', cause: 'reset' });
  });

  test('shutdown(SHUT_RD) in ESTABLISHED: later data is queued and readable', () => {
    const h = fixture('ESTABLISHED');
    h.c.shutdownRead(h.now);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
    assert.equal(h.read(), 'abc');
  });
});

describe('Nagle with Minshall\'s modification (RFC 9293 §3.7.4, Appendix A.3; Linux tcp_nagle_check)', () => {
  test('the tail of a write goes at once behind full-sized segments', () => {
    const h = fixture('ESTABLISHED');
    h.write(3000);
    h.expectOut([{ flags: 'A', len: 1460 }, { flags: 'A', len: 1460 }, { flags: 'PA', len: 80 }]);
  });

  test('a small segment waits while an earlier small one is unacknowledged, and goes with its ACK', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    h.write(100);
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.expectOne({ flags: 'PA', seq: h.L + 100, len: 100 });
  });

  test('a small segment behind full ones in flight but no small one: not held', () => {
    const h = fixture('ESTABLISHED');
    h.write(1460);
    h.expectOne({ flags: 'PA', len: 1460 });
    h.write(10);
    h.expectOne({ flags: 'PA', seq: h.L + 1460, len: 10 });
  });
});

describe('sender SWS avoidance and the persist timer', () => {
  test('passive open: the largest window starts from the handshake ACK\'s (Linux tcp_create_openreq_child), not the SYN\'s', () => {
    const h = fixture('SYN-RECEIVED');
    assert.equal(h.c.maxSndWnd, 65535, 'the SYN offered 65535');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.expectState('ESTABLISHED');
    assert.equal(h.c.maxSndWnd, 1000);
    // So 500 bytes (half of it) is not a silly window: a 600-byte window lets 600 go at once.
    h.send({ flags: 'PA', seq: h.R, ack: h.L, win: 1000, payload: 1 });
    h.expectOne({ flags: 'A', ack: h.R + 1 });
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L, win: 600 });
    h.write(1000);
    h.expectOne({ flags: 'A', seq: h.L, len: 600 });
  });

  test('what the persist timer sends over a small window carries PSH (Linux tcp_write_wakeup)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.write(3000);
    h.expectNothing();
    h.advance(ms(200));
    h.expectOne({ flags: 'PA', seq: h.L, len: 1000 });
  });
});
