// A small DNS server (RFC 1035) on a stack: A and PTR answers from a hosts map (CNAMEs
// too), an optional forwarding hook for everything else (a function returning answers —
// the slirp-style gateway plugs its upstream resolver in here), NXDOMAIN / SERVFAIL / NOTIMP /
// FORMERR, UDP answers over 512 octets truncated with TC (RFC 1035 §4.2.1, RFC 2181 §9)
// and the same service over TCP port 53 with 2-octet length framing (RFC 1035 §4.2.2,
// RFC 7766). Browser-clean; work triggered inside packet processing runs in the stack's
// next poll at the same instant (a StackService), never re-entering the engine.
import type { Instant } from '../time/instant.js';
import type { Stack } from '../stack/stack.js';
import type { Pollable } from '../link/types.js';
import type { Tcb } from '../tcp/tcb.js';
import type { Listener } from '../tcp/listener.js';
import { udpOf } from '../udp/layer.js';
import type { UdpSocket } from '../udp/socket.js';
import { parseIpv4Address, formatIpv4Address } from '../wire/ipv4addr.js';
import {
  parseDns, emitDns, canonicalName, reverseName, addressOfReverseName, newFlags, typeName, rcodeName,
  CLASS_IN, TYPE_A, TYPE_CNAME, TYPE_PTR, TYPE_ANY, DNS_PORT, DNS_UDP_MAX, OPCODE_QUERY,
  RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN, RCODE_SERVFAIL,
  type DnsMessage, type DnsQuestion, type DnsRecord,
} from './wire.js';

/** What a forwarding hook returns: answers (rcode NOERROR), an rcode, or null for NXDOMAIN. */
export interface DnsForwardResult { rcode?: number; answers?: DnsRecord[]; authority?: DnsRecord[] }
/** Called for questions the hosts map cannot answer. Throwing (or rejecting) answers SERVFAIL. */
export type DnsForwardHook = (q: DnsQuestion, from: { addr: number; port: number; tcp: boolean }) =>
  DnsForwardResult | null | undefined | Promise<DnsForwardResult | null | undefined>;

export interface DnsServerOptions {
  /** name → IPv4 address(es), like /etc/hosts. Names are case-insensitive. */
  hosts?: Record<string, string | string[]> | Map<string, string | string[]>;
  /** alias → canonical name (CNAME records). */
  cnames?: Record<string, string>;
  /** TTL of the answers from the maps, seconds (default 60). */
  ttl?: number;
  /** Local address to serve on (default all). */
  addr?: number | string;
  port?: number;
  /** Serve TCP too (default true). */
  tcp?: boolean;
  forward?: DnsForwardHook;
}

/** One query answered, for logs and tests. */
export interface DnsServed { t: Instant; from: number; tcp: boolean; name: string; type: string; rcode: string; answers: number; truncated: boolean }

interface TcpConn { tcb: Tcb; buf: Uint8Array; ended: boolean }

export class DnsServer implements Pollable {
  readonly socket: UdpSocket;
  readonly listener: Listener | null = null;
  private readonly hosts = new Map<string, number[]>();
  private readonly reverse = new Map<number, string>();
  private readonly cnames = new Map<string, string>();
  private readonly ttl: number;
  private readonly forward: DnsForwardHook | undefined;
  private pending = false;
  private readonly unregister: () => void;
  private readonly conns = new Set<TcpConn>();
  private readonly dirty = new Set<TcpConn>();
  /** Every query answered (bounded to the last 1000). */
  readonly log: DnsServed[] = [];
  onServed: ((s: DnsServed) => void) | null = null;
  closed = false;

  constructor(readonly stack: Stack, o: DnsServerOptions = {}) {
    this.ttl = o.ttl ?? 60;
    this.forward = o.forward;
    const entries = o.hosts instanceof Map ? [...o.hosts.entries()] : Object.entries(o.hosts ?? {});
    for (const [name, v] of entries) for (const a of Array.isArray(v) ? v : [v]) this.addHost(name, a);
    for (const [alias, target] of Object.entries(o.cnames ?? {})) this.cnames.set(canonicalName(alias), target);
    const addr = o.addr === undefined ? 0 : typeof o.addr === 'number' ? o.addr : parseIpv4Address(o.addr) ?? 0;
    const port = o.port ?? DNS_PORT;
    this.socket = udpOf(stack).createSocket();
    this.socket.handle = this;
    this.socket.bind(addr, port);
    this.socket.user = { onReadable: () => this.wake(), onError: () => {} };
    if (o.tcp !== false) {
      const l = stack.listen({ addr, port });
      l.onAcceptable = () => this.wake();
      this.listener = l;
    }
    this.unregister = stack.addPollable(this);
  }

  /** Add a name → address mapping (and its PTR). */
  addHost(name: string, addr: string | number): void {
    const a = typeof addr === 'number' ? addr >>> 0 : parseIpv4Address(addr);
    if (a === null) throw new RangeError(`not an IPv4 address: ${addr}`);
    const n = canonicalName(name);
    const l = this.hosts.get(n) ?? [];
    if (!l.includes(a)) l.push(a);
    this.hosts.set(n, l);
    if (!this.reverse.has(a)) this.reverse.set(a, name.endsWith('.') ? name.slice(0, -1) : name);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    if (this.listener !== null) this.stack.closeListener(this.listener);
    for (const c of this.conns) c.tcb.close(this.stack.now());
    this.unregister();
  }

  // ---------------------------------------------------------------- StackService

  nextDeadline(): Instant { return this.pending ? 0 : Infinity; }

  poll(now: Instant): void {
    this.pending = false;
    if (this.closed) return;
    for (let m = this.socket.recv(); m !== null; m = this.socket.recv()) {
      this.answer(m.data, { addr: m.srcAddr, port: m.srcPort, tcp: false }, now, (resp) => {
        if (!this.closed) this.socket.send(resp, m.srcAddr, m.srcPort);
      });
    }
    if (this.listener !== null) {
      for (let t = this.listener.accept(); t !== null; t = this.listener.accept()) this.adopt(t);
    }
    for (const c of [...this.dirty]) { this.dirty.delete(c); this.serviceTcp(c, now); }
  }

  private wake(): void {
    if (this.pending) return;
    this.pending = true;
    this.stack.onWake?.();
  }

  // ---------------------------------------------------------------- TCP (RFC 7766)

  private adopt(tcb: Tcb): void {
    const c: TcpConn = { tcb, buf: new Uint8Array(0), ended: false };
    this.conns.add(c);
    const mark = (): void => { this.dirty.add(c); this.wake(); };
    tcb.user = {
      onReadable: mark, onEnd: () => { c.ended = true; mark(); },
      onClosed: () => { this.conns.delete(c); this.dirty.delete(c); },
    };
    mark();
  }

  private serviceTcp(c: TcpConn, now: Instant): void {
    const t = c.tcb;
    if (t.readable > 0) {
      const d = t.receive(t.readable, now);
      const b = new Uint8Array(c.buf.length + d.length);
      b.set(c.buf); b.set(d, c.buf.length);
      c.buf = b;
    }
    while (c.buf.length >= 2) {
      const len = (c.buf[0]! << 8) | c.buf[1]!;
      if (c.buf.length < 2 + len) break;
      const q = c.buf.slice(2, 2 + len);
      c.buf = c.buf.slice(2 + len);
      this.answer(q, { addr: t.remoteAddr, port: t.remotePort, tcp: true }, now, (resp) => {
        if (t.state !== 'ESTABLISHED' && t.state !== 'CLOSE-WAIT') return;
        const framed = new Uint8Array(2 + resp.length);
        framed[0] = resp.length >>> 8; framed[1] = resp.length & 0xff;
        framed.set(resp, 2);
        t.send(framed, this.stack.now());
      });
    }
    if (c.ended && t.state === 'CLOSE-WAIT') t.close(now);
  }

  // ---------------------------------------------------------------- answering

  private answer(query: Uint8Array, from: { addr: number; port: number; tcp: boolean }, now: Instant, reply: (b: Uint8Array) => void): void {
    const r = parseDns(query);
    if (!r.ok) {
      // RFC 1035 §4.1.1 FORMERR, when there is at least a header to answer; else drop.
      if (query.length >= 12 && (query[2]! & 0x80) === 0) {
        const id = (query[0]! << 8) | query[1]!;
        reply(emitDns({ id, flags: newFlags({ qr: true, rcode: RCODE_FORMERR }), questions: [], answers: [], authority: [], additional: [] }));
        this.record(now, from, '?', '?', RCODE_FORMERR, 0, false);
      } else this.stack.drop('dns: malformed query', now);
      return;
    }
    const m = r.value;
    if (m.flags.qr) { this.stack.drop('dns: response sent to the server', now); return; }
    const resp: DnsMessage = {
      id: m.id, flags: newFlags({ qr: true, opcode: m.flags.opcode, rd: m.flags.rd, ra: this.forward !== undefined }),
      questions: m.questions, answers: [], authority: [], additional: [],
    };
    const q = m.questions[0];
    if (m.flags.opcode !== OPCODE_QUERY) { resp.flags.rcode = RCODE_NOTIMP; this.send(resp, from, now, reply); return; }
    if (m.questions.length !== 1 || q === undefined) { resp.flags.rcode = RCODE_FORMERR; this.send(resp, from, now, reply); return; }
    const local = this.localAnswer(q, resp);
    if (local) { resp.flags.aa = true; this.send(resp, from, now, reply); return; }
    if (this.forward === undefined) { resp.flags.rcode = RCODE_NXDOMAIN; resp.flags.aa = true; this.send(resp, from, now, reply); return; }
    const done = (res: DnsForwardResult | null | undefined): void => {
      if (res === null || res === undefined) resp.flags.rcode = RCODE_NXDOMAIN;
      else {
        resp.flags.rcode = res.rcode ?? RCODE_NOERROR;
        resp.answers.push(...(res.answers ?? []));
        resp.authority.push(...(res.authority ?? []));
      }
      this.send(resp, from, this.stack.now(), reply);
    };
    const fail = (): void => { resp.flags.rcode = RCODE_SERVFAIL; resp.answers.length = 0; this.send(resp, from, this.stack.now(), reply); };
    let res: ReturnType<DnsForwardHook>;
    try { res = this.forward(q, from); } catch { fail(); return; }
    if (res !== null && res !== undefined && typeof (res as Promise<unknown>).then === 'function') {
      (res as Promise<DnsForwardResult | null | undefined>).then(done, fail);
    } else done(res as DnsForwardResult | null | undefined);
  }

  /** Answer from the maps; false when the name is not ours (then: forward or NXDOMAIN). */
  private localAnswer(q: DnsQuestion, resp: DnsMessage): boolean {
    if (q.class !== CLASS_IN && q.class !== 255) return false;
    let name = canonicalName(q.name);
    if (q.type === TYPE_PTR) {
      const a = addressOfReverseName(name);
      const host = a === null ? undefined : this.reverse.get(a);
      if (host === undefined) return false;
      resp.answers.push({ name: reverseName(a!), type: TYPE_PTR, class: CLASS_IN, ttl: this.ttl, target: host });
      return true;
    }
    // Follow local CNAMEs (RFC 1034 §3.6.2: the answer carries the chain, then the data).
    let owner = q.name;
    for (let hops = 0; hops < 8; hops++) {
      const target = this.cnames.get(name);
      if (target === undefined) break;
      resp.answers.push({ name: owner, type: TYPE_CNAME, class: CLASS_IN, ttl: this.ttl, target });
      if (q.type === TYPE_CNAME) return true;
      owner = target;
      name = canonicalName(target);
    }
    const addrs = this.hosts.get(name);
    if (addrs === undefined) {
      if (resp.answers.length === 0) return false;
      // The chain leaves our data: forward the rest? Keep it simple and authoritative: NODATA.
      return true;
    }
    if (q.type === TYPE_A || q.type === TYPE_ANY) {
      for (const a of addrs) resp.answers.push({ name: owner, type: TYPE_A, class: CLASS_IN, ttl: this.ttl, address: a });
    }
    // Another type for a name we have: NOERROR with no answers (NODATA, RFC 2308 §2.2).
    return true;
  }

  private send(resp: DnsMessage, from: { addr: number; tcp: boolean }, now: Instant, reply: (b: Uint8Array) => void): void {
    let bytes = emitDns(resp);
    let truncated = false;
    if (!from.tcp && bytes.length > DNS_UDP_MAX) {
      // RFC 2181 §9: set TC and send what fits; we send the header and question only, so
      // the client retries over TCP (RFC 7766 §5).
      truncated = true;
      bytes = emitDns({ ...resp, flags: { ...resp.flags, tc: true }, answers: [], authority: [], additional: [] });
    }
    reply(bytes);
    const q = resp.questions[0];
    this.record(now, from, q?.name ?? '?', q === undefined ? '?' : typeName(q.type), resp.flags.rcode, truncated ? 0 : resp.answers.length, truncated, from.tcp);
  }

  private record(t: Instant, from: { addr: number; tcp?: boolean }, name: string, type: string, rcode: number, answers: number, truncated: boolean, tcp = from.tcp ?? false): void {
    const s: DnsServed = { t, from: from.addr, tcp, name, type, rcode: rcodeName(rcode), answers, truncated };
    this.log.push(s);
    if (this.log.length > 1000) this.log.shift();
    this.onServed?.(s);
  }

  /** "198.18.0.2 A foo.test → NOERROR 1 answer (udp)" lines for logs. */
  static format(s: DnsServed): string {
    return `${formatIpv4Address(s.from)} ${s.type} ${s.name} → ${s.rcode} ${s.answers} answer${s.answers === 1 ? '' : 's'}${s.truncated ? ' TC' : ''} (${s.tcp ? 'tcp' : 'udp'})`;
  }
}
