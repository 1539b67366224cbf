// Engine fuzzing (DESIGN.md "Tests": random segments interleaved with time jumps against
// every state; lwIP's fuzz harness takes time jumps from the fuzz input too). Two real stacks
// are driven into a target state through real handshakes and closes, then raw segments are
// injected with stack.input() (built with the src/wire emitters: random flags including odd
// combinations, sequence and ACK numbers near the windows and far away, random options and
// payloads), interleaved with random time jumps and user calls. The invariants of
// invariants.ts are checked after every injected packet and every simulation step; at the
// end everything is closed and both stacks must drain to zero connections and timers.
import { Simulation } from '../../../src/sim/simulation.js';
import { twoHosts, type TwoHosts } from '../../../src/sim/hosts.js';
import { Rng } from '../../../src/sim/rng.js';
import type { Tcb } from '../../../src/tcp/tcb.js';
import type { Stack } from '../../../src/stack/stack.js';
import type { Listener } from '../../../src/tcp/listener.js';
import type { TcpState } from '../../../src/tcp/types.js';
import type { StackOptions } from '../../../src/stack/options.js';
import { emitTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../../src/wire/tcp.js';
import { tcpOptionsLength, type TcpOption } from '../../../src/wire/tcpoptions.js';
import { emitIpv4Header, IPPROTO_TCP } from '../../../src/wire/ipv4.js';
import { seqAdd } from '../../../src/tcp/seq.js';
import { InvariantChecker, describeTcb, type AppCounters } from './invariants.js';

export const FUZZ_TARGETS = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2',
  'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
] as const satisfies readonly TcpState[];
export type FuzzTarget = (typeof FUZZ_TARGETS)[number];

export interface FuzzResult {
  seed: number;
  target: FuzzTarget;
  /** The state the target connection actually had when injection began. */
  reached: string;
  injected: number;
  steps: number;
  error?: string;
}

const A_ADDR = 0xc6120001; // 198.18.0.1
const B_ADDR = 0xc6120002; // 198.18.0.2
const PORT = 80;

/** A raw IPv4+TCP packet from (src, sport) to (dst, dport). */
export function rawSegment(
  src: number, sport: number, dst: number, dport: number,
  f: { seq: number; ack: number; flags: number; window: number; urgentPointer?: number; options?: TcpOption[] },
  payload: Uint8Array | null,
): Uint8Array {
  const optLen = f.options === undefined ? 0 : (tcpOptionsLength(f.options) + 3) & ~3;
  const tcpLen = 20 + optLen + (payload?.length ?? 0);
  const pkt = new Uint8Array(20 + tcpLen);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src, dst }, tcpLen, pkt, 0);
  emitTcp({ srcPort: sport, dstPort: dport, seq: f.seq >>> 0, ack: f.ack >>> 0, flags: f.flags, window: f.window, urgentPointer: f.urgentPointer ?? 0, options: f.options }, payload, src, dst, pkt, 20);
  return pkt;
}

const FLAG_CHOICES = [
  TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK, TCP_SYN, TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_FIN, TCP_RST,
  TCP_RST | TCP_ACK, TCP_SYN | TCP_FIN, TCP_SYN | TCP_RST, TCP_FIN | TCP_RST | TCP_ACK, TCP_URG | TCP_ACK,
  TCP_SYN | TCP_FIN | TCP_ACK, 0, 0xff, TCP_FIN | TCP_PSH | TCP_ACK,
];

/** Runs one fuzz case. Never throws: failures come back in `error`. */
export function runFuzz(seed: number, target: FuzzTarget, ops = 150): FuzzResult {
  const res: FuzzResult = { seed, target, reached: 'none', injected: 0, steps: 0 };
  const r = new Rng(seed).fork('fuzz-' + target);
  const sim = new Simulation({ seed });
  const opt = (): Partial<StackOptions> => ({
    tcp_sack: r.chance(0.7) ? 1 : 0, tcp_timestamps: r.chance(0.7) ? 1 : 0, tcp_window_scaling: r.chance(0.7) ? 1 : 0,
    tcp_congestion_control: r.chance(0.5) ? 'cubic' : 'newreno',
    tcp_syncookies: r.chance(0.2) ? 2 : 1,
    tcp_rmem: [4096, r.chance(0.3) ? r.int(100, 5000) : 131072, 6291456],
    tcp_msl: r.int(1, 31),
  });
  const hosts = twoHosts(sim, { delay: r.int(0, 20_000), mtu: r.chance(0.2) ? r.int(200, 1500) : 1500, faults: {}, optionsA: opt(), optionsB: opt() });
  const { a, b } = hosts;
  const checker = new InvariantChecker([a, b]);
  const apps = new Map<Tcb, AppCounters>();
  const user: Tcb[] = [];
  const adopt = (t: Tcb): void => {
    const app: AppCounters = { written: 0, read: 0 };
    apps.set(t, app);
    user.push(t);
    checker.attachApp(t, app);
    t.user = {
      onReadable: () => { if (r.chance(0.8)) app.read += t.receive(1 << 30, sim.now()).length; },
    };
  };
  const listener: Listener = b.listen({ port: PORT });
  listener.onAcceptable = () => { for (let t = listener.accept(); t !== null; t = listener.accept()) adopt(t); };

  let dueNow = false;
  const checkNow = (): void => { checker.checkAll(dueNow ? sim.now() - 1 : sim.now(), user.filter((t) => t.state === 'CLOSED')); };
  /** Step the simulation until `cond` or the time limit, checking invariants after every step. */
  const runUntil = (cond: () => boolean, maxTime: number): boolean => {
    const end = sim.now() + maxTime;
    for (;;) {
      if (cond()) return true;
      const d = sim.nextDeadline();
      if (d === Infinity || d > end) { if (end > sim.now() && d !== Infinity) sim.clock.set(end); return cond(); }
      sim.step();
      res.steps++;
      dueNow = false;
      checkNow();
    }
  };

  try {
    const write = (t: Tcb, d: Uint8Array): void => { const n = t.send(d, sim.now()); if (n > 0) apps.get(t)!.written += n; };
    const target0 = reach(target, hosts, sim, r, adopt, write, runUntil, listener);
    res.reached = target0 === null ? (target === 'LISTEN' || target === 'CLOSED' ? target : 'none') : target0.state;
    // The fuzzed endpoint: segments come from its peer's address and port.
    const victim = target0;
    const vStack: Stack = victim === null ? b : (victim.localAddr === A_ADDR ? a : b);
    const local = victim === null ? B_ADDR : victim.localAddr;
    const remote = victim === null ? A_ADDR : victim.remoteAddr;
    const lport = victim === null ? (target === 'CLOSED' ? 81 : PORT) : victim.localPort;
    let rport = victim === null ? r.int(1024, 65536) : victim.remotePort;
    for (let i = 0; i < ops; i++) {
      const k = r.float();
      if (k < 0.6) {
        if (victim === null && r.chance(0.3)) rport = r.int(1024, 65536);
        const pkt = randomSegment(r, victim, remote, rport, local, lport);
        vStack.input(pkt);
        res.injected++;
        dueNow = true;
        checkNow();
      } else if (k < 0.85) {
        const jumps = [0, 1, 200, 5_000, 40_000, 300_000, 1_000_000, 10_000_000, 200_000_000];
        runUntil(() => false, jumps[r.int(0, jumps.length)]! + r.int(0, 1000));
      } else {
        userCall(r, user.length > 0 ? user[r.int(0, user.length)]! : null, apps, sim.now());
        dueNow = true;
        checkNow();
      }
    }
    // Drain: close everything, let the stacks finish, nothing may leak.
    for (const t of user) {
      if (t.state === 'CLOSED') continue;
      t.setKeepAlive(sim.now(), false);
      if (t.readable > 0) apps.get(t)!.read += t.receive(1 << 30, sim.now()).length;
      t.close(sim.now());
    }
    b.closeListener(listener);
    dueNow = true;
    checkNow();
    runUntil(() => a.connectionCount === 0 && b.connectionCount === 0, 4 * 3600 * 1_000_000);
    for (const [n, s] of [['A', a], ['B', b]] as const) {
      if (s.connectionCount !== 0) throw new Error(`${n}: ${s.connectionCount} connections left after closing: ${s.tcbs().map(describeTcb).join('; ')}`);
      if (s.pendingTimers !== 0) throw new Error(`${n}: ${s.pendingTimers} timers left`);
    }
  } catch (e) {
    res.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  return res;
}

type RunUntil = (cond: () => boolean, maxTime: number) => boolean;

/** Drive the two hosts so that some connection is in `target`; returns it (null for LISTEN/CLOSED). */
function reach(
  target: FuzzTarget, h: TwoHosts, sim: Simulation, r: Rng, adopt: (t: Tcb) => void, write: (t: Tcb, d: Uint8Array) => void,
  run: RunUntil, l: Listener,
): Tcb | null {
  const { a, faultA, faultB } = h;
  const fa = faultA!, fb = faultB!;
  const S = 10_000_000;
  if (target === 'LISTEN' || target === 'CLOSED') return null;
  if (target === 'SYN-SENT') fa.partition(true);
  if (target === 'SYN-RECEIVED') fb.partition(true);
  const c = a.connect({ remoteAddr: B_ADDR, remotePort: PORT, rcvBuf: r.chance(0.3) ? r.int(100, 5000) : undefined });
  adopt(c);
  c.openActive(sim.now());
  if (target === 'SYN-SENT') { run(() => false, r.int(0, 3000)); return c; }
  if (target === 'SYN-RECEIVED') {
    run(() => l.synQueue.size > 0, S);
    return [...l.synQueue][0] ?? c;
  }
  run(() => c.state === 'ESTABLISHED' && h.b.tcbs().some((t) => t.state === 'ESTABLISHED'), S);
  const server = h.b.tcbs().find((t) => t.remotePort === c.localPort) ?? null;
  // Some data both ways, so the windows and buffers are not pristine.
  write(c, r.bytes(r.int(0, 3000)));
  if (server !== null) write(server, r.bytes(r.int(0, 3000)));
  run(() => false, 200_000);
  if (target === 'ESTABLISHED' || server === null) return r.chance(0.5) || server === null ? c : server;
  const s = server;
  switch (target) {
    case 'FIN-WAIT-1':
      fb.partition(true);
      c.close(sim.now(), false);
      run(() => false, 1000);
      return c;
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
      c.close(sim.now(), false);
      run(() => c.state === 'FIN-WAIT-2' && s.state === 'CLOSE-WAIT', S);
      return target === 'FIN-WAIT-2' ? c : s;
    case 'LAST-ACK':
    case 'TIME-WAIT':
      c.close(sim.now(), false);
      run(() => c.state === 'FIN-WAIT-2' && s.state === 'CLOSE-WAIT', S);
      if (target === 'LAST-ACK') fa.partition(true);
      s.close(sim.now(), false);
      run(() => (target === 'LAST-ACK' ? s.state === 'LAST-ACK' : c.state === 'TIME-WAIT'), S);
      return target === 'LAST-ACK' ? s : c;
    case 'CLOSING':
      // Simultaneous close: both FINs cross; neither has seen the other's ACK yet.
      fa.partition(true); fb.partition(true);
      c.close(sim.now(), false);
      s.close(sim.now(), false);
      fa.partition(false); fb.partition(false);
      run(() => c.state === 'CLOSING' || s.state === 'CLOSING', S);
      fa.partition(true); fb.partition(true);
      return c.state === 'CLOSING' ? c : s;
  }
}

function near(r: Rng, base: number, spread: number): number {
  return seqAdd(base, r.int(-spread, spread + 1));
}

function randomSegment(r: Rng, t: Tcb | null, src: number, sport: number, dst: number, dport: number): Uint8Array {
  let flags = r.chance(0.25) ? r.int(0, 256) : FLAG_CHOICES[r.int(0, FLAG_CHOICES.length)]!;
  const wnd = t === null ? 65535 : Math.max(1, t.rcvBuf.capacity);
  let seq: number;
  let ack: number;
  if (t === null || r.chance(0.1)) {
    seq = r.nextU32(); ack = r.nextU32();
  } else {
    const sq = r.int(0, 8);
    seq = sq === 0 ? t.rcvNxt : sq === 1 ? seqAdd(t.rcvNxt, -1) : sq === 2 ? near(r, t.rcvNxt, 3) : sq === 3 ? near(r, t.rcvNxt, 2 * wnd)
      : sq === 4 ? near(r, t.rcvAdv, 2) : sq === 5 ? t.irs : sq === 6 ? near(r, t.rcvNxt, 1 << 30) : r.nextU32();
    const aq = r.int(0, 9);
    ack = aq === 0 ? t.sndNxt : aq === 1 ? t.sndUna : aq === 2 ? t.sndMax : aq === 3 ? near(r, t.sndUna, 3)
      : aq === 4 ? near(r, t.sndMax, 3) : aq === 5 ? seqAdd(t.sndUna, -t.maxSndWnd - 1) : aq === 6 ? seqAdd(t.iss, 1)
      : aq === 7 ? near(r, t.sndUna, Math.max(1, t.maxSndWnd)) : r.nextU32();
  }
  if (r.chance(0.05)) flags |= TCP_URG;
  const options: TcpOption[] = [];
  if (r.chance(0.3)) options.push({ kind: 'mss', value: r.chance(0.5) ? r.int(0, 65536) : r.int(0, 1500) });
  if (r.chance(0.2)) options.push({ kind: 'wscale', shift: r.int(0, 20) });
  if (r.chance(0.2)) options.push({ kind: 'sackOK' });
  if (t !== null && t.tsOk ? r.chance(0.85) : r.chance(0.3)) {
    const base = t?.tsRecent ?? 0;
    const val = r.chance(0.6) ? seqAdd(base, r.int(0, 3000)) : r.chance(0.5) ? seqAdd(base, -r.int(1, 100)) : r.nextU32();
    const ecr = t !== null && r.chance(0.7) ? seqAdd(t.tsNow(), -r.int(0, 2000)) : r.nextU32();
    options.push({ kind: 'ts', val, ecr });
  }
  if (r.chance(0.2)) {
    const blocks: Array<[number, number]> = [];
    const n = r.int(1, 5);
    for (let i = 0; i < n; i++) {
      const left = t !== null && r.chance(0.7) ? near(r, t.sndUna, 5000) : r.nextU32();
      blocks.push([left, seqAdd(left, r.int(-10, 3000))]);
    }
    options.push({ kind: 'sack', blocks });
  }
  if (r.chance(0.05)) options.push({ kind: 'unknown', type: r.int(9, 256), data: r.bytes(r.int(0, 6)) });
  if (r.chance(0.1)) options.unshift({ kind: 'nop' });
  while (tcpOptionsLength(options) > 40) options.pop();
  const plen = r.chance(0.5) ? 0 : r.chance(0.7) ? r.int(1, 1461) : r.int(1, 9000);
  const payload = plen > 0 ? r.bytes(plen) : null;
  const window = r.chance(0.1) ? 0 : r.int(0, 65536);
  const urgentPointer = r.chance(0.1) ? r.int(0, 65536) : 0;
  const pkt = rawSegment(src, sport, dst, dport, { seq, ack, flags, window, urgentPointer, options }, payload);
  if (r.chance(0.03)) pkt[r.int(20, pkt.length)] ^= 1 << r.int(0, 8); // bad checksum (or a changed field)
  if (r.chance(0.02)) return pkt.subarray(0, r.int(0, pkt.length)); // truncated
  return pkt;
}

function userCall(r: Rng, t: Tcb | null, apps: Map<Tcb, AppCounters>, now: number): void {
  if (t === null) return;
  const app = apps.get(t)!;
  const k = r.int(0, 10);
  switch (k) {
    case 0: case 1: case 2: {
      const n = t.send(r.bytes(r.int(0, 5000)), now);
      if (n > 0) app.written += n;
      break;
    }
    case 3: case 4:
      app.read += t.receive(r.int(1, 5000), now).length;
      break;
    case 5:
      t.close(now, false);
      break;
    case 6:
      if (t.readable > 0) app.read += t.receive(1 << 30, now).length;
      t.close(now);
      break;
    case 7:
      t.setKeepAlive(now, r.chance(0.5), r.int(1, 5_000_000), r.int(1, 2_000_000), r.int(1, 5));
      break;
    case 8:
      t.noDelay = !t.noDelay;
      break;
    case 9:
      if (r.chance(0.2)) t.abort(now);
      break;
  }
}
