// A seeded bidirectional transfer between two simulated hosts, with half-close, random
// application behaviour (write/read chunk sizes and pacing, synchronous or deferred
// callbacks), random link faults and random stack options. Invariants are checked after
// every Simulation.step(); data is compared byte by byte against a regenerable stream and
// with a running FNV-1a hash. Used by the property runs, the wraparound tests and the long
// (10 MB / 100 MB) runs.
import { Simulation } from '../../../src/sim/simulation.js';
import { twoHosts, type TwoHosts } from '../../../src/sim/hosts.js';
import { Rng } from '../../../src/sim/rng.js';
import type { FaultOptions } from '../../../src/link/faulty.js';
import type { StackOptions } from '../../../src/stack/options.js';
import type { Tcb } from '../../../src/tcp/tcb.js';
import type { Stack } from '../../../src/stack/stack.js';
import type { TraceEvent } from '../../../src/trace/events.js';
import { InvariantChecker, describeTcb, type AppCounters } from './invariants.js';

// ------------------------------------------------------------------ data

const BLOCK = 65521; // prime: block boundaries never line up with segment sizes

/** A deterministic byte stream: byte i = block[i mod P] xor (i div P)·131, cheap to regenerate at any offset. */
export class DataStream {
  private readonly block: Uint8Array;
  constructor(seed: number) {
    this.block = new Rng(seed).fork('data').bytes(BLOCK);
  }
  fill(pos: number, out: Uint8Array, off: number, len: number): void {
    const b = this.block;
    let i = pos % BLOCK;
    let k = (Math.floor(pos / BLOCK) * 131) & 255;
    for (let j = 0; j < len; j++) {
      out[off + j] = b[i]! ^ k;
      if (++i === BLOCK) { i = 0; k = (k + 131) & 255; }
    }
  }
  /** Index in `data` of the first byte that differs from the stream at `pos`, or -1. */
  mismatch(pos: number, data: Uint8Array): number {
    const b = this.block;
    let i = pos % BLOCK;
    let k = (Math.floor(pos / BLOCK) * 131) & 255;
    for (let j = 0; j < data.length; j++) {
      if (data[j] !== (b[i]! ^ k)) return j;
      if (++i === BLOCK) { i = 0; k = (k + 131) & 255; }
    }
    return -1;
  }
}

/** FNV-1a (32-bit) over data[off, off+len), continuing from h. */
export function fnv1a(h: number, data: Uint8Array, off = 0, len = data.length - off): number {
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}
export const FNV_BASIS = 0x811c9dc5;

// ------------------------------------------------------------------ spec

export interface TransferSpec {
  seed: number;
  mtu: number;
  /** One-way propagation delay, µs. */
  delay: number;
  /** Link rate in bits/s (0 = infinite). */
  bandwidth: number;
  faultsAtoB?: FaultOptions;
  faultsBtoA?: FaultOptions;
  optionsA?: Partial<StackOptions>;
  optionsB?: Partial<StackOptions>;
  /** Bytes the client (A) sends, and the server (B). */
  bytesAtoB: number;
  bytesBtoA: number;
  /** Client socket buffers (the server's come from optionsB.tcp_rmem/tcp_wmem). */
  clientRcvBuf?: number;
  clientSndBuf?: number;
  /** Largest tcb.send() call; pause between write bursts of writeBurst bytes (writeGap 0: write whenever there is room). */
  writeChunk: number;
  writeGap: number;
  writeBurst: number;
  /** Largest tcb.receive() call; delay before reading (0: read everything inside the callback), bytes read per wake-up. */
  readChunk: number;
  readDelay: number;
  readBurst: number;
  /** Run user callbacks inside the engine's call (true) or as a separate event at the same instant. */
  syncCallbacks: boolean;
  noDelayA: boolean;
  noDelayB: boolean;
  /** After EOF and everything read, also call close() (orphan) — after the shutdown(SHUT_WR). */
  orphanCloseA: boolean;
  orphanCloseB: boolean;
  /** Keepalive (idle µs) on both ends, 0 = off. */
  keepIdle: number;
  /** Forced ISNs (client via ConnectOptions.iss, server via Stack.isnOverride). */
  issA?: number;
  issB?: number;
  /** Give up after this much virtual time (µs). */
  maxTime: number;
  /** Check the invariants after every step (default true). */
  checkInvariants?: boolean;
  /** Keep a log of the last trace events for failure reports. */
  traceTail?: number;
  /** Hook for tests and debugging: called once with the hosts before the connection starts. */
  debug?: (h: TwoHosts, sim: Simulation) => void;
}

export interface SideResult {
  sent: number;
  received: number;
  sentHash: number;
  receivedHash: number;
  state: string;
  closeError: string | null;
  closeCause: string | null;
  retransmits: number;
  segsOut: number;
  /** Initial send sequence number and the final SND.MAX (to see the sequence space wrap). */
  iss: number;
  sndMax: number;
}

export interface TransferResult {
  spec: TransferSpec;
  /** Undefined when everything held. */
  error?: string;
  virtualTime: number;
  steps: number;
  checks: number;
  /** When the last payload byte was read (either direction), µs. */
  dataDoneAt: number;
  a: SideResult;
  b: SideResult;
  trace: string[];
}

/** A plain transfer (clean 1500-byte link, 5 ms each way, default options) to override field by field. */
export function baseSpec(seed: number, over: Partial<TransferSpec> = {}): TransferSpec {
  return {
    seed, mtu: 1500, delay: 5000, bandwidth: 0, bytesAtoB: 100_000, bytesBtoA: 100_000,
    writeChunk: 1 << 30, writeGap: 0, writeBurst: 1 << 30, readChunk: 1 << 30, readDelay: 0, readBurst: 1 << 30,
    syncCallbacks: true, noDelayA: false, noDelayB: false, orphanCloseA: true, orphanCloseB: true, keepIdle: 0,
    maxTime: 4 * 3600 * 1_000_000,
    ...over,
  };
}

// ------------------------------------------------------------------ random specs

function logUniform(r: Rng, lo: number, hi: number): number {
  return Math.floor(Math.exp(Math.log(lo) + r.float() * (Math.log(hi) - Math.log(lo))));
}

function randomFaults(r: Rng): FaultOptions {
  const f: FaultOptions = {};
  if (r.chance(0.8)) f.loss = r.float() * 0.2;
  if (r.chance(0.4)) f.reorder = r.float() * 0.3;
  if (r.chance(0.3)) f.duplicate = r.float() * 0.1;
  if (r.chance(0.3)) f.corrupt = r.float() * 0.05;
  if (r.chance(0.4)) f.jitter = r.int(0, 20_001);
  if (r.chance(0.2)) f.delay = r.int(0, 20_001);
  if (r.chance(0.1)) { f.rate = logUniform(r, 1_000_000, 50_000_000); f.queueLimit = logUniform(r, 8_000, 200_000); }
  return f;
}

function randomOptions(r: Rng, bufs: boolean): Partial<StackOptions> {
  const o: Partial<StackOptions> = {
    tcp_sack: r.chance(0.5) ? 1 : 0,
    tcp_timestamps: r.chance(0.5) ? 1 : 0,
    tcp_window_scaling: r.chance(0.5) ? 1 : 0,
    tcp_congestion_control: r.chance(0.5) ? 'cubic' : 'newreno',
    // Enough retries that 20% loss each way cannot plausibly exhaust them (0.36^13 per attempt).
    tcp_syn_retries: 12,
    tcp_synack_retries: 12,
    tcp_orphan_retries: 15,
    // TIME-WAIT (2·MSL) must outlast the peer's backed-off FIN retransmissions, up to
    // tcp_rto_max = 120 s (RFC 9293 assumes MSL = 2 min, TIME-WAIT 4 min). Shorter, 20% loss
    // can end a run in a legitimate RST: the peer's last FIN arrives after TIME-WAIT ended.
    // At least 2 min: the backoff persists until a fresh RTT sample (RFC 6298 §5, Karn), so
    // without timestamps under heavy loss the RTO sits at 120 s, and a TIME-WAIT of 2·60 s
    // outlasted only one such retransmission (seed 162: the FIN and its first resend lost).
    tcp_msl: r.int(120, 181),
  };
  if (r.chance(0.3)) o.tcp_syncookies = r.chance(0.5) ? 2 : 0;
  if (r.chance(0.3)) o.tcp_delack_min = r.int(1, 201);
  if (r.chance(0.3)) o.tcp_quickack_segments = r.int(0, 17);
  if (r.chance(0.3)) o.tcp_rto_min = r.int(1, 201);
  if (r.chance(0.2)) o.tcp_rto_initial = r.int(Math.max(o.tcp_rto_min ?? 200, 50), 3001);
  if (bufs) {
    const rcv = logUniform(r, 256, 262_145);
    const snd = logUniform(r, 256, 262_145);
    o.tcp_rmem = [Math.min(rcv, 4096), rcv, Math.max(rcv, r.chance(0.5) ? rcv : 6_291_456)];
    o.tcp_wmem = [Math.min(snd, 4096), snd, Math.max(snd, 4_194_304)];
  }
  return o;
}

/** A random transfer: faults up to 20% loss, reordering, duplication, corruption, jitter; random MTU, buffers, options. */
export function randomSpec(seed: number): TransferSpec {
  const r = new Rng(seed).fork('spec');
  const mtu = r.chance(0.1) ? (r.chance(0.5) ? 9000 : r.int(128, 300)) : r.int(300, 1501);
  const size = (): number => (r.chance(0.05) ? 0 : logUniform(r, 1000, 200_001));
  const spec: TransferSpec = {
    seed,
    mtu,
    delay: r.chance(0.1) ? 0 : r.int(100, 50_001),
    bandwidth: r.chance(0.5) ? 0 : logUniform(r, 1_000_000, 1_000_000_000),
    faultsAtoB: randomFaults(r),
    faultsBtoA: randomFaults(r),
    optionsA: randomOptions(r, false),
    optionsB: randomOptions(r, true),
    bytesAtoB: size(),
    bytesBtoA: size(),
    clientRcvBuf: logUniform(r, 256, 262_145),
    clientSndBuf: logUniform(r, 256, 262_145),
    writeChunk: r.chance(0.3) ? 1 << 30 : logUniform(r, 1, 65_537),
    writeGap: r.chance(0.5) ? 0 : r.int(0, 100_001),
    writeBurst: logUniform(r, 500, 65_537),
    readChunk: r.chance(0.3) ? 1 << 30 : logUniform(r, 1, 65_537),
    readDelay: r.chance(0.4) ? 0 : r.int(0, 200_001),
    readBurst: logUniform(r, 500, 65_537),
    syncCallbacks: r.chance(0.5),
    noDelayA: r.chance(0.5),
    noDelayB: r.chance(0.5),
    orphanCloseA: r.chance(0.5),
    orphanCloseB: r.chance(0.5),
    // Linux's floor for TCP_KEEPIDLE/TCP_KEEPINTVL is 1 s (below 500 ms, replies to the
    // probes themselves fall under tcp_invalid_ratelimit).
    keepIdle: r.chance(0.15) ? r.int(1_000_000, 5_000_001) : 0,
    maxTime: 4 * 3600 * 1_000_000,
  };
  // Tiny writes make one segment per call (with TCP_NODELAY, or once Nagle lets go): keep those
  // runs short so 1,000 seeds stay fast.
  if (spec.writeChunk < 64) { spec.bytesAtoB = Math.min(spec.bytesAtoB, 5_000); spec.bytesBtoA = Math.min(spec.bytesBtoA, 5_000); }
  // Always-on SYN cookies (Linux layout: cookie = H0 + client ISN + …, additive) cannot tell a
  // late ACK from the peer's TIME-WAIT (answering a duplicated FIN after we closed) from a
  // cookie ACK when both directions carried nearly the same number of bytes: seq and ack moved
  // by amounts differing by less than the 2-bit MSS index, and a phantom connection is
  // accepted. Linux behaves the same; it is a property of the cookie layout (see the report),
  // so such runs use sizes at least 4 apart.
  if (spec.optionsB!.tcp_syncookies === 2 && Math.abs(spec.bytesAtoB - spec.bytesBtoA) < 4) spec.bytesBtoA = spec.bytesAtoB + 4;
  if (r.chance(0.1)) spec.issA = (2 ** 32 - r.int(1, 10_001)) >>> 0;
  if (r.chance(0.1)) spec.issB = (2 ** 32 - r.int(1, 10_001)) >>> 0;
  return spec;
}

// ------------------------------------------------------------------ the run

interface Side {
  name: string;
  tcb: Tcb | null;
  stack: Stack;
  out: DataStream;
  outTotal: number;
  inp: DataStream;
  inTotal: number;
  app: AppCounters;
  sentHash: number;
  receivedHash: number;
  shutdownDone: boolean;
  eof: boolean;
  orphanDone: boolean;
  writeScheduled: boolean;
  readScheduled: boolean;
  noDelay: boolean;
  orphanClose: boolean;
  closeError: string | null;
  closeCause: string | null;
  sawTimeWait: boolean;
}

class Failure extends Error {}

export function runTransfer(spec: TransferSpec): TransferResult {
  const sim = new Simulation({ seed: spec.seed });
  // With SYN cookies always on, a client segment other than the first one that reaches the
  // listener before the handshake's ACK fails the cookie check and draws a RST (Linux
  // cookie_v4_check hashes SEG.SEQ-1 the same way). That is the cookie trade-off, not a bug:
  // the client→server faults start once the server has accepted.
  const cookies = spec.optionsB?.tcp_syncookies === 2;
  const hosts = twoHosts(sim, {
    mtu: spec.mtu, delay: spec.delay, bandwidth: spec.bandwidth,
    faultsAtoB: cookies && spec.faultsAtoB !== undefined ? {} : spec.faultsAtoB, faultsBtoA: spec.faultsBtoA,
    optionsA: spec.optionsA, optionsB: spec.optionsB,
  });
  const { a, b } = hosts;
  if (spec.issB !== undefined) { const iss = spec.issB; b.isnOverride = () => iss; }
  const trace: string[] = [];
  const tail = spec.traceTail ?? 0;
  if (tail > 0) {
    const log = (who: string) => (ev: TraceEvent) => {
      trace.push(`${ev.t} ${who} ${formatEvent(ev)}`);
      if (trace.length > tail) trace.shift();
    };
    a.addTraceListener(log('A'));
    b.addTraceListener(log('B'));
  }
  spec.debug?.(hosts, sim);
  const checker = new InvariantChecker([a, b]);
  const rng = new Rng(spec.seed).fork('app');
  const streamAB = new DataStream(spec.seed * 2 + 1);
  const streamBA = new DataStream(spec.seed * 2 + 2);
  const mk = (name: string, stack: Stack, out: DataStream, outTotal: number, inp: DataStream, inTotal: number, noDelay: boolean, orphanClose: boolean): Side => ({
    name, tcb: null, stack, out, outTotal, inp, inTotal, app: { written: 0, read: 0 },
    sentHash: FNV_BASIS, receivedHash: FNV_BASIS, shutdownDone: false, eof: false, orphanDone: false,
    writeScheduled: false, readScheduled: false, noDelay, orphanClose, closeError: null, closeCause: null, sawTimeWait: false,
  });
  const A = mk('A', a, streamAB, spec.bytesAtoB, streamBA, spec.bytesBtoA, spec.noDelayA, spec.orphanCloseA);
  const B = mk('B', b, streamBA, spec.bytesBtoA, streamAB, spec.bytesAtoB, spec.noDelayB, spec.orphanCloseB);
  const scratch = new Uint8Array(65536);
  let failure: string | null = null;
  let dataDoneAt = 0;
  const fail = (msg: string): never => { throw new Failure(msg); };

  /** Run a user action inside the current engine call, or as its own event at this instant. */
  const callback = (fn: () => void): void => {
    if (spec.syncCallbacks) fn();
    else sim.at(sim.now(), fn);
  };

  const pump = (s: Side): void => {
    const t = s.tcb!;
    if (t.state === 'CLOSED' || s.shutdownDone) return;
    let burst = spec.writeGap > 0 ? spec.writeBurst : Infinity;
    while (s.app.written < s.outTotal && burst > 0) {
      // Generate only what the buffer can take (send() would accept no more anyway).
      const len = Math.min(s.outTotal - s.app.written, spec.writeChunk, scratch.length, burst, Math.max(1, t.sendSpace));
      s.out.fill(s.app.written, scratch, 0, len);
      const n = t.send(scratch, sim.now(), 0, len);
      if (n < 0) fail(`${s.name}: send() refused in ${t.state}`);
      if (n === 0) break;
      s.sentHash = fnv1a(s.sentHash, scratch, 0, n);
      s.app.written += n;
      burst -= n;
    }
    if (s.app.written === s.outTotal) {
      // Half-close: shutdown(SHUT_WR), we keep reading.
      s.shutdownDone = true;
      t.close(sim.now(), false);
      maybeFinish(s);
    } else if (spec.writeGap > 0 && burst <= 0 && !s.writeScheduled) {
      s.writeScheduled = true;
      sim.after(rng.int(0, spec.writeGap + 1), () => { s.writeScheduled = false; pump(s); });
    }
  };

  const drain = (s: Side): void => {
    const t = s.tcb!;
    let burst = spec.readDelay > 0 ? spec.readBurst : Infinity;
    while (t.readable > 0 && burst > 0) {
      const d = t.receive(spec.readChunk, sim.now());
      if (d.length === 0) fail(`${s.name}: receive() returned nothing with ${t.readable} readable`);
      const bad = s.inp.mismatch(s.app.read, d);
      if (bad >= 0) fail(`${s.name}: byte ${s.app.read + bad} differs (chunk of ${d.length} at ${s.app.read})`);
      if (s.app.read + d.length > s.inTotal) fail(`${s.name}: received ${s.app.read + d.length} > ${s.inTotal} bytes`);
      s.receivedHash = fnv1a(s.receivedHash, d);
      s.app.read += d.length;
      if (s.app.read === s.inTotal) dataDoneAt = Math.max(dataDoneAt, sim.now());
      burst -= d.length; // a slow reader takes readBurst bytes per wake-up
    }
    if (t.readable > 0) scheduleRead(s);
    maybeFinish(s);
  };

  const scheduleRead = (s: Side): void => {
    if (s.readScheduled) return;
    if (spec.readDelay === 0) { callback(() => drain(s)); return; }
    s.readScheduled = true;
    sim.after(rng.int(0, spec.readDelay + 1), () => { s.readScheduled = false; if (s.tcb!.state !== 'CLOSED' || s.tcb!.readable > 0) drain(s); });
  };

  const maybeFinish = (s: Side): void => {
    const t = s.tcb!;
    if (!s.eof || t.readable > 0 || !s.shutdownDone || s.orphanDone) return;
    if (s.app.read !== s.inTotal) fail(`${s.name}: EOF after ${s.app.read} of ${s.inTotal} bytes`);
    if (s.orphanClose && t.state !== 'CLOSED') { s.orphanDone = true; t.close(sim.now()); }
  };

  const attach = (s: Side, t: Tcb): void => {
    s.tcb = t;
    checker.attachApp(t, s.app);
    t.noDelay = s.noDelay;
    if (spec.keepIdle > 0) t.setKeepAlive(sim.now(), true, spec.keepIdle, Math.max(1_000_000, spec.keepIdle >>> 2), 20);
    t.user = {
      onEstablished: () => callback(() => pump(s)),
      onWritable: () => callback(() => pump(s)),
      onReadable: () => scheduleRead(s),
      onEnd: () => { s.eof = true; callback(() => maybeFinish(s)); },
      onClosed: (err, cause) => {
        s.closeError = err; s.closeCause = cause;
        // Entered and left TIME-WAIT within one step (a RST ending it at once): both FINs done.
        if (cause === 'time-wait-done' || (cause === 'reset' && t.finReceived && t.finAcked)) s.sawTimeWait = true;
      },
    };
  };

  const l = b.listen({ port: 80 });
  let accepted = 0;
  l.onAcceptable = () => {
    const t = l.accept();
    if (t === null) return;
    accepted++;
    if (accepted > 1) { failure ??= `a second connection was accepted: ${describeTcb(t)}`; return; }
    attach(B, t);
    if (cookies && spec.faultsAtoB !== undefined) hosts.faultA!.configure(spec.faultsAtoB);
    // Data (even a FIN) may have arrived before accept().
    if (t.finReceived) B.eof = true;
    if (t.readable > 0) scheduleRead(B);
    callback(() => pump(B));
  };
  const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, rcvBuf: spec.clientRcvBuf, sndBuf: spec.clientSndBuf, iss: spec.issA });
  attach(A, c);
  c.openActive(sim.now());

  const check = spec.checkInvariants !== false;
  const deadline = sim.now() + spec.maxTime;
  let steps = 0;
  const extra: Tcb[] = [];
  try {
    for (;;) {
      if (failure !== null) break;
      if (sim.now() > deadline) { failure = `not finished after ${spec.maxTime} µs of virtual time`; break; }
      if (!sim.step()) break;
      steps++;
      if (A.tcb!.state === 'TIME-WAIT') A.sawTimeWait = true;
      if (B.tcb !== null && B.tcb.state === 'TIME-WAIT') B.sawTimeWait = true;
      if (check) {
        extra.length = 0;
        extra.push(A.tcb!);
        if (B.tcb !== null) extra.push(B.tcb);
        checker.checkAll(sim.now(), extra);
      }
    }
  } catch (e) {
    failure = e instanceof Failure ? e.message : `exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }

  if (failure === null) {
    failure = finalCheck(A, B, a, b, accepted);
  }
  b.closeListener(l);
  const side = (s: Side): SideResult => ({
    sent: s.app.written, received: s.app.read, sentHash: s.sentHash, receivedHash: s.receivedHash,
    state: s.tcb?.state ?? 'none', closeError: s.closeError, closeCause: s.closeCause,
    retransmits: s.tcb?.retransmittedSegs ?? 0, segsOut: s.tcb?.segsOut ?? 0,
    iss: s.tcb?.iss ?? 0, sndMax: s.tcb?.sndMax ?? 0,
  });
  const res: TransferResult = {
    spec, virtualTime: sim.now(), steps, checks: checker.checks, dataDoneAt, a: side(A), b: side(B), trace,
  };
  if (failure !== null) res.error = failure;
  return res;
}

function finalCheck(A: Side, B: Side, a: Stack, b: Stack, accepted: number): string | null {
  if (accepted !== 1 || B.tcb === null) return `server accepted ${accepted} connections`;
  for (const s of [A, B]) {
    const t = s.tcb!;
    if (t.state !== 'CLOSED') return `${s.name} ended in ${t.state}: ${describeTcb(t)}`;
    if (s.closeError !== null) return `${s.name} closed with ${s.closeError} (${s.closeCause})`;
    if (s.app.written !== s.outTotal) return `${s.name} wrote ${s.app.written} of ${s.outTotal}`;
    if (s.app.read !== s.inTotal) return `${s.name} read ${s.app.read} of ${s.inTotal}`;
    if (!s.eof) return `${s.name} never saw EOF`;
  }
  if (A.sentHash !== B.receivedHash) return `A->B hash ${A.sentHash} != ${B.receivedHash}`;
  if (B.sentHash !== A.receivedHash) return `B->A hash ${B.sentHash} != ${A.receivedHash}`;
  // The active closer goes through TIME-WAIT (or both, on a simultaneous close). A RST may
  // end TIME-WAIT early (RFC 9293 §3.10.7.4 second step; the RFC 1337 hazard, as Linux's
  // default tcp_rfc1337=0), e.g. the peer's answer to a duplicated last ACK.
  if (!A.sawTimeWait && !B.sawTimeWait) return `nobody went through TIME-WAIT (A ${A.closeCause}, B ${B.closeCause})`;
  for (const s of [A, B]) {
    const okCause = s.sawTimeWait ? s.closeCause === 'time-wait-done' || s.closeCause === 'reset' : s.closeCause === 'normal';
    if (!okCause) return `${s.name} closed by ${s.closeCause} (TIME-WAIT seen: ${s.sawTimeWait})`;
  }
  for (const [n, s] of [['A', a], ['B', b]] as const) {
    if (s.connectionCount !== 0) return `${n}: ${s.connectionCount} connections left: ${s.tcbs().map(describeTcb).join('; ')}`;
    if (s.pendingTimers !== 0) return `${n}: ${s.pendingTimers} timers left`;
  }
  return null;
}

export function formatEvent(ev: TraceEvent): string {
  switch (ev.type) {
    case 'segment': return `${ev.dir} seq=${ev.seq} ack=${ev.ack} f=${ev.flags.toString(16)} win=${ev.win} len=${ev.len}${ev.retransmit ? ' R' : ''}${ev.options.ts ? ` ts=${ev.options.ts.val}/${ev.options.ts.ecr}` : ''}${ev.options.mss !== undefined ? ' mss=' + ev.options.mss : ''}${ev.options.wscale !== undefined ? ' ws=' + ev.options.wscale : ''}${ev.options.sack ? ' sack=' + JSON.stringify(ev.options.sack) : ''}`;
    case 'state': return `state ${ev.from}->${ev.to} (${ev.cause})`;
    case 'timer': return `timer ${ev.timer} ${ev.action}${ev.at !== undefined ? ' @' + ev.at : ''}`;
    case 'user': return `user ${ev.call}${ev.detail ? ' ' + ev.detail : ''}`;
    case 'drop': return `drop ${ev.reason}`;
    case 'arp': return `arp ${ev.dir} ${ev.op} ${ev.spa}->${ev.tpa}`;
    case 'neigh': return `neigh ${ev.addr} ${ev.from}->${ev.to}`;
    case 'dhcp': return `dhcp ${ev.role} ${ev.kind} ${ev.detail}`;
  }
}

/** A one-line summary of a failed run, with its seed. */
export function describeFailure(r: TransferResult): string {
  return `seed ${r.spec.seed}: ${r.error}\n  spec ${JSON.stringify(r.spec)}\n  ${r.trace.join('\n  ')}`;
}
