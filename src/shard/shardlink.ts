// A shard's view of its queue: the LinkEnd its Stack is attached to. Packets the stack sends
// go out of this shard's queue (a TUN queue, or the in-memory wire). Packets arriving on the
// queue are checked against the partition (src/shard/partition.ts): the owner's go to the
// stack, the rest are forwarded to the owning shard over a MessagePort, batched per turn.
//
// Why forward instead of following the queue the packet arrived on: the kernel picks a TUN
// queue by its own flow hash (seeded at random per boot, not reproducible here) until the
// flow has been *sent* from a queue, after which it steers the flow's packets to that queue
// (drivers/net/tun.c: tun_automq_select_queue, tun_flow_update; entries idle for 3 s
// expire). So the first packet of a connection the kernel opens — its SYN — arrives on a
// queue picked by the kernel's hash: with N queues, on the wrong one with probability
// (N-1)/N. The owner answers from its own queue, which pins the flow there, and the rest
// of the connection arrives on the right queue. Forwarding costs one hop for those few
// packets and keeps the partition a pure function of the 4-tuple, so an active open (this
// shard chooses the port) and a connection idle for longer than the kernel remembers land
// on the same owner. See docs/sharding.md.
import type { MessagePort } from 'node:worker_threads';
import type { LinkEnd, PacketHandler } from '../link/types.js';
import { ANY_SHARD, type ShardMap } from './partition.js';
import { PacketBatcher, forEachPacket } from './batch.js';

export interface ShardLinkStats {
  /** Packets that arrived on this shard's queue and were its own (or anyone's). */
  rxOwn: number;
  /** Packets that arrived on this shard's queue but belong to another shard: forwarded. */
  rxForwarded: number;
  /** Packets other shards forwarded to this one. */
  rxFromPeers: number;
  /** Batches (messages) forwarded. */
  forwardMessages: number;
  txPackets: number;
}

export class ShardLink implements LinkEnd {
  readonly stats: ShardLinkStats = { rxOwn: 0, rxForwarded: 0, rxFromPeers: 0, forwardMessages: 0, txPackets: 0 };
  private handler: PacketHandler | null = null;
  private readonly out: Array<PacketBatcher | null>;

  constructor(
    private readonly queue: LinkEnd,
    private readonly map: ShardMap,
    readonly shard: number,
    /** peers[j]: the port to shard j (null for this shard). */
    peers: ReadonlyArray<MessagePort | null>,
  ) {
    this.out = peers.map((p) => (p === null ? null : new PacketBatcher(p)));
    peers.forEach((p) => {
      if (p === null) return;
      p.on('message', (buf: unknown) => {
        const h = this.handler;
        if (h === null) return;
        this.stats.rxFromPeers += forEachPacket(buf, (pkt, flags) => { if (flags === 0) h(pkt); else h(pkt, flags); });
      });
    });
  }

  get mtu(): number { return this.queue.mtu; }
  get txChecksumOffload(): boolean | undefined { return this.queue.txChecksumOffload; }

  send(packet: Uint8Array, flags = 0): void {
    this.stats.txPackets++;
    if (flags === 0) this.queue.send(packet);
    else this.queue.send(packet, flags);
  }

  setReceiver(handler: PacketHandler | null): void {
    this.handler = handler;
    if (handler === null) { this.queue.setReceiver(null); return; }
    const map = this.map, me = this.shard, s = this.stats;
    this.queue.setReceiver((p, flags = 0) => {
      const owner = map.ownerOfPacket(p);
      if (owner === me || owner === ANY_SHARD) {
        s.rxOwn++;
        if (flags === 0) handler(p); else handler(p, flags);
        return;
      }
      const b = this.out[owner];
      if (b === null || b === undefined) { s.rxOwn++; handler(p, flags); return; }
      s.rxForwarded++;
      b.add(p, flags);
    });
  }

  /** Forwarding messages sent so far (all peers). */
  forwardMessagesSent(): number {
    let n = 0;
    for (const b of this.out) if (b !== null) n += b.messages;
    return n;
  }

  close(): void {
    for (const b of this.out) b?.flush();
  }
}
