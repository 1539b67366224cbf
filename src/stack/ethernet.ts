// An Ethernet interface of a Stack: Ethernet II frames in and out, ARP (RFC 826) with a
// neighbour cache in Linux's manner (src/arp/neighbour.ts), and the IPv4 packets of the stack
// on top. The stack hands it IPv4 datagrams with their next hop; it hands the stack the IPv4
// datagrams of frames addressed to this MAC or to the broadcast address.
import type { Instant } from '../time/instant.js';
import type { LinkEnd } from '../link/types.js';
import {
  EthernetView, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER, ETH_ZLEN, BROADCAST_MAC, ZERO_MAC, emitEthernetHeader,
  isGroupMac, formatMac, type Mac,
} from '../wire/ethernet.js';
import { parseArp, emitArp, ARP_LENGTH, ARPOP_REPLY, ARPOP_REQUEST } from '../wire/arp.js';
import { isBroadcastOrMulticast } from '../wire/ipv4addr.js';
import { NeighbourCache, type NeighbourParams, type Neighbour, type NudState, type NeighbourRow } from '../arp/neighbour.js';

/** What the interface needs from its stack. */
export interface EthernetStackHooks {
  now(): Instant;
  /** An IPv4 datagram arrived (the frame was for us). `broadcast`: sent to a group MAC address. */
  ipInput(packet: Uint8Array, nif: EthernetInterface, linkBroadcast: boolean): void;
  /** Is `addr` one of the stack's own (unicast) addresses? ARP answers for these (Linux arp_ignore = 0). */
  isLocal(addr: number): boolean;
  /** Resolution of `target` failed: `packets` (IPv4 datagrams) were waiting for it. */
  unreachable(nif: EthernetInterface, target: number, packets: Uint8Array[]): void;
  wake(): void;
  random(): number;
  drop(reason: string): void;
  trace: ((ev: EthernetTraceEvent) => void) | null;
}

/** Trace of ARP packets and neighbour state changes (the stack turns them into TraceEvents). */
export type EthernetTraceEvent =
  | { kind: 'arp'; dir: 'in' | 'out'; op: 'request' | 'reply'; sha: string; spa: number; tha: string; tpa: number; dst: string }
  | { kind: 'neigh'; addr: number; mac: string | null; from: NudState | 'NONE'; to: NudState | 'NONE'; cause: string };

/** Per-interface counters (like `ip -s link` plus Linux's ARP statistics). */
export interface EthernetCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Malformed frames (too short, 802.3 length field, too many tags). */
  rxErrors: number;
  /** VLAN-tagged frames: we are not a VLAN member, they are counted and dropped (Linux rx_dropped). */
  rxVlan: number;
  /** Unicast frames for another MAC (PACKET_OTHERHOST). */
  rxOtherHost: number;
  /** Group-addressed (broadcast/multicast) frames received. */
  rxMulticast: number;
  /** EtherTypes we do not speak (IPv6, LLDP…). */
  rxUnknownType: number;
  arpInRequests: number;
  arpInReplies: number;
  arpOutRequests: number;
  arpOutReplies: number;
  /** ARP packets dropped: malformed, unsupported, bogus addresses. */
  arpInErrors: number;
}

export interface EthernetInterfaceConfig {
  name: string;
  mac: Mac;
  link: LinkEnd;
  addr: number;
  prefixLen: number;
  mtu: number;
  neighbour?: Partial<NeighbourParams>;
}

export class EthernetInterface {
  readonly kind = 'ethernet' as const;
  readonly name: string;
  readonly mac: Mac;
  readonly link: LinkEnd;
  addr: number;
  prefixLen: number;
  readonly mtu: number;
  readonly neighbours: NeighbourCache;
  /** Proxy ARP: also answer ARP requests for the addresses this returns true for (null: only our own). */
  proxyArp: ((addr: number) => boolean) | null = null;
  readonly eth: EthernetCounters = {
    rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, rxErrors: 0, rxVlan: 0, rxOtherHost: 0, rxMulticast: 0, rxUnknownType: 0,
    arpInRequests: 0, arpInReplies: 0, arpOutRequests: 0, arpOutReplies: 0, arpInErrors: 0,
  };
  private readonly view = new EthernetView();

  constructor(private readonly hooks: EthernetStackHooks, cfg: EthernetInterfaceConfig) {
    if (cfg.mac.length !== 6 || isGroupMac(cfg.mac)) throw new RangeError(`interface MAC ${formatMac(cfg.mac)} must be a 6-byte unicast address`);
    this.name = cfg.name;
    this.mac = cfg.mac.slice();
    this.link = cfg.link;
    this.addr = cfg.addr >>> 0;
    this.prefixLen = cfg.prefixLen;
    this.mtu = cfg.mtu;
    this.neighbours = new NeighbourCache({
      solicit: (target, to, now) => this.sendArp(ARPOP_REQUEST, to ?? BROADCAST_MAC, to ?? ZERO_MAC, target, now),
      deliver: (packet, mac) => this.sendFrame(mac, ETHERTYPE_IPV4, packet),
      unreachable: (target, packets) => this.hooks.unreachable(this, target, packets),
      wake: () => this.hooks.wake(),
      random: () => this.hooks.random(),
      changed: (n: Neighbour, from, to, cause) => {
        const tr = this.hooks.trace;
        if (tr !== null) tr({ kind: 'neigh', addr: n.addr, mac: n.mac === null ? null : formatMac(n.mac), from, to, cause });
      },
    }, cfg.neighbour);
  }

  /** The `ip neigh`-like rows of this interface. */
  neighbourTable(): Array<NeighbourRow & { dev: string }> {
    return this.neighbours.entries(this.hooks.now()).map((r) => ({ ...r, dev: this.name }));
  }

  // ------------------------------------------------------------------ output

  /**
   * Send an IPv4 datagram towards `nextHop`: to the broadcast MAC for a broadcast or multicast
   * destination (RFC 1112 §6.4 maps multicast to 01:00:5e:…; we have no groups, so only the
   * limited and subnet broadcast matter here), else through the neighbour cache.
   */
  output(packet: Uint8Array, nextHop: number): void {
    const dst = nextHop >>> 0;
    if (dst === 0xffffffff || (this.addr !== 0 && isBroadcastOrMulticast(dst, [this]))) {
      this.sendFrame(BROADCAST_MAC, ETHERTYPE_IPV4, packet);
      return;
    }
    if (!this.neighbours.output(dst, packet, this.hooks.now())) this.hooks.drop('arp: neighbour table full');
  }

  /** Frame and send a payload (padded to the 60-byte minimum). */
  sendFrame(dst: Mac, etherType: number, payload: Uint8Array): void {
    const len = Math.max(ETH_ZLEN, ETH_HEADER + payload.length);
    const f = new Uint8Array(len);
    emitEthernetHeader({ dst, src: this.mac, etherType }, f, 0);
    f.set(payload, ETH_HEADER);
    this.eth.txFrames++;
    this.eth.txBytes += len;
    this.link.send(f);
  }

  private sendArp(op: 1 | 2, dstMac: Mac, tha: Mac, tpa: number, now: Instant, spa = this.addr): void {
    const p = new Uint8Array(ARP_LENGTH);
    emitArp({ op, sha: this.mac, spa, tha, tpa }, p, 0);
    if (op === ARPOP_REQUEST) this.eth.arpOutRequests++; else this.eth.arpOutReplies++;
    const tr = this.hooks.trace;
    if (tr !== null) tr({ kind: 'arp', dir: 'out', op: op === ARPOP_REQUEST ? 'request' : 'reply', sha: formatMac(this.mac), spa, tha: formatMac(tha), tpa, dst: formatMac(dstMac) });
    void now;
    this.sendFrame(dstMac, ETHERTYPE_ARP, p);
  }

  /**
   * Gratuitous ARP (an ARP announcement, RFC 5227 §3): a broadcast request with sender and
   * target address both ours, so neighbours holding an entry for it update their caches.
   */
  announce(): void {
    if (this.addr === 0) return;
    this.sendArp(ARPOP_REQUEST, BROADCAST_MAC, ZERO_MAC, this.addr, this.hooks.now());
  }

  // ------------------------------------------------------------------ input

  /** A frame arrived from the link. Malformed or foreign frames are counted and dropped. */
  onFrame(frame: Uint8Array): void {
    const e = this.eth;
    e.rxFrames++;
    e.rxBytes += frame.length;
    const v = this.view;
    const err = v.reset(frame);
    if (err !== null) { e.rxErrors++; this.hooks.drop('eth: ' + err.kind); return; }
    if (v.tags > 0) { e.rxVlan++; this.hooks.drop('eth: vlan tagged'); return; }
    const group = v.dstIsGroup;
    if (group) e.rxMulticast++;
    else if (!v.dstIs(this.mac)) { e.rxOtherHost++; this.hooks.drop('eth: other host'); return; }
    // Our own frames looped back by a hub or a bridge in hairpin mode.
    if (v.srcIs(this.mac)) { this.hooks.drop('eth: own source'); return; }
    if (v.etherType === ETHERTYPE_IPV4) { this.hooks.ipInput(v.payload(), this, group); return; }
    if (v.etherType === ETHERTYPE_ARP) { this.arpInput(v.payload(), group); return; }
    e.rxUnknownType++;
    this.hooks.drop('eth: unknown ethertype');
  }

  /** RFC 826 "Packet Reception", with Linux's arp_process choices. */
  private arpInput(payload: Uint8Array, linkBroadcast: boolean): void {
    const e = this.eth;
    const r = parseArp(payload);
    if (!r.ok) { e.arpInErrors++; this.hooks.drop('arp: ' + r.error.kind); return; }
    const a = r.value;
    const now = this.hooks.now();
    if (a.op === ARPOP_REQUEST) e.arpInRequests++; else e.arpInReplies++;
    const tr = this.hooks.trace;
    if (tr !== null) tr({ kind: 'arp', dir: 'in', op: a.op === ARPOP_REQUEST ? 'request' : 'reply', sha: formatMac(a.sha), spa: a.spa, tha: formatMac(a.tha), tpa: a.tpa, dst: linkBroadcast ? 'ff:ff:ff:ff:ff:ff' : formatMac(this.mac) });
    // Linux arp_process: a sender hardware address that is a group address, and requests
    // for loopback or multicast targets, are bogus.
    if (isGroupMac(a.sha) || (a.tpa >>> 24) === 127 || (a.tpa >>> 28) === 0xe) { e.arpInErrors++; this.hooks.drop('arp: bogus address'); return; }
    const spa = a.spa;
    if (spa !== 0 && ((spa >>> 24) === 127 || isBroadcastOrMulticast(spa, this.addr !== 0 ? [this] : []))) { e.arpInErrors++; this.hooks.drop('arp: bogus sender'); return; }
    // Proxy ARP (Linux proxy_arp; the gateway answers for its host aliases, src/gateway):
    // never for probes (spa 0) or announcements (spa == tpa) — a guest checking its own address
    // must not see a conflict.
    const own = this.addr !== 0 && this.hooks.isLocal(a.tpa);
    const forUs = own || (this.addr !== 0 && spa !== 0 && spa !== a.tpa && this.proxyArp !== null && this.proxyArp(a.tpa));
    if (spa === 0) {
      // An ARP probe (RFC 5227 §2.1.1): someone checks whether tpa is taken. Answer when it
      // is ours; learn nothing (Linux does the same).
      if (a.op === ARPOP_REQUEST && own) this.sendArp(ARPOP_REPLY, a.sha, a.sha, 0, now, a.tpa);
      return;
    }
    if (spa === this.addr && this.addr !== 0) {
      // Someone else claims our address (RFC 5227 §2.4 conflict): note it, keep ours.
      this.hooks.drop('arp: address conflict');
      return;
    }
    // RFC 826: "If the pair <protocol type, sender protocol address> is already in my
    // translation table, update the sender hardware address field of the entry". A gratuitous
    // ARP (spa == tpa) updates an entry at once, even within locktime.
    const garp = spa === a.tpa;
    if (a.op === ARPOP_REQUEST && forUs) {
      // "If I am the target: add the triplet if not there" (Linux neigh_event_ns: STALE), then reply.
      this.neighbours.update(spa, a.sha, 'STALE', now, { create: true, cause: 'request from it' });
      this.sendArp(ARPOP_REPLY, a.sha, a.sha, spa, now, a.tpa);
      return;
    }
    // A reply to us unicast confirms reachability; a request or a broadcast reply only
    // refreshes (STALE). No entry is created (Linux arp_accept = 0).
    const state = a.op === ARPOP_REPLY && !linkBroadcast ? 'REACHABLE' : 'STALE';
    this.neighbours.update(spa, a.sha, state, now, { create: false, cause: a.op === ARPOP_REPLY ? 'reply' : garp ? 'gratuitous ARP' : 'request seen', garp });
  }
}
