// ESTABLISHED, the checks of SEGMENT ARRIVES (RFC 9293 §3.10.7.4 steps one to five):
// sequence acceptability (Table 6), RST (RFC 5961 §3), SYN (RFC 5961 §4), ACK (RFC 5961 §5
// and the fifth step), and the send-window update rule with SND.WL1/SND.WL2.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, REMOTE_ISN, ms, sec, type Harness } from './harness.js';

afterEach(finishAll);

/** ESTABLISHED with a 1000-byte receive buffer that the peer has filled: RCV.WND = 0. */
function zeroWindow(): Harness {
  const h = fixture('ESTABLISHED', { rcvBuf: 1000 });
  h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1000 });
  h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1000, win: 0 });
  assert.equal(h.c.status().rcvWnd, 0);
  return h;
}

describe('ESTABLISHED: first, sequence number acceptability (RFC 9293 §3.10.7.4, Table 6)', () => {
  test('length 0, window 0: SEG.SEQ = RCV.NXT is acceptable (its ACK and window are used)', () => {
    const h = zeroWindow();
    h.send({ flags: 'A', seq: h.R + 1000, ack: h.L, win: 500 });
    h.expectNothing();
    assert.equal(h.c.sndWnd, 500);
  });

  test('length 0, window 0: SEG.SEQ = RCV.NXT+1 is not acceptable → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const h = zeroWindow();
    h.send({ flags: 'A', seq: h.R + 1001, ack: h.L, win: 500 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1000, win: 0 });
    assert.equal(h.c.sndWnd, 65535, 'an unacceptable segment does not update the window');
  });

  test('length 0, window 0: SEG.SEQ = RCV.NXT-1 (a zero-window probe) is not acceptable → ACK with the current window', () => {
    const h = zeroWindow();
    h.send({ flags: 'A', seq: h.R + 999, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1000, win: 0 });
  });

  test('length > 0, window 0: not acceptable → ACK, the text is dropped, but the ACK field is still used ("special allowance … valid ACKs")', () => {
    const h = zeroWindow();
    h.write('ping');
    h.expectOne({ flags: 'PA', seq: h.L, len: 4 });
    h.send({ flags: 'PA', seq: h.R + 1000, ack: h.L + 4, payload: 1 });
    h.expectOne({ flags: 'A', seq: h.L + 4, ack: h.R + 1000, win: 0 });
    assert.equal(h.c.sndUna, (h.L + 4) >>> 0);
    assert.equal(h.c.readable, 1000);
  });

  test('length > 0, window 0: a FIN at RCV.NXT is not acceptable either → ACK, stay ESTABLISHED', () => {
    const h = zeroWindow();
    h.send({ flags: 'FA', seq: h.R + 1000, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1000, win: 0 });
    h.expectState('ESTABLISHED');
  });

  test('length 0, window > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND — both edges', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.send({ flags: 'A', seq: h.R + 64239, ack: h.L }); // RCV.WND = 64240, the SYN-ACK's offer
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R - 1, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.advance(ms(500)); // past the out-of-window ACK rate limit (next test)
    h.send({ flags: 'A', seq: h.R + 64241, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
  });

  test('replies to unacceptable bare ACKs are limited to one per tcp_invalid_ratelimit (500 ms, Linux tcp_oow_rate_limited: no ACK storm); data is always answered', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R - 1, ack: h.L });
    h.expectOne({ flags: 'A', ack: h.R });
    h.send({ flags: 'A', seq: h.R - 1, ack: h.L });
    h.expectNothing();
    h.send({ flags: 'PA', seq: h.R - 5, ack: h.L, payload: 5 });
    h.expectOne({ flags: 'A', ack: h.R });
    h.advance(ms(500) - 1);
    h.send({ flags: 'A', seq: h.R - 1, ack: h.L });
    h.expectNothing();
    h.advance(1);
    h.send({ flags: 'A', seq: h.R - 1, ack: h.L });
    h.expectOne({ flags: 'A', ack: h.R });
  });

  test('a bare ACK exactly at RCV.NXT+RCV.WND is accepted (deliberate deviation from Table 6, as Linux tcp_sequence: !after(seq, rcv_nxt + wnd))', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R + 64240, ack: h.L, win: 1234 });
    h.expectNothing();
    assert.equal(h.c.sndWnd, 1234);
  });

  test('length > 0, window > 0: the first byte in the window is acceptable', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
    assert.equal(h.read(), 'abc');
  });

  test('length > 0, window > 0: an old start but the last byte in the window is acceptable; only the new part is processed', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L, payload: 'bcdef' });
    h.expectOne({ flags: 'A', ack: h.R + 6 });
    assert.equal(h.read(), 'abcdef');
  });

  test('length > 0, window > 0: entirely before RCV.NXT (an old duplicate) → ACK at once, nothing delivered again', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
    assert.equal(h.read(), 'abc');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 3 });
    assert.equal(h.c.readable, 0);
  });

  test('length > 0, window > 0: starting at RCV.NXT+RCV.WND → not acceptable, ACK, not stored', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R + 64240, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    assert.equal(h.c.rcvBuf.outOfOrderBytes, 0);
  });

  test('a segment that does not fit the buffer is trimmed to the window', () => {
    const h = fixture('ESTABLISHED', { rcvBuf: 1000 });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1500 });
    h.expectOne({ flags: 'A', ack: h.R + 1000, win: 0 });
    assert.equal(h.c.readable, 1000);
  });
});

describe('ESTABLISHED: second, the RST bit (RFC 5961 §3.2, RFC 9293 §3.10.7.4)', () => {
  test('RST with SEG.SEQ = RCV.NXT → "connection reset": CLOSED with ECONNRESET, nothing sent', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R });
    h.expectNothing();
    h.expectState('CLOSED');
    assert.deepEqual(h.closed, { error: 'ECONNRESET', cause: 'reset' });
    assert.equal(h.stack.counters.TcpEstabResets, 1);
    assert.equal(h.stack.counters.TcpCurrEstab, 0);
  });

  test('RST,ACK with SEG.SEQ = RCV.NXT resets whatever its ACK field (RST is checked before ACK)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'RA', seq: h.R, ack: h.L + 999999 });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('RST in the window but not RCV.NXT → challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, connection kept', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R + 1 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R, len: 0 });
    h.advance(ms(500)); // past the per-connection challenge-ACK rate limit (RFC 5961 §7 test below)
    h.send({ flags: 'R', seq: h.R + 64239 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
    assert.equal(h.stack.counters.TcpExtTCPChallengeACK, 2);
  });

  test('RST outside the window → silently dropped', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R + 64240 });
    h.send({ flags: 'R', seq: h.R - 1 });
    h.send({ flags: 'R', seq: h.R + 0x80000000 });
    h.expectNothing();
    h.expectState('ESTABLISHED');
  });

  test('RST = RCV.NXT is accepted in a zero window ("special allowance … RSTs")', () => {
    const h = zeroWindow();
    h.send({ flags: 'R', seq: h.R + 1000 });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('RST = RCV.NXT+1 in a zero window is outside the window → dropped silently', () => {
    const h = zeroWindow();
    h.send({ flags: 'R', seq: h.R + 1001 });
    h.expectNothing();
    h.expectState('ESTABLISHED');
  });

  test('RFC 5961 §7: challenge ACKs are throttled per connection (tcp_invalid_ratelimit 500 ms, as Linux)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R + 1 }); h.expectOne({ flags: 'A' });
    h.send({ flags: 'R', seq: h.R + 2 }); h.expectNothing();
    h.send({ flags: 'S', seq: h.R + 3 }); h.expectNothing();
    h.advance(ms(499));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 5000 }); h.expectNothing(); // ACK of unsent data (§5.2)
    h.advance(ms(1));
    h.send({ flags: 'R', seq: h.R + 4 }); h.expectOne({ flags: 'A', ack: h.R });
    h.expectState('ESTABLISHED');
    assert.equal(h.stack.counters.TcpExtTCPChallengeACK, 2);
    assert.equal(h.stack.counters.TcpExtTCPACKSkippedChallenge, 3);
  });

  test('RFC 5961 §7: the stack-wide budget still applies on top (tcp_challenge_ack_limit 0: none at all)', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_challenge_ack_limit: 0 } });
    h.send({ flags: 'R', seq: h.R + 1 }); h.expectNothing();
    h.advance(sec(1));
    h.send({ flags: 'S', seq: h.R + 3 }); h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.equal(h.stack.counters.TcpExtTCPChallengeACK, 0);
  });

  test('a SYN failing PAWS is answered like any SYN: a challenge ACK, at most one per 500 ms', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    let answered = 0;
    for (let i = 0; i < 1000; i++) {
      h.send({ flags: 'S', seq: h.R, ack: 0, ts: { val: 1, ecr: 0 } }); // TSval far older than TS.Recent
      answered += h.drain().length;
      h.advance(ms(10));
      answered += h.drain().length;
    }
    // 10 s of SYNs every 10 ms: at most one answer per 500 ms (Linux: 2 per 1,000 here).
    assert.ok(answered >= 19 && answered <= 21, `${answered} answers to 1000 PAWS-failing SYNs`);
    h.expectState('ESTABLISHED');
  });
});

describe('ESTABLISHED: fourth, the SYN bit (RFC 5961 §4.2)', () => {
  test('SYN in the window → challenge ACK, connection kept, no data taken', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'S', seq: h.R + 100, ack: 0, payload: 5 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
    assert.equal(h.c.rcvBuf.outOfOrderBytes, 0);
    assert.equal(h.stack.counters.TcpExtTCPSYNChallenge, 1);
  });

  test('SYN exactly at RCV.NXT → challenge ACK (never a reset)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'S', seq: h.R, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
  });

  test('SYN outside the window → challenge ACK "irrespective of the sequence number"', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'S', seq: 12345, ack: 0 });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
  });

  test('a retransmitted SYN-ACK (our ACK was lost) → ACK again', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    h.expectState('ESTABLISHED');
  });
});

describe('ESTABLISHED: fifth, the ACK field (RFC 9293 §3.10.7.4, RFC 5961 §5.2)', () => {
  test('ACK bit off → the segment is dropped (its data is not taken)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'P', seq: h.R, payload: 10 });
    h.expectNothing();
    assert.equal(h.c.readable, 0);
    assert.equal(h.c.rcvNxt, h.R);
  });

  test('SEG.ACK > SND.NXT (acks something not yet sent) → send an ACK, drop the segment', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L + 1, payload: 'xyz' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    assert.equal(h.c.readable, 0);
    assert.equal(h.c.sndUna, h.L);
  });

  test('SEG.ACK < SND.UNA - MAX.SND.WND (too old) → discarded and an ACK sent back', () => {
    const h = fixture('ESTABLISHED');
    assert.equal(h.c.maxSndWnd, 65535);
    h.send({ flags: 'PA', seq: h.R, ack: h.L - 65536, payload: 'xyz' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
    assert.equal(h.c.readable, 0);
  });

  test('SND.UNA - MAX.SND.WND =< SEG.ACK < SND.UNA (a duplicate) is acceptable: the text is processed', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L - 65535, payload: 'xyz' });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 3 });
    assert.equal(h.read(), 'xyz');
    assert.equal(h.c.sndUna, h.L);
  });

  test('SND.UNA < SEG.ACK =< SND.NXT: SND.UNA advances, acknowledged data leaves the buffer, the RTO restarts, then stops', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
    const t = h.c;
    assert.notEqual(t.rtoAt, Infinity);
    h.advance(50_000);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 40 });
    h.expectNothing();
    assert.equal(t.sndUna, (h.L + 40) >>> 0);
    assert.equal(t.sndBuf.length, 60);
    assert.equal(t.rtoAt, h.now + t.rtt.rto, 'RFC 6298 §5.3: restart the timer on an ACK of new data');
    assert.ok(h.has('writable'));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.expectNothing();
    assert.equal(t.sndBuf.length, 0);
    assert.equal(t.rtoAt, Infinity, 'RFC 6298 §5.2: all data acknowledged, timer off');
  });

  test('our data crosses 2^32: segments and cumulative ACKs wrap', () => {
    const h = fixture('ESTABLISHED');
    assert.ok(h.L > 0xfffff000, 'our ISS is just below 2^32');
    h.write(3000);
    // Two full segments and the 80-byte tail (Nagle with Minshall's modification does not
    // hold a small segment behind full-sized ones, RFC 9293 Appendix A.3).
    h.expectOut([
      { flags: 'A', seq: h.L, len: 1460 },
      { flags: 'A', seq: h.L + 1460, len: 1460 },
      { flags: 'PA', seq: h.L + 2920, len: 80 },
    ]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 3000 });
    h.expectNothing();
    assert.equal(h.c.sndUna, (h.L + 3000) >>> 0);
    assert.ok(h.c.sndUna < 0x1000);
  });
});

describe('ESTABLISHED: send window update (RFC 9293 §3.10.7.4 fifth step, SND.WL1/SND.WL2)', () => {
  test('SND.WL1 < SEG.SEQ → SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, win: 2000, payload: 1 });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.sndWnd, 2000);
    assert.equal(h.c.sndWl1, h.R);
    assert.equal(h.c.sndWl2, h.L);
  });

  test('SND.WL1 > SEG.SEQ (an older segment arriving late) → the window is not updated', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, win: 3000, payload: 10 }); // out of order, newer
    h.expectOne({ flags: 'A', ack: h.R });
    assert.equal(h.c.sndWnd, 3000);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, win: 5000, payload: 10 }); // older, fills the hole
    h.expectOne({ flags: 'A', ack: h.R + 20 });
    assert.equal(h.c.sndWnd, 3000);
    assert.equal(h.c.sndWl1, (h.R + 10) >>> 0);
  });

  test('SND.WL1 = SEG.SEQ and SND.WL2 < SEG.ACK → updated, even shrinking', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 50, win: 4000 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100, win: 1000 });
    h.expectNothing();
    assert.equal(h.c.sndWnd, 1000);
    assert.equal(h.c.sndWl2, (h.L + 100) >>> 0);
  });

  test('SND.WL1 = SEG.SEQ and SND.WL2 = SEG.ACK: a larger window or zero is taken, a smaller one ignored (deliberate deviation, as Linux tcp_may_update_window: a reordered old update must not pull the edge back)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 4000 });
    assert.equal(h.c.sndWnd, 4000);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    assert.equal(h.c.sndWnd, 4000);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 6000 });
    assert.equal(h.c.sndWnd, 6000);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    assert.equal(h.c.sndWnd, 0);
    h.expectNothing();
  });

  test('SND.WL1 = SEG.SEQ and SEG.ACK < SND.WL2 → not updated (an old ACK reordered)', () => {
    const h = fixture('ESTABLISHED');
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100, win: 4000 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 50, win: 9000 });
    h.expectNothing();
    assert.equal(h.c.sndWnd, 4000);
    assert.equal(h.c.sndWl2, (h.L + 100) >>> 0);
  });

  test('RFC 7323 §2.3: SEG.WND is shifted by the peer\'s window scale; MAX.SND.WND tracks the largest', () => {
    const h = fixture('ESTABLISHED', { peer: { ws: 3 } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, win: 20000, payload: 1 });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.sndWnd, 160000);
    assert.equal(h.c.maxSndWnd, 160000);
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L, win: 100 });
    assert.equal(h.c.sndWnd, 800);
    assert.equal(h.c.maxSndWnd, 160000);
  });

  test('the peer\'s window limits what is sent; an ACK that opens it releases the rest', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 3000 });
    h.write(4000);
    h.expectOut([{ flags: 'A', seq: h.L, len: 1460 }, { flags: 'A', seq: h.L + 1460, len: 1460 }]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920, win: 3000 });
    h.expectOne({ flags: 'PA', seq: h.L + 2920, len: 1080 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 4000, win: 3000 });
    h.expectNothing();
  });
});
