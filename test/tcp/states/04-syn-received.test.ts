// SYN-RECEIVED: RFC 9293 §3.10.7.4 (steps one to eight in SYN-RECEIVED), passive (from a
// listener) and active (simultaneous open, Figure 8); SYN-ACK retransmission (Linux
// tcp_synack_retries).
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, snapshot, REMOTE_ISN, sec, ms } from './harness.js';

afterEach(finishAll);

describe('SYN-RECEIVED (RFC 9293 §3.10.7.4)', () => {
  test('second, RST = RCV.NXT on a passive connection → "return to LISTEN": the half-open connection is gone, nothing sent, user not told', () => {
    const h = fixture('SYN-RECEIVED');
    const t = h.c;
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    assert.equal(t.state, 'CLOSED');
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.synQueue.size, 0);
    assert.equal(h.accepted.length, 0);
    assert.equal(t.error, null);
    // Still listening: the same peer may try again.
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA', ack: h.R });
  });

  test('second, RST in the window but not RCV.NXT → challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 5961 §3.2)', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R, len: 0 });
    h.expectState('SYN-RECEIVED');
  });

  test('second, RST outside the window → silently dropped (RFC 5961 §3.2 (1))', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'R', seq: h.R + 200000 });
    h.send({ flags: 'R', seq: h.R - 1 });
    h.expectNothing();
    h.expectState('SYN-RECEIVED');
  });

  test('second, RST = RCV.NXT on an active (simultaneous-open) connection → "connection refused", CLOSED', () => {
    const h = fixture('SYN-RECEIVED', { simultaneous: true });
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ECONNREFUSED', cause: 'refused' });
  });

  test('a retransmitted SYN (our SYN-ACK was lost) is answered with the SYN-ACK again (Linux tcp_check_req; the RFC\'s bare ACK would not help the peer)', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA', seq: h.iss, ack: h.R });
    h.expectState('SYN-RECEIVED');
    assert.equal(h.stack.connectionCount, 1);
  });

  test('the SYN-ACK resent for a duplicate SYN shares the tcp_invalid_ratelimit budget with the ACKs for unacceptable segments (Linux tcp_check_req, last_oow_ack_time)', () => {
    const h = fixture('SYN-RECEIVED');
    h.advance(ms(200));
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA', seq: h.iss, ack: h.R });
    // Within 500 ms: neither another SYN-ACK for a second duplicate SYN nor an ACK for an
    // unacceptable SYN-ACK (its sequence number lies before RCV.NXT).
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectNothing();
    assert.equal(h.stack.counters.TcpExtTCPACKSkippedSynRecv, 1);
    // 500 ms later the unacceptable SYN-ACK gets its ACK.
    h.advance(ms(500));
    h.expectNothing(); // (the SYN-ACK timer, restarted with its backoff at 200 ms, is due at 2.2 s)
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('SYN-RECEIVED');
  });

  test('fourth, an in-window SYN on a passive connection → "return this connection to the LISTEN state"', () => {
    const h = fixture('SYN-RECEIVED');
    const t = h.c;
    h.send({ flags: 'S', seq: h.R + 10, ack: 0 });
    h.expectNothing();
    assert.equal(t.state, 'CLOSED');
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.synQueue.size, 0);
  });

  test('first, a SYN outside the window is unacceptable → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('SYN-RECEIVED');
  });

  test('fourth, an in-window SYN on an active (simultaneous-open) connection is handled as in synchronized states → challenge ACK', () => {
    const h = fixture('SYN-RECEIVED', { simultaneous: true });
    h.send({ flags: 'S', seq: h.R + 10, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('SYN-RECEIVED');
  });

  test('fifth, ACK off → drop (a bare FIN or data is not taken before the handshake completes)', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'F', seq: h.R });
    h.send({ flags: 'P', seq: h.R, payload: 10 });
    h.expectNothing();
    h.expectState('SYN-RECEIVED');
    assert.equal(h.c.readable, 0);
  });

  test('fifth, SEG.ACK = SND.UNA (not > SND.UNA) → <SEQ=SEG.ACK><CTL=RST>, stay in SYN-RECEIVED', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R, ack: h.iss });
    h.expectOne({ flags: 'R', seq: h.iss });
    h.expectState('SYN-RECEIVED');
  });

  test('fifth, SEG.ACK > SND.NXT → <SEQ=SEG.ACK><CTL=RST>; the right ACK afterwards still completes the handshake', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.expectOne({ flags: 'R', seq: h.L + 100 });
    h.expectState('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    h.expectState('ESTABLISHED');
  });

  test('fifth, SND.UNA < SEG.ACK =< SND.NXT → ESTABLISHED with SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK; queued for accept', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 3000 });
    h.expectNothing();
    const t = h.c;
    assert.equal(t.state, 'ESTABLISHED');
    assert.equal(t.sndUna, h.L);
    assert.equal(t.sndWnd, 3000);
    assert.equal(t.sndWl1, h.R);
    assert.equal(t.sndWl2, h.L);
    assert.equal(t.rtoAt, Infinity);
    assert.deepEqual(h.accepted, [t]);
    assert.ok(h.has('established'));
    assert.equal(h.stack.counters.TcpPassiveOpens, 1);
  });

  test('ESTABLISHED reached from SYN-RECEIVED equals the passive ESTABLISHED fixture', () => {
    const h = fixture('SYN-RECEIVED', { peer: { ts: true, sack: true, ws: 7 } });
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    const f = fixture('ESTABLISHED', { passive: true, peer: { ts: true, sack: true, ws: 7 } });
    assert.deepEqual(snapshot(h.c), snapshot(f.c));
  });

  test('RFC 7323 §2.3: the window of the third segment is scaled by the peer\'s shift', () => {
    const h = fixture('SYN-RECEIVED', { peer: { ws: 2 } });
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.expectNothing();
    assert.equal(h.c.sndWnd, 4000);
  });

  test('ACK with data on the third segment: ESTABLISHED, data delivered and acknowledged', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'GET /' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 5 });
    h.expectState('ESTABLISHED');
    assert.equal(h.read(), 'GET /');
  });

  test('eighth, ACK+FIN on the third segment: ESTABLISHED, then the FIN → CLOSE-WAIT, ACK of the FIN', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
    h.expectState('CLOSE-WAIT');
    assert.ok(h.has('end'));
    assert.deepEqual(h.accepted, [h.c]);
  });

  test('first, a segment outside the window → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, no state change', () => {
    const h = fixture('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R + 100000, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('SYN-RECEIVED');
  });

  test('simultaneous open, Figure 8 line 6: the peer\'s SYN-ACK acknowledging our SYN → ESTABLISHED with no further segment', () => {
    const h = fixture('SYN-RECEIVED', { simultaneous: true });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.ok(h.has('established'));
    assert.equal(h.c.rcvNxt, h.R);
    assert.equal(h.c.sndUna, h.L);
  });

  test('simultaneous open: a bare ACK of our SYN → ESTABLISHED', () => {
    const h = fixture('SYN-RECEIVED', { simultaneous: true });
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.ok(h.has('established'));
  });

  test('§3.10.4 CLOSE in SYN-RECEIVED: the FIN is queued until ESTABLISHED, then sent (FIN-WAIT-1)', () => {
    const h = fixture('SYN-RECEIVED', { simultaneous: true });
    h.close();
    h.expectNothing();
    h.expectState('SYN-RECEIVED');
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'FA', seq: h.L, ack: h.R });
    h.expectState('FIN-WAIT-1');
  });

  test('SYN-ACK retransmitted after 1, 2, 4, 8, 16 s; tcp_synack_retries=5 → the half-open connection is dropped silently at 63 s', () => {
    const h = fixture('SYN-RECEIVED', { peer: { ts: true, sack: true, ws: 7 } });
    const start = h.now;
    let at = 0;
    for (const gap of [1, 2, 4, 8, 16]) {
      h.advance(sec(gap) - 1);
      h.expectNothing();
      h.advance(1);
      at += gap;
      h.expectOne({ flags: 'SA', seq: h.iss, ack: h.R, options: ['mss', 'sackOK', 'ts', 'nop', 'wscale'] });
      assert.equal(h.now - start, sec(at));
    }
    h.advance(sec(32) - 1);
    h.expectState('SYN-RECEIVED');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.synQueue.size, 0);
  });

  test('an ACK after a SYN-ACK retransmission still completes the handshake', () => {
    const h = fixture('SYN-RECEIVED');
    h.advance(sec(1));
    h.expectOne({ flags: 'SA', seq: h.iss });
    h.advance(ms(300));
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.equal(h.c.retransmits, 0);
    assert.equal(h.c.rtt.hasSample, false, 'Karn: no sample from a retransmitted SYN-ACK');
    assert.equal(h.c.rtt.rto, sec(3), 'RFC 6298 §5.7: RTO 3 s once data transmission begins');
  });
});
