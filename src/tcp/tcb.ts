// The transmission control block (RFC 9293 §3.3.1) and the user calls of §3.10.1–3.10.6.
//
// The TCB is sans-I/O: every entry point takes `now`, segments leave through the host's
// emit(), and the host asks nextDeadline() to know when to call onTimeout(). Segment
// processing lives in input.ts, segment building in output.ts, timer handling in timers.ts.
import { growSendBuffer, initRcvSpace, initSendBuffer, rcvSpaceAdjust } from './autotune.js';
import type { Instant, Duration } from '../time/instant.js';
import { initialWindowScale, type StackOptions } from '../stack/options.js';
import type { Counters } from '../stack/counters.js';
import type { TraceSink, ConnId, TimerName } from '../trace/events.js';
import type { CongestionControl } from './cc/types.js';
import type { CloseCause, SegmentIn, SegmentOut, TcpErrorCode, TcpState } from './types.js';
import { newOutOptions, isSynchronized } from './types.js';
import { SendBuffer } from './sendbuf.js';
import { ReceiveBuffer } from './recvbuf.js';
import { RttEstimator, type RttConfig } from './rtt.js';
import { createCongestionControl } from './cc/index.js';
import { IntervalLimiter } from './ratelimit.js';
import { Scoreboard } from './recovery/scoreboard.js';
import { seqAdd, seqDiff, seqGt } from './seq.js';
import { segmentArrives } from './input.js';
import { output, sendRst } from './output.js';
import { onTimeout } from './timers.js';
import { icmpErrorArrives, type IcmpErrorIn } from './icmp.js';

/** What the TCB needs from the stack that owns it. */
export interface TcbHost {
  readonly options: StackOptions;
  readonly counters: Counters;
  /** Serialize and send a segment now (synchronously: `seg` is reused by the caller). */
  emit(tcb: Tcb, seg: SegmentOut): void;
  /** Called on every state change, after the TCB's own fields are updated. */
  stateChanged(tcb: Tcb, from: TcpState, to: TcpState, cause: string): void;
  /** Stack-wide challenge-ACK budget (RFC 5961 §7). */
  challengeAckAllowed(now: Instant): boolean;
  /** The TCB's earliest deadline may have changed. */
  timersChanged(tcb: Tcb): void;
  tracer: TraceSink | null;
  /** Host address for traces. */
  readonly traceHost: number;
  /** The user closed the connection: it lives on as an orphan (Linux caps them: tcp_max_orphans). */
  orphaned(tcb: Tcb): void;
  /**
   * Segmentation offload (output.ts transmitData): the most payload one segment of this
   * connection may carry when the link splits it into effMss-sized segments itself (TSO/GSO),
   * a multiple of effMss; 0 (or absent): every segment is at most effMss.
   */
  tsoMaxPayload?(tcb: Tcb): number;
}

/** Callbacks to the user of a connection (the socket layer). All optional. */
export interface TcbUser {
  /** The handshake completed (ESTABLISHED). */
  onEstablished?(): void;
  /** New in-order data can be read. */
  onReadable?(): void;
  /** The peer sent FIN: after the readable data, no more will come. */
  onEnd?(): void;
  /** Space was freed in the send buffer. */
  onWritable?(): void;
  /** The connection reached CLOSED. `error` is set for resets, timeouts, refusals. */
  onClosed?(error: TcpErrorCode | null, cause: CloseCause): void;
  /**
   * A soft error (an ICMP error, tcp/icmp.ts) arrived; the connection goes on (RFC 9293
   * §3.9.1.8 MUST-47 ERROR_REPORT). An application that leaves this unset gets no reports
   * (SHLD-20); the error is still used if the connection later times out (Tcb.softError).
   */
  onSoftError?(error: TcpErrorCode): void;
}

export interface TcbConfig {
  localAddr: number; localPort: number; remoteAddr: number; remotePort: number;
  /** Interface MTU: we announce MSS = MTU − 40 (RFC 6691 / RFC 9293 §3.7.1). */
  mtu: number;
  iss: number;
  /** Per-connection timestamp offset (Linux randomizes TSval per connection). */
  tsOffset: number;
  rcvBufSize?: number;
  sndBufSize?: number;
}

let nextTcbId = 1;

/** Tcb.out for every connection (see there). */
const SHARED_OUT: SegmentOut = { seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false };

/** One RTT configuration per options object, shared by its connections (RttEstimator keeps it as given). */
const rttConfigs = new WeakMap<StackOptions, RttConfig>();
function rttConfigFor(o: StackOptions): RttConfig {
  let c = rttConfigs.get(o);
  if (c === undefined || c.initialRto !== o.tcp_rto_initial * 1000 || c.minRto !== o.tcp_rto_min * 1000 || c.maxRto !== o.tcp_rto_max * 1000) {
    c = Object.freeze({ initialRto: o.tcp_rto_initial * 1000, minRto: o.tcp_rto_min * 1000, maxRto: o.tcp_rto_max * 1000, granularity: 1000, rtoAfterSynTimeout: 3_000_000 });
    rttConfigs.set(o, c);
  }
  return c;
}

export class Tcb {
  readonly id = nextTcbId++;
  state: TcpState = 'CLOSED';
  readonly localAddr: number; localPort: number;
  readonly remoteAddr: number; readonly remotePort: number;
  /** Created from a listener (passive OPEN). */
  passive = false;
  /** The listener that owns this connection until accept(). */
  listener: { childStateChanged(tcb: Tcb, to: TcpState): void } | null = null;
  user: TcbUser | null = null;
  /** Free slot for the socket layer (its Socket object). */
  handle: unknown = null;

  // --- send sequence space (RFC 9293 §3.3.1) ---
  iss: number;
  sndUna: number;
  sndNxt: number;
  /** Highest sequence number sent + 1 (sndNxt moves back on go-back-N retransmission). */
  sndMax: number;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** MAX.SND.WND (RFC 5961 §5): the largest window the peer ever offered. */
  maxSndWnd = 0;
  /** Shift applied to the peer's window field (its wscale), 0 without window scaling. */
  sndWscale = 0;
  /** Sequence number of the first byte in sndBuf. */
  sndBufSeq: number;
  /**
   * End of the last segment of new data sent shorter than the MSS (Linux snd_sml): the Nagle
   * algorithm holds a small segment only while such a one is unacknowledged (Minshall's
   * modification, RFC 9293 Appendix A.3).
   */
  sndSml: number;
  /** The user asked to close the sending side (CLOSE or shutdown(SHUT_WR)): a FIN follows the data. */
  finQueued = false;

  // --- receive sequence space ---
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window we last advertised (RCV.NXT + RCV.WND at that time). */
  rcvAdv = 0;
  /** Our window shift (announced in our SYN). */
  rcvWscale = 0;
  rcvUp = 0;
  /** A FIN arrived out of order at this sequence number; processed when RCV.NXT reaches it. */
  pendingFinSeq = -1;
  /** The peer's FIN has been processed. */
  finReceived = false;

  // --- options ---
  /** Our MSS (MTU − 40); a socket's TCP_MAXSEG may lower it before the SYN is sent (Linux user_mss). */
  mssOur: number;
  mssPeer = 536;
  /** Effective send MSS: min(peer MSS, our MTU − 40) minus TCP options carried on every segment. */
  effMss = 536;
  /**
   * Path MTU estimate (RFC 1191): starts at the interface MTU, lowered by ICMP Datagram Too
   * Big (tcp/icmp.ts); bounds the send MSS (updateEffMss), never the MSS we announce.
   */
  pmtu: number;
  /** Largest segment payload seen from the peer (Linux rcv_mss), for delayed-ACK decisions. */
  rcvMss = 536;
  /**
   * The most window we offer for now (Linux tp->rcv_ssthresh; RFC 9293 names no such bound —
   * §3.8.6 lets the receiver offer less than its buffer). Starts at the SYN's window and grows
   * with the data that arrives (autotune.ts growRcvWindow), so a Linux peer's ACK windows are what Linux's
   * own would be: 502, 525, 548, … (×128) for full-sized segments after the handshake.
   */
  rcvSsthresh = 65535;
  wsOk = false;
  sackOk = false;
  tsOk = false;
  /** RFC 7323 §4.3: TS.Recent and Last.ACK.sent. */
  tsRecent = 0;
  tsRecentAt: Instant = 0;
  lastAckSent = 0;
  readonly tsOffset: number;
  /** What we asked for in our SYN (cleared when the peer does not agree). */
  wantWs: boolean; wantSack: boolean; wantTs: boolean;

  // --- buffers ---
  readonly sndBuf: SendBuffer;
  /** The send buffer grows with the windows unless the user fixed its size (SO_SNDBUF). */
  sndBufAuto: boolean;
  readonly rcvBuf: ReceiveBuffer;
  /**
   * The receive buffer grows with what the reader consumes per RTT unless the user fixed its
   * size (SO_RCVBUF / ConnectOptions.rcvBuf): Linux "DRS", tcp_rcv_space_adjust (autotune.ts rcvSpaceAdjust).
   */
  rcvBufAuto: boolean;
  /** Bytes handed to the user so far (Linux copied_seq, as a count). */
  bytesCopied = 0;
  /** Linux tp->rcvq_space: bytes copied per RTT at the last measurement, and where/when the current one began. */
  rcvqSpace = 0;
  rcvqCopied = 0;
  rcvqTime: Instant = -1;

  // --- user-side status ---
  /** close() was called: nobody will read; the connection is an orphan until CLOSED. */
  orphan = false;
  /** shutdown(SHUT_RD). */
  readShutdown = false;
  noDelay = false;
  keepAlive = false;
  keepIdle: Duration; keepIntvl: Duration; keepCnt: number;
  /** RFC 5482 / TCP_USER_TIMEOUT: 0 = use the retry counts. */
  userTimeout: Duration = 0;
  error: TcpErrorCode | null = null;
  /**
   * The last soft error (ICMP, tcp/icmp.ts): reported instead of ETIMEDOUT when the connection
   * times out (Linux sk_err_soft, tcp_write_err); cleared by an acceptable ACK (Linux tcp_ack).
   */
  softError: TcpErrorCode | null = null;
  /**
   * Differentiated Services codepoint (RFC 2474) of every datagram this connection sends
   * (RFC 9293 §3.9.1.9 MUST-48); may be changed at any time (SHLD-21). 0 = default.
   */
  dscp = 0;

  // --- timers (deadlines in µs; Infinity = not armed) ---
  rtoAt = Infinity;
  delackAt = Infinity;
  persistAt = Infinity;
  keepaliveAt = Infinity;
  timeWaitAt = Infinity;
  finWait2At = Infinity;
  /** The deadline the host last scheduled for us (lazy timer queue entries compare against it). */
  scheduledAt = Infinity;
  /** The host's timer-queue entry for scheduledAt (0: none), cancelled when superseded so the queue does not hold closed TCBs. */
  timerId = 0;
  /** Consecutive retransmission timeouts without progress. */
  retransmits = 0;
  persistBackoff = 0;
  /** Zero-window probes sent since the peer last sent an acceptable ACK (Linux icsk_probes_out). */
  probesOut = 0;
  /** When the first of the unanswered probes was sent. */
  probesSince: Instant = 0;
  keepaliveProbes = 0;
  /** When the oldest outstanding data was first sent without being acknowledged since (user timeout). */
  unackedSince: Instant = -1;

  // --- RTT and congestion control ---
  readonly rtt: RttEstimator;
  /** Karn timing without timestamps: the segment ending at rttSeq was sent at rttStart (−1: none timed). */
  rttSeq = 0;
  rttStart: Instant = -1;
  /**
   * TSval of our latest retransmission (−1: none). An ACK that echoes an older TSval answers
   * an earlier transmission whose own ACK was lost: timing it would measure our backoff, not
   * the path (RFC 7323 §4.3 (C)), and the RTO would feed on itself up to tcp_rto_max.
   */
  rtxTsVal = -1;
  cc: CongestionControl;
  dupAcks = 0;
  /** Bytes sent by limited transmit (RFC 3042) in the current run of duplicate ACKs (left out of FlightSize, RFC 5681 §3.2 step 2). */
  limitedTransmitBytes = 0;
  inRecovery = false;
  /** RFC 6582 "recover": highest sequence sent when fast recovery started (RFC 6675 RecoveryPoint + 1). */
  recover: number;
  /** SACKed ranges above SND.UNA and the RFC 6675 recovery variables (used when sackOk). */
  readonly scoreboard = new Scoreboard();
  lastSendAt: Instant = 0;
  lastRecvAt: Instant = 0;

  // --- ACK generation ---
  ackNow = false;
  /**
   * A D-SACK block to report on the next segment (RFC 2883 §4: the first SACK block names
   * a duplicate that arrived), [dsackLeft, dsackRight) when `dsack`. Linux tcp_dsack_set.
   */
  dsack = false;
  dsackLeft = 0;
  dsackRight = 0;
  /** Bytes received in order and not yet acknowledged (delayed ACK). */
  unackedRcvBytes = 0;
  quickAcks: number;
  /** Created on first use: most connections never answer an out-of-window segment (heap per connection; issue 16). */
  private invalidAckLimiterObj: IntervalLimiter | null = null;

  // --- statistics ---
  retransmittedSegs = 0;
  segsIn = 0;
  segsOut = 0;
  bytesAcked = 0;
  bytesReceived = 0;

  /**
   * The outgoing segment record: filled, then serialized synchronously by the host, never
   * held across calls, so every connection shares one (about 200 bytes of heap per
   * connection saved; issue 16).
   */
  get out(): SegmentOut { return SHARED_OUT; }
  /** Time of the current event (set by every entry point). */
  now: Instant = 0;
  /** Inside onSegmentArrives (user callbacks run from segment processing). */
  inInput = false;

  constructor(readonly host: TcbHost, cfg: TcbConfig) {
    const o = host.options;
    this.localAddr = cfg.localAddr; this.localPort = cfg.localPort;
    this.remoteAddr = cfg.remoteAddr; this.remotePort = cfg.remotePort;
    this.iss = cfg.iss >>> 0;
    this.sndUna = this.iss; this.sndNxt = this.iss; this.sndMax = this.iss;
    this.sndBufSeq = seqAdd(this.iss, 1);
    this.sndSml = this.iss;
    this.recover = this.iss;
    this.mssOur = Math.max(88, Math.min(65495, cfg.mtu - 40));
    this.pmtu = this.mssOur + 40;
    this.tsOffset = cfg.tsOffset >>> 0;
    this.wantWs = o.tcp_window_scaling !== 0;
    this.wantSack = o.tcp_sack !== 0;
    this.wantTs = o.tcp_timestamps !== 0;
    const rcv = cfg.rcvBufSize ?? o.tcp_rmem[1];
    this.rcvBuf = new ReceiveBuffer(rcv);
    this.sndBuf = new SendBuffer(cfg.sndBufSize ?? o.tcp_wmem[1]);
    this.sndBufAuto = cfg.sndBufSize === undefined;
    this.rcvBufAuto = cfg.rcvBufSize === undefined;
    // RFC 7323 §2.3: the shift is chosen from the largest buffer we may grow to, as Linux
    // (max(buffer, tcp_rmem[2], rmem_max); a fixed SO_RCVBUF is its own limit).
    this.rcvWscale = this.wantWs ? initialWindowScale(o, rcv, cfg.rcvBufSize !== undefined) : 0;
    // rtoAfterSynTimeout: RFC 6298 §5.7, 3 s once data starts after a SYN/SYN-ACK timed out (Linux TCP_TIMEOUT_FALLBACK).
    this.rtt = new RttEstimator(rttConfigFor(o));
    this.cc = createCongestionControl(o.tcp_congestion_control, 536);
    this.keepIdle = o.tcp_keepalive_time * 1_000_000;
    this.keepIntvl = o.tcp_keepalive_intvl * 1_000_000;
    this.keepCnt = o.tcp_keepalive_probes;
    this.quickAcks = o.tcp_quickack_segments;
  }

  /** Linux tcp_invalid_ratelimit, per connection: duplicate ACKs for out-of-window segments and challenge ACKs. */
  get invalidAckLimiter(): IntervalLimiter {
    return this.invalidAckLimiterObj ??= new IntervalLimiter(this.host.options.tcp_invalid_ratelimit * 1000);
  }

  /** When the invalid-ACK limiter last allowed one (null: never). */
  get invalidAckLastAllowed(): Instant | null { return this.invalidAckLimiterObj === null ? null : this.invalidAckLimiterObj.lastAllowed; }

  get connId(): ConnId {
    return { localAddr: this.localAddr, localPort: this.localPort, remoteAddr: this.remoteAddr, remotePort: this.remotePort };
  }

  // ---------------------------------------------------------------- state

  setState(to: TcpState, cause: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === 'ESTABLISHED' && this.rcvqTime < 0) {
      initRcvSpace(this);
      if (this.sndBufAuto) initSendBuffer(this);
    }
    this.host.stateChanged(this, from, to, cause);
    if (this.listener !== null) this.listener.childStateChanged(this, to);
  }

  /** Enter CLOSED: release everything and tell the user (RFC 9293 "delete the TCB"). */
  closeTcb(cause: CloseCause, error: TcpErrorCode | null): void {
    if (this.state === 'CLOSED') return;
    if (error !== null && this.error === null) this.error = error;
    this.rtoAt = this.delackAt = this.persistAt = this.keepaliveAt = this.timeWaitAt = this.finWait2At = Infinity;
    this.setState('CLOSED', cause);
    // §3.10.5/§3.10.7.4: "all segment queues should be flushed" — unsent and unacknowledged
    // data can never go now (received data stays readable, as Linux keeps it after a RST).
    this.sndBuf.consume(this.sndBuf.length);
    this.sndBuf.release();
    this.host.timersChanged(this);
    const u = this.user;
    if (u?.onClosed) u.onClosed(error, cause);
  }

  /** Earliest time at which onTimeout() has work to do. */
  nextDeadline(): Instant {
    let t = this.rtoAt;
    if (this.delackAt < t) t = this.delackAt;
    if (this.persistAt < t) t = this.persistAt;
    if (this.keepaliveAt < t) t = this.keepaliveAt;
    if (this.timeWaitAt < t) t = this.timeWaitAt;
    if (this.finWait2At < t) t = this.finWait2At;
    return t;
  }

  traceTimer(timer: TimerName, action: 'set' | 'cancel' | 'fire', at?: Instant): void {
    const tr = this.host.tracer;
    if (tr !== null) tr({ type: 'timer', t: this.now, host: this.host.traceHost, conn: this.connId, timer, action, at });
  }

  traceUser(call: string, detail?: string): void {
    const tr = this.host.tracer;
    if (tr !== null) tr({ type: 'user', t: this.now, host: this.host.traceHost, conn: this.connId, call, detail });
  }

  // ---------------------------------------------------------------- derived values

  /** Timestamp clock for TSval: milliseconds (RFC 7323 §5.4 allows 1 ms–1 s ticks), offset per connection. */
  tsNow(): number {
    return (Math.floor(this.now / 1000) + this.tsOffset) >>> 0;
  }

  /** Sequence number just past the last byte of data the user has written. */
  get sndDataEnd(): number { return seqAdd(this.sndBufSeq, this.sndBuf.length); }

  /** The FIN's sequence number (valid when finQueued). */
  get finSeq(): number { return this.sndDataEnd; }

  /** Our FIN has been sent at least once. */
  get finSent(): boolean { return this.finQueued && seqGt(this.sndMax, this.finSeq); }

  /** Our FIN has been acknowledged. */
  get finAcked(): boolean { return this.finQueued && seqGt(this.sndUna, this.finSeq); }

  /** Bytes in flight (sequence space sent and not acknowledged). */
  get inFlight(): number { return seqDiff(this.sndNxt, this.sndUna); }

  /** Bytes the user can still write into the send buffer. */
  get sendSpace(): number { return this.finQueued ? 0 : this.sndBuf.free; }

  /** Bytes written by the user and not yet sent. */
  get unsentBytes(): number { return Math.max(0, seqDiff(this.sndDataEnd, this.sndNxt)); }

  /** The receive window we would offer now (free buffer space beyond RCV.NXT). */
  get rcvWndAvail(): number { return this.rcvBuf.window; }

  /** Retransmission limit for the current state (Linux: tcp_syn_retries, tcp_synack_retries, tcp_orphan_retries, tcp_retries2). */
  retryLimit(): number {
    const o = this.host.options;
    if (this.state === 'SYN-SENT') return o.tcp_syn_retries;
    if (this.state === 'SYN-RECEIVED') return o.tcp_synack_retries;
    if (this.orphan) return o.tcp_orphan_retries === 0 ? 8 : o.tcp_orphan_retries;
    return o.tcp_retries2;
  }

  /** Recompute the effective send MSS after option negotiation (RFC 9293 §3.7.1, RFC 6691). */
  updateEffMss(): void {
    // RFC 1191 §6.4: never larger than the path MTU allows either.
    let mss = Math.min(this.mssPeer, this.mssOur, this.pmtu - 40);
    // Options on every segment reduce the payload (RFC 6691 §3: the MSS excludes options).
    if (this.tsOk) mss -= 12;
    this.effMss = Math.max(mss, 64);
    this.cc.setMss(this.effMss);
  }

  // ---------------------------------------------------------------- user calls (RFC 9293 §3.10)

  /** OPEN (active), §3.10.1: send SYN, enter SYN-SENT. */
  openActive(now: Instant): void {
    this.now = now;
    this.traceUser('connect');
    this.host.counters.TcpActiveOpens++;
    this.setState('SYN-SENT', 'user: connect');
    output(this);
    this.host.timersChanged(this);
  }

  /**
   * SEND, §3.10.2: queue data; returns the number of bytes accepted (the rest does not fit
   * the send buffer; the user waits for onWritable). Data written before ESTABLISHED is
   * queued and sent once the handshake completes.
   */
  send(data: Uint8Array, now: Instant, off = 0, len = data.length - off): number {
    this.now = now;
    if (this.finQueued || this.state === 'CLOSED' || this.state === 'TIME-WAIT' || this.state === 'LISTEN') return -1;
    let n = this.sndBuf.write(data, off, len);
    if (n < len && this.sndBufAuto && growSendBuffer(this)) n += this.sndBuf.write(data, off + n, len - n);
    if (n > 0 && isSynchronizedOrEstablishing(this.state)) output(this);
    this.host.timersChanged(this);
    return n;
  }

  /** RECEIVE, §3.10.3: take up to `max` in-order bytes. Opens the window with an update when worthwhile. */
  receive(max: number, now: Instant): Uint8Array {
    this.now = now;
    const before = this.rcvBuf.readable;
    const data = this.rcvBuf.read(max);
    this.bytesCopied += data.length;
    if (data.length > 0 && isSynchronized(this.state) && !this.finReceived) {
      rcvSpaceAdjust(this);
      this.maybeWindowUpdate(before);
      this.host.timersChanged(this);
    }
    return data;
  }

  /** RECEIVE into a caller's buffer (no allocation): like recv(2). Returns the bytes copied. */
  receiveInto(dst: Uint8Array, dstOff: number, max: number, now: Instant): number {
    this.now = now;
    const before = this.rcvBuf.readable;
    const n = this.rcvBuf.readInto(dst, dstOff, Math.min(max, dst.length - dstOff));
    this.bytesCopied += n;
    if (n > 0 && isSynchronized(this.state) && !this.finReceived) {
      rcvSpaceAdjust(this);
      this.maybeWindowUpdate(before);
      this.host.timersChanged(this);
    }
    return n;
  }

  /** Bytes ready to read. */
  get readable(): number { return this.rcvBuf.readable; }

  /**
   * Linux tcp_full_space: the window the whole receive buffer stands for. Linux charges skb
   * overhead to the buffer and counts half of it as window at the default scaling ratio
   * (tcp_win_from_space, TCP_DEFAULT_SCALING_RATIO = 50%); its buffer is tcp_rmem[1], or twice
   * what SO_RCVBUF set (sock_setsockopt doubles it, and this engine stores the value as set).
   * Only the initial windows use it: this engine has no skb overhead, so after the handshake
   * the buffer is all window (rcvWndAvail), bounded by rcvSsthresh.
   */
  get fullSpace(): number {
    return this.rcvBufAuto ? Math.floor(this.rcvBuf.capacity / 2) : this.rcvBuf.capacity;
  }

  /**
   * How far the right edge must be able to move before it does (receiver SWS avoidance, RFC
   * 1122 §4.2.3.3: min(buffer/2, MSS)), but never more than rcvSsthresh allows: a window that
   * is held below the buffer by rcvSsthresh must still open from zero (seen as a deadlock with
   * a 475-byte buffer whose offer could never move by the 237 bytes asked).
   */
  get rcvSwsThreshold(): number {
    return Math.min(this.rcvBuf.capacity >>> 1, this.mssOur, Math.max(this.rcvSsthresh, 1));
  }

  /**
   * A reader freed buffer space: send a window update when the window grows by at least
   * min(buffer/2, MSS) beyond what we advertised (RFC 1122 §4.2.3.3 receiver SWS avoidance).
   * That is exactly when advertiseWindow() moves the right edge: an update it would not
   * move is a duplicate ACK (tiny reads sent storms of them, and three make the peer
   * retransmit spuriously, RFC 5681 §2).
   */
  maybeWindowUpdate(_readableBefore: number): void {
    // Only the window the 16-bit field can carry counts (RFC 7323 §2.3: 65535 << Rcv.Wind.Shift);
    // space beyond it cannot be announced, so freeing it is no reason for an update. Nor is
    // space beyond rcvSsthresh, which advertiseWindow does not offer either.
    const avail = Math.min(this.rcvWndAvail, 65535 * 2 ** this.rcvWscale, Math.max(this.rcvSsthresh, 0));
    const advertised = seqDiff(this.rcvAdv, this.rcvNxt);
    const grow = avail - Math.max(0, advertised);
    const threshold = this.rcvSwsThreshold;
    // Linux tcp_cleanup_rbuf: a pure update only pays when the advertised window has shrunk
    // to half the buffer or less and the new one at least doubles it; otherwise the next ACK
    // carries the larger window anyway (every read of a busy stream sent one before).
    const adv = Math.max(0, advertised);
    if (grow >= threshold && 2 * adv <= this.rcvBuf.capacity && avail >= 2 * adv) {
      this.ackNow = true;
      // Read from a callback while a segment is being processed: onSegmentArrives sends
      // at its end, so the update rides on the reply the user may be writing right now.
      if (!this.inInput) output(this);
    }
  }

  /**
   * CLOSE, §3.10.4 (and shutdown(SHUT_WR) with orphan=false): no more data will be sent;
   * queue a FIN after the buffered data. With `orphan`, the user also stops reading: unread
   * received data makes this an abort with RST (RFC 2525 §2.17, Linux tcp_close).
   */
  close(now: Instant, orphan = true): void {
    this.now = now;
    this.traceUser(orphan ? 'close' : 'shutdown', orphan ? undefined : 'SHUT_WR');
    if (this.state === 'CLOSED' || this.state === 'LISTEN') return;
    if (orphan && !this.orphan) {
      this.orphan = true;
      this.host.orphaned(this);
      if ((this.state as TcpState) === 'CLOSED') return;
    }
    switch (this.state) {
      case 'SYN-SENT':
        // §3.10.4: delete the TCB, "error: closing" for queued calls.
        this.closeTcb('abort', null);
        return;
      default:
        break;
    }
    if (orphan && this.rcvBuf.readable > 0) {
      this.host.counters.TcpExtTCPAbortOnClose++;
      this.abort(now, 'close with unread data');
      return;
    }
    if (this.finQueued) {
      // close() after shutdown(SHUT_WR): an orphan already in FIN-WAIT-2 still needs its
      // timer, or it waits forever for a FIN that may never come (Linux tcp_close → tcp_fin_timeout).
      if (orphan && this.state === 'FIN-WAIT-2' && this.finWait2At === Infinity) this.armFinWait2();
      this.host.timersChanged(this);
      return;
    }
    switch (this.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        // §3.10.4: in SYN-RECEIVED the FIN waits until data is sent; we hold it until ESTABLISHED.
        this.finQueued = true;
        if (this.state === 'ESTABLISHED') this.setState('FIN-WAIT-1', orphan ? 'user: close' : 'user: shutdown');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK', orphan ? 'user: close' : 'user: shutdown');
        break;
      default:
        // FIN-WAIT-*, CLOSING, LAST-ACK, TIME-WAIT: already closing ("error: connection closing").
        break;
    }
    if (orphan && this.state === 'FIN-WAIT-2') this.armFinWait2();
    output(this);
    this.host.timersChanged(this);
  }

  /** shutdown(SHUT_RD): discard further data from the peer (it is still acknowledged). */
  shutdownRead(now: Instant): void {
    this.now = now;
    this.readShutdown = true;
    this.traceUser('shutdown', 'SHUT_RD');
  }

  /** ABORT, §3.10.5: send RST (in synchronized states and SYN-RECEIVED), enter CLOSED. */
  abort(now: Instant, why = 'user: abort'): void {
    this.now = now;
    this.traceUser('abort', why);
    const s = this.state;
    if (s === 'SYN-RECEIVED' || s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2' || s === 'CLOSE-WAIT') {
      sendRst(this, this.sndNxt);
      if (s === 'ESTABLISHED' || s === 'CLOSE-WAIT') this.host.counters.TcpEstabResets++;
    }
    this.closeTcb('abort', null);
  }

  /** An ACK the delayed-ACK timer holds goes now (Linux TCP_QUICKACK=1: tcp_cleanup_rbuf). */
  sendPendingAck(now: Instant): void {
    this.now = now;
    if (this.delackAt === Infinity || !isSynchronized(this.state)) return;
    this.ackNow = true;
    output(this);
    this.host.timersChanged(this);
  }

  /** Arm the FIN-WAIT-2 timer for an orphaned connection (Linux tcp_fin_timeout). */
  armFinWait2(): void {
    this.finWait2At = this.now + this.host.options.tcp_fin_timeout * 1_000_000;
    this.traceTimer('fin-wait-2', 'set', this.finWait2At);
  }

  /** STATUS, §3.10.6. */
  status(): TcbStatus {
    return {
      state: this.state, localAddr: this.localAddr, localPort: this.localPort, remoteAddr: this.remoteAddr, remotePort: this.remotePort,
      sndUna: this.sndUna, sndNxt: this.sndNxt, sndWnd: this.sndWnd, rcvNxt: this.rcvNxt, rcvWnd: Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt)),
      cwnd: this.cc.cwnd, ssthresh: this.cc.ssthresh, srtt: this.rtt.srtt, rttvar: this.rtt.rttvar, rto: this.rtt.rto,
      inFlight: this.inFlight, retransmits: this.retransmittedSegs, recvQ: this.rcvBuf.readable, sendQ: this.sndBuf.length,
      mss: this.effMss, sndWscale: this.sndWscale, rcvWscale: this.rcvWscale, sackOk: this.sackOk, tsOk: this.tsOk,
    };
  }

  setKeepAlive(now: Instant, enable: boolean, idle?: Duration, intvl?: Duration, cnt?: number): void {
    this.now = now;
    this.keepAlive = enable;
    if (idle !== undefined && idle > 0) this.keepIdle = idle;
    if (intvl !== undefined && intvl > 0) this.keepIntvl = intvl;
    if (cnt !== undefined && cnt > 0) this.keepCnt = cnt;
    this.keepaliveProbes = 0;
    this.armKeepalive();
    this.host.timersChanged(this);
  }

  armKeepalive(): void {
    if (this.keepAlive && isSynchronized(this.state) && this.state !== 'TIME-WAIT') {
      this.keepaliveAt = this.lastRecvAt + this.keepIdle;
      if (this.keepaliveAt < this.now) this.keepaliveAt = this.now;
    } else {
      this.keepaliveAt = Infinity;
    }
  }

  // ---------------------------------------------------------------- events from the host

  /** SEGMENT ARRIVES (RFC 9293 §3.10.7.3–3.10.7.4) for a segment demultiplexed to this TCB. */
  onSegmentArrives(seg: SegmentIn, now: Instant): void {
    this.now = now;
    this.segsIn++;
    this.inInput = true;
    try { segmentArrives(this, seg); } finally { this.inInput = false; }
    if (this.state !== 'CLOSED') output(this);
    this.host.timersChanged(this);
  }

  /** An ICMP error quoting one of this connection's segments (RFC 9293 §3.9.2.2, tcp/icmp.ts). */
  onIcmpError(m: IcmpErrorIn, now: Instant): void {
    this.now = now;
    icmpErrorArrives(this, m);
    if (this.state !== 'CLOSED') output(this);
    this.host.timersChanged(this);
  }

  /** Timeouts (RFC 9293 §3.10.8 and the timers of RFC 1122/6298). */
  onTimeout(now: Instant): void {
    this.now = now;
    onTimeout(this);
    if (this.state !== 'CLOSED') output(this);
    this.host.timersChanged(this);
  }
}

export interface TcbStatus {
  state: TcpState; localAddr: number; localPort: number; remoteAddr: number; remotePort: number;
  sndUna: number; sndNxt: number; sndWnd: number; rcvNxt: number; rcvWnd: number;
  cwnd: number; ssthresh: number; srtt: Duration; rttvar: Duration; rto: Duration;
  inFlight: number; retransmits: number; recvQ: number; sendQ: number; mss: number;
  sndWscale: number; rcvWscale: number; sackOk: boolean; tsOk: boolean;
}

function isSynchronizedOrEstablishing(s: TcpState): boolean {
  return s === 'ESTABLISHED' || s === 'CLOSE-WAIT';
}
