// A multi-host simulated network without layer 2: every attached port owns some IPv4
// addresses, and a packet sent into any port is forwarded to the port owning its destination
// address (RFC 791 §3.1: destination address at bytes 16..19 of the header). Like a router
// that never decrements TTL — enough to put several stacks on one network.
import type { Duration } from '../time/instant.js';
import { ObserverList } from '../link/types.js';
import type { LinkEnd, LinkObserver, Observable, PacketHandler, Scheduler } from '../link/types.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';

export interface SwitchOptions {
  /** One-way delay through the switch, port to port. Default 0. */
  delay?: Duration;
  /** Default MTU of attached ports. Default 1500. */
  mtu?: number;
}

class SwitchPort implements LinkEnd {
  receiver: PacketHandler | null = null;

  constructor(
    private readonly sw: Switch,
    readonly mtu: number,
    readonly addresses: readonly number[],
  ) {}

  send(packet: Uint8Array): void {
    this.sw.forward(this, packet);
  }

  setReceiver(handler: PacketHandler | null): void {
    this.receiver = handler;
  }
}

export class Switch implements Observable {
  private readonly routes = new Map<number, SwitchPort>();
  private readonly observers = new ObserverList();
  private readonly delay: Duration;
  private readonly mtu: number;

  constructor(
    private readonly sim: Scheduler,
    opts: SwitchOptions = {},
  ) {
    this.delay = opts.delay ?? 0;
    this.mtu = opts.mtu ?? 1500;
  }

  /** Observers see every packet: 'send' when it enters a port, then 'deliver' or 'drop'. */
  observe(fn: LinkObserver): () => void {
    return this.observers.observe(fn);
  }

  /** Attach a host owning `addresses` (uint32 IPv4). Returns the host's end of its cable. */
  attach(addresses: number[], opts: { mtu?: number } = {}): LinkEnd {
    const addrs = addresses.map((a) => a >>> 0);
    for (const a of addrs) {
      if (this.routes.has(a)) throw new Error(`Switch.attach: address ${formatIpv4Address(a)} is already attached`);
    }
    const port = new SwitchPort(this, opts.mtu ?? this.mtu, addrs);
    for (const a of addrs) this.routes.set(a, port);
    return port;
  }

  /** Detach a port: its addresses become unknown (packets to them are dropped as 'no-route'). */
  detach(end: LinkEnd): void {
    for (const [a, p] of this.routes) if (p === end) this.routes.delete(a);
  }

  /** @internal called by a port's send(). */
  forward(from: SwitchPort, packet: Uint8Array): void {
    const now = this.sim.now();
    this.observers.emit('send', now, packet);
    if (packet.length > from.mtu) {
      this.observers.emit('drop', now, packet, 'mtu');
      return;
    }
    // RFC 791 §3.1: version in the high nibble of byte 0; a header is at least 20 bytes.
    if (packet.length < 20 || packet[0]! >> 4 !== 4) {
      this.observers.emit('drop', now, packet, 'malformed');
      return;
    }
    const dst = ((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0;
    const to = this.routes.get(dst);
    if (!to) {
      this.observers.emit('drop', now, packet, 'no-route');
      return;
    }
    if (packet.length > to.mtu) {
      // A real router would fragment or send ICMP "fragmentation needed"; we only drop.
      this.observers.emit('drop', now, packet, 'mtu');
      return;
    }
    this.sim.at(now + this.delay, () => {
      const rx = to.receiver;
      const t = this.sim.now();
      if (!rx || this.routes.get(dst) !== to) {
        this.observers.emit('drop', t, packet, rx ? 'no-route' : 'no-receiver');
        return;
      }
      this.observers.emit('deliver', t, packet);
      rx(packet);
    });
  }
}
