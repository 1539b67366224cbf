// Timeouts (RFC 9293 §3.10.8) and the timers of RFC 1122 and RFC 6298: retransmission
// (with SYN and SYN-ACK retries), persist (zero-window probing), delayed ACK, keepalive,
// TIME-WAIT (2·MSL), FIN-WAIT-2 for orphans, and the user timeout (RFC 5482).
import type { Tcb } from './tcb.js';
import type { TcpErrorCode } from './types.js';
import { seqAdd, seqDiff } from './seq.js';
import { sendData, sendProbe, sendRst, sendSyn } from './output.js';
import { onRetransmitTimeout, retransmitHead } from './recovery/newreno.js';

export function onTimeout(tcb: Tcb): void {
  const now = tcb.now;
  if (tcb.timeWaitAt <= now) {
    tcb.timeWaitAt = Infinity;
    tcb.traceTimer('time-wait', 'fire');
    tcb.host.counters.TcpExtTW++;
    tcb.closeTcb('time-wait-done', null);
    return;
  }
  if (tcb.finWait2At <= now) {
    tcb.finWait2At = Infinity;
    tcb.traceTimer('fin-wait-2', 'fire');
    // Linux: an orphan in FIN-WAIT-2 lives tcp_fin_timeout, then vanishes silently.
    if (tcb.state === 'FIN-WAIT-2') { tcb.closeTcb('fin-wait-2-timeout', null); return; }
  }
  if (tcb.rtoAt <= now) {
    tcb.rtoAt = Infinity;
    retransmitTimeout(tcb);
    if (tcb.state === 'CLOSED') return;
  }
  if (tcb.persistAt <= now) {
    tcb.persistAt = Infinity;
    persistTimeout(tcb);
    if (tcb.state === 'CLOSED') return;
  }
  if (tcb.delackAt <= now) {
    tcb.delackAt = Infinity;
    tcb.traceTimer('delack', 'fire');
    tcb.host.counters.TcpExtDelayedACKs++;
    tcb.ackNow = true;
  }
  if (tcb.keepaliveAt <= now) {
    tcb.keepaliveAt = Infinity;
    keepaliveTimeout(tcb);
  }
}

/** True (and the connection aborted) when RFC 5482's user timeout has run out. */
function userTimeoutExpired(tcb: Tcb): boolean {
  if (tcb.userTimeout > 0 && tcb.unackedSince >= 0 && tcb.now - tcb.unackedSince >= tcb.userTimeout) {
    tcb.traceTimer('user-timeout', 'fire');
    tcb.host.counters.TcpExtTCPAbortOnTimeout++;
    tcb.closeTcb('user-timeout', timeoutError(tcb));
    return true;
  }
  return false;
}

/** RETRANSMISSION TIMEOUT: resend the oldest unacknowledged segment, back off (RFC 6298 §5.4–5.6). */
function retransmitTimeout(tcb: Tcb): void {
  if (tcb.sndUna === tcb.sndMax && tcb.state !== 'SYN-SENT' && tcb.state !== 'SYN-RECEIVED') return;
  const name = tcb.state === 'SYN-SENT' ? 'syn' : tcb.state === 'SYN-RECEIVED' ? 'synack' : 'rto';
  tcb.traceTimer(name, 'fire');
  if (userTimeoutExpired(tcb)) return;
  // RFC 9293 §3.8.6 MUST-35/MUST-37, SHLD-17: a window shrunk to zero under data in flight
  // turns these retransmissions into zero-window probes; while the peer answers them the
  // connection stays open. Only an orphan, or a peer silent for tcp_rto_max, is given up
  // (Linux tcp_retransmit_timer, "receiver dastardly shrinks window").
  const probing = tcb.sndWnd === 0 && !tcb.orphan && tcb.state !== 'SYN-SENT' && tcb.state !== 'SYN-RECEIVED'
    && tcb.now - tcb.lastRecvAt <= tcb.host.options.tcp_rto_max * 1000;
  // RFC 9293 §3.8.3 (a), (d) MUST-21 (RFC 5482): once synchronized, a user timeout is R2 "in
  // time units", replacing the retry count — longer or shorter (Linux tcp_write_timeout:
  // retransmits_timed_out(sk, retry_until, icsk_user_timeout)). SYN and SYN-ACK keep their counts.
  const userR2 = tcb.userTimeout > 0 && tcb.unackedSince >= 0 && tcb.state !== 'SYN-SENT' && tcb.state !== 'SYN-RECEIVED';
  if (tcb.retransmits >= tcb.retryLimit() && !probing && !userR2) {
    giveUp(tcb);
    return;
  }
  tcb.retransmits++;
  tcb.host.counters.TcpExtTCPTimeouts++;
  tcb.rtt.backoff();
  if (tcb.state === 'SYN-SENT') { tcb.sndNxt = tcb.iss; sendSyn(tcb, false); return; }
  if (tcb.state === 'SYN-RECEIVED') { tcb.sndNxt = tcb.iss; sendSyn(tcb, true); return; }
  onRetransmitTimeout(tcb);
  // Go back N: everything after SND.UNA is sent again as the (now 1-segment) window opens.
  tcb.sndNxt = tcb.sndUna;
  // The head goes out even into a zero window: it doubles as a window probe (Linux tcp_retransmit_timer).
  retransmitHead(tcb);
  if (tcb.rtoAt === Infinity) {
    tcb.rtoAt = tcb.now + tcb.rtt.rto;
    tcb.traceTimer('rto', 'set', tcb.rtoAt);
  }
  // RFC 5482 / RFC 9293 §3.8.3: abort when the user timeout runs out, not at the next
  // backed-off RTO after it (Linux tcp_clamp_rto_to_user_timeout).
  if (tcb.userTimeout > 0 && tcb.unackedSince >= 0) {
    tcb.rtoAt = Math.min(tcb.rtoAt, Math.max(tcb.now, tcb.unackedSince + tcb.userTimeout));
  }
}

/**
 * The error a timed-out connection reports: the last soft error (an ICMP error, tcp/icmp.ts)
 * if there was one, else ETIMEDOUT (RFC 1122 §4.2.3.9 DISCUSSION: "report it to the
 * application only when and if the TCP connection times out"; Linux tcp_write_err).
 */
function timeoutError(tcb: Tcb): TcpErrorCode {
  return tcb.softError ?? 'ETIMEDOUT';
}

function giveUp(tcb: Tcb): void {
  const c = tcb.host.counters;
  switch (tcb.state) {
    case 'SYN-SENT':
      c.TcpAttemptFails++;
      tcb.closeTcb('timeout', timeoutError(tcb));
      return;
    case 'SYN-RECEIVED':
      // Half-open passive connection: resources released after tcp_synack_retries (Linux drops the request silently).
      if (tcb.passive) { c.TcpAttemptFails++; tcb.closeTcb('syn-ack-retries', null); }
      else tcb.closeTcb('timeout', timeoutError(tcb));
      return;
    default:
      c.TcpExtTCPAbortOnTimeout++;
      tcb.closeTcb('timeout', timeoutError(tcb));
  }
}

/**
 * Persist timer: the peer's window is zero (send a probe, RFC 9293 §3.8.6.1, backing off
 * exponentially, never giving up while the peer answers — RFC 1122 §4.2.2.17), or the
 * window is open but too small for sender SWS avoidance (send what fits, RFC 1122 §4.2.3.4).
 * A peer that stops answering is given up on like an unanswered retransmission (RFC 9293
 * §3.8.3 R2): after tcp_retries2 unanswered probes in a row, or when the user timeout runs
 * out, ETIMEDOUT (Linux tcp_probe_timer: icsk_probes_out >= tcp_retries2 → tcp_write_err).
 */
function persistTimeout(tcb: Tcb): void {
  if (tcb.unsentBytes === 0 || tcb.sndNxt !== tcb.sndUna) return;
  tcb.traceTimer('persist', 'fire');
  // The user timeout counts from the first probe the peer has not answered (Linux: the time
  // icsk_probes_out unanswered probes take, tcp_model_timeout); answered probes restart it.
  if (tcb.userTimeout > 0 && tcb.probesOut > 0 && tcb.now - tcb.probesSince >= tcb.userTimeout) {
    tcb.traceTimer('user-timeout', 'fire');
    tcb.host.counters.TcpExtTCPAbortOnTimeout++;
    tcb.closeTcb('user-timeout', timeoutError(tcb));
    return;
  }
  const usable = seqDiff(seqAdd(tcb.sndUna, Math.min(tcb.sndWnd, tcb.cc.cwnd)), tcb.sndNxt);
  if (tcb.sndWnd === 0 || usable <= 0) {
    if (tcb.orphan && tcb.persistBackoff >= tcb.retryLimit()) { giveUp(tcb); return; }
    if (tcb.probesOut >= tcb.retryLimit()) { giveUp(tcb); return; }
    tcb.host.counters.TcpExtTCPZeroWindowProbes++;
    sendProbe(tcb);
    if (tcb.unackedSince < 0) tcb.unackedSince = tcb.now;
    tcb.persistBackoff++;
    if (tcb.probesOut++ === 0) tcb.probesSince = tcb.now;
    return;
  }
  const len = Math.min(usable, tcb.unsentBytes, tcb.effMss);
  const finState = tcb.state === 'FIN-WAIT-1' || tcb.state === 'CLOSING' || tcb.state === 'LAST-ACK';
  // With PSH, as Linux's tcp_write_wakeup marks the piece of a segment it sends.
  sendData(tcb, tcb.sndNxt, len, tcb.finQueued && finState && len === tcb.unsentBytes, true);
}

/** Keepalive (RFC 1122 §4.2.3.6): probe an idle connection; after keepCnt unanswered probes, reset it. */
function keepaliveTimeout(tcb: Tcb): void {
  if (!tcb.keepAlive || tcb.state === 'TIME-WAIT') return;
  // Data in flight: the retransmission timer watches the peer (Linux tcp_keepalive_timer).
  if (tcb.sndMax !== tcb.sndUna || tcb.unsentBytes > 0) {
    tcb.keepaliveAt = tcb.now + tcb.keepIdle;
    return;
  }
  const idle = tcb.now - tcb.lastRecvAt;
  if (tcb.keepaliveProbes === 0 && idle < tcb.keepIdle) {
    tcb.keepaliveAt = tcb.lastRecvAt + tcb.keepIdle;
    return;
  }
  tcb.traceTimer('keepalive', 'fire');
  if (tcb.keepaliveProbes >= tcb.keepCnt) {
    tcb.host.counters.TcpExtTCPAbortOnTimeout++;
    sendRst(tcb, tcb.sndNxt);
    tcb.closeTcb('keepalive-timeout', timeoutError(tcb));
    return;
  }
  tcb.host.counters.TcpExtTCPKeepAlive++;
  sendProbe(tcb);
  tcb.keepaliveProbes++;
  tcb.keepaliveAt = tcb.now + tcb.keepIntvl;
  tcb.traceTimer('keepalive', 'set', tcb.keepaliveAt);
}

/** Enter TIME-WAIT: all other timers off, the 2·MSL timer on (RFC 9293 §3.10.7.4 eighth step). */
export function enterTimeWait(tcb: Tcb, cause: string): void {
  tcb.rtoAt = tcb.persistAt = tcb.keepaliveAt = tcb.finWait2At = Infinity;
  tcb.setState('TIME-WAIT', cause);
  tcb.timeWaitAt = tcb.now + 2 * tcb.host.options.tcp_msl * 1_000_000;
  tcb.traceTimer('time-wait', 'set', tcb.timeWaitAt);
  tcb.sndBuf.release();
}
