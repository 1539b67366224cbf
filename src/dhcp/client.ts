// The DHCP client state machine (RFC 2131 §4.4, Figure 5), sans-I/O: it is given received
// messages and the time, and asks a transport to send and to apply or remove a lease.
//
//   INIT ──DISCOVER──▶ SELECTING ──OFFER/REQUEST──▶ REQUESTING ──ACK──▶ BOUND
//   BOUND ──T1──▶ RENEWING (unicast REQUEST) ──T2──▶ REBINDING (broadcast) ──expiry──▶ INIT
//   INIT-REBOOT ──REQUEST──▶ REBOOTING ──ACK──▶ BOUND;  NAK anywhere ──▶ INIT
//
// Retransmission (§4.1): 4 s before the first retransmission, doubled up to 64 s, each
// randomized by ±1 s; in RENEWING/REBINDING half the time remaining until T2/expiry, at
// least 60 s (§4.4.5). REQUESTING gives up after 4 retransmissions and restarts (§4.4.1).
// The start is delayed by a random 1–10 s (§4.4.1) unless told otherwise.
import type { Instant } from '../time/instant.js';
import {
  emitDhcp, parseDhcp, messageType, optU32, optAddrs, optString, optU16, u32Bytes, strBytes, dhcpTypeName,
  BOOTREPLY, BOOTREQUEST, FLAG_BROADCAST, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, DHCPNAK, DHCPRELEASE,
  OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_REQUESTED_IP, OPT_PARAM_LIST, OPT_CLIENT_ID, OPT_HOSTNAME, OPT_MAX_SIZE,
  OPT_LEASE_TIME, OPT_T1, OPT_T2, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_MTU, type DhcpMessage,
} from './wire.js';

export type DhcpClientState = 'INIT' | 'SELECTING' | 'REQUESTING' | 'BOUND' | 'RENEWING' | 'REBINDING' | 'INIT-REBOOT' | 'REBOOTING';

/** The configuration a lease gives. Times are absolute instants. */
export interface DhcpLease {
  addr: number;
  /** Prefix length from the subnet mask option (24 when absent). */
  prefixLen: number;
  serverId: number;
  routers: number[];
  dns: number[];
  domain?: string;
  mtu?: number;
  leaseTime: number;
  t1: Instant;
  t2: Instant;
  expires: Instant;
  /** When the REQUEST that got this lease was sent (RFC 2131 §4.4.1: times count from there). */
  obtained: Instant;
}

export interface DhcpClientTransport {
  /** Send a message from `src` (0.0.0.0 before a lease) port 68 to `dst` port 67 (255.255.255.255: broadcast). */
  send(msg: Uint8Array, dst: number, src: number): void;
  /** A lease was obtained or renewed (configure the interface), or lost (null: remove it). */
  configure(lease: DhcpLease | null): void;
  /** Optional trace hooks. */
  state?(from: DhcpClientState, to: DhcpClientState, why: string): void;
  message?(dir: 'in' | 'out', type: string, xid: number, detail: string): void;
}

export interface DhcpClientMachineOptions {
  mac: Uint8Array;
  /** Uniform random numbers in [0, 1) (seeded in simulation). */
  random: () => number;
  hostname?: string;
  /** Start in INIT-REBOOT asking for this (previously leased) address. */
  previousAddr?: number;
  /** Wait the random 1–10 s before the first DISCOVER (default true). */
  startDelay?: boolean;
}

const S = 1_000_000;
const PARAMS = new Uint8Array([OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_MTU, OPT_LEASE_TIME, OPT_SERVER_ID, OPT_T1, OPT_T2]);

function prefixOf(mask: number): number {
  let n = 0;
  while (n < 32 && (mask & (0x80000000 >>> n)) !== 0) n++;
  return n;
}

export class DhcpClientMachine {
  state: DhcpClientState = 'INIT';
  lease: DhcpLease | null = null;
  /** Messages sent, by type, and retransmissions. */
  readonly stats = { sent: 0, retransmissions: 0, offers: 0, acks: 0, naks: 0, restarts: 0 };
  private xid = 0;
  private deadline: Instant = Infinity;
  private tries = 0;
  private started: Instant = 0;
  private offer: DhcpMessage | null = null;
  private requestSentAt: Instant = 0;
  private stopped = true;

  constructor(private readonly o: DhcpClientMachineOptions, private readonly t: DhcpClientTransport) {}

  nextDeadline(): Instant { return this.stopped ? Infinity : this.deadline; }

  start(now: Instant): void {
    this.stopped = false;
    if (this.o.previousAddr !== undefined) { this.go('INIT-REBOOT', 'start with a remembered address'); this.reboot(now); return; }
    this.go('INIT', 'start');
    this.deadline = this.o.startDelay === false ? now : now + Math.floor((1 + 9 * this.o.random()) * S);
  }

  /** Give the lease back (DHCPRELEASE, §4.4.6) and stop. */
  release(now: Instant): void {
    if (this.lease !== null && (this.state === 'BOUND' || this.state === 'RENEWING' || this.state === 'REBINDING')) {
      this.xid = this.newXid();
      this.send(DHCPRELEASE, this.lease.serverId, this.lease.addr, now, { ciaddr: this.lease.addr, serverId: this.lease.serverId });
      this.lease = null;
      this.t.configure(null);
    }
    this.stopped = true;
    this.deadline = Infinity;
  }

  poll(now: Instant): void {
    if (this.stopped || now < this.deadline) return;
    switch (this.state) {
      case 'INIT': this.discover(now); return;
      case 'SELECTING': this.retransmit(now, () => this.sendDiscover(now)); return;
      case 'REQUESTING':
      case 'REBOOTING':
        if (this.tries >= 4) { this.restart(now, 'no ACK after 4 retransmissions'); return; }
        this.retransmit(now, () => this.sendRequest(now));
        return;
      case 'INIT-REBOOT': this.reboot(now); return;
      case 'BOUND': this.go('RENEWING', 'T1 expired'); this.renew(now); return;
      case 'RENEWING':
        if (now >= this.lease!.t2) { this.go('REBINDING', 'T2 expired'); this.renew(now); return; }
        this.stats.retransmissions++; this.renew(now); return;
      case 'REBINDING':
        if (now >= this.lease!.expires) { this.t.configure(null); this.lease = null; this.restart(now, 'lease expired', true); return; }
        this.stats.retransmissions++; this.renew(now); return;
    }
  }

  receive(bytes: Uint8Array, now: Instant): void {
    if (this.stopped) return;
    const r = parseDhcp(bytes);
    if (!r.ok) return;
    const m = r.value;
    if (m.op !== BOOTREPLY || m.xid !== this.xid || !this.ours(m)) return;
    const type = messageType(m);
    this.t.message?.('in', dhcpTypeName(type), m.xid, dhcpTypeName(type) + (m.yiaddr ? ' ' + fmt(m.yiaddr) : ''));
    if (type === DHCPOFFER && this.state === 'SELECTING') {
      // The first acceptable offer wins (§4.4.1 lets the client choose; udhcpc does the same).
      if (m.yiaddr === 0 || optU32(m, OPT_SERVER_ID) === undefined) return;
      this.stats.offers++;
      this.offer = m;
      this.go('REQUESTING', `OFFER of ${fmt(m.yiaddr)}`);
      this.tries = 0;
      this.sendRequest(now);
      this.arm(now, this.backoff());
      return;
    }
    if (type === DHCPACK && (this.state === 'REQUESTING' || this.state === 'REBOOTING' || this.state === 'RENEWING' || this.state === 'REBINDING')) {
      if (m.yiaddr === 0) return;
      this.stats.acks++;
      this.bind(m, now);
      return;
    }
    if (type === DHCPNAK && (this.state === 'REQUESTING' || this.state === 'REBOOTING' || this.state === 'RENEWING' || this.state === 'REBINDING')) {
      this.stats.naks++;
      if (this.lease !== null) { this.lease = null; this.t.configure(null); }
      this.restart(now, 'NAK');
    }
  }

  // ---------------------------------------------------------------- steps

  private ours(m: DhcpMessage): boolean {
    const mac = this.o.mac;
    for (let i = 0; i < mac.length; i++) if (m.chaddr[i] !== mac[i]) return false;
    return true;
  }

  private newXid(): number { return Math.floor(this.o.random() * 0x100000000) >>> 0; }

  private go(to: DhcpClientState, why: string): void {
    const from = this.state;
    this.state = to;
    if (from !== to || why === 'start') this.t.state?.(from, to, why);
  }

  private arm(now: Instant, d: number): void { this.deadline = now + d; }

  /** §4.1: 4 s, 8 s, … 64 s, each ±1 s (uniform). */
  private backoff(): number {
    const base = Math.min(64, 4 * 2 ** this.tries);
    return Math.floor((base - 1 + 2 * this.o.random()) * S);
  }

  private retransmit(now: Instant, send: () => void): void {
    this.tries++;
    this.stats.retransmissions++;
    send();
    this.arm(now, this.backoff());
  }

  private restart(now: Instant, why: string, immediately = false): void {
    this.stats.restarts++;
    this.offer = null;
    this.go('INIT', why);
    // After a NAK RFC 2131 §3.1 step 5 says restart; wait a little (10 s, like dhclient's) to avoid a storm.
    this.deadline = immediately ? now : now + 10 * S;
  }

  private discover(now: Instant): void {
    this.xid = this.newXid();
    this.started = now;
    this.tries = 0;
    this.go('SELECTING', 'send DISCOVER');
    this.sendDiscover(now);
    this.arm(now, this.backoff());
  }

  private reboot(now: Instant): void {
    this.xid = this.newXid();
    this.started = now;
    this.tries = 0;
    this.go('REBOOTING', 'send REQUEST for the remembered address');
    this.sendRequest(now);
    this.arm(now, this.backoff());
  }

  /** RENEWING: unicast to the server; REBINDING: broadcast. Retransmit after half the time left, ≥ 60 s (§4.4.5). */
  private renew(now: Instant): void {
    const l = this.lease!;
    if (this.state === 'RENEWING' && this.xid === 0) this.xid = this.newXid();
    this.requestSentAt = now;
    const rebinding = this.state === 'REBINDING';
    this.send(DHCPREQUEST, rebinding ? 0xffffffff : l.serverId, l.addr, now, { ciaddr: l.addr });
    const until = rebinding ? l.expires : l.t2;
    this.deadline = Math.min(until, now + Math.max(60 * S, Math.floor((until - now) / 2)));
  }

  private sendDiscover(now: Instant): void {
    this.send(DHCPDISCOVER, 0xffffffff, 0, now, { requested: this.lease?.addr ?? this.o.previousAddr });
  }

  private sendRequest(now: Instant): void {
    this.requestSentAt = now;
    if (this.state === 'REBOOTING') this.send(DHCPREQUEST, 0xffffffff, 0, now, { requested: this.o.previousAddr });
    else {
      const o = this.offer!;
      this.send(DHCPREQUEST, 0xffffffff, 0, now, { requested: o.yiaddr, serverId: optU32(o, OPT_SERVER_ID) });
    }
  }

  private send(type: number, dst: number, src: number, now: Instant, f: { requested?: number; serverId?: number; ciaddr?: number }): void {
    const opts: Array<[number, Uint8Array]> = [[OPT_MESSAGE_TYPE, new Uint8Array([type])]];
    const cid = new Uint8Array(1 + this.o.mac.length); cid[0] = 1; cid.set(this.o.mac, 1);
    opts.push([OPT_CLIENT_ID, cid]);
    if (f.requested !== undefined) opts.push([OPT_REQUESTED_IP, u32Bytes(f.requested)]);
    if (f.serverId !== undefined) opts.push([OPT_SERVER_ID, u32Bytes(f.serverId)]);
    if (type !== DHCPRELEASE) {
      opts.push([OPT_MAX_SIZE, new Uint8Array([0x02, 0x40])]); // 576
      opts.push([OPT_PARAM_LIST, PARAMS]);
      if (this.o.hostname !== undefined) opts.push([OPT_HOSTNAME, strBytes(this.o.hostname)]);
    }
    const bytes = emitDhcp({
      op: BOOTREQUEST, xid: this.xid, secs: Math.min(0xffff, Math.floor((now - this.started) / S)),
      // Without an address we cannot take unicast replies before configuring: ask for broadcast (§4.1).
      flags: f.ciaddr === undefined ? FLAG_BROADCAST : 0, ciaddr: f.ciaddr ?? 0, chaddr: this.o.mac, options: opts,
    });
    this.stats.sent++;
    this.t.message?.('out', dhcpTypeName(type), this.xid, dhcpTypeName(type) + (f.requested ? ' ' + fmt(f.requested) : f.ciaddr ? ' ' + fmt(f.ciaddr) : ''));
    this.t.send(bytes, dst, src);
  }

  private bind(m: DhcpMessage, now: Instant): void {
    const leaseTime = optU32(m, OPT_LEASE_TIME) ?? 3600;
    const t0 = this.requestSentAt;
    const t1s = optU32(m, OPT_T1) ?? Math.floor(leaseTime * 0.5);
    const t2s = optU32(m, OPT_T2) ?? Math.floor(leaseTime * 0.875);
    const mask = optU32(m, OPT_SUBNET_MASK);
    const lease: DhcpLease = {
      addr: m.yiaddr, prefixLen: mask === undefined ? 24 : prefixOf(mask), serverId: optU32(m, OPT_SERVER_ID) ?? this.lease?.serverId ?? 0,
      routers: optAddrs(m, OPT_ROUTER) ?? [], dns: optAddrs(m, OPT_DNS) ?? [], leaseTime,
      t1: t0 + t1s * S, t2: t0 + t2s * S, expires: t0 + leaseTime * S, obtained: t0,
    };
    const domain = optString(m, OPT_DOMAIN);
    if (domain !== undefined) lease.domain = domain;
    const mtu = optU16(m, OPT_MTU);
    if (mtu !== undefined) lease.mtu = mtu;
    const renewed = this.lease !== null && this.lease.addr === lease.addr;
    this.lease = lease;
    this.offer = null;
    this.tries = 0;
    this.xid = 0;
    this.go('BOUND', renewed ? `ACK: lease of ${fmt(lease.addr)} extended` : `ACK: ${fmt(lease.addr)} for ${leaseTime}s`);
    this.t.configure(lease);
    this.deadline = lease.t1;
    void now;
  }
}

function fmt(a: number): string { return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`; }
