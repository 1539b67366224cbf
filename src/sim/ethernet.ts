// Simulated Ethernet: point-to-point pairs of Ethernet link ends (a cable), and a learning
// switch (IEEE 802.1D §7.8: learn the source address of every frame on its port, forward a
// frame for a known unicast address to that port only, flood group-addressed and unknown
// ones to every other port, age entries out after ageing time, 300 s by default).
import type { Duration, Instant } from '../time/instant.js';
import { ObserverList } from '../link/types.js';
import type { LinkEnd, LinkObserver, Observable, PacketHandler, Scheduler } from '../link/types.js';
import type { EthernetLinkEnd } from '../link/ethernet.js';
import { maxFrameLength } from '../link/ethernet.js';
import { formatMac } from '../wire/ethernet.js';
import { createLinkPair, type MemLinkOptions } from './memlink.js';

/** An Ethernet view of a memory link end: frames up to mtu + 18 bytes, `mtu` the IP MTU. */
class EthernetMemEnd implements EthernetLinkEnd, Observable {
  readonly framing = 'ethernet' as const;
  constructor(private readonly inner: LinkEnd & Observable, readonly mtu: number) {}
  send(frame: Uint8Array): void { this.inner.send(frame); }
  setReceiver(h: PacketHandler | null): void { this.inner.setReceiver(h); }
  observe(fn: LinkObserver): () => void { return this.inner.observe(fn); }
}

/** A cable between two Ethernet interfaces: delay, bandwidth, queue as createLinkPair; `mtu` is the IP MTU (default 1500). */
export function createEthernetPair(sim: Scheduler, opts: MemLinkOptions = {}): [EthernetLinkEnd & Observable, EthernetLinkEnd & Observable] {
  const mtu = opts.mtu ?? 1500;
  const [a, b] = createLinkPair(sim, { ...opts, mtu: maxFrameLength(mtu) });
  return [new EthernetMemEnd(a, mtu), new EthernetMemEnd(b, mtu)];
}

export interface EthernetSwitchOptions {
  /** Port-to-port delay. Default 0. */
  delay?: Duration;
  /** IP MTU of the ports. Default 1500. */
  mtu?: number;
  /** Forwarding-table ageing time (802.1D dot1dTpAgingTime). Default 300 s. */
  ageing?: Duration;
}

class SwitchPort implements EthernetLinkEnd {
  readonly framing = 'ethernet' as const;
  receiver: PacketHandler | null = null;
  constructor(private readonly sw: EthernetSwitch, readonly mtu: number, readonly index: number) {}
  send(frame: Uint8Array): void { this.sw.forward(this, frame); }
  setReceiver(h: PacketHandler | null): void { this.receiver = h; }
}

export class EthernetSwitch implements Observable {
  private readonly ports: SwitchPort[] = [];
  /** MAC (as a 48-bit number) → port and when it was last seen. */
  private readonly fdb = new Map<number, { port: SwitchPort; seen: Instant }>();
  private readonly observers = new ObserverList();
  private readonly delay: Duration;
  private readonly mtu: number;
  private readonly ageing: Duration;
  readonly stats = { frames: 0, flooded: 0, forwarded: 0, filtered: 0, dropped: 0 };

  constructor(private readonly sim: Scheduler, opts: EthernetSwitchOptions = {}) {
    this.delay = opts.delay ?? 0;
    this.mtu = opts.mtu ?? 1500;
    this.ageing = opts.ageing ?? 300_000_000;
  }

  /** Observers see every frame: 'send' when it enters a port, then 'deliver' (per output port) or 'drop'. */
  observe(fn: LinkObserver): () => void { return this.observers.observe(fn); }

  /** A new port; returns the host's end of its cable. */
  attach(opts: { mtu?: number } = {}): EthernetLinkEnd {
    const p = new SwitchPort(this, opts.mtu ?? this.mtu, this.ports.length);
    this.ports.push(p);
    return p;
  }

  /** The forwarding table, like `bridge fdb show`: MAC → port index. */
  table(): Array<{ mac: string; port: number; age: Duration }> {
    const now = this.sim.now();
    const out: Array<{ mac: string; port: number; age: Duration }> = [];
    for (const [k, v] of this.fdb) {
      if (now - v.seen > this.ageing) continue;
      const m = new Uint8Array(6);
      for (let i = 0; i < 6; i++) m[i] = Math.floor(k / 2 ** (8 * (5 - i))) % 256;
      out.push({ mac: formatMac(m), port: v.port.index, age: now - v.seen });
    }
    return out;
  }

  /** @internal called by a port's send(). */
  forward(from: SwitchPort, frame: Uint8Array): void {
    const now = this.sim.now();
    this.stats.frames++;
    this.observers.emit('send', now, frame);
    if (frame.length < 14 || frame.length > maxFrameLength(from.mtu)) {
      this.stats.dropped++;
      this.observers.emit('drop', now, frame, frame.length < 14 ? 'malformed' : 'mtu');
      return;
    }
    const src = macKey(frame, 6);
    const dst = macKey(frame, 0);
    // Learn: a group source address is invalid and never learned.
    if ((frame[6]! & 1) === 0) this.fdb.set(src, { port: from, seen: now });
    let out: SwitchPort[];
    const e = (frame[0]! & 1) === 0 ? this.fdb.get(dst) : undefined;
    if (e !== undefined && now - e.seen <= this.ageing) {
      if (e.port === from) { this.stats.filtered++; this.observers.emit('drop', now, frame, 'filtered'); return; }
      out = [e.port];
      this.stats.forwarded++;
    } else {
      out = this.ports.filter((p) => p !== from);
      this.stats.flooded++;
    }
    for (const p of out) {
      if (frame.length > maxFrameLength(p.mtu)) { this.observers.emit('drop', now, frame, 'mtu'); continue; }
      this.sim.at(now + this.delay, () => {
        const rx = p.receiver;
        const t = this.sim.now();
        if (rx === null) { this.observers.emit('drop', t, frame, 'no-receiver'); return; }
        this.observers.emit('deliver', t, frame);
        // Each port gets its own copy: a receiver may keep or modify what it got.
        rx(out.length > 1 ? frame.slice() : frame);
      });
    }
  }
}

function macKey(b: Uint8Array, off: number): number {
  return b[off]! * 2 ** 40 + b[off + 1]! * 2 ** 32 + ((b[off + 2]! << 24) >>> 0) + (b[off + 3]! << 16) + (b[off + 4]! << 8) + b[off + 5]!;
}
