// SEGMENT ARRIVES (RFC 9293 §3.10.7.3 SYN-SENT and §3.10.7.4 other states), with the
// RFC 5961 blind-attack checks, RFC 7323 PAWS and timestamps, and RFC 5681/6582 ACK
// processing. LISTEN is the listener's (listener.ts); CLOSED is the stack's (§3.10.7.1).
import { growRcvWindow } from './autotune.js';
import type { Tcb } from './tcb.js';
import { isSynchronized, type SegmentIn, type TcpState } from './types.js';
import type { TcpOptionSummary } from '../wire/tcpoptions.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, segmentAcceptable } from './seq.js';
import { sendChallengeAck, sendSyn } from './output.js';
import { onDupAck, onNewAck } from './recovery/newreno.js';
import { sackUpdate } from './recovery/sack.js';
import { enterTimeWait } from './timers.js';

/** RFC 7323 §5.3: timestamps compare mod 2^32 like sequence numbers. */
function tsLt(a: number, b: number): boolean { return ((a - b) | 0) < 0; }

/** PAWS stops mattering when TS.Recent is older than 24 days (RFC 7323 §5.5). */
const PAWS_IDLE_LIMIT = 24 * 24 * 3600 * 1_000_000;

/**
 * PAWS tolerance in timestamp ticks, as Linux (TCP_PAWS_WINDOW = 1 in include/net/tcp.h,
 * used by tcp_paws_check: a segment passes when (s32)(ts_recent - tsval) <= TCP_PAWS_WINDOW).
 * RFC 7323 §5.3 would drop any TSval below TS.Recent, but a segment reordered by a fraction
 * of a tick behind one sent a tick later is not an old duplicate; an interop test against
 * the kernel with 1 ms reordering showed the strict rule dropping good segments.
 */
const PAWS_WINDOW = 1;

export function segmentArrives(tcb: Tcb, seg: SegmentIn): void {
  tcb.lastRecvAt = tcb.now;
  tcb.keepaliveProbes = 0;
  textAckQuickOnly = false;
  if (tcb.state === 'SYN-SENT') synSent(tcb, seg);
  else otherStates(tcb, seg);
}

/** Take the options of the peer's SYN (RFC 9293 §3.7.1, RFC 7323 §1.3/§2.2, RFC 2018 §2). */
export function negotiateSynOptions(tcb: Tcb, o: TcpOptionSummary): void {
  // MUST-15: without an MSS option, assume 536 (RFC 9293 §3.7.1, RFC 6691).
  tcb.mssPeer = o.mss > 0 ? o.mss : 536;
  if (tcb.wantWs && o.wscale >= 0) {
    tcb.wsOk = true;
    // RFC 7323 §2.3: a shift above 14 is treated as 14.
    tcb.sndWscale = Math.min(o.wscale, 14);
  } else {
    // Scaling is in effect only when both sides sent the option.
    tcb.wsOk = false; tcb.sndWscale = 0; tcb.rcvWscale = 0;
  }
  tcb.sackOk = tcb.wantSack && o.sackPermitted;
  if (tcb.wantTs && o.tsPresent) {
    tcb.tsOk = true;
    tcb.tsRecent = o.tsVal;
    tcb.tsRecentAt = tcb.now;
  } else {
    tcb.tsOk = false;
  }
  tcb.updateEffMss();
}

// ------------------------------------------------------------------ SYN-SENT

function synSent(tcb: Tcb, seg: SegmentIn): void {
  const f = seg.flags;
  let ackOk = false;
  // First, check the ACK bit.
  if (f & TCP_ACK) {
    if (seqLe(seg.ack, tcb.iss) || seqGt(seg.ack, tcb.sndMax)) {
      // An old duplicate SYN-ACK (why a two-way handshake would fail): <SEQ=SEG.ACK><CTL=RST>.
      if (!(f & TCP_RST)) replyRst(tcb, seg.ack);
      drop(tcb, 'syn-sent: unacceptable ack');
      return;
    }
    ackOk = seqLt(tcb.sndUna, seg.ack);
  }
  // Second, check the RST bit. RFC 5961 §3: in SYN-SENT a RST is acceptable when its ACK acknowledges our SYN.
  if (f & TCP_RST) {
    tcb.host.counters.TcpInRsts++;
    if (ackOk) {
      tcb.host.counters.TcpAttemptFails++;
      tcb.closeTcb('refused', 'ECONNREFUSED');
    } else {
      drop(tcb, 'syn-sent: rst without ack');
    }
    return;
  }
  // Fourth, check the SYN bit.
  if (!(f & TCP_SYN)) { drop(tcb, 'syn-sent: no syn'); return; }
  tcb.irs = seg.seq;
  tcb.rcvNxt = seqAdd(seg.seq, 1);
  tcb.rcvAdv = tcb.rcvNxt;
  tcb.rcvUp = tcb.rcvNxt; // RCV.UP starts at the stream's start (the sixth step takes a max against it)
  negotiateSynOptions(tcb, seg.opts);
  if (ackOk) {
    tcb.sndUna = seg.ack;
    sampleRtt(tcb, seg);
    // RFC 6298 §5.7: the SYN timed out and no RTT sample came of it → RTO 3 s for the data.
    if (tcb.retransmits > 0 && !tcb.rtt.hasSample) tcb.rtt.reset(true);
    // RFC 5681 §3.1: "if the SYN or SYN/ACK is lost, the initial window used by a sender after
    // a correctly transmitted SYN MUST be one segment". (Linux tcp_init_transfer waits for a
    // second retransmission, because of RFC 6298's 1 s initial RTO.)
    if (tcb.retransmits > 0) tcb.cc.cwnd = tcb.effMss;
    tcb.retransmits = 0;
    // Our SYN got through: forget an ICMP error about an earlier one (Linux tcp_ack clears sk_err_soft).
    tcb.softError = null;
    tcb.rtt.resetBackoff();
  }
  // RFC 7323 §2.2: the window of a SYN is never scaled.
  tcb.sndWnd = seg.window;
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, tcb.sndWnd);
  if (seqGt(tcb.sndUna, tcb.iss)) {
    // Our SYN has been ACKed: ESTABLISHED, and ACK the peer's SYN (queued data may ride along).
    tcb.rtoAt = Infinity;
    tcb.unackedSince = -1;
    tcb.ackNow = true;
    tcb.setState('ESTABLISHED', 'rcv SYN-ACK');
    tcb.armKeepalive();
    tcb.user?.onEstablished?.();
    if (tcb.state !== 'ESTABLISHED') return;
    // Text or FIN on the SYN-ACK: continue at the sixth step (§3.10.7.3).
    if (seg.payload.length > 0 || (f & TCP_FIN)) {
      processText(tcb, seqAdd(seg.seq, 1), seg.payload);
      if (f & TCP_FIN) processFinBit(tcb, seqAdd(seqAdd(seg.seq, 1), seg.payload.length));
    }
    return;
  }
  // Simultaneous open: SYN-RECEIVED, answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (§3.10.7.3, Figure 7).
  tcb.setState('SYN-RECEIVED', 'rcv SYN (simultaneous open)');
  tcb.sndNxt = tcb.iss;
  // Not a retransmission: the first SYN-ACK (our SYN again, now acknowledging theirs).
  sendSyn(tcb, true, false);
}

// ------------------------------------------------------------------ other states

function otherStates(tcb: Tcb, seg: SegmentIn): void {
  const f = seg.flags;
  const c = tcb.host.counters;
  const payloadLen = seg.payload.length;

  // TIME-WAIT: a retransmission of the peer's FIN (our last ACK was lost). Acknowledge it
  // and restart the 2·MSL timer (§3.10.7.4 "TIME-WAIT STATE", eighth step; Linux tcp_timewait_state_process).
  if (tcb.state === 'TIME-WAIT' && (f & TCP_FIN) && !(f & (TCP_RST | TCP_SYN)) && seqAdd(seg.seq, payloadLen + 1) === tcb.rcvNxt) {
    tcb.ackNow = true;
    restartTimeWait(tcb);
    return;
  }

  if (tcb.state === 'SYN-RECEIVED') {
    // A retransmitted SYN: our SYN-ACK was lost; send it again (Linux tcp_check_req).
    if ((f & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && seg.seq === tcb.irs) {
      // It counts as this round's retransmission: back off and restart the SYN-ACK timer
      // (Linux inet_rtx_syn_ack + mod_timer), so that when the peer's SYN timer and ours
      // expire together one SYN-ACK goes out, not two; none after tcp_synack_retries.
      if (tcb.retransmits >= tcb.retryLimit()) return;
      // At most one per tcp_invalid_ratelimit, shared with the ACKs that answer unacceptable
      // segments (Linux tcp_check_req: tcp_oow_rate_limited on the request's
      // last_oow_ack_time): a flood of duplicate SYNs cannot turn us into a SYN-ACK reflector.
      if (!tcb.invalidAckLimiter.allow(tcb.now)) { c.TcpExtTCPACKSkippedSynRecv++; return; }
      tcb.retransmits++;
      tcb.rtt.backoff();
      tcb.rtoAt = Infinity;
      tcb.sndNxt = tcb.iss;
      sendSyn(tcb, true);
      return;
    }
    // Simultaneous open: the peer's SYN-ACK acknowledges our SYN. Take it as the handshake's
    // ACK (Linux tcp_validate_incoming special case) rather than answering with a bare ACK.
    if ((f & (TCP_SYN | TCP_ACK | TCP_RST)) === (TCP_SYN | TCP_ACK) && seg.seq === tcb.irs && seg.ack === tcb.sndMax && !tcb.passive) {
      establishFromSynReceived(tcb, seg);
      return;
    }
  }

  // PAWS (RFC 7323 §5.3): a segment whose timestamp is older than TS.Recent is an old duplicate
  // (with Linux's one-tick tolerance, PAWS_WINDOW).
  if (tcb.tsOk && !(f & TCP_RST)) {
    if (!seg.opts.tsPresent) {
      // RFC 7323 §3.2: once negotiated, a non-RST segment without a timestamp SHOULD be dropped.
      drop(tcb, 'missing timestamp');
      return;
    }
    // Old by more than PAWS_WINDOW ticks: (s32)(TS.Recent − TSval) > 1 (Linux tcp_paws_check).
    if (((tcb.tsRecent - seg.opts.tsVal) | 0) > PAWS_WINDOW && tcb.now - tcb.tsRecentAt <= PAWS_IDLE_LIMIT) {
      c.TcpExtPAWSEstab++;
      // A SYN failing PAWS in a synchronized state gets a (rate-limited) challenge ACK, as
      // Linux tcp_validate_incoming (syn_challenge); anything else the rate-limited dupack.
      if ((f & TCP_SYN) && isSynchronized(tcb.state)) { c.TcpExtTCPSYNChallenge++; sendChallengeAck(tcb); drop(tcb, 'paws'); return; }
      ackUnacceptable(tcb, seg);
      drop(tcb, 'paws');
      return;
    }
  }

  // First, check the sequence number (Table 6).
  const segLen = payloadLen + ((f & TCP_SYN) ? 1 : 0) + ((f & TCP_FIN) ? 1 : 0);
  const rcvWnd = Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt));
  let textOk = true;
  if (!segmentAcceptable(seg.seq, segLen, tcb.rcvNxt, rcvWnd)) {
    // "If the RCV.WND is zero … special allowance should be made to accept valid ACKs, URGs and RSTs."
    if (rcvWnd === 0 && seg.seq === tcb.rcvNxt) {
      textOk = false;
      // The text (or FIN) itself is still unacceptable: "an acknowledgment should be sent in
      // reply" — this is how a zero-window probe carrying data learns our window (RFC 1122 §4.2.2.17).
      if (segLen > 0) tcb.ackNow = true;
    } else if (segLen === 0 && !(f & TCP_RST) && seg.seq === seqAdd(tcb.rcvNxt, rcvWnd)) {
      // (Never a RST: RFC 5961 §3.2 (1) drops a RST outside RCV.NXT..RCV.NXT+RCV.WND-1 silently.)
      // A bare ACK exactly at the right edge: the peer filled our window and (a segment being
      // lost) its SND.NXT is our RCV.NXT + RCV.WND. Table 6 refuses it, so its ACK field would
      // be lost; Linux accepts it (tcp_sequence: !after(seq, rcv_nxt + rcv_wnd)) and so do we.
    } else {
      if (f & TCP_RST) { drop(tcb, 'rst out of window'); return; }
      // RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK whatever its sequence number.
      if (f & TCP_SYN) { c.TcpExtTCPSYNChallenge++; sendChallengeAck(tcb); return; }
      // RFC 7323 §4.3 (C) and Appendix D (TS.Recent is saved before the acceptability test):
      // a retransmission whose first ACK was lost ends at Last.ACK.sent; echo its TSval, or the
      // sender's RTT sample includes its whole backoff and the RTO escalates towards its maximum.
      // Limited to that case, as Linux (tcp_sequence accepts end_seq == rcv_wup), so a blind
      // segment far below the window cannot move TS.Recent.
      if (tcb.tsOk && seg.opts.tsPresent && segLen > 0 && seqLe(seg.seq, tcb.lastAckSent) &&
          seqGe(seqAdd(seg.seq, segLen), tcb.lastAckSent) && !tsLt(seg.opts.tsVal, tcb.tsRecent)) {
        tcb.tsRecent = seg.opts.tsVal;
        tcb.tsRecentAt = tcb.now;
      }
      // A duplicate of what we already took: report it (D-SACK, RFC 2883 §4 (1)).
      if (segLen > 0 && seqLt(seg.seq, tcb.rcvNxt)) noteDsack(tcb, seg.seq, seqAdd(seg.seq, segLen));
      ackUnacceptable(tcb, seg);
      drop(tcb, 'out of window');
      return;
    }
  }

  // RFC 7323 §4.3 (2): remember the timestamp of a segment that covers Last.ACK.sent — or of
  // any accepted segment when TS.Recent has gone invalid after 24 days idle (§5.5). Never from
  // a RST (§5.2: "MUST NOT be used to update connection state") nor from a SYN, which is only
  // answered with a challenge ACK below (Linux updates ts_recent after tcp_validate_incoming).
  if (tcb.tsOk && seg.opts.tsPresent && !(f & (TCP_RST | TCP_SYN)) && seqLe(seg.seq, tcb.lastAckSent)
    && (!tsLt(seg.opts.tsVal, tcb.tsRecent) || tcb.now - tcb.tsRecentAt > PAWS_IDLE_LIMIT)) {
    tcb.tsRecent = seg.opts.tsVal;
    tcb.tsRecentAt = tcb.now;
  }

  // Second, check the RST bit (RFC 5961 §3.2).
  if (f & TCP_RST) {
    c.TcpInRsts++;
    if (seg.seq !== tcb.rcvNxt) {
      // In the window but not exact: challenge ACK, drop.
      sendChallengeAck(tcb);
      return;
    }
    resetConnection(tcb);
    return;
  }

  // Fourth, check the SYN bit (RFC 5961 §4.2 challenge ACK; passive SYN-RECEIVED returns to LISTEN).
  if (f & TCP_SYN) {
    if (tcb.state === 'SYN-RECEIVED' && tcb.passive) {
      tcb.closeTcb('reset', null);
      return;
    }
    c.TcpExtTCPSYNChallenge++;
    sendChallengeAck(tcb);
    return;
  }

  // A segment that starts before RCV.NXT repeats octets we have: D-SACK them (RFC 2883 §4,
  // Linux tcp_data_queue "partial packet": tcp_dsack_set(seq, rcv_nxt)).
  if (segLen > 0 && seqLt(seg.seq, tcb.rcvNxt)) noteDsack(tcb, seg.seq, seqAdd(seg.seq, segLen));

  // Fifth, check the ACK field.
  if (!(f & TCP_ACK)) { drop(tcb, 'no ack'); return; }
  if (tcb.state === 'SYN-RECEIVED') {
    if (seqLt(tcb.sndUna, seg.ack) && seqLe(seg.ack, tcb.sndMax)) {
      establishFromSynReceived(tcb, seg);
      if ((tcb.state as TcpState) === 'CLOSED') return;
    } else {
      replyRst(tcb, seg.ack);
      drop(tcb, 'syn-received: unacceptable ack');
      return;
    }
  } else if (!ackAcceptable(tcb, seg)) {
    return;
  } else if (!processAck(tcb, seg)) {
    return;
  }

  switch (tcb.state) {
    case 'FIN-WAIT-1':
      // A FIN riding on the ACK of our FIN takes FIN-WAIT-1 straight to TIME-WAIT in the
      // eighth step (processFin); otherwise FIN-WAIT-2 now (RFC 9293 §3.10.7.4 fifth step).
      if (tcb.finAcked && !((f & TCP_FIN) && textOk)) {
        tcb.setState('FIN-WAIT-2', 'rcv ACK of FIN');
        if (tcb.orphan) tcb.armFinWait2();
      }
      break;
    case 'CLOSING':
      if (tcb.finAcked) { enterTimeWait(tcb, 'rcv ACK of FIN'); return; }
      return; // "otherwise, ignore the segment"
    case 'LAST-ACK':
      if (tcb.finAcked) { tcb.closeTcb('normal', null); }
      return;
    case 'TIME-WAIT':
      // "The only thing that can arrive in this state is a retransmission of the remote FIN.
      // Acknowledge it" (§3.10.7.4 fifth step): like Linux (tcp_timewait_state_process), every
      // acceptable segment but a bare ACK at RCV.NXT is acknowledged — data ("ignored" by the
      // seventh step, but its sender needs to learn where we are), a FIN at RCV.NXT (which
      // also restarts the 2·MSL timer, eighth step), a bare ACK elsewhere in the window. The
      // zero-length ones at the tcp_invalid_ratelimit rate (an ACK loop cannot form).
      if (segLen > 0 || seg.seq !== tcb.rcvNxt) {
        if (f & TCP_FIN) restartTimeWait(tcb);
        ackUnacceptable(tcb, seg);
      }
      return;
    default:
      break;
  }

  // Sixth, check the URG bit: remember the urgent pointer; data is delivered inline (RFC 6093).
  if ((f & TCP_URG) && (tcb.state === 'ESTABLISHED' || tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2')) {
    const up = seqAdd(seg.seq, seg.urgentPointer);
    // RCV.UP <- max(RCV.UP, SEG.UP); a pointer already passed by RCV.NXT no longer counts.
    if (seqGt(up, tcb.rcvUp) || seqLe(tcb.rcvUp, tcb.rcvNxt)) tcb.rcvUp = up;
  }

  // Seventh, process the segment text.
  if (payloadLen > 0 && textOk) {
    if (tcb.state === 'ESTABLISHED' || tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2') {
      // RFC 1122 §4.2.2.13: after CLOSE nobody reads; "if new data is received after CLOSE is
      // called, its TCP SHOULD send a RST to show that data was lost" (Linux: TCPAbortOnData).
      // A half-close (shutdown(SHUT_WR), orphan=false) still receives normally — unless the
      // reading side was shut too (SHUT_RD): then, in FIN-WAIT-1/2, Linux resets as after
      // close (tcp_rcv_state_process: sk_shutdown & RCV_SHUTDOWN), and so do we; in
      // ESTABLISHED, data after SHUT_RD is still queued (processText).
      // The RST answers the segment, as Linux (tcp_v4_send_reset after tcp_reset):
      // <SEQ=SEG.ACK><CTL=RST> — RFC 9293 leaves its form open; SEG.ACK is our SND.NXT as
      // the peer knows it, so the peer accepts it.
      const finWait = tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2';
      if ((tcb.orphan || (tcb.readShutdown && finWait)) && seqGt(seqAdd(seg.seq, payloadLen), tcb.rcvNxt)) {
        c.TcpExtTCPAbortOnData++;
        replyRst(tcb, seg.ack);
        if (tcb.orphan) tcb.closeTcb('abort', null);
        else tcb.closeTcb('reset', 'ECONNRESET');
        return;
      }
      processText(tcb, seg.seq, seg.payload);
    }
  }

  // Eighth, check the FIN bit.
  if ((f & TCP_FIN) && textOk) processFinBit(tcb, seqAdd(seg.seq, payloadLen));
  // Our FIN was acknowledged but the peer's FIN could not be processed (out of order, or the
  // text did not all fit): FIN-WAIT-2 after all.
  if (tcb.state === 'FIN-WAIT-1' && tcb.finAcked) {
    tcb.setState('FIN-WAIT-2', 'rcv ACK of FIN');
    if (tcb.orphan) tcb.armFinWait2();
  }
}

/**
 * "If an incoming segment is not acceptable, an acknowledgment should be sent in reply"
 * (§3.10.7.4) — but two endpoints that disagree about the sequence space (after a blind
 * data injection, or with each other's stale windows) answer each other's bare ACKs with
 * bare ACKs forever: an ACK storm. As Linux (tcp_oow_rate_limited, tcp_invalid_ratelimit
 * 500 ms per socket), replies to zero-length segments are rate-limited; segments carrying
 * data or a FIN are not part of such a loop and are always answered (a lost ACK's retransmission).
 */
function ackUnacceptable(tcb: Tcb, seg: SegmentIn): void {
  // Linux tcp_oow_rate_limited: "data packets without SYNs are not likely part of an ACK loop";
  // a SYN is limited whatever it carries.
  const zeroLength = (seg.payload.length === 0 && !(seg.flags & TCP_FIN)) || (seg.flags & TCP_SYN) !== 0;
  if (!zeroLength || tcb.invalidAckLimiter.allow(tcb.now)) tcb.ackNow = true;
  else tcb.host.counters.TcpExtTCPACKSkippedSeq++;
}

/** SYN-RECEIVED → ESTABLISHED on an acceptable ACK (§3.10.7.4 fifth step). */
function establishFromSynReceived(tcb: Tcb, seg: SegmentIn): void {
  tcb.sndWnd = seg.window << tcb.sndWscale;
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  // MAX.SND.WND (RFC 5961 §5, and the "maximum window" of sender SWS avoidance, RFC 1122
  // §4.2.3.4) starts, on a passive open, from the window of this ACK, as on Linux
  // (tcp_create_openreq_child: max_window = the handshake ACK's window): the SYN's window
  // was offered before the peer knew our options (RFC 7323 §2.2: never scaled).
  tcb.maxSndWnd = tcb.passive ? tcb.sndWnd : Math.max(tcb.maxSndWnd, tcb.sndWnd);
  if (tcb.passive) tcb.host.counters.TcpPassiveOpens++;
  const synTimedOut = tcb.retransmits > 0;
  processAck(tcb, seg);
  // RFC 6298 §5.7: the SYN-ACK timed out and no RTT sample came of it → RTO 3 s for the data.
  if (synTimedOut && !tcb.rtt.hasSample) tcb.rtt.reset(true);
  // RFC 5681 §3.1: after a lost SYN-ACK (or SYN, simultaneous open) the initial window is one segment.
  if (synTimedOut) tcb.cc.cwnd = tcb.effMss;
  tcb.setState('ESTABLISHED', 'rcv ACK of SYN');
  tcb.armKeepalive();
  tcb.user?.onEstablished?.();
  // A CLOSE issued in SYN-RECEIVED waits until here (§3.10.4).
  if (tcb.finQueued && tcb.state === 'ESTABLISHED') tcb.setState('FIN-WAIT-1', 'user: close');
}

/** RFC 5961 §5.2 ACK acceptability; RFC 9293: an ACK for unsent data gets an ACK. */
function ackAcceptable(tcb: Tcb, seg: SegmentIn): boolean {
  if (seqGt(seg.ack, tcb.sndMax)) {
    sendChallengeAck(tcb);
    drop(tcb, 'ack of unsent data');
    return false;
  }
  if (seqLt(seg.ack, seqAdd(tcb.sndUna, -tcb.maxSndWnd))) {
    sendChallengeAck(tcb);
    drop(tcb, 'ack too old');
    return false;
  }
  return true;
}

/**
 * The ESTABLISHED-state ACK processing shared by every synchronized state: advance
 * SND.UNA, free acknowledged data, sample the RTT, feed congestion control and loss
 * recovery, manage the retransmission timer (RFC 6298 §5), update the send window.
 */
function processAck(tcb: Tcb, seg: SegmentIn): boolean {
  const ack = seg.ack;
  // "Something worked": an acceptable ACK clears a remembered ICMP soft error and the count
  // of unanswered zero-window probes (Linux tcp_ack: sk_err_soft = 0, icsk_probes_out = 0).
  tcb.softError = null;
  tcb.probesOut = 0;
  const wnd = (seg.flags & TCP_SYN) ? seg.window : seg.window << tcb.sndWscale;
  // RFC 5681 §2 compares with the window advertised before this segment.
  const sameWindow = wnd === tcb.sndWnd;
  // Send window update (§3.10.7.4), done before the ACK is acted on: fast retransmit and the
  // NewReno partial-ACK retransmission below send at once and must see this segment's window
  // (with the new SND.UNA and the old window they overran the peer's window, RFC 9293 §3.8.6).
  // Only from segments newer than the last update (Linux tcp_may_update_window): one that
  // acknowledges new data always is (the peer wrote window and ACK together; a go-back-N
  // retransmission carries an old SEG.SEQ but its current window, and SND.UNA + the old
  // window would put the right edge beyond the peer's). With the same SEG.SEQ and SEG.ACK (a
  // reordered copy of a pure window update) the window may only grow, or close to zero: an
  // older, smaller window would move the right edge left under data already sent.
  if (seqGt(ack, tcb.sndUna) || seqLt(tcb.sndWl1, seg.seq) ||
      (tcb.sndWl1 === seg.seq && (seqLt(tcb.sndWl2, ack) || (tcb.sndWl2 === ack && (wnd >= tcb.sndWnd || wnd === 0))))) {
    tcb.sndWnd = wnd;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = ack;
    if (wnd > tcb.maxSndWnd) tcb.maxSndWnd = wnd;
  }
  // RFC 6675 §5: every ACK's SACK blocks go into the scoreboard first. One that SACKs new
  // octets is a duplicate acknowledgment (§2) even if it also moves SND.UNA or the window.
  const newSack = tcb.sackOk && sackUpdate(tcb, seg.opts, ack);
  let writable = false;
  if (seqGt(ack, tcb.sndUna)) {
    // RFC 5681 §3.1: the ACK of our SYN (SYN-ACK) "MUST NOT increase the size of the congestion
    // window": its sequence number is not counted as acknowledged data.
    const acked = seqDiff(ack, tcb.sndUna) - (tcb.sndUna === tcb.iss ? 1 : 0);
    const dataEnd = tcb.sndDataEnd;
    const ackData = seqGt(ack, dataEnd) ? dataEnd : ack;
    let freed = 0;
    if (seqGt(ackData, tcb.sndBufSeq)) {
      freed = seqDiff(ackData, tcb.sndBufSeq);
      tcb.sndBuf.consume(freed);
      tcb.sndBufSeq = ackData;
      tcb.bytesAcked += freed;
    }
    tcb.sndUna = ack;
    if (seqLt(tcb.sndNxt, tcb.sndUna)) tcb.sndNxt = tcb.sndUna;
    const rttSample = sampleRtt(tcb, seg);
    // RFC 6298 §5 (note after 5.7): the backed-off RTO collapses "once a new RTT measurement
    // is obtained"; an ACK of retransmitted data gives none (Karn, §3), so the backoff stays
    // for the next data until one does (Linux tcp_ack_update_rtt: "only reset backoff on
    // valid RTT measurement").
    if (rttSample !== null) tcb.rtt.resetBackoff();
    tcb.retransmits = 0;
    tcb.persistBackoff = 0;
    onNewAck(tcb, acked, rttSample, newSack);
    // RFC 6298 §5.2/§5.3: all data acknowledged → stop the timer; otherwise restart it.
    if (tcb.sndUna === tcb.sndMax) {
      tcb.rtoAt = Infinity;
      tcb.unackedSince = -1;
    } else {
      tcb.rtoAt = tcb.now + tcb.rtt.rto;
      tcb.unackedSince = tcb.now;
    }
    writable = freed > 0 && !tcb.finQueued;
    if (tcb.sndBuf.length === 0) tcb.sndBuf.release();
  } else if (ack === tcb.sndUna) {
    // RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT": outstanding data, no data or SYN/FIN on the ACK,
    // same ACK number and the same advertised window.
    if ((seg.payload.length === 0 && !(seg.flags & (TCP_SYN | TCP_FIN)) && seqGt(tcb.sndMax, tcb.sndUna) && sameWindow) || newSack) {
      onDupAck(tcb, newSack);
    }
  }
  // Tell the user only now (after the window update above): a write from onWritable sends at
  // once, and must see this segment's window, not the old window from the new SND.UNA (which
  // overran the kernel's receive window in the TUN interop test, RFC 9293 §3.8.6).
  if (writable) tcb.user?.onWritable?.();
  return true;
}

/** RTT measurement: timestamps when negotiated (RFC 7323 §4.1), else Karn-timed segments (RFC 6298 §3). */
function sampleRtt(tcb: Tcb, seg: SegmentIn): number | null {
  let r = -1;
  if (tcb.tsOk && seg.opts.tsPresent && seg.opts.tsEcr !== 0) {
    // Not from an echo older than our latest retransmission (Tcb.rtxTsVal, RFC 7323 §4.3 (C)).
    if (tcb.rtxTsVal < 0 || !tsLt(seg.opts.tsEcr, tcb.rtxTsVal)) {
      const ms = (tcb.tsNow() - seg.opts.tsEcr) | 0;
      if (ms >= 0 && ms < 3_600_000) r = Math.max(ms * 1000, 1);
    }
  } else if (tcb.rttStart >= 0 && seqGe(seg.ack, tcb.rttSeq)) {
    r = Math.max(tcb.now - tcb.rttStart, 1);
    tcb.rttStart = -1;
  }
  if (r < 0) return null;
  tcb.rtt.sample(r);
  return r;
}

/**
 * Seventh step: take the segment text starting at `seq` (trimmed to the window by the
 * receive buffer), advance RCV.NXT over what became contiguous, and decide how to ACK:
 * immediately for out-of-order data and hole fills (RFC 5681 §4.2, RFC 2018), during
 * quick-ack at start, or for every second full-sized segment; else via the delayed-ACK
 * timer (RFC 1122 §4.2.3.2, Linux 40 ms).
 */
export function processText(tcb: Tcb, seq: number, payload: Uint8Array): void {
  const len = payload.length;
  if (len === 0) return;
  if (len > tcb.rcvMss) tcb.rcvMss = Math.min(len, tcb.mssOur);
  const off = seqDiff(seq, tcb.rcvNxt);
  // A FIN waiting beyond a hole counts as out-of-order data (Linux keeps it in the ofo queue).
  const hadHoles = tcb.rcvBuf.hasOutOfOrder || tcb.pendingFinSeq >= 0;
  // In-order text that finds nothing readable is held in the packet (defer) for a reader
  // that takes it from onReadable below: one copy, packet → reader (ReceiveBuffer.pend).
  const adv = tcb.rcvBuf.write(off, payload, true);
  if (adv > 0 || (off > 0 && tcb.sackOk)) growRcvWindow(tcb, len);
  if (adv > 0) {
    tcb.rcvNxt = seqAdd(tcb.rcvNxt, adv);
    tcb.bytesReceived += adv;
    textAckQuickOnly = false;
    if (hadHoles) {
      tcb.ackNow = true;
    } else {
      tcb.unackedRcvBytes += adv;
      if (tcb.quickAcks > 0) { tcb.quickAcks--; textAckQuickOnly = !tcb.ackNow && tcb.unackedRcvBytes < 2 * tcb.rcvMss; tcb.ackNow = true; }
      else if (tcb.unackedRcvBytes >= 2 * tcb.rcvMss) tcb.ackNow = true;
      else if (tcb.delackAt === Infinity) {
        tcb.delackAt = tcb.now + tcb.host.options.tcp_delack_min * 1000;
        if (tcb.host.tracer !== null) tcb.traceTimer('delack', 'set', tcb.delackAt);
      }
    }
    // Data first, then the end (as on the in-order path, where the eighth step follows the
    // seventh): a retransmission that fills the last hole before an out-of-order FIN used to
    // signal onEnd before onReadable, and a reader that stopped at "end" lost the tail.
    // After shutdown(SHUT_RD) the data is still queued and readable, as on Linux (which only
    // makes a read that finds the queue empty return 0); RFC 9293 has no half-close of receiving.
    // What the reader left goes into the ring now: the packet's memory is not ours after this.
    try { if (tcb.rcvBuf.readable > 0) tcb.user?.onReadable?.(); } finally { tcb.rcvBuf.settle(); }
    if (tcb.pendingFinSeq >= 0 && tcb.pendingFinSeq === tcb.rcvNxt && tcb.state !== 'CLOSED') processFin(tcb);
  } else {
    // Out of order, or an old duplicate: ACK at once so the sender sees duplicate ACKs / SACKs.
    if (off > 0) tcb.host.counters.TcpExtTCPOFOQueue++;
    tcb.ackNow = true;
  }
}

/** The ACK processText just asked for is only the quick-ACK start's (see processFin). */
let textAckQuickOnly = false;

/** Record a duplicate [left, right) for the D-SACK block of our next ACK (RFC 2883), if SACK is in use. */
function noteDsack(tcb: Tcb, left: number, right: number): void {
  // Linux does not SACK from TIME-WAIT (its ACKs there carry no SACK blocks).
  if (!tcb.sackOk || tcb.state === 'TIME-WAIT') return;
  tcb.dsack = true;
  tcb.dsackLeft = left;
  tcb.dsackRight = seqGt(right, tcb.rcvNxt) ? tcb.rcvNxt : right;
}

/** Eighth step for a FIN at `finSeq`: process it now if all data before it is in, else remember it. */
function processFinBit(tcb: Tcb, finSeq: number): void {
  if (tcb.finReceived) return;
  if (finSeq === tcb.rcvNxt) processFin(tcb);
  else if (seqGt(finSeq, tcb.rcvNxt)) { tcb.pendingFinSeq = finSeq; tcb.ackNow = true; }
}

/** "Signal the user 'connection closing' … advance RCV.NXT over the FIN, and send an acknowledgment." */
function processFin(tcb: Tcb): void {
  tcb.pendingFinSeq = -1;
  tcb.finReceived = true;
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  const urgent = tcb.ackNow && !textAckQuickOnly;
  tcb.ackNow = true;
  switch (tcb.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      tcb.setState('CLOSE-WAIT', 'rcv FIN');
      // The application will likely answer (and close): Linux tcp_fin enters "pingpong" mode,
      // and the ACK of the FIN is delayed like an ACK of data (RFC 1122 §4.2.3.2 allows it,
      // RFC 9293 §3.10.7.4 eighth step only says to send one): by the delayed-ACK time (its
      // ato, 40 ms) once data has been received, at once before any (ato still 0). An ACK
      // the data itself needs now (a filled hole, two full segments) still goes at once;
      // the quick-ACK start does not count (pingpong ends it).
      if (!urgent && tcb.bytesReceived > 0) {
        tcb.ackNow = false;
        if (tcb.delackAt === Infinity) {
          tcb.delackAt = tcb.now + tcb.host.options.tcp_delack_min * 1000;
          if (tcb.host.tracer !== null) tcb.traceTimer('delack', 'set', tcb.delackAt);
        }
      }
      break;
    case 'FIN-WAIT-1':
      if (tcb.finAcked) enterTimeWait(tcb, 'rcv FIN+ACK');
      else tcb.setState('CLOSING', 'rcv FIN');
      break;
    case 'FIN-WAIT-2':
      tcb.finWait2At = Infinity;
      enterTimeWait(tcb, 'rcv FIN');
      break;
    case 'TIME-WAIT':
      restartTimeWait(tcb);
      break;
    default:
      break;
  }
  tcb.user?.onEnd?.();
}

function restartTimeWait(tcb: Tcb): void {
  tcb.timeWaitAt = tcb.now + 2 * tcb.host.options.tcp_msl * 1_000_000;
  if (tcb.host.tracer !== null) tcb.traceTimer('time-wait', 'set', tcb.timeWaitAt);
}

/** RST accepted (sequence exactly RCV.NXT): §3.10.7.4 second step, per state. */
function resetConnection(tcb: Tcb): void {
  switch (tcb.state) {
    case 'SYN-RECEIVED':
      if (tcb.passive) tcb.closeTcb('reset', null);          // back to LISTEN: the listener forgets it
      else tcb.closeTcb('refused', 'ECONNREFUSED');
      return;
    case 'ESTABLISHED':
      tcb.host.counters.TcpEstabResets++;
      tcb.closeTcb('reset', 'ECONNRESET');
      return;
    case 'CLOSE-WAIT':
      // "Reset" for the calls that can still be outstanding — only SENDs, the peer's FIN has
      // ended the receiving side: the error is EPIPE, as Linux (tcp_reset: sk_err = EPIPE
      // in CLOSE_WAIT), and a read still returns the end of file.
      tcb.host.counters.TcpEstabResets++;
      tcb.closeTcb('reset', 'EPIPE');
      return;
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      tcb.closeTcb('reset', 'ECONNRESET');
      return;
    default:
      // RFC 1337 §3: with tcp_rfc1337, TIME-WAIT ignores RSTs so they cannot "assassinate" it.
      if (tcb.state === 'TIME-WAIT' && tcb.host.options.tcp_rfc1337) { drop(tcb, 'time-wait: rst ignored (rfc1337)'); return; }
      // CLOSING, LAST-ACK, TIME-WAIT: enter CLOSED (RFC 1337 hazards noted in docs/conformance.md).
      tcb.closeTcb('reset', null);
  }
}

/** <SEQ=SEG.ACK><CTL=RST> in reply to an unacceptable ACK. */
function replyRst(tcb: Tcb, seq: number): void {
  const s = tcb.out;
  s.seq = seq; s.ack = 0; s.flags = TCP_RST; s.window = 0; s.urgentPointer = 0; s.payload = null; s.retransmit = false;
  const o = s.opts; o.mss = -1; o.wscale = -1; o.sackPermitted = false; o.ts = false; o.sack.length = 0;
  tcb.host.counters.TcpOutRsts++;
  tcb.segsOut++;
  tcb.host.emit(tcb, s);
}

function drop(tcb: Tcb, reason: string): void {
  const tr = tcb.host.tracer;
  if (tr !== null) tr({ type: 'drop', t: tcb.now, host: tcb.host.traceHost, conn: tcb.connId, reason });
}

