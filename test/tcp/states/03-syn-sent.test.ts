// SYN-SENT: RFC 9293 §3.10.1 (active OPEN), §3.10.7.3 (SEGMENT ARRIVES), §3.10.4/§3.10.5
// (CLOSE/ABORT), RFC 6298 §2.1/§5.5 (initial RTO and backoff) and Linux tcp_syn_retries.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, peerSynOptions, snapshot, REMOTE_ISN, LOCAL_ISS, sec } from './harness.js';

afterEach(finishAll);

describe('SYN-SENT (RFC 9293 §3.10.7.3)', () => {
  test('§3.10.1 OPEN: <SEQ=ISS><CTL=SYN>, SND.UNA=ISS, SND.NXT=ISS+1, options mss,sackOK,TS,nop,wscale, window unscaled', () => {
    const h = fixture('CLOSED');
    const t = h.stack.connect({ remoteAddr: '10.0.0.2', remotePort: 80, localPort: 49152, iss: LOCAL_ISS });
    h.tcb = t; h.watch(t);
    t.openActive(h.now);
    h.expectOne({ flags: 'S', seq: LOCAL_ISS, ack: 0, win: 64240, options: ['mss', 'sackOK', 'ts', 'nop', 'wscale'], mss: 1460, wscale: 7, ts: { ecr: 0 }, len: 0 });
    assert.equal(t.state, 'SYN-SENT');
    assert.equal(t.sndUna, LOCAL_ISS);
    assert.equal(t.sndNxt, (LOCAL_ISS + 1) >>> 0);
    assert.equal(t.rtoAt, h.now + sec(1), 'RFC 6298 §2.1: initial RTO 1 s');
    assert.equal(h.stack.counters.TcpActiveOpens, 1);
  });

  test('first, ACK bit: SEG.ACK = ISS is unacceptable → <SEQ=SEG.ACK><CTL=RST>, segment discarded', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.iss });
    h.expectOne({ flags: 'R', seq: h.iss, len: 0 });
    h.expectState('SYN-SENT');
    assert.equal(h.c.irs, 0, 'the SYN of a discarded segment is not taken');
  });

  test('first, ACK bit: SEG.ACK < ISS (across the wrap) → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'A', seq: 5, ack: h.iss - 2000 });
    h.expectOne({ flags: 'R', seq: h.iss - 2000 });
    h.expectState('SYN-SENT');
  });

  test('first, ACK bit: SEG.ACK > SND.NXT → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L + 1 });
    h.expectOne({ flags: 'R', seq: h.L + 1 });
    h.expectState('SYN-SENT');
  });

  test('first, ACK bit: unacceptable ACK with RST set → dropped, no reset in reply', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'RA', seq: 0, ack: h.L + 10 });
    h.expectNothing();
    h.expectState('SYN-SENT');
  });

  test('second, RST with an acceptable ACK → "connection reset": CLOSED with ECONNREFUSED, nothing sent', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'RA', seq: 0, ack: h.L });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ECONNREFUSED', cause: 'refused' });
    assert.equal(h.stack.counters.TcpAttemptFails, 1);
    assert.equal(h.has('established'), false);
  });

  test('second, RST without ACK → dropped (RFC 5961 §3.2: in SYN-SENT a RST is acceptable only if it ACKs the SYN)', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'R', seq: REMOTE_ISN + 1, ack: 0 });
    h.expectNothing();
    h.expectState('SYN-SENT');
    assert.equal(h.closed, null);
    assert.notEqual(h.c.rtoAt, Infinity, 'the SYN is still being retransmitted');
  });

  test('fourth, SYN-ACK → ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.WND/WL1/WL2 from the segment', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, win: 5000, options: [{ kind: 'mss', value: 1200 }] });
    h.expectOne({ flags: 'A', seq: h.L, ack: REMOTE_ISN + 1, len: 0, options: [] });
    const t = h.c;
    assert.equal(t.state, 'ESTABLISHED');
    assert.equal(t.irs, REMOTE_ISN);
    assert.equal(t.rcvNxt, h.R);
    assert.equal(t.sndUna, h.L);
    assert.equal(t.sndWnd, 5000);
    assert.equal(t.sndWl1, REMOTE_ISN);
    assert.equal(t.sndWl2, h.L);
    assert.equal(t.mssPeer, 1200);
    assert.equal(t.rtoAt, Infinity, 'RFC 6298 §5.2: everything acknowledged, timer off');
    assert.ok(h.has('established'));
    assert.equal(h.stack.counters.TcpCurrEstab, 1);
  });

  test('ESTABLISHED reached through SYN-SENT equals the ESTABLISHED fixture', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: peerSynOptions(h.peer, 1) });
    h.expectOne({ flags: 'A' });
    const f = fixture('ESTABLISHED');
    assert.deepEqual(snapshot(h.c), snapshot(f.c));
  });

  test('RFC 7323 §2.2: the window of the SYN-ACK is not scaled, even when both offered wscale', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, win: 1000, options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 3 }] });
    h.expectOne({ flags: 'A', win: 502 }); // ours is scaled from here on: ALIGN(64240, 128) >> 7
    assert.equal(h.c.sndWnd, 1000);
    assert.equal(h.c.sndWscale, 3);
  });

  test('fourth, a bare SYN (simultaneous open, Figure 8) → SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SND.WND <- SEG.WND', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, win: 7000, options: [{ kind: 'mss', value: 1460 }] });
    h.expectOne({ flags: 'SA', seq: h.iss, ack: REMOTE_ISN + 1, options: ['mss'] });
    h.expectState('SYN-RECEIVED');
    assert.equal(h.c.sndWnd, 7000);
    assert.equal(h.c.sndWl1, REMOTE_ISN);
    assert.equal(h.c.rcvNxt, h.R);
    assert.equal(h.c.passive, false);
  });

  test('fifth, neither SYN nor RST: an acceptable bare ACK is dropped', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectNothing();
    h.expectState('SYN-SENT');
  });

  test('fifth, neither SYN nor RST: FIN or data without ACK is dropped', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'F', seq: h.R });
    h.send({ flags: 'P', seq: h.R, payload: 20 });
    h.expectNothing();
    h.expectState('SYN-SENT');
    assert.equal(h.c.readable, 0);
  });

  test('an old duplicate SYN-ACK (Figure 9) is answered with <SEQ=SEG.ACK><CTL=RST>; the real SYN-ACK still completes the handshake', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: 90000, ack: h.iss - 5000 });
    h.expectOne({ flags: 'R', seq: h.iss - 5000 });
    h.expectState('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
    assert.equal(h.c.irs, REMOTE_ISN);
  });

  test('SYN-ACK carrying data: continue at the sixth step — data delivered, one ACK covers SYN and data', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, payload: 'hello' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 5 });
    h.expectState('ESTABLISHED');
    assert.equal(h.read(), 'hello');
  });

  test('SYN-ACK carrying FIN: ESTABLISHED then the FIN → CLOSE-WAIT, ACK covers the FIN', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SFA', seq: REMOTE_ISN, ack: h.L, payload: 'x' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 2 });
    h.expectState('CLOSE-WAIT');
    assert.ok(h.has('end'));
    assert.equal(h.read(), 'x');
  });

  test('§3.10.2 SEND in SYN-SENT queues; the data goes out with the handshake\'s ACK', () => {
    const h = fixture('SYN-SENT');
    assert.equal(h.write('queued'), 6);
    h.expectNothing();
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'PA', seq: h.L, ack: h.R, payload: 'queued' });
  });

  test('§3.10.4 CLOSE in SYN-SENT deletes the TCB, nothing sent', () => {
    const h = fixture('SYN-SENT');
    h.close();
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.closed?.error, null);
  });

  test('§3.10.5 ABORT in SYN-SENT deletes the TCB without a RST', () => {
    const h = fixture('SYN-SENT');
    h.c.abort(h.now);
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('RFC 6298 §2.1/§5.5: SYN retransmitted after 1 s, then 2, 4, 8, 16, 32 s; tcp_syn_retries=6 → ETIMEDOUT at 127 s', () => {
    const h = fixture('SYN-SENT');
    const start = h.now;
    let at = 0;
    for (const gap of [1, 2, 4, 8, 16, 32]) {
      h.advance(sec(gap) - 1);
      h.expectNothing();
      h.advance(1);
      at += gap;
      h.expectOne({ flags: 'S', seq: h.iss, ack: 0, options: ['mss', 'sackOK', 'ts', 'nop', 'wscale'] });
      assert.equal(h.now - start, sec(at));
    }
    h.advance(sec(64) - 1);
    h.expectState('SYN-SENT');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.now - start, sec(127));
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
    assert.equal(h.stack.counters.TcpAttemptFails, 1);
  });

  test('tcp_syn_retries=2 → two retransmissions, ETIMEDOUT at 1+2+4 = 7 s', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_syn_retries: 2 } });
    h.advance(sec(1)); h.expectOne({ flags: 'S' });
    h.advance(sec(2)); h.expectOne({ flags: 'S' });
    h.advance(sec(4) - 1); h.expectState('SYN-SENT');
    h.advance(1); h.expectState('CLOSED');
    assert.equal(h.closed?.error, 'ETIMEDOUT');
  });

  test('a SYN-ACK after a retransmitted SYN completes the handshake and resets the backoff', () => {
    const h = fixture('SYN-SENT', { peer: { ts: false } });
    h.advance(sec(1)); h.expectOne({ flags: 'S' });
    h.advance(sec(1));
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A' });
    h.expectState('ESTABLISHED');
    assert.equal(h.c.retransmits, 0);
    assert.equal(h.c.rtt.backoffCount, 0);
    assert.equal(h.c.rtt.hasSample, false, 'RFC 6298 §3 (Karn): no RTT sample from a retransmitted SYN');
  });
});
