// ESTABLISHED, steps six to eight of SEGMENT ARRIVES (RFC 9293 §3.10.7.4): URG, segment
// text (in order, out of order, overlapping, SACK per RFC 2018 §4) and FIN.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, ms, pattern } from './harness.js';

afterEach(finishAll);

/** The peer's byte stream: the segment at stream offset `o` of length `n`. */
const stream = pattern(4096);
const part = (o: number, n: number): Uint8Array => stream.slice(o, o + n);

describe('ESTABLISHED: seventh, segment text (RFC 9293 §3.10.7.4)', () => {
  test('in-order text across 2^32: delivered, RCV.NXT advanced, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const h = fixture('ESTABLISHED');
    assert.ok(h.R > 0xffffff00, 'the peer\'s ISN is just below 2^32');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: part(0, 300) });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 300, len: 0 });
    assert.equal(h.c.rcvNxt, (h.R + 300) >>> 0);
    assert.ok(h.c.rcvNxt < 300, 'RCV.NXT wrapped');
    assert.ok(h.has('readable'));
    assert.deepEqual([...h.c.receive(1000, h.now)], [...part(0, 300)]);
  });

  test('out of order: held, not readable, duplicate ACK at once (RFC 5681 §4.2); the hole filled → one ACK for everything', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: part(10, 10) });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R, sack: [] });
    assert.equal(h.c.readable, 0);
    assert.equal(h.c.rcvBuf.outOfOrderBytes, 10);
    assert.equal(h.has('readable'), false);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: part(0, 10) });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 20 });
    assert.deepEqual([...h.c.receive(100, h.now)], [...part(0, 20)]);
  });

  test('RFC 2018 §4: with SACK negotiated, out-of-order data is reported, newest block first', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true } });
    h.send({ flags: 'PA', seq: h.R + 100, ack: h.L, payload: part(100, 50) });
    h.expectOne({ flags: 'A', ack: h.R, sack: [[h.R + 100, h.R + 150]], options: ['nop', 'nop', 'sack'] });
    h.send({ flags: 'PA', seq: h.R + 300, ack: h.L, payload: part(300, 50) });
    h.expectOne({ flags: 'A', ack: h.R, sack: [[h.R + 300, h.R + 350], [h.R + 100, h.R + 150]] });
    h.send({ flags: 'PA', seq: h.R + 150, ack: h.L, payload: part(150, 50) });
    h.expectOne({ flags: 'A', ack: h.R, sack: [[h.R + 100, h.R + 200], [h.R + 300, h.R + 350]] });
    // The first hole fills: the cumulative ACK covers the first block, which leaves the list.
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: part(0, 100) });
    h.expectOne({ flags: 'A', ack: h.R + 200, sack: [[h.R + 300, h.R + 350]] });
    h.send({ flags: 'PA', seq: h.R + 200, ack: h.L, payload: part(200, 100) });
    h.expectOne({ flags: 'A', ack: h.R + 350, sack: [] });
    assert.deepEqual([...h.c.receive(1000, h.now)], [...part(0, 350)]);
  });

  test('RFC 2018 §3: SACK blocks follow the timestamp (nop,nop,TS,nop,nop,SACK), at most 3 of them', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true, ts: true } });
    for (const o of [100, 200, 300, 400]) {
      h.send({ flags: 'PA', seq: h.R + o, ack: h.L, payload: part(o, 10) });
      h.drain();
    }
    h.send({ flags: 'PA', seq: h.R + 500, ack: h.L, payload: part(500, 10) });
    h.expectOne({ flags: 'A', ack: h.R, options: ['nop', 'nop', 'ts', 'nop', 'nop', 'sack'], sack: [[h.R + 500, h.R + 510], [h.R + 400, h.R + 410], [h.R + 300, h.R + 310]] });
  });

  test('overlapping out-of-order and in-order segments: only new bytes are kept, the stream is exact', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true } });
    h.send({ flags: 'PA', seq: h.R + 20, ack: h.L, payload: part(20, 20) });
    h.expectOne({ flags: 'A', ack: h.R, sack: [[h.R + 20, h.R + 40]] });
    h.send({ flags: 'PA', seq: h.R + 30, ack: h.L, payload: part(30, 20) });
    h.expectOne({ flags: 'A', ack: h.R, sack: [[h.R + 20, h.R + 50]] });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: part(0, 25) });
    h.expectOne({ flags: 'A', ack: h.R + 50, sack: [] });
    h.send({ flags: 'PA', seq: h.R + 45, ack: h.L, payload: part(45, 15) });
    h.expectOne({ flags: 'A', ack: h.R + 60 });
    assert.deepEqual([...h.c.receive(1000, h.now)], [...part(0, 60)]);
  });

  test('without SACK negotiated no SACK option is ever sent', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: false, ts: true } });
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R, options: ['nop', 'nop', 'ts'] });
  });

  test('shutdown(SHUT_RD): further text is still acknowledged, queued and readable (as Linux)', () => {
    const h = fixture('ESTABLISHED');
    h.c.shutdownRead(h.now);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    assert.equal(h.c.readable, 10);
  });
});

describe('ESTABLISHED: sixth, the URG bit (RFC 9293 §3.10.7.4, RFC 6093)', () => {
  test('URG: RCV.UP <- max(RCV.UP, SEG.SEQ+SEG.UP); the urgent byte stays inline in the stream (RFC 6093)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'UPA', seq: h.R, ack: h.L, payload: 'abcdefghij', urg: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    assert.equal(h.c.rcvUp, (h.R + 100) >>> 0);
    assert.equal(h.read(), 'abcdefghij');
    h.send({ flags: 'UPA', seq: h.R + 10, ack: h.L, payload: 'k', urg: 5 });
    h.expectOne({ flags: 'A', ack: h.R + 11 });
    assert.equal(h.c.rcvUp, (h.R + 100) >>> 0, 'a smaller pointer does not move RCV.UP back');
    h.send({ flags: 'UPA', seq: h.R + 11, ack: h.L, payload: 'l', urg: 200 });
    h.expectOne({ flags: 'A', ack: h.R + 12 });
    assert.equal(h.c.rcvUp, (h.R + 211) >>> 0);
  });

  test('an urgent pointer in a segment without URG is ignored', () => {
    const h = fixture('ESTABLISHED');
    const before = h.c.rcvUp;
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc', urg: 2 });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.rcvUp, before);
  });
});

describe('ESTABLISHED: eighth, the FIN bit (RFC 9293 §3.10.7.4)', () => {
  test('FIN → CLOSE-WAIT: RCV.NXT advanced over the FIN, ACK sent, user told "connection closing"', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'FA', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
    h.expectState('CLOSE-WAIT');
    assert.equal(h.c.finReceived, true);
    assert.ok(h.has('end'));
    assert.equal(h.stack.counters.TcpCurrEstab, 1, 'CLOSE-WAIT still counts as established (RFC 1213 tcpCurrEstab)');
  });

  test('text with FIN: the text is delivered first, then "connection closing"; one ACK covers both, after the delayed-ACK time (Linux pingpong)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'FPA', seq: h.R, ack: h.L, payload: 'bye' });
    h.expectNothing();
    h.advance(ms(40) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'A', ack: h.R + 4 });
    h.expectState('CLOSE-WAIT');
    const evs = h.events.map((e) => e.ev);
    assert.ok(evs.indexOf('readable') < evs.indexOf('end'));
    assert.equal(h.read(), 'bye');
  });

  test('a FIN beyond a hole waits: ACK RCV.NXT now, CLOSE-WAIT when the hole fills', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'FPA', seq: h.R + 10, ack: h.L, payload: part(10, 10) });
    h.expectOne({ flags: 'A', ack: h.R });
    h.expectState('ESTABLISHED');
    assert.equal(h.has('end'), false);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: part(0, 10) });
    h.expectOne({ flags: 'A', ack: h.R + 21 });
    h.expectState('CLOSE-WAIT');
    assert.deepEqual([...h.c.receive(100, h.now)], [...part(0, 20)]);
  });

  test('a bare FIN beyond a hole waits for the data before it', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'FA', seq: h.R + 5, ack: h.L });
    h.expectOne({ flags: 'A', ack: h.R });
    h.expectState('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 5 });
    h.expectOne({ flags: 'A', ack: h.R + 6 });
    h.expectState('CLOSE-WAIT');
  });
});

describe('ESTABLISHED: user calls (RFC 9293 §3.10.2–§3.10.5)', () => {
  test('§3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (ACK set, as Linux), CLOSED, queues flushed', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.c.abort(h.now);
    h.expectOne({ flags: 'RA', seq: h.L + 100, ack: h.R, len: 0 });
    h.expectState('CLOSED');
    assert.equal(h.c.sndBuf.length, 0);
  });

  test('CLOSE with unread received data → RST instead of FIN (RFC 2525 §2.17, RFC 1122 §4.2.2.13)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.close();
    h.expectOne({ flags: 'RA', seq: h.L, ack: h.R + 10 });
    h.expectState('CLOSED');
    assert.equal(h.stack.counters.TcpExtTCPAbortOnClose, 1);
  });

  test('§3.10.2 SEND returns what fits the send buffer; the rest waits for onWritable', () => {
    const h = fixture('ESTABLISHED', { sndBuf: 4096 });
    assert.equal(h.write(10000), 4096);
    h.drain();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    h.drain();
    assert.ok(h.has('writable'));
    assert.equal(h.c.sendSpace, 2920);
  });
});
