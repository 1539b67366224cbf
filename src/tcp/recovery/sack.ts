// SACK-based loss recovery, RFC 6675 §5 (gVisor: tcp/sack_recovery.go; Linux: the
// TCP_CA_Recovery state of tcp_fastretrans_alert with SACK). Used by connections that
// negotiated SACK (tcb.sackOk); newreno.ts keeps the entry points the engine calls and
// dispatches here. The congestion controller (cc/) only sets ssthresh on entry and restores
// cwnd on exit; while recovering, what is sent is chosen by NextSeg() and limited by pipe.
//
// Where each step of §5 lives:
//   every ACK: Update() ............................ sackUpdate(), from input.ts processAck
//   DupAcks, steps (1)–(2), entry (4.1)–(4.4) ........ sackDupAck() / sackNewAck()
//   step (3) limited transmit governed by pipe ....... output.ts transmitData (cwnd counted
//                                                     against un-SACKed octets only)
//   (4.5) and (B)–(C) on every later ACK ............. sackTransmit(), run by output() after
//                                                     each event while in recovery
//   (A) exit ......................................... sackNewAck()
//   §5.1 RTO ......................................... sackRetransmitTimeout(); the go-back-N
//                                                     resend skips SACKed ranges (transmitData)
import type { Tcb } from '../tcb.js';
import type { TcpOptionSummary } from '../../wire/tcpoptions.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLt } from '../seq.js';
import { nagleHolds, sendData } from '../output.js';
import { DUP_THRESH } from './scoreboard.js';

/**
 * Update() (RFC 6675 §4, §5 "Upon the receipt of any ACK containing SACK information, the
 * scoreboard MUST be updated"), called for every acceptable ACK before SND.UNA moves.
 * Forgets what `ack` acknowledges cumulatively, detects reneging, records the SACK blocks.
 * Returns true when the ACK SACKed octets not SACKed before — a "duplicate acknowledgment"
 * in RFC 6675 §2's sense, whatever its window, payload or cumulative ACK.
 */
export function sackUpdate(tcb: Tcb, opts: TcpOptionSummary, ack: number): boolean {
  const sb = tcb.scoreboard;
  const advances = seqGt(ack, tcb.sndUna);
  if (advances && sb.advance(ack)) {
    // RFC 2018 §8: the receiver discarded data it had SACKed (the cumulative ACK stopped at a
    // SACKed range). Nothing SACKed can be trusted any more: forget it all, so that the data
    // is sent again — by rules (1)–(4) or, at the latest, the next RTO's go-back-N (Linux
    // tcp_check_sack_reneging also forgets, and shortens that timeout).
    sb.clear();
    sb.reneges++;
  }
  if (opts.sackCount === 0) return false;
  return sb.update(opts.sackBlocks, opts.sackCount, advances ? ack : tcb.sndUna, tcb.sndMax) > 0;
}

/** An ACK that did not move SND.UNA: a classic duplicate ACK and/or one that SACKed new octets. */
export function sackDupAck(tcb: Tcb, newSack: boolean): void {
  // In recovery (B): the scoreboard is updated already, and (C) — SetPipe, NextSeg, send —
  // runs in output() right after this segment (sackTransmit). Outside recovery only an ACK
  // with new SACK information counts (RFC 6675 §2, §8: duplicate ACKs provoked by spoofed
  // out-of-window segments carry no new SACK information and cannot trigger recovery).
  if (tcb.inRecovery || !newSack) return;
  countDupAck(tcb);
}

/** New data was cumulatively acknowledged (`acked` octets); `newSack`: the ACK also SACKed new octets. */
export function sackNewAck(tcb: Tcb, acked: number, rtt: number | null, newSack: boolean): void {
  if (tcb.inRecovery) {
    // (A) A cumulative ACK covering RecoveryPoint ends recovery. Scoreboard information above
    // the new HighACK is kept ("SHOULD NOT be cleared").
    if (!seqGe(tcb.sndUna, tcb.recover)) return; // (B): a partial ACK; cwnd stays, pipe decides
    tcb.inRecovery = false;
    tcb.cc.onRecoveryExit(tcb.now); // cwnd = ssthresh
  } else {
    tcb.cc.onAck(acked, tcb.now, rtt, tcb.inFlight);
  }
  // §5: "If the incoming ACK is a cumulative acknowledgment, the TCP MUST reset DupAcks to
  // zero" — and then count it if it is also a duplicate acknowledgment by §2.
  tcb.dupAcks = 0;
  if (newSack) countDupAck(tcb);
  // Holes the scoreboard already shows lost (say, new data sent during the recovery that just
  // ended, or during the resend after an RTO) start the next recovery now rather than at the
  // next ACK bringing news: step (2)'s test, applied to every ACK (Linux tcp_time_to_recover).
  else if (!tcb.scoreboard.empty && tcb.scoreboard.isLost(tcb.sndUna, tcb.effMss)) enterRecovery(tcb);
}

/** RFC 6675 §5.1: the retransmission timer expired (the congestion response is newreno.ts's). */
export function sackRetransmitTimeout(tcb: Tcb): void {
  // Recovery ends; RecoveryPoint = HighData (the caller set recover = SND.MAX), and no new
  // recovery starts before HighACK reaches it. The scoreboard is kept (RFC 6675 §5.1 and
  // RFC 2018 Errata 1610: SACK information may be retained when reneging is tested for —
  // sackUpdate() clears it on reneging, as Linux tcp_enter_loss keeps SACK marks unless
  // the receiver reneged), so the go-back-N resend skips what the receiver already holds.
  tcb.scoreboard.resetRecovery(tcb.sndUna);
}

/**
 * RFC 6675 §5 (C), and (4.5) right after entry: while cwnd − pipe ≥ 1 SMSS, send what
 * NextSeg() picks — lost holes first, then new data, then the last-resort rules (3) and (4).
 * Called by transmitData in place of its normal loop while in SACK recovery. Returns
 * whether anything was sent.
 */
export function sackTransmit(tcb: Tcb): boolean {
  const sb = tcb.scoreboard;
  const mss = tcb.effMss;
  let pipe = sb.setPipe(tcb.sndUna, tcb.sndMax, mss); // (B.2)
  let sent = false;
  // Each pass sends at least one octet and raises pipe, so cwnd bounds the loop; the guard
  // only protects against a window of absurd size.
  for (let n = 0; n < 10_000 && tcb.cc.cwnd - pipe >= mss; n++) {
    const next = sb.nextSeg(tcb.sndUna, tcb.sndMax, tcb.recover, mss, newDataAllowance(tcb)); // (C.1)
    if (next === null) break;
    const highData = tcb.sndMax;
    const len = sendRange(tcb, next.seq, next.len);
    if (len <= 0) break;
    sent = true;
    if (seqLt(next.seq, highData)) {
      // (C.2) HighRxt moves to the end of a retransmission, except a rescue (rule 4).
      if (next.rule !== 4) sb.highRxt = seqAdd(next.seq, len);
      // Linux counts every retransmission made in recovery (TCPFastRetrans).
      tcb.host.counters.TcpExtTCPFastRetrans++;
    }
    // (C.3) HighData is SND.MAX, which sendData advanced. (C.4):
    pipe += len;
    sb.pipe = pipe;
  }
  return sent;
}

/** A duplicate acknowledgment in RFC 6675's sense, outside recovery: steps (1)–(4). */
function countDupAck(tcb: Tcb): void {
  tcb.dupAcks++;
  if (tcb.dupAcks === 1) tcb.limitedTransmitBytes = 0;
  // (1) DupAcks ≥ DupThresh, or (2) IsLost(HighACK + 1): enter recovery. Otherwise (3)
  // limited transmit, which transmitData does after this segment: it measures cwnd against
  // pipe (the un-SACKed octets in flight), so each SACKed segment lets one new one go.
  if (tcb.dupAcks >= DUP_THRESH || tcb.scoreboard.isLost(tcb.sndUna, tcb.effMss)) enterRecovery(tcb);
}

/** RFC 6675 §5 step (4): fast retransmit and enter loss recovery. */
function enterRecovery(tcb: Tcb): void {
  // §5.1 (and RFC 6582 §3.2 step 2): after an RTO no new recovery starts until HighACK
  // reaches the RecoveryPoint set then; the go-back-N resend is still under way.
  if (seqLt(tcb.sndUna, tcb.recover) || seqLt(tcb.sndNxt, tcb.sndMax)) return;
  const sb = tcb.scoreboard;
  const c = tcb.host.counters;
  // (4.1) RecoveryPoint = HighData.
  tcb.recover = tcb.sndMax;
  // (4.2) ssthresh = cwnd = FlightSize / 2 — ssthresh by the congestion controller (RFC 5681
  // eq. 4 for NewReno, RFC 9438 §4.6 for CUBIC); limited-transmit data is not counted
  // (RFC 5681 §3.2 step 2).
  tcb.cc.onLossDetected(tcb.inFlight - tcb.limitedTransmitBytes, tcb.now);
  tcb.cc.cwnd = tcb.cc.ssthresh;
  tcb.inRecovery = true;
  c.TcpExtTCPSackRecovery++;
  // (4.3) Retransmit the segment at HighACK + 1 (up to the next SACKed range); HighRxt and
  // RescueRxt = its highest octet.
  sb.resetRecovery(tcb.sndUna);
  const una = tcb.sndUna;
  const hole = seqDiff(sb.holeEnd(una, tcb.sndMax), una);
  const len = sendRange(tcb, una, Math.min(tcb.effMss, hole));
  if (len > 0) {
    c.TcpExtTCPFastRetrans++;
    sb.highRxt = seqAdd(una, len);
    sb.rescueRxt = sb.highRxt;
  }
  // (4.4) SetPipe and (4.5) step (C) happen in sackTransmit, which output() runs next.
}

/**
 * How much never-sent sequence space NextSeg() rule (2) may use now: up to one SMSS of new
 * data the receiver's window allows (RFC 6675 §4 (2)), under the same sender SWS avoidance
 * (RFC 1122 §4.2.3.4) and Nagle (RFC 896) rules as transmitData, plus the FIN when it
 * follows the data (it needs no window, as in transmitData).
 */
function newDataAllowance(tcb: Tcb): number {
  const finState = tcb.state === 'FIN-WAIT-1' || tcb.state === 'CLOSING' || tcb.state === 'LAST-ACK';
  const fin = tcb.finQueued && finState;
  const dataEnd = tcb.sndDataEnd;
  const unsent = seqDiff(dataEnd, tcb.sndMax);
  if (unsent < 0) return 0; // the FIN is out already
  if (unsent === 0) return fin ? 1 : 0;
  const mss = tcb.effMss;
  const room = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndMax);
  const len = Math.min(unsent, mss, room);
  if (len <= 0) return 0;
  const carriesAll = len === unsent;
  if (len < mss) {
    // A window-limited fragment only when at least half the largest window (SWS); a short
    // tail waits while a short segment is unacknowledged (Nagle, Minshall's variant) unless
    // TCP_NODELAY or the FIN follows it.
    if (!carriesAll) { if (len < (tcb.maxSndWnd >>> 1)) return 0; }
    else if (!fin && nagleHolds(tcb)) return 0;
  }
  return carriesAll && fin ? len + 1 : len;
}

/**
 * Send the sequence space [seq, seq+len): its data, and the FIN when the range covers the
 * FIN's sequence number. Data stays within the peer's window (RFC 9293 §3.8.6). Returns
 * the sequence space actually sent (sendData may shorten a segment that carries SACK
 * blocks, RFC 6691 §3), 0 when nothing could be.
 */
function sendRange(tcb: Tcb, seq: number, len: number): number {
  if (len <= 0) return 0;
  const dataEnd = tcb.sndDataEnd;
  const end = seqAdd(seq, len);
  const finState = tcb.state === 'FIN-WAIT-1' || tcb.state === 'CLOSING' || tcb.state === 'LAST-ACK';
  let withFin = tcb.finQueued && finState && seqGt(end, dataEnd);
  let dataLen = Math.max(0, seqDiff(seqGt(end, dataEnd) ? dataEnd : end, seq));
  const room = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), seq);
  if (dataLen > room) { dataLen = Math.max(0, room); withFin = false; }
  if (dataLen === 0 && !withFin) return 0;
  return sendData(tcb, seq, dataLen, withFin);
}
