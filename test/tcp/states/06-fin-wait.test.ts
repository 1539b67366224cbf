// FIN-WAIT-1 and FIN-WAIT-2: RFC 9293 §3.10.4 (CLOSE), §3.10.7.4 (the ACK of our FIN, the
// peer's FIN, text), RFC 1122 §4.2.2.13 (data after CLOSE), Linux tcp_fin_timeout and
// tcp_orphan_retries.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, snapshot, ms, sec } from './harness.js';

afterEach(finishAll);

describe('FIN-WAIT-1 (RFC 9293 §3.10.7.4)', () => {
  test('§3.10.4 CLOSE in ESTABLISHED: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>, FIN-WAIT-1, the FIN takes one sequence number', () => {
    const h = fixture('ESTABLISHED');
    h.close();
    h.expectOne({ flags: 'FA', seq: h.L, ack: h.R, len: 0 });
    h.expectState('FIN-WAIT-1');
    assert.equal(h.c.sndNxt, (h.L + 1) >>> 0);
    assert.notEqual(h.c.rtoAt, Infinity);
  });

  test('CLOSE with queued data: the FIN rides on the last data segment (Nagle does not hold it)', () => {
    const h = fixture('ESTABLISHED');
    // A small segment in flight makes Nagle (with Minshall's modification) hold the next tail.
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    h.write(2000);
    h.expectOne({ flags: 'A', seq: h.L + 100, len: 1460 });
    h.close();
    h.expectOne({ flags: 'FPA', seq: h.L + 1560, len: 540 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2100 });
    h.expectNothing();
    h.expectState('FIN-WAIT-1');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2101 });
    h.expectState('FIN-WAIT-2');
  });

  test('fifth, the ACK of our FIN → FIN-WAIT-2, nothing sent, RTO off; an orphan gets the tcp_fin_timeout timer', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
    h.expectNothing();
    h.expectState('FIN-WAIT-2');
    assert.equal(h.c.rtoAt, Infinity);
    assert.equal(h.c.finWait2At, h.now + sec(60));
  });

  test('FIN-WAIT-2 reached from FIN-WAIT-1 equals the FIN-WAIT-2 fixture', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
    assert.deepEqual(snapshot(h.c), snapshot(fixture('FIN-WAIT-2').c));
  });

  test('an ACK that does not cover the FIN keeps FIN-WAIT-1', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.close();
    h.expectOne({ flags: 'FA', seq: h.L + 100 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.expectNothing();
    h.expectState('FIN-WAIT-1');
  });

  test('eighth, FIN while our FIN is unacknowledged → CLOSING, ACK of their FIN', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('CLOSING');
  });

  test('eighth, FIN that also ACKs our FIN → TIME-WAIT directly: time-wait timer 2·MSL, other timers off', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
    const t = h.c;
    assert.equal(t.timeWaitAt, h.now + sec(60), 'tcp_msl 30 s → 60 s');
    assert.equal(t.rtoAt, Infinity);
    assert.equal(t.finWait2At, Infinity);
    assert.equal(t.persistAt, Infinity);
  });

  test('second, RST = RCV.NXT → CLOSED ("connection reset")', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.closed?.cause, 'reset');
  });

  test('second, RST in the window, not RCV.NXT → challenge ACK', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'R', seq: h.R + 5 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R });
    h.expectState('FIN-WAIT-1');
  });

  test('fourth, SYN → challenge ACK (RFC 5961 §4.2)', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'S', seq: h.R + 5, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R });
    h.expectState('FIN-WAIT-1');
  });

  test('seventh, text in FIN-WAIT-1 after shutdown(SHUT_WR) is delivered and acknowledged', () => {
    const h = fixture('FIN-WAIT-1', { halfClose: true });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'more' });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 4 });
    assert.equal(h.read(), 'more');
    h.expectState('FIN-WAIT-1');
  });

  test('RFC 1122 §4.2.2.13: new data after CLOSE (nobody will read it) → RST <SEQ=SEG.ACK><CTL=RST> (as Linux), CLOSED', () => {
    const h = fixture('FIN-WAIT-1');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'late' });
    h.expectOne({ flags: 'R', seq: h.L });
    h.expectState('CLOSED');
    assert.equal(h.stack.counters.TcpExtTCPAbortOnData, 1);
  });

  test('§3.10.4 CLOSE again in FIN-WAIT-1: no second FIN; §3.10.2 SEND: "connection closing"', () => {
    const h = fixture('FIN-WAIT-1');
    h.close();
    h.expectNothing();
    assert.equal(h.write('x'), -1);
    h.expectState('FIN-WAIT-1');
  });

  test('RFC 6298 §5.4–5.5: the FIN is retransmitted on RTO (200 ms after the instant handshake), doubling', () => {
    const h = fixture('FIN-WAIT-1');
    assert.equal(h.c.rtt.rto, ms(200), 'RTO clamps to tcp_rto_min');
    for (const gap of [200, 400, 800, 1600]) {
      h.advance(ms(gap) - 1);
      h.expectNothing();
      h.advance(1);
      h.expectOne({ flags: 'FA', seq: h.L, ack: h.R, len: 0 });
    }
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
    h.expectState('FIN-WAIT-2');
    assert.equal(h.c.rtt.backoffCount, 4, 'no RTT sample from a retransmitted FIN (Karn): the backoff stays');
  });

  test('orphan: the FIN is retried tcp_orphan_retries times, then the connection is dropped (ETIMEDOUT)', () => {
    const h = fixture('FIN-WAIT-1', { stack: { tcp_orphan_retries: 3 } });
    for (const gap of [200, 400, 800]) {
      h.advance(ms(gap));
      h.expectOne({ flags: 'FA', seq: h.L });
    }
    h.advance(ms(1600) - 1);
    h.expectState('FIN-WAIT-1');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.closed?.error, 'ETIMEDOUT');
  });

  test('orphan with tcp_orphan_retries=0 uses Linux\'s 8 retries', () => {
    const h = fixture('FIN-WAIT-1');
    let n = 0;
    h.advance(sec(200));
    for (const s of h.drain()) { assert.equal(s.flags, 0x11); n++; }
    assert.equal(n, 8);
    h.expectState('CLOSED');
  });
});

describe('FIN-WAIT-2 (RFC 9293 §3.10.7.4)', () => {
  test('seventh, text is still received in FIN-WAIT-2 (half-closed by shutdown(SHUT_WR))', () => {
    const h = fixture('FIN-WAIT-2', { halfClose: true });
    h.send({ flags: 'PA', seq: h.R, ack: h.L + 1, payload: 'still here' });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 10 });
    assert.equal(h.read(), 'still here');
    h.expectState('FIN-WAIT-2');
  });

  test('eighth, FIN → TIME-WAIT, ACK of the FIN, 2·MSL timer', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
    assert.equal(h.c.timeWaitAt, h.now + sec(60));
    assert.equal(h.c.finWait2At, Infinity);
  });

  test('text with FIN (half-closed) → text delivered, TIME-WAIT', () => {
    const h = fixture('FIN-WAIT-2', { halfClose: true });
    h.send({ flags: 'FPA', seq: h.R, ack: h.L + 1, payload: 'end' });
    h.expectOne({ flags: 'A', ack: h.R + 4 });
    h.expectState('TIME-WAIT');
    assert.equal(h.read(), 'end');
    assert.ok(h.has('end'));
  });

  test('TIME-WAIT reached from FIN-WAIT-2 equals the TIME-WAIT fixture', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 });
    h.expectOne({ flags: 'A' });
    assert.deepEqual(snapshot(h.c), snapshot(fixture('TIME-WAIT').c));
  });

  test('RFC 1122 §4.2.2.13: data for an orphan (closed by the user) → RST, CLOSED', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'PA', seq: h.R, ack: h.L + 1, payload: 3 });
    h.expectOne({ flags: 'R', seq: h.L + 1 });
    h.expectState('CLOSED');
  });

  test('shutdown(SHUT_WR) then SHUT_RD: new data in FIN-WAIT-2 is lost as after close → RST <SEQ=SEG.ACK>, ECONNRESET (Linux)', () => {
    const h = fixture('FIN-WAIT-2', { halfClose: true });
    h.c.shutdownRead(h.now);
    h.send({ flags: 'PA', seq: h.R, ack: h.L + 1, payload: 3 });
    h.expectOne({ flags: 'R', seq: h.L + 1 });
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ECONNRESET', cause: 'reset' });
    assert.equal(h.stack.counters.TcpExtTCPAbortOnData, 1);
  });

  test('an orphan lives tcp_fin_timeout (60 s) in FIN-WAIT-2, then vanishes silently (Linux)', () => {
    const h = fixture('FIN-WAIT-2');
    h.advance(sec(60) - 1);
    h.expectState('FIN-WAIT-2');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.closed?.cause, 'fin-wait-2-timeout');
  });

  test('tcp_fin_timeout is a sysctl (5 s here)', () => {
    const h = fixture('FIN-WAIT-2', { stack: { tcp_fin_timeout: 5 } });
    h.advance(sec(5));
    h.expectState('CLOSED');
  });

  test('a half-closed connection (not an orphan) waits in FIN-WAIT-2 without a timer', () => {
    const h = fixture('FIN-WAIT-2', { halfClose: true });
    assert.equal(h.c.nextDeadline(), Infinity);
    h.advance(sec(3600));
    h.expectNothing();
    h.expectState('FIN-WAIT-2');
  });

  test('second, RST = RCV.NXT → CLOSED; RST in window → challenge ACK', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R });
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('fourth, SYN → challenge ACK', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'S', seq: h.R + 1000, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R });
    h.expectState('FIN-WAIT-2');
  });

  test('first, an out-of-window segment → ACK; a duplicate ACK → nothing', () => {
    const h = fixture('FIN-WAIT-2');
    h.send({ flags: 'A', seq: h.R - 100, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
    h.expectNothing();
    h.expectState('FIN-WAIT-2');
  });
});
