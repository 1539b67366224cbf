// A connection in TIME-WAIT, compacted (Linux: struct tcp_timewait_sock, inet_twsk_alloc in
// tcp_time_wait). A full Tcb is ~1.6 KB with its buffers, estimators and controller; a
// connection that waits out 2·MSL (60 s) needs only its 4-tuple, its sequence and timestamp
// state and its deadline. A client doing connect+close holds one TIME-WAIT per connection
// for a minute — 20,000 of them in the `connrate-seq` bench — and keeping them as full TCBs
// made garbage collection a quarter of the connect profile (issue 16).
//
// Linux does this when a connection enters TIME-WAIT (tcp_time_wait → inet_twsk_alloc, then
// tcp_done on the socket); synack does it once the segment that led there has been processed
// (stack.ts), and only for a connection the user has closed (an orphan) that left no callback
// TIME-WAIT could call: no tracer, no listener that still owns it, nothing buffered, no user
// onClosed/onEnd. The Tcb object is then detached from the stack and reads CLOSED — as a
// Linux application's socket is gone after close() while `ss` still lists the TIME-WAIT —
// and the stack's table (tcbs(), connections()) shows the record as TIME-WAIT. A segment for
// the 4-tuple rebuilds a Tcb from the record (`rehydrate`), which processes it exactly as the
// old one would have (RFC 9293 §3.10.7.4 in input.ts; test/tcp/timewait.test.ts runs each
// TIME-WAIT case with and without compaction and compares what goes on the wire).
//
// (A WeakRef to the old Tcb, to hand events to it while the user still held it, was tried and
// dropped: a WeakRef keeps its target alive until the end of the current job, and a
// simulation runs in one job, so nothing was ever freed — and creating one per connection
// cost more than the record saved.)
import { Tcb, type TcbHost } from './tcb.js';

export class TimeWaitRecord {
  /** 'CLOSED' once 2·MSL passed or the 4-tuple was reused (then the record is out of the table). */
  state: 'TIME-WAIT' | 'CLOSED' = 'TIME-WAIT';
  /** The host's timer-queue bookkeeping (as Tcb.scheduledAt / Tcb.timerId). */
  scheduledAt = Infinity;
  timerId = 0;
  readonly localAddr: number; readonly localPort: number;
  readonly remoteAddr: number; readonly remotePort: number;
  timeWaitAt: number;
  readonly orphan: boolean;
  // The state TIME-WAIT processing reads (input.ts: PAWS, acceptability, RST, SYN, ACK, FIN).
  private readonly passive: boolean;
  private readonly iss: number; readonly sndUna: number; readonly sndNxt: number; private readonly sndMax: number;
  private readonly sndWnd: number; private readonly sndWl1: number; private readonly sndWl2: number;
  private readonly maxSndWnd: number; private readonly sndWscale: number; private readonly sndBufSeq: number;
  private readonly irs: number; readonly rcvNxt: number; private readonly rcvAdv: number; private readonly rcvWscale: number;
  private readonly rcvUp: number;
  private readonly mssOur: number; private readonly mssPeer: number; private readonly effMss: number;
  private readonly pmtu: number; private readonly rcvMss: number;
  /** wsOk | sackOk << 1 | tsOk << 2 | wantWs << 3 | wantSack << 4 | wantTs << 5 | readShutdown << 6 | sndBufAuto << 7 | rcvBufAuto << 8 | noDelay << 9 */
  private readonly bits: number;
  readonly tsRecent: number; private readonly tsRecentAt: number; private readonly lastAckSent: number;
  private readonly tsOffset: number;
  private readonly rcvCap: number; private readonly sndCap: number;
  private readonly dscp: number;
  private readonly recover: number;
  private readonly lastSendAt: number; private readonly lastRecvAt: number;
  private readonly invalidAckAt: number | null;

  constructor(t: Tcb) {
    this.localAddr = t.localAddr; this.localPort = t.localPort; this.remoteAddr = t.remoteAddr; this.remotePort = t.remotePort;
    this.timeWaitAt = t.timeWaitAt;
    this.orphan = t.orphan;
    this.passive = t.passive;
    this.iss = t.iss; this.sndUna = t.sndUna; this.sndNxt = t.sndNxt; this.sndMax = t.sndMax;
    this.sndWnd = t.sndWnd; this.sndWl1 = t.sndWl1; this.sndWl2 = t.sndWl2;
    this.maxSndWnd = t.maxSndWnd; this.sndWscale = t.sndWscale; this.sndBufSeq = t.sndBufSeq;
    this.irs = t.irs; this.rcvNxt = t.rcvNxt; this.rcvAdv = t.rcvAdv; this.rcvWscale = t.rcvWscale; this.rcvUp = t.rcvUp;
    this.mssOur = t.mssOur; this.mssPeer = t.mssPeer; this.effMss = t.effMss; this.pmtu = t.pmtu; this.rcvMss = t.rcvMss;
    this.bits = (t.wsOk ? 1 : 0) | (t.sackOk ? 2 : 0) | (t.tsOk ? 4 : 0) | (t.wantWs ? 8 : 0) | (t.wantSack ? 16 : 0)
      | (t.wantTs ? 32 : 0) | (t.readShutdown ? 64 : 0) | (t.sndBufAuto ? 128 : 0) | (t.rcvBufAuto ? 256 : 0) | (t.noDelay ? 512 : 0);
    this.tsRecent = t.tsRecent; this.tsRecentAt = t.tsRecentAt; this.lastAckSent = t.lastAckSent; this.tsOffset = t.tsOffset;
    this.rcvCap = t.rcvBuf.capacity; this.sndCap = t.sndBuf.capacity;
    this.dscp = t.dscp;
    this.recover = t.recover;
    this.lastSendAt = t.lastSendAt; this.lastRecvAt = t.lastRecvAt;
    this.invalidAckAt = t.invalidAckLastAllowed;
  }

  get tsOk(): boolean { return (this.bits & 4) !== 0; }

  nextDeadline(): number { return this.state === 'CLOSED' ? Infinity : this.timeWaitAt; }

  /** A Tcb in TIME-WAIT equal, for segment processing, to the one this record replaced. */
  rehydrate(host: TcbHost): Tcb {
    const b = this.bits;
    const t = new Tcb(host, {
      localAddr: this.localAddr, localPort: this.localPort, remoteAddr: this.remoteAddr, remotePort: this.remotePort,
      mtu: this.mssOur + 40, iss: this.iss, tsOffset: this.tsOffset,
      rcvBufSize: (b & 256) !== 0 ? undefined : this.rcvCap, sndBufSize: (b & 128) !== 0 ? undefined : this.sndCap,
    });
    t.state = 'TIME-WAIT';
    t.passive = this.passive;
    t.sndUna = this.sndUna; t.sndNxt = this.sndNxt; t.sndMax = this.sndMax;
    t.sndWnd = this.sndWnd; t.sndWl1 = this.sndWl1; t.sndWl2 = this.sndWl2;
    t.maxSndWnd = this.maxSndWnd; t.sndWscale = this.sndWscale; t.sndBufSeq = this.sndBufSeq;
    t.finQueued = true;
    t.irs = this.irs; t.rcvNxt = this.rcvNxt; t.rcvAdv = this.rcvAdv; t.rcvWscale = this.rcvWscale; t.rcvUp = this.rcvUp;
    t.finReceived = true;
    t.mssOur = this.mssOur; t.mssPeer = this.mssPeer; t.effMss = this.effMss; t.pmtu = this.pmtu; t.rcvMss = this.rcvMss;
    t.wsOk = (b & 1) !== 0; t.sackOk = (b & 2) !== 0; t.tsOk = (b & 4) !== 0;
    t.wantWs = (b & 8) !== 0; t.wantSack = (b & 16) !== 0; t.wantTs = (b & 32) !== 0;
    t.readShutdown = (b & 64) !== 0; t.noDelay = (b & 512) !== 0;
    t.rcvBuf.capacity = this.rcvCap; t.sndBuf.capacity = this.sndCap;
    t.tsRecent = this.tsRecent; t.tsRecentAt = this.tsRecentAt; t.lastAckSent = this.lastAckSent;
    t.orphan = this.orphan;
    t.dscp = this.dscp;
    t.recover = this.recover;
    t.lastSendAt = this.lastSendAt; t.lastRecvAt = this.lastRecvAt;
    if (this.invalidAckAt !== null) t.invalidAckLimiter.lastAllowed = this.invalidAckAt;
    t.timeWaitAt = this.timeWaitAt;
    return t;
  }
}
