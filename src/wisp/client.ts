// A Wisp client (browser-clean): many TCP/UDP streams over one WebSocket-like object — a
// browser WebSocket, or the `ws` package's WebSocket in Node. Protocol: src/wisp/packet.ts.
//
// Flow control, client → server: per stream the client holds a credit of DATA packets (the
// server's CONTINUE buffer_remaining). write() sends while credit lasts, then queues and
// returns false; a CONTINUE for the stream restores the credit, flushes the queue and fires
// ondrain. A writer that honours false (as the gateway does) never makes the queue grow past
// one write. Server → client, Wisp has no credit: a paused stream queues what arrives, and
// when the client's queued total passes `rxHighWater` it pauses the WebSocket itself if the
// object can (`ws` in Node has pause()/resume(); a browser WebSocket cannot, so there the
// bound is the server's own send-side backpressure).
import {
  decodeWisp, encodeClose, encodeConnect, encodeData, encodeInfo, WispCloseReason, WispError,
  WISP_CLOSE, WISP_CONTINUE, WISP_DATA, WISP_EXT_UDP, WISP_INFO, WISP_STREAM_TCP, WISP_STREAM_UDP,
} from './packet.js';

/** The part of the WebSocket API the client uses (browser WebSocket and `ws` both fit). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', fn: (ev: any) => void): void;
  /** Optional (`ws` in Node): stop reading from the socket. */
  pause?(): void;
  resume?(): void;
}

export interface WispClientOptions {
  /** Announce Wisp v2 (INFO with the UDP extension) when the server sends INFO. Default true. */
  v2?: boolean;
  /** Largest DATA payload the client sends (bigger writes are split). Default 64 KiB. */
  maxDataPayload?: number;
  /** Bytes queued for paused streams before the WebSocket is paused (if it can be). Default 1 MiB. */
  rxHighWater?: number;
}

export type WispStreamType = 'tcp' | 'udp';

export class WispStream {
  /** Data from the server. */
  ondata: ((data: Uint8Array) => void) | null = null;
  /** The stream ended: `reason` is the Wisp close reason (WispCloseReason). */
  onclose: ((reason: number) => void) | null = null;
  /** write() returned false earlier and the queue has been sent. */
  ondrain: (() => void) | null = null;
  closed = false;
  /** DATA packets we may still send before the server's next CONTINUE. */
  credit = 0;
  private txQueue: Uint8Array[] = [];
  private rxQueue: Uint8Array[] = [];
  private paused = false;
  private pendingClose: number | null = null;
  private needDrain = false;

  constructor(
    private readonly client: WispClient,
    readonly id: number,
    readonly type: WispStreamType,
    readonly hostname: string,
    readonly port: number,
  ) {}

  /** Bytes waiting for credit. */
  get queuedBytes(): number { let n = 0; for (const b of this.txQueue) n += b.length; return n; }

  /** Send bytes. Returns false when they (or part) wait for credit: wait for ondrain. */
  write(data: Uint8Array): boolean {
    if (this.closed) return false;
    const max = this.client.maxDataPayload;
    for (let off = 0; off < data.length || (data.length === 0 && off === 0); off += max) {
      const chunk = data.subarray(off, Math.min(data.length, off + max));
      if (this.type === 'udp') { this.client.sendRaw(encodeData(this.id, chunk)); if (data.length === 0) break; continue; }
      if (this.txQueue.length === 0 && this.credit > 0 && this.client.ready) {
        this.credit--;
        this.client.sendRaw(encodeData(this.id, chunk));
      } else {
        this.txQueue.push(chunk.slice());
      }
      if (data.length === 0) break;
    }
    if (this.txQueue.length > 0) { this.needDrain = true; return false; }
    return true;
  }

  /** Stop delivering ondata (received data queues; see WispClientOptions.rxHighWater). */
  pause(): void { this.paused = true; }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (!this.paused && this.rxQueue.length > 0) {
      const d = this.rxQueue.shift()!;
      this.client.rxQueued(-d.length);
      this.ondata?.(d);
    }
    if (!this.paused && this.rxQueue.length === 0 && this.pendingClose !== null) this.finish(this.pendingClose);
  }

  /** Close the stream (sends CLOSE). Queued outgoing data is sent first if credit allows, else dropped. */
  close(reason: number = WispCloseReason.Voluntary): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.dropQueues();
    this.client.sendRaw(encodeClose(this.id, reason));
    this.client.forget(this.id);
  }

  // ---- called by the client
  /** @internal */
  continued(remaining: number): void {
    this.credit = remaining;
    this.flush();
    if (this.needDrain && this.txQueue.length === 0) { this.needDrain = false; this.ondrain?.(); }
  }
  /** @internal */
  flush(): void {
    if (!this.client.ready) return;
    while (this.txQueue.length > 0 && this.credit > 0) {
      this.credit--;
      this.client.sendRaw(encodeData(this.id, this.txQueue.shift()!));
    }
  }
  /** @internal */
  received(d: Uint8Array): void {
    if (this.closed) return;
    if (this.paused || this.rxQueue.length > 0) {
      const copy = d.slice();
      this.rxQueue.push(copy);
      this.client.rxQueued(copy.length);
    } else {
      this.ondata?.(d);
    }
  }
  /** @internal server CLOSE, or the WebSocket went away */
  remoteClosed(reason: number): void {
    if (this.closed) return;
    if (this.paused && this.rxQueue.length > 0) { this.pendingClose = reason; return; }
    this.finish(reason);
  }
  private finish(reason: number): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueues();
    this.client.forget(this.id);
    this.onclose?.(reason);
  }
  private dropQueues(): void {
    for (const d of this.rxQueue) this.client.rxQueued(-d.length);
    this.rxQueue = [];
    this.txQueue = [];
  }
}

export class WispClient {
  /** True once the server's first CONTINUE (stream 0) arrived. */
  ready = false;
  /** Server announced the UDP extension (v2), or the server is v1 (UDP allowed by default). */
  udpEnabled = true;
  version = 1;
  /** Per-stream DATA packet buffer announced by the server. */
  initialCredit = 0;
  /** Counters: malformed packets, packets for unknown streams. */
  readonly counters = { badPackets: 0, unknownStream: 0, packetsIn: 0, packetsOut: 0 };
  onready: (() => void) | null = null;
  onclose: (() => void) | null = null;
  readonly maxDataPayload: number;
  readonly readyPromise: Promise<void>;
  private readonly streams = new Map<number, WispStream>();
  private nextId = 1;
  private preReady: Uint8Array[] = [];
  private rxBytes = 0;
  private wsPaused = false;
  private readonly rxHighWater: number;
  private readonly v2: boolean;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private dead = false;

  constructor(private readonly ws: WebSocketLike, opts: WispClientOptions = {}) {
    this.v2 = opts.v2 ?? true;
    this.maxDataPayload = opts.maxDataPayload ?? 64 * 1024;
    this.rxHighWater = opts.rxHighWater ?? 1 << 20;
    this.readyPromise = new Promise((res, rej) => { this.resolveReady = res; this.rejectReady = rej; });
    this.readyPromise.catch(() => {});
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (ev: { data: unknown }) => this.onMessage(ev.data));
    ws.addEventListener('close', () => this.teardown());
    ws.addEventListener('error', () => this.teardown());
  }

  get streamCount(): number { return this.streams.size; }

  /** Open a stream to hostname:port. Usable at once (data waits for the server's credit). */
  open(hostname: string, port: number, type: WispStreamType = 'tcp'): WispStream {
    if (this.dead) throw Object.assign(new Error('wisp connection closed'), { code: 'ERR_WISP_CLOSED' });
    if (type === 'udp' && !this.udpEnabled) throw Object.assign(new Error('wisp server does not offer UDP'), { code: 'ERR_WISP_NO_UDP' });
    const id = this.nextId++;
    const s = new WispStream(this, id, type, hostname, port);
    s.credit = this.initialCredit;
    this.streams.set(id, s);
    this.sendRaw(encodeConnect(id, type === 'tcp' ? WISP_STREAM_TCP : WISP_STREAM_UDP, port, hostname));
    return s;
  }

  close(): void { this.ws.close(1000); this.teardown(); }

  /** @internal */
  sendRaw(b: Uint8Array): void {
    if (this.dead) return;
    if (!this.ready) { this.preReady.push(b); return; }
    this.counters.packetsOut++;
    this.ws.send(b);
  }
  /** @internal */
  forget(id: number): void { this.streams.delete(id); }
  /** @internal */
  rxQueued(delta: number): void {
    this.rxBytes += delta;
    if (!this.wsPaused && this.rxBytes > this.rxHighWater && this.ws.pause) { this.wsPaused = true; this.ws.pause(); }
    else if (this.wsPaused && this.rxBytes <= this.rxHighWater / 2) { this.wsPaused = false; this.ws.resume?.(); }
  }

  private onMessage(data: unknown): void {
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else { this.counters.badPackets++; return; }
    let p;
    try { p = decodeWisp(bytes); } catch (e) { if (e instanceof WispError) { this.counters.badPackets++; return; } throw e; }
    this.counters.packetsIn++;
    if (p.streamId === 0) {
      if (p.type === WISP_INFO && !this.ready) {
        this.version = p.major;
        this.udpEnabled = p.extensions.some((e) => e.id === WISP_EXT_UDP);
        if (this.v2) this.ws.send(encodeInfo(2, 0, [{ id: WISP_EXT_UDP, payload: new Uint8Array(0) }]));
      } else if (p.type === WISP_CONTINUE && !this.ready) {
        this.initialCredit = p.bufferRemaining;
        this.ready = true;
        const q = this.preReady;
        this.preReady = [];
        for (const b of q) { this.counters.packetsOut++; this.ws.send(b); }
        for (const s of this.streams.values()) { if (s.credit === 0) s.continued(this.initialCredit); }
        this.resolveReady();
        this.onready?.();
      } else if (p.type === WISP_CLOSE) {
        this.teardown();
      }
      return;
    }
    const s = this.streams.get(p.streamId);
    if (s === undefined) { this.counters.unknownStream++; return; }
    if (p.type === WISP_DATA) s.received(p.data);
    else if (p.type === WISP_CONTINUE) s.continued(p.bufferRemaining);
    else if (p.type === WISP_CLOSE) s.remoteClosed(p.reason);
    else this.counters.badPackets++;
  }

  private teardown(): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.ready) this.rejectReady(Object.assign(new Error('wisp connection closed before it was ready'), { code: 'ERR_WISP_CLOSED' }));
    for (const s of [...this.streams.values()]) s.remoteClosed(WispCloseReason.NetworkError);
    if (this.wsPaused) { this.wsPaused = false; this.ws.resume?.(); }
    this.onclose?.();
  }
}
