// A transparent tap: sees every packet leaving ('out') and arriving ('in') at a link end,
// then passes it on unchanged. The basis for pcap capture and tracing wrappers.
import type { LinkEnd, PacketHandler } from './types.js';

export type TapDirection = 'out' | 'in';
export type TapObserver = (dir: TapDirection, packet: Uint8Array) => void;

export class TapLink implements LinkEnd {
  constructor(
    private readonly inner: LinkEnd,
    private readonly observer: TapObserver,
  ) {}

  get mtu(): number {
    return this.inner.mtu;
  }

  /** The packet is shown to the observer before the inner link takes ownership of it. */
  send(packet: Uint8Array): void {
    this.observer('out', packet);
    this.inner.send(packet);
  }

  setReceiver(handler: PacketHandler | null): void {
    if (!handler) {
      this.inner.setReceiver(null);
      return;
    }
    this.inner.setReceiver((packet) => {
      this.observer('in', packet);
      handler(packet);
    });
  }
}
