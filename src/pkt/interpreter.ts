// Running a packetdrill-dialect script against one synack Stack in virtual time.
//
// Semantics (packetdrill's): script time 0 is the start. Before each event, virtual time
// advances to the event's time, firing the stack's timers in deadline order on the way.
// Inbound lines are built and fed to stack.input(); outbound lines wait (up to the
// tolerance window) for the stack to send a matching packet; syscalls run on the socket
// layer; a call that blocks stays pending while later events run, and must return by its
// `...E` end time. Sequence numbers are relative to each side's ISN: the script's ISN is
// chosen per connection, ours is learned from our SYN / SYN-ACK.
import type { PacketEvent, PythonEvent, Script, ScriptEvent, SyscallEvent, TimePoint } from './ast.js';
import type { Instant } from '../time/instant.js';
import type { LinkEnd } from '../link/types.js';
import { Stack } from '../stack/stack.js';
import { resolveOptions, type StackOptions } from '../stack/options.js';
import { ManualClock } from '../time/clock.js';
import { Rng } from '../sim/rng.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { parseScript } from './parser.js';
import { applyOption, DEFAULT_CONFIG, type RunConfig } from './config.js';
import { applyShell, applySysctl } from './sysctl.js';
import { runPython } from './python.js';
import { tcpInfoOf } from './tcpinfo.js';
import { evalStateCommand, type StateQueryHost } from './shellstate.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { SocketLayer, type Call, type CallResult } from './syscalls.js';
import { EvalError, evalInt, formatExpr } from './consts.js';
import { canonicalErrno, errnoText } from './errno.js';
import { buildInbound, formatEvent, formatOut, parseOutbound, type ConnContext, type OutPacket } from './packet.js';
import { matchOutbound, type MatchOptions } from './matcher.js';
import type { Tcb } from '../tcp/tcb.js';

export interface RunOptions {
  /** Options as on packetdrill's command line, applied before the script's own option lines. */
  options?: Array<{ name: string; value: string }>;
  /** `--define NAME[=VALUE]` / `-D` names (`Linux` is always defined). */
  defines?: ReadonlyMap<string, string>;
  /**
   * Reads a file a shell command runs (`../common/defaults.sh`), by a path relative to the
   * script's directory (packetdrill's working directory in upstream harnesses). Returns null
   * when it cannot. Without it, such commands are reported as not run.
   */
  readFile?: (path: string) => string | null;
  /** Called with the stack before the first event (attach a TraceRecorder here). */
  onStack?: (stack: Stack) => void;
  /**
   * Sysctls (`net.core.rmem_max`, …) applied before the script's own: machine state a script
   * cannot set (`--target linux` mirrors the host's global net.core values, which a network
   * namespace only reads).
   */
  sysctls?: ReadonlyArray<readonly [string, string]>;
}

export interface Failure {
  line: number;
  message: string;
  /** Further lines: the script's packet and the one the stack sent, … */
  details: string[];
}

export interface RunResult {
  ok: boolean;
  failure: Failure | null;
  /** Things reported and ignored: unsupported options, shell commands, python blocks. */
  notes: string[];
  /** Virtual time when the run ended (µs). */
  endTime: Instant;
  /** The stack the script ran against (null when the script did not parse). */
  stack: Stack | null;
}

class ScriptFailure extends Error {
  constructor(readonly line: number, message: string, readonly details: string[] = []) { super(message); }
}

interface Pending {
  ev: SyscallEvent;
  call: Call;
  expectAt: Instant;
  lo: Instant;
  hi: Instant;
}

/** Seconds, as scripts write them. */
export function fmtTime(us: Instant): string {
  return `${+(us / 1e6).toFixed(6)}s`;
}

/** Guard against a timer that keeps re-arming at the same instant. */
const MAX_STEPS = 5_000_000;

class Runner {
  readonly cfg: RunConfig = { ...DEFAULT_CONFIG };
  readonly notes: string[] = [];
  readonly clock = new ManualClock(0);
  stack: Stack | null = null;
  private layer!: SocketLayer;
  private rng!: Rng;
  private readonly captured: OutPacket[] = [];
  private head = 0;
  private readonly contexts: ConnContext[] = [];
  private cur: ConnContext | null = null;
  private pending: Pending | null = null;
  /** Base for relative times: the previous event's time. */
  private base = 0;
  private line = 0;
  private steps = 0;
  private nextRemotePort = 40000;
  private match!: MatchOptions;

  constructor(private readonly script: Script, private readonly opts: RunOptions) {}

  run(): RunResult {
    try {
      this.configure();
      this.loop();
      this.finish();
    } catch (e) {
      if (e instanceof ScriptFailure) return this.result({ line: e.line, message: e.message, details: e.details });
      // A script must never crash the runner: anything unexpected is this line's failure.
      return this.result({ line: this.line, message: `internal error: ${(e as Error).message}`, details: [] });
    }
    return this.result(null);
  }

  private result(failure: Failure | null): RunResult {
    return { ok: failure === null, failure, notes: this.notes, endTime: this.clock.now(), stack: this.stack };
  }

  // ---------------------------------------------------------------- setup

  private configure(): void {
    for (const o of [...(this.opts.options ?? []).map((x) => ({ ...x, line: 0 })), ...this.script.options]) {
      try {
        const note = applyOption(this.cfg, o.name, o.value);
        if (note !== null) this.notes.push(note);
      } catch (e) {
        throw new ScriptFailure(o.line, (e as Error).message);
      }
    }
    this.match = { ignoreWin: this.cfg.ignoreWin, ignoreOptions: this.cfg.ignoreOptions, ignorePsh: this.cfg.ignorePsh, checkTsVal: this.cfg.checkTsVal };
    this.rng = new Rng(this.cfg.seed);
    // Shell lines at time 0 before anything else configure the stack before it exists.
    const options: StackOptions = resolveOptions();
    for (const [name, value] of this.opts.sysctls ?? []) applySysctl(options, name, value);
    for (const ev of this.script.events) {
      if (ev.type !== 'shell' || ev.time.kind !== 'point' || ev.time.at.us !== 0) break;
      this.shell(ev.command, ev.line, options);
    }
    const link: LinkEnd = { mtu: this.cfg.mtu, send: (p) => this.onSend(p), setReceiver: () => {} };
    const rng = this.rng.fork('stack');
    const stack = new Stack({ clock: this.clock, options, random: (n) => rng.bytes(n) });
    stack.addInterface({ addr: this.cfg.localAddr, prefixLen: 24, mtu: this.cfg.mtu, link });
    this.stack = stack;
    this.layer = new SocketLayer({
      stack, now: () => this.clock.now(), onActiveOpen: (tcb) => this.onActiveOpen(tcb),
      note: (text) => { if (!this.noted.has(text)) { this.noted.add(text); this.notes.push(`line ${this.syscallLine}: ${text}`); } },
      addrs: { localAddr: this.cfg.localAddr, bindPort: this.cfg.bindPort, remoteAddr: this.cfg.remoteAddr, connectPort: this.cfg.connectPort },
    });
    this.opts.onStack?.(stack);
  }

  private readonly noted = new Set<string>();
  /** The line of the system call being started (for notes). */
  private syscallLine = 0;

  private shell(command: string, line: number, o: StackOptions): void {
    // A state check (netstat/ss/sockstat | grep …) or tcpdrop: evaluated on the connection table.
    if (this.stack !== null) {
      const q = evalStateCommand(command, this.stateHost(this.stack));
      if (q.kind === 'done') {
        if (q.status !== 0) throw new ScriptFailure(line, `shell command failed (exit ${q.status}): ${command.trim()}`, [q.note]);
        return;
      }
      if (q.kind === 'unsupported') {
        this.notes.push(`line ${line}: shell state check not evaluated: ${q.why}`);
        return;
      }
    }
    const r = applyShell(command, o, { readFile: this.opts.readFile, env: this.script.defines });
    if (r.error !== null) throw new ScriptFailure(line, r.error);
    // Each thing ignored is reported once (defaults.sh is run by every script of a suite).
    for (const n of r.ignored) {
      if (this.noted.has(n)) continue;
      this.noted.add(n);
      this.notes.push(`line ${line}: ${n}`);
    }
  }

  private stateHost(stack: Stack): StateQueryHost {
    return {
      rows: () => stack.connections(),
      drop: (a, b) => {
        for (const t of stack.tcbs()) {
          const l = { addr: formatIpv4Address(t.localAddr), port: t.localPort };
          const r = { addr: formatIpv4Address(t.remoteAddr), port: t.remotePort };
          const same = (x: typeof a, y: typeof l): boolean => x.addr === y.addr && x.port === y.port;
          if ((same(a, l) && same(b, r)) || (same(a, r) && same(b, l))) {
            // FreeBSD tcpdrop: tcp_drop(tp, ECONNABORTED), a RST in synchronized states, then
            // the connection is gone and its socket reports ECONNABORTED.
            t.abort(this.now, 'tcpdrop');
            if (t.error === null) t.error = 'ECONNABORTED';
            return true;
          }
        }
        return false;
      },
    };
  }

  /** A `%{ assert … }%` block, against the tcp_info of the socket under test. */
  private python(ev: PythonEvent): void {
    const t = this.layer.socketUnderTest();
    const r = runPython(ev.code, t === null ? null : tcpInfoOf(t));
    for (const n of r.skipped) this.notes.push(`line ${ev.codeLine}: python ${n}`);
    if (r.failure !== null) throw new ScriptFailure(ev.codeLine, r.failure, [`tcp_info of the socket under test at ${fmtTime(this.now)}`]);
  }

  private onSend(p: Uint8Array): void {
    const out = parseOutbound(p, this.clock.now());
    if (out === null) return;
    out.line = this.line;
    this.captured.push(out);
  }

  // ---------------------------------------------------------------- time

  private get now(): Instant { return this.clock.now(); }

  private tolerance(gap: number): number {
    return Math.max(this.cfg.toleranceUs, Math.round((Math.max(0, gap) * this.cfg.tolerancePercent) / 100));
  }

  private resolve(p: TimePoint): Instant {
    return p.rel ? this.base + p.us : p.us;
  }

  /** Advance virtual time by one stack deadline (or pending-call deadline) at or before `limit`. */
  private stepOnce(limit: Instant): boolean {
    const st = this.stack!;
    let d = st.nextDeadline();
    const p = this.pending;
    // A blocked call's timeout and deadline are steps too (until they have passed).
    if (p !== null && p.call.wakeAt > this.now) d = Math.min(d, p.call.wakeAt);
    if (p !== null && p.hi > this.now) d = Math.min(d, p.hi);
    if (d === Infinity || d > limit) return false;
    if (++this.steps > MAX_STEPS) throw new ScriptFailure(this.line, `virtual time is stuck at ${fmtTime(this.now)} (a timer keeps re-arming)`);
    if (d > this.now) this.clock.set(d);
    st.poll(this.now);
    this.checkPending();
    return true;
  }

  private advanceTo(target: Instant): void {
    while (this.stepOnce(target)) { /* fire timers in deadline order */ }
    if (target > this.now) this.clock.set(target);
    this.checkPending();
  }

  private unconsumed(): OutPacket | null {
    while (this.head < this.captured.length && this.captured[this.head]!.consumed) this.head++;
    return this.captured[this.head] ?? null;
  }

  // ---------------------------------------------------------------- events

  private loop(): void {
    let skippingLeadingShell = true;
    for (const ev of this.script.events) {
      if (skippingLeadingShell && ev.type === 'shell' && ev.time.kind === 'point' && ev.time.at.us === 0) continue;
      skippingLeadingShell = false;
      this.event(ev);
    }
  }

  private event(ev: ScriptEvent): void {
    let start: Instant;
    let lo: Instant;
    let hi: Instant;
    const t = ev.time;
    if (t.kind === 'point') {
      start = this.resolve(t.at);
      if (start < this.base) throw new ScriptFailure(ev.line, `event time ${fmtTime(start)} is before the previous event (${fmtTime(this.base)})`);
      const tol = this.tolerance(start - this.base);
      lo = start - tol; hi = start + tol;
    } else if (t.kind === 'range') {
      start = this.resolve(t.lo);
      lo = start - this.cfg.toleranceUs;
      hi = this.resolve(t.hi) + this.cfg.toleranceUs;
    } else {
      start = this.now; lo = -Infinity; hi = Infinity;
    }
    if (ev.type === 'syscall' && this.pending !== null) this.waitPending();
    if (ev.type === 'packet' && ev.dir === 'out') {
      this.line = ev.line;
      this.outbound(ev, start, lo, hi);
    } else {
      // Packets sent on the way belong after the previous line (for "unexpected" messages).
      this.advanceTo(start);
      this.line = ev.line;
      if (ev.type === 'packet') this.inbound(ev);
      else if (ev.type === 'syscall') this.syscall(ev, start);
      else if (ev.type === 'python') this.python(ev);
      else this.shell(ev.command, ev.line, this.stack!.options);
    }
    this.base = t.kind === 'point' ? start : this.now;
  }

  private finish(): void {
    if (this.pending !== null) this.waitPending();
    if (!this.cfg.failOnExtraPackets) return;
    const p = this.unconsumed();
    if (p !== null) {
      throw new ScriptFailure(p.line, `unexpected outbound packet at ${fmtTime(p.t)}: ${formatOut(p, this.contextFor(p))}`,
        [`sent after this line; no later line expects it`]);
    }
  }

  // ---------------------------------------------------------------- connections

  private freshContext(localPort: number | null, remotePort: number): ConnContext {
    const c: ConnContext = {
      localAddr: this.cfg.localAddr, localPort, remoteAddr: this.cfg.remoteAddr, remotePort,
      remoteIsn: this.rng.nextU32(), localIsn: null, tsOffset: null,
    };
    this.contexts.push(c);
    this.cur = c;
    return c;
  }

  private onActiveOpen(tcb: Tcb): void {
    const c = this.freshContext(tcb.localPort, tcb.remotePort);
    c.localAddr = tcb.localAddr;
    c.remoteAddr = tcb.remoteAddr;
  }

  /** The connection of `c` still exists in the stack (any state but CLOSED). */
  private alive(c: ConnContext): boolean {
    if (c.localPort === null) return false;
    return this.stack!.tcbs().some((t) => t.localPort === c.localPort && t.remotePort === c.remotePort && t.remoteAddr === c.remoteAddr);
  }

  private contextForInbound(ev: PacketEvent): ConnContext {
    const bareSyn = (ev.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    if (this.cur === null || (bareSyn && !this.alive(this.cur))) {
      return this.freshContext(this.layer.listeningPort() ?? this.cfg.bindPort, this.nextRemotePort++);
    }
    return this.cur;
  }

  private contextFor(p: OutPacket): ConnContext {
    for (let i = this.contexts.length - 1; i >= 0; i--) {
      const c = this.contexts[i]!;
      if (c.localPort === p.srcPort && c.remotePort === p.dstPort && c.remoteAddr === p.dst) return c;
    }
    return this.cur ?? { localAddr: p.src, localPort: p.srcPort, remoteAddr: p.dst, remotePort: p.dstPort, remoteIsn: 0, localIsn: null, tsOffset: null };
  }

  // ---------------------------------------------------------------- packets

  private inbound(ev: PacketEvent): void {
    const c = this.contextForInbound(ev);
    // An absolute SYN (`S 4294967246:4294967246(0)!`): the peer's ISN is what is written, and
    // the peer's numbers on this connection are absolute from then on (relative base 0).
    if (ev.seqAbs && (ev.flags & TCP_SYN) && !(ev.flags & TCP_ACK)) c.remoteIsn = 0;
    let pkt: Uint8Array;
    try {
      pkt = buildInbound(ev, c, c.localPort ?? this.cfg.bindPort);
    } catch (e) {
      throw new ScriptFailure(ev.line, `cannot build the packet: ${(e as Error).message}`);
    }
    this.stack!.input(pkt);
    this.checkPending();
  }

  private outbound(ev: PacketEvent, start: Instant, lo: Instant, hi: Instant): void {
    // Wait for a packet: fire timers until one is sent or the window closes.
    while (this.unconsumed() === null) {
      if (!this.stepOnce(hi)) {
        if (hi !== Infinity && hi > this.now) this.clock.set(hi);
        this.checkPending();
        if (this.unconsumed() !== null) break;
        const by = hi === Infinity ? '' : ` by ${fmtTime(hi)}`;
        throw new ScriptFailure(ev.line, `expected outbound packet ${formatEvent(ev)}${by}, but none was sent`,
          [`time is now ${fmtTime(this.now)}`]);
      }
    }
    const first = this.unconsumed()!;
    const c = this.contextFor(first);
    // Our ISN, from our SYN: relative 0 is what the script wrote (its SYN at `...(0)` is 0 too).
    if ((ev.flags & TCP_SYN) && (first.flags & TCP_SYN) && !ev.seqAbs) c.localIsn = (first.seq - (ev.seqAny ? 0 : ev.start)) >>> 0;
    if (c.tsOffset === null && Array.isArray(ev.options)) {
      const st = ev.options.find((o) => o.kind === 'ts');
      const at = first.options.find((o) => o.kind === 'ts');
      if (st?.kind === 'ts' && at?.kind === 'ts') c.tsOffset = (at.val - st.val) >>> 0;
    }
    const parts = this.merge(first, ev, hi);
    // packetdrill compares a merged super-segment with the flags of its last segment.
    const merged: OutPacket = parts.length === 1 ? first : {
      ...first, len: parts.reduce((n, p) => n + p.len, 0), flags: parts[parts.length - 1]!.flags,
    };
    const diffs = matchOutbound(ev, merged, c, this.match);
    const details = [`script: ${formatEvent(ev)}`, `actual: ${formatOut(merged, c)}${parts.length > 1 ? ` (${parts.length} segments merged)` : ''}`];
    if (diffs.length > 0) {
      throw new ScriptFailure(ev.line, diffs.map((d) => `${d.field}: expected ${d.expected}, got ${d.got}`).join('; '), details);
    }
    if (first.t < lo || first.t > hi) {
      throw new ScriptFailure(ev.line, `time: expected ${fmtTime(start)} (±${fmtTime(Math.round((hi - lo) / 2))}), got ${fmtTime(first.t)}`, details);
    }
    for (const p of parts) p.consumed = true;
  }

  /**
   * Consecutive outbound data segments merged up to the scripted length (packetdrill sees
   * TSO/GSO super-segments as one): contiguous, same ACK, no SYN/RST, nothing after a FIN.
   */
  private merge(first: OutPacket, ev: PacketEvent, hi: Instant): OutPacket[] {
    const parts = [first];
    if (this.cfg.strictSegments || (ev.flags & (TCP_SYN | TCP_RST)) || (first.flags & (TCP_SYN | TCP_RST | TCP_FIN)) || first.len === 0 || first.len >= ev.len) return parts;
    let total = first.len;
    let end = (first.seq + first.len) >>> 0;
    let idx = this.captured.indexOf(first) + 1;
    while (total < ev.len) {
      const next = this.captured[idx];
      if (next === undefined) {
        if (!this.stepOnce(hi)) break;
        continue;
      }
      const last = parts[parts.length - 1]!;
      if (next.consumed || next.seq !== end || next.ack !== first.ack || (next.flags & (TCP_SYN | TCP_RST)) || next.len === 0 || (last.flags & TCP_FIN) || total + next.len > ev.len) break;
      parts.push(next);
      total += next.len;
      end = (end + next.len) >>> 0;
      idx++;
    }
    return parts;
  }

  // ---------------------------------------------------------------- syscalls

  private syscall(ev: SyscallEvent, start: Instant): void {
    let call: Call;
    this.syscallLine = ev.line;
    try {
      call = this.layer.call(ev.name, ev.args);
    } catch (e) {
      if (e instanceof EvalError) throw new ScriptFailure(ev.line, `${ev.name}(): ${e.message}`);
      throw e;
    }
    const expectAt = ev.end === null ? start : this.resolve(ev.end);
    const tol = this.tolerance(expectAt - start);
    this.pending = { ev, call, expectAt, lo: expectAt - tol, hi: expectAt + tol };
    this.checkPending();
  }

  /** Let the pending blocking call finish (or fail at its deadline). */
  private waitPending(): void {
    while (this.pending !== null && this.stepOnce(this.pending.hi)) { /* fire timers up to the deadline */ }
    if (this.pending !== null) this.advanceTo(this.pending.hi);
    if (this.pending !== null) this.blockedFailure(this.pending);
  }

  private blockedFailure(p: Pending): never {
    throw new ScriptFailure(p.ev.line, `${p.ev.name}() is still blocked at ${fmtTime(this.now)}; expected it to return at ${fmtTime(p.expectAt)}`,
      p.ev.end === null ? ['a call that blocks needs a `start...end` time'] : []);
  }

  private checkPending(): void {
    const p = this.pending;
    if (p === null) return;
    let o;
    try {
      o = p.call.attempt();
    } catch (e) {
      if (e instanceof EvalError) throw new ScriptFailure(p.ev.line, `${p.ev.name}(): ${e.message}`);
      throw e;
    }
    if (o.kind === 'block') {
      // It may still return at its deadline itself, after other events at that instant.
      if (this.now > p.hi) this.blockedFailure(p);
      return;
    }
    this.pending = null;
    this.verifyResult(p, o.result);
  }

  private verifyResult(p: Pending, r: CallResult): void {
    const ev = p.ev;
    const got = r.ret === -1 && r.errno !== null ? `-1 ${r.errno} (${errnoText(r.errno)})` : String(r.ret);
    if (this.now < p.lo) {
      throw new ScriptFailure(ev.line, `time: ${ev.name}() returned ${got} at ${fmtTime(this.now)}, expected it to return at ${fmtTime(p.expectAt)}`);
    }
    if (ev.result.kind !== 'ellipsis') {
      let want: number;
      try { want = evalInt(ev.result); } catch (e) { throw new ScriptFailure(ev.line, `result: ${(e as Error).message}`); }
      if ((ev.name === 'socket' || ev.name === 'accept' || ev.name === 'accept4') && want >= 0 && r.ret >= 0) {
        this.layer.mapFd(want, r.ret);
      } else if (want !== r.ret) {
        const wantText = want === -1 && ev.errno !== null ? `-1 ${ev.errno}` : formatExpr(ev.result);
        throw new ScriptFailure(ev.line, `return value: expected ${wantText}, got ${got}`, [`call: ${ev.text}`]);
      } else if (want === -1 && ev.errno !== null && canonicalErrno(ev.errno) !== canonicalErrno(r.errno ?? '')) {
        throw new ScriptFailure(ev.line, `errno: expected ${ev.errno}, got ${r.errno ?? 'none'}`, [`call: ${ev.text}`]);
      }
    }
    if (r.mismatch !== null) throw new ScriptFailure(ev.line, r.mismatch, [`call: ${ev.text}`]);
  }
}

/** Parse and run a script. Never throws for script problems: they are the result's failure. */
export function runScript(text: string, opts: RunOptions = {}): RunResult {
  const parsed = parseScript(text, opts.defines);
  if (!parsed.ok) {
    return { ok: false, failure: { line: parsed.error.line, message: `parse error: ${parsed.error.message}`, details: [] }, notes: [], endTime: 0, stack: null };
  }
  return new Runner(parsed.script, opts).run();
}
