// Ethernet frames in/out (browser-clean): how an emulator's NIC meets the gateway's stack.
//
//  - FramePort: a link end carrying Ethernet II frames (framing 'ethernet'), for the stack's
//    Ethernet interface. Frames the stack sends go to `onframe` (a callback) or out of the
//    `readable` stream; frames from the emulator come in through input() or the `writable`
//    stream — the ReadableStream/WritableStream pair tcpip.js exposes.
//  - V86NetAdapter: the same, wired to v86's bus: v86's NIC (ne2k or virtio) emits each frame
//    it transmits as the bus event `net<id>-send` (a Uint8Array view into its memory) and takes
//    frames for the guest as `net<id>-receive` (see v86's src/ne2k.js / virtio_net.js).
//
// A NIC has a ring, not a queue without end: when the readable side is not read, frames beyond
// `queueLimit` are dropped and counted (TCP retransmits them, unlike v86's own fake network).
import type { PacketHandler } from '../link/types.js';

export interface FramePortOptions {
  /** IP MTU of the link (frames may be 14–18 bytes longer). Default 1500. */
  mtu?: number;
  /** Frames the readable stream buffers before dropping. Default 256. */
  queueLimit?: number;
}

export class FramePort {
  readonly framing = 'ethernet' as const;
  readonly mtu: number;
  /** Frames the stack sends (when set, the readable stream gets nothing). */
  onframe: ((frame: Uint8Array) => void) | null = null;
  readonly counters = { framesIn: 0, framesOut: 0, dropped: 0 };
  private receiver: PacketHandler | null = null;
  private readonly queueLimit: number;
  private readableCtl: ReadableStreamDefaultController<Uint8Array> | null = null;
  private rs: ReadableStream<Uint8Array> | null = null;
  private ws: WritableStream<Uint8Array> | null = null;

  constructor(o: FramePortOptions = {}) {
    this.mtu = o.mtu ?? 1500;
    this.queueLimit = o.queueLimit ?? 256;
  }

  // ---- LinkEnd (the stack's side)
  send(frame: Uint8Array): void {
    this.counters.framesOut++;
    if (this.onframe !== null) { this.onframe(frame); return; }
    const c = this.readableCtl;
    if (c === null || (c.desiredSize ?? 0) <= 0) { this.counters.dropped++; return; }
    c.enqueue(frame);
  }
  setReceiver(h: PacketHandler | null): void { this.receiver = h; }

  // ---- the emulator's side
  /** A frame from the emulator's NIC (copied: the caller may reuse its buffer). */
  input(frame: Uint8Array): void {
    this.counters.framesIn++;
    if (this.receiver !== null) this.receiver(frame.slice());
    else this.counters.dropped++;
  }

  /** Frames from the stack, as a stream (one reader). */
  get readable(): ReadableStream<Uint8Array> {
    if (this.rs === null) {
      this.rs = new ReadableStream<Uint8Array>({ start: (c) => { this.readableCtl = c; } }, new CountQueuingStrategy({ highWaterMark: this.queueLimit }));
    }
    return this.rs;
  }

  /** Frames to the stack, as a stream. */
  get writable(): WritableStream<Uint8Array> {
    if (this.ws === null) this.ws = new WritableStream<Uint8Array>({ write: (f) => this.input(f) });
    return this.ws;
  }
}

/** The part of v86's bus the adapter uses (`emulator.bus`). */
export interface V86Bus {
  register(name: string, fn: (data: any) => void, thisArg?: unknown): void;
  unregister?(name: string, fn: (data: any) => void): void;
  send(name: string, value: unknown): void;
}

/** A FramePort wired to v86's network bus (`net<id>-send` / `net<id>-receive`). */
export class V86NetAdapter extends FramePort {
  private readonly onSend: (f: Uint8Array) => void;
  constructor(private readonly bus: V86Bus, readonly id = 0, o: FramePortOptions = {}) {
    super(o);
    this.onSend = (f: Uint8Array) => this.input(f);
    bus.register(`net${id}-send`, this.onSend);
    this.onframe = (f) => bus.send(`net${id}-receive`, f);
  }
  /** Unplug from the bus. */
  detach(): void {
    this.bus.unregister?.(`net${this.id}-send`, this.onSend);
    this.onframe = null;
  }
}
