// A LinkEnd over a MessagePort: the in-memory "queue" between a shard and the thread that
// plays the rest of the network (the main thread's MemoryWire, src/shard/sharded.ts).
// Packets are batched per turn of the event loop (src/shard/batch.ts).
import type { MessagePort } from 'node:worker_threads';
import type { LinkEnd, PacketHandler } from '../link/types.js';
import { PacketBatcher, forEachPacket } from './batch.js';

export class PortLink implements LinkEnd {
  private handler: PacketHandler | null = null;
  private readonly batcher: PacketBatcher;
  rxPackets = 0;

  constructor(private readonly port: MessagePort, readonly mtu: number) {
    this.batcher = new PacketBatcher(port);
    port.on('message', (buf: unknown) => {
      const h = this.handler;
      if (h === null) return;
      this.rxPackets += forEachPacket(buf, (p, flags) => { if (flags === 0) h(p); else h(p, flags); });
    });
  }

  get txPackets(): number { return this.batcher.packetsOut; }

  send(packet: Uint8Array, flags = 0): void {
    if (packet.length > this.mtu) return;
    this.batcher.add(packet, flags);
  }

  setReceiver(handler: PacketHandler | null): void { this.handler = handler; }

  close(): void { this.batcher.flush(); this.port.close(); }
}
