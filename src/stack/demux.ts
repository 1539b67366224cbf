// Connection lookup by 4-tuple: a Map keyed by the remote address and port (48 bits, exact
// in a JS number), with the rare collisions (same remote endpoint, different local
// endpoints) chained. Listeners are found by port, most specific address first.
import type { Tcb } from '../tcp/tcb.js';

export class ConnTable {
  private readonly m = new Map<number, Tcb | Tcb[]>();
  private n = 0;

  get size(): number { return this.n; }

  private static key(remoteAddr: number, remotePort: number): number {
    return (remoteAddr >>> 0) * 65536 + remotePort;
  }

  find(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): Tcb | undefined {
    const e = this.m.get(ConnTable.key(remoteAddr, remotePort));
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return e.localPort === localPort && e.localAddr === localAddr ? e : undefined;
    for (const t of e) if (t.localPort === localPort && t.localAddr === localAddr) return t;
    return undefined;
  }

  add(t: Tcb): void {
    const k = ConnTable.key(t.remoteAddr, t.remotePort);
    const e = this.m.get(k);
    if (e === undefined) this.m.set(k, t);
    else if (Array.isArray(e)) e.push(t);
    else this.m.set(k, [e, t]);
    this.n++;
  }

  remove(t: Tcb): boolean {
    const k = ConnTable.key(t.remoteAddr, t.remotePort);
    const e = this.m.get(k);
    if (e === undefined) return false;
    if (!Array.isArray(e)) {
      if (e !== t) return false;
      this.m.delete(k);
    } else {
      const i = e.indexOf(t);
      if (i < 0) return false;
      e.splice(i, 1);
      if (e.length === 1) this.m.set(k, e[0]!);
    }
    this.n--;
    return true;
  }

  *values(): IterableIterator<Tcb> {
    for (const e of this.m.values()) {
      if (Array.isArray(e)) yield* e;
      else yield e;
    }
  }
}
