// The connection table, as `ss -tanoi` shows it: listeners and connections with their state,
// queues, endpoints, the pending timer (what it is, time left, retries) and the TCP info
// line (congestion control, window scales, RTO, RTT, MSS, cwnd …).
//
//   State      Recv-Q Send-Q  Local Address:Port   Peer Address:Port Process
//   LISTEN     0      511           0.0.0.0:80          0.0.0.0:*
//   ESTAB      0      0          198.18.0.2:80       198.18.0.1:40000 timer:(on,204ms,0)
//            cubic wscale:7,7 rto:204 rtt:10/5 mss:1448 cwnd:10 bytes_acked:1 …
//
// Formats follow iproute2's ss: state names (sstate_name), the timer names
// (on|keepalive|timewait|persist, plus delack, which Linux does not report) and
// print_ms_timer() for the time left ("200ms", "1.500ms" for 1.5 s, "59sec", "119min").
// Recv-Q/Send-Q: for a connection, bytes not yet read by the user / not yet acknowledged by
// the peer; for a listener, the accept queue length / the backlog.
import type { Duration, Instant } from '../time/instant.js';
import type { TcpState } from '../tcp/types.js';
import type { Tcb } from '../tcp/tcb.js';
import type { Listener } from '../tcp/listener.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { SSTHRESH_INITIAL } from '../tcp/cc/types.js';

export type SsTimerName = 'on' | 'keepalive' | 'timewait' | 'persist' | 'delack';

export interface ConnTimer {
  /** ss's name for it. */
  name: SsTimerName;
  /** The engine's timer: rto (syn/synack in the handshake), persist, keepalive, time-wait, fin-wait-2, delack. */
  kind: 'rto' | 'syn' | 'synack' | 'persist' | 'keepalive' | 'time-wait' | 'fin-wait-2' | 'delack';
  /** Time left until it fires (µs, ≥ 0). */
  remaining: Duration;
  /** Retransmissions (on), probes sent (keepalive, persist), 0 otherwise. */
  retries: number;
}

export interface ConnRow {
  /** RFC 9293 name. */
  state: TcpState;
  /** ss's name: ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSE, CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING. */
  ssState: string;
  recvQ: number;
  sendQ: number;
  localAddr: string;
  localPort: number;
  peerAddr: string;
  /** '*' for a listener. */
  peerPort: number | '*';
  listener: boolean;
  timer: ConnTimer | null;
  /** The rest is the TCP info line; null for listeners and TIME-WAIT (as ss prints none). */
  info: ConnInfo | null;
}

export interface ConnInfo {
  cc: string;
  /** Send and receive window scale, null when window scaling is off. */
  wscale: [number, number] | null;
  rto: Duration;
  srtt: Duration;
  rttvar: Duration;
  /** Whether srtt/rttvar come from at least one sample. */
  rttValid: boolean;
  mss: number;
  /** Congestion window in segments (ss) and bytes. */
  cwnd: number;
  cwndBytes: number;
  /** Slow-start threshold in segments, null while still "infinite". */
  ssthresh: number | null;
  bytesAcked: number;
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
  /** Segments in flight. */
  unacked: number;
  /** Consecutive timeouts / all retransmitted segments (ss retrans:a/b). */
  backoff: number;
  retrans: number;
  sndWnd: number;
  rcvWnd: number;
}

const SS_STATE: Record<TcpState, string> = {
  'CLOSED': 'CLOSE', 'LISTEN': 'LISTEN', 'SYN-SENT': 'SYN-SENT', 'SYN-RECEIVED': 'SYN-RECV', 'ESTABLISHED': 'ESTAB',
  'FIN-WAIT-1': 'FIN-WAIT-1', 'FIN-WAIT-2': 'FIN-WAIT-2', 'CLOSE-WAIT': 'CLOSE-WAIT', 'CLOSING': 'CLOSING',
  'LAST-ACK': 'LAST-ACK', 'TIME-WAIT': 'TIME-WAIT',
};

/** What connectionTable needs from a stack. */
export interface TableSource {
  tcbs(): Tcb[];
  listeners(): Listener[];
  now(): Instant;
}

/** Listeners first, then connections by local and peer endpoint. */
export function connectionTable(stack: TableSource, now: Instant = stack.now()): ConnRow[] {
  const rows: ConnRow[] = [];
  const ls = stack.listeners().slice().sort((a, b) => a.localPort - b.localPort || (a.localAddr >>> 0) - (b.localAddr >>> 0));
  for (const l of ls) {
    rows.push({
      state: 'LISTEN', ssState: 'LISTEN', recvQ: l.acceptQueue.length, sendQ: l.backlog,
      localAddr: formatIpv4Address(l.localAddr), localPort: l.localPort, peerAddr: '0.0.0.0', peerPort: '*',
      listener: true, timer: null, info: null,
    });
  }
  const ts = stack.tcbs().filter((t) => t.state !== 'CLOSED').sort((a, b) =>
    (a.localAddr >>> 0) - (b.localAddr >>> 0) || a.localPort - b.localPort || (a.remoteAddr >>> 0) - (b.remoteAddr >>> 0) || a.remotePort - b.remotePort);
  for (const t of ts) rows.push(tcbRow(t, now));
  return rows;
}

function tcbRow(t: Tcb, now: Instant): ConnRow {
  const synRecv = t.state === 'SYN-RECEIVED' || t.state === 'SYN-SENT';
  return {
    state: t.state, ssState: SS_STATE[t.state],
    recvQ: synRecv ? 0 : t.rcvBuf.readable,
    sendQ: t.state === 'TIME-WAIT' ? 0 : t.sndBuf.length,
    localAddr: formatIpv4Address(t.localAddr), localPort: t.localPort,
    peerAddr: formatIpv4Address(t.remoteAddr), peerPort: t.remotePort,
    listener: false,
    timer: pendingTimer(t, now),
    info: t.state === 'TIME-WAIT' ? null : tcbInfo(t),
  };
}

/** The timer ss would report (Linux inet_diag: retransmit, then zero-window probe, then sk_timer). */
function pendingTimer(t: Tcb, now: Instant): ConnTimer | null {
  const left = (at: Instant) => Math.max(0, at - now);
  if (t.rtoAt !== Infinity) {
    const kind = t.state === 'SYN-SENT' ? 'syn' : t.state === 'SYN-RECEIVED' ? 'synack' : 'rto';
    return { name: 'on', kind, remaining: left(t.rtoAt), retries: t.retransmits };
  }
  if (t.persistAt !== Infinity) return { name: 'persist', kind: 'persist', remaining: left(t.persistAt), retries: t.persistBackoff };
  if (t.timeWaitAt !== Infinity) return { name: 'timewait', kind: 'time-wait', remaining: left(t.timeWaitAt), retries: 0 };
  // Linux keeps an orphan in FIN-WAIT-2 as a timewait socket (tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)).
  if (t.finWait2At !== Infinity) return { name: 'timewait', kind: 'fin-wait-2', remaining: left(t.finWait2At), retries: 0 };
  if (t.keepaliveAt !== Infinity) return { name: 'keepalive', kind: 'keepalive', remaining: left(t.keepaliveAt), retries: t.keepaliveProbes };
  if (t.delackAt !== Infinity) return { name: 'delack', kind: 'delack', remaining: left(t.delackAt), retries: 0 };
  return null;
}

function tcbInfo(t: Tcb): ConnInfo {
  const mss = Math.max(1, t.effMss);
  const cwnd = t.cc.cwnd;
  const ss = t.cc.ssthresh;
  return {
    cc: t.cc.name,
    wscale: t.wsOk ? [t.sndWscale, t.rcvWscale] : null,
    rto: t.rtt.rto, srtt: t.rtt.srtt, rttvar: t.rtt.rttvar, rttValid: t.rtt.hasSample,
    mss, cwnd: Math.max(1, Math.floor(cwnd / mss)), cwndBytes: cwnd,
    ssthresh: ss >= SSTHRESH_INITIAL ? null : Math.max(1, Math.floor(ss / mss)),
    bytesAcked: t.bytesAcked, bytesReceived: t.bytesReceived, segsOut: t.segsOut, segsIn: t.segsIn,
    unacked: Math.ceil(t.inFlight / mss), backoff: t.retransmits, retrans: t.retransmittedSegs,
    sndWnd: t.sndWnd, rcvWnd: t.rcvWndAvail,
  };
}

/** iproute2 print_ms_timer(): "200ms", "1.500ms" (1.5 s — ss's own quirk), "59sec", "2min", "119min". */
export function formatSsTimer(us: Duration): string {
  const timeout = Math.floor(us / 1000);
  let secs = Math.floor(timeout / 1000);
  const minutes = Math.floor(secs / 60);
  secs %= 60;
  let msecs = timeout % 1000;
  let s = '';
  if (minutes) {
    msecs = 0;
    s += `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    s += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) s += `${String(msecs).padStart(3, '0')}ms`;
  return s === '' ? '0ms' : s;
}

export interface TableRenderOptions {
  /** Print the TCP info line under each connection (ss -i). Default true. */
  info?: boolean;
  /** Print timers (ss -o). Default true. */
  timers?: boolean;
  /** Print the header line. Default true. */
  header?: boolean;
}

export function renderConnectionTable(rows: readonly ConnRow[], opts: TableRenderOptions = {}): string {
  const showInfo = opts.info !== false, showTimer = opts.timers !== false;
  const la = Math.max('Local Address'.length, ...rows.map((r) => r.localAddr.length));
  const lp = Math.max('Port'.length, ...rows.map((r) => String(r.localPort).length));
  const pa = Math.max('Peer Address'.length, ...rows.map((r) => r.peerAddr.length));
  const pp = Math.max('Port'.length, ...rows.map((r) => String(r.peerPort).length));
  const stW = 10, qW = 6;
  const lines: string[] = [];
  const row = (st: string, rq: string, sq: string, a1: string, p1: string, a2: string, p2: string, rest: string) =>
    (st.padEnd(stW) + ' ' + rq.padEnd(qW) + ' ' + sq.padEnd(qW) + ' ' + a1.padStart(la) + ':' + p1.padEnd(lp) + ' ' + a2.padStart(pa) + ':' + p2.padEnd(pp) + ' ' + rest).replace(/\s+$/, '');
  if (opts.header !== false) lines.push(row('State', 'Recv-Q', 'Send-Q', 'Local Address', 'Port', 'Peer Address', 'Port', 'Process'));
  for (const r of rows) {
    const timer = showTimer && r.timer !== null ? `timer:(${r.timer.name},${formatSsTimer(r.timer.remaining)},${r.timer.retries})` : '';
    lines.push(row(r.ssState, String(r.recvQ), String(r.sendQ), r.localAddr, String(r.localPort), r.peerAddr, String(r.peerPort), timer));
    if (showInfo && r.info !== null) lines.push('\t ' + infoLine(r.info));
  }
  return lines.join('\n') + '\n';
}

/** ss -i's info line (the fields synack knows), in ss's order. */
export function infoLine(i: ConnInfo): string {
  const p: string[] = [i.cc];
  if (i.wscale !== null) p.push(`wscale:${i.wscale[0]},${i.wscale[1]}`);
  p.push(`rto:${ms(i.rto)}`);
  if (i.rttValid) p.push(`rtt:${ms(i.srtt)}/${ms(i.rttvar)}`);
  p.push(`mss:${i.mss}`, `cwnd:${i.cwnd}`);
  if (i.ssthresh !== null) p.push(`ssthresh:${i.ssthresh}`);
  p.push(`bytes_acked:${i.bytesAcked}`, `bytes_received:${i.bytesReceived}`, `segs_out:${i.segsOut}`, `segs_in:${i.segsIn}`);
  if (i.unacked > 0) p.push(`unacked:${i.unacked}`);
  if (i.retrans > 0 || i.backoff > 0) p.push(`retrans:${i.backoff}/${i.retrans}`);
  p.push(`snd_wnd:${i.sndWnd}`, `rcv_wnd:${i.rcvWnd}`);
  return p.join(' ');
}

/** Milliseconds like ss's %g: 204, 10.5, 0.052. */
function ms(us: Duration): string {
  return String(Math.round(us) / 1000);
}
