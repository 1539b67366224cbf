// A stackable fault injector. It applies to packets SENT through this end (received packets
// pass through unchanged — wrap both ends to impair both directions). All randomness comes
// from the Rng handed in, so a run is reproducible from its seed.
//
// Pipeline for each packet handed to send(), in this order:
//   partition → scripted drops (dropWhen) → loss (Bernoulli, or Gilbert–Elliott bursts)
//   → corruption (one bit, in a copy) → duplication → rate bottleneck (FIFO, byte-limited
//   queue, tail drop) → delay + jitter + reorder hold-back → inner.send().
import type { Duration, Instant } from '../time/instant.js';
import { retainPacket } from '../stack/packetmem.js';
import { ObserverList } from './types.js';
import type { LinkEnd, LinkObserver, Observable, PacketHandler, Scheduler } from './types.js';
import type { Rng } from '../sim/rng.js';

export interface FaultOptions {
  /** Probability each packet is lost (in the "good" state when `burst` is set). */
  loss?: number;
  /**
   * Gilbert–Elliott bursty loss: per packet, the good state turns bad with pEnter and the bad
   * state turns good with pExit; in the bad state a packet is lost with lossInBurst (default 1).
   */
  burst?: { pEnter: number; pExit: number; lossInBurst?: number };
  /** Fixed extra one-way delay. */
  delay?: Duration;
  /** Uniform extra delay 0..jitter (inclusive) per packet; may reorder. */
  jitter?: Duration;
  /** Probability a packet is held back by reorderDelay (so later packets overtake it). */
  reorder?: number;
  /** Default 2*delay, or 1 ms when delay is 0. */
  reorderDelay?: Duration;
  /** Probability a packet is sent twice. */
  duplicate?: number;
  /** Probability one random bit of the packet is flipped (in a copy). */
  corrupt?: number;
  /** Bottleneck rate in bits/s with a FIFO queue; 0/undefined = unlimited. */
  rate?: number;
  /** Bytes the rate queue holds (including the packet being serialized). Default 256 KiB. */
  queueLimit?: number;
  /** Drop everything (including packets already delayed inside this wrapper). */
  partitioned?: boolean;
}

export interface FaultStats {
  /** Packets handed to send(). */
  sent: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
  /** Packets passed on to the inner link (duplicates count twice). */
  delivered: number;
}

const DEFAULT_QUEUE_LIMIT = 64 * 1024 * 4;
const MS = 1000;

interface DropHook {
  pred: (packet: Uint8Array, index: number) => boolean;
  remaining: number;
}

export class FaultyLink implements LinkEnd, Observable {
  readonly stats: FaultStats = { sent: 0, dropped: 0, duplicated: 0, corrupted: 0, reordered: 0, delivered: 0 };
  private opts: FaultOptions;
  private readonly observers = new ObserverList();
  private hooks: DropHook[] = [];
  private index = 0;
  private inBurst = false;
  /**
   * Rate bottleneck: the current busy period began at busyStart and has carried busyBits bits
   * (one division per packet over the whole period keeps long-run throughput exact); what
   * is still queued, and its size in bytes.
   */
  private busyStart = 0;
  private busyBits = 0;
  private busyUntil = 0;
  private backlog: Array<{ finish: number; size: number }> = [];
  private backlogHead = 0;
  private backlogBytes = 0;

  constructor(
    private readonly inner: LinkEnd,
    opts: FaultOptions,
    private readonly sched: Scheduler,
    private readonly rng: Rng,
  ) {
    this.opts = { ...opts };
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  /** Current options (a copy). */
  get options(): FaultOptions {
    return { ...this.opts };
  }

  setReceiver(handler: PacketHandler | null): void {
    this.inner.setReceiver(handler);
  }

  /** Change some options; pass a key with `undefined` to turn that fault off. */
  configure(opts: Partial<FaultOptions>): void {
    if ('rate' in opts && opts.rate !== this.opts.rate) {
      // Bits already queued keep their old rate: start a new busy period where they end.
      this.busyStart = this.busyUntil;
      this.busyBits = 0;
    }
    this.opts = { ...this.opts, ...opts };
    if (!this.opts.burst) this.inBurst = false;
  }

  partition(on: boolean): void {
    this.opts.partitioned = on;
  }

  /** Observers see 'send' for every packet handed in, 'drop' (with a reason) for every loss, 'deliver' when passed on. */
  observe(fn: LinkObserver): () => void {
    return this.observers.observe(fn);
  }

  /**
   * Deterministic drops for scenarios: drop packets for which pred(packet, index) is true,
   * where index counts packets handed to this link's send() from 0. The hook stays until the
   * returned function is called, or until it has dropped `times` packets (default: no limit).
   */
  dropWhen(pred: (packet: Uint8Array, index: number) => boolean, times = Infinity): () => void {
    const hook: DropHook = { pred, remaining: times };
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  send(packet: Uint8Array): void {
    const now = this.sched.now();
    const index = this.index++;
    this.stats.sent++;
    // Observers and drop hooks may keep the packet: its memory is never reused (stack/packetmem.ts).
    if (this.observers.active || this.hooks.length > 0) retainPacket(packet);
    this.observers.emit('send', now, packet);
    const o = this.opts;
    if (o.partitioned) return this.drop(now, packet, 'partition');

    for (const hook of this.hooks) {
      if (hook.remaining > 0 && hook.pred(packet, index)) {
        if (--hook.remaining <= 0) this.hooks = this.hooks.filter((h) => h !== hook);
        return this.drop(now, packet, 'scripted');
      }
    }

    if (o.burst) {
      // Gilbert–Elliott: move the two-state chain one packet, then lose by the state's rate.
      if (this.inBurst) {
        if (this.rng.chance(o.burst.pExit)) this.inBurst = false;
      } else if (this.rng.chance(o.burst.pEnter)) {
        this.inBurst = true;
      }
      if (this.inBurst) {
        if (this.rng.chance(o.burst.lossInBurst ?? 1)) return this.drop(now, packet, 'burst-loss');
      } else if (o.loss && this.rng.chance(o.loss)) {
        return this.drop(now, packet, 'loss');
      }
    } else if (o.loss && this.rng.chance(o.loss)) {
      return this.drop(now, packet, 'loss');
    }

    if (o.corrupt && packet.length > 0 && this.rng.chance(o.corrupt)) {
      // Copy first: the sender's buffer may be shared (a pcap tap keeps a reference).
      const copy = packet.slice();
      const bit = this.rng.int(0, copy.length * 8);
      copy[bit >>> 3]! ^= 1 << (bit & 7);
      packet = copy;
      this.stats.corrupted++;
    }

    let duplicate: Uint8Array | null = null;
    if (o.duplicate && this.rng.chance(o.duplicate)) {
      duplicate = packet.slice(); // its own buffer: the two may be consumed independently
      this.stats.duplicated++;
    }
    this.schedule(now, packet);
    if (duplicate) this.schedule(now, duplicate);
  }

  private schedule(now: Instant, packet: Uint8Array): void {
    const o = this.opts;
    let departs = now;
    if (o.rate && o.rate > 0) {
      while (this.backlogHead < this.backlog.length && this.backlog[this.backlogHead]!.finish <= now) {
        this.backlogBytes -= this.backlog[this.backlogHead++]!.size;
      }
      if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
        this.backlog = this.backlog.slice(this.backlogHead);
        this.backlogHead = 0;
      }
      if (this.backlogBytes + packet.length > (o.queueLimit ?? DEFAULT_QUEUE_LIMIT)) {
        return this.drop(now, packet, 'queue-full');
      }
      if (now >= this.busyUntil) {
        this.busyStart = now;
        this.busyBits = 0;
      }
      this.busyBits += packet.length * 8;
      this.busyUntil = this.busyStart + (this.busyBits * 1_000_000) / o.rate;
      this.backlog.push({ finish: this.busyUntil, size: packet.length });
      this.backlogBytes += packet.length;
      departs = this.busyUntil;
    }
    let extra = o.delay ?? 0;
    if (o.jitter && o.jitter > 0) extra += this.rng.int(0, Math.floor(o.jitter) + 1);
    if (o.reorder && this.rng.chance(o.reorder)) {
      extra += o.reorderDelay ?? (o.delay ? 2 * o.delay : MS);
      this.stats.reordered++;
    }
    const t = Math.ceil(departs + extra);
    if (t <= now) this.release(packet);
    else this.sched.at(t, () => this.release(packet));
  }

  private release(packet: Uint8Array): void {
    // A partition also cuts packets that were still held inside this wrapper.
    if (this.opts.partitioned) return this.drop(this.sched.now(), packet, 'partition');
    this.stats.delivered++;
    this.observers.emit('deliver', this.sched.now(), packet);
    this.inner.send(packet);
  }

  private drop(now: Instant, packet: Uint8Array, reason: string): void {
    this.stats.dropped++;
    this.observers.emit('drop', now, packet, reason);
  }
}
