// Benchmark cases for a stack sharded over worker threads (src/shard, docs/sharding.md): the
// aggregate throughput of parallel connections and the connect rate, with 1 and 2 workers.
//
//  - in memory (shard-mem-…): the sharded stack's queues are MessagePorts to this thread,
//    whose stack plays the peer (engine API, no streams) and sends over the in-memory wire;
//    the wire steers by a hash that disagrees with the partition, as the kernel's does, so
//    wrong-queue forwarding is part of the cost. The shards run an engine-level sink.
//  - over TUN (shard-tun-…, root only): `synack serve --workers N` on a multi-queue TUN
//    device in a fresh namespace; the kernel's clients are curl (downloads, in parallel) and
//    a Node script opening connections from the namespace (kernel TCP).
//
// Every sample reports the CPU time of the whole sharded process and, on Linux, of each of its
// threads (/proc, src/shard/threadcpu.ts: `CPU main`, `CPU w0`, `CPU w1`, `CPU other` — the
// last is V8's GC and compiler helper threads and libuv's pool), each thread's event-loop
// utilisation, and `cores busy`: the whole machine's busy CPU time over the wall time (every
// process, the kernel's clients and softirq work included; on a shared machine, everyone's).
// So the scaling can be read against what the machine gave. `shard-ceiling-…` is the
// control: the ceiling pipeline (allocation-free, nothing shared) in 1 and 2 threads at once,
// what two independent threads get on this machine now.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { BenchCase, Sample } from './suite.js';
import { tunUnavailable, PKG_ROOT } from './tun.js';
import { ShardedStack } from '../../shard/sharded.js';
import { Stack } from '../../stack/stack.js';
import { RealtimeNetDriver } from '../../net/driver.js';
import type { Tcb } from '../../tcp/tcb.js';
import { Worker } from 'node:worker_threads';
import { ShardMap } from '../../shard/partition.js';
import { machineBusyMs } from '../../shard/threadcpu.js';
import { parseIpv4Address } from '../../wire/ipv4addr.js';

const SERVER = '198.18.0.2', CLIENT = '198.18.0.1';

function cpuS(): number { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

type ThreadCpu = { mainMs: number; shardMs: number[]; otherMs: number } | null;
interface CpuSnap { threads: ThreadCpu; machine: ReturnType<typeof machineBusyMs> }
function cpuSnap(threads: ThreadCpu): CpuSnap { return { threads, machine: machineBusyMs() }; }

/** Per-thread CPU seconds between two snapshots, and the machine's busy cores over `wallMs`. */
function cpuExtra(a: CpuSnap, b: CpuSnap, wallMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (a.threads !== null && b.threads !== null) {
    out['CPU main s'] = +((b.threads.mainMs - a.threads.mainMs) / 1000).toFixed(2);
    b.threads.shardMs.forEach((ms, k) => { out[`CPU w${k} s`] = +((ms - a.threads!.shardMs[k]!) / 1000).toFixed(2); });
    out['CPU other s'] = +((b.threads.otherMs - a.threads.otherMs) / 1000).toFixed(2);
  }
  if (a.machine !== null && b.machine !== null) out['cores busy'] = +((b.machine.busyMs - a.machine.busyMs) / wallMs).toFixed(2);
  return out;
}

async function memHarness<T>(workers: number, fn: (sh: ShardedStack, stack: Stack, driver: RealtimeNetDriver) => Promise<T>): Promise<T> {
  const sh = await ShardedStack.start({
    // The wire steers by the partition, as TUN does with eBPF steering (synack serve's default):
    // no packet crosses between shards, what crosses threads is the wire to this thread.
    workers, addr: SERVER, link: { kind: 'memory', steer: 'owner' },
    setup: new URL('./shard-sink.js', import.meta.url),
    options: { tcp_rmem: [4096, 1 << 20, 6 << 20] },
  });
  const driver = new RealtimeNetDriver();
  try {
    const stack = new Stack({ clock: driver.clock, name: 'peer', options: { tcp_wmem: [4096, 1 << 20, 4 << 20], tcp_tw_reuse: 1 } });
    stack.addInterface({ addr: CLIENT, prefixLen: 24, link: sh.wire! });
    driver.addStack(stack);
    // Engine-level connections hold nothing: keep the host timer referenced while measuring.
    driver.hold(1);
    return await fn(sh, stack, driver);
  } finally {
    driver.hold(-1);
    driver.stop();
    await sh.close();
  }
}

/** Utilisation of each shard's thread between two stats() snapshots (0..1). */
function shardElu(a: Awaited<ReturnType<ShardedStack['stats']>>, b: Awaited<ReturnType<ShardedStack['stats']>>, wallMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  b.forEach((s, k) => { out[`ELU w${k}`] = +((s.eluActiveMs - a[k]!.eluActiveMs) / wallMs).toFixed(2); });
  return out;
}

/** `conns` connections from this thread's stack to the shards' sink, `mb` MiB in all. */
export async function shardMemBulk(workers: number, mb: number, conns: number): Promise<Sample> {
  return memHarness(workers, async (sh, stack, driver) => {
    // Warm-up, untimed, as much per shard as one shard alone gets (see shardLocal).
    await memBulkRun(sh, stack, driver, Math.max(1, (mb >> 1) * workers), conns);
    return memBulkRun(sh, stack, driver, mb, conns);
  });
}

async function memBulkRun(sh: ShardedStack, stack: Stack, driver: RealtimeNetDriver, mb: number, conns: number): Promise<Sample> {
  {
    const total = mb * (1 << 20);
    const per = Math.floor(total / conns);
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
    let ended = 0;
    const sinkBefore = (await sh.broadcast({ cmd: 'bytes' }) as Array<{ bytes: number }>).reduce((a, r) => a + r.bytes, 0);
    const s0 = await sh.stats();
    const elu0 = performance.eventLoopUtilization();
    const k0 = cpuSnap(sh.threadCpu());
    const t0 = performance.now(), c0 = cpuS();
    await new Promise<void>((resolve) => {
      for (let i = 0; i < conns; i++) {
        // Connection i to shard i mod N (the peer picks its port so), as RSS spreads many
        // connections evenly: with 8 random ports a 2-shard split is 5:3 or worse 64 % of the time.
        const want = i % sh.shards;
        stack.ephemeralFilter = (la, lp, ra, rp) => sh.map.owner(la, lp, ra, rp) === want;
        const c: Tcb = stack.connect({ remoteAddr: SERVER, remotePort: 9 });
        stack.ephemeralFilter = null;
        let sent = 0;
        const pump = (): void => {
          while (sent < per) {
            const n = c.send(chunk, driver.now(), 0, Math.min(chunk.length, per - sent));
            if (n <= 0) return;
            sent += n;
          }
          if (c.state === 'ESTABLISHED') c.close(driver.now());
        };
        c.user = { onEstablished: pump, onWritable: pump, onEnd: () => { if (++ended === conns) resolve(); } };
        c.openActive(driver.now());
      }
      driver.kick();
    });
    const wall = performance.now() - t0, cpu = cpuS() - c0;
    const k1 = cpuSnap(sh.threadCpu());
    const elu = performance.eventLoopUtilization(elu0);
    const s1 = await sh.stats();
    const got = (await sh.broadcast({ cmd: 'bytes' }) as Array<{ bytes: number }>).reduce((a, r) => a + r.bytes, 0) - sinkBefore;
    if (got !== per * conns) throw new Error(`shard bench: the sinks read ${got} bytes, expected ${per * conns}`);
    const fwd = s1.reduce((a, s, k) => a + s.link.rxForwarded - s0[k]!.link.rxForwarded, 0);
    return {
      value: (per * conns * 8) / (wall / 1000) / 1e6,
      extra: { 'CPU s': +cpu.toFixed(2), 'CPU ms/MB': +((cpu * 1000) / (per * conns / 1e6)).toFixed(2), ...cpuExtra(k0, k1, wall), 'ELU main': +elu.utilization.toFixed(2), ...shardElu(s0, s1, wall), forwarded: fwd },
    };
  }
}

/** connect + close from this thread's stack, `parallel` in flight, `count` in all. */
export async function shardMemConnRate(workers: number, count: number, parallel: number): Promise<Sample> {
  return memHarness(workers, async (sh, stack, driver) => {
    // Warm-up, untimed, as much per shard as one shard alone gets (see shardLocal).
    await memConnRateRun(sh, stack, driver, Math.max(1, (count >> 1) * workers), parallel);
    return memConnRateRun(sh, stack, driver, count, parallel);
  });
}

async function memConnRateRun(sh: ShardedStack, stack: Stack, driver: RealtimeNetDriver, count: number, parallel: number): Promise<Sample> {
  {
    let started = 0, done = 0;
    const s0 = await sh.stats();
    const elu0 = performance.eventLoopUtilization();
    const k0 = cpuSnap(sh.threadCpu());
    const t0 = performance.now(), c0 = cpuS();
    await new Promise<void>((resolve, reject) => {
      const start = (): void => {
        started++;
        const c = stack.connect({ remoteAddr: SERVER, remotePort: 9 });
        c.user = {
          onEstablished: () => c.close(driver.now()),
          // The sink closes on our FIN: its FIN is the end of this connection for the count.
          onEnd: () => { done++; if (done === count) resolve(); else if (started < count) start(); },
          onClosed: (err) => { if (err !== null) reject(new Error(`connection failed: ${err}`)); },
        };
        c.openActive(driver.now());
      };
      for (let i = 0; i < parallel && started < count; i++) start();
      driver.kick();
    });
    const wall = performance.now() - t0, cpu = cpuS() - c0;
    const k1 = cpuSnap(sh.threadCpu());
    const elu = performance.eventLoopUtilization(elu0);
    const s1 = await sh.stats();
    return {
      value: count / (wall / 1000),
      extra: { 'CPU s': +cpu.toFixed(2), 'CPU µs/conn': +((cpu * 1e6) / count).toFixed(1), ...cpuExtra(k0, k1, wall), 'ELU main': +elu.utilization.toFixed(2), ...shardElu(s0, s1, wall) },
    };
  }
}

/**
 * Each shard with its own peer (same worker, in-thread link): `conns` connections and `mb`
 * MiB, or `count` connect+close, split evenly over the shards; the clock runs from the
 * request to the last shard's reply. No packet crosses threads.
 */
export async function shardLocal(kind: 'bulk' | 'connrate', workers: number, quick: boolean): Promise<Sample> {
  const sh = await ShardedStack.start({
    workers, addr: SERVER, link: { kind: 'memory' },
    setup: new URL('./shard-sink.js', import.meta.url),
    options: { tcp_rmem: [4096, 1 << 20, 6 << 20] },
  });
  try {
    const total = (quick ? 64 : 256) * (1 << 20), conns = 8, count = quick ? 8000 : 24000, parallel = 64;
    // Warm up, untimed: every worker is its own V8 isolate and compiles and optimizes the
    // stack for itself, so each gets as much warm-up as one worker alone does — half the
    // measured work, not half divided by N. (Issue 16: with the warm-up divided by N, each
    // isolate of 2 was still tiering up in the measured run: 16,000 connect+close cost 1.24–1.49
    // CPU s with 2 workers against 0.83 with 1; with equal warm-up 0.47 against 0.50.)
    await sh.broadcast(kind === 'bulk'
      ? { cmd: 'local-bulk', conns: conns / workers, bytes: Math.floor(total / 2) }
      : { cmd: 'local-connrate', count: Math.floor(count / 2), parallel: parallel / workers });
    const s0 = await sh.stats();
    const k0 = cpuSnap(sh.threadCpu());
    const t0 = performance.now(), c0 = cpuS();
    const replies = await sh.broadcast(kind === 'bulk'
      ? { cmd: 'local-bulk', conns: conns / workers, bytes: Math.floor(total / workers) }
      : { cmd: 'local-connrate', count: Math.floor(count / workers), parallel: parallel / workers }) as Array<{ bytes?: number; done?: number }>;
    const wall = performance.now() - t0, cpu = cpuS() - c0;
    const k1 = cpuSnap(sh.threadCpu());
    const s1 = await sh.stats();
    const threads = cpuExtra(k0, k1, wall);
    if (kind === 'bulk') {
      const got = replies.reduce((a, r) => a + r.bytes!, 0);
      const want = workers * Math.floor(Math.floor(total / workers) / (conns / workers)) * (conns / workers);
      if (got !== want) throw new Error(`shard bench: the sinks read ${got} bytes, expected ${want}`);
      return { value: (got * 8) / (wall / 1000) / 1e6, extra: { 'CPU s': +cpu.toFixed(2), 'CPU ms/MB': +((cpu * 1000) / (got / 1e6)).toFixed(2), ...threads, ...shardElu(s0, s1, wall) } };
    }
    const done = replies.reduce((a, r) => a + r.done!, 0);
    return { value: done / (wall / 1000), extra: { 'CPU s': +cpu.toFixed(2), 'CPU µs/conn': +((cpu * 1e6) / done).toFixed(1), ...threads, ...shardElu(s0, s1, wall) } };
  } finally {
    await sh.close();
  }
}

// ---------------------------------------------------------------- over TUN (root)

/**
 * The namespace the kernel's clients run in. Its TCP is set up for connection churn as a
 * connect-rate benchmark on Linux would be: `tcp_tw_reuse = 1`. The kernel's clients close
 * first (as `connrate-seq` does), so every connection leaves a TIME-WAIT socket on the
 * kernel's side for 60 s, holding its (address, port, address, port); with the default
 * `tcp_tw_reuse = 2` (loopback only) connect() never takes such a port, so after
 * ip_local_port_range's 28,232 ports (5 runs × 6,000 connections = 30,000) it fails with
 * EADDRNOTAVAIL — the shard-tun-connrate failure of issue 16 — and well before that connect()
 * slows down (2 s → 25 s per run) searching the nearly full port space. With 1, a TIME-WAIT
 * port is taken again once it is tcp_tw_reuse_delay (1 s) old, the timestamps (RFC 7323,
 * synack sends them) keeping the incarnations apart (net/ipv4/tcp_ipv4.c, tcp_twsk_unique).
 */
export interface BenchNetnsOptions {
  /** Name prefix (must start with synack-); default $SYNACK_NETNS_PREFIX or synack-bench. */
  prefix?: string;
  /** net.ipv4.ip_local_port_range in the namespace (the kernel clients' ephemeral ports). */
  portRange?: [number, number];
  /** net.ipv4.tcp_tw_reuse_delay in ms (Linux 6.13+; default 1000). */
  twReuseDelayMs?: number;
}

export class BenchNetns {
  readonly name: string;
  private readonly procs = new Set<ChildProcess>();
  private gone = false;
  private readonly onExit = (): void => this.destroy();
  constructor(o: BenchNetnsOptions = {}) {
    const prefix = o.prefix ?? (process.env.SYNACK_NETNS_PREFIX || 'synack-bench');
    if (!/^synack-[A-Za-z0-9-]{0,20}$/.test(prefix)) throw new Error(`the namespace prefix (SYNACK_NETNS_PREFIX) start with synack- (got ${prefix})`);
    this.name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const r = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${this.name}: ${r.stderr || r.error?.message}`);
    process.on('exit', this.onExit);
    spawnSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'exec', this.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore' });
    const sysctls = ['net.ipv4.tcp_tw_reuse=1'];
    if (o.portRange !== undefined) sysctls.push(`net.ipv4.ip_local_port_range=${o.portRange[0]} ${o.portRange[1]}`);
    if (o.twReuseDelayMs !== undefined) sysctls.push(`net.ipv4.tcp_tw_reuse_delay=${o.twReuseDelayMs}`);
    for (const kv of sysctls) {
      const r2 = spawnSync('ip', ['netns', 'exec', this.name, 'sysctl', '-qw', kv], { encoding: 'utf8' });
      if (r2.status !== 0) { this.destroy(); throw new Error(`sysctl ${kv} in ${this.name}: ${r2.stderr.trim()}`); }
    }
  }
  /** A kernel TCP counter of the namespace (nstat's name, e.g. TcpExtTWRecycled). */
  nstat(name: string): number {
    const r = spawnSync('ip', ['netns', 'exec', this.name, 'nstat', '-asz', name], { encoding: 'utf8' });
    const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(r.stdout ?? '');
    return m === null ? 0 : Number(m[1]);
  }
  spawn(cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: 'pipe', detached: true });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    return p;
  }
  run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const p = this.spawn(cmd, args);
    let out = '', err = '';
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdin!.end();
    const timer = setTimeout(() => this.kill(p), timeoutMs);
    return new Promise((resolve) => p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout: out, stderr: err }); }));
  }
  kill(p: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): void {
    if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
    try { process.kill(-p.pid, sig); } catch { try { process.kill(p.pid, sig); } catch { /* gone */ } }
  }
  destroy(): void {
    if (this.gone) return;
    this.gone = true;
    process.off('exit', this.onExit);
    for (const p of this.procs) this.kill(p);
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout ?? '';
    for (const s of pids.split(/\s+/)) {
      const pid = Number(s);
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }
}

export type ServeStats = { counters: Record<string, number>; cpu: { userMs: number; systemMs: number }; threads: ThreadCpu; shards: Array<{ eluActiveMs: number; counters: Record<string, number>; connections: number; link: { rxForwarded: number } }> };

/** `synack serve --workers N --control` in the namespace. */
export class ShardServe {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  private id = 1;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  private stderr = '';
  constructor(ns: BenchNetns, args: string[]) {
    this.proc = ns.spawn(process.execPath, [join(PKG_ROOT, 'bin', 'synack.js'), 'serve', ...args, '--control']);
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.proc.stdin!.on('error', () => { /* exited */ });
    let ok!: () => void, bad!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { ok = res; bad = rej; });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let m: Record<string, unknown>;
      try { m = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      if (m.ready === true) ok();
      else if (m.error !== undefined && m.id === undefined) bad(new Error(`synack serve failed: ${String(m.error)}`));
      const w = this.waiting.get(m.id as number);
      if (w !== undefined) { this.waiting.delete(m.id as number); w(m); }
    });
    this.proc.on('exit', (code, sig) => {
      bad(new Error(`synack serve exited (${code ?? sig}): ${this.stderr}`));
      for (const w of this.waiting.values()) w({ error: `exited ${code ?? sig}` });
    });
  }
  async stats(): Promise<ServeStats> {
    const id = this.id++;
    const r = await new Promise<Record<string, unknown>>((resolve) => {
      this.waiting.set(id, resolve);
      this.proc.stdin!.write(JSON.stringify({ cmd: 'stats', id }) + '\n');
    });
    if (r.stats === undefined) throw new Error(`synack serve: ${String(r.error)} ${this.stderr}`);
    return r.stats as ServeStats;
  }
}

/** A kernel client in the namespace: `count` connect+close to addr:port, `parallel` in flight (Node's net, i.e. the kernel's TCP); errors counted by code. */
const CONNECT_CLIENT = `
const net = require('node:net');
const [host, port, count, parallel] = process.argv.slice(1).map((x, i) => i === 0 ? x : Number(x));
let started = 0, done = 0, failed = 0;
const errors = {};
const t0 = process.hrtime.bigint();
const one = () => {
  started++;
  const s = net.connect(port, host, () => s.end());
  s.on('error', (e) => { failed++; errors[e.code] = (errors[e.code] || 0) + 1; });
  s.resume();
  s.on('close', () => { done++; if (done === count) { const u = process.cpuUsage(); console.log(JSON.stringify({ done, failed, errors, s: Number(process.hrtime.bigint() - t0) / 1e9, cpuS: (u.user + u.system) / 1e6 })); } else if (started < count) one(); });
};
for (let i = 0; i < parallel && started < count; i++) one();
`;

/**
 * `procs` kernel clients at once, `count` connect+close in all, `parallel` in flight each;
 * throws (with what the clients saw: error codes) unless every connection succeeded.
 */
export async function kernelConnects(ns: BenchNetns, addr: string, port: number, count: number, procs: number, parallel: number): Promise<{ clientCpuS: number }> {
  const rs = await Promise.all(Array.from({ length: procs }, () => ns.run(process.execPath, ['-e', CONNECT_CLIENT, addr, String(port), String(count / procs), String(parallel)], 300_000)));
  let clientCpuS = 0;
  for (const r of rs) {
    let j: { done?: number; failed?: number; cpuS?: number } = {};
    try { j = JSON.parse(r.stdout || '{}') as typeof j; } catch { /* reported below */ }
    if (r.code !== 0 || j.done !== count / procs || j.failed !== 0) throw new Error(`connect client: ${r.stdout.trim()} ${r.stderr.trim()}`);
    clientCpuS += j.cpuS ?? 0;
  }
  return { clientCpuS };
}

/** The CPU seconds of a shell's children, from the second line of its `times` output ("0m0.012s 0m0.040s"). */
export function childrenCpuS(timesOutput: string): number {
  const line = timesOutput.trim().split('\n').pop() ?? '';
  let s = 0;
  for (const m of line.matchAll(/(\d+)m([\d.]+)s/g)) s += Number(m[1]) * 60 + Number(m[2]);
  return s;
}

function cpuOf(a: ServeStats, b: ServeStats): number { return (b.cpu.userMs - a.cpu.userMs + b.cpu.systemMs - a.cpu.systemMs) / 1000; }

function serveElu(a: ServeStats, b: ServeStats, wallMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  b.shards.forEach((s, k) => { out[`ELU w${k}`] = +((s.eluActiveMs - a.shards[k]!.eluActiveMs) / wallMs).toFixed(2); });
  return out;
}

/** All runs of one TUN case: one namespace, one `synack serve --workers N`. */
async function shardTun(kind: 'bulk' | 'connrate', workers: number, quick: boolean, runs: number): Promise<Sample[]> {
  const why = tunUnavailable();
  if (why !== null) throw new Error(`shard tun bench: ${why}`);
  const ns = new BenchNetns();
  const net = `198.18.${1 + (process.pid % 250)}`;
  const synack = `${net}.1`, kernel = `${net}.2`;
  const out: Sample[] = [];
  try {
    const serve = new ShardServe(ns, ['--tun', 'sksb0', '--addr', `${synack}/24`, '--host-addr', kernel, '--workers', String(workers), '--http', '80', '--discard', '9']);
    await serve.ready;
    // Run 0 is an untimed warm-up (every worker's isolate compiles the stack for itself).
    for (let i = -1; i < runs; i++) {
      const a = await serve.stats();
      const m0 = machineBusyMs();
      const t0 = performance.now();
      let value: number, unitExtra: Record<string, number>;
      if (kind === 'bulk') {
        const conns = 4, bytes = quick ? 25e6 : 50e6;
        // Source ports chosen so that each shard owns conns/N of the downloads (the same ports
        // for 1 worker): with 4 random ports, 2 shards get 3:1 or 4:0 62 % of the time.
        const ports = balancedPorts(kernel, synack, 80, 2, conns, 20000 + ((i + 1) % 100) * 200);
        // `times`: the CPU time curl used (the kernel's receive work done in its recv() calls included).
        const rs = await Promise.all(ports.map((sp) => ns.run('sh', ['-c', `curl -sS --max-time 300 --local-port ${sp} -o /dev/null -w '%{size_download}\\n' http://${synack}/bytes/${bytes} && times`], 310_000)));
        for (const r of rs) if (r.code !== 0 || Number(r.stdout.split('\n')[0]) !== bytes) throw new Error(`curl: ${r.code} ${r.stdout} bytes ${r.stderr}`);
        const clientCpu = rs.reduce((a, r) => a + childrenCpuS(r.stdout), 0);
        const wall = performance.now() - t0;
        const m1 = machineBusyMs();
        value = (conns * bytes * 8) / (wall / 1000) / 1e6;
        const b = await serve.stats();
        const cpu = cpuOf(a, b);
        unitExtra = { 'CPU s': +cpu.toFixed(2), 'CPU ms/MB': +((cpu * 1000) / (conns * bytes / 1e6)).toFixed(2), ...cpuExtra({ threads: a.threads, machine: m0 }, { threads: b.threads, machine: m1 }, wall), 'CPU clients s': +clientCpu.toFixed(2), ...serveElu(a, b, wall), forwarded: b.shards.reduce((x, s, k) => x + s.link.rxForwarded - a.shards[k]!.link.rxForwarded, 0) };
      } else {
        const count = quick ? 2000 : 6000, procs = 2, parallel = 16;
        const { clientCpuS } = await kernelConnects(ns, synack, 9, count, procs, parallel);
        const wall = performance.now() - t0;
        const m1 = machineBusyMs();
        value = count / (wall / 1000);
        const b = await serve.stats();
        const cpu = cpuOf(a, b);
        unitExtra = { 'CPU s': +cpu.toFixed(2), 'CPU µs/conn': +((cpu * 1e6) / count).toFixed(1), ...cpuExtra({ threads: a.threads, machine: m0 }, { threads: b.threads, machine: m1 }, wall), 'CPU clients s': +clientCpuS.toFixed(2), ...serveElu(a, b, wall), 'passive opens': b.counters.TcpPassiveOpens! - a.counters.TcpPassiveOpens! };
      }
      if (i >= 0) out.push({ value, extra: unitExtra });
    }
    ns.kill(serve.proc, 'SIGTERM');
  } finally {
    ns.destroy();
  }
  return out;
}

/**
 * `count` source ports from `from` up whose flow (client:port → server:dstPort) the shards
 * of a `shards`-way partition own in turn: shard 0, 1, …, 0, 1, … (for curl --local-port).
 */
export function balancedPorts(client: string, server: string, dstPort: number, shards: number, count: number, from: number): number[] {
  const map = new ShardMap(shards);
  const c = parseIpv4Address(client)!, s = parseIpv4Address(server)!;
  const out: number[] = [];
  for (let sp = from; out.length < count && sp < 65536; sp++) if (map.owner(c, sp, s, dstPort) === out.length % shards) out.push(sp);
  return out;
}

/**
 * The control: the ceiling pipeline (src/cli/bench/ceiling.ts: copy + checksum + headers,
 * no allocation, nothing shared) in `threads` worker threads at once, aggregate Mbit/s. What
 * N independent threads get on this machine now — the bound for any N-shard figure.
 */
export async function parallelCeiling(threads: number, quick: boolean): Promise<Sample> {
  const mb = quick ? 100 : 300;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(({ ceiling }) => {
      ceiling(20, 1448); // warm-up
      parentPort.postMessage('ready');
      parentPort.once('message', () => { const t0 = performance.now(); ceiling(workerData.mb, 1448); parentPort.postMessage(performance.now() - t0); });
    });`;
  const ws = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData: { url: new URL('./ceiling.js', import.meta.url).href, mb } }));
  try {
    await Promise.all(ws.map((w) => new Promise((r, j) => { w.once('message', r); w.once('error', j); })));
    const m0 = machineBusyMs();
    const t0 = performance.now();
    const each = await Promise.all(ws.map((w) => new Promise<number>((r, j) => { w.once('message', r); w.once('error', j); w.postMessage('go'); })));
    const wall = performance.now() - t0;
    const m1 = machineBusyMs();
    const extra: Record<string, number> = {};
    each.forEach((ms, k) => { extra[`Mbit/s t${k}`] = Math.round((mb * 8 * 1.048576) / (ms / 1000)); });
    if (m0 !== null && m1 !== null) extra['cores busy'] = +((m1.busyMs - m0.busyMs) / wall).toFixed(2);
    return { value: (threads * mb * 8 * 1.048576) / (wall / 1000), extra };
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

function batchOnly(): Sample { throw new Error('measured by runAll'); }

export const SHARD_CASES: BenchCase[] = [
  { name: 'shard-ceiling-1w', unit: 'Mbit/s', describe: 'control: the ceiling pipeline in 1 worker thread (what one thread gets now)', run: (q) => parallelCeiling(1, q) },
  { name: 'shard-ceiling-2w', unit: 'Mbit/s', describe: 'control: the ceiling pipeline in 2 worker threads at once, aggregate (the bound for 2 shards)', run: (q) => parallelCeiling(2, q) },
  { name: 'shard-local-bulk-1w', unit: 'Mbit/s', describe: 'sharded stack, 1 worker, each shard with its own peer in its thread: 8 connections, aggregate (the bound)', run: (q) => shardLocal('bulk', 1, q) },
  { name: 'shard-local-bulk-2w', unit: 'Mbit/s', describe: 'the same with 2 workers (4 connections each)', run: (q) => shardLocal('bulk', 2, q) },
  { name: 'shard-local-connrate-1w', unit: 'conn/s', describe: 'sharded stack, 1 worker, its own peer in its thread: connect+close, 64 in flight', run: (q) => shardLocal('connrate', 1, q) },
  { name: 'shard-local-connrate-2w', unit: 'conn/s', describe: 'the same with 2 workers (32 in flight each)', run: (q) => shardLocal('connrate', 2, q) },
  { name: 'shard-mem-bulk-1w', unit: 'Mbit/s', describe: 'sharded stack, 1 worker, in-memory wire: 8 connections from the main thread at once (spread evenly over the shards), aggregate', run: (q) => shardMemBulk(1, q ? 64 : 256, 8) },
  { name: 'shard-mem-bulk-2w', unit: 'Mbit/s', describe: 'the same with 2 workers', run: (q) => shardMemBulk(2, q ? 64 : 256, 8) },
  { name: 'shard-mem-connrate-1w', unit: 'conn/s', describe: 'sharded stack, 1 worker, in-memory wire: connect+close, 64 in flight', run: (q) => shardMemConnRate(1, q ? 5000 : 20000, 64) },
  { name: 'shard-mem-connrate-2w', unit: 'conn/s', describe: 'the same with 2 workers', run: (q) => shardMemConnRate(2, q ? 5000 : 20000, 64) },
  { name: 'shard-tun-bulk-1w', unit: 'Mbit/s', describe: 'synack serve --workers 1 on TUN: 4 curl downloads at once (2 per shard of a 2-way split), aggregate (root only)', run: batchOnly, runAll: (q, n) => shardTun('bulk', 1, q, n), unavailable: tunUnavailable },
  { name: 'shard-tun-bulk-2w', unit: 'Mbit/s', describe: 'the same with --workers 2 (one TUN queue each) (root only)', run: batchOnly, runAll: (q, n) => shardTun('bulk', 2, q, n), unavailable: tunUnavailable },
  { name: 'shard-tun-connrate-1w', unit: 'conn/s', describe: 'synack serve --workers 1 on TUN: kernel clients connect+close, 2×16 in flight (root only)', run: batchOnly, runAll: (q, n) => shardTun('connrate', 1, q, n), unavailable: tunUnavailable },
  { name: 'shard-tun-connrate-2w', unit: 'conn/s', describe: 'the same with --workers 2 (root only)', run: batchOnly, runAll: (q, n) => shardTun('connrate', 2, q, n), unavailable: tunUnavailable },
];
