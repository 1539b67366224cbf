// SACK-based loss recovery (RFC 6675): the scoreboard's functions on their own, then whole
// transfers in simulation compared with NewReno (RFC 6582) on the same seed by turning
// tcp_sack off.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Scoreboard, MAX_SACK_RANGES } from '../../src/tcp/recovery/scoreboard.js';
import { seqAdd } from '../../src/tcp/seq.js';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import type { FaultOptions } from '../../src/link/faulty.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import type { Counters } from '../../src/stack/counters.js';
import { pktInfo } from '../../src/scenarios/common.js';
import { probe } from '../../src/trace/probe.js';
import { fixture, finishAll, u32, type Harness, type OutSeg } from './states/harness.js';

const MSS = 1000;
/** A base close below 2^32, so the examples cross the wrap. */
const U = 0xffff_f000;
/** Sequence number of segment i (0-based) of MSS octets from U. */
const S = (i: number): number => seqAdd(U, i * MSS);

/** A scoreboard holding segments `sacked` (indices) of a flight starting at U. */
function board(...sacked: number[]): Scoreboard {
  const sb = new Scoreboard();
  const blocks = new Uint32Array(2 * sacked.length);
  sacked.forEach((i, k) => { blocks[2 * k] = S(i); blocks[2 * k + 1] = S(i + 1); });
  sb.update(blocks, sacked.length, U, S(100));
  sb.resetRecovery(U);
  return sb;
}

describe('scoreboard: Update() (RFC 6675 §4, RFC 2018 §5)', () => {
  test('blocks merge into disjoint ranges; octets newly SACKed are counted once', () => {
    const sb = new Scoreboard();
    assert.equal(sb.update(new Uint32Array([S(2), S(3)]), 1, U, S(10)), MSS);
    assert.equal(sb.update(new Uint32Array([S(4), S(5), S(2), S(3)]), 2, U, S(10)), MSS, 'the repeated block adds nothing');
    assert.equal(sb.update(new Uint32Array([S(2), S(5)]), 1, U, S(10)), MSS, 'the gap between them is new');
    assert.deepEqual(sb.ranges(), [[S(2), S(5)]]);
    assert.equal(sb.sackedBytes, 3 * MSS);
    assert.equal(sb.highSacked, S(5));
    assert.equal(sb.update(new Uint32Array([S(2), S(5)]), 1, U, S(10)), 0, 'nothing new: not a duplicate ACK by §2');
  });

  test('blocks at or below the cumulative ACK (D-SACK, RFC 2883), beyond SND.MAX, or reversed are ignored', () => {
    const sb = new Scoreboard();
    const blocks = new Uint32Array([
      seqAdd(U, -2000), seqAdd(U, -1000), // D-SACK: a duplicate of acknowledged data
      U, S(1),                            // starts at the cumulative ACK: not believable
      S(8), S(11),                        // reaches beyond SND.MAX = S(10)
      S(5), S(4),                         // reversed
    ]);
    assert.equal(sb.update(blocks, 4, U, S(10)), 0);
    assert.ok(sb.empty);
    // A D-SACK inside SACKed data (first block a subset of the second) is harmless.
    assert.equal(sb.update(new Uint32Array([S(3), S(4), S(2), S(5)]), 2, U, S(10)), 3 * MSS);
    assert.deepEqual(sb.ranges(), [[S(2), S(5)]]);
  });

  test('at most MAX_SACK_RANGES ranges; the highest are forgotten', () => {
    const sb = new Scoreboard();
    for (let i = 0; i < MAX_SACK_RANGES + 5; i++) sb.update(new Uint32Array([S(2 * i + 1), S(2 * i + 2)]), 1, U, S(1000));
    assert.equal(sb.count, MAX_SACK_RANGES);
    assert.equal(sb.sackedBytes, MAX_SACK_RANGES * MSS);
    assert.equal(sb.highSacked, S(2 * MAX_SACK_RANGES));
  });

  test('SND.UNA advancing trims the scoreboard; an ACK stopping at a SACKed range is reneging (RFC 2018 §8)', () => {
    const sb = board(2, 3, 6);
    assert.equal(sb.advance(S(1)), false);
    assert.equal(sb.sackedBytes, 3 * MSS);
    assert.equal(sb.advance(S(5)), false, 'the ACK covered [2,4) and stops at a hole');
    assert.deepEqual(sb.ranges(), [[S(6), S(7)]]);
    assert.equal(sb.sackedBytes, MSS);
    assert.equal(sb.advance(S(6)), true, 'the receiver holds segment 6 yet acknowledges only up to it');
  });

  test('holeEnd, skipSacked, sackedBetween, isSacked', () => {
    const sb = board(2, 3, 6);
    assert.equal(sb.holeEnd(U, S(10)), S(2));
    assert.equal(sb.holeEnd(S(4), S(10)), S(6));
    assert.equal(sb.holeEnd(S(7), S(10)), S(10));
    assert.equal(sb.skipSacked(S(2)), S(4));
    assert.equal(sb.skipSacked(seqAdd(S(3), 500)), S(4));
    assert.equal(sb.skipSacked(S(5)), S(5));
    assert.equal(sb.sackedBetween(U, S(10)), 3 * MSS);
    assert.equal(sb.sackedBetween(seqAdd(S(2), 500), S(7)), 2500);
    assert.equal(sb.isSacked(S(6)), true);
    assert.equal(sb.isSacked(S(5)), false);
  });
});

describe('scoreboard: IsLost() (RFC 6675 §4)', () => {
  test('lost once DupThresh segments are SACKed above it', () => {
    assert.equal(board(1, 2).isLost(U, MSS), false, 'two segments above: could be reordering');
    assert.equal(board(1, 2, 3).isLost(U, MSS), true, '(DupThresh−1)·SMSS = 2000 < 3000 octets');
    assert.equal(board(2, 4, 6).isLost(U, MSS), true, 'three discontiguous SACKed ranges');
    assert.equal(board(2, 4, 6).isLost(S(3), MSS), false, 'only two ranges (2000 octets) above segment 3');
  });

  test('more than (DupThresh−1)·SMSS octets suffice, even in segments shorter than SMSS (RFC 6675 §9)', () => {
    const sb = new Scoreboard();
    // Two ranges of 1001 octets: 2002 > 2000.
    sb.update(new Uint32Array([S(1), seqAdd(S(2), 1), S(4), seqAdd(S(5), 1)]), 2, U, S(10));
    assert.equal(sb.isLost(U, MSS), true);
    const small = new Scoreboard();
    // Three segments of 600 octets, contiguous: one range, 1800 octets.
    small.update(new Uint32Array([S(1), seqAdd(S(1), 1800)]), 1, U, S(10));
    assert.equal(small.isLost(U, MSS), false);
  });

  test('the lost edge: IsLost is true exactly below it', () => {
    const sb = board(1, 2, 3, 5, 7);
    // From the top: 7 | 5 (2 ranges) | 1–3 (3 ranges): the edge is segment 1's left edge.
    assert.equal(sb.lostEdge(U, MSS), S(1));
    assert.equal(sb.isLost(U, MSS), true);
    assert.equal(sb.isLost(S(4), MSS), false);
    assert.equal(sb.isLost(S(6), MSS), false);
    assert.equal(new Scoreboard().lostEdge(U, MSS), U);
  });
});

describe('scoreboard: SetPipe() (RFC 6675 §4)', () => {
  test('un-SACKed octets not lost count once, retransmitted ones once more', () => {
    // Ten segments out; 0 is lost (1, 2, 3 SACKed above it), 4–9 are in flight.
    const sb = board(1, 2, 3);
    assert.equal(sb.setPipe(U, S(10), MSS), 6 * MSS);
    // After retransmitting segment 0 (HighRxt covers it): its retransmission is in the pipe.
    sb.highRxt = S(1);
    assert.equal(sb.setPipe(U, S(10), MSS), 7 * MSS);
    // A retransmission of an octet not considered lost counts twice (the note under (b)).
    sb.highRxt = S(5);
    assert.equal(sb.setPipe(U, S(10), MSS), 8 * MSS);
    // Nothing outstanding: zero.
    assert.equal(sb.setPipe(S(10), S(10), MSS), 0);
  });
});

describe('scoreboard: NextSeg() (RFC 6675 §4 rules 1–5)', () => {
  test('rule 1: the first lost hole above HighRxt, up to the next SACKed range', () => {
    const sb = board(1, 2, 4, 5, 6);
    assert.deepEqual(sb.nextSeg(U, S(10), S(10), MSS, MSS), { seq: U, len: MSS, rule: 1 });
    sb.highRxt = S(1);
    assert.deepEqual(sb.nextSeg(U, S(10), S(10), MSS, MSS), { seq: S(3), len: MSS, rule: 1 }, 'segment 3: three SACKed above');
    // A hole longer than SMSS is resent one SMSS at a time.
    const wide = board(5, 6, 7);
    wide.highRxt = S(1);
    assert.deepEqual(wide.nextSeg(U, S(10), S(10), MSS, 0), { seq: S(1), len: MSS, rule: 1 });
  });

  test('rule 2: new data when no hole is lost; rule 3: an un-SACKed hole below the highest SACK', () => {
    const sb = board(1, 2, 3, 6);
    sb.highRxt = S(1); // segment 0 was retransmitted; segments 4–5 are not lost (one range above)
    assert.deepEqual(sb.nextSeg(U, S(10), S(10), MSS, MSS), { seq: S(10), len: MSS, rule: 2 });
    assert.deepEqual(sb.nextSeg(U, S(10), S(10), MSS, 0), { seq: S(4), len: MSS, rule: 3 }, 'segments 4–5: one SMSS at a time');
  });

  test('rule 4: one rescue retransmission per recovery, ending at the highest un-SACKed octet', () => {
    // Segments 0 and 9 lost, 1–8 SACKed, no new data: after segment 0 is acknowledged, the tail
    // (segment 9, nothing SACKed above it) can only be found by the rescue retransmission.
    const sb = board(1, 2, 3, 4, 5, 6, 7, 8);
    sb.highRxt = S(1);
    sb.rescueRxt = S(1); // (4.3): set to the end of the first retransmission
    assert.equal(sb.nextSeg(U, S(10), S(10), MSS, 0), null, 'HighACK has not passed RescueRxt yet');
    sb.advance(S(9));
    assert.deepEqual(sb.nextSeg(S(9), S(10), S(10), MSS, 0), { seq: S(9), len: MSS, rule: 4 });
    assert.equal(sb.rescueRxt, S(10), 'RescueRxt = RecoveryPoint');
    assert.equal(sb.highRxt, S(1), 'HighRxt is not moved by a rescue');
    assert.equal(sb.nextSeg(S(9), S(10), S(10), MSS, 0), null, 'only one per recovery (rule 5: nothing)');
  });

  test('rule 4 rescues the tail of the window outstanding at entry, not data sent since', () => {
    // RecoveryPoint: segments 0–5 were outstanding at entry; 6–9 were sent during recovery.
    // Segment 0 lost and resent, 1–3 SACKed; 4–5 (the tail, nothing SACKed above) and 6–9 unknown.
    const sb = board(1, 2, 3);
    sb.highRxt = S(1);
    sb.rescueRxt = S(1);
    sb.advance(S(4));
    assert.deepEqual(sb.nextSeg(S(4), S(10), S(6), MSS, 0), { seq: S(5), len: MSS, rule: 4 }, 'the segment just below RecoveryPoint');
    // With the tail SACKed, there is nothing to rescue: the holes below are rules (1)/(3)'s.
    const tail = board(1, 2, 3, 8, 9);
    tail.highRxt = S(8);
    tail.rescueRxt = null;
    assert.equal(tail.nextSeg(U, S(10), S(10), MSS, 0), null);
  });
});

// ------------------------------------------------------------------ simulations

interface TransferOptions {
  seed?: number;
  size: number;
  sack: boolean;
  delay?: number;
  bandwidth?: number;
  faultsAtoB?: FaultOptions;
  faultsBtoA?: FaultOptions;
  /** Scripted drops of A→B data segments: `seq` relative to the first data byte, `nth` counts data segments from 0. */
  drop?: (seq: number, len: number, nth: number) => boolean;
  maxTime?: number;
  /** The receiver's buffer (tcp_rmem), bytes. */
  rcvBuf?: number;
}

interface Sent { t: number; seq: number; len: number; rtx: boolean }

interface TransferResult {
  ok: boolean;
  doneAt: number;
  c: Tcb;
  counters: Counters;
  sent: Sent[];
  rtoFires: number[];
  /** [start, end] of each recovery episode (end −1 while still recovering). */
  recoveries: Array<[number, number]>;
  recoveryKinds: Set<string>;
  /** Packets the A→B fault injector held back for reordering / dropped. */
  reordered: number;
  dropped: number;
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 10)) & 255;
  return b;
}

function transfer(o: TransferOptions): TransferResult {
  const sim = new Simulation({ seed: o.seed ?? 1 });
  const opts = { tcp_sack: o.sack ? 1 : 0 };
  const optsB = o.rcvBuf === undefined ? opts : { ...opts, tcp_rmem: [4096, o.rcvBuf, o.rcvBuf] as [number, number, number] };
  const h = twoHosts(sim, { delay: o.delay ?? 10_000, bandwidth: o.bandwidth ?? 0, faultsAtoB: o.faultsAtoB ?? {}, faultsBtoA: o.faultsBtoA, optionsA: opts, optionsB: optsB });
  const data = pattern(o.size);
  const l = h.b.listen({ port: 80 });
  const got = new Uint8Array(o.size);
  let gotLen = 0;
  let ok = true;
  let doneAt = -1;
  l.onAcceptable = () => {
    const s = l.accept()!;
    s.user = {
      onReadable: () => {
        const d = s.receive(1 << 20, sim.now());
        if (gotLen + d.length > o.size) { ok = false; return; }
        got.set(d, gotLen);
        gotLen += d.length;
        if (gotLen === o.size) doneAt = sim.now();
      },
    };
  };
  const c = h.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80 });
  const base = seqAdd(c.iss, 1);
  let nth = 0;
  if (o.drop) {
    const drop = o.drop;
    h.faultA!.dropWhen((p) => {
      const i = pktInfo(p);
      if (i === null || i.len === 0) return false;
      return drop(((i.seq - base) >>> 0), i.len, nth++);
    });
  }
  let off = 0;
  const pump = (): void => { while (off < data.length) { const n = c.send(data, sim.now(), off); if (n <= 0) break; off += n; } };
  c.user = { onEstablished: pump, onWritable: pump };
  const sent: Sent[] = [];
  const rtoFires: number[] = [];
  h.a.addTraceListener((e) => {
    if (e.type === 'segment' && e.dir === 'out' && e.len > 0) sent.push({ t: e.t, seq: (e.seq - base) >>> 0, len: e.len, rtx: e.retransmit === true });
    if (e.type === 'timer' && e.timer === 'rto' && e.action === 'fire') rtoFires.push(e.t);
  });
  const recoveries: Array<[number, number]> = [];
  const recoveryKinds = new Set<string>();
  c.openActive(sim.now());
  const end = o.maxTime ?? 3_600_000_000;
  let was = false;
  while (doneAt < 0 && c.state !== 'CLOSED' && sim.now() < end) {
    if (!sim.step()) break;
    if (c.inRecovery !== was) {
      was = c.inRecovery;
      if (was) { recoveries.push([sim.now(), -1]); recoveryKinds.add(probe(c).recovery); }
      else recoveries[recoveries.length - 1]![1] = sim.now();
    }
  }
  if (gotLen !== o.size) ok = false;
  for (let i = 0; ok && i < o.size; i++) if (got[i] !== data[i]) ok = false;
  return { ok, doneAt, c, counters: h.a.counters, sent, rtoFires, recoveries, recoveryKinds, reordered: h.faultA!.stats.reordered, dropped: h.faultA!.stats.dropped };
}

const SEG = 1448; // MSS 1460 − 12 octets of timestamps

const RTT = 20_000; // 2 × 10 ms

/** Drop the first `times` transmissions of the segments starting at these segment indices. */
function dropSegments(indices: number[], times = 1): (seq: number) => boolean {
  const count = new Map<number, number>();
  return (seq) => {
    const k = seq / SEG;
    if (!indices.includes(k)) return false;
    const n = (count.get(k) ?? 0) + 1;
    count.set(k, n);
    return n <= times;
  };
}

const rtxSegs = (r: TransferResult): number[] => r.sent.filter((x) => x.rtx).map((x) => x.seq / SEG);

describe('SACK recovery in simulation (RFC 6675 §5)', () => {
  test('a single loss: fast retransmit of the hole, SACK recovery, no timeout', () => {
    const r = transfer({ size: 200_000, sack: true, drop: dropSegments([20]) });
    assert.ok(r.ok, 'byte-exact');
    assert.equal(r.counters.TcpExtTCPSackRecovery, 1);
    assert.equal(r.counters.TcpExtTCPRenoRecovery, 0);
    assert.equal(r.counters.TcpExtTCPTimeouts, 0);
    assert.deepEqual(rtxSegs(r), [20], 'only the hole is resent');
    assert.equal(r.counters.TcpRetransSegs, 1);
    assert.equal(r.counters.TcpExtTCPFastRetrans, 1);
    assert.deepEqual([...r.recoveryKinds], ['sack'], 'the probe reports SACK recovery');
    const [start, end] = r.recoveries[0]!;
    assert.equal(end - start, RTT, 'recovered in one round trip');
  });

  test('four losses in one window: all holes resent within a round trip, no timeout; NewReno needs a round trip per hole', () => {
    const lost = [20, 23, 26, 29];
    const s = transfer({ size: 200_000, sack: true, drop: dropSegments(lost) });
    const n = transfer({ size: 200_000, sack: false, drop: dropSegments(lost) });
    assert.ok(s.ok && n.ok, 'byte-exact');
    assert.equal(s.counters.TcpExtTCPTimeouts, 0);
    assert.equal(n.counters.TcpExtTCPTimeouts, 0);
    // SACK: exactly the four holes, nothing SACKed is resent.
    assert.deepEqual(rtxSegs(s), lost);
    assert.equal(s.counters.TcpExtTCPSackRecovery, 1);
    assert.equal(s.recoveries.length, 1);
    // Fast retransmit of the first hole; the other three go together one round trip later,
    // once SACKs have shown them lost (IsLost) and pipe has room, and recovery ends one
    // round trip after that.
    const times = s.sent.filter((x) => x.rtx).map((x) => x.t);
    assert.equal(times[1], times[0]! + RTT);
    assert.ok(times.slice(1).every((t) => t === times[1]), times.join(' '));
    const [s0, s1] = s.recoveries[0]!;
    assert.equal(s1 - s0, 2 * RTT);
    // NewReno (RFC 6582): one hole per partial ACK, i.e. per round trip.
    assert.deepEqual(rtxSegs(n), lost);
    assert.equal(n.counters.TcpExtTCPRenoRecovery, 1);
    const [n0, n1] = n.recoveries[0]!;
    assert.equal(n1 - n0, 4 * RTT);
    const nt = n.sent.filter((x) => x.rtx).map((x) => x.t);
    assert.deepEqual(nt.map((t) => t - nt[0]!), [0, RTT, 2 * RTT, 3 * RTT]);
  });

  test('a lost retransmission falls back to the RTO, whose resend skips what the receiver SACKed', () => {
    // Segments 20, 25 and 30 are lost, and so are their fast retransmissions.
    const s = transfer({ size: 200_000, sack: true, drop: dropSegments([20, 25, 30], 2) });
    assert.ok(s.ok, 'byte-exact');
    assert.equal(s.counters.TcpExtTCPSackRecovery, 1);
    assert.equal(s.counters.TcpExtTCPTimeouts, 1, 'RFC 6675 cannot see a lost retransmission: one RTO');
    const rto = s.rtoFires[0]!;
    assert.deepEqual(rtxSegs(s), [20, 25, 30, 20, 25, 30]);
    // After the RTO: the head (RFC 2018 §5 MUST), then only the other holes (RFC 6675 §5.1),
    // never the 25 segments in between that the receiver holds.
    assert.deepEqual(s.sent.filter((x) => x.rtx && x.t >= rto).map((x) => x.seq / SEG), [20, 25, 30]);
    // NewReno on the same losses: more timeouts, and its go-back-N resends data the receiver had.
    const n = transfer({ size: 200_000, sack: false, drop: dropSegments([20, 25, 30], 2) });
    assert.ok(n.ok);
    assert.ok(n.counters.TcpExtTCPTimeouts > s.counters.TcpExtTCPTimeouts, `NewReno ${n.counters.TcpExtTCPTimeouts} RTOs`);
    assert.ok(n.counters.TcpRetransSegs > s.counters.TcpRetransSegs, `NewReno ${n.counters.TcpRetransSegs} retransmissions`);
    assert.ok(n.doneAt > s.doneAt);
  });

  test('a tail loss with nothing left to send: the rescue retransmission (rule 4) avoids the RTO', () => {
    // 60 segments; segment 40 and the very last one are lost. Nothing is SACKed above 59, so
    // neither IsLost nor rule (3) can find it; the rescue does, once the ACK passes RescueRxt.
    const size = 60 * SEG;
    const s = transfer({ size, sack: true, drop: dropSegments([40, 59]) });
    assert.ok(s.ok);
    assert.equal(s.counters.TcpExtTCPTimeouts, 0);
    assert.deepEqual(rtxSegs(s), [40, 59]);
    assert.equal(s.counters.TcpExtTCPSackRecovery, 1);
    const [t40, t59] = s.sent.filter((x) => x.rtx).map((x) => x.t) as [number, number];
    assert.equal(t59 - t40, RTT, 'the ACK of the first retransmission releases the rescue');
  });

  for (const loss of [0.1, 0.2]) {
    test(`${loss * 100}% random loss both ways: byte-exact, fewer RTOs and faster than NewReno on the same seeds`, () => {
      const rto = { sack: 0, newreno: 0 };
      const times: { sack: number[]; newreno: number[] } = { sack: [], newreno: [] };
      for (let seed = 1; seed <= 8; seed++) {
        for (const sack of [true, false]) {
          const r = transfer({ seed, size: 200_000, sack, faultsAtoB: { loss }, faultsBtoA: { loss } });
          assert.ok(r.ok, `seed ${seed} sack=${sack}: byte-exact`);
          assert.equal(sack ? r.counters.TcpExtTCPRenoRecovery : r.counters.TcpExtTCPSackRecovery, 0);
          rto[sack ? 'sack' : 'newreno'] += r.counters.TcpExtTCPTimeouts;
          times[sack ? 'sack' : 'newreno'].push(r.doneAt);
        }
      }
      // The completion time of one run is dominated by its luck with backed-off RTOs: compare medians.
      const median = (xs: number[]): number => { const v = [...xs].sort((x, y) => x - y); return (v[3]! + v[4]!) / 2; };
      const info = JSON.stringify({ rto, sack: times.sack.map((t) => t / 1e6), newreno: times.newreno.map((t) => t / 1e6) });
      assert.ok(rto.sack < 0.75 * rto.newreno, info);
      assert.ok(median(times.sack) < 0.75 * median(times.newreno), info);
    });
  }

  test('reordering by fewer than DupThresh segments causes no retransmission', () => {
    // A 10 Mbit/s bottleneck spaces segments 1.16 ms apart; a held-back segment (3 ms) is
    // overtaken by two, so at most two segments are SACKed above it: not lost.
    for (let seed = 1; seed <= 4; seed++) {
      const r = transfer({ seed, size: 300_000, sack: true, delay: 2000, rcvBuf: 32768, faultsAtoB: { rate: 10_000_000, reorder: 0.05, reorderDelay: 3000 } });
      assert.ok(r.ok);
      assert.ok(r.reordered > 5 && r.dropped === 0);
      assert.equal(r.counters.TcpRetransSegs, 0, `seed ${seed}`);
      assert.equal(r.recoveries.length, 0);
    }
  });

  test('deeper reordering: spurious fast retransmits only at DupThresh, one or two segments each, fewer than NewReno', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const f = { rate: 10_000_000, reorder: 0.05, reorderDelay: 8000 };
      const s = transfer({ seed, size: 300_000, sack: true, delay: 2000, rcvBuf: 32768, faultsAtoB: f });
      const n = transfer({ seed, size: 300_000, sack: false, delay: 2000, rcvBuf: 32768, faultsAtoB: f });
      assert.ok(s.ok && n.ok);
      assert.equal(s.dropped, 0);
      assert.ok(s.recoveries.length <= s.reordered, `${s.recoveries.length} recoveries for ${s.reordered} reordered segments`);
      assert.ok(s.counters.TcpRetransSegs <= 2 * s.recoveries.length, `${s.counters.TcpRetransSegs} retransmissions in ${s.recoveries.length} recoveries`);
      assert.ok(s.counters.TcpRetransSegs < n.counters.TcpRetransSegs, `SACK ${s.counters.TcpRetransSegs}, NewReno ${n.counters.TcpRetransSegs}`);
      assert.equal(s.counters.TcpExtTCPTimeouts, 0);
    }
  });
});

// ------------------------------------------------------------------ on the wire (per-state harness)

/** Fire timers until the stack sends something; return it. */
function untilOutput(h: Harness): OutSeg[] {
  for (let i = 0; i < 50 && h.sent.length === 0; i++) {
    const dl = h.stack.nextDeadline();
    if (dl === Infinity) break;
    h.advanceTo(Math.max(dl, h.now));
  }
  return h.drain();
}

describe('after an RTO (RFC 6675 §5.1, RFC 2018 §5/§8), segment by segment', () => {
  const NEWRENO = { tcp_congestion_control: 'newreno' };

  /** Ten segments out, then a duplicate ACK SACKing segments 2–4: fast retransmit of segment 0. */
  function start(): { h: Harness; mss: number } {
    const h = fixture('ESTABLISHED', { peer: { sack: true }, stack: NEWRENO, sndBuf: 1 << 20 });
    const mss = h.c.effMss;
    h.write(10 * mss);
    assert.equal(h.drain().length, 10);
    h.send({ flags: 'A', seq: h.R, ack: h.L, sack: [[h.L + 2 * mss, h.L + 5 * mss]] });
    // IsLost(HighACK+1): three segments SACKed above it, on the first duplicate ACK (§5 step 2).
    // cwnd = ssthresh = 5 segments; pipe = 5 (segments 5–9) + 1 (the retransmission): no more.
    h.expectOne({ flags: 'A', seq: h.L, len: mss });
    assert.equal(h.c.inRecovery, true);
    assert.equal(probe(h.c).recovery, 'sack');
    assert.equal(probe(h.c).sacked, 3 * mss);
    assert.equal(probe(h.c).pipe, 6 * mss);
    return { h, mss };
  }

  test('the scoreboard is kept: the go-back-N resend skips the SACKed segments', () => {
    const { h, mss } = start();
    const rto = untilOutput(h);
    assert.equal(h.stack.counters.TcpExtTCPTimeouts, 1);
    assert.equal(h.c.inRecovery, false);
    assert.equal(rto.length, 1);
    assert.equal(rto[0]!.seq, h.L, 'RFC 2018 §5: the left edge is always resent');
    assert.equal(h.c.scoreboard.sackedBytes, 3 * mss, 'RFC 6675 §5.1: no reneging seen, SACK information kept');
    // The head arrives; the peer still lacks segment 1. cwnd 2: segment 1, then — skipping
    // segments 2–4, which the peer holds — segment 5.
    h.send({ flags: 'A', seq: h.R, ack: h.L + mss, sack: [[h.L + 2 * mss, h.L + 5 * mss]] });
    h.expectOut([{ seq: h.L + mss, len: mss }, { seq: h.L + 5 * mss, len: mss }]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 * mss });
    h.drain();
    finishAll();
  });

  test('reneging (the cumulative ACK stops at a SACKed range) clears the scoreboard: the RTO resends that data', () => {
    const { h, mss } = start();
    // The peer acknowledges up to segment 2, which it had SACKed, but not segment 2 itself:
    // it discarded it (RFC 2018 §8).
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2 * mss });
    h.expectNothing();
    assert.equal(h.c.scoreboard.empty, true);
    assert.equal(h.c.scoreboard.reneges, 1);
    assert.equal(h.c.inRecovery, true, 'a partial ACK');
    const rto = untilOutput(h);
    assert.deepEqual(rto.map((x) => x.seq), [u32(h.L + 2 * mss)]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 3 * mss });
    h.expectOut([{ seq: h.L + 3 * mss, len: mss }, { seq: h.L + 4 * mss, len: mss }]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 * mss });
    h.drain();
    finishAll();
  });

  test('without SACK negotiated the same duplicate ACK is NewReno\'s business: SACK blocks are not read', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: false }, stack: NEWRENO, sndBuf: 1 << 20 });
    const mss = h.c.effMss;
    h.write(10 * mss);
    assert.equal(h.drain().length, 10);
    h.send({ flags: 'A', seq: h.R, ack: h.L, sack: [[h.L + 2 * mss, h.L + 5 * mss]] });
    h.expectNothing();
    assert.equal(h.c.scoreboard.empty, true);
    assert.equal(probe(h.c).recovery, 'newreno');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 * mss });
    h.drain();
    finishAll();
  });
});
