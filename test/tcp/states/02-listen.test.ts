// LISTEN: RFC 9293 §3.10.7.2 (the listener's SYN handling and the options of the SYN-ACK).
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, peerSynOptions, REMOTE_ISN, LOCAL_ISS, SERVER_PORT, CLIENT_PORT, sec } from './harness.js';

afterEach(finishAll);

describe('LISTEN (RFC 9293 §3.10.7.2)', () => {
  test('first, an incoming RST is ignored ("could not be valid")', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'R', seq: 100 });
    h.send({ flags: 'RA', seq: 100, ack: 5 });
    h.send({ flags: 'SR', seq: 100 });
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
  });

  test('second, any ACK is bad → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'A', seq: 100, ack: 0xdeadbeef });
    h.expectOne({ flags: 'R', seq: 0xdeadbeef, len: 0, sport: SERVER_PORT, dport: CLIENT_PORT });
    assert.equal(h.stack.connectionCount, 0);
  });

  test('second, a SYN-ACK is checked for ACK before SYN → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'SA', seq: 100, ack: 4242 });
    h.expectOne({ flags: 'R', seq: 4242 });
    assert.equal(h.stack.connectionCount, 0);
  });

  test('third, SYN → <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED, SND.NXT=ISS+1, SND.UNA=ISS', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [{ kind: 'mss', value: 1400 }] });
    const t = h.only();
    h.expectOne({ flags: 'SA', seq: LOCAL_ISS, ack: REMOTE_ISN + 1, win: 64240, options: ['mss'], mss: 1460 });
    assert.equal(t.state, 'SYN-RECEIVED');
    assert.equal(t.irs, REMOTE_ISN);
    assert.equal(t.rcvNxt, (REMOTE_ISN + 1) >>> 0);
    assert.equal(t.sndUna, LOCAL_ISS);
    assert.equal(t.sndNxt, (LOCAL_ISS + 1) >>> 0);
    assert.equal(t.passive, true);
    assert.equal(t.mssPeer, 1400);
    assert.equal(h.listener!.synQueue.size, 1);
    assert.equal(h.listener!.acceptQueue.length, 0);
  });

  test('SYN with MSS, SACK-permitted, timestamps and wscale → SYN-ACK options exactly mss,sackOK,TS,nop,wscale (Linux order), TSecr = SEG.TSval', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: peerSynOptions({ mss: 1460, ts: true, sack: true, ws: 7, win: 65535 }, 0x11223344) });
    h.expectOne({ flags: 'SA', options: ['mss', 'sackOK', 'ts', 'nop', 'wscale'], mss: 1460, wscale: 7, ts: { ecr: 0x11223344 }, win: 65160 });
    const t = h.only();
    assert.equal(t.sackOk, true);
    assert.equal(t.tsOk, true);
    assert.equal(t.wsOk, true);
    assert.equal(t.sndWscale, 7);
    assert.equal(t.tsRecent, 0x11223344);
  });

  test('SYN with timestamps but no SACK → mss,nop,nop,TS,nop,wscale', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: peerSynOptions({ mss: 1460, ts: true, sack: false, ws: 2, win: 65535 }, 1) });
    h.expectOne({ flags: 'SA', options: ['mss', 'nop', 'nop', 'ts', 'nop', 'wscale'] });
  });

  test('SYN with SACK and wscale, no timestamps → mss,nop,nop,sackOK,nop,wscale', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: peerSynOptions({ mss: 1460, ts: false, sack: true, ws: 0, win: 65535 }, 1) });
    h.expectOne({ flags: 'SA', options: ['mss', 'nop', 'nop', 'sackOK', 'nop', 'wscale'], wscale: 7 });
  });

  test('RFC 7323 §1.3/§2.2, RFC 2018 §2: options the SYN did not offer are not sent in the SYN-ACK', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [] });
    h.expectOne({ flags: 'SA', options: ['mss'], wscale: null, ts: false });
    const t = h.only();
    assert.equal(t.wsOk, false);
    assert.equal(t.rcvWscale, 0, 'scaling is in effect only when both sides sent the option');
    assert.equal(t.sackOk, false);
    assert.equal(t.tsOk, false);
  });

  test('RFC 9293 §3.7.1 MUST-15: no MSS option → the peer MSS is 536', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [] });
    h.expectOne({ flags: 'SA' });
    assert.equal(h.only().mssPeer, 536);
    assert.equal(h.only().effMss, 536);
  });

  test('RFC 7323 §2.2: the SYN\'s window is not scaled (SND.WND = SEG.WND)', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, win: 1000, options: [{ kind: 'wscale', shift: 4 }] });
    h.expectOne({ flags: 'SA' });
    assert.equal(h.only().sndWnd, 1000);
  });

  test('SYN carrying data: only the SYN is acknowledged (data on a SYN without TFO is dropped, as Linux does); the retransmitted data is taken after the handshake', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, payload: 'early', options: [{ kind: 'mss', value: 1460 }] });
    h.expectOne({ flags: 'SA', ack: h.R });
    const t = h.only();
    assert.equal(t.readable, 0);
    h.send({ flags: 'PA', seq: h.R, ack: LOCAL_ISS + 1, payload: 'early' });
    h.expectOne({ flags: 'A', seq: LOCAL_ISS + 1, ack: h.R + 5 });
    assert.equal(t.state, 'ESTABLISHED');
    assert.equal(new TextDecoder().decode(t.receive(100, h.now)), 'early');
    assert.equal(h.accepted[0], t);
  });

  test('SYN+FIN is dropped (Linux tcp_rcv_state_process discards it in LISTEN)', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'SF', seq: REMOTE_ISN, ack: 0 });
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
  });

  test('fourth, other text or control without SYN, ACK or RST is dropped', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'F', seq: 5 });
    h.send({ flags: 'P', seq: 5, payload: 10 });
    h.send({ flags: '', seq: 5 });
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
  });

});

describe('LISTEN: queues (RFC 9293 §3.10.7.2 "insufficient resources", Linux backlog)', () => {
  test('two SYNs from different ports: two SYN-RECEIVED connections, each answered', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, sport: 1111 });
    h.expectOne({ flags: 'SA', ack: REMOTE_ISN + 1, dport: 1111 });
    h.send({ flags: 'S', seq: 5000, ack: 0, sport: 2222 });
    h.expectOne({ flags: 'SA', ack: 5001, dport: 2222 });
    assert.equal(h.listener!.synQueue.size, 2);
  });

  test('an unanswered half-open connection is dropped after tcp_synack_retries; the listener stays', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA' });
    h.advance(sec(63) + 1);
    h.drain(); // the SYN-ACK retransmissions are checked in the SYN-RECEIVED tests
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.synQueue.size, 0);
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA' });
  });

  test('Figure 5 LISTEN → CLOSED (CLOSE): the listener goes; half-open children are aborted with <SEQ=SND.NXT><CTL=RST> (§3.10.5), later SYNs get RST,ACK', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'SA' });
    const child = h.only();
    h.stack.closeListener(h.listener!);
    h.expectOne({ flags: 'RA', seq: LOCAL_ISS + 1, ack: REMOTE_ISN + 1 });
    assert.equal(child.state, 'CLOSED');
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.stack.pendingTimers, 0);
    h.send({ flags: 'S', seq: 77, ack: 0 });
    h.expectOne({ flags: 'RA', seq: 0, ack: 78 });
  });
});
