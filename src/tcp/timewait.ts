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

/** A uint32 (sequence number, timestamp) kept as an int32: a small integer in V8, no boxed double per field. */
function i32(v: number): number { return v | 0; }
function u32(v: number): number { return v >>> 0; }

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
  // Sequence numbers and timestamps (uint32) are stored as int32 (i32/u32): every record lives
  // for 2·MSL, thousands at once, and a uint32 above 2^31 in a field is a boxed double in V8
  // (16 bytes more each; issue 16).
  private readonly passive: boolean;
  private readonly issI: number; private readonly sndUnaI: number; private readonly sndNxtI: number; private readonly sndMaxI: number;
  private readonly sndWnd: number; private readonly sndWl1I: number; private readonly sndWl2I: number;
  private readonly maxSndWnd: number; private readonly sndBufSeqI: number;
  private readonly irsI: number; private readonly rcvNxtI: number; private readonly rcvAdvI: number;
  private readonly rcvUpI: number;
  private readonly mssOur: number; private readonly mssPeer: number; private readonly effMss: number;
  private readonly pmtu: number; private readonly rcvMss: number;
  /**
   * wsOk | sackOk << 1 | tsOk << 2 | wantWs << 3 | wantSack << 4 | wantTs << 5 | readShutdown << 6 | sndBufAuto << 7
   * | rcvBufAuto << 8 | noDelay << 9 | sndWscale << 10 (4 bits) | rcvWscale << 14 (4 bits) | dscp << 18 (6 bits)
   */
  private readonly bits: number;
  private readonly tsRecentI: number; private readonly tsRecentAt: number; private readonly lastAckSentI: number;
  private readonly tsOffsetI: number;
  private readonly rcvCap: number; private readonly sndCap: number;
  private readonly recoverI: number;
  private readonly lastSendAt: number; private readonly lastRecvAt: number;
  private readonly invalidAckAt: number | null;

  constructor(t: Tcb) {
    this.localAddr = t.localAddr; this.localPort = t.localPort; this.remoteAddr = t.remoteAddr; this.remotePort = t.remotePort;
    this.timeWaitAt = t.timeWaitAt;
    this.orphan = t.orphan;
    this.passive = t.passive;
    this.issI = i32(t.iss); this.sndUnaI = i32(t.sndUna); this.sndNxtI = i32(t.sndNxt); this.sndMaxI = i32(t.sndMax);
    this.sndWnd = t.sndWnd; this.sndWl1I = i32(t.sndWl1); this.sndWl2I = i32(t.sndWl2);
    this.maxSndWnd = t.maxSndWnd; this.sndBufSeqI = i32(t.sndBufSeq);
    this.irsI = i32(t.irs); this.rcvNxtI = i32(t.rcvNxt); this.rcvAdvI = i32(t.rcvAdv); this.rcvUpI = i32(t.rcvUp);
    this.mssOur = t.mssOur; this.mssPeer = t.mssPeer; this.effMss = t.effMss; this.pmtu = t.pmtu; this.rcvMss = t.rcvMss;
    this.bits = (t.wsOk ? 1 : 0) | (t.sackOk ? 2 : 0) | (t.tsOk ? 4 : 0) | (t.wantWs ? 8 : 0) | (t.wantSack ? 16 : 0)
      | (t.wantTs ? 32 : 0) | (t.readShutdown ? 64 : 0) | (t.sndBufAuto ? 128 : 0) | (t.rcvBufAuto ? 256 : 0) | (t.noDelay ? 512 : 0)
      | ((t.sndWscale & 15) << 10) | ((t.rcvWscale & 15) << 14) | ((t.dscp & 63) << 18);
    this.tsRecentI = i32(t.tsRecent); this.tsRecentAt = t.tsRecentAt; this.lastAckSentI = i32(t.lastAckSent); this.tsOffsetI = i32(t.tsOffset);
    this.rcvCap = t.rcvBuf.capacity; this.sndCap = t.sndBuf.capacity;
    this.recoverI = i32(t.recover);
    this.lastSendAt = t.lastSendAt; this.lastRecvAt = t.lastRecvAt;
    this.invalidAckAt = t.invalidAckLastAllowed;
  }

  get tsOk(): boolean { return (this.bits & 4) !== 0; }
  get sndUna(): number { return u32(this.sndUnaI); }
  get sndNxt(): number { return u32(this.sndNxtI); }
  get rcvNxt(): number { return u32(this.rcvNxtI); }
  get tsRecent(): number { return u32(this.tsRecentI); }

  nextDeadline(): number { return this.state === 'CLOSED' ? Infinity : this.timeWaitAt; }

  /** A Tcb in TIME-WAIT equal, for segment processing, to the one this record replaced. */
  rehydrate(host: TcbHost): Tcb {
    const b = this.bits;
    const t = new Tcb(host, {
      localAddr: this.localAddr, localPort: this.localPort, remoteAddr: this.remoteAddr, remotePort: this.remotePort,
      mtu: this.mssOur + 40, iss: u32(this.issI), tsOffset: u32(this.tsOffsetI),
      rcvBufSize: (b & 256) !== 0 ? undefined : this.rcvCap, sndBufSize: (b & 128) !== 0 ? undefined : this.sndCap,
    });
    t.state = 'TIME-WAIT';
    t.passive = this.passive;
    t.sndUna = u32(this.sndUnaI); t.sndNxt = u32(this.sndNxtI); t.sndMax = u32(this.sndMaxI);
    t.sndWnd = this.sndWnd; t.sndWl1 = u32(this.sndWl1I); t.sndWl2 = u32(this.sndWl2I);
    t.maxSndWnd = this.maxSndWnd; t.sndWscale = (b >>> 10) & 15; t.sndBufSeq = u32(this.sndBufSeqI);
    t.finQueued = true;
    t.irs = u32(this.irsI); t.rcvNxt = u32(this.rcvNxtI); t.rcvAdv = u32(this.rcvAdvI); t.rcvWscale = (b >>> 14) & 15; t.rcvUp = u32(this.rcvUpI);
    t.finReceived = true;
    t.mssOur = this.mssOur; t.mssPeer = this.mssPeer; t.effMss = this.effMss; t.pmtu = this.pmtu; t.rcvMss = this.rcvMss;
    t.wsOk = (b & 1) !== 0; t.sackOk = (b & 2) !== 0; t.tsOk = (b & 4) !== 0;
    t.wantWs = (b & 8) !== 0; t.wantSack = (b & 16) !== 0; t.wantTs = (b & 32) !== 0;
    t.readShutdown = (b & 64) !== 0; t.noDelay = (b & 512) !== 0;
    t.rcvBuf.capacity = this.rcvCap; t.sndBuf.capacity = this.sndCap;
    t.tsRecent = u32(this.tsRecentI); t.tsRecentAt = this.tsRecentAt; t.lastAckSent = u32(this.lastAckSentI);
    t.orphan = this.orphan;
    t.dscp = (b >>> 18) & 63;
    t.recover = u32(this.recoverI);
    t.lastSendAt = this.lastSendAt; t.lastRecvAt = this.lastRecvAt;
    if (this.invalidAckAt !== null) t.invalidAckLimiter.lastAllowed = this.invalidAckAt;
    t.timeWaitAt = this.timeWaitAt;
    return t;
  }
}
