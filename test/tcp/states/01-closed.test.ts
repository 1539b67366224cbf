// CLOSED: RFC 9293 §3.10.7.1 — a segment for no connection gets a RST unless it is one.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, REMOTE_ISN, SERVER_PORT, CLIENT_PORT } from './harness.js';

afterEach(finishAll);

describe('CLOSED (RFC 9293 §3.10.7.1)', () => {
  test('SYN to a port with no socket: ACK off → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN counts in SEG.LEN)', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0 });
    h.expectOne({ flags: 'RA', seq: 0, ack: REMOTE_ISN + 1, win: 0, len: 0, options: [], sport: CLIENT_PORT, dport: SERVER_PORT });
    assert.equal(h.stack.counters.TcpOutRsts, 1);
    assert.equal(h.stack.connectionCount, 0);
  });

  test('ACK off, data and FIN: SEG.LEN counts payload and FIN, and the ACK wraps mod 2^32', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'F', seq: 0xfffffffa, payload: 10 });
    h.expectOne({ flags: 'RA', seq: 0, ack: 0xfffffffa + 11 });
  });

  test('ACK off, no flags at all, no data: RST,ACK with ACK=SEG.SEQ', () => {
    const h = fixture('CLOSED');
    h.send({ flags: '', seq: 12345 });
    h.expectOne({ flags: 'RA', seq: 0, ack: 12345 });
  });

  test('ACK on → <SEQ=SEG.ACK><CTL=RST> (no ACK bit on the reset)', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'A', seq: 1000, ack: 0xfffffff0, payload: 20 });
    h.expectOne({ flags: 'R', seq: 0xfffffff0, len: 0 });
  });

  test('SYN-ACK for no connection (ACK on) → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: 777 });
    h.expectOne({ flags: 'R', seq: 777 });
  });

  test('FIN,ACK for no connection → <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'FA', seq: 5, ack: 6 });
    h.expectOne({ flags: 'R', seq: 6 });
  });

  test('an incoming RST is discarded (no RST in reply)', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'R', seq: 1 });
    h.send({ flags: 'RA', seq: 1, ack: 2 });
    h.expectNothing();
    assert.equal(h.stack.counters.TcpOutRsts, 0);
  });

  test('a timestamp on the offending segment does not change the reset (RST carries no options)', () => {
    const h = fixture('CLOSED');
    h.send({ flags: 'S', seq: 9, ack: 0, ts: { val: 5, ecr: 0 } });
    h.expectOne({ flags: 'RA', seq: 0, ack: 10, options: [] });
  });

  test('after a connection reached CLOSED (reset), its next segment is answered like any CLOSED segment', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    h.expectState('CLOSED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 5 });
    h.expectOne({ flags: 'R', seq: h.L });
    h.send({ flags: 'P', seq: h.R, payload: 5 });
    h.expectOne({ flags: 'RA', seq: 0, ack: h.R + 5 });
  });
});
