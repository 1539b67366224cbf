// The stack's side of compacted TIME-WAIT (tcp/timewait.ts): when a TIME-WAIT Tcb may be
// swapped for a TimeWaitRecord, and how a record leaves the connection table again — looked
// up by a segment (back to a Tcb), or ended by its 2·MSL timer or by reuse of its 4-tuple.
import type { Tcb, TcbHost } from '../tcp/tcb.js';
import { TimeWaitRecord } from '../tcp/timewait.js';
import type { TimerQueue } from '../time/timerqueue.js';
import type { ConnEntry, ConnTable } from './demux.js';

/** 'on' (default) or 'off' (tests compare the two). */
export type TimeWaitCompaction = 'on' | 'off';

export interface TimeWaitTables {
  readonly conns: ConnTable;
  readonly timers: TimerQueue<ConnEntry>;
  readonly reuseAddr: WeakSet<object>;
}

/**
 * Whether a TIME-WAIT Tcb may become a record: the user closed it (an orphan) and left no
 * callback that TIME-WAIT events call (onEnd for a retransmitted FIN, onClosed at the end),
 * no listener owns it, nothing is buffered, and no timer but 2·MSL is armed. (The caller
 * also requires that nobody traces: a trace shows every TIME-WAIT event of a connection.)
 */
export function compactable(t: Tcb): boolean {
  const u = t.user;
  return t.state === 'TIME-WAIT' && t.orphan && t.listener === null && !t.ackNow
    && (u === null || (u.onClosed === undefined && u.onEnd === undefined && u.onSoftError === undefined))
    && t.rcvBuf.readable === 0 && !t.rcvBuf.hasOutOfOrder && t.sndBuf.length === 0
    && t.rtoAt === Infinity && t.delackAt === Infinity && t.persistAt === Infinity && t.keepaliveAt === Infinity
    && t.finWait2At === Infinity && t.timeWaitAt !== Infinity;
}

/**
 * Swap `t` for a record in the table; the caller schedules the record's timer. `t` is
 * detached: it reads CLOSED, holds no timer, and the stack forgets it (its orphan count
 * moves to the record).
 */
export function compactTimeWait(x: TimeWaitTables, t: Tcb): TimeWaitRecord {
  const rec = new TimeWaitRecord(t);
  if (t.timerId !== 0) x.timers.cancel(t.timerId);
  t.timerId = 0;
  t.scheduledAt = Infinity;
  t.timeWaitAt = Infinity;
  t.orphan = false;
  t.state = 'CLOSED';
  if (x.reuseAddr.has(t)) x.reuseAddr.add(rec);
  x.conns.replace(t, rec);
  return rec;
}

function retire(x: TimeWaitTables, rec: TimeWaitRecord): void {
  if (rec.timerId !== 0) x.timers.cancel(rec.timerId);
  rec.timerId = 0;
  rec.scheduledAt = Infinity;
  rec.state = 'CLOSED';
}

/** A segment (or a caller that needs a Tcb) found `rec`: a Tcb rebuilt from it takes its place. The caller re-arms its timer. */
export function expandTimeWait(x: TimeWaitTables, rec: TimeWaitRecord, host: TcbHost): Tcb {
  const t = rec.rehydrate(host);
  retire(x, rec);
  x.conns.replace(rec, t);
  if (x.reuseAddr.has(rec)) x.reuseAddr.add(t);
  return t;
}

/** Take `rec` out of the table: 2·MSL passed, or its 4-tuple is reused. */
export function endTimeWait(x: TimeWaitTables, rec: TimeWaitRecord): void {
  x.conns.remove(rec);
  retire(x, rec);
}
