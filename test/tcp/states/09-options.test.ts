// Options on every state's segments: MSS (RFC 9293 §3.7.1, RFC 6691), window scale
// (RFC 7323 §2), timestamps with TS.Recent (RFC 7323 §3, §4.3) and PAWS (RFC 7323 §5), and
// the Linux option layouts.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, REMOTE_ISN, LOCAL_ISS, ms, u32 } from './harness.js';
import { initialWindowScale } from '../../../src/stack/options.js';

afterEach(finishAll);

/** A fresh active connection's SYN (to look at its options), and the harness. */
function freshSyn(opts: Parameters<typeof fixture>[1] = {}) {
  const h = fixture('CLOSED', opts);
  const t = h.stack.connect({ remoteAddr: '10.0.0.2', remotePort: 80, localPort: 49152, iss: LOCAL_ISS });
  h.tcb = t;
  t.openActive(h.now);
  const [syn] = h.expectOut([{ flags: 'S' }]);
  return { h, syn: syn! };
}

const optOf = <K extends string>(s: { options: Array<{ kind: string }> }, kind: K) => s.options.find((o) => o.kind === kind) as Record<string, number> | undefined;

describe('options: MSS (RFC 9293 §3.7.1, RFC 6691)', () => {
  test('we announce MSS = MTU − 40 (1500 → 1460, 9000 → 8960, 576 → 536)', () => {
    for (const [mtu, mss] of [[1500, 1460], [9000, 8960], [576, 536]] as const) {
      const { syn } = freshSyn({ mtu });
      assert.equal(optOf(syn, 'mss')?.value, mss, `MTU ${mtu}`);
    }
  });

  test('MUST-15: a peer without an MSS option gets 536-byte segments', () => {
    const h = fixture('ESTABLISHED', { peer: { mss: null } });
    assert.equal(h.c.effMss, 536);
    h.write(1200);
    h.expectOut([{ flags: 'A', seq: h.L, len: 536 }, { flags: 'A', seq: h.L + 536, len: 536 }, { flags: 'PA', seq: h.L + 1072, len: 128 }]);
  });

  test('the peer\'s MSS bounds our segments (1000 here)', () => {
    const h = fixture('ESTABLISHED', { peer: { mss: 1000 } });
    h.write(2000);
    h.expectOut([{ flags: 'A', len: 1000 }, { flags: 'PA', len: 1000 }]);
  });

  test('a peer MSS above ours is limited by our MTU (min of both)', () => {
    const h = fixture('ESTABLISHED', { peer: { mss: 9000 } });
    h.write(3000);
    h.expectOut([{ flags: 'A', len: 1460 }, { flags: 'A', len: 1460 }, { flags: 'PA', len: 80 }]);
  });

  test('RFC 6691 §3: with timestamps every segment carries 12 option bytes → 1448-byte payloads', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    assert.equal(h.c.effMss, 1448);
    h.write(2896);
    h.expectOut([{ flags: 'A', len: 1448, options: ['nop', 'nop', 'ts'] }, { flags: 'PA', len: 1448, options: ['nop', 'nop', 'ts'] }]);
  });
});

describe('options: window scale (RFC 7323 §2)', () => {
  test('the shift comes from the largest receive buffer (tcp_rmem[2] 6 MiB → 7, 1 MiB → 5, 64 KiB → 2: rmem_max 212992 is larger)', () => {
    for (const [max, ws] of [[6291456, 7], [1 << 20, 5], [65535, 2]] as const) {
      const { syn } = freshSyn({ stack: { tcp_rmem: [4096, Math.min(65535, max), max] } });
      assert.equal(optOf(syn, 'wscale')?.shift, ws, `tcp_rmem[2]=${max}`);
    }
  });

  test('Linux tcp_select_initial_window: ilog2(max(buffer, tcp_rmem[2], rmem_max)) − 15; a fixed SO_RCVBUF is its own limit', () => {
    const cases: Array<[number, number, number]> = [
      // [tcp_rmem[2], rmem_max, shift]
      [262144, 212992, 3], [262144, 4194304, 7], [65535, 65535, 0],
      // Between 65535·2^k and 65536·2^k: k (ilog2), not k + 1 (rounding up).
      [65536 * 64 - 1, 212992, 6], [65536 * 64, 212992, 7],
      [2 ** 31, 212992, 14],
    ];
    for (const [rmem2, rmemMax, ws] of cases) {
      const { syn } = freshSyn({ stack: { tcp_rmem: [4096, 65535, rmem2], rmem_max: rmemMax } });
      assert.equal(optOf(syn, 'wscale')?.shift, ws, `tcp_rmem[2]=${rmem2} rmem_max=${rmemMax}`);
    }
    assert.equal(initialWindowScale({ tcp_rmem: [4096, 131072, 6291456], rmem_max: 4194304 }, 200000, true), 2);
    assert.equal(initialWindowScale({ tcp_rmem: [4096, 131072, 6291456], rmem_max: 4194304 }, 60000, true), 0);
    assert.equal(initialWindowScale({ tcp_rmem: [4096, 131072, 6291456], rmem_max: 4194304 }, 131072, false), 7);
  });

  test('§2.3: the shift is clamped to 14', () => {
    const { syn } = freshSyn({ stack: { tcp_rmem: [4096, 131072, 2 ** 31] } });
    assert.equal(optOf(syn, 'wscale')?.shift, 14);
  });

  test('§2.3: a peer shift above 14 is used as 14', () => {
    const h = fixture('ESTABLISHED', { peer: { ws: 15 } });
    assert.equal(h.c.sndWscale, 14);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1 });
    assert.equal(h.c.sndWnd, 1 << 14);
  });

  test('§2.2: our SYN\'s window is not scaled: min(buffer, 65535) though the buffer is 128 KiB, in whole segments (Linux: 44 × 1460)', () => {
    const { h, syn } = freshSyn();
    assert.equal(h.c.rcvBuf.capacity, 131072);
    assert.equal(syn.win, 64240);
    assert.equal(optOf(syn, 'wscale')?.shift, 7);
  });

  test('after the handshake our window field is scaled: the SYN offered 64240, announced as 502 (ALIGN(64240, 128) >> 7, Linux\'s "win 502")', () => {
    const h = fixture('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
    h.expectOne({ flags: 'A', win: 502 });
    assert.equal(h.c.rcvAdv, (h.R + 64256) >>> 0);
    // Data of 128 bytes or more grows the offer by 2 × MSS (Linux tcp_grow_window): 64240 + 2920 → ALIGN → 525.
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1460 });
    h.expectOne({ flags: 'A', ack: h.R + 1460, win: 525 });
  });

  test('§2.4: a window bounded by the buffer alone may retract by less than one unit (1 unread byte → 1023)', () => {
    const h = fixture('SYN-SENT');
    h.c.rcvSsthresh = Infinity; // no rcv_ssthresh bound: the buffer (131072) is the window
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
    h.expectOne({ flags: 'A', win: 1024 });
    assert.equal(h.c.rcvAdv, (h.R + 131072) >>> 0);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1 });
    h.expectOne({ flags: 'A', ack: h.R + 1, win: 1023 });
    assert.equal(h.c.rcvAdv, (h.R + 131072) >>> 0, 'the recorded right edge does not move left');
  });

  test('no wscale from the peer → neither side scales; our window field is capped at 65535', () => {
    const h = fixture('ESTABLISHED');
    assert.equal(h.c.rcvWscale, 0);
    assert.equal(h.c.sndWscale, 0);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1 });
    // The initial 64240 less the unread byte: the right edge holds (Linux announces the same;
    // measured with opt-wscale-none.pkt: 64140 after 100 bytes).
    h.expectOne({ flags: 'A', win: 64239 });
    h.c.rcvSsthresh = Infinity; // bounded by the buffer alone, the field still caps at 65535
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L, payload: 1460 });
    h.expectOne({ flags: 'A', win: 65535 });
  });

  test('SYN layouts with options disabled: no SACK → mss,nop,nop,TS,nop,wscale; no TS → mss,nop,nop,sackOK,nop,wscale; no wscale → mss,sackOK,TS', () => {
    const cases: Array<[Record<string, number>, string[]]> = [
      [{ tcp_sack: 0 }, ['mss', 'nop', 'nop', 'ts', 'nop', 'wscale']],
      [{ tcp_timestamps: 0 }, ['mss', 'nop', 'nop', 'sackOK', 'nop', 'wscale']],
      [{ tcp_window_scaling: 0 }, ['mss', 'sackOK', 'ts']],
      [{ tcp_window_scaling: 0, tcp_sack: 0, tcp_timestamps: 0 }, ['mss']],
    ];
    for (const [stack, layout] of cases) {
      const { syn } = freshSyn({ stack });
      assert.deepEqual(syn.options.map((o) => o.kind), layout, JSON.stringify(stack));
    }
  });
});

describe('options: timestamps, TS.Recent and PAWS (RFC 7323 §3–§5)', () => {
  test('§3.2: once negotiated every segment carries nop,nop,TS; TSval is a 1 ms clock', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1 });
    const a = h.expectOne({ flags: 'A', options: ['nop', 'nop', 'ts'] });
    h.advance(ms(250));
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L, payload: 1 });
    const b = h.expectOne({ flags: 'A', options: ['nop', 'nop', 'ts'] });
    const tv = (s: typeof a) => (s.options.find((o) => o.kind === 'ts') as { val: number }).val;
    assert.equal(u32(tv(b) - tv(a)), 250);
  });

  test('our SYN carries TSecr 0; a SYN-ACK\'s TSecr echoes the SYN\'s TSval', () => {
    const h = fixture('SYN-SENT', { peer: { ts: true } });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: 999, ecr: h.lastTsVal }] });
    h.expectOne({ flags: 'A', ts: { ecr: 999 } });
    assert.equal(h.c.tsOk, true);
  });

  test('§4.3 (2)/(3): SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent → TS.Recent = SEG.TSval, echoed in TSecr', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 5000 } });
    h.expectOne({ flags: 'A', ack: h.R + 10, ts: { ecr: P + 5000 } });
    assert.equal(h.c.tsRecent, P + 5000);
  });

  test('§4.3 (A) delayed ACKs: the TSval of the earliest unacknowledged segment is echoed', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true }, stack: { tcp_quickack_segments: 0 } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'A', seq: h.R, ack: h.L, payload: 1448, ts: { val: P + 100 } });
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R + 1448, ack: h.L, payload: 1448, ts: { val: P + 101 } });
    h.expectOne({ flags: 'A', ack: h.R + 2896, ts: { ecr: P + 100 } });
  });

  test('§4.3 (B)/(C): out-of-order data echoes the last in-order TSval; the hole filler\'s TSval is echoed', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 1 } });
    h.expectOne({ flags: 'A', ack: h.R + 10, ts: { ecr: P + 1 } });
    h.send({ flags: 'PA', seq: h.R + 20, ack: h.L, payload: 10, ts: { val: P + 3 } });
    h.expectOne({ flags: 'A', ack: h.R + 10, ts: { ecr: P + 1 } });
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 2 } });
    h.expectOne({ flags: 'A', ack: h.R + 30, ts: { ecr: P + 2 } });
  });

  test('§5.3 R1 (PAWS): SEG.TSval < TS.Recent → not acceptable: ACK sent, segment dropped', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 5000 } });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    // Two ticks old (was P + 4999): one tick below TS.Recent is now tolerated, as Linux
    // (TCP_PAWS_WINDOW = 1, see the next test).
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 4998 } });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 10, ts: { ecr: P + 5000 } });
    assert.equal(h.c.readable, 10);
    assert.equal(h.stack.counters.TcpExtPAWSEstab, 1);
  });

  test('Linux TCP_PAWS_WINDOW = 1: TSval = TS.Recent − 1 is accepted, TS.Recent − 2 is dropped', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 5000 } });
    h.expectOne({ flags: 'A', ack: h.R + 10, ts: { ecr: P + 5000 } });
    // One tick older (tcp_paws_check: (s32)(ts_recent − tsval) <= 1): accepted, and TS.Recent
    // does not move backwards (§4.3 (2) only takes a TSval >= TS.Recent).
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 4999 } });
    h.expectOne({ flags: 'A', ack: h.R + 20, ts: { ecr: P + 5000 } });
    assert.equal(h.c.readable, 20);
    assert.equal(h.c.tsRecent, u32(P + 5000));
    assert.equal(h.stack.counters.TcpExtPAWSEstab, 0);
    // Two ticks older: an old duplicate (RFC 7323 §5.3 R1): ACK, dropped.
    h.send({ flags: 'PA', seq: h.R + 20, ack: h.L, payload: 10, ts: { val: P + 4998 } });
    h.expectOne({ flags: 'A', ack: h.R + 20, ts: { ecr: P + 5000 } });
    assert.equal(h.c.readable, 20);
    assert.equal(h.stack.counters.TcpExtPAWSEstab, 1);
  });

  test('PAWS tolerance across the 2^32 wrap: TS.Recent = 0 accepts TSval 0xffffffff, drops 0xfffffffe', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    // Walk TS.Recent up to the wrap in steps of less than 2^31 (as the §5.2 wrap test does).
    let seq = h.R;
    for (const val of [0xc0000000, 0xfffffff0, 0]) {
      h.send({ flags: 'PA', seq, ack: h.L, payload: 10, ts: { val } });
      seq += 10;
      h.expectOne({ flags: 'A', ack: seq, ts: { ecr: val } });
    }
    h.send({ flags: 'PA', seq, ack: h.L, payload: 10, ts: { val: 0xffffffff } });
    seq += 10;
    h.expectOne({ flags: 'A', ack: seq, ts: { ecr: 0 } });
    h.send({ flags: 'PA', seq, ack: h.L, payload: 10, ts: { val: 0xfffffffe } });
    h.expectOne({ flags: 'A', ack: seq, ts: { ecr: 0 } });
    assert.equal(h.stack.counters.TcpExtPAWSEstab, 1);
  });

  test('§5.2: timestamps compare mod 2^32 — a TSval that wrapped past 2^32 is newer', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    let seq = h.R;
    for (const val of [0xc0000000, 0xfffffff0, 5]) {
      h.send({ flags: 'PA', seq, ack: h.L, payload: 10, ts: { val } });
      seq += 10;
      h.expectOne({ flags: 'A', ack: seq, ts: { ecr: val } });
    }
    assert.equal(h.c.tsRecent, 5);
  });

  test('an equal TSval passes PAWS', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 700 } });
    h.expectOne({ flags: 'A' });
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 700 } });
    h.expectOne({ flags: 'A', ack: h.R + 20 });
  });

  test('§5.5: a TS.Recent idle for more than 24 days is invalid; the old-looking segment is accepted', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs; // the peer's timestamp clock
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 5000 } });
    h.expectOne({ flags: 'A' });
    h.advance(25 * 24 * 3600 * 1_000_000);
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 10 } });
    h.expectOne({ flags: 'A', ack: h.R + 20, ts: { ecr: P + 10 } });
  });

  test('§5.2: a RST is not subject to PAWS (RST = RCV.NXT with an old TSval resets)', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    h.send({ flags: 'R', seq: h.R, ts: { val: 1 } });
    h.expectNothing();
    h.expectState('CLOSED');
  });

  test('§5.2: "information from the Timestamps option MUST NOT be used to update connection state" on a RST', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const before = h.c.tsRecent;
    h.send({ flags: 'R', seq: h.R + 5, ts: { val: before + 0x10000000 } });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R, ts: { ecr: before } });
    assert.equal(h.c.tsRecent, before);
    // The connection still accepts the peer's real (lower) timestamps.
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 3, ts: { val: before + 1 } });
    h.expectOne({ flags: 'A', ack: h.R + 3, ts: { ecr: before + 1 } });
  });

  test('a SYN\'s timestamp does not update TS.Recent either (the segment is dropped after its challenge ACK; Linux tcp_validate_incoming)', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const before = h.c.tsRecent;
    h.send({ flags: 'S', seq: h.R, ack: 0, ts: { val: before + 0x10000000, ecr: 0 } });
    h.expectOne({ flags: 'A', ts: { ecr: before } });
    assert.equal(h.c.tsRecent, before);
  });

  test('§3.2: a non-RST segment without a timestamp on a timestamp connection is silently dropped', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: false });
    h.expectNothing();
    assert.equal(h.c.readable, 0);
  });

  test('a RST without a timestamp is still processed', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    h.send({ flags: 'R', seq: h.R, ts: false });
    h.expectState('CLOSED');
  });
});
