// A passive OPEN: the LISTEN state (RFC 9293 §3.10.7.2) with a SYN queue (half-open
// connections in SYN-RECEIVED) and an accept queue (ESTABLISHED, not yet accepted), both
// bounded, and SYN cookies when the SYN queue overflows (RFC 4987 §3.6, Linux syncookies.c).
import type { Instant } from '../time/instant.js';
import type { SegmentIn, SegmentOut, TcpState } from './types.js';
import type { Tcb } from './tcb.js';
import type { StackOptions } from '../stack/options.js';
import type { Counters } from '../stack/counters.js';
import { newOutOptions } from './types.js';
import { TCP_ACK, TCP_RST, TCP_SYN, TCP_FIN } from '../wire/tcp.js';
import { seqAdd } from './seq.js';
import { negotiateSynOptions } from './input.js';
import { initialRcvWindow, output } from './output.js';
import { SYNCOOKIE_MSS_TABLE, cookieTsVal, decodeCookieTs, type SynCookies } from './syncookie.js';

/** Cookies stay valid this long after the last SYN-queue overflow (Linux TCP_SYNCOOKIE_VALID, 2 min). */
const COOKIE_WINDOW = 120 * 1_000_000;

export interface ListenerHost {
  readonly options: StackOptions;
  readonly counters: Counters;
  readonly cookies: SynCookies;
  /** Create a TCB for a new passive connection and register it in the demux table. */
  createPassiveTcb(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, iss: number | null, now: Instant): Tcb;
  /** Send a segment that belongs to no TCB (RST, cookie SYN-ACK). */
  sendStateless(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, seg: SegmentOut): void;
  /** Our MSS towards a peer (interface MTU − 40). */
  mssFor(remoteAddr: number): number;
  /** Deterministic per-4-tuple timestamp offset (so cookie children keep the TS clock of the SYN-ACK). */
  tsOffsetFor(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): number;
  /** Our window scale shift for new connections. */
  readonly defaultRcvWscale: number;
  readonly defaultRcvWindow: number;
  drop(reason: string, now: Instant): void;
}

/**
 * The SYN queue: a set of connections that never becomes empty inside (one permanent null
 * member). V8 shrinks a Set whose last member is deleted and grows it again on the next add:
 * two rehashes per connection for a server taking one connection at a time (issue 16).
 */
export class TcbSet implements Iterable<Tcb> {
  private readonly s = new Set<Tcb | null>([null]);
  get size(): number { return this.s.size - 1; }
  has(t: Tcb): boolean { return this.s.has(t); }
  add(t: Tcb): this { this.s.add(t); return this; }
  delete(t: Tcb): boolean { return this.s.delete(t); }
  clear(): void { this.s.clear(); this.s.add(null); }
  *[Symbol.iterator](): IterableIterator<Tcb> { for (const t of this.s) if (t !== null) yield t; }
}

export class Listener {
  readonly synQueue = new TcbSet();
  readonly acceptQueue: Tcb[] = [];
  /** Called when a connection is ready to accept (it is ESTABLISHED and queued). */
  onAcceptable: ((l: Listener) => void) | null = null;
  /**
   * Called when a child connection is created, before its SYN-ACK is built: the socket layer
   * applies the options children inherit from the listening socket (SO_RCVBUF, TCP_MAXSEG, …).
   */
  onNewChild: ((tcb: Tcb) => void) | null = null;
  closed = false;
  /**
   * Linux keeps a child that is reset while it waits in the accept queue: accept() returns
   * it (in CLOSED, with its error) and the first read reports ECONNRESET, so a server sees
   * every connection that completed its handshake (tcp_done leaves a non-orphaned child in
   * the queue). Opt-in — the net layer sets it; core users get only live connections.
   */
  keepClosedChildren = false;
  private lastOverflowAt = -Infinity;
  private readonly out: SegmentOut = { seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false };

  constructor(
    private readonly host: ListenerHost,
    readonly localAddr: number,
    readonly localPort: number,
    public backlog: number,
  ) {}

  /** Half-open connections allowed before the SYN queue counts as full. */
  get synQueueLimit(): number {
    return Math.max(1, Math.min(this.backlog, this.host.options.tcp_max_syn_backlog));
  }

  /** LISTEN state processing of a segment for which no connection exists. `dst` is the address it was sent to. */
  onSegment(seg: SegmentIn, src: number, srcPort: number, dst: number, now: Instant): void {
    const f = seg.flags;
    // First, check for a RST: ignore it.
    if (f & TCP_RST) { this.host.drop('listen: rst', now); return; }
    // Second, check for an ACK: a SYN cookie's final ACK, or bogus → <SEQ=SEG.ACK><CTL=RST>.
    if (f & TCP_ACK) {
      if (!(f & TCP_SYN) && this.cookiesActive(now) && this.tryCookie(seg, src, srcPort, dst, now)) return;
      this.rst(dst, src, srcPort, seg.ack, 0, TCP_RST);
      return;
    }
    // Third, check for a SYN.
    if (!(f & TCP_SYN)) { this.host.drop('listen: no syn', now); return; }
    if (f & TCP_FIN) { this.host.drop('listen: syn+fin', now); return; }
    const c = this.host.counters;
    if (this.acceptQueue.length >= this.backlog) {
      // Linux tcp_conn_request: a full accept queue drops the SYN; the client retries.
      c.TcpExtListenOverflows++;
      c.TcpExtListenDrops++;
      this.host.drop('listen: accept queue full', now);
      return;
    }
    const synFull = this.synQueue.size >= this.synQueueLimit;
    const mode = this.host.options.tcp_syncookies;
    if (mode === 2 || (synFull && mode === 1)) {
      if (synFull) this.lastOverflowAt = now;
      this.sendCookieSynAck(seg, src, srcPort, dst, now);
      return;
    }
    if (synFull) {
      c.TcpExtListenDrops++;
      this.host.drop('listen: syn queue full', now);
      return;
    }
    const tcb = this.host.createPassiveTcb(dst, this.localPort, src, srcPort, null, now);
    tcb.now = now;
    if (this.onNewChild !== null) this.onNewChild(tcb);
    tcb.passive = true;
    tcb.listener = this;
    tcb.irs = seg.seq;
    tcb.rcvNxt = seqAdd(seg.seq, 1);
    tcb.rcvAdv = tcb.rcvNxt;
    tcb.rcvUp = tcb.rcvNxt; // RCV.UP starts at the stream's start (RFC 9293 §3.10.7.4 sixth step)
    tcb.lastRecvAt = now;
    negotiateSynOptions(tcb, seg.opts);
    // RFC 7323 §2.2: the SYN's window is not scaled.
    tcb.sndWnd = seg.window;
    tcb.maxSndWnd = seg.window;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = tcb.iss;
    this.synQueue.add(tcb);
    tcb.setState('SYN-RECEIVED', 'rcv SYN');
    output(tcb);
    tcb.host.timersChanged(tcb);
  }

  private cookiesActive(now: Instant): boolean {
    const mode = this.host.options.tcp_syncookies;
    return mode === 2 || (mode === 1 && now - this.lastOverflowAt <= COOKIE_WINDOW);
  }

  /** Answer a SYN without keeping state: the ISN is the cookie (RFC 4987 §3.6). */
  private sendCookieSynAck(seg: SegmentIn, src: number, srcPort: number, dst: number, now: Instant): void {
    const h = this.host;
    h.counters.TcpExtSyncookiesSent++;
    const peerMss = seg.opts.mss > 0 ? seg.opts.mss : 536;
    const iss = h.cookies.make(src, srcPort, dst, this.localPort, seg.seq, peerMss, now);
    const s = this.out;
    const o = s.opts;
    const o2 = h.options;
    s.seq = iss; s.ack = seqAdd(seg.seq, 1); s.flags = TCP_SYN | TCP_ACK; s.urgentPointer = 0; s.payload = null; s.retransmit = false;
    o.mss = h.mssFor(src);
    if (o.sack.length !== 0) o.sack.length = 0;
    // Without timestamps the cookie cannot carry window scale or SACK (Linux behaves the same).
    const ts = o2.tcp_timestamps !== 0 && seg.opts.tsPresent;
    s.window = initialRcvWindow(Math.floor(h.defaultRcvWindow / 2), o.mss - (ts ? 12 : 0)); // Tcb.fullSpace
    const ws = o2.tcp_window_scaling !== 0 && seg.opts.wscale >= 0 && ts;
    const sack = o2.tcp_sack !== 0 && seg.opts.sackPermitted && ts;
    o.ts = ts;
    o.sackPermitted = sack;
    o.wscale = ws ? h.defaultRcvWscale : -1;
    if (ts) {
      const tsNow = (Math.floor(now / 1000) + h.tsOffsetFor(dst, this.localPort, src, srcPort)) >>> 0;
      o.tsVal = cookieTsVal(tsNow, ws ? Math.min(seg.opts.wscale, 14) : -1, sack);
      o.tsEcr = seg.opts.tsVal;
    }
    h.sendStateless(dst, this.localPort, src, srcPort, s);
  }

  /** The final ACK of a cookie handshake: validate, then create the connection directly ESTABLISHED. */
  private tryCookie(seg: SegmentIn, src: number, srcPort: number, dst: number, now: Instant): boolean {
    const h = this.host;
    const clientIsn = seqAdd(seg.seq, -1);
    const mss = h.cookies.check(src, srcPort, dst, this.localPort, clientIsn, seg.ack, now);
    if (mss === 0) { h.counters.TcpExtSyncookiesFailed++; return false; }
    let wscale = -1, sackOk = false;
    if (seg.opts.tsPresent) {
      const d = decodeCookieTs(seg.opts.tsEcr);
      if (d === null) { h.counters.TcpExtSyncookiesFailed++; return false; }
      wscale = d.wscale; sackOk = d.sackOk;
    }
    if (this.acceptQueue.length >= this.backlog) {
      h.counters.TcpExtListenOverflows++;
      h.counters.TcpExtListenDrops++;
      h.drop('listen: accept queue full (cookie)', now);
      return true;
    }
    h.counters.TcpExtSyncookiesRecv++;
    const iss = seqAdd(seg.ack, -1);
    const tcb = h.createPassiveTcb(dst, this.localPort, src, srcPort, iss, now);
    tcb.now = now;
    if (this.onNewChild !== null) this.onNewChild(tcb);
    tcb.passive = true;
    tcb.listener = this;
    tcb.irs = clientIsn;
    tcb.rcvNxt = seg.seq;
    tcb.rcvUp = seg.seq;
    tcb.lastRecvAt = now;
    tcb.mssPeer = mss;
    tcb.wsOk = wscale >= 0 && tcb.wantWs;
    tcb.sndWscale = tcb.wsOk ? wscale : 0;
    if (!tcb.wsOk) tcb.rcvWscale = 0;
    tcb.sackOk = sackOk && tcb.wantSack;
    tcb.tsOk = seg.opts.tsPresent && tcb.wantTs;
    if (tcb.tsOk) { tcb.tsRecent = seg.opts.tsVal; tcb.tsRecentAt = now; }
    // The window our cookie SYN-ACK announced (sendCookieSynAck).
    tcb.rcvSsthresh = initialRcvWindow(tcb.fullSpace, h.mssFor(src) - (tcb.tsOk ? 12 : 0));
    tcb.rcvAdv = seqAdd(tcb.rcvNxt, tcb.rcvSsthresh);
    tcb.updateEffMss();
    tcb.sndUna = seg.ack; tcb.sndNxt = seg.ack; tcb.sndMax = seg.ack; tcb.sndBufSeq = seg.ack;
    tcb.recover = seg.ack;
    tcb.sndWnd = seg.window << tcb.sndWscale;
    tcb.maxSndWnd = tcb.sndWnd;
    tcb.sndWl1 = seg.seq; tcb.sndWl2 = seg.ack;
    h.counters.TcpPassiveOpens++;
    tcb.setState('ESTABLISHED', 'rcv ACK (syn cookie)');
    tcb.armKeepalive();
    // Data or FIN riding on the final ACK is processed by the normal path.
    if (seg.payload.length > 0 || (seg.flags & TCP_FIN)) tcb.onSegmentArrives(seg, now);
    return true;
  }

  private rst(localAddr: number, remoteAddr: number, remotePort: number, seq: number, ack: number, flags: number): void {
    const s = this.out;
    s.seq = seq; s.ack = ack; s.flags = flags; s.window = 0; s.urgentPointer = 0; s.payload = null; s.retransmit = false;
    const o = s.opts; o.mss = -1; o.wscale = -1; o.sackPermitted = false; o.ts = false; if (o.sack.length !== 0) o.sack.length = 0;
    this.host.counters.TcpOutRsts++;
    this.host.sendStateless(localAddr, this.localPort, remoteAddr, remotePort, s);
  }

  /** Children report their state changes: ESTABLISHED moves them to the accept queue, CLOSED removes them. */
  childStateChanged(tcb: Tcb, to: TcpState): void {
    if (to === 'CLOSED') {
      this.synQueue.delete(tcb);
      const i = this.acceptQueue.indexOf(tcb);
      if (i >= 0 && this.keepClosedChildren && !this.closed) return;
      if (i >= 0) this.acceptQueue.splice(i, 1);
      tcb.listener = null;
      return;
    }
    if (this.synQueue.has(tcb) && to !== 'SYN-RECEIVED') {
      this.synQueue.delete(tcb);
      this.acceptQueue.push(tcb);
      if (this.onAcceptable !== null) this.onAcceptable(this);
    } else if (!this.synQueue.has(tcb) && !this.acceptQueue.includes(tcb) && to === 'ESTABLISHED') {
      // Created directly ESTABLISHED from a SYN cookie.
      this.acceptQueue.push(tcb);
      if (this.onAcceptable !== null) this.onAcceptable(this);
    }
  }

  /** Take the oldest connection from the accept queue (it no longer belongs to the listener). */
  accept(): Tcb | null {
    const tcb = this.acceptQueue.shift();
    if (tcb === undefined) return null;
    tcb.listener = null;
    return tcb;
  }

  /** Close the listener: half-open and unaccepted connections are reset (Linux inet_csk_listen_stop). */
  close(now: Instant): void {
    this.closed = true;
    for (const t of [...this.synQueue, ...this.acceptQueue]) t.abort(now, 'listener closed');
    this.synQueue.clear();
    this.acceptQueue.length = 0;
  }
}

export { SYNCOOKIE_MSS_TABLE };
