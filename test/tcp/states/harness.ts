// Per-state test harness for the TCP engine, in the style of smoltcp's socket tests
// (DESIGN.md "Tests"): a real Stack on a ManualClock, attached to a link end that records
// every packet it is asked to send. Tests inject one segment written as a template plus
// overrides, then require exactly a list of segments out (comparing only the fields they
// name) and then silence. Fixtures reach each RFC 9293 state by driving real packets.
//
// The remote ISN sits just below 2^32 (REMOTE_ISN = 0xFFFFFF00), so ordinary tests cross
// the sequence wrap: write `seq: h.R + 300` freely, the harness reduces mod 2^32.
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/time/clock.js';
import { Stack } from '../../../src/stack/stack.js';
import type { StackOptions } from '../../../src/stack/options.js';
import type { Tcb } from '../../../src/tcp/tcb.js';
import type { Listener } from '../../../src/tcp/listener.js';
import type { TcpState, TcpErrorCode, CloseCause } from '../../../src/tcp/types.js';
import type { LinkEnd, PacketHandler } from '../../../src/link/types.js';
import { parseIpv4, emitIpv4Header, IPPROTO_TCP } from '../../../src/wire/ipv4.js';
import {
  parseTcp, emitTcp, tcpHeaderLength, flagsToString,
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
} from '../../../src/wire/tcp.js';
import type { TcpOption } from '../../../src/wire/tcpoptions.js';
import { seqDiff, seqGe, seqLe } from '../../../src/tcp/seq.js';

export const LOCAL_ADDR = 0x0a000001;  // 10.0.0.1, the stack under test
export const REMOTE_ADDR = 0x0a000002; // 10.0.0.2, the scripted peer
export const CLIENT_PORT = 49152;
export const SERVER_PORT = 80;
/** The peer's ISN: just below 2^32 so that its data crosses the wrap. */
export const REMOTE_ISN = 0xffffff00;
/** Our ISS (forced through the stack's test hooks): 1 KiB below 2^32, so our data wraps too. */
export const LOCAL_ISS = 0xfffffc00;
/** Virtual time at which every fixture starts (µs). Not 0, so "time 0" never means "unset". */
export const T0 = 10_000_000;

export const ms = (n: number): number => Math.round(n * 1000);
export const sec = (n: number): number => Math.round(n * 1_000_000);
export const u32 = (n: number): number => n >>> 0;

// ------------------------------------------------------------------ segments

/** A segment the stack sent, parsed back with src/wire. */
export interface OutSeg {
  t: number;
  src: number; dst: number; sport: number; dport: number;
  seq: number; ack: number; flags: number; win: number; urg: number;
  payload: Uint8Array;
  options: TcpOption[];
}

/** What a test expects of an outgoing segment: only the given fields are compared. */
export interface ExpectSeg {
  flags?: string;
  seq?: number;
  ack?: number;
  win?: number;
  /** Payload length. */
  len?: number;
  payload?: string | Uint8Array;
  /** The exact option kinds in order, e.g. ['mss', 'sackOK', 'ts', 'nop', 'wscale']. */
  options?: string[];
  mss?: number | null;
  wscale?: number | null;
  /** Timestamps option: false = absent; fields given are compared. */
  ts?: false | { val?: number; ecr?: number };
  /** SACK blocks ([] = no SACK option). */
  sack?: Array<[number, number]>;
  urg?: number;
  sport?: number;
  dport?: number;
}

/** A segment a test injects: a template plus overrides. */
export interface InSeg {
  /** Letters S F R P A U E C ('.' also means ACK). Default 'A'. */
  flags?: string;
  /** Default h.R (the peer's ISN + 1). Reduced mod 2^32. */
  seq?: number;
  /** Default h.L (our ISS + 1). Reduced mod 2^32. */
  ack?: number;
  /** Raw window field. Default: the fixture's peer window. */
  win?: number;
  /** Payload bytes, a string, or a length (filled with a repeating pattern). */
  payload?: Uint8Array | string | number;
  urg?: number;
  /** Replace all options with exactly this list (no automatic timestamp). */
  options?: TcpOption[];
  /** Timestamp values for the automatic option, or false to leave it out. */
  ts?: false | { val?: number; ecr?: number };
  /** SACK blocks, appended after the automatic timestamp. */
  sack?: Array<[number, number]>;
  sport?: number;
  dport?: number;
  src?: number;
}

const FLAG_LETTERS: Record<string, number> = {
  S: TCP_SYN, F: TCP_FIN, R: TCP_RST, P: TCP_PSH, A: TCP_ACK, '.': TCP_ACK, U: TCP_URG, E: TCP_ECE, C: TCP_CWR, W: TCP_CWR,
};

export function parseFlags(s: string): number {
  let f = 0;
  for (const ch of s) {
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown flag letter ${ch} in ${s}`);
    f |= bit;
  }
  return f;
}

function payloadOf(p: InSeg['payload']): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p === 'number') return pattern(p);
  if (typeof p === 'string') return new TextEncoder().encode(p);
  return p;
}

/** n bytes of a recognisable repeating pattern (i mod 251). */
export function pattern(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) % 251;
  return b;
}

function optKinds(opts: TcpOption[]): string[] {
  return opts.map((o) => o.kind === 'unknown' ? `unknown${o.type}` : o.kind);
}

function findOpt<K extends TcpOption['kind']>(opts: TcpOption[], kind: K): Extract<TcpOption, { kind: K }> | undefined {
  return opts.find((o) => o.kind === kind) as Extract<TcpOption, { kind: K }> | undefined;
}

/** tcpdump-like one-liner for failure messages. */
export function fmt(s: OutSeg): string {
  const parts = [`Flags [${flagsToString(s.flags)}]`, `seq ${s.seq}`];
  if (s.flags & TCP_ACK) parts.push(`ack ${s.ack}`);
  parts.push(`win ${s.win}`);
  if (s.urg) parts.push(`urg ${s.urg}`);
  const o = s.options.map((x) => {
    switch (x.kind) {
      case 'mss': return `mss ${x.value}`;
      case 'wscale': return `wscale ${x.shift}`;
      case 'ts': return `TS val ${x.val} ecr ${x.ecr}`;
      case 'sack': return `sack ${x.blocks.map(([l, r]) => `{${l}:${r}}`).join('')}`;
      default: return x.kind;
    }
  });
  if (o.length) parts.push(`options [${o.join(',')}]`);
  parts.push(`length ${s.payload.length}`);
  return parts.join(', ');
}

// ------------------------------------------------------------------ the harness

export interface PeerOptions {
  /** MSS the peer announces; null = no MSS option. Default 1460. */
  mss?: number | null;
  /** Peer offers timestamps. Default false. */
  ts?: boolean;
  /** Peer offers SACK. Default false. */
  sack?: boolean;
  /** Peer's window scale shift; null = no option. Default null. */
  ws?: number | null;
  /** Raw window field the peer sends by default. Default 65535. */
  win?: number;
}

export interface FixtureOptions {
  /** Reach synchronized states through a listener (passive open). Default false (active open). */
  passive?: boolean;
  /** SYN-RECEIVED through a simultaneous open (active side receives a bare SYN). */
  simultaneous?: boolean;
  peer?: PeerOptions;
  stack?: Partial<StackOptions>;
  rcvBuf?: number;
  sndBuf?: number;
  /** Interface MTU (default 1500). */
  mtu?: number;
  /**
   * FIN-WAIT-1/2, CLOSING, TIME-WAIT: close with shutdown(SHUT_WR) instead of close(), so
   * the connection is a half-closed one the user still reads, not an orphan.
   */
  halfClose?: boolean;
}

export interface UserEvent {
  t: number;
  ev: 'established' | 'readable' | 'end' | 'writable' | 'closed';
  error?: TcpErrorCode | null;
  cause?: CloseCause;
}

const live = new Set<Harness>();

export class Harness {
  readonly clock = new ManualClock(T0);
  readonly stack: Stack;
  readonly link: LinkEnd;
  readonly sent: OutSeg[] = [];
  tcb: Tcb | null = null;
  listener: Listener | null = null;
  readonly events: UserEvent[] = [];
  /** The only connection in the stack's table (e.g. the child a listener just created). */
  only(): Tcb {
    const ts = this.stack.tcbs();
    assert.equal(ts.length, 1, `expected exactly one connection, found ${ts.length}`);
    return ts[0]!;
  }

  /** Connections taken from the listener (passive fixtures). */
  readonly accepted: Tcb[] = [];
  readonly peer: Required<PeerOptions>;
  lport = CLIENT_PORT;
  rport = SERVER_PORT;
  /** The peer's next TSval (incremented per injected segment). */
  peerTs = 0x70000000;
  /** The last TSval the stack sent (the default TSecr of injected segments). */
  lastTsVal = 0;
  /** Set when the connection negotiated timestamps: injected segments then carry one. */
  autoTs = false;
  private receiver: PacketHandler | null = null;
  private finished = false;

  constructor(readonly opts: FixtureOptions = {}) {
    const p = opts.peer ?? {};
    this.peer = {
      mss: p.mss === undefined ? 1460 : p.mss,
      ts: p.ts ?? false, sack: p.sack ?? false,
      ws: p.ws === undefined ? null : p.ws,
      win: p.win ?? 65535,
    } as Required<PeerOptions>;
    let seed = 1;
    const random = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; b[i] = seed >>> 24; }
      return b;
    };
    this.stack = new Stack({ clock: this.clock, options: opts.stack, random, isnOverride: () => LOCAL_ISS });
    const mtu = opts.mtu ?? 1500;
    this.link = {
      mtu,
      send: (pkt: Uint8Array) => { this.sent.push(this.parseOut(pkt)); },
      setReceiver: (h: PacketHandler | null) => { this.receiver = h; },
    };
    this.stack.addInterface({ addr: LOCAL_ADDR, prefixLen: 24, mtu, link: this.link });
    live.add(this);
  }

  get now(): number { return this.clock.now(); }

  /** The connection under test (throws when there is none). */
  get c(): Tcb {
    if (this.tcb === null) throw new Error('no connection in this fixture');
    return this.tcb;
  }

  /** The peer's ISN + 1: its first data byte. */
  get R(): number { return u32(REMOTE_ISN + 1); }
  /** Our ISS. */
  get iss(): number { return this.c.iss; }
  /** Our ISS + 1: our first data byte. */
  get L(): number { return u32(this.c.iss + 1); }

  private parseOut(pkt: Uint8Array): OutSeg {
    const ip = parseIpv4(pkt);
    assert.ok(ip.ok, 'stack sent a malformed IPv4 packet');
    assert.equal(ip.value.protocol, IPPROTO_TCP);
    const t = parseTcp(ip.value.payload, { src: ip.value.src, dst: ip.value.dst });
    assert.ok(t.ok, `stack sent a malformed TCP segment: ${t.ok ? '' : t.error.reason}`);
    const s = t.value;
    const o: OutSeg = {
      t: this.clock.now(), src: ip.value.src, dst: ip.value.dst, sport: s.srcPort, dport: s.dstPort,
      seq: s.seq, ack: s.ack, flags: s.flags, win: s.window, urg: s.urgentPointer,
      payload: s.payload.slice(), options: s.options,
    };
    const ts = findOpt(o.options, 'ts');
    if (ts !== undefined) this.lastTsVal = ts.val;
    return o;
  }

  // ------------------------------------------------------------ time

  /** Move virtual time forward by d µs, firing every timer due on the way (in order). */
  advance(d: number): void { this.advanceTo(this.now + d); }

  advanceTo(t: number): void {
    assert.ok(t >= this.now, `time never goes back (now ${this.now}, asked ${t})`);
    for (let guard = 0; guard < 100_000; guard++) {
      const dl = this.stack.nextDeadline();
      if (!(dl <= t)) break;
      if (dl > this.now) this.clock.set(dl);
      this.stack.poll(this.now);
    }
    this.clock.set(t);
  }

  /** Run timers until the stack has none left (or `limit` µs pass). */
  runTimers(limit = sec(3600 * 24)): void {
    const end = this.now + limit;
    for (let guard = 0; guard < 100_000; guard++) {
      const dl = this.stack.nextDeadline();
      if (!(dl <= end)) break;
      this.advanceTo(Math.max(dl, this.now));
    }
  }

  // ------------------------------------------------------------ input

  /** Build the packet the peer would send for `seg`. */
  build(seg: InSeg = {}): Uint8Array {
    const flags = parseFlags(seg.flags ?? 'A');
    const payload = payloadOf(seg.payload);
    let options: TcpOption[] = [];
    if (seg.options !== undefined) {
      options = seg.options;
    } else {
      if (this.autoTs && seg.ts !== false) {
        options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: u32(seg.ts?.val ?? this.peerTs++), ecr: u32(seg.ts?.ecr ?? this.lastTsVal) });
      } else if (seg.ts) {
        options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: u32(seg.ts.val ?? this.peerTs++), ecr: u32(seg.ts.ecr ?? this.lastTsVal) });
      }
      if (seg.sack !== undefined && seg.sack.length > 0) {
        options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: seg.sack.map(([l, r]) => [u32(l), u32(r)] as [number, number]) });
      }
    }
    const src = seg.src ?? REMOTE_ADDR;
    const fields = {
      srcPort: seg.sport ?? this.rport, dstPort: seg.dport ?? this.lport,
      seq: u32(seg.seq ?? this.R), ack: u32(seg.ack ?? (this.tcb !== null ? this.L : 0)),
      flags, window: seg.win ?? this.peer.win, urgentPointer: seg.urg ?? 0, options,
    };
    const tcpLen = tcpHeaderLength(fields) + payload.length;
    const pkt = new Uint8Array(20 + tcpLen);
    emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src, dst: LOCAL_ADDR, dontFragment: true }, tcpLen, pkt, 0);
    emitTcp(fields, payload, src, LOCAL_ADDR, pkt, 20);
    return pkt;
  }

  /**
   * Inject one segment from the peer. Every segment the stack sent before must have been
   * checked (expectOut/expectNothing/drain) — a forgotten reply is a test bug.
   */
  send(seg: InSeg = {}, opt: { at?: number } = {}): void {
    if (opt.at !== undefined) this.advanceTo(opt.at);
    this.assertQuiet('before send()');
    const pkt = this.build(seg);
    assert.ok(this.receiver !== null, 'link has no receiver');
    this.receiver(pkt);
  }

  // ------------------------------------------------------------ output

  /** Take every segment sent so far (unchecked). */
  drain(): OutSeg[] { return this.sent.splice(0); }

  private assertQuiet(when: string): void {
    if (this.sent.length > 0) {
      const list = this.sent.map(fmt).join('\n  ');
      this.sent.length = 0;
      assert.fail(`unexpected segment(s) ${when}:\n  ${list}`);
    }
  }

  expectNothing(): void { this.assertQuiet('(expected silence)'); }

  /** Require exactly these segments (only the given fields compared), in order, then silence. */
  expectOut(list: ExpectSeg[]): OutSeg[] {
    const got = this.sent.splice(0);
    const dump = (): string => got.map(fmt).join('\n  ');
    assert.equal(got.length, list.length, `expected ${list.length} segment(s), got ${got.length}:\n  ${dump()}`);
    list.forEach((e, i) => matchSeg(got[i]!, e, `segment ${i + 1} of ${list.length}:\n  ${dump()}`));
    return got;
  }

  /** Shorthand: exactly one segment out. */
  expectOne(e: ExpectSeg): OutSeg { return this.expectOut([e])[0]!; }

  // ------------------------------------------------------------ user side

  watch(t: Tcb): void {
    const rec = (ev: UserEvent['ev'], extra: Partial<UserEvent> = {}): void => { this.events.push({ t: this.now, ev, ...extra }); };
    t.user = {
      onEstablished: () => rec('established'),
      onReadable: () => rec('readable'),
      onEnd: () => rec('end'),
      onWritable: () => rec('writable'),
      onClosed: (error, cause) => rec('closed', { error, cause }),
    };
  }

  /** The onClosed report, or null when the connection has not been closed. */
  get closed(): { error: TcpErrorCode | null; cause: CloseCause } | null {
    const e = this.events.find((x) => x.ev === 'closed');
    return e === undefined ? null : { error: e.error ?? null, cause: e.cause! };
  }

  has(ev: UserEvent['ev']): boolean { return this.events.some((x) => x.ev === ev); }

  /** Read everything readable as a string. */
  read(max = 1 << 20): string { return new TextDecoder().decode(this.c.receive(max, this.now)); }

  write(data: Uint8Array | string | number): number {
    return this.c.send(payloadOf(data), this.now);
  }

  close(): void { this.c.close(this.now); }

  expectState(s: TcpState): void { assert.equal(this.c.state, s, `state is ${this.c.state}, expected ${s}`); }

  // ------------------------------------------------------------ end of test

  /**
   * End-of-test checks (lwIP style): every segment sent was checked, and nothing leaked —
   * a CLOSED connection holds no timer and no table entry; live ones keep their invariants.
   */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    live.delete(this);
    this.assertQuiet('at the end of the test');
    for (const t of this.allTcbs()) checkInvariants(this, t);
    if (this.tcb !== null && this.tcb.state === 'CLOSED' && this.accepted.length <= 1 && this.listener === null) {
      assert.equal(this.stack.connectionCount, 0, 'a CLOSED connection is still in the connection table');
      assert.equal(this.stack.pendingTimers, 0, 'timers still pending after CLOSED');
    }
  }

  private allTcbs(): Tcb[] {
    const s = new Set<Tcb>(this.stack.tcbs());
    if (this.tcb !== null) s.add(this.tcb);
    for (const t of this.accepted) s.add(t);
    return [...s];
  }
}

/** Invariants that hold in every state (checked after every test). */
export function checkInvariants(h: Harness, t: Tcb): void {
  const where = `[${t.state}]`;
  if (t.state === 'CLOSED') {
    assert.equal(t.nextDeadline(), Infinity, `${where} a CLOSED connection holds a timer`);
    assert.ok(!h.stack.tcbs().includes(t), `${where} a CLOSED connection is still in the table`);
    return;
  }
  assert.ok(h.stack.tcbs().includes(t), `${where} live connection missing from the table`);
  if (t.state !== 'LISTEN' && t.state !== 'SYN-SENT') {
    assert.ok(seqLe(t.sndUna, t.sndNxt), `${where} SND.UNA ${t.sndUna} > SND.NXT ${t.sndNxt}`);
    assert.ok(seqLe(t.sndNxt, t.sndMax), `${where} SND.NXT ${t.sndNxt} > SND.MAX ${t.sndMax}`);
  }
  // The host was told about the earliest deadline: the stack's queue holds an entry at or before it.
  const d = t.nextDeadline();
  if (d !== Infinity) assert.ok(h.stack.nextDeadline() <= d, `${where} deadline ${d} not scheduled with the stack`);
  if (t.state === 'TIME-WAIT') {
    assert.notEqual(t.timeWaitAt, Infinity, `${where} TIME-WAIT without its 2MSL timer`);
    assert.equal(t.rtoAt, Infinity, `${where} RTO armed in TIME-WAIT`);
    assert.equal(t.persistAt, Infinity, `${where} persist armed in TIME-WAIT`);
    assert.equal(t.keepaliveAt, Infinity, `${where} keepalive armed in TIME-WAIT`);
  } else {
    assert.equal(t.timeWaitAt, Infinity, `${where} 2MSL timer outside TIME-WAIT`);
  }
  // Outstanding sequence space is always watched by the retransmission timer (RFC 6298 §5.1);
  // none outstanding and nothing unsent: no RTO, no persist.
  if (t.state !== 'TIME-WAIT') {
    if (t.sndUna !== t.sndMax) assert.notEqual(t.rtoAt, Infinity, `${where} data in flight but no RTO timer`);
    if (t.sndUna === t.sndMax && t.unsentBytes === 0 && !(t.finQueued && !t.finSent)) {
      assert.equal(t.rtoAt, Infinity, `${where} RTO armed with nothing in flight`);
      assert.equal(t.persistAt, Infinity, `${where} persist armed with nothing to send`);
    }
  }
  if (!t.finQueued) assert.ok(seqGe(t.sndDataEnd, t.sndNxt), `${where} SND.NXT beyond the data`);
}

function matchSeg(s: OutSeg, e: ExpectSeg, ctx: string): void {
  const m = (what: string, a: unknown, b: unknown): void => assert.deepEqual(a, b, `${what}: got ${String(a)}, expected ${String(b)} — ${ctx}`);
  if (e.flags !== undefined) m('flags', flagsToString(s.flags), flagsToString(parseFlags(e.flags)));
  if (e.seq !== undefined) m('seq', s.seq, u32(e.seq));
  if (e.ack !== undefined) m('ack', s.ack, u32(e.ack));
  if (e.win !== undefined) m('window', s.win, e.win);
  if (e.len !== undefined) m('payload length', s.payload.length, e.len);
  if (e.payload !== undefined) {
    const want = typeof e.payload === 'string' ? new TextEncoder().encode(e.payload) : e.payload;
    assert.deepEqual([...s.payload], [...want], `payload differs — ${ctx}`);
  }
  if (e.options !== undefined) assert.deepEqual(optKinds(s.options), e.options, `option layout — ${ctx}`);
  if (e.mss !== undefined) m('mss', findOpt(s.options, 'mss')?.value ?? null, e.mss);
  if (e.wscale !== undefined) m('wscale', findOpt(s.options, 'wscale')?.shift ?? null, e.wscale);
  if (e.ts !== undefined) {
    const ts = findOpt(s.options, 'ts');
    if (e.ts === false) assert.equal(ts, undefined, `unexpected timestamp option — ${ctx}`);
    else {
      assert.ok(ts !== undefined, `timestamp option missing — ${ctx}`);
      if (e.ts.val !== undefined) m('TSval', ts.val, u32(e.ts.val));
      if (e.ts.ecr !== undefined) m('TSecr', ts.ecr, u32(e.ts.ecr));
    }
  }
  if (e.sack !== undefined) {
    const sack = findOpt(s.options, 'sack');
    const got = sack === undefined ? [] : sack.blocks;
    assert.deepEqual(got, e.sack.map(([l, r]) => [u32(l), u32(r)]), `SACK blocks — ${ctx}`);
  }
  if (e.urg !== undefined) m('urgent pointer', s.urg, e.urg);
  if (e.sport !== undefined) m('source port', s.sport, e.sport);
  if (e.dport !== undefined) m('destination port', s.dport, e.dport);
}

/** afterEach hook: finish every harness created by the test. */
export function finishAll(): void {
  const hs = [...live];
  live.clear();
  let err: unknown = null;
  for (const h of hs) {
    try { h.finish(); } catch (e) { if (err === null) err = e; }
  }
  if (err !== null) throw err;
}

// ------------------------------------------------------------------ fixtures

/** The options of the peer's SYN for `peer` (in Linux's order). */
export function peerSynOptions(peer: Required<PeerOptions>, tsVal: number, tsEcr = 0): TcpOption[] {
  const o: TcpOption[] = [];
  if (peer.mss !== null) o.push({ kind: 'mss', value: peer.mss });
  if (peer.sack) o.push({ kind: 'sackOK' });
  if (peer.ts) o.push({ kind: 'ts', val: tsVal, ecr: tsEcr });
  if (peer.ws !== null) o.push({ kind: 'nop' }, { kind: 'wscale', shift: peer.ws });
  return o;
}

export type FixtureState = TcpState | 'SYN-RECEIVED-SIMULTANEOUS';

/**
 * A connection in `state`, reached through real packets. No data is exchanged, so in every
 * state our data starts at h.L and the peer's at h.R; the FINs sit at those numbers.
 *  - LISTEN: a listener on port 80 (h.listener), no connection.
 *  - SYN-SENT: connect() sent its SYN.
 *  - SYN-RECEIVED: passive (listener got a SYN, SYN-ACK sent), or with {simultaneous:true}
 *    active (our SYN crossed the peer's bare SYN, we answered SYN-ACK).
 *  - ESTABLISHED .. TIME-WAIT: from ESTABLISHED (active by default, {passive:true} for the
 *    accepted side). FIN-WAIT-1: we closed (FIN at L sent). FIN-WAIT-2: FIN ACKed.
 *    CLOSE-WAIT: peer's FIN at R received and ACKed. CLOSING: FIN-WAIT-1 + peer's FIN (ours
 *    unacked). LAST-ACK: CLOSE-WAIT + our FIN. TIME-WAIT: FIN-WAIT-2 + peer's FIN.
 */
export function fixture(state: FixtureState, opts: FixtureOptions = {}): Harness {
  if (state === 'SYN-RECEIVED-SIMULTANEOUS') return fixture('SYN-RECEIVED', { ...opts, simultaneous: true });
  const h = new Harness(opts);
  const st = state as TcpState;
  if (st === 'CLOSED') return h;
  const passive = st === 'LISTEN' || (st === 'SYN-RECEIVED' && !opts.simultaneous) || (opts.passive === true && st !== 'SYN-SENT' && st !== 'SYN-RECEIVED');
  if (passive) {
    h.lport = SERVER_PORT; h.rport = CLIENT_PORT;
    const l = h.stack.listen({ port: SERVER_PORT });
    h.listener = l;
    l.onAcceptable = () => {
      const t = l.accept();
      if (t !== null) { h.accepted.push(t); if (h.tcb === null) { h.tcb = t; } }
    };
    if (st === 'LISTEN') return h;
    {
      h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: peerSynOptions(h.peer, h.peerTs++) });
      const conns = h.stack.tcbs();
      assert.equal(conns.length, 1, 'listener created no connection');
      const child = conns[0]!;
      h.tcb = child;
      h.watch(child);
      const synack = h.expectOne({ flags: 'SA', ack: h.R });
      assert.equal(synack.seq, h.c.iss);
      if (h.peer.ts) h.autoTs = true;
      if (st === 'SYN-RECEIVED') { h.expectState('SYN-RECEIVED'); return h; }
      h.send({ flags: 'A', seq: h.R, ack: h.L });
      h.expectNothing();
      h.expectState('ESTABLISHED');
      assert.equal(h.accepted[0], h.tcb, 'accept queue did not hand out the connection');
      return advanceToState(h, st);
    }
  }
  // Active open.
  const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, localPort: CLIENT_PORT, rcvBuf: opts.rcvBuf, sndBuf: opts.sndBuf, iss: LOCAL_ISS });
  h.tcb = t;
  h.watch(t);
  t.openActive(h.now);
  const syn = h.expectOne({ flags: 'S', ack: 0 });
  assert.equal(syn.seq, t.iss);
  if (st === 'SYN-SENT') return h;
  if (st === 'SYN-RECEIVED') {
    // Simultaneous open (RFC 9293 Figure 8): the peer's SYN crosses ours.
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: peerSynOptions(h.peer, h.peerTs++) });
    h.expectOne({ flags: 'SA', seq: t.iss, ack: h.R });
    if (h.peer.ts) h.autoTs = true;
    h.expectState('SYN-RECEIVED');
    return h;
  }
  h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: peerSynOptions(h.peer, h.peerTs++, h.lastTsVal) });
  if (h.peer.ts) h.autoTs = true;
  h.expectOne({ flags: 'A', seq: h.L, ack: h.R });
  h.expectState('ESTABLISHED');
  return advanceToState(h, st);
}

function advanceToState(h: Harness, st: TcpState): Harness {
  switch (st) {
    case 'ESTABLISHED':
      return h;
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'TIME-WAIT':
      if (h.opts.halfClose) h.c.close(h.now, false); else h.close();
      h.expectOne({ flags: 'FA', seq: h.L, ack: h.R, len: 0 });
      h.expectState('FIN-WAIT-1');
      if (st === 'FIN-WAIT-1') return h;
      if (st === 'CLOSING') {
        h.send({ flags: 'FA', seq: h.R, ack: h.L });
        h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
        h.expectState('CLOSING');
        return h;
      }
      h.send({ flags: 'A', seq: h.R, ack: h.L + 1 });
      h.expectNothing();
      h.expectState('FIN-WAIT-2');
      if (st === 'FIN-WAIT-2') return h;
      h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 });
      h.expectOne({ flags: 'A', seq: h.L + 1, ack: h.R + 1 });
      h.expectState('TIME-WAIT');
      return h;
    case 'CLOSE-WAIT':
    case 'LAST-ACK':
      h.send({ flags: 'FA', seq: h.R, ack: h.L });
      h.expectOne({ flags: 'A', seq: h.L, ack: h.R + 1 });
      h.expectState('CLOSE-WAIT');
      if (st === 'CLOSE-WAIT') return h;
      h.close();
      h.expectOne({ flags: 'FA', seq: h.L, ack: h.R + 1 });
      h.expectState('LAST-ACK');
      return h;
    default:
      throw new Error(`no fixture for ${st}`);
  }
}

/**
 * The parts of a connection that define "being in state S", relative to ISS/IRS so two
 * connections reached by different paths compare equal (smoltcp compares whole sockets).
 */
export function snapshot(t: Tcb): Record<string, unknown> {
  const rel = (v: number, base: number): number => seqDiff(v, base);
  return {
    state: t.state,
    sndUna: rel(t.sndUna, t.iss), sndNxt: rel(t.sndNxt, t.iss), sndMax: rel(t.sndMax, t.iss),
    sndWnd: t.sndWnd, sndWl1: rel(t.sndWl1, t.irs), sndWl2: rel(t.sndWl2, t.iss),
    rcvNxt: rel(t.rcvNxt, t.irs), irs: t.irs,
    finQueued: t.finQueued, finReceived: t.finReceived,
    wsOk: t.wsOk, sndWscale: t.sndWscale, rcvWscale: t.rcvWscale, sackOk: t.sackOk, tsOk: t.tsOk,
    mssPeer: t.mssPeer, effMss: t.effMss,
    sendQ: t.sndBuf.length, recvQ: t.rcvBuf.readable,
    rto: t.rtoAt !== Infinity, persist: t.persistAt !== Infinity, delack: t.delackAt !== Infinity,
    timeWait: t.timeWaitAt !== Infinity, finWait2: t.finWait2At !== Infinity,
    retransmits: t.retransmits,
  };
}
