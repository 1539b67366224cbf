// Loss recovery without SACK: fast retransmit on three duplicate ACKs and NewReno fast
// recovery (RFC 5681 §3.2, RFC 6582 §3.2), limited transmit (RFC 3042). The congestion
// controller (cc/) decides window sizes; this module decides what to retransmit and when.
// These are the engine's entry points for loss recovery: a connection that negotiated SACK
// (tcb.sackOk) is dispatched to SACK-based recovery (RFC 6675, sack.ts) — gVisor picks its
// loss recovery per connection the same way.
import type { Tcb } from '../tcb.js';
import { seqAdd, seqDiff, seqGe, seqGt } from '../seq.js';
import { sendData } from '../output.js';
import { DUP_THRESH } from './scoreboard.js';
import { sackDupAck, sackNewAck, sackRetransmitTimeout } from './sack.js';

/** RFC 5681 §3.2: DupThresh. */
export { DUP_THRESH };

/**
 * An ACK that did not move SND.UNA and is a duplicate: by RFC 5681 §2 (checked by the
 * caller), or, with SACK, because it SACKed new octets (`newSack`, RFC 6675 §2).
 */
export function onDupAck(tcb: Tcb, newSack = false): void {
  if (tcb.sackOk) { sackDupAck(tcb, newSack); return; }
  tcb.dupAcks++;
  if (tcb.dupAcks === 1) tcb.limitedTransmitBytes = 0;
  const mss = tcb.effMss;
  if (tcb.inRecovery) {
    // RFC 6582 §3.2 step 4: inflate by one SMSS per further duplicate ACK.
    tcb.cc.cwnd += mss;
    return;
  }
  if (tcb.dupAcks === DUP_THRESH) {
    // RFC 6582 §3.2 step 2: only if the ACK covers more than "recover" (avoids a second
    // reduction for losses from the same window after an RTO).
    if (!seqGt(tcb.sndUna, tcb.recover)) return;
    tcb.recover = tcb.sndMax;
    // RFC 5681 §3.2 step 2: "data sent in limited transmit MUST NOT be included in this calculation".
    tcb.cc.onLossDetected(tcb.inFlight - tcb.limitedTransmitBytes, tcb.now);
    tcb.inRecovery = true;
    tcb.host.counters.TcpExtTCPFastRetrans++;
    tcb.host.counters.TcpExtTCPRenoRecovery++;
    retransmitHead(tcb);
    // RFC 6582 §3.2 step 3: cwnd = ssthresh + 3*SMSS.
    tcb.cc.cwnd = tcb.cc.ssthresh + DUP_THRESH * mss;
    return;
  }
  if (tcb.dupAcks < DUP_THRESH) limitedTransmit(tcb);
}

/** New data was cumulatively acknowledged (`acked` bytes of sequence space); `newSack`: the ACK also SACKed new octets. */
export function onNewAck(tcb: Tcb, acked: number, rtt: number | null, newSack = false): void {
  if (tcb.sackOk) { sackNewAck(tcb, acked, rtt, newSack); return; }
  if (tcb.inRecovery) {
    const mss = tcb.effMss;
    if (seqGe(tcb.sndUna, tcb.recover)) {
      // Full acknowledgment (RFC 6582 §3.2 step 3 of "Full acknowledgments"): deflate.
      tcb.inRecovery = false;
      tcb.dupAcks = 0;
      tcb.cc.onRecoveryExit(tcb.now);
      tcb.cc.cwnd = Math.min(tcb.cc.ssthresh, Math.max(tcb.inFlight, mss) + mss);
    } else {
      // Partial acknowledgment (step 5): retransmit the first unacknowledged segment,
      // deflate by the amount acked, add back one SMSS if at least one SMSS was acked.
      retransmitHead(tcb);
      tcb.cc.cwnd = Math.max(mss, tcb.cc.cwnd - acked + (acked >= mss ? mss : 0));
    }
    return;
  }
  tcb.dupAcks = 0;
  tcb.cc.onAck(acked, tcb.now, rtt, tcb.inFlight);
}

/** The retransmission timer expired (RFC 5681 §3.1 eq. 4; RFC 6582 §3.2 step 1 "recover"). */
export function onRetransmitTimeout(tcb: Tcb): void {
  tcb.cc.onRto(tcb.inFlight, tcb.now);
  tcb.inRecovery = false;
  tcb.dupAcks = 0;
  tcb.recover = tcb.sndMax;
  if (tcb.sackOk) sackRetransmitTimeout(tcb);
}

/** Resend the segment at SND.UNA without moving SND.NXT. */
export function retransmitHead(tcb: Tcb): void {
  const dataLeft = seqDiff(tcb.sndDataEnd, tcb.sndUna);
  let len = Math.min(tcb.effMss, Math.max(0, dataLeft));
  // With SACK, stop at the next SACKed range: the receiver holds it (RFC 6675 §5.1). The
  // head itself is always sent (RFC 2018 §5: "MUST retransmit the segment at the left edge").
  if (tcb.sackOk) len = Math.min(len, Math.max(1, seqDiff(tcb.scoreboard.holeEnd(tcb.sndUna, tcb.sndDataEnd), tcb.sndUna)));
  // Never beyond the peer's window (RFC 9293 §3.8.6; Linux tcp_retransmit_skb avail_wnd): the
  // excess would be dropped and SND.NXT would leave the window, so our ACKs became unacceptable.
  // A zero window still gets one segment: it doubles as a window probe.
  if (tcb.sndWnd > 0 && len > tcb.sndWnd) len = tcb.sndWnd;
  const finState = tcb.state === 'FIN-WAIT-1' || tcb.state === 'CLOSING' || tcb.state === 'LAST-ACK';
  const withFin = tcb.finSent && finState && len === dataLeft;
  if (len === 0 && !withFin) return;
  const savedNxt = tcb.sndNxt;
  sendData(tcb, tcb.sndUna, len, withFin);
  if (seqGt(savedNxt, tcb.sndNxt)) tcb.sndNxt = savedNxt;
}

/**
 * RFC 3042: on the first and second duplicate ACK, send one new segment if the receiver's
 * window allows and the flight stays within cwnd + 2*SMSS.
 */
function limitedTransmit(tcb: Tcb): void {
  const unsent = tcb.unsentBytes;
  if (unsent <= 0) return;
  const mss = tcb.effMss;
  const len = Math.min(unsent, mss);
  const rwndEdge = seqAdd(tcb.sndUna, tcb.sndWnd);
  if (seqGt(seqAdd(tcb.sndNxt, len), rwndEdge)) return;
  if (tcb.inFlight + len > tcb.cc.cwnd + 2 * mss) return;
  if (len < mss && !tcb.noDelay) return;
  const before = tcb.sndNxt;
  sendData(tcb, before, len, false);
  tcb.limitedTransmitBytes += seqDiff(tcb.sndNxt, before);
}
