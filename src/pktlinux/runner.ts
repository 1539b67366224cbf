// Running a packetdrill-dialect script against this machine's Linux kernel, as packetdrill
// does: inbound lines are written to a TUN device, outbound ones are read from it, system
// calls are made on real kernel sockets (native/sockets.c), shell lines run in a shell, and
// time is real (µs since the start), checked with the same tolerance rules as on synack.
//
// Must run inside a fresh network namespace (see netns.ts): it configures a TUN device with
// the script's local address and changes sysctls.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PacketEvent, PythonEvent, Script, ScriptEvent, SyscallEvent, TimePoint } from '../pkt/ast.js';
import { parseScript } from '../pkt/parser.js';
import { applyOption, DEFAULT_CONFIG, type RunConfig } from '../pkt/config.js';
import type { Call, CallResult } from '../pkt/syscalls.js';
import { EvalError, evalInt, formatExpr } from '../pkt/consts.js';
import { canonicalErrno, errnoText } from '../pkt/errno.js';
import { buildInbound, formatEvent, formatOut, parseOutbound, type ConnContext, type OutPacket } from '../pkt/packet.js';
import { matchOutbound, type MatchOptions } from '../pkt/matcher.js';
import { runPython } from '../pkt/python.js';
import { Rng } from '../sim/rng.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { loadSocketsAddon, type SocketsAddon } from './addon.js';
import { LinuxSocketLayer } from './layer.js';
import { kernelHz, timerSlackUs } from './timerslack.js';
import type { Failure } from '../pkt/interpreter.js';

export interface LinuxRunOptions {
  options?: Array<{ name: string; value: string }>;
  defines?: ReadonlyMap<string, string>;
  /** The script's directory: shell commands run there (packetdrill's working directory). */
  dir: string;
  /** TUN device name to create. */
  tun: string;
  /** Our (the kernel's) and the script's addresses: from 198.18.0.0/15. */
  localAddr: number;
  remoteAddr: number;
}

export interface LinuxRunResult {
  ok: boolean;
  failure: Failure | null;
  notes: string[];
  /** Real time the run took (µs). */
  endTime: number;
}

class ScriptFailure extends Error {
  constructor(readonly line: number, message: string, readonly details: string[] = []) { super(message); }
}

interface Pending { ev: SyscallEvent; call: Call; expectAt: number; lo: number; hi: number }

function fmtTime(us: number): string { return `${+(us / 1e6).toFixed(6)}s`; }

/** Longest wait per step while something is pending (ms): the resolution of blocking calls. */
const STEP_MS = 1;

class LinuxRunner {
  readonly cfg: RunConfig = { ...DEFAULT_CONFIG };
  readonly notes: string[] = [];
  private readonly n: SocketsAddon;
  private tunFd = -1;
  private t0 = 0;
  private layer!: LinuxSocketLayer;
  private rng!: Rng;
  private readonly captured: OutPacket[] = [];
  private head = 0;
  private readonly contexts: ConnContext[] = [];
  private cur: ConnContext | null = null;
  private pending: Pending | null = null;
  private base = 0;
  private line = 0;
  private nextRemotePort = 40000;
  private match!: MatchOptions;

  constructor(private readonly script: Script, private readonly opts: LinuxRunOptions) {
    this.n = loadSocketsAddon();
  }

  run(): LinuxRunResult {
    try {
      this.configure();
      this.warmUp();
      // Shell lines at time 0 before anything else (defaults.sh, sysctls) run before the clock
      // starts, as on synack, where they configure the stack before it exists.
      let k = 0;
      for (const ev of this.script.events) {
        if (ev.type !== 'shell' || ev.time.kind !== 'point' || ev.time.at.us !== 0) break;
        this.line = ev.line;
        this.shell(ev.command, ev.line);
        k++;
      }
      this.t0 = this.n.nowUs();
      for (const ev of this.script.events.slice(k)) this.event(ev);
      if (this.pending !== null) this.waitPending();
      if (this.cfg.failOnExtraPackets) {
        this.drain(0);
        const p = this.unconsumed();
        if (p !== null) throw new ScriptFailure(p.line, `unexpected outbound packet at ${fmtTime(p.t)}: ${formatOut(p, this.contextFor(p))}`, ['sent after this line; no later line expects it']);
      }
    } catch (e) {
      const f = e instanceof ScriptFailure ? { line: e.line, message: e.message, details: e.details } : { line: this.line, message: `internal error: ${(e as Error).message}`, details: [] };
      return this.result(f);
    } finally {
      this.layer?.closeAll();
    }
    return this.result(null);
  }

  private result(failure: Failure | null): LinuxRunResult {
    return { ok: failure === null, failure, notes: this.notes, endTime: this.t0 === 0 ? 0 : this.now };
  }

  private configure(): void {
    for (const o of [...(this.opts.options ?? []).map((x) => ({ ...x, line: 0 })), ...this.script.options]) {
      try {
        const note = applyOption(this.cfg, o.name, o.value);
        if (note !== null) this.notes.push(note);
      } catch (e) {
        throw new ScriptFailure(o.line, (e as Error).message);
      }
    }
    this.cfg.localAddr = this.opts.localAddr;
    this.cfg.remoteAddr = this.opts.remoteAddr;
    this.match = { ignoreWin: this.cfg.ignoreWin, ignoreOptions: this.cfg.ignoreOptions, ignorePsh: this.cfg.ignorePsh, checkTsVal: false };
    this.rng = new Rng(this.cfg.seed);
    const fd = this.n.tunOpen(this.opts.tun);
    if (fd < 0) throw new ScriptFailure(0, `cannot open TUN device ${this.opts.tun}: errno ${-fd}`);
    this.tunFd = fd;
    const ip = (...a: string[]): void => {
      const r = spawnSync('ip', a, { encoding: 'utf8' });
      if (r.status !== 0) throw new ScriptFailure(0, `ip ${a.join(' ')}: ${r.stderr.trim()}`);
    };
    ip('link', 'set', 'lo', 'up');
    ip('addr', 'add', `${formatIpv4Address(this.cfg.localAddr)}/24`, 'dev', this.opts.tun);
    ip('link', 'set', this.opts.tun, 'mtu', String(this.cfg.mtu), 'up');
    this.layer = new LinuxSocketLayer(this.n, {
      addrs: { localAddr: this.cfg.localAddr, bindPort: this.cfg.bindPort, remoteAddr: this.cfg.remoteAddr, connectPort: this.cfg.connectPort },
      now: () => this.now,
      onActiveOpen: (localPort, remoteAddr, remotePort) => {
        const c = this.freshContext(localPort, remotePort);
        c.remoteAddr = remoteAddr;
      },
    });
  }

  /** Compile the hot paths before time 0 (a cold first packet costs milliseconds of JIT). */
  private warmUp(): void {
    const c: ConnContext = { localAddr: this.cfg.localAddr, localPort: 1, remoteAddr: this.cfg.remoteAddr, remotePort: 2, remoteIsn: 0, localIsn: 0, tsOffset: null };
    for (const ev of this.script.events) {
      if (ev.type !== 'packet') continue;
      try {
        const p = parseOutbound(buildInbound(ev, c, 1), 0);
        if (p !== null) { matchOutbound(ev, p, c, this.match); formatOut(p, c); }
      } catch { /* only warming up */ }
    }
    this.n.tunRead(this.tunFd, 0);
    this.n.nowUs();
  }

  // ---------------------------------------------------------------- time and packets

  private get now(): number { return this.n.nowUs() - this.t0; }

  private tolerance(gap: number): number {
    return Math.max(this.cfg.toleranceUs, Math.round((Math.max(0, gap) * this.cfg.tolerancePercent) / 100));
  }

  /**
   * Extra lateness allowed for an event `gap` µs after the previous one: the kernel's timer
   * wheel fires a timer armed that far ahead up to one granularity late (timerslack.ts).
   * Only lateness: an early event still fails.
   */
  private slack(gap: number): number { return timerSlackUs(gap, this.hz); }

  private readonly hz = kernelHz();

  /**
   * For an outbound line that repeats a segment the kernel sent before (a retransmission:
   * same sequence number, with data, SYN or FIN), the time from that transmission to
   * `start`: the retransmission timer was armed then, which may be well before the
   * previous script event (closing-retransmit.pkt: the FIN, 300 ms before its resend, and
   * an inbound segment 100 ms after it). 0 otherwise.
   */
  private sinceLastSent(ev: ScriptEvent, start: number): number {
    if (ev.type !== 'packet' || ev.dir !== 'out' || ev.seqAny) return 0;
    const c = this.cur;
    if (!ev.seqAbs && (c === null || c.localIsn === null)) return 0;
    const seq = ev.seqAbs ? ev.start >>> 0 : (c!.localIsn! + ev.start) >>> 0;
    for (let i = this.captured.length - 1; i >= 0; i--) {
      const p = this.captured[i]!;
      if (p.seq === seq && (p.len > 0 || (p.flags & (TCP_SYN | TCP_FIN)) !== 0)) return Math.max(0, start - p.t);
    }
    return 0;
  }

  private resolve(p: TimePoint): number { return p.rel ? this.base + p.us : p.us; }

  /** Read what the kernel sent, waiting at most `ms`. */
  private drain(ms: number): void {
    let wait = ms;
    for (;;) {
      const b = this.n.tunRead(this.tunFd, wait);
      if (b === null) return;
      const out = parseOutbound(new Uint8Array(b.buffer, b.byteOffset, b.length), this.now);
      if (out !== null && out.src === this.cfg.localAddr) {
        out.line = this.line;
        this.captured.push(out);
        // SYNACK_PKT_TRACE=1: every packet the kernel sent, with its time, among the notes.
        if (process.env.SYNACK_PKT_TRACE) this.notes.push(`sent at ${fmtTime(out.t)}: ${formatOut(out, this.contextFor(out))}`);
      }
      wait = 0;
    }
  }

  /** Wait toward `limit` (one step); false once it has passed. */
  private stepOnce(limit: number): boolean {
    const left = limit - this.now;
    if (left <= 0) { this.drain(0); this.checkPending(); return false; }
    const ms = this.pending !== null ? STEP_MS : Math.max(0, Math.min(Math.ceil(left / 1000), 50));
    this.drain(Math.min(ms, Math.ceil(left / 1000)));
    this.checkPending();
    return true;
  }

  private advanceTo(target: number): void {
    while (this.stepOnce(target)) { /* real time passes */ }
  }

  private unconsumed(): OutPacket | null {
    while (this.head < this.captured.length && this.captured[this.head]!.consumed) this.head++;
    return this.captured[this.head] ?? null;
  }

  // ---------------------------------------------------------------- events

  private event(ev: ScriptEvent): void {
    let start: number; let lo: number; let hi: number;
    const t = ev.time;
    if (t.kind === 'point') {
      start = this.resolve(t.at);
      if (start < this.base) throw new ScriptFailure(ev.line, `event time ${fmtTime(start)} is before the previous event (${fmtTime(this.base)})`);
      const tol = this.tolerance(start - this.base);
      lo = start - tol; hi = start + tol + this.slack(Math.max(start - this.base, this.sinceLastSent(ev, start)));
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
      this.advanceTo(start);
      this.line = ev.line;
      if (ev.type === 'packet') this.inbound(ev);
      else if (ev.type === 'syscall') this.syscall(ev, start);
      else if (ev.type === 'python') this.python(ev);
      else this.shell(ev.command, ev.line);
    }
    // Real time: a relative time counts from when the previous event actually happened (an
    // outbound packet: when it was sent), so lateness does not accumulate along the script.
    this.base = ev.type === 'packet' && ev.dir === 'out' ? this.lastOutT : Math.max(start, this.now);
  }

  private shell(command: string, line: number): void {
    const r = spawnSync('sh', ['-c', command], { cwd: this.opts.dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...Object.fromEntries(this.script.defines) } });
    if (r.status !== 0) throw new ScriptFailure(line, `shell command failed (exit ${r.status ?? r.signal}): ${command.trim()}`, r.stderr.trim() === '' ? [] : [r.stderr.trim()]);
  }

  private python(ev: PythonEvent): void {
    const fd = this.layer.socketUnderTest();
    const info = fd === null ? null : this.n.tcpInfo(fd);
    const r = runPython(ev.code, info === null || typeof info === 'number' ? null : info);
    for (const s of r.skipped) this.notes.push(`line ${ev.codeLine}: python ${s}`);
    if (r.failure !== null) throw new ScriptFailure(ev.codeLine, r.failure, [`tcp_info of the socket under test at ${fmtTime(this.now)}`]);
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

  private contextForInbound(ev: PacketEvent): ConnContext {
    const bareSyn = (ev.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    if (this.cur === null || (bareSyn && !this.alive(this.cur))) {
      return this.freshContext(this.layer.listeningPort() ?? this.cfg.bindPort, this.nextRemotePort++);
    }
    return this.cur;
  }

  /** The kernel still has the connection of `c` (any state but CLOSED; TIME-WAIT counts): /proc/net/tcp of this namespace. */
  private alive(c: ConnContext): boolean {
    if (c.localPort === null) return false;
    const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
    const want = `:${hex(c.localPort)} `;
    const rem = `:${hex(c.remotePort)} `;
    for (const l of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f.length < 4) continue;
      if ((f[1]! + ' ').endsWith(want) && (f[2]! + ' ').endsWith(rem) && f[3] !== '07' && f[3] !== '0A') return true;
    }
    return false;
  }

  private contextFor(p: OutPacket): ConnContext {
    for (let i = this.contexts.length - 1; i >= 0; i--) {
      const c = this.contexts[i]!;
      if (c.localPort === p.srcPort && c.remotePort === p.dstPort && c.remoteAddr === p.dst) return c;
    }
    return this.cur ?? { localAddr: p.src, localPort: p.srcPort, remoteAddr: p.dst, remotePort: p.dstPort, remoteIsn: 0, localIsn: null, tsOffset: null };
  }

  private inbound(ev: PacketEvent): void {
    const c = this.contextForInbound(ev);
    if (ev.seqAbs && (ev.flags & TCP_SYN) && !(ev.flags & TCP_ACK)) c.remoteIsn = 0;
    let pkt: Uint8Array;
    try {
      pkt = buildInbound(ev, c, c.localPort ?? this.cfg.bindPort);
    } catch (e) {
      throw new ScriptFailure(ev.line, `cannot build the packet: ${(e as Error).message}`);
    }
    const r = this.n.tunWrite(this.tunFd, pkt);
    if (r < 0) throw new ScriptFailure(ev.line, `writing the packet to the TUN device failed: errno ${-r}`);
    this.checkPending();
  }

  private outbound(ev: PacketEvent, start: number, lo: number, hi: number): void {
    while (this.unconsumed() === null) {
      if (!this.stepOnce(hi)) {
        if (this.unconsumed() !== null) break;
        const by = hi === Infinity ? '' : ` by ${fmtTime(hi)}`;
        throw new ScriptFailure(ev.line, `expected outbound packet ${formatEvent(ev)}${by}, but none was sent`, [`time is now ${fmtTime(this.now)}`]);
      }
    }
    const first = this.unconsumed()!;
    const c = this.contextFor(first);
    if ((ev.flags & TCP_SYN) && (first.flags & TCP_SYN) && !ev.seqAbs) c.localIsn = (first.seq - (ev.seqAny ? 0 : ev.start)) >>> 0;
    if (c.tsOffset === null && Array.isArray(ev.options)) {
      const st = ev.options.find((o) => o.kind === 'ts');
      const at = first.options.find((o) => o.kind === 'ts');
      if (st?.kind === 'ts' && at?.kind === 'ts') c.tsOffset = (at.val - st.val) >>> 0;
    }
    if (Array.isArray(ev.options)) {
      const st = ev.options.find((o) => o.kind === 'ts');
      const at = first.options.find((o) => o.kind === 'ts');
      if (st?.kind === 'ts' && at?.kind === 'ts') (c.tsEcho ??= new Map()).set(st.val, at.val);
    }
    const parts = this.merge(first, ev, hi);
    const merged: OutPacket = parts.length === 1 ? first : { ...first, len: parts.reduce((n, p) => n + p.len, 0), flags: parts[parts.length - 1]!.flags };
    const diffs = matchOutbound(ev, merged, c, this.match);
    const details = [`script: ${formatEvent(ev)}`, `actual: ${formatOut(merged, c)}${parts.length > 1 ? ` (${parts.length} segments merged)` : ''}`];
    if (diffs.length > 0) throw new ScriptFailure(ev.line, diffs.map((d) => `${d.field}: expected ${d.expected}, got ${d.got}`).join('; '), details);
    if (first.t < lo || first.t > hi) {
      throw new ScriptFailure(ev.line, `time: expected ${fmtTime(start)} (${fmtTime(lo)}..${fmtTime(hi)}), got ${fmtTime(first.t)}`, details);
    }
    for (const p of parts) p.consumed = true;
    this.lastOutT = first.t;
  }

  private lastOutT = 0;

  private merge(first: OutPacket, ev: PacketEvent, hi: number): OutPacket[] {
    const parts = [first];
    if (this.cfg.strictSegments || (ev.flags & (TCP_SYN | TCP_RST)) || (first.flags & (TCP_SYN | TCP_RST | TCP_FIN)) || first.len === 0 || first.len >= ev.len) return parts;
    let total = first.len;
    let end = (first.seq + first.len) >>> 0;
    let idx = this.captured.indexOf(first) + 1;
    while (total < ev.len) {
      const next = this.captured[idx];
      if (next === undefined) { if (!this.stepOnce(hi)) break; continue; }
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

  private syscall(ev: SyscallEvent, start: number): void {
    let call: Call;
    try {
      call = this.layer.call(ev.name, ev.args);
    } catch (e) {
      if (e instanceof EvalError) throw new ScriptFailure(ev.line, `${ev.name}(): ${e.message}`);
      throw e;
    }
    const expectAt = ev.end === null ? start : this.resolve(ev.end);
    const tol = this.tolerance(expectAt - start);
    this.pending = { ev, call, expectAt, lo: expectAt - tol, hi: expectAt + tol + this.slack(expectAt - this.base) };
    this.checkPending();
  }

  private waitPending(): void {
    while (this.pending !== null && this.stepOnce(this.pending.hi)) { /* wait */ }
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
      if (this.now > p.hi) this.blockedFailure(p);
      return;
    }
    this.pending = null;
    this.verifyResult(p, o.result);
  }

  private verifyResult(p: Pending, r: CallResult): void {
    const ev = p.ev;
    const got = r.ret === -1 && r.errno !== null ? `-1 ${r.errno} (${errnoText(r.errno)})` : String(r.ret);
    if (this.now < p.lo) throw new ScriptFailure(ev.line, `time: ${ev.name}() returned ${got} at ${fmtTime(this.now)}, expected it to return at ${fmtTime(p.expectAt)}`);
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

/** Parse and run a script against the kernel (inside a network namespace). */
export function runScriptLinux(text: string, opts: LinuxRunOptions): LinuxRunResult {
  const parsed = parseScript(text, opts.defines);
  if (!parsed.ok) return { ok: false, failure: { line: parsed.error.line, message: `parse error: ${parsed.error.message}`, details: [] }, notes: [], endTime: 0 };
  return new LinuxRunner(parsed.script, opts).run();
}
