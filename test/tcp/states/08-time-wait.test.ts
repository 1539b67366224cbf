// TIME-WAIT: RFC 9293 §3.10.7.4 (retransmitted FIN, RST, SYN) and §3.10.8 (time-wait
// timeout), RFC 6191 (reuse with timestamps), RFC 1122 §4.2.2.13 (reopen from TIME-WAIT).
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, sec, u32 } from './harness.js';

afterEach(finishAll);

describe('TIME-WAIT (RFC 9293 §3.10.7.4, §3.10.8)', () => {
  test('a retransmitted FIN (our last ACK was lost) → ACK it and restart the 2·MSL timeout', () => {
    const h = fixture('TIME-WAIT');
    const first = h.c.timeWaitAt;
    h.advance(sec(50));
    h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
    assert.equal(h.c.timeWaitAt, h.now + sec(60));
    h.advanceTo(first);
    h.expectState('TIME-WAIT');
    h.advance(sec(50) - 1);
    h.expectState('TIME-WAIT');
    h.advance(1);
    h.expectState('CLOSED');
  });

  test('§3.10.8 TIME-WAIT TIMEOUT: after 2·MSL the TCB is deleted silently', () => {
    const h = fixture('TIME-WAIT');
    h.advance(sec(60) - 1);
    h.expectState('TIME-WAIT');
    h.advance(1);
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: null, cause: 'time-wait-done' });
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.stack.counters.TcpExtTW, 1);
  });

  test('tcp_msl sets the length (2·MSL = 2 s with tcp_msl 1)', () => {
    const h = fixture('TIME-WAIT', { stack: { tcp_msl: 1 } });
    h.advance(sec(2));
    h.expectState('CLOSED');
  });

  test('second, RST = RCV.NXT → CLOSED (RFC 9293; the RFC 1337 hazard is accepted, as Linux does by default)', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.equal(h.stack.connectionCount, 0);
  });

  test('second, RST in the window but not RCV.NXT → challenge ACK, TIME-WAIT kept', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'R', seq: h.R + 10 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
  });

  test('fifth, a duplicate ACK is ignored; seventh, text is ignored but acknowledged (fifth "Acknowledge it", as Linux)', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectNothing();
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L + 1, payload: 10 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
    assert.equal(h.c.readable, 0);
  });

  test('an old segment (out of window) → ACK', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'PA', seq: h.R - 50, ack: h.L + 1, payload: 10 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
  });

  test('fourth, a SYN with a lower sequence number (no timestamps) → challenge ACK, TIME-WAIT kept (RFC 5961 §4.2)', () => {
    const h = fixture('TIME-WAIT', { passive: true });
    h.send({ flags: 'S', seq: h.R - 1000, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
  });

  test('RFC 1122 §4.2.2.13 / RFC 6191: a SYN with a higher sequence number reopens from TIME-WAIT; new ISS = old SND.NXT + 65537 (Linux)', () => {
    const h = fixture('TIME-WAIT', { passive: true });
    const old = h.c;
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0 });
    assert.equal(old.state, 'CLOSED');
    assert.equal(old.error, null);
    const fresh = h.only();
    assert.notEqual(fresh, old);
    h.expectOne({ flags: 'SA', seq: h.L + 1 + 65537, ack: h.R + 100001 });
    assert.equal(fresh.state, 'SYN-RECEIVED');
    assert.equal(fresh.iss, u32(h.L + 1 + 65537));
    assert.equal(h.stack.counters.TcpExtTWRecycled, 1);
  });

  test('RFC 6191: with timestamps, a SYN with a higher TSval reopens even with a lower sequence number', () => {
    const h = fixture('TIME-WAIT', { passive: true, peer: { ts: true } });
    const old = h.c;
    h.send({ flags: 'S', seq: h.R - 5000, ack: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: old.tsRecent + 10, ecr: 0 }] });
    h.expectOne({ flags: 'SA', ack: h.R - 4999, ts: { ecr: old.tsRecent + 10 } });
    assert.equal(old.state, 'CLOSED');
    assert.equal(h.only().state, 'SYN-RECEIVED');
  });

  test('RFC 6191: with timestamps, a SYN with an older TSval is not accepted (PAWS) → ACK, TIME-WAIT kept', () => {
    const h = fixture('TIME-WAIT', { passive: true, peer: { ts: true } });
    const old = h.c;
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: old.tsRecent - 10, ecr: 0 }] });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
    assert.equal(h.stack.connectionCount, 1);
  });

  test('a SYN with a higher sequence number and no listener: TIME-WAIT stays and answers with an ACK (Linux TCP_TW_SYN without listener → TCP_TW_ACK)', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
    h.expectState('TIME-WAIT');
  });

  test('§3.10.5 ABORT in TIME-WAIT: "ok", CLOSED, no RST; §3.10.2 SEND: "connection closing"', () => {
    const h = fixture('TIME-WAIT');
    assert.equal(h.write('x'), -1);
    h.c.abort(h.now);
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('TIME-WAIT is reached from CLOSING by the ACK of our FIN and lasts 2·MSL from then', () => {
    const h = fixture('CLOSING');
    h.advance(sec(1));
    h.drain(); // FIN retransmissions while waiting
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.expectState('TIME-WAIT');
    h.advance(sec(60) - 1);
    h.expectState('TIME-WAIT');
    h.advance(1);
    h.expectState('CLOSED');
  });
});
