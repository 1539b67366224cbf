// Building and sending segments: SYN, SYN-ACK, data with segmentation, Nagle and sender
// SWS avoidance, FIN, ACKs with the advertised window, RST. The TCB's `out` object is
// filled and handed to the host, which serializes it synchronously.
import type { Tcb } from './tcb.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt, seqMax } from './seq.js';
import { sackTransmit } from './recovery/sack.js';

/**
 * Send what the state and the windows allow: the SYN/SYN-ACK when not yet sent, queued
 * data, the FIN, and a pending ACK if nothing else carried it. Called after every event.
 */
export function output(tcb: Tcb): void {
  switch (tcb.state) {
    case 'CLOSED':
    case 'LISTEN':
      return;
    case 'SYN-SENT':
      if (tcb.sndNxt === tcb.iss) sendSyn(tcb, false);
      return;
    case 'SYN-RECEIVED':
      if (tcb.sndNxt === tcb.iss) sendSyn(tcb, true);
      else if (tcb.ackNow) sendAck(tcb);
      return;
    case 'TIME-WAIT':
      if (tcb.ackNow) sendAck(tcb);
      return;
    default: {
      const sent = transmitData(tcb);
      if (!sent && tcb.ackNow) sendAck(tcb);
      armPersistIfStalled(tcb);
    }
  }
}

/** SYN (active open) or SYN-ACK (passive open / simultaneous open), at ISS. */
export function sendSyn(tcb: Tcb, withAck: boolean, retransmit = seqGt(tcb.sndMax, tcb.iss)): void {
  const s = tcb.out;
  s.seq = tcb.iss;
  s.flags = withAck ? TCP_SYN | TCP_ACK : TCP_SYN;
  s.ack = withAck ? tcb.rcvNxt : 0;
  s.payload = null;
  s.urgentPointer = 0;
  s.retransmit = retransmit;
  const o = s.opts;
  o.mss = tcb.mssOur;
  // On a SYN-ACK we only echo what the peer offered (RFC 7323 §1.3, RFC 2018 §2).
  o.sackPermitted = tcb.wantSack && (!withAck || tcb.sackOk);
  o.ts = tcb.wantTs && (!withAck || tcb.tsOk);
  o.tsVal = o.ts ? tcb.tsNow() : 0;
  o.tsEcr = withAck && o.ts ? tcb.tsRecent : 0;
  o.wscale = tcb.wantWs && (!withAck || tcb.wsOk) ? tcb.rcvWscale : -1;
  if (o.sack.length !== 0) o.sack.length = 0; // (the length setter is a runtime call)
  // RFC 7323 §2.2: the window field of a SYN is never scaled. As Linux, a whole number of
  // segments (tcp_select_initial_window): 64240 for MSS 1460, 65160 with timestamps (1448).
  s.window = initialRcvWindow(tcb.fullSpace, tcb.mssOur - (withAck && o.ts ? 12 : 0));
  tcb.rcvAdv = seqAdd(tcb.rcvNxt, s.window);
  // Linux: rcv_ssthresh starts at the window the SYN offered (tcp_connect_init, tcp_openreq_init_rwin).
  tcb.rcvSsthresh = s.window;
  if (withAck) tcb.lastAckSent = tcb.rcvNxt;
  tcb.sndNxt = seqAdd(tcb.iss, 1);
  tcb.sndMax = seqMax(tcb.sndMax, tcb.sndNxt);
  if (s.retransmit) noteRetransmit(tcb);
  else { tcb.rttSeq = tcb.sndNxt; tcb.rttStart = tcb.now; }
  if (tcb.rtoAt === Infinity) armRto(tcb);
  emit(tcb);
}

/**
 * A bare ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 9293 §3.10.7.4), except that after a
 * go-back-N rewind SND.NXT lies below what the peer already received, and a zero-length
 * segment below RCV.NXT is unacceptable (§3.10.7.4 Table 6): each side then dropped the
 * other's ACKs. Like BSD tcp_output ("use snd_max instead of snd_nxt" for ACK-only segments;
 * Linux never rewinds snd_nxt), a bare ACK carries SND.MAX.
 */
export function sendAck(tcb: Tcb): void {
  prepare(tcb, tcb.sndMax, TCP_ACK);
  emit(tcb);
}

/** Keepalive / zero-window probe: <SEQ=SND.UNA−1><ACK=RCV.NXT>, no data (Linux tcp_xmit_probe_skb; RFC 1122 §4.2.3.6). */
export function sendProbe(tcb: Tcb): void {
  prepare(tcb, seqAdd(tcb.sndUna, -1), TCP_ACK);
  emit(tcb);
}

/** RST from within a connection: <SEQ=seq><CTL=RST> (ACK set when synchronized, as Linux does). */
export function sendRst(tcb: Tcb, seq: number): void {
  const s = tcb.out;
  s.seq = seq;
  s.ack = tcb.rcvNxt;
  s.flags = tcb.state === 'SYN-SENT' ? TCP_RST : TCP_RST | TCP_ACK;
  s.window = 0;
  s.urgentPointer = 0;
  s.payload = null;
  s.retransmit = false;
  const o = s.opts;
  o.mss = -1; o.wscale = -1; o.sackPermitted = false; if (o.sack.length !== 0) o.sack.length = 0;
  // RFC 7323 §3.2: once negotiated, the TSopt "SHOULD be sent in an <RST> segment" — as
  // Linux's tcp_send_active_reset does (its RSTs in reply to a segment carry none).
  o.ts = tcb.tsOk && tcb.state !== 'SYN-SENT';
  if (o.ts) { o.tsVal = tcb.tsNow(); o.tsEcr = tcb.tsRecent; }
  tcb.host.counters.TcpOutRsts++;
  emit(tcb);
}

/**
 * Challenge ACK (RFC 5961 §3.2, §4.2, §5.2), rate-limited as §7 asks and as Linux
 * tcp_send_challenge_ack does: first per connection (at most one per tcp_invalid_ratelimit,
 * the same per-connection clock as the ACKs answering out-of-window segments), then by the
 * stack-wide budget, which is randomised per second so it cannot be observed (ratelimit.ts
 * ChallengeAckBudget, CVE-2016-5696).
 */
export function sendChallengeAck(tcb: Tcb): void {
  if (!tcb.invalidAckLimiter.allow(tcb.now)) { tcb.host.counters.TcpExtTCPACKSkippedChallenge++; return; }
  if (!tcb.host.challengeAckAllowed(tcb.now)) return;
  tcb.host.counters.TcpExtTCPChallengeACK++;
  sendAck(tcb);
}

/** Fill `out` for a segment at `seq` with `flags` (no payload), window and options. */
function prepare(tcb: Tcb, seq: number, flags: number): void {
  const s = tcb.out;
  s.seq = seq;
  s.flags = flags;
  s.ack = tcb.rcvNxt;
  s.payload = null;
  s.urgentPointer = 0;
  s.retransmit = false;
  const o = s.opts;
  o.mss = -1; o.wscale = -1; o.sackPermitted = false;
  o.ts = tcb.tsOk;
  if (o.ts) { o.tsVal = tcb.tsNow(); o.tsEcr = tcb.tsRecent; }
  fillSack(tcb, o.sack);
  s.window = advertiseWindow(tcb);
  tcb.lastAckSent = tcb.rcvNxt;
}

/**
 * SACK blocks for out-of-order data (RFC 2018 §4): 3 blocks fit next to a timestamp, 4
 * without. A pending D-SACK block goes first, once (RFC 2883 §4; Linux tcp_dsack_set, cleared
 * when a segment has carried it).
 */
function fillSack(tcb: Tcb, out: number[]): void {
  if (out.length !== 0) out.length = 0;
  if (!tcb.sackOk) return;
  if (tcb.dsack) {
    tcb.dsack = false;
    out.push(tcb.dsackLeft, tcb.dsackRight);
  }
  if (!tcb.rcvBuf.hasOutOfOrder) return;
  const blocks = tcb.rcvBuf.sackBlocks((tcb.tsOk ? 3 : 4) - out.length / 2);
  for (const [l, r] of blocks) out.push(seqAdd(tcb.rcvNxt, l), seqAdd(tcb.rcvNxt, r));
}

/**
 * The window to announce, as the raw 16-bit field. Receiver SWS avoidance (RFC 1122
 * §4.2.3.3): the right edge only moves when it can move by min(buffer/2, MSS); it never
 * moves left (RFC 9293 §3.8.6: "the total of RCV.NXT and RCV.WND should not be reduced").
 */
export function advertiseWindow(tcb: Tcb): number {
  const oldRight = seqGt(tcb.rcvAdv, tcb.rcvNxt) ? tcb.rcvAdv : tcb.rcvNxt;
  const free = tcb.rcvWndAvail;
  const unit = 2 ** tcb.rcvWscale;
  // Linux __tcp_select_window: the offer is the free space, but no more than rcv_ssthresh
  // (autotune.ts growRcvWindow), and then aligned *up* to the scale unit ("Advertise enough space so
  // that it won't get scaled away") — the familiar "win 502" (64256 = ALIGN(64240, 128)) of a
  // Linux client's third handshake segment. Aligning up never goes beyond the buffer here.
  let offer = free;
  if (tcb.rcvSsthresh < free) offer = Math.min(free, Math.ceil(tcb.rcvSsthresh / unit) * unit);
  const newRight = seqAdd(tcb.rcvNxt, offer);
  let right = oldRight;
  let keepOld = true;
  if (seqGt(newRight, oldRight)) {
    if (seqDiff(newRight, oldRight) >= tcb.rcvSwsThreshold) { right = newRight; keepOld = false; }
  }
  const wnd = seqDiff(right, tcb.rcvNxt);
  // Round up when holding the old edge so scaling never shrinks it; down otherwise.
  let raw = keepOld ? Math.ceil(wnd / unit) : Math.floor(wnd / unit);
  // RFC 7323 §2.4: rounding up may promise space beyond the buffer. Each ACK would ratchet
  // rcvAdv a little further (rcvNxt moves by amounts that are not multiples of the unit), until
  // the peer sends data the buffer must trim — seen as loss, answered with spurious fast
  // retransmits. Retract to what the buffer holds instead (by less than one unit, normally).
  if (keepOld && raw * unit > tcb.rcvWndAvail) raw = Math.min(raw, Math.floor(tcb.rcvWndAvail / unit));
  if (raw > 65535) raw = 65535;
  const edge = seqAdd(tcb.rcvNxt, raw * unit);
  if (seqGt(edge, tcb.rcvAdv)) tcb.rcvAdv = edge;
  return raw;
}

/**
 * Send queued data (and the FIN) as the send window, congestion window, Nagle (RFC 896,
 * RFC 9293 §3.7.4) and sender SWS avoidance (RFC 1122 §4.2.3.4) allow. Returns whether
 * any segment went out (it carried the ACK).
 */
export function transmitData(tcb: Tcb): boolean {
  // RFC 6675 §5 (C): in SACK-based loss recovery NextSeg() chooses what goes out, limited by pipe.
  if (tcb.inRecovery && tcb.sackOk) return sackTransmit(tcb);
  let sent = false;
  // SACKed ranges above SND.UNA (recovery/scoreboard.ts), when there are any.
  const sb = tcb.sackOk && !tcb.scoreboard.empty ? tcb.scoreboard : null;
  const finState = tcb.state === 'FIN-WAIT-1' || tcb.state === 'CLOSING' || tcb.state === 'LAST-ACK';
  // RFC 5681 §4.1 restart after idle: nothing in flight and idle for more than an RTO.
  if (tcb.sndNxt === tcb.sndUna && tcb.unsentBytes > 0 && tcb.lastSendAt > 0 && tcb.now - tcb.lastSendAt > tcb.rtt.rto) {
    tcb.cc.onIdleRestart(tcb.now, tcb.rtt.rto, tcb.lastSendAt);
  }
  // TSO (Linux tcp_write_xmit with sk_can_gso, tcp_tso_segs): when the link splits
  // super-segments into effMss-sized ones itself, new data leaves in segments of up to `tso`
  // bytes (whole segments), so the work per segment here and below is paid per ~64 KB. What
  // the peer receives is the same run of MSS-sized segments; retransmissions stay MSS-sized.
  const tso = tcb.host.tsoMaxPayload === undefined ? 0 : tcb.host.tsoMaxPayload(tcb);
  for (;;) {
    // RFC 6675 §5.1: the go-back-N resend after an RTO (SND.NXT < SND.MAX) skips what the
    // receiver has SACKed (the scoreboard is kept unless the receiver reneged).
    if (sb !== null && seqLt(tcb.sndNxt, tcb.sndMax)) tcb.sndNxt = sb.skipSacked(tcb.sndNxt);
    const dataEnd = tcb.sndDataEnd;
    const avail = seqDiff(dataEnd, tcb.sndNxt);
    if (avail > 0) {
      const wnd = Math.min(tcb.sndWnd, tcb.cc.cwnd);
      let usable = seqDiff(seqAdd(tcb.sndUna, wnd), tcb.sndNxt);
      // RFC 6675 §5 step (3) and §5.1: SACKed octets have left the network, so cwnd is
      // measured against the rest (pipe); the peer's window still counts them (it holds them).
      if (sb !== null) usable = Math.min(seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt), tcb.cc.cwnd - tcb.inFlight + sb.sackedBetween(tcb.sndUna, tcb.sndNxt));
      let len = Math.min(avail, tcb.effMss, usable);
      if (len <= 0) break;
      const isRetransmit = seqLt(tcb.sndNxt, tcb.sndMax);
      if (tso > 0 && len === tcb.effMss && !isRetransmit && avail > len && usable > len) {
        const big = Math.min(avail, usable, tso);
        // Whole segments only: a shorter tail goes alone, through Nagle and SWS avoidance
        // below (as tcp_mss_split_point leaves it). A FIN rides on a plain last segment.
        len = big - (big % tcb.effMss);
        if (len === avail && tcb.finQueued && finState) len -= tcb.effMss;
      }
      // A resend stops at the next SACKed range.
      if (sb !== null && isRetransmit) len = Math.min(len, seqDiff(sb.holeEnd(tcb.sndNxt, tcb.sndMax), tcb.sndNxt));
      const carriesAll = len === avail;
      const withFin = carriesAll && tcb.finQueued && finState;
      if (!isRetransmit && len < tcb.effMss) {
        if (!carriesAll) {
          // Window-limited fragment: send only if it is at least half the largest window
          // the peer has offered (RFC 1122 §4.2.3.4 (3)); the persist timer overrides.
          if (len < (tcb.maxSndWnd >>> 1)) break;
        } else if (!withFin && nagleHolds(tcb)) {
          break;
        }
      }
      if (len > avail) len = avail;
      const n = sendData(tcb, tcb.sndNxt, len, withFin);
      // RFC 5681 §3.2 step 2 / RFC 6675 (4.2): data that only the SACKed octets let out
      // (limited transmit, step (3)) is left out of the FlightSize that sets ssthresh.
      if (sb !== null && tcb.dupAcks > 0 && !isRetransmit) tcb.limitedTransmitBytes += Math.min(n, Math.max(0, n - Math.max(0, seqDiff(seqAdd(tcb.sndUna, wnd), seqAdd(tcb.sndNxt, -n)))));
      sent = true;
      continue;
    }
    if (tcb.finQueued && finState && tcb.sndNxt === dataEnd) {
      // A bare FIN: it occupies one sequence number; sent regardless of the window (Linux tcp_send_fin).
      sendData(tcb, tcb.sndNxt, 0, true);
      sent = true;
    }
    break;
  }
  return sent;
}

/**
 * Nagle (RFC 896, RFC 9293 §3.7.4 SHLD-7), in Minshall's variant (RFC 9293 Appendix A.3;
 * Linux tcp_nagle_check / tcp_minshall_check): a segment shorter than the MSS waits while an
 * earlier short segment is unacknowledged. Behind full-sized segments it goes at once, so a
 * write's tail is not held for an ACK the peer may delay. TCP_NODELAY turns it off (MUST-17).
 */
export function nagleHolds(tcb: Tcb): boolean {
  // SND.MAX is Linux's snd_nxt (the highest sent; a go-back-N resend moves our SND.NXT back).
  return !tcb.noDelay && seqGt(tcb.sndSml, tcb.sndUna) && seqLe(tcb.sndSml, tcb.sndMax);
}

/**
 * Emit one data segment [seq, seq+len) (+FIN) and advance SND.NXT/SND.MAX. Returns the
 * sequence space sent (less than asked when SACK blocks took room, see below).
 *
 * PSH (RFC 1122 §4.2.2.2: on the last buffered segment) goes on the segment that empties the
 * send queue and, with `push`, on what the persist timer sends (as Linux tcp_write_wakeup).
 * Linux also marks the last segment of each TSO packet it builds, which depends on its
 * pacing-rate-based TSO sizing and on the write calls' boundaries; synack does not model
 * that (scripts comparing with Linux where it shows use --ignore_psh).
 */
export function sendData(tcb: Tcb, seq: number, len: number, withFin: boolean, push = false): number {
  const s = tcb.out;
  prepare(tcb, seq, TCP_ACK);
  // RFC 6691 §3: options count against the MSS. SACK blocks on this segment take their room
  // from the payload so the packet still fits the MTU (Linux tcp_current_mss); the rest of
  // the data (and the FIN) goes in the next segment.
  const sackBytes = s.opts.sack.length > 0 ? 4 + 4 * s.opts.sack.length : 0;
  if (sackBytes > 0 && len > tcb.effMss - sackBytes) { len = tcb.effMss - sackBytes; withFin = false; }
  let flags = TCP_ACK;
  const end = seqAdd(seq, len);
  if (len > 0 && (end === tcb.sndDataEnd || push)) flags |= TCP_PSH;
  if (withFin) flags |= TCP_FIN;
  s.flags = flags;
  if (len > 0) s.payload = tcb.sndBuf.view(seqDiff(seq, tcb.sndBufSeq), len);
  // A TSO super-segment counts as the segments it becomes (Linux tcp_skb_pcount).
  if (len > tcb.effMss) tcb.segsOut += Math.ceil(len / tcb.effMss) - 1;
  const segEnd = withFin ? seqAdd(end, 1) : end;
  const isRetransmit = seqLt(seq, tcb.sndMax);
  s.retransmit = isRetransmit;
  // Linux tcp_minshall_update: remember where the last new segment shorter than the MSS ends.
  if (!isRetransmit && len + sackBytes < tcb.effMss) tcb.sndSml = segEnd;
  if (isRetransmit) noteRetransmit(tcb);
  else if (!tcb.tsOk && tcb.rttStart < 0) { tcb.rttSeq = segEnd; tcb.rttStart = tcb.now; }
  if (seqGt(segEnd, tcb.sndNxt)) tcb.sndNxt = segEnd;
  if (seqGt(segEnd, tcb.sndMax)) tcb.sndMax = segEnd;
  if (tcb.unackedSince < 0) tcb.unackedSince = tcb.now;
  tcb.lastSendAt = tcb.now;
  if (tcb.rtoAt === Infinity) armRto(tcb);
  tcb.persistAt = Infinity;
  emit(tcb);
  return seqDiff(segEnd, seq);
}

function noteRetransmit(tcb: Tcb): void {
  tcb.retransmittedSegs++;
  tcb.host.counters.TcpRetransSegs++;
  // Karn's rule (RFC 6298 §3): never time a retransmitted segment; with timestamps, never
  // take a sample from an echo older than this retransmission (see Tcb.rtxTsVal).
  if (!tcb.tsOk) tcb.rttStart = -1;
  else tcb.rtxTsVal = tcb.tsNow();
}

export function armRto(tcb: Tcb): void {
  tcb.rtoAt = tcb.now + tcb.rtt.rto;
  if (tcb.host.tracer !== null) tcb.traceTimer(tcb.state === 'SYN-SENT' ? 'syn' : tcb.state === 'SYN-RECEIVED' ? 'synack' : 'rto', 'set', tcb.rtoAt);
}

/**
 * Unsent data (or FIN) is held and nothing is in flight: without a timer nothing would
 * ever move it. Arm the persist timer (RFC 9293 §3.8.6.1 zero-window probing; RFC 1122
 * §4.2.3.4 SWS override).
 */
function armPersistIfStalled(tcb: Tcb): void {
  if (tcb.sndNxt !== tcb.sndUna || tcb.rtoAt !== Infinity) { tcb.persistAt = Infinity; return; }
  if (tcb.unsentBytes === 0) { tcb.persistAt = Infinity; return; }
  if (tcb.persistAt !== Infinity) return;
  const base = Math.max(tcb.rtt.rto, tcb.host.options.tcp_rto_min * 1000);
  // The backoff exponent stops at tcp_retries2, so the probes that decide whether a silent
  // peer is given up (timers.ts persistTimeout) come at a bounded interval (Linux
  // tcp_send_probe0: icsk_backoff grows only while < tcp_retries2).
  const shift = Math.min(tcb.persistBackoff, tcb.host.options.tcp_retries2);
  tcb.persistAt = tcb.now + Math.min(base * 2 ** shift, tcb.host.options.tcp_rto_max * 1000);
  if (tcb.host.tracer !== null) tcb.traceTimer('persist', 'set', tcb.persistAt);
}

function emit(tcb: Tcb): void {
  const s = tcb.out;
  if (s.flags & TCP_ACK) {
    tcb.ackNow = false;
    tcb.unackedRcvBytes = 0;
    if (tcb.delackAt !== Infinity) tcb.delackAt = Infinity;
  }
  tcb.segsOut++;
  tcb.host.emit(tcb, s);
}

/**
 * The window of a SYN or SYN-ACK, as Linux tcp_select_initial_window computes it (RFC 9293
 * leaves the initial window to the implementation): `space` is Linux's tcp_full_space — the
 * window half of the receive buffer at the default scaling ratio (tcp_win_from_space, 50%;
 * see Tcb.fullSpace) — rounded down to a multiple of the MSS the peer will send ("Quantize
 * space offering to a multiple of mss"; the MSS less the timestamp option when timestamps are
 * in use), then capped at 65535 (the field of a SYN is not scaled, RFC 7323 §2.2). Rounding
 * comes first: with tcp_rmem[1] = 540000 Linux offers 65535, not 64240. Measured on Linux 6.18
 * (synack pkt --target linux): tcp_rmem[1] 8192 → 2920, 20000 → 8760, 100000 → 49640,
 * 131072 → 64240 (65160 with timestamps), 200000 → 65535.
 */
export function initialRcvWindow(space: number, mss: number): number {
  const w = mss > 0 && space > mss ? space - (space % mss) : space;
  return Math.min(w, 65535);
}
