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
import { transportChecksum } from '../wire/checksum.js';
import type { OutboundUdp } from './connector.js';
import type { Gateway } from './gateway.js';

const ICMP_PORT_UNREACHABLE = 3;

// The UDP header (RFC 768), read and written here until the network issue's src/wire/udp.ts
// is on main (then its parseUdp/buildUdp replace these two).
function readUdp(b: Uint8Array, src: number, dst: number): { sp: number; dp: number; data: Uint8Array } | null {
  if (b.length < 8) return null;
  const len = (b[4]! << 8) | b[5]!;
  if (len < 8 || len > b.length) return null;
  const sum = (b[6]! << 8) | b[7]!;
  if (sum !== 0 && transportChecksum(src, dst, IPPROTO_UDP, b, 0, len) !== 0) return null;
  return { sp: (b[0]! << 8) | b[1]!, dp: (b[2]! << 8) | b[3]!, data: b.subarray(8, len) };
}
function writeUdp(sp: number, dp: number, data: Uint8Array, src: number, dst: number): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = sp >>> 8; b[1] = sp & 0xff; b[2] = dp >>> 8; b[3] = dp & 0xff;
  b[4] = b.length >>> 8; b[5] = b.length & 0xff;
  b.set(data, 8);
  let c = transportChecksum(src, dst, IPPROTO_UDP, b, 0, b.length);
  if (c === 0) c = 0xffff;
  b[6] = c >>> 8; b[7] = c & 0xff;
  return b;
}

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
    const u = readUdp(payload, src, dst);
    if (u === null) { c.otherDropped++; this.stack.drop('gateway: bad udp', this.stack.clock.now()); return true; }
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
      this.stack.sendIpv4({ src: f.dst, dst: f.guest, protocol: IPPROTO_UDP, payload: writeUdp(f.dstPort, f.guestPort, d, f.dst, f.guest) });
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
