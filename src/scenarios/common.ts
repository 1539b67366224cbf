// Shared scaffolding for the scenarios: a two-host world with fault injectors on both
// sides and a recorder, small trace queries (state sequences, segments), packet matchers
// for scripted drops, and a check list.
import type { Instant } from '../time/instant.js';
import type { StackOptions } from '../stack/options.js';
import type { Stack } from '../stack/stack.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/types.js';
import type { FaultyLink } from '../link/faulty.js';
import type { LinkEnd, Observable } from '../link/types.js';
import type { ConnId, SegmentEvent, SegmentTraceOptions, StateEvent, TimerEvent } from '../trace/events.js';
import { newTcpOptionSummary, scanTcpOptions } from '../wire/tcpoptions.js';
import { Simulation } from '../sim/simulation.js';
import { twoHosts } from '../sim/hosts.js';
import { TraceRecorder, type RecordedEvent } from '../trace/recorder.js';
import { parseIpv4, IPPROTO_TCP } from '../wire/ipv4.js';
import { TcpView, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, flagsToString } from '../wire/tcp.js';
import type { ScenarioCheck, ScenarioResult } from './types.js';

export const MS = 1000;
export const SEC = 1_000_000;
/** One-way link delay used by the scenarios: visible in diagrams (RTT 10 ms). */
export const DELAY = 5 * MS;

export const CLIENT_ADDR = '198.18.0.1';
export const SERVER_ADDR = '198.18.0.2';

export interface World {
  sim: Simulation;
  /** The client (198.18.0.1) and the server (198.18.0.2). */
  a: Stack;
  b: Stack;
  /** Fault injectors on the client's and the server's sending side. */
  faultA: FaultyLink;
  faultB: FaultyLink;
  rawA: LinkEnd & Observable;
  rawB: LinkEnd & Observable;
  rec: TraceRecorder;
}

export interface WorldOptions {
  delay?: number;
  optionsA?: Partial<StackOptions>;
  optionsB?: Partial<StackOptions>;
}

/** Two hosts on a 5 ms link, fault injectors on both sides, everything recorded. */
export function makeWorld(seed: number, o: WorldOptions = {}): World {
  const ctx = currentRunContext();
  const sim = new Simulation({ seed });
  // Sysctl overrides of a what-if run (src/scenarios/run.ts) win over the scenario's own.
  const optionsA = ctx?.sysctls ? { ...o.optionsA, ...ctx.sysctls } : o.optionsA;
  const optionsB = ctx?.sysctls ? { ...o.optionsB, ...ctx.sysctls } : o.optionsB;
  const h = twoHosts(sim, { delay: o.delay ?? DELAY, faults: {}, optionsA, optionsB });
  const rec = new TraceRecorder();
  rec.attach(h.a).attach(h.b);
  rec.watchLink(h.faultA!).watchLink(h.faultB!);
  rec.capturePackets(h.faultA!).capturePackets(h.faultB!);
  const w: World = { sim, a: h.a, b: h.b, faultA: h.faultA!, faultB: h.faultB!, rawA: h.rawA, rawB: h.rawB, rec };
  ctx?.onWorld(w);
  return w;
}

// ------------------------------------------------------------------ run context

/**
 * What a run with a setup (src/scenarios/run.ts) adds to every world a scenario builds:
 * sysctl overrides, and a hook that installs segment drops and TCB snapshots. Scenarios run
 * synchronously, so one module-level slot is enough; runScenario sets and clears it.
 */
export interface RunContext {
  sysctls?: Partial<StackOptions>;
  onWorld(w: World): void;
}

let runContext: RunContext | null = null;

export function currentRunContext(): RunContext | null { return runContext; }

export function withRunContext<T>(ctx: RunContext, fn: () => T): T {
  const prev = runContext;
  runContext = ctx;
  try { return fn(); } finally { runContext = prev; }
}

export function result(w: World, checks: Checks, conn?: ConnId): ScenarioResult {
  const r: ScenarioResult = {
    recorder: w.rec,
    checks: checks.list,
    hosts: { [CLIENT_ADDR]: 'client', [SERVER_ADDR]: 'server' },
    stacks: { client: w.a, server: w.b },
  };
  if (conn !== undefined) r.conn = conn;
  return r;
}

// ------------------------------------------------------------------ checks

export class Checks {
  readonly list: ScenarioCheck[] = [];

  /** Record a check; returns `ok` so callers can chain logic on it. */
  ok(what: string, zh: string, ok: boolean, detail?: string): boolean {
    const c: ScenarioCheck = { what, zh, ok };
    if (detail !== undefined) c.detail = detail;
    this.list.push(c);
    return ok;
  }

  /** Deep equality (JSON) of an observed value with the expected one. */
  eq<T>(what: string, zh: string, actual: T, expected: T): boolean {
    const a = show(actual), e = show(expected);
    return this.ok(what, zh, a === e, a === e ? a : `expected ${e}, got ${a}`);
  }
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// ------------------------------------------------------------------ time

/** "0.010 s", "63.005 s", "2h 13m 15.010s" for long runs. */
export function fmtTime(t: Instant): string {
  if (t < 3600 * SEC) return `${(t / SEC).toFixed(3)} s`;
  const s = t / SEC;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return `${h}h ${m}m ${(s % 60).toFixed(3)}s`;
}

/** Differences between consecutive instants. */
export function gaps(ts: Instant[]): Instant[] {
  const out: Instant[] = [];
  for (let i = 1; i < ts.length; i++) out.push(ts[i]! - ts[i - 1]!);
  return out;
}

/** Instants in seconds, rounded to the millisecond (for readable checks). */
export function secs(ts: Instant[]): number[] {
  return ts.map((t) => Math.round(t / MS) / 1000);
}

// ------------------------------------------------------------------ trace queries

export function addrOf(s: Stack): number { return s.traceHost; }

function sameConn(c: ConnId, port?: number): boolean {
  return port === undefined || c.localPort === port || c.remotePort === port;
}

/** State events of a host (optionally only the connection with that local or remote port). */
export function stateEvents(rec: TraceRecorder, host: Stack, port?: number): StateEvent[] {
  const h = addrOf(host);
  return rec.events.filter((e): e is StateEvent & RecordedEvent => e.type === 'state' && e.host === h && sameConn(e.conn, port));
}

/** The state path of a connection: ['CLOSED', 'SYN-SENT', 'ESTABLISHED', …]. */
export function statePath(rec: TraceRecorder, host: Stack, port?: number): TcpState[] {
  const ev = stateEvents(rec, host, port);
  if (ev.length === 0) return [];
  return [ev[0]!.from, ...ev.map((e) => e.to)];
}

/** When the connection entered `state` (first time), or -1. */
export function enteredAt(rec: TraceRecorder, host: Stack, state: TcpState, port?: number): Instant {
  const e = stateEvents(rec, host, port).find((x) => x.to === state);
  return e === undefined ? -1 : e.t;
}

export type Seg = SegmentEvent & { lost?: boolean };

/** Segments a host sent (dir 'out') or received ('in'), optionally by connection port. */
export function segments(rec: TraceRecorder, host: Stack, dir: 'in' | 'out' = 'out', port?: number): Seg[] {
  const h = addrOf(host);
  return rec.events.filter((e): e is Seg => e.type === 'segment' && e.host === h && e.dir === dir && sameConn(e.conn, port));
}

export function timerEvents(rec: TraceRecorder, host: Stack, timer: TimerEvent['timer'], action?: TimerEvent['action']): TimerEvent[] {
  const h = addrOf(host);
  return rec.events.filter((e): e is TimerEvent & RecordedEvent => e.type === 'timer' && e.host === h && e.timer === timer && (action === undefined || e.action === action));
}

export const isSyn = (s: Seg): boolean => (s.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
export const isSynAck = (s: Seg): boolean => (s.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
export const isFin = (s: Seg): boolean => (s.flags & TCP_FIN) !== 0;
export const isRst = (s: Seg): boolean => (s.flags & TCP_RST) !== 0;
/** A pure ACK: no SYN/FIN/RST, no data. */
export const isPureAck = (s: Seg): boolean => (s.flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0 && (s.flags & TCP_ACK) !== 0 && s.len === 0;

/** "S", "S.", "F.", "R." … per segment: the shape of an exchange. */
export function flagList(segs: Seg[]): string[] {
  return segs.map((s) => flagsToString(s.flags));
}

/** Segments of the whole run between the two hosts in time order as "C>S S" / "S>C S." strings. */
export function exchange(rec: TraceRecorder, client: Stack, port?: number): string[] {
  const c = addrOf(client);
  return rec.events
    .filter((e): e is Seg => e.type === 'segment' && e.dir === 'out' && sameConn(e.conn, port))
    .map((s) => `${s.host === c ? 'C>S' : 'S>C'} ${flagsToString(s.flags)}${s.len > 0 ? ` ${s.len}` : ''}${s.lost ? ' (lost)' : ''}`);
}

// ------------------------------------------------------------------ packets (for dropWhen)

export interface PktInfo { src: number; dst: number; srcPort: number; dstPort: number; seq: number; ack: number; flags: number; len: number; win: number }

const view = new TcpView();

/** The TCP header fields of an IPv4 packet, or null when it is not TCP. */
export function pktInfo(packet: Uint8Array): PktInfo | null {
  const r = parseIpv4(packet, { verifyChecksum: false });
  if (!r.ok || r.value.protocol !== IPPROTO_TCP || r.value.isFragment) return null;
  if (view.reset(r.value.payload) !== null) return null;
  return {
    src: r.value.src, dst: r.value.dst, srcPort: view.srcPort, dstPort: view.dstPort, seq: view.seq, ack: view.ack,
    flags: view.flags, len: view.payloadLength, win: view.window,
  };
}

/** A packet matcher on TCP flags: exactly these among SYN/ACK/FIN/RST (and `data` for payload). */
export function pktIs(kind: 'SYN' | 'SYN-ACK' | 'ACK' | 'FIN' | 'RST' | 'DATA'): (p: Uint8Array) => boolean {
  return (p) => {
    const i = pktInfo(p);
    if (i === null) return false;
    const f = i.flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST);
    switch (kind) {
      case 'SYN': return f === TCP_SYN;
      case 'SYN-ACK': return f === (TCP_SYN | TCP_ACK);
      case 'ACK': return f === TCP_ACK && i.len === 0;
      case 'FIN': return (f & TCP_FIN) !== 0;
      case 'RST': return (f & TCP_RST) !== 0;
      case 'DATA': return i.len > 0;
    }
  };
}

// ------------------------------------------------------------------ applications

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

/** Accept every connection on `port`, calling `onConn` with the child TCB. */
export function serve(b: Stack, port: number, onConn: (t: Tcb) => void, backlog?: number): ReturnType<Stack['listen']> {
  const l = b.listen(backlog === undefined ? { port } : { port, backlog });
  l.onAcceptable = () => {
    for (let t = l.accept(); t !== null; t = l.accept()) onConn(t);
  };
  return l;
}

/** A reader that collects everything a connection receives. */
export function collect(tcb: Tcb, now: () => Instant): { data: number[]; text(): string; ended: boolean } {
  const got = { data: [] as number[], ended: false, text(): string { return dec.decode(new Uint8Array(this.data)); } };
  const prev = tcb.user ?? {};
  tcb.user = {
    ...prev,
    onReadable: () => { const d = tcb.receive(1 << 20, now()); for (const x of d) got.data.push(x); prev.onReadable?.(); },
    onEnd: () => { got.ended = true; prev.onEnd?.(); },
  };
  return got;
}

/** The TCP options of an IPv4/TCP packet as the trace records them (what the pcap shows). */
export function pktOptions(packet: Uint8Array): SegmentTraceOptions {
  const r = parseIpv4(packet, { verifyChecksum: false });
  const o: SegmentTraceOptions = {};
  if (!r.ok || view.reset(r.value.payload) !== null) return o;
  const s = newTcpOptionSummary();
  if (scanTcpOptions(r.value.payload, view.optionsOffset, view.optionsLength, s) !== null) return o;
  if (s.mss >= 0) o.mss = s.mss;
  if (s.wscale >= 0) o.wscale = s.wscale;
  if (s.sackPermitted) o.sackOK = true;
  if (s.tsPresent) o.ts = { val: s.tsVal, ecr: s.tsEcr };
  if (s.sackCount > 0) {
    o.sack = [];
    for (let k = 0; k < s.sackCount; k++) o.sack.push([s.sackBlocks[2 * k]!, s.sackBlocks[2 * k + 1]!]);
  }
  return o;
}

/**
 * Put a crafted packet on the wire as if `from` had sent it (an old duplicate from an
 * earlier incarnation): recorded as an outgoing segment of `from`, then sent on its link.
 */
/** An annotation in the diagram beside `host`'s lifeline, on connection `conn` (from that host's side). */
export function note(w: World, host: Stack, conn: ConnId, text: string): void {
  w.rec.events.push({ type: 'user', t: w.sim.now(), host: host.traceHost, conn, call: 'note', detail: text });
}

export function injectFrom(w: World, from: Stack, packet: Uint8Array, extra: Partial<SegmentEvent> = {}): void {
  const i = pktInfo(packet);
  if (i !== null) {
    w.rec.events.push({
      type: 'segment', t: w.sim.now(), host: from.traceHost,
      conn: { localAddr: i.src, localPort: i.srcPort, remoteAddr: i.dst, remotePort: i.dstPort },
      dir: 'out', seq: i.seq, ack: i.ack, flags: i.flags, win: i.win, len: i.len, urg: 0, options: pktOptions(packet), injected: true, ...extra,
    } as SegmentEvent);
  }
  (from === w.a ? w.faultA : w.faultB).send(packet);
}
