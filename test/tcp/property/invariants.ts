// Engine invariants checked after every simulation step (DESIGN.md "Tests": property/fuzz
// "checking invariants (sndUna ≤ sndNxt, buffered bytes match sequence space, no exception
// escapes)"). Each check throws an InvariantError naming the connection and the field.
import type { Tcb } from '../../../src/tcp/tcb.js';
import type { Stack } from '../../../src/stack/stack.js';
import { isSynchronized } from '../../../src/tcp/types.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe } from '../../../src/tcp/seq.js';

export class InvariantError extends Error {}

/** What the application on top of a connection did (lets us check the sequence space against it). */
export interface AppCounters {
  /** Bytes accepted by tcb.send(). */
  written: number;
  /** Bytes returned by tcb.receive(). */
  read: number;
}

/** Per-connection memory between steps (monotonic fields). */
interface Track {
  sndUna: number;
  sndMax: number;
  rcvNxt: number;
  rcvAdv: number;
  synced: boolean;
}

export class InvariantChecker {
  private readonly tracks = new WeakMap<Tcb, Track>();
  private readonly apps = new WeakMap<Tcb, AppCounters>();
  /** Number of connection checks performed (for reports). */
  checks = 0;

  constructor(readonly stacks: Stack[]) {}

  /** Tell the checker what the application did with `tcb` (the object is read, not copied). */
  attachApp(tcb: Tcb, app: AppCounters): void {
    this.apps.set(tcb, app);
  }

  /** Check every connection of every stack, plus extra TCBs (e.g. ones that just closed). */
  checkAll(now: number, extra: Iterable<Tcb> = []): void {
    for (const s of this.stacks) {
      for (const t of s.tcbs()) {
        if (t.state === 'CLOSED') fail(t, 'a CLOSED connection is still in the connection table');
        this.check(t, now);
      }
      for (const l of s.listeners()) {
        for (const t of l.synQueue) if (t.state !== 'SYN-RECEIVED') fail(t, `SYN queue holds a ${t.state} connection`);
      }
    }
    for (const t of extra) this.check(t, now);
  }

  check(t: Tcb, now: number): void {
    this.checks++;
    if (t.state === 'CLOSED') {
      if (t.nextDeadline() !== Infinity) fail(t, `CLOSED but a timer is armed at ${t.nextDeadline()}`);
      return;
    }
    // --- send sequence space: SND.UNA ≤ SND.NXT ≤ SND.MAX (RFC 9293 §3.3.1)
    if (!seqLe(t.sndUna, t.sndNxt)) fail(t, `sndUna ${t.sndUna} > sndNxt ${t.sndNxt}`);
    if (!seqLe(t.sndNxt, t.sndMax)) fail(t, `sndNxt ${t.sndNxt} > sndMax ${t.sndMax}`);
    const synAcked = seqGt(t.sndUna, t.iss);
    const finSpace = t.finQueued ? 1 : 0;
    // Buffered bytes match the sequence space: the buffer starts at SND.UNA (ISS+1 before the
    // SYN is acknowledged), or SND.UNA is one past the buffer when our FIN was acknowledged.
    if (!synAcked) {
      if (t.sndUna !== t.iss) fail(t, `sndUna ${t.sndUna} before ISS ${t.iss}`);
      if (t.sndBufSeq !== seqAdd(t.iss, 1)) fail(t, `SYN not acked but sndBufSeq ${t.sndBufSeq} != ISS+1 ${seqAdd(t.iss, 1)}`);
    } else if (t.sndBufSeq !== t.sndUna) {
      const finAcked = t.finQueued && t.sndBuf.length === 0 && t.sndUna === seqAdd(t.sndBufSeq, 1);
      if (!finAcked) fail(t, `sndBufSeq ${t.sndBufSeq} != sndUna ${t.sndUna} (buffer ${t.sndBuf.length} bytes, finQueued ${t.finQueued})`);
    }
    const dataEnd = seqAdd(t.sndBufSeq, t.sndBuf.length);
    if (!seqLe(t.sndMax, seqAdd(dataEnd, finSpace))) fail(t, `sndMax ${t.sndMax} beyond buffered data end ${dataEnd} (+FIN ${finSpace})`);
    if (t.sndBuf.length > t.sndBuf.capacity) fail(t, `send buffer holds ${t.sndBuf.length} > capacity ${t.sndBuf.capacity}`);
    const app = this.apps.get(t);
    if (app !== undefined && seqAdd(seqAdd(t.iss, 1), app.written) !== dataEnd) {
      fail(t, `app wrote ${app.written} bytes but ISS+1+written ${seqAdd(seqAdd(t.iss, 1), app.written)} != buffer end ${dataEnd}`);
    }

    // --- monotonic fields
    let tr = this.tracks.get(t);
    if (tr === undefined) {
      tr = { sndUna: t.sndUna, sndMax: t.sndMax, rcvNxt: t.rcvNxt, rcvAdv: t.rcvAdv, synced: false };
      this.tracks.set(t, tr);
    }
    if (!seqGe(t.sndUna, tr.sndUna)) fail(t, `sndUna moved back ${tr.sndUna} -> ${t.sndUna}`);
    if (!seqGe(t.sndMax, tr.sndMax)) fail(t, `sndMax moved back ${tr.sndMax} -> ${t.sndMax}`);
    tr.sndUna = t.sndUna;
    tr.sndMax = t.sndMax;
    // The receive side is defined once the peer's SYN was taken (not in SYN-SENT).
    const rcvDefined = t.state !== 'SYN-SENT';
    if (rcvDefined) {
      if (tr.synced) {
        if (!seqGe(t.rcvNxt, tr.rcvNxt)) fail(t, `rcvNxt moved back ${tr.rcvNxt} -> ${t.rcvNxt}`);
        // RFC 9293 §3.8.6: the right edge RCV.NXT + RCV.WND should not move left.
        if (isSynchronized(t.state) && !seqGe(t.rcvAdv, tr.rcvAdv)) fail(t, `advertised right edge moved left ${tr.rcvAdv} -> ${t.rcvAdv}`);
      }
      tr.synced = true;
      tr.rcvNxt = t.rcvNxt;
      tr.rcvAdv = t.rcvAdv;
      // In-order bytes delivered match RCV.NXT: IRS + 1 + read + readable (+1 for the FIN).
      if (app !== undefined && !t.readShutdown) {
        const expect = seqAdd(seqAdd(t.irs, 1), app.read + t.rcvBuf.readable + (t.finReceived ? 1 : 0));
        if (expect !== t.rcvNxt) fail(t, `rcvNxt ${t.rcvNxt} != IRS+1+read ${app.read}+readable ${t.rcvBuf.readable}+fin ${t.finReceived} = ${expect}`);
      }
      if (t.finReceived && t.pendingFinSeq !== -1) fail(t, `FIN processed but pendingFinSeq ${t.pendingFinSeq} still set`);
    }
    if (t.rcvBuf.readable + t.rcvBuf.outOfOrderBytes > t.rcvBuf.capacity) {
      fail(t, `receive buffer holds ${t.rcvBuf.readable}+${t.rcvBuf.outOfOrderBytes} > capacity ${t.rcvBuf.capacity}`);
    }

    // --- congestion state
    const cc = t.cc;
    if (!Number.isFinite(cc.cwnd) || cc.cwnd <= 0) fail(t, `cwnd ${cc.cwnd}`);
    if (!Number.isFinite(cc.ssthresh) || cc.ssthresh <= 0) fail(t, `ssthresh ${cc.ssthresh}`);
    if (!Number.isFinite(t.rtt.rto) || t.rtt.rto <= 0) fail(t, `rto ${t.rtt.rto}`);

    // --- timers: everything due has run, and the stack's queue will wake us in time.
    const d = t.nextDeadline();
    if (!(d > now)) fail(t, `timer deadline ${d} not after now ${now} at the end of a step`);
    if (d !== Infinity && !(t.scheduledAt <= d)) fail(t, `deadline ${d} but the stack scheduled it for ${t.scheduledAt} (lost timer)`);
    if (t.ackNow) fail(t, 'ackNow still set after output (an ACK was not sent)');
    if (t.unackedRcvBytes > 0 && t.delackAt === Infinity) fail(t, `${t.unackedRcvBytes} unacknowledged bytes but no delayed-ACK timer`);

    // --- liveness: outstanding or pending sequence space always has a timer behind it.
    if (isSynchronized(t.state) && t.state !== 'TIME-WAIT') {
      if (t.sndMax !== t.sndUna && t.rtoAt === Infinity && t.persistAt === Infinity) {
        fail(t, `${seqDiff(t.sndMax, t.sndUna)} bytes outstanding but no retransmission timer`);
      }
      const finPending = t.finQueued && !t.finSent;
      if ((t.unsentBytes > 0 || finPending) && t.rtoAt === Infinity && t.persistAt === Infinity) {
        fail(t, `unsent ${t.unsentBytes} bytes (FIN pending ${finPending}) and no timer to send them`);
      }
    }
    if (t.state === 'TIME-WAIT' && t.timeWaitAt === Infinity) fail(t, 'TIME-WAIT without its 2MSL timer');
  }
}

export function describeTcb(t: Tcb): string {
  return `#${t.id} ${t.localPort}->${t.remotePort} ${t.state} iss=${t.iss} una=${t.sndUna} nxt=${t.sndNxt} max=${t.sndMax} ` +
    `bufSeq=${t.sndBufSeq} buf=${t.sndBuf.length} fin=${t.finQueued} wnd=${t.sndWnd} cwnd=${t.cc.cwnd} ` +
    `irs=${t.irs} rcvNxt=${t.rcvNxt} rcvAdv=${t.rcvAdv} readable=${t.rcvBuf.readable} ooo=${t.rcvBuf.outOfOrderBytes} ` +
    `rto@${t.rtoAt} persist@${t.persistAt} delack@${t.delackAt} tw@${t.timeWaitAt}`;
}

function fail(t: Tcb, msg: string): never {
  throw new InvariantError(`invariant: ${msg} [${describeTcb(t)}]`);
}
