// A DNS stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) on a stack: A lookups with CNAME
// chains, a TTL cache with negative caching (RFC 2308 §5), retransmission over the
// configured servers (glibc's resolv.conf defaults: timeout 5 s, attempts 2), TCP retry when
// an answer comes back truncated (RFC 7766 §5), and responses checked against the query
// (id, server address and port, question: RFC 5452 §9.1). Results are error codes as Node's
// dns reports them: ENOTFOUND (NXDOMAIN), ENODATA (no A record), ESERVFAIL, ETIMEOUT,
// ECONNREFUSED (ICMP port unreachable from every server). Browser-clean: timers run through the
// stack (a StackService), time is the stack's clock.
import type { Instant } from '../time/instant.js';
import type { Stack } from '../stack/stack.js';
import type { Pollable } from '../link/types.js';
import type { Tcb } from '../tcp/tcb.js';
import { udpOf } from '../udp/layer.js';
import type { UdpSocket } from '../udp/socket.js';
import { TimerQueue } from '../time/timerqueue.js';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import { setNameLookup } from './names.js';
import {
  parseDns, buildQuery, canonicalName, TYPE_A, TYPE_CNAME, TYPE_SOA, CLASS_IN, DNS_PORT,
  RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, type DnsMessage,
} from './wire.js';

export interface ResolverOptions {
  /** Name servers, tried in order (round-robin over attempts). */
  servers: Array<number | string>;
  /** Per-try timeout, ms (glibc RES_TIMEOUT 5 s). */
  timeout?: number;
  /** Rounds over the server list (glibc RES_DFLRETRY 2). */
  attempts?: number;
  /** Cache entries at most (0: no cache). */
  cacheSize?: number;
  /** Source of query ids and ports (seed it in simulation). */
  random?: (n: number) => Uint8Array;
  /** Install as the stack's name lookup (net.connect(host), dgram, stackLookup). Default true. */
  install?: boolean;
}

export type ResolveCallback = (err: string | null, addrs: number[], ttl?: number) => void;

interface CacheEntry { expires: Instant; err: string | null; addrs: number[] }

interface Query {
  qname: string;
  /** The name the answer is followed from (changes as CNAMEs are chased across queries). */
  name: string;
  hops: number;
  tries: number;
  id: number;
  sock: UdpSocket | null;
  server: number;
  timer: number;
  tcp: Tcb | null;
  tcpBuf: Uint8Array;
  lastErr: string;
  minTtl: number;
  cbs: ResolveCallback[];
  done: boolean;
}

const MAX_CNAME_HOPS = 8;

export class DnsResolver implements Pollable {
  readonly servers: number[];
  readonly timeout: number;
  readonly attempts: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Query>();
  private readonly timers = new TimerQueue<Query>();
  private readonly unregister: () => void;
  private readonly random: (n: number) => Uint8Array;
  private readonly ready: Query[] = [];
  /** Counters: queries sent, retransmissions, TCP retries, cache hits, answers dropped as not matching. */
  readonly stats = { queries: 0, retries: 0, tcp: 0, cacheHits: 0, mismatched: 0 };

  constructor(readonly stack: Stack, o: ResolverOptions) {
    this.servers = o.servers.map((s) => {
      const a = typeof s === 'number' ? s >>> 0 : parseIpv4Address(s);
      if (a === null) throw new RangeError(`not an IPv4 address: ${String(s)}`);
      return a;
    });
    if (this.servers.length === 0) throw new RangeError('a resolver needs at least one server');
    this.timeout = (o.timeout ?? 5000) * 1000;
    this.attempts = Math.max(1, o.attempts ?? 2);
    this.cacheSize = o.cacheSize ?? 1000;
    this.random = o.random ?? ((n) => { const b = new Uint8Array(n); globalThis.crypto.getRandomValues(b); return b; });
    this.unregister = stack.addPollable(this);
    if (o.install !== false) setNameLookup(stack, (name, cb) => this.lookup(name, cb));
  }

  /**
   * Resolve `name` to IPv4 addresses (A records, following CNAMEs). Calls back exactly once:
   * synchronously on a cache hit, else from the stack's poll (Node callers defer to nextTick).
   */
  lookup(name: string, cb: ResolveCallback): void {
    const key = canonicalName(name);
    const now = this.stack.now();
    const c = this.cache.get(key);
    if (c !== undefined) {
      if (c.expires > now) {
        this.stats.cacheHits++;
        cb(c.err, c.addrs.slice(), Math.floor((c.expires - now) / 1_000_000));
        return;
      }
      this.cache.delete(key);
    }
    const q0 = this.inflight.get(key);
    if (q0 !== undefined) { q0.cbs.push(cb); return; }
    const q: Query = {
      qname: key, name: key, hops: 0, tries: 0, id: 0, sock: null, server: 0, timer: 0, tcp: null, tcpBuf: new Uint8Array(0),
      lastErr: 'ETIMEOUT', minTtl: 0x7fffffff, cbs: [cb], done: false,
    };
    this.inflight.set(key, q);
    this.send(q, now);
  }

  /** Forget every cached answer. */
  flush(): void { this.cache.clear(); }

  close(): void {
    for (const q of [...this.inflight.values()]) this.finish(q, 'ECANCELLED', []);
    this.unregister();
  }

  // ---------------------------------------------------------------- StackService

  nextDeadline(): Instant { return this.ready.length > 0 ? 0 : this.timers.nextDeadline(); }

  poll(now: Instant): void {
    for (const q of this.ready.splice(0)) if (!q.done) this.drain(q, now);
    this.timers.popExpired(now, (q) => { if (!q.done) this.onTimeout(q, now); });
  }

  // ---------------------------------------------------------------- queries

  private u16(): number { const b = this.random(2); return (b[0]! << 8) | b[1]!; }

  private send(q: Query, now: Instant): void {
    const total = this.attempts * this.servers.length;
    if (q.tries >= total) { this.finish(q, q.lastErr, []); return; }
    const server = this.servers[q.tries % this.servers.length]!;
    if (q.tries > 0) this.stats.retries++;
    q.tries++;
    this.closeSocket(q);
    q.id = this.u16();
    q.server = server;
    // A fresh socket (random ephemeral port) and id per try: RFC 5452 §9.2.
    const s = udpOf(this.stack).createSocket();
    q.sock = s;
    s.user = { onReadable: () => this.mark(q), onError: () => this.mark(q) };
    try {
      s.connect(server, DNS_PORT);
      s.send(buildQuery(q.id, q.name, TYPE_A));
      this.stats.queries++;
    } catch (e) {
      q.lastErr = (e as { code?: string }).code ?? 'EIO';
    }
    q.timer = this.timers.schedule(now + this.timeout, q);
    this.stack.onWake?.();
  }

  private mark(q: Query): void {
    this.ready.push(q);
    this.stack.onWake?.();
  }

  private onTimeout(q: Query, now: Instant): void {
    if (q.tcp !== null) { q.tcp.abort(now, 'dns: tcp timeout'); q.tcp = null; }
    this.send(q, now);
  }

  /** Read what arrived for q: a pending ICMP error, or datagrams (the first valid one counts). */
  private drain(q: Query, now: Instant): void {
    const s = q.sock;
    if (s === null) { if (q.tcp !== null) this.drainTcp(q, now); return; }
    const err = s.takeError();
    if (err !== null) {
      // ICMP port unreachable: this server is not answering; try the next one now.
      q.lastErr = err;
      this.timers.cancel(q.timer);
      this.send(q, now);
      return;
    }
    for (let m = s.recv(); m !== null; m = s.recv()) {
      const r = parseDns(m.data);
      if (!r.ok || !this.matches(q, r.value)) { this.stats.mismatched++; continue; }
      this.handle(q, r.value, now, false);
      return;
    }
  }

  private matches(q: Query, m: DnsMessage): boolean {
    if (!m.flags.qr || m.id !== q.id || m.questions.length !== 1) return false;
    const qq = m.questions[0]!;
    return canonicalName(qq.name) === q.name && qq.type === TYPE_A && qq.class === CLASS_IN;
  }

  private handle(q: Query, m: DnsMessage, now: Instant, viaTcp: boolean): void {
    if (m.flags.tc && !viaTcp) { this.startTcp(q, now); return; }
    const rc = m.flags.rcode;
    if (rc === RCODE_NXDOMAIN) { this.finish(q, 'ENOTFOUND', [], negativeTtl(m)); return; }
    if (rc !== RCODE_NOERROR) {
      // SERVFAIL, REFUSED, NOTIMP…: try the next server (RFC 1035 §7.3), then give up.
      q.lastErr = rc === RCODE_SERVFAIL ? 'ESERVFAIL' : 'EREFUSED';
      this.timers.cancel(q.timer);
      this.send(q, now);
      return;
    }
    // Follow the CNAME chain inside the answer (RFC 1034 §5.3.3), collecting A records.
    let name = q.name;
    for (let i = 0; i < MAX_CNAME_HOPS; i++) {
      const c = m.answers.find((r) => r.type === TYPE_CNAME && canonicalName(r.name) === name && r.target !== undefined);
      if (c === undefined) break;
      q.minTtl = Math.min(q.minTtl, c.ttl);
      name = canonicalName(c.target!);
      q.hops++;
    }
    const as = m.answers.filter((r) => r.type === TYPE_A && r.class === CLASS_IN && canonicalName(r.name) === name && r.address !== undefined);
    if (as.length > 0) {
      for (const a of as) q.minTtl = Math.min(q.minTtl, a.ttl);
      this.finish(q, null, as.map((a) => a.address!), q.minTtl);
      return;
    }
    if (name !== q.name && q.hops <= MAX_CNAME_HOPS) {
      // The chain ends in a name the answer does not cover: ask for it (a new query, same callbacks).
      q.name = name; q.tries = 0;
      this.timers.cancel(q.timer);
      this.send(q, now);
      return;
    }
    this.finish(q, q.hops > MAX_CNAME_HOPS ? 'ESERVFAIL' : 'ENODATA', [], negativeTtl(m));
  }

  // ---------------------------------------------------------------- TCP retry (RFC 7766)

  private startTcp(q: Query, now: Instant): void {
    this.stats.tcp++;
    this.closeSocket(q);
    this.timers.cancel(q.timer);
    let tcb: Tcb;
    try { tcb = this.stack.connect({ remoteAddr: q.server, remotePort: DNS_PORT }); } catch (e) {
      q.lastErr = (e as { code?: string }).code ?? 'EIO';
      this.send(q, now);
      return;
    }
    q.tcp = tcb;
    q.tcpBuf = new Uint8Array(0);
    const query = buildQuery(q.id, q.name, TYPE_A);
    const framed = new Uint8Array(2 + query.length);
    framed[0] = query.length >>> 8; framed[1] = query.length & 0xff; framed.set(query, 2);
    tcb.user = {
      onReadable: () => this.mark(q), onEnd: () => this.mark(q),
      onClosed: (err) => { if (err !== null && !q.done && q.tcp === tcb) { q.lastErr = err; q.tcp = null; this.mark(q); } },
    };
    tcb.openActive(now);
    tcb.send(framed, now); // queued until ESTABLISHED (RFC 9293 §3.10.2)
    q.timer = this.timers.schedule(now + this.timeout, q);
  }

  private drainTcp(q: Query, now: Instant): void {
    const t = q.tcp;
    if (t === null) {
      // The connection failed (refused, reset): next server over UDP.
      this.timers.cancel(q.timer);
      this.send(q, now);
      return;
    }
    if (t.readable > 0) {
      const d = t.receive(t.readable, now);
      const b = new Uint8Array(q.tcpBuf.length + d.length);
      b.set(q.tcpBuf); b.set(d, q.tcpBuf.length);
      q.tcpBuf = b;
    }
    if (q.tcpBuf.length < 2) return;
    const len = (q.tcpBuf[0]! << 8) | q.tcpBuf[1]!;
    if (q.tcpBuf.length < 2 + len) return;
    const r = parseDns(q.tcpBuf.subarray(2, 2 + len));
    t.close(now);
    q.tcp = null;
    this.timers.cancel(q.timer);
    if (!r.ok || !this.matches(q, r.value)) { this.stats.mismatched++; q.lastErr = 'EBADRESP'; this.send(q, now); return; }
    this.handle(q, r.value, now, true);
  }

  // ---------------------------------------------------------------- completion

  private closeSocket(q: Query): void {
    if (q.sock !== null) { q.sock.user = null; q.sock.close(); q.sock = null; }
  }

  private finish(q: Query, err: string | null, addrs: number[], ttl = 0): void {
    if (q.done) return;
    q.done = true;
    this.closeSocket(q);
    if (q.tcp !== null) { q.tcp.close(this.stack.now()); q.tcp = null; }
    this.timers.cancel(q.timer);
    this.inflight.delete(q.qname);
    // Cache answers and definitive negatives (NXDOMAIN / NODATA) for their TTL; never failures.
    const cacheable = err === null || err === 'ENOTFOUND' || err === 'ENODATA';
    if (this.cacheSize > 0 && cacheable && ttl > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(q.qname, { expires: this.stack.now() + ttl * 1_000_000, err, addrs: addrs.slice() });
    }
    for (const cb of q.cbs) cb(err, addrs.slice(), ttl);
  }
}

/** RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM); 0 without a SOA. */
function negativeTtl(m: DnsMessage): number {
  const soa = m.authority.find((r) => r.type === TYPE_SOA && r.soa !== undefined);
  return soa === undefined ? 0 : Math.min(soa.ttl, soa.soa!.minimum);
}
