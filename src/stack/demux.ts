// Connection lookup by 4-tuple. JS numbers hold 53 bits exactly, a 4-tuple needs 96, so the
// table has two levels: the remote endpoint (address·2^16 + port, 48 bits) and then the
// local port. Only a multi-homed stack with the same remote endpoint on two local
// addresses chains (and then only by local address). Listeners are found by port, most
// specific address first (stack.ts).
//
// A remote endpoint with one connection — every connection of a server, whose clients each
// come from their own port — holds it directly, without a second-level Map: one Map fewer
// per accepted connection and one lookup fewer per segment (issue 16).
import type { Tcb } from '../tcp/tcb.js';
import type { TimeWaitRecord } from '../tcp/timewait.js';

/** A connection: a full TCB, or a compacted TIME-WAIT (tcp/timewait.ts). */
export type ConnEntry = Tcb | TimeWaitRecord;
type Slot = ConnEntry | ConnEntry[];
/** By remote endpoint: the only connection, or the connections by local port. */
type Outer = ConnEntry | Map<number, Slot>;

function key(remoteAddr: number, remotePort: number): number {
  return (remoteAddr >>> 0) * 65536 + remotePort;
}

export class ConnTable {
  /**
   * Key -1 (no real key is negative) holds an empty Map for good: the table is never empty.
   * V8 shrinks a Map whose last entry is deleted and grows it again on the next set — two
   * rehashes per connection on a server taking one connection at a time (issue 16). The
   * empty Map yields nothing to values() and -1 is never looked up.
   */
  private readonly m = new Map<number, Outer>([[-1, new Map()]]);
  private n = 0;

  get size(): number { return this.n; }

  find(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): ConnEntry | undefined {
    const o = this.m.get(key(remoteAddr, remotePort));
    if (o === undefined) return undefined;
    if (!(o instanceof Map)) return o.localPort === localPort && o.localAddr === localAddr ? o : undefined;
    const e = o.get(localPort);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return e.localAddr === localAddr ? e : undefined;
    for (const t of e) if (t.localAddr === localAddr) return t;
    return undefined;
  }

  add(t: ConnEntry): void {
    const k = key(t.remoteAddr, t.remotePort);
    const o = this.m.get(k);
    this.n++;
    if (o === undefined) { this.m.set(k, t); return; }
    let inner: Map<number, Slot>;
    if (o instanceof Map) {
      inner = o;
    } else {
      inner = new Map();
      inner.set(o.localPort, o);
      this.m.set(k, inner);
    }
    const e = inner.get(t.localPort);
    if (e === undefined) inner.set(t.localPort, t);
    else if (Array.isArray(e)) e.push(t);
    else inner.set(t.localPort, [e, t]);
  }

  remove(t: ConnEntry): boolean {
    const k = key(t.remoteAddr, t.remotePort);
    const o = this.m.get(k);
    if (o === undefined) return false;
    if (!(o instanceof Map)) {
      if (o !== t) return false;
      this.m.delete(k);
      this.n--;
      return true;
    }
    const e = o.get(t.localPort);
    if (e === undefined) return false;
    if (!Array.isArray(e)) {
      if (e !== t) return false;
      o.delete(t.localPort);
      if (o.size === 0) this.m.delete(k);
    } else {
      const i = e.indexOf(t);
      if (i < 0) return false;
      e.splice(i, 1);
      if (e.length === 1) o.set(t.localPort, e[0]!);
    }
    this.n--;
    return true;
  }

  /** Put `next` where `prev` is (the same 4-tuple). */
  replace(prev: ConnEntry, next: ConnEntry): void {
    const k = key(prev.remoteAddr, prev.remotePort);
    const o = this.m.get(k);
    if (o === undefined) return;
    if (!(o instanceof Map)) { if (o === prev) this.m.set(k, next); return; }
    const e = o.get(prev.localPort);
    if (e === undefined) return;
    if (!Array.isArray(e)) { if (e === prev) o.set(prev.localPort, next); return; }
    const i = e.indexOf(prev);
    if (i >= 0) e[i] = next;
  }

  /** Local ports in use towards one remote endpoint (ephemeral port allocation). */
  portsInUseTo(remoteAddr: number, remotePort: number): number {
    const o = this.m.get(key(remoteAddr, remotePort));
    return o === undefined ? 0 : o instanceof Map ? o.size : 1;
  }

  *values(): IterableIterator<ConnEntry> {
    for (const o of this.m.values()) {
      if (!(o instanceof Map)) { yield o; continue; }
      for (const e of o.values()) {
        if (Array.isArray(e)) yield* e;
        else yield e;
      }
    }
  }
}
