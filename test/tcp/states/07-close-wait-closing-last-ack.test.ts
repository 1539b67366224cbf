// CLOSE-WAIT, CLOSING and LAST-ACK: RFC 9293 §3.10.2/§3.10.4 (SEND and CLOSE) and
// §3.10.7.4 (what may still arrive), Linux tcp_orphan_retries for the last FIN.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, ms, sec } from './harness.js';

afterEach(finishAll);

describe('CLOSE-WAIT (RFC 9293 §3.10.7.4)', () => {
  test('§3.10.2 SEND is allowed: data goes out with <ACK=RCV.NXT> covering the FIN', () => {
    const h = fixture('CLOSE-WAIT');
    assert.equal(h.write('reply'), 5);
    h.expectOne({ flags: 'PA', seq: h.L, ack: h.R + 1, payload: 'reply' });
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 5 });
    h.expectNothing();
    assert.equal(h.c.sndUna, (h.L + 5) >>> 0);
    h.expectState('CLOSE-WAIT');
  });

  test('§3.10.4 CLOSE → LAST-ACK, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>', () => {
    const h = fixture('CLOSE-WAIT');
    h.close();
    h.expectOne({ flags: 'FA', seq: h.L, ack: h.R + 1 });
    h.expectState('LAST-ACK');
  });

  test('CLOSE with queued data: the data is sent first, the FIN on its last segment', () => {
    const h = fixture('CLOSE-WAIT');
    // A small segment in flight makes Nagle (with Minshall's modification) hold the next tail.
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    h.write(1600);
    h.expectOne({ flags: 'A', seq: h.L + 100, len: 1460 });
    h.close();
    h.expectOne({ flags: 'FPA', seq: h.L + 1560, len: 140, ack: h.R + 1 });
    h.expectState('LAST-ACK');
  });

  test('first, a retransmitted FIN is an old segment → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
    h.expectState('CLOSE-WAIT');
  });

  test('second, RST = RCV.NXT → CLOSED with EPIPE (only sends are left to fail; Linux tcp_reset)', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'EPIPE', cause: 'reset' });
    assert.equal(h.stack.counters.TcpEstabResets, 1);
  });

  test('second, RST in the window but not RCV.NXT → challenge ACK', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'R', seq: h.R + 2 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
    h.expectState('CLOSE-WAIT');
  });

  test('fourth, SYN → challenge ACK', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'S', seq: h.R + 1, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
    h.expectState('CLOSE-WAIT');
  });

  test('sixth and seventh: URG and text after the FIN "should not occur" → ignored', () => {
    const h = fixture('CLOSE-WAIT');
    const up = h.c.rcvUp;
    h.send({ flags: 'UPA', seq: h.R + 1, ack: h.L, payload: 'zombie', urg: 3 });
    h.expectNothing();
    assert.equal(h.c.readable, 0);
    assert.equal(h.c.rcvNxt, (h.R + 1) >>> 0);
    assert.equal(h.c.rcvUp, up);
  });

  test('eighth, another FIN → remain in CLOSE-WAIT', () => {
    const h = fixture('CLOSE-WAIT');
    h.send({ flags: 'FA', seq: h.R + 1, ack: h.L });
    h.expectNothing();
    h.expectState('CLOSE-WAIT');
    assert.equal(h.c.rcvNxt, (h.R + 1) >>> 0);
  });

  test('data received before the FIN stays readable in CLOSE-WAIT; reading it sends no window update', () => {
    const h = fixture('ESTABLISHED', { rcvBuf: 2000 });
    h.send({ flags: 'FPA', seq: h.R, ack: h.L, payload: 2000 });
    // The ACK of a FIN after data waits for the delayed-ACK timer (Linux pingpong mode).
    h.expectNothing();
    h.advance(ms(40));
    h.expectOne({ flags: 'A', ack: h.R + 2001, win: 0 });
    h.expectState('CLOSE-WAIT');
    assert.equal(h.c.receive(5000, h.now).length, 2000);
    h.expectNothing();
  });
});

describe('CLOSING (RFC 9293 §3.10.7.4)', () => {
  test('fifth, the ACK of our FIN → TIME-WAIT, nothing sent, 2·MSL timer', () => {
    const h = fixture('CLOSING');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectNothing();
    h.expectState('TIME-WAIT');
    assert.equal(h.c.timeWaitAt, h.now + sec(60));
    assert.equal(h.c.rtoAt, Infinity);
  });

  test('fifth, an ACK that does not acknowledge our FIN → "ignore the segment"', () => {
    const h = fixture('CLOSING');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L });
    h.expectNothing();
    h.expectState('CLOSING');
  });

  test('first, their FIN retransmitted → ACK again (<SEQ=SND.NXT><ACK=RCV.NXT>)', () => {
    const h = fixture('CLOSING');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('CLOSING');
  });

  test('second, RST = RCV.NXT → CLOSED ("enter the CLOSED state, delete the TCB")', () => {
    const h = fixture('CLOSING');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('second, RST in the window → challenge ACK; fourth, SYN → challenge ACK (one per 500 ms per connection)', () => {
    const h = fixture('CLOSING');
    h.send({ flags: 'R', seq: h.R + 3 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.send({ flags: 'S', seq: h.R + 3, ack: 0 });
    h.expectNothing(); // within tcp_invalid_ratelimit of the previous challenge ACK (RFC 5961 §7)
    h.expectState('CLOSING');
    assert.equal(h.stack.counters.TcpExtTCPACKSkippedChallenge, 1);
  });

  test('our FIN is retransmitted on RTO while CLOSING, now acknowledging theirs', () => {
    const h = fixture('CLOSING');
    h.advance(ms(200));
    h.expectOne({ flags: 'FA', seq: h.L, ack: h.R + 1 });
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectState('TIME-WAIT');
  });
});

describe('LAST-ACK (RFC 9293 §3.10.7.4)', () => {
  test('fifth, the ACK of our FIN → CLOSED: TCB deleted, nothing sent, a normal close', () => {
    const h = fixture('LAST-ACK');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: null, cause: 'normal' });
    assert.equal(h.stack.connectionCount, 0);
  });

  test('fifth, an ACK that does not cover our FIN is ignored', () => {
    const h = fixture('LAST-ACK');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L });
    h.expectNothing();
    h.expectState('LAST-ACK');
  });

  test('first, their retransmitted FIN (our ACK was lost) → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const h = fixture('LAST-ACK');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('LAST-ACK');
  });

  test('second, RST = RCV.NXT → CLOSED; RST in the window → challenge ACK', () => {
    const h = fixture('LAST-ACK');
    h.send({ flags: 'R', seq: h.R + 2 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('fourth, SYN → challenge ACK', () => {
    const h = fixture('LAST-ACK');
    h.send({ flags: 'S', seq: 5, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('LAST-ACK');
  });

  test('the FIN is retransmitted on RTO, then given up after tcp_orphan_retries (ETIMEDOUT)', () => {
    const h = fixture('LAST-ACK', { stack: { tcp_orphan_retries: 2 } });
    h.advance(ms(200) - 1); h.expectNothing();
    h.advance(1); h.expectOne({ flags: 'FA', seq: h.L, ack: h.R + 1 });
    h.advance(ms(400)); h.expectOne({ flags: 'FA', seq: h.L, ack: h.R + 1 });
    h.advance(ms(800) - 1); h.expectState('LAST-ACK');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
    assert.equal(h.stack.connectionCount, 0);
  });

  test('an ACK after a FIN retransmission still closes normally', () => {
    const h = fixture('LAST-ACK');
    h.advance(ms(200));
    h.expectOne({ flags: 'FA', seq: h.L });
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectState('CLOSED');
    assert.equal(h.closed?.cause, 'normal');
  });
});
