// The neighbour cache of one Ethernet interface: IPv4 address → MAC address, with the states,
// timers and retry counts of Linux's neighbour layer (net/core/neighbour.c, net/ipv4/arp.c),
// sans-I/O: the interface feeds it ARP news and packets to send, and polls it at its deadline.
//
// States (Linux NUD_*), and what moves an entry between them:
//   INCOMPLETE  a packet wants the address: broadcast requests, mcast_solicit (3) of them,
//               retrans_time (1 s) apart; packets wait in a bounded queue (unres_qlen).
//               A reply → REACHABLE (queue sent); no reply → FAILED (queue dropped,
//               "host unreachable" for its senders).
//   REACHABLE   confirmed less than reachable_time ago (a random value in
//               [base_reachable_time/2, 3·base_reachable_time/2], 15..45 s, re-drawn every 300 s).
//               Then → STALE (or → DELAY when it was used in the last delay_first_probe_time).
//   STALE       the address is still used, unconfirmed. Sending through it → DELAY.
//   DELAY       wait delay_first_probe_time (5 s) for a confirmation (a reply, or a request from
//               the neighbour); none → PROBE.
//   PROBE       unicast requests to the known address, ucast_solicit (3) of them, retrans_time
//               apart (then mcast_resolicit (0) broadcast ones); a reply → REACHABLE, else FAILED.
//   FAILED      resolution failed; the next packet for it starts over at INCOMPLETE.
//   PERMANENT   a static entry (`arp -s`): never times out, never replaced by ARP.
// Garbage collection (neigh_periodic_work): only when the table holds at least gc_thresh1
// (128) entries, every base_reachable_time/2, entries FAILED or unused for gc_stale_time
// (60 s) are removed — so, as on Linux, a small table keeps its STALE entries. At gc_thresh3
// (1024) entries a new one first forces a collection, and fails when nothing can go.
import type { Instant, Duration } from '../time/instant.js';
import { TimerQueue } from '../time/timerqueue.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { formatMac, macEquals, type Mac } from '../wire/ethernet.js';

export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'PERMANENT';

/** The per-interface ARP parameters, named like /proc/sys/net/ipv4/neigh/DEV/*; times in µs. Defaults are Linux's. */
export interface NeighbourParams {
  base_reachable_time: Duration;
  retrans_time: Duration;
  delay_first_probe_time: Duration;
  gc_stale_time: Duration;
  /** Broadcast requests while INCOMPLETE. */
  mcast_solicit: number;
  /** Unicast requests while PROBE. */
  ucast_solicit: number;
  /** Broadcast requests after the unicast ones while PROBE. */
  mcast_resolicit: number;
  /** Packets queued per unresolved neighbour; the oldest is dropped beyond it. */
  unres_qlen: number;
  /** …and bytes (Linux counts skb truesize; we count packet bytes). */
  unres_qlen_bytes: number;
  /** A second, different answer within locktime of the last update is ignored (the first answer wins). */
  locktime: Duration;
  gc_thresh1: number;
  gc_thresh3: number;
}

export const DEFAULT_NEIGHBOUR_PARAMS: NeighbourParams = {
  base_reachable_time: 30_000_000,
  retrans_time: 1_000_000,
  delay_first_probe_time: 5_000_000,
  gc_stale_time: 60_000_000,
  mcast_solicit: 3,
  ucast_solicit: 3,
  mcast_resolicit: 0,
  unres_qlen: 101,
  unres_qlen_bytes: 212_992,
  locktime: 1_000_000,
  gc_thresh1: 128,
  gc_thresh3: 1024,
};

/** Linux re-draws reachable_time this often (neigh_periodic_work). */
const REACHABLE_REDRAW = 300_000_000;

export interface Neighbour {
  readonly addr: number;
  mac: Mac | null;
  state: NudState;
  /** Last time reachability was confirmed. */
  confirmed: Instant;
  /** Last state or address change. */
  updated: Instant;
  /** Last time a packet was sent through it. */
  used: Instant;
  /** Requests sent in this round (Linux counts from ucast_solicit in INCOMPLETE, from 0 in PROBE). */
  probes: number;
  /** When the state timer fires (Infinity: none). */
  timer: Instant;
  scheduledAt: Instant;
  queue: Uint8Array[];
  queueBytes: number;
}

export interface NeighbourHost {
  /** Send an ARP request for `target`: unicast to `to` (a PROBE) or broadcast (null). */
  solicit(target: number, to: Mac | null, now: Instant): void;
  /** Send a packet to a resolved neighbour. */
  deliver(packet: Uint8Array, mac: Mac, now: Instant): void;
  /** Resolution failed: packets queued for `target`, now dropped (the host reports "host unreachable"). */
  unreachable(target: number, packets: Uint8Array[], now: Instant): void;
  /** A deadline earlier than before was set (a realtime driver re-arms its timer). */
  wake(): void;
  /** Uniform in [0, 1): seeded in simulation. */
  random(): number;
  /** A state change, for traces ('NONE': no entry, before creation or after removal). */
  changed?(n: Neighbour, from: NudState | 'NONE', to: NudState | 'NONE', cause: string, now: Instant): void;
}

export interface NeighbourCounters {
  /** Lookups that found no usable entry and started a resolution. */
  resolutions: number;
  /** Requests sent (broadcast and unicast). */
  requests: number;
  /** Resolutions that ended FAILED. */
  failed: number;
  /** Packets dropped because the unresolved queue was full (Linux unres_discards). */
  unresDiscards: number;
  /** Packets dropped with a FAILED resolution. */
  unreachableDrops: number;
  /** Entries removed by garbage collection. */
  gcRemoved: number;
  /** Entries refused because the table was full (gc_thresh3). */
  tableFull: number;
  /** Answers ignored within locktime. */
  lockedOut: number;
}

/** A row of the `arp -n` / `ip neigh`-like listing. */
export interface NeighbourRow {
  addr: string;
  mac: string | null;
  state: NudState;
  /** µs since the last confirmation / use / update (ip -s neigh: "used a/b/c"). */
  confirmedAgo: Duration;
  usedAgo: Duration;
  updatedAgo: Duration;
  probes: number;
  queued: number;
}

export class NeighbourCache {
  readonly params: NeighbourParams;
  readonly counters: NeighbourCounters = { resolutions: 0, requests: 0, failed: 0, unresDiscards: 0, unreachableDrops: 0, gcRemoved: 0, tableFull: 0, lockedOut: 0 };
  private readonly table = new Map<number, Neighbour>();
  private readonly timers = new TimerQueue<Neighbour>();
  private reachableTime = 0;
  private lastRand = -Infinity;
  private gcAt: Instant = Infinity;

  constructor(private readonly host: NeighbourHost, params: Partial<NeighbourParams> = {}) {
    this.params = { ...DEFAULT_NEIGHBOUR_PARAMS, ...params };
  }

  get size(): number { return this.table.size; }

  get(addr: number): Neighbour | undefined { return this.table.get(addr >>> 0); }

  /** The current reachable_time (Linux neigh_rand_reach_time: base/2 + random(base)). */
  reachableTimeAt(now: Instant): Duration {
    if (now - this.lastRand >= REACHABLE_REDRAW || this.reachableTime === 0) {
      const base = this.params.base_reachable_time;
      this.reachableTime = Math.floor(base / 2 + this.host.random() * base);
      this.lastRand = now;
    }
    return this.reachableTime;
  }

  // ------------------------------------------------------------------ output

  /**
   * Send `packet` to the neighbour `addr` (Linux neigh_resolve_output / __neigh_event_send):
   * at once when its address is known (STALE → DELAY on the way), else queued while it is
   * resolved. Returns false when the packet was dropped (table full, resolution impossible).
   */
  output(addr: number, packet: Uint8Array, now: Instant): boolean {
    addr >>>= 0;
    let n = this.table.get(addr);
    if (n === undefined) {
      const created = this.create(addr, now);
      if (created === null) return false;
      n = created;
    }
    n.used = now;
    switch (n.state) {
      case 'REACHABLE': case 'DELAY': case 'PROBE': case 'PERMANENT':
        this.host.deliver(packet, n.mac!, now);
        return true;
      case 'STALE':
        this.setState(n, 'DELAY', now, 'stale entry used');
        this.arm(n, now + this.params.delay_first_probe_time);
        this.host.deliver(packet, n.mac!, now);
        return true;
      case 'FAILED':
        // Linux: an entry in NONE or FAILED starts a new resolution when packets come.
        this.startResolution(n, now, 'resolution restarted');
        this.enqueue(n, packet);
        this.probe(n, now);
        return true;
      case 'INCOMPLETE':
        this.enqueue(n, packet);
        return true;
    }
  }

  private create(addr: number, now: Instant): Neighbour | null {
    if (this.table.size >= this.params.gc_thresh3) {
      this.forcedGc(now);
      if (this.table.size >= this.params.gc_thresh3) { this.counters.tableFull++; return null; }
    }
    const n: Neighbour = {
      addr, mac: null, state: 'FAILED', confirmed: now - 2 * this.params.base_reachable_time, updated: now, used: now,
      probes: 0, timer: Infinity, scheduledAt: Infinity, queue: [], queueBytes: 0,
    };
    this.table.set(addr, n);
    this.startResolution(n, now, 'packet to send', 'NONE');
    this.probe(n, now);
    this.armGc(now);
    return n;
  }

  private startResolution(n: Neighbour, now: Instant, cause: string, from?: 'NONE'): void {
    this.counters.resolutions++;
    // Linux starts the count at ucast_solicit so that only the mcast_solicit probes remain.
    n.probes = this.params.ucast_solicit;
    this.setState(n, 'INCOMPLETE', now, cause, from);
    this.arm(n, now + this.params.retrans_time);
  }

  private enqueue(n: Neighbour, packet: Uint8Array): void {
    const p = this.params;
    while (n.queue.length > 0 && (n.queue.length >= p.unres_qlen || n.queueBytes + packet.length > p.unres_qlen_bytes)) {
      n.queueBytes -= n.queue.shift()!.length;
      this.counters.unresDiscards++;
    }
    if (p.unres_qlen <= 0 || packet.length > p.unres_qlen_bytes) { this.counters.unresDiscards++; return; }
    n.queue.push(packet);
    n.queueBytes += packet.length;
  }

  /** Linux neigh_probe + arp_solicit: unicast while probes < ucast_solicit and the address is known, else broadcast. */
  private probe(n: Neighbour, now: Instant): void {
    const unicast = n.probes < this.params.ucast_solicit && n.mac !== null ? n.mac : null;
    n.probes++;
    this.counters.requests++;
    this.host.solicit(n.addr, unicast, now);
  }

  private maxProbes(n: Neighbour): number {
    const p = this.params;
    return p.ucast_solicit + (n.state === 'PROBE' ? p.mcast_resolicit : p.mcast_solicit);
  }

  // ------------------------------------------------------------------ input

  /**
   * ARP news about `addr` (Linux neigh_update). `state` is REACHABLE for a unicast reply to us,
   * STALE for a request or a broadcast reply. `override` lets a different address replace a
   * valid one (false within locktime of the last update: the first answer wins). `create`
   * makes an entry when there is none (a request addressed to us does; an unsolicited reply
   * does not, as with Linux's arp_accept = 0).
   */
  update(addr: number, mac: Mac, state: 'REACHABLE' | 'STALE', now: Instant, opts: { create: boolean; cause: string; garp?: boolean }): Neighbour | null {
    addr >>>= 0;
    let n = this.table.get(addr);
    if (n === undefined) {
      if (!opts.create) return null;
      if (this.table.size >= this.params.gc_thresh3) {
        this.forcedGc(now);
        if (this.table.size >= this.params.gc_thresh3) { this.counters.tableFull++; return null; }
      }
      n = { addr, mac: null, state: 'FAILED', confirmed: now - 2 * this.params.base_reachable_time, updated: now, used: now, probes: 0, timer: Infinity, scheduledAt: Infinity, queue: [], queueBytes: 0 };
      this.table.set(addr, n);
      this.armGc(now);
      this.applyUpdate(n, mac, state, now, true, opts.cause, 'NONE');
      return n;
    }
    if (n.state === 'PERMANENT') return n;
    const override = opts.garp === true || now - n.updated >= this.params.locktime || n.mac === null || macEquals(n.mac, 0, mac);
    this.applyUpdate(n, mac, state, now, override, opts.cause);
    return n;
  }

  private applyUpdate(n: Neighbour, mac: Mac, state: 'REACHABLE' | 'STALE', now: Instant, override: boolean, cause: string, from?: 'NONE'): void {
    const old = n.state;
    const valid = n.mac !== null && old !== 'INCOMPLETE' && old !== 'FAILED';
    let newState: NudState = state;
    const same = n.mac !== null && macEquals(n.mac, 0, mac);
    if (valid && !same && !override) { this.counters.lockedOut++; return; }
    // A STALE update with the address we already have does not demote a better state.
    if (valid && same && newState === 'STALE') newState = old;
    if (!same) {
      n.mac = mac.slice();
      n.updated = now;
      if (newState !== 'REACHABLE') n.confirmed = now - 2 * this.params.base_reachable_time;
    }
    if (newState === 'REACHABLE') n.confirmed = now;
    if (newState !== old || from === 'NONE') {
      n.updated = now;
      this.setState(n, newState, now, cause, from);
      if (newState === 'REACHABLE') this.arm(n, now + this.reachableTimeAt(now));
      else this.disarm(n);
    } else if (newState === 'REACHABLE') {
      this.arm(n, n.confirmed + this.reachableTimeAt(now));
    }
    if (old === 'INCOMPLETE' || old === 'FAILED' || from === 'NONE') this.flush(n, now);
  }

  /** Send what waited for the address. */
  private flush(n: Neighbour, now: Instant): void {
    const q = n.queue;
    if (q.length === 0 || n.mac === null) return;
    n.queue = [];
    n.queueBytes = 0;
    for (const p of q) this.host.deliver(p, n.mac, now);
  }

  /**
   * Reachability confirmed by an upper layer (Linux neigh_confirm): only the timestamp moves;
   * the REACHABLE and DELAY timers look at it when they fire.
   */
  confirm(addr: number, now: Instant): void {
    const n = this.table.get(addr >>> 0);
    if (n === undefined || n.mac === null || n.state === 'INCOMPLETE' || n.state === 'FAILED') return;
    n.confirmed = now;
  }

  /** A static entry, like `arp -s ADDR MAC` (PERMANENT). */
  addStatic(addr: number, mac: Mac, now: Instant): void {
    addr >>>= 0;
    let n = this.table.get(addr);
    if (n === undefined) {
      n = { addr, mac: null, state: 'FAILED', confirmed: now, updated: now, used: now, probes: 0, timer: Infinity, scheduledAt: Infinity, queue: [], queueBytes: 0 };
      this.table.set(addr, n);
    }
    const from = n.state;
    n.mac = mac.slice();
    n.confirmed = now;
    n.updated = now;
    this.disarm(n);
    this.setState(n, 'PERMANENT', now, 'static entry', from === 'FAILED' && n.queue.length === 0 ? 'NONE' : undefined);
    this.flush(n, now);
  }

  /** Forget an entry (`arp -d`); queued packets are dropped. */
  delete(addr: number): boolean {
    const n = this.table.get(addr >>> 0);
    if (n === undefined) return false;
    this.disarm(n);
    this.table.delete(n.addr);
    return true;
  }

  // ------------------------------------------------------------------ timers

  nextDeadline(): Instant {
    const d = this.timers.nextDeadline();
    return d < this.gcAt ? d : this.gcAt;
  }

  poll(now: Instant): void {
    this.timers.popExpired(now, (n, at) => {
      if (n.scheduledAt !== at) return;
      n.scheduledAt = Infinity;
      if (this.table.get(n.addr) !== n) return;
      if (n.timer <= now) this.onTimer(n, now);
      else this.arm(n, n.timer);
    });
    if (this.gcAt <= now) {
      this.gcAt = Infinity;
      this.periodicGc(now);
    }
  }

  private arm(n: Neighbour, at: Instant): void {
    n.timer = at;
    if (at < n.scheduledAt) {
      n.scheduledAt = at;
      this.timers.schedule(at, n);
      this.host.wake();
    }
  }

  private disarm(n: Neighbour): void { n.timer = Infinity; }

  /** Linux neigh_timer_handler. */
  private onTimer(n: Neighbour, now: Instant): void {
    n.timer = Infinity;
    const p = this.params;
    switch (n.state) {
      case 'REACHABLE': {
        const rt = this.reachableTimeAt(now);
        if (now < n.confirmed + rt) { this.arm(n, n.confirmed + rt); return; }
        if (now <= n.used + p.delay_first_probe_time) {
          n.updated = now;
          this.setState(n, 'DELAY', now, 'reachable_time expired, recently used');
          this.arm(n, now + p.delay_first_probe_time);
        } else {
          n.updated = now;
          this.setState(n, 'STALE', now, 'reachable_time expired');
        }
        return;
      }
      case 'DELAY':
        if (now <= n.confirmed + p.delay_first_probe_time) {
          n.updated = now;
          this.setState(n, 'REACHABLE', now, 'confirmed while delayed');
          this.arm(n, n.confirmed + this.reachableTimeAt(now));
          return;
        }
        n.updated = now;
        n.probes = 0;
        this.setState(n, 'PROBE', now, 'delay_first_probe_time expired');
        break;
      case 'INCOMPLETE': case 'PROBE':
        break;
      default:
        return;
    }
    if (n.probes >= this.maxProbes(n)) {
      this.fail(n, now);
      return;
    }
    this.arm(n, now + p.retrans_time);
    this.probe(n, now);
  }

  private fail(n: Neighbour, now: Instant): void {
    this.counters.failed++;
    n.updated = now;
    this.setState(n, 'FAILED', now, `no reply to ${n.probes - (n.state === 'INCOMPLETE' ? this.params.ucast_solicit : 0)} requests`);
    const q = n.queue;
    n.queue = [];
    n.queueBytes = 0;
    this.counters.unreachableDrops += q.length;
    if (q.length > 0) this.host.unreachable(n.addr, q, now);
  }

  private armGc(now: Instant): void {
    if (this.table.size >= this.params.gc_thresh1 && this.gcAt === Infinity) {
      this.gcAt = now + Math.floor(this.params.base_reachable_time / 2);
      this.host.wake();
    }
  }

  /** Linux neigh_periodic_work: nothing happens below gc_thresh1 entries. */
  private periodicGc(now: Instant): void {
    if (this.table.size < this.params.gc_thresh1) return;
    for (const n of [...this.table.values()]) {
      if (n.state === 'PERMANENT' || n.state === 'INCOMPLETE') continue;
      if (n.used < n.confirmed) n.used = n.confirmed;
      if (n.state === 'FAILED' || now > n.used + this.params.gc_stale_time) this.remove(n, now, 'garbage collected');
    }
    this.armGc(now);
  }

  /** Linux neigh_forced_gc: at gc_thresh3, drop FAILED and STALE entries not updated for 5 s. */
  private forcedGc(now: Instant): void {
    for (const n of [...this.table.values()]) {
      if ((n.state === 'FAILED' || n.state === 'STALE') && now - n.updated > 5_000_000) this.remove(n, now, 'forced garbage collection');
    }
  }

  private remove(n: Neighbour, now: Instant, cause: string): void {
    this.disarm(n);
    this.table.delete(n.addr);
    this.counters.gcRemoved++;
    this.host.changed?.(n, n.state, 'NONE', cause, now);
  }

  private setState(n: Neighbour, to: NudState, now: Instant, cause: string, from?: 'NONE'): void {
    const was = from ?? n.state;
    n.state = to;
    if (was !== to) this.host.changed?.(n, was, to, cause, now);
  }

  // ------------------------------------------------------------------ listing

  entries(now: Instant): NeighbourRow[] {
    const rows: NeighbourRow[] = [];
    for (const n of this.table.values()) {
      rows.push({
        addr: formatIpv4Address(n.addr), mac: n.mac === null ? null : formatMac(n.mac), state: n.state,
        confirmedAgo: now - n.confirmed, usedAgo: now - n.used, updatedAgo: now - n.updated, probes: n.probes, queued: n.queue.length,
      });
    }
    rows.sort((a, b) => ipKey(a.addr) - ipKey(b.addr));
    return rows;
  }
}

function ipKey(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/**
 * The table as `ip neigh` prints it ("198.18.0.2 dev eth0 lladdr 02:00:c6:12:00:02 REACHABLE");
 * with `stats`, the ages as `ip -s neigh` does ("used 3/8/2", seconds since use/confirm/update).
 */
export function renderNeighbours(rows: Array<NeighbourRow & { dev?: string }>, opts: { stats?: boolean } = {}): string {
  let out = '';
  for (const r of rows) {
    let line = r.addr;
    if (r.dev !== undefined) line += ` dev ${r.dev}`;
    if (r.mac !== null && r.state !== 'FAILED' && r.state !== 'INCOMPLETE') line += ` lladdr ${r.mac}`;
    if (opts.stats) line += ` used ${Math.floor(r.usedAgo / 1e6)}/${Math.floor(r.confirmedAgo / 1e6)}/${Math.floor(r.updatedAgo / 1e6)} probes ${r.probes}`;
    line += ` ${r.state}`;
    out += line + '\n';
  }
  return out;
}
