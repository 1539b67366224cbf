// A DHCP server (RFC 2131 §4.3) on a stack: an address pool, leases with renewal and expiry,
// static leases by MAC address, the options of RFC 2132 a client needs (subnet mask 1, router
// 3, DNS servers 6, domain name 15, MTU 26, lease time 51, server identifier 54, T1 58, T2
// 59). Replies go to ciaddr when the client has an address, else broadcast (RFC 2131 §4.1
// allows a server to broadcast when it cannot unicast to a client without an address; we
// never inject ARP entries). Relays (giaddr) are not supported. Browser-clean; time is the
// stack's clock, lease expiry is a stack pollable.
import type { Instant } from '../time/instant.js';
import type { Stack, NetIf } from '../stack/stack.js';
import type { Pollable } from '../link/types.js';
import { udpOf } from '../udp/layer.js';
import type { UdpSocket } from '../udp/socket.js';
import { formatIpv4Address, parseIpv4Address, prefixMask } from '../wire/ipv4addr.js';
import { formatMac } from './mac.js';
import {
  parseDhcp, emitDhcp, messageType, clientMac, optU32, optString, describeDhcp, dhcpTypeName,
  u32Bytes, addrsBytes, strBytes, BOOTREPLY, BOOTREQUEST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, FLAG_BROADCAST,
  DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE, DHCPINFORM,
  OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_LEASE_TIME, OPT_T1, OPT_T2, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_MTU,
  OPT_REQUESTED_IP, OPT_HOSTNAME, OPT_MESSAGE, type DhcpMessage,
} from './wire.js';
import { traceDhcp } from './trace.js';

type Addr = number | string;

export interface DhcpServerOptions {
  /** The interface served (default: the first). */
  nif?: NetIf;
  /** First and last address of the pool, inclusive. */
  pool: { first: Addr; last: Addr };
  /** Server identifier (default: the interface's address). */
  serverId?: Addr;
  /** Subnet mask (default: from the interface's prefix). */
  subnetMask?: Addr;
  /** Router option (default: the server's address; null: none). */
  router?: Addr | null;
  /** DNS servers option (default: none). */
  dns?: Addr[];
  domain?: string;
  mtu?: number;
  /** Lease time, seconds (default 3600). T1 = 0.5, T2 = 0.875 of it (RFC 2131 §4.4.5). */
  leaseTime?: number;
  /** How long an OFFERed address stays reserved for the client, seconds (default 60). */
  offerTime?: number;
  /** Fixed addresses by MAC ("02:00:00:00:00:01" → "198.18.0.50"). */
  static?: Record<string, Addr> | Array<{ mac: string; addr: Addr }>;
}

export type LeaseState = 'offered' | 'bound' | 'released' | 'expired' | 'declined';

export interface Lease {
  mac: string;
  addr: number;
  state: LeaseState;
  /** When the lease (or the offer) ends. */
  expires: Instant;
  hostname?: string;
  static: boolean;
}

function toAddr(a: Addr, what: string): number {
  const v = typeof a === 'number' ? a >>> 0 : parseIpv4Address(a);
  if (v === null) throw new RangeError(`DHCP server: ${what} is not an IPv4 address: ${String(a)}`);
  return v;
}

export class DhcpServer implements Pollable {
  readonly nif: NetIf;
  readonly serverId: number;
  readonly first: number;
  readonly last: number;
  readonly leaseTime: number;
  private readonly offerTime: number;
  private readonly mask: number;
  private readonly router: number | null;
  private readonly dns: number[];
  private readonly domain: string | undefined;
  private readonly mtu: number | undefined;
  private readonly socket: UdpSocket;
  /** Leases by address. */
  private readonly byAddr = new Map<number, Lease>();
  private readonly staticByMac = new Map<string, number>();
  private readonly unregister: () => void;
  private pending = false;
  /** Messages handled, by type name, and replies sent. */
  readonly stats: Record<string, number> = {};
  onLease: ((l: Lease, event: 'offer' | 'ack' | 'nak' | 'release' | 'decline' | 'expire') => void) | null = null;

  constructor(readonly stack: Stack, o: DhcpServerOptions) {
    const nif = o.nif ?? stack.interfaces[0];
    if (nif === undefined) throw new RangeError('DHCP server: the stack has no interface');
    this.nif = nif;
    this.serverId = o.serverId === undefined ? nif.addr : toAddr(o.serverId, 'serverId');
    if (this.serverId === 0) throw new RangeError('DHCP server: the interface has no address (give serverId or configure it)');
    this.first = toAddr(o.pool.first, 'pool.first');
    this.last = toAddr(o.pool.last, 'pool.last');
    if (this.last < this.first) throw new RangeError('DHCP server: pool.last is before pool.first');
    this.mask = o.subnetMask === undefined ? prefixMask(nif.prefixLen) : toAddr(o.subnetMask, 'subnetMask');
    this.router = o.router === null ? null : o.router === undefined ? this.serverId : toAddr(o.router, 'router');
    this.dns = (o.dns ?? []).map((d) => toAddr(d, 'dns'));
    this.domain = o.domain;
    this.mtu = o.mtu;
    this.leaseTime = o.leaseTime ?? 3600;
    this.offerTime = o.offerTime ?? 60;
    const statics = Array.isArray(o.static) ? o.static.map((s) => [s.mac, s.addr] as const) : Object.entries(o.static ?? {});
    for (const [mac, a] of statics) this.staticByMac.set(mac.toLowerCase(), toAddr(a, `static lease of ${mac}`));
    const s = udpOf(stack).createSocket();
    s.broadcast = true;
    s.handle = this;
    s.bind(0, DHCP_SERVER_PORT);
    s.user = { onReadable: () => { this.pending = true; stack.onWake?.(); }, onError: () => {} };
    this.socket = s;
    this.unregister = stack.addPollable(this);
  }

  /** Every lease the server knows, by address. */
  leases(): Lease[] { return [...this.byAddr.values()].sort((a, b) => a.addr - b.addr); }

  /** The lease of a MAC address ("02:…"), if any. */
  leaseOf(mac: string): Lease | undefined {
    const m = mac.toLowerCase();
    for (const l of this.byAddr.values()) if (l.mac === m) return l;
    return undefined;
  }

  close(): void { this.socket.close(); this.unregister(); }

  // ---------------------------------------------------------------- Pollable

  nextDeadline(): Instant {
    if (this.pending) return 0;
    let d = Infinity;
    for (const l of this.byAddr.values()) if ((l.state === 'bound' || l.state === 'offered' || l.state === 'declined') && l.expires < d) d = l.expires;
    return d;
  }

  poll(now: Instant): void {
    this.pending = false;
    for (const l of this.byAddr.values()) {
      if ((l.state === 'bound' || l.state === 'offered' || l.state === 'declined') && l.expires <= now) {
        const was = l.state;
        l.state = 'expired';
        if (was === 'bound') { this.count('expired'); this.onLease?.(l, 'expire'); traceDhcp(this.stack, { role: 'server', kind: 'lease', detail: `${formatIpv4Address(l.addr)} expired (${l.mac})` }); }
      }
    }
    for (let m = this.socket.recv(); m !== null; m = this.socket.recv()) {
      const r = parseDhcp(m.data);
      if (!r.ok) { this.count('malformed'); this.stack.drop('dhcp: ' + r.error.kind, now); continue; }
      if (r.value.op !== BOOTREQUEST) continue;
      this.handle(r.value, now);
    }
  }

  private count(k: string): void { this.stats[k] = (this.stats[k] ?? 0) + 1; }

  // ---------------------------------------------------------------- RFC 2131 §4.3

  private handle(m: DhcpMessage, now: Instant): void {
    const type = messageType(m);
    if (type === undefined) { this.count('bootp'); return; } // plain BOOTP: not served
    if (m.giaddr !== 0) { this.count('relayed'); return; } // relay agents not supported
    const mac = formatMac(clientMac(m));
    this.count(dhcpTypeName(type));
    traceDhcp(this.stack, { role: 'server', kind: 'message', dir: 'in', msg: dhcpTypeName(type), xid: m.xid, detail: describeDhcp(m) });
    const hostname = optString(m, OPT_HOSTNAME);
    switch (type) {
      case DHCPDISCOVER: {
        // §4.3.1: choose an address: the client's current/previous binding, a static one,
        // the requested one if free, else a free one.
        const addr = this.choose(mac, optU32(m, OPT_REQUESTED_IP));
        if (addr === null) { this.count('pool exhausted'); this.stack.drop('dhcp: pool exhausted', now); return; }
        const l = this.bind(mac, addr, 'offered', now + this.offerTime * 1_000_000, hostname);
        this.reply(m, DHCPOFFER, addr, now);
        this.onLease?.(l, 'offer');
        return;
      }
      case DHCPREQUEST: {
        const sid = optU32(m, OPT_SERVER_ID);
        const req = optU32(m, OPT_REQUESTED_IP);
        if (sid !== undefined) {
          // SELECTING: the client answers an OFFER. Not ours: it chose another server.
          if (sid !== this.serverId) {
            const l = this.leaseOf(mac);
            if (l !== undefined && l.state === 'offered') l.state = 'released';
            return;
          }
          const l = this.leaseOf(mac);
          if (req === undefined || l === undefined || l.addr !== req || (l.state !== 'offered' && l.state !== 'bound')) { this.nak(m, mac, now, 'requested address not offered'); return; }
          this.ack(m, mac, req, now, hostname);
          return;
        }
        if (req !== undefined && m.ciaddr === 0) {
          // INIT-REBOOT (§4.3.2): verify the remembered address.
          if (!this.inSubnet(req)) { this.nak(m, mac, now, 'wrong network'); return; }
          const owner = this.byAddr.get(req);
          if (owner !== undefined && owner.mac !== mac && (owner.state === 'bound' || owner.state === 'offered' || owner.state === 'declined' || owner.static)) { this.nak(m, mac, now, 'address in use'); return; }
          const st = this.staticByMac.get(mac);
          if ((st !== undefined && st !== req) || !this.inPool(req) && st !== req) { this.nak(m, mac, now, 'not an address of this server'); return; }
          this.ack(m, mac, req, now, hostname);
          return;
        }
        if (m.ciaddr !== 0) {
          // RENEWING (unicast) or REBINDING (broadcast): extend the client's binding (§4.3.2).
          const l = this.byAddr.get(m.ciaddr);
          if (l === undefined || l.mac !== mac || l.state === 'released' || l.state === 'declined') { this.nak(m, mac, now, 'no binding for ciaddr'); return; }
          this.ack(m, mac, m.ciaddr, now, hostname);
          return;
        }
        this.nak(m, mac, now, 'malformed request');
        return;
      }
      case DHCPDECLINE: {
        // §4.3.3: the address is in use by someone else: mark it unavailable for a while.
        const req = optU32(m, OPT_REQUESTED_IP);
        const l = req === undefined ? undefined : this.byAddr.get(req);
        if (l !== undefined && l.mac === mac) {
          l.state = 'declined'; l.mac = '(declined)'; l.expires = now + this.leaseTime * 1_000_000;
          this.onLease?.(l, 'decline');
        }
        return;
      }
      case DHCPRELEASE: {
        const l = this.byAddr.get(m.ciaddr);
        if (l !== undefined && l.mac === mac && l.state === 'bound') { l.state = 'released'; l.expires = now; this.onLease?.(l, 'release'); }
        return;
      }
      case DHCPINFORM:
        // §4.3.5: configuration only, no lease, unicast to ciaddr.
        this.reply(m, DHCPACK, 0, now, true);
        return;
      default:
        return;
    }
  }

  private inSubnet(a: number): boolean { return ((a & this.mask) >>> 0) === ((this.serverId & this.mask) >>> 0); }
  private inPool(a: number): boolean { return a >= this.first && a <= this.last; }

  private usable(a: number, mac: string, now: Instant): boolean {
    if (a === this.serverId || !this.inSubnet(a)) return false;
    for (const [m, s] of this.staticByMac) if (s === a && m !== mac) return false;
    const l = this.byAddr.get(a);
    if (l === undefined || l.mac === mac) return l === undefined || l.state !== 'declined';
    return (l.state === 'released' || l.state === 'expired' || (l.state === 'offered' && l.expires <= now));
  }

  private choose(mac: string, requested: number | undefined): number | null {
    const now = this.stack.now();
    const st = this.staticByMac.get(mac);
    if (st !== undefined) return st;
    const mine = this.leaseOf(mac);
    if (mine !== undefined && mine.state !== 'declined' && this.usable(mine.addr, mac, now)) return mine.addr;
    if (requested !== undefined && this.inPool(requested) && this.usable(requested, mac, now)) return requested;
    // A never-used address first, then the one that expired longest ago (least recently used).
    let reuse: Lease | null = null;
    for (let a = this.first; a <= this.last; a++) {
      const l = this.byAddr.get(a);
      if (l === undefined) { if (this.usable(a, mac, now)) return a; continue; }
      if (this.usable(a, mac, now) && (reuse === null || l.expires < reuse.expires)) reuse = l;
    }
    return reuse?.addr ?? null;
  }

  private bind(mac: string, addr: number, state: LeaseState, expires: Instant, hostname?: string): Lease {
    // One lease per client: forget its other addresses.
    for (const [a, l] of this.byAddr) if (l.mac === mac && a !== addr && (l.state === 'offered' || l.state === 'bound')) l.state = 'released';
    let l = this.byAddr.get(addr);
    if (l === undefined) { l = { mac, addr, state, expires, static: false }; this.byAddr.set(addr, l); }
    l.mac = mac; l.state = state; l.expires = expires; l.static = this.staticByMac.get(mac) === addr;
    if (hostname !== undefined) l.hostname = hostname;
    return l;
  }

  private ack(m: DhcpMessage, mac: string, addr: number, now: Instant, hostname?: string): void {
    const l = this.bind(mac, addr, 'bound', now + this.leaseTime * 1_000_000, hostname);
    this.reply(m, DHCPACK, addr, now);
    traceDhcp(this.stack, { role: 'server', kind: 'lease', detail: `${formatIpv4Address(addr)} bound to ${mac} for ${this.leaseTime}s` });
    this.onLease?.(l, 'ack');
  }

  private nak(m: DhcpMessage, mac: string, now: Instant, why: string): void {
    this.reply(m, DHCPNAK, 0, now, false, why);
    const l = this.leaseOf(mac);
    if (l !== undefined) this.onLease?.(l, 'nak');
  }

  /** Build and send a reply (RFC 2131 Table 3) to where §4.1 says. */
  private reply(m: DhcpMessage, type: number, yiaddr: number, now: Instant, inform = false, message?: string): void {
    const opts: Array<[number, Uint8Array]> = [[OPT_MESSAGE_TYPE, new Uint8Array([type])], [OPT_SERVER_ID, u32Bytes(this.serverId)]];
    if (type !== DHCPNAK) {
      if (!inform) {
        opts.push([OPT_LEASE_TIME, u32Bytes(this.leaseTime)]);
        opts.push([OPT_T1, u32Bytes(Math.floor(this.leaseTime * 0.5))]);
        opts.push([OPT_T2, u32Bytes(Math.floor(this.leaseTime * 0.875))]);
      }
      opts.push([OPT_SUBNET_MASK, u32Bytes(this.mask)]);
      if (this.router !== null) opts.push([OPT_ROUTER, u32Bytes(this.router)]);
      if (this.dns.length > 0) opts.push([OPT_DNS, addrsBytes(this.dns)]);
      if (this.domain !== undefined) opts.push([OPT_DOMAIN, strBytes(this.domain)]);
      if (this.mtu !== undefined) opts.push([OPT_MTU, new Uint8Array([this.mtu >>> 8, this.mtu & 0xff])]);
    } else if (message !== undefined) opts.push([OPT_MESSAGE, strBytes(message)]);
    const bytes = emitDhcp({
      op: BOOTREPLY, xid: m.xid, flags: m.flags, ciaddr: inform ? m.ciaddr : 0, yiaddr, siaddr: 0, giaddr: 0,
      chaddr: m.chaddr.subarray(0, Math.min(16, m.hlen)), htype: m.htype, options: opts,
    });
    // §4.1: NAK broadcast; a client with ciaddr gets unicast; else broadcast (see the header comment).
    const dst = type === DHCPNAK || m.ciaddr === 0 || (m.flags & FLAG_BROADCAST) !== 0 && m.ciaddr === 0 ? 0xffffffff : m.ciaddr;
    this.count(`sent ${dhcpTypeName(type)}`);
    traceDhcp(this.stack, { role: 'server', kind: 'message', dir: 'out', msg: dhcpTypeName(type), xid: m.xid, detail: `${dhcpTypeName(type)}${yiaddr ? ' ' + formatIpv4Address(yiaddr) : ''}` });
    try {
      udpOf(this.stack).sendRaw(this.serverId, DHCP_SERVER_PORT, dst, DHCP_CLIENT_PORT, bytes, dst === 0xffffffff ? this.nif : undefined);
    } catch (e) {
      this.stack.drop(`dhcp: reply not sent (${(e as { code?: string }).code ?? String(e)})`, now);
    }
  }
}
