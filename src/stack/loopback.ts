// The loopback interface, as every OS has it (RFC 1122 §3.2.1.3): `lo` holds 127.0.0.1/8 and
// carries every datagram a stack sends to one of its own addresses — any 127.x.y.z, or the
// address of one of its real interfaces — back into the same stack, without touching a link.
// Linux: MTU 65536 (the TCP MSS is capped at 65535 − 40 = 65495 by the IP total length).
//
// The link is a queue the stack polls: send() queues the datagram and asks the driver to
// wake (Stack.onWake); the stack's poll() delivers what is queued, and what that causes, at
// the same instant (see poll). So loopback traffic takes zero virtual time in a simulation,
// one event-loop turn in real time, and never re-enters the stack synchronously from inside
// its own output.
import type { Instant } from '../time/instant.js';
import type { Clock } from '../time/clock.js';
import { ObserverList } from '../link/types.js';
import type { LinkEnd, LinkObserver, Observable, PacketHandler, Pollable } from '../link/types.js';

/** 127.0.0.1, lo's address. */
export const LOOPBACK_ADDR = 0x7f000001;
/** Linux's loopback MTU. */
export const LOOPBACK_MTU = 65536;
/** Datagrams one poll delivers at most (Linux net.core.netdev_budget). */
export const LOOPBACK_BUDGET = 300;

/** 127.0.0.0/8: the loopback net (RFC 1122 §3.2.1.3 (g)); never valid outside a host. */
export function isLoopbackAddr(addr: number): boolean {
  return addr >>> 24 === 127;
}

/**
 * The source address for a datagram routed over lo to `dst`: `dst` itself when it is one of
 * our interface addresses, 127.0.0.1 for the 127/8 net (Linux: `ip route get 127.0.0.5`
 * gives `local 127.0.0.5 dev lo src 127.0.0.1`; for an own address the local route's source
 * is that address).
 */
export function loopbackSource(dst: number): number {
  return isLoopbackAddr(dst) ? LOOPBACK_ADDR : dst;
}

export class LoopbackLink implements LinkEnd, Observable, Pollable {
  readonly mtu = LOOPBACK_MTU;
  private receiver: PacketHandler | null = null;
  private readonly observers = new ObserverList();
  private queue: Array<Uint8Array | undefined> = [];
  private head = 0;
  /** Datagrams looped back so far. */
  delivered = 0;

  constructor(private readonly clock: Clock, private readonly wake: () => void) {}

  observe(fn: LinkObserver): () => void { return this.observers.observe(fn); }

  setReceiver(handler: PacketHandler | null): void { this.receiver = handler; }

  send(packet: Uint8Array): void {
    const now = this.clock.now();
    this.observers.emit('send', now, packet);
    if (packet.length > this.mtu) { this.observers.emit('drop', now, packet, 'mtu'); return; }
    this.queue.push(packet);
    if (this.queue.length - this.head === 1) this.wake();
  }

  /** Datagrams waiting to be looped back. */
  get pending(): number { return this.queue.length - this.head; }

  nextDeadline(): Instant { return this.head < this.queue.length ? this.clock.now() : Infinity; }

  /**
   * Deliver what is queued, and what that delivery sends back over lo, up to LOOPBACK_BUDGET
   * datagrams per poll; the rest waits for the next poll (same instant). Linux's loopback
   * works this way: netif_rx queues the datagram on the CPU's backlog, and the softirq that
   * runs before the sending syscall returns drains it (netdev_budget, 300), answers
   * included — so a loopback connect(2) returns with the handshake done and the child already
   * in the listener's accept queue. (Delivering one hop per event-loop turn let the client
   * see 'connect' before the server had the connection; Node shows 'connection' first.)
   */
  poll(now: Instant): void {
    const q = this.queue;
    let budget = LOOPBACK_BUDGET;
    while (this.head < q.length && budget-- > 0) {
      const p = q[this.head]!;
      q[this.head++] = undefined;
      this.delivered++;
      const rx = this.receiver;
      if (rx === null) { this.observers.emit('drop', now, p, 'no-receiver'); continue; }
      this.observers.emit('deliver', now, p);
      rx(p);
    }
    if (this.head === q.length) { q.length = 0; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > q.length) { this.queue = q.slice(this.head); this.head = 0; }
  }
}
