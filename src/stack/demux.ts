// Connection lookup by 4-tuple. JS numbers hold 53 bits exactly, a 4-tuple needs 96, so the
// table has two levels: the remote endpoint (address·2^16 + port, 48 bits) and then the
// local port. Only a multi-homed stack with the same remote endpoint on two local
// addresses chains (and then only by local address). Listeners are found by port, most
// specific address first (stack.ts).
import type { Tcb } from '../tcp/tcb.js';
import type { TimeWaitRecord } from '../tcp/timewait.js';

/** A connection: a full TCB, or a compacted TIME-WAIT (tcp/timewait.ts). */
export type ConnEntry = Tcb | TimeWaitRecord;
type Slot = ConnEntry | ConnEntry[];

export class ConnTable {
  private readonly m = new Map<number, Map<number, Slot>>();
  private n = 0;

  get size(): number { return this.n; }

  find(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): ConnEntry | undefined {
    const inner = this.m.get((remoteAddr >>> 0) * 65536 + remotePort);
    if (inner === undefined) return undefined;
    const e = inner.get(localPort);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return e.localAddr === localAddr ? e : undefined;
    for (const t of e) if (t.localAddr === localAddr) return t;
    return undefined;
  }

  add(t: ConnEntry): void {
    const k = (t.remoteAddr >>> 0) * 65536 + t.remotePort;
    let inner = this.m.get(k);
    if (inner === undefined) { inner = new Map(); this.m.set(k, inner); }
    const e = inner.get(t.localPort);
    if (e === undefined) inner.set(t.localPort, t);
    else if (Array.isArray(e)) e.push(t);
    else inner.set(t.localPort, [e, t]);
    this.n++;
  }

  remove(t: ConnEntry): boolean {
    const k = (t.remoteAddr >>> 0) * 65536 + t.remotePort;
    const inner = this.m.get(k);
    if (inner === undefined) return false;
    const e = inner.get(t.localPort);
    if (e === undefined) return false;
    if (!Array.isArray(e)) {
      if (e !== t) return false;
      inner.delete(t.localPort);
      if (inner.size === 0) this.m.delete(k);
    } else {
      const i = e.indexOf(t);
      if (i < 0) return false;
      e.splice(i, 1);
      if (e.length === 1) inner.set(t.localPort, e[0]!);
    }
    this.n--;
    return true;
  }

  /** Put `next` where `prev` is (the same 4-tuple). */
  replace(prev: ConnEntry, next: ConnEntry): void {
    const inner = this.m.get((prev.remoteAddr >>> 0) * 65536 + prev.remotePort);
    const e = inner?.get(prev.localPort);
    if (e === undefined) return;
    if (!Array.isArray(e)) { if (e === prev) inner!.set(prev.localPort, next); return; }
    const i = e.indexOf(prev);
    if (i >= 0) e[i] = next;
  }

  /** Local ports in use towards one remote endpoint (ephemeral port allocation). */
  portsInUseTo(remoteAddr: number, remotePort: number): number {
    return this.m.get((remoteAddr >>> 0) * 65536 + remotePort)?.size ?? 0;
  }

  *values(): IterableIterator<ConnEntry> {
    for (const inner of this.m.values()) {
      for (const e of inner.values()) {
        if (Array.isArray(e)) yield* e;
        else yield e;
      }
    }
  }
}
