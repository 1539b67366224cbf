// Packets crossing threads (a wrong-queue packet on its way to the owning shard, or the
// in-memory wire between the main thread and a shard): many packets in one ArrayBuffer,
// posted once per turn of the event loop with the buffer transferred (not copied again).
//
// "Once per turn" is setImmediate, not a microtask. Node runs the microtask queue after
// every single MessagePort message it delivers, so a microtask flush posts one message per
// message received: with one peer talking to two shards the batches collapsed from ~96 to
// ~1.2 packets (issue 16: shard-mem-connrate, 16,000 connections, 501 messages from the
// main thread with 1 worker, 39,691 with 2; the CPU per connection doubled). setImmediate
// runs after the poll phase, once every message that arrived in this turn of the loop —
// from every port — has been handled: 2,259 messages with 2 workers, and 1.58 → 1.06 CPU s.
//
// Layout: u32 count, then count × (u32 length, u32 link flags), then the packets, each at an
// 8-byte aligned offset (the IPv4 and TCP headers stay 4-byte aligned for the checksum code).
import type { MessagePort } from 'node:worker_threads';

/** Collects packets for one destination port; flush() posts them as one message. */
export class PacketBatcher {
  private packets: Uint8Array[] = [];
  private flags: number[] = [];
  private bytes = 0;
  private queued = false;
  /** Messages posted and packets carried (statistics). */
  messages = 0;
  packetsOut = 0;
  private readonly flushFn = (): void => { this.queued = false; this.flush(); };

  constructor(private readonly port: MessagePort, private readonly maxPackets = 256) {}

  /** Copy `p` into the batch (the caller may reuse its memory); posted at the end of this turn of the event loop. */
  add(p: Uint8Array, flags = 0): void {
    this.packets.push(p.slice());
    this.flags.push(flags);
    this.bytes += (p.length + 7) & ~7;
    if (this.packets.length >= this.maxPackets) this.flush();
    else if (!this.queued) { this.queued = true; setImmediate(this.flushFn); }
  }

  flush(): void {
    const n = this.packets.length;
    if (n === 0) return;
    const head = (4 + 8 * n + 7) & ~7;
    const buf = new ArrayBuffer(head + this.bytes);
    const h = new Uint32Array(buf, 0, 1 + 2 * n);
    const u8 = new Uint8Array(buf);
    h[0] = n;
    let off = head;
    for (let i = 0; i < n; i++) {
      const p = this.packets[i]!;
      h[1 + 2 * i] = p.length;
      h[2 + 2 * i] = this.flags[i]!;
      u8.set(p, off);
      off += (p.length + 7) & ~7;
    }
    this.packets = [];
    this.flags = [];
    this.bytes = 0;
    this.messages++;
    this.packetsOut += n;
    this.port.postMessage(buf, [buf]);
  }
}

/** Call fn for every packet of a batch (views into `buf`). Malformed batches are ignored. */
export function forEachPacket(buf: unknown, fn: (p: Uint8Array, flags: number) => void): number {
  if (!(buf instanceof ArrayBuffer) || buf.byteLength < 4) return 0;
  const n = new Uint32Array(buf, 0, 1)[0]!;
  const head = (4 + 8 * n + 7) & ~7;
  if (n > 1 << 16 || head > buf.byteLength) return 0;
  const h = new Uint32Array(buf, 0, 1 + 2 * n);
  let off = head;
  for (let i = 0; i < n; i++) {
    const len = h[1 + 2 * i]!;
    if (off + len > buf.byteLength) return i;
    fn(new Uint8Array(buf, off, len), h[2 + 2 * i]!);
    off += (len + 7) & ~7;
  }
  return n;
}
