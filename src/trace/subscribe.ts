// Per-connection subscriptions. A stack calls its trace sinks only while somebody listens
// (the engine tests `tracer !== null` before it builds an event), so an unsubscribed stack
// pays nothing; a connection filter costs one comparison per event while it is attached.
import type { ConnId, TraceEvent, TraceSink } from './events.js';
import { sameConn, toConnId } from './conn.js';

/** Anything with addTraceListener (a Stack). */
export interface TraceSource {
  addTraceListener(fn: TraceSink): () => void;
}

/**
 * Call `fn` with the events of one connection of `stack` (given as a ConnId, a Tcb — anything
 * with `connId` — or "local:port-peer:port"; either orientation matches). Connection-less
 * drops are not delivered. Returns the unsubscribe function.
 */
export function subscribeConnection(stack: TraceSource, conn: ConnId | string | { connId: ConnId }, fn: TraceSink): () => void {
  const id = typeof conn === 'object' && 'connId' in conn ? conn.connId : toConnId(conn);
  if (id === null) throw new TypeError(`not a connection name: ${String(conn)} (want "a.b.c.d:port-e.f.g.h:port")`);
  return stack.addTraceListener((ev: TraceEvent) => {
    if (ev.conn !== null && sameConn(ev.conn, id)) fn(ev);
  });
}

/** Subscribe to the events of a given type only. */
export function subscribeType<K extends TraceEvent['type']>(
  stack: TraceSource, type: K, fn: (ev: Extract<TraceEvent, { type: K }>) => void,
): () => void {
  return stack.addTraceListener((ev) => {
    if (ev.type === type) fn(ev as Extract<TraceEvent, { type: K }>);
  });
}
