// One guest TCP connection (a synack TCB) joined to a real connection (OutboundTcp), with
// backpressure and half-close in both directions (browser-clean).
//
//  guest → real: bytes leave the TCB's receive buffer only while the connector accepts them
//    (write() true). When it refuses, reading stops: the receive buffer fills and synack's
//    advertised window closes (RFC 9293 §3.8.6), so a slow real peer stops the guest.
//    The guest's FIN, after its data, becomes end() (a half-close).
//  real → guest: ondata goes into the TCB's send buffer; when it is full the real connection
//    is paused (its own TCP window closes), and resumed when ACKs free space (onWritable).
//    At most the chunks that were already in flight when pause() was called are held here.
//    The real peer's FIN, after its data, becomes our FIN (Tcb.close without orphaning).
//  errors: a real reset/error aborts the TCB (RST to the guest); a guest RST destroys the
//    real connection.
import type { Tcb } from '../tcp/tcb.js';
import type { Instant } from '../time/instant.js';
import type { OutboundTcp } from './connector.js';

const READ_CHUNK = 64 * 1024;

export class TcpPipe {
  private held: Uint8Array[] = [];
  private heldOff = 0;
  private outPaused = false;
  private outBlocked = false;
  private outEnded = false;
  private endSent = false;
  private finSent = false;
  private done = false;
  private queued = false;
  /** Bytes copied each way (for counters and tests). */
  toReal = 0;
  toGuest = 0;
  /** The real connection's error, if it ended with one (the guest got a RST). */
  realError: string | null = null;

  constructor(
    readonly tcb: Tcb,
    readonly out: OutboundTcp,
    private readonly now: () => Instant,
    private readonly onDone: (p: TcpPipe, error: string | null) => void,
  ) {
    tcb.user = {
      onEstablished: () => this.kick(),
      onReadable: () => this.kick(),
      onEnd: () => this.kick(),
      onWritable: () => this.kick(),
      onClosed: (error) => {
        // Deferred like every callback: bytes still in the receive buffer are read first.
        queueMicrotask(() => {
          this.service();
          if (this.done) return;
          if (error !== null) { this.finish(error); this.out.destroy(); return; }
          if (!this.endSent) { this.endSent = true; this.out.end(); }
          this.finish(null);
        });
      },
    };
    out.ondata = (d) => { this.held.push(d); this.toGuestFlush(); };
    out.ondrain = () => { this.outBlocked = false; this.kick(); };
    out.onend = () => { this.outEnded = true; this.toGuestFlush(); };
    out.onerror = (code) => {
      if (this.done) return;
      this.realError = code;
      this.tcb.abort(this.now(), `gateway: real connection ${code}`);
      this.finish(code);
    };
    this.kick();
  }

  /** Engine callbacks run inside segment processing: service the pipe right after it. */
  private kick(): void {
    if (this.queued || this.done) return;
    this.queued = true;
    queueMicrotask(() => { this.queued = false; this.service(); });
  }

  private service(): void {
    if (this.done) return;
    this.toRealPump();
    this.toGuestFlush();
  }

  private toRealPump(): void {
    const t = this.tcb;
    if (this.endSent) return;
    while (!this.outBlocked && t.readable > 0) {
      const d = t.receive(Math.min(t.readable, READ_CHUNK), this.now());
      this.toReal += d.length;
      if (!this.out.write(d)) this.outBlocked = true;
    }
    if (t.finReceived && t.readable === 0 && !this.endSent) { this.endSent = true; this.out.end(); }
  }

  private toGuestFlush(): void {
    if (this.done) return;
    const t = this.tcb;
    const now = this.now();
    while (this.held.length > 0) {
      const d = this.held[0]!;
      const n = t.send(d, now, this.heldOff, d.length - this.heldOff);
      if (n < 0) { this.held = []; this.heldOff = 0; this.out.destroy(); this.finish('EPIPE'); t.abort(now, 'gateway: guest side closed'); return; }
      this.toGuest += n;
      this.heldOff += n;
      if (this.heldOff < d.length) {
        if (!this.outPaused) { this.outPaused = true; this.out.pause(); }
        return;
      }
      this.held.shift();
      this.heldOff = 0;
    }
    if (this.outPaused) { this.outPaused = false; this.out.resume(); }
    if (this.outEnded && !this.finSent) { this.finSent = true; t.close(now, false); }
  }

  private finish(error: string | null): void {
    if (this.done) return;
    this.done = true;
    this.tcb.user = null;
    this.onDone(this, error);
  }
}
