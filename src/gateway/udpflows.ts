// UDP flows of the gateway (browser-clean): every datagram the guest sends to a non-local
// address belongs to a flow (guest addr, guest port, dst, dst port); the first one opens an
// OutboundUdp through the connector (if the rules allow), replies come back from dst:port.
// Flows end after `idleTimeout` without traffic either way (like slirp's/Linux conntrack's
// UDP timeouts). A refused flow (no rule) and a real ICMP port unreachable (ECONNREFUSED)
// become ICMP port unreachable to the guest, quoting its datagram (RFC 1122 §3.2.2.1).
import type { Instant, Duration } from '../time/instant.js';
import type { Pollable } from '../link/types.js';
import type { Stack } from '../stack/stack.js';
import { IPPROTO_UDP } from '../wire/ipv4.js';
import { parseUdp, buildUdp } from '../wire/udp.js';
import type { OutboundUdp } from './connector.js';
import type { Gateway } from './gateway.js';

const ICMP_PORT_UNREACHABLE = 3;

interface Flow {
  key: string;
  guest: number; guestPort: number; dst: number; dstPort: number;
  out: OutboundUdp;
  last: Instant;
  /** The guest's latest datagram (quoted by an ICMP error). */
  lastPacket: Uint8Array;
}

export class UdpFlows implements Pollable {
  private readonly flows = new Map<string, Flow>();
  private readonly stack: Stack;

  constructor(private readonly gw: Gateway, private readonly idleTimeout: Duration, private readonly maxFlows = 1024) {
    this.stack = gw.stack;
  }

  get size(): number { return this.flows.size; }

  /** A datagram for a non-local address: true when it was UDP (handled or counted). */
  input(packet: Uint8Array, protocol: number, src: number, dst: number, payload: Uint8Array): boolean {
    if (protocol !== IPPROTO_UDP) return false;
    const c = this.gw.counters;
    const r = parseUdp(payload, { src, dst });
    if (!r.ok) { c.otherDropped++; this.stack.drop('gateway: udp ' + r.error.kind, this.stack.clock.now()); return true; }
    const u = { sp: r.value.srcPort, dp: r.value.dstPort, data: r.value.payload };
    const now = this.stack.clock.now();
    const key = `${src}:${u.sp}>${dst}:${u.dp}`;
    let f = this.flows.get(key);
    if (f === undefined) {
      const target = this.gw.target(dst, u.dp);
      if (!this.gw.allowed('udp', target)) {
        c.udpRefusedByPolicy++;
        this.stack.icmpUnreachable(ICMP_PORT_UNREACHABLE, packet);
        return true;
      }
      if (this.flows.size >= this.maxFlows) this.evictOldest();
      const out = this.gw.connector.openUdp(target);
      const flow: Flow = { key, guest: src, guestPort: u.sp, dst, dstPort: u.dp, out, last: now, lastPacket: packet.slice() };
      out.onmessage = (d) => this.toGuest(flow, d);
      out.onerror = (code) => {
        if (code === 'ECONNREFUSED') this.stack.icmpUnreachable(ICMP_PORT_UNREACHABLE, flow.lastPacket);
        this.close(flow);
      };
      this.flows.set(key, flow);
      c.udpFlows++;
      f = flow;
      this.stack.onWake?.();
    } else {
      f.last = now;
      f.lastPacket = packet.slice();
    }
    c.datagramsToReal++;
    f.out.send(u.data.slice());
    return true;
  }

  private toGuest(f: Flow, d: Uint8Array): void {
    if (!this.flows.has(f.key)) return;
    f.last = this.stack.clock.now();
    this.gw.counters.datagramsToGuest++;
    try {
      this.stack.sendIpv4({ src: f.dst, dst: f.guest, protocol: IPPROTO_UDP, payload: buildUdp(f.dstPort, f.guestPort, d, f.dst, f.guest) });
    } catch {
      this.gw.counters.otherDropped++; // EMSGSIZE: larger than the guest link's MTU (no fragmentation yet)
    }
  }

  private close(f: Flow): void {
    if (this.flows.delete(f.key)) f.out.close();
  }

  private evictOldest(): void {
    let old: Flow | null = null;
    for (const f of this.flows.values()) if (old === null || f.last < old.last) old = f;
    if (old !== null) { this.gw.counters.udpIdleClosed++; this.close(old); }
  }

  nextDeadline(): Instant {
    let d = Infinity;
    for (const f of this.flows.values()) d = Math.min(d, f.last + this.idleTimeout);
    return d;
  }

  poll(now: Instant): void {
    for (const f of [...this.flows.values()]) {
      if (f.last + this.idleTimeout <= now) { this.gw.counters.udpIdleClosed++; this.close(f); }
    }
  }

  closeAll(): void { for (const f of [...this.flows.values()]) this.close(f); }
}
