// An in-memory point-to-point link: two ends, a one-way propagation delay, an optional
// bandwidth with FIFO serialization (packets queue behind each other, tail drop), and an MTU.
// Delivery always goes through the scheduler — even with zero delay it is an event at `now` —
// so a stack's send() never re-enters the peer stack synchronously.
import type { Duration } from '../time/instant.js';
import { ObserverList } from '../link/types.js';
import type { LinkEnd, LinkObserver, Observable, PacketHandler, Scheduler } from '../link/types.js';
import { releasePacket, retainPacket, takeConsumed } from '../stack/packetmem.js';

export type { Observable } from '../link/types.js';

const EMPTY = new Uint8Array(0);

export interface MemLinkOptions {
  /** Largest packet carried, bytes. Default 1500. */
  mtu?: number;
  /** One-way propagation delay. Default 0. */
  delay?: Duration;
  /** Bits per second; 0 (default) = infinite. */
  bandwidth?: number;
  /** Packets waiting for serialization (not counting the one on the wire). Default 1000. */
  queueLimit?: number;
}

/** Microseconds to put `bytes` on a wire of `bandwidth` bits/s (fractional; callers round). */
export function serializationTime(bytes: number, bandwidth: number): number {
  return bandwidth > 0 ? (bytes * 8 * 1_000_000) / bandwidth : 0;
}

/**
 * One direction of the pair: the transmitter at the sending end. Observers of an end see
 * the packets that end sends: 'send' when handed in, then 'deliver' (at the peer) or 'drop'.
 */
class MemLinkEnd implements LinkEnd, Observable {
  readonly mtu: number;
  peer!: MemLinkEnd;
  private receiver: PacketHandler | null = null;
  private readonly observers = new ObserverList();
  /**
   * The transmitter's current busy period began at busyStart and has carried busyBits bits;
   * it ends at busyStart + busyBits/bandwidth. One division over the whole period (rather
   * than summing rounded per-packet times) keeps long-run throughput exact.
   */
  private busyStart = 0;
  private busyBits = 0;
  private busyUntil = 0;
  /** Start-of-serialization times of packets not yet on the wire, oldest first. */
  private waiting: number[] = [];
  private waitingHead = 0;
  /**
   * Packets in flight towards the peer and their arrival instants, in order (arrivals are
   * monotonic: FIFO serialization, one fixed delay). One scheduler event per distinct
   * arrival instant delivers every packet due then, as a batch (like GRO; issue 16), instead
   * of one event and one closure per packet.
   */
  private flight: Uint8Array[] = [];
  private flightAt: number[] = [];
  private flightHead = 0;
  /** Entries [flightHead, flightTail) are in flight; the arrays keep their length when drained (no reallocation per packet). */
  private flightTail = 0;
  /** Arrival instant of the newest scheduled delivery event that has not run yet; -1: none. */
  private pendingAt = -1;
  private readonly deliverDue = (): void => this.deliver();

  constructor(
    private readonly sched: Scheduler,
    private readonly opts: Required<MemLinkOptions>,
  ) {
    this.mtu = opts.mtu;
  }

  observe(fn: LinkObserver): () => void {
    return this.observers.observe(fn);
  }

  setReceiver(handler: PacketHandler | null): void {
    this.receiver = handler;
  }

  send(packet: Uint8Array): void {
    const now = this.sched.now();
    if (this.observers.active) {
      // An observer (a capture, a trace) may keep the packet: its memory is never reused.
      retainPacket(packet);
      this.observers.emit('send', now, packet);
    }
    if (packet.length > this.mtu) {
      this.observers.emit('drop', now, packet, 'mtu');
      return;
    }
    let departs = now; // when the last bit has left the sender
    const { bandwidth } = this.opts;
    if (bandwidth > 0) {
      // Packets whose serialization has started are on the wire, no longer queued.
      while (this.waitingHead < this.waiting.length && this.waiting[this.waitingHead]! <= now) this.waitingHead++;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitingHead);
        this.waitingHead = 0;
      }
      const start = Math.max(now, this.busyUntil);
      if (start > now && this.waiting.length - this.waitingHead >= this.opts.queueLimit) {
        this.observers.emit('drop', now, packet, 'queue-full');
        return;
      }
      if (start > now) {
        this.waiting.push(start);
      } else {
        this.busyStart = now; // idle transmitter: a new busy period
        this.busyBits = 0;
      }
      this.busyBits += packet.length * 8;
      this.busyUntil = this.busyStart + serializationTime(this.busyBits / 8, bandwidth);
      departs = this.busyUntil;
    }
    // Time is integer µs: round the arrival up (monotonic, so FIFO order is kept).
    const arrives = Math.ceil(departs + this.opts.delay);
    const t = this.flightTail++;
    if (t === this.flight.length) {
      this.flight.push(packet);
      this.flightAt.push(arrives);
    } else {
      this.flight[t] = packet;
      this.flightAt[t] = arrives;
    }
    if (arrives !== this.pendingAt) {
      this.pendingAt = arrives;
      this.sched.at(arrives, this.deliverDue);
    }
  }

  /** A delivery event: hand the peer every packet due by now, oldest first. */
  private deliver(): void {
    const now = this.sched.now();
    if (this.pendingAt <= now) this.pendingAt = -1;
    const q = this.flight, at = this.flightAt;
    // (A receiver may send, and so append to this same queue, from inside arrive(): the tail is re-read.)
    while (this.flightHead < this.flightTail && at[this.flightHead]! <= now) {
      const i = this.flightHead++;
      const packet = q[i]!;
      q[i] = EMPTY;
      this.peer.arrive(packet, this.observers);
    }
    if (this.flightHead === this.flightTail) {
      this.flightHead = 0; this.flightTail = 0;
    } else if (this.flightHead > 1024 && this.flightHead * 2 > this.flightTail) {
      this.flight = q.slice(this.flightHead, this.flightTail);
      this.flightAt = at.slice(this.flightHead, this.flightTail);
      this.flightTail -= this.flightHead;
      this.flightHead = 0;
    }
  }

  private arrive(packet: Uint8Array, senderObservers: ObserverList): void {
    // The clock is read only for observers (a real-time clock read costs ~50 ns a packet).
    const rx = this.receiver;
    if (!rx) {
      senderObservers.emit('drop', this.sched.now(), packet, 'no-receiver');
      return;
    }
    if (senderObservers.active) {
      retainPacket(packet);
      senderObservers.emit('deliver', this.sched.now(), packet);
    }
    // A receiver that marked the packet consumed is done with it and kept no reference (the
    // stack's TCP fast path): its memory may carry another packet (stack/packetmem.ts).
    rx(packet);
    if (takeConsumed(packet)) releasePacket(packet);
  }
}

/** A connected pair of link ends. What one end sends, the other receives. */
export function createLinkPair(
  sim: Scheduler,
  opts: MemLinkOptions = {},
): [LinkEnd & Observable, LinkEnd & Observable] {
  const full: Required<MemLinkOptions> = {
    mtu: opts.mtu ?? 1500,
    delay: opts.delay ?? 0,
    bandwidth: opts.bandwidth ?? 0,
    queueLimit: opts.queueLimit ?? 1000,
  };
  if (!(full.mtu > 0)) throw new RangeError(`createLinkPair: mtu must be > 0, got ${full.mtu}`);
  if (!(full.delay >= 0)) throw new RangeError(`createLinkPair: delay must be >= 0, got ${full.delay}`);
  if (!(full.bandwidth >= 0)) throw new RangeError(`createLinkPair: bandwidth must be >= 0, got ${full.bandwidth}`);
  const a = new MemLinkEnd(sim, full);
  const b = new MemLinkEnd(sim, full);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
