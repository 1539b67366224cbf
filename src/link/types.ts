// The Link interface: how a Stack's network interface sends and receives raw IPv4 packets.
// There is no layer 2 here: a packet is an IP datagram (like a TUN device with IFF_NO_PI).
import type { Instant } from '../time/instant.js';

/**
 * `flags` (optional, 0 when absent) carries what the link knows about the packet:
 * RX_CSUM_VALID — the transport checksum need not be verified (a TUN device with offloads
 * hands over the kernel's own packets with partial checksums, like Linux CHECKSUM_PARTIAL).
 */
export type PacketHandler = (packet: Uint8Array, flags?: number) => void;

/** Receive flag: the TCP checksum was validated by (or is owed to) the link; skip verifying it. */
export const RX_CSUM_VALID = 1;
/** Send flag: the TCP checksum field holds only the pseudo-header sum; the link (device) completes it. */
export const TX_CSUM_PARTIAL = 1;

/** One end of a link, as a stack's interface sees it. */
export interface LinkEnd {
  /** Largest IP packet this link carries, in bytes. */
  readonly mtu: number;
  /**
   * Send one IP packet. Ownership of `packet` passes to the link: the caller must not
   * modify it afterwards (the link may hold it while it is "in flight"). `gsoSize` (only to
   * a link with gsoMaxSize, with TX_CSUM_PARTIAL): a TCP super-segment up to gsoMaxSize
   * bytes that the link splits into segments of gsoSize payload bytes each.
   */
  send(packet: Uint8Array, flags?: number, gsoSize?: number): void;
  /**
   * True when the link completes TCP checksums itself (send flag TX_CSUM_PARTIAL): a TUN
   * device with offloads. Absent/false: every packet must carry its full checksum.
   */
  readonly txChecksumOffload?: boolean;
  /**
   * Segmentation offload (TSO/GSO): the largest IPv4 TCP packet the link takes and splits
   * itself into segments of the `gsoSize` payload `send` is given (the kernel's
   * tcp_gso_segment behind a TUN device with offloads). Only with txChecksumOffload; absent
   * or not above the MTU: every packet must fit the MTU.
   */
  readonly gsoMaxSize?: number;
  /**
   * Memory for the next packet, in the link's own transmit buffer: a packet built there and
   * then passed to `send` is taken without a copy. Valid until the next call on the link.
   * The stack uses it for TSO super-segments (a fresh 64 KB buffer each would cost an
   * allocation and a copy).
   */
  readonly txAlloc?: (len: number) => Uint8Array;
  /** Where packets arriving at this end are delivered. One receiver; setting again replaces it. */
  setReceiver(handler: PacketHandler | null): void;
}

/** What happened to a packet on a link, for observers (tracing, pcap, the `lost` arrow). */
export type LinkEventKind = 'send' | 'deliver' | 'drop';
export interface LinkEvent {
  readonly kind: LinkEventKind;
  readonly t: Instant;
  readonly packet: Uint8Array;
  /** For 'drop': why (loss, burst-loss, queue-full, partition, corrupt-dropped…). */
  readonly reason?: string;
}
export type LinkObserver = (ev: LinkEvent) => void;

/** Something a driver must call back at a deadline: stacks, links with delays, the simulation. */
export type { Pollable } from '../time/realtime.js';

/**
 * Something that can run a callback at a time: the simulation's event queue in virtual
 * time, or a realtime scheduler on the event loop. Link wrappers that delay packets use it.
 */
export interface Scheduler {
  now(): Instant;
  /** Run fn at time t (or as soon as possible if t is past). Returns an id for cancel(). */
  at(t: Instant, fn: () => void): number;
  cancel(id: number): void;
}

/** A link (or wrapper, or switch) that reports what happens to packets. */
export interface Observable {
  /** Subscribe to link events; returns the unsubscribe function. */
  observe(fn: LinkObserver): () => void;
}

/** A list of link observers: the shared implementation behind Observable. */
export class ObserverList implements Observable {
  private fns: LinkObserver[] = [];

  observe(fn: LinkObserver): () => void {
    this.fns = [...this.fns, fn];
    return () => {
      this.fns = this.fns.filter((f) => f !== fn);
    };
  }

  /** True when someone is listening (lets callers skip building events). */
  get active(): boolean {
    return this.fns.length > 0;
  }

  emit(kind: LinkEventKind, t: Instant, packet: Uint8Array, reason?: string): void {
    if (this.fns.length === 0) return;
    const ev: LinkEvent = reason === undefined ? { kind, t, packet } : { kind, t, packet, reason };
    // Iterate a snapshot: an observer may unsubscribe itself.
    for (const fn of this.fns) fn(ev);
  }
}
