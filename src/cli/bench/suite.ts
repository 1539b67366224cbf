// The benchmark cases. Each returns one measurement per run; the runner repeats and takes
// the median. Everything runs in this process except the heap cases (a child with --expose-gc).
import { createServer, connect, type Socket } from 'node:net';
import { ceiling } from './ceiling.js';
import { tunBench, tunUnavailable, type TunRun } from './tun.js';
import { SHARD_CASES } from './shard.js';
import { Simulation } from '../../sim/simulation.js';
import { RealtimeNetDriver, realtimeTwoHosts, createNet } from '../../net/index.js';
import { twoHosts } from '../../sim/hosts.js';
import type { Tcb } from '../../tcp/tcb.js';

export interface Sample { value: number; extra?: Record<string, number> }
export interface BenchCase {
  name: string;
  unit: string;
  describe: string;
  /** Run once; `quick` shrinks the work. */
  run(quick: boolean): Promise<Sample> | Sample;
  /** Runs in a child process with --expose-gc (heap measurements). */
  isolated?: boolean;
  /** Why the case cannot run here (null: it can). */
  unavailable?(): string | null;
  /** All runs at once (cases measured by an external harness); replaces `run`. */
  runAll?(quick: boolean, runs: number): Promise<Sample[]>;
  /** Bulk cases: the MSS whose ceiling (same run) the figure is compared with. */
  ceilingMss?: number;
  /** Runs exactly once whatever --runs says (a model, a deterministic simulation). */
  once?: boolean;
}

function cpuMs(): number { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }

/** One bulk transfer of `mb` MiB between two stacks in one process over an in-memory link. */
export function bulk(mb: number, mtu: number): Sample {
  const sim = new Simulation({ seed: 1 });
  // 1 µs of link delay: virtual time moves, so no single instant holds the whole transfer.
  const { a, b } = twoHosts(sim, {
    mtu,
    delay: 1,
    optionsA: { tcp_wmem: [4096, 4 << 20, 4 << 20] },
    optionsB: { tcp_rmem: [4096, 6 << 20, 6 << 20] },
  });
  const l = b.listen({ port: 5001 });
  let got = 0;
  // The reader copies into its own buffer, like recv(2) into a user buffer.
  const sink = new Uint8Array(1 << 20);
  l.onAcceptable = () => {
    const s = l.accept()!;
    s.user = { onReadable: () => { let n; while ((n = s.receiveInto(sink, 0, sink.length, sim.now())) > 0) got += n; } };
  };
  const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 5001 });
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
  const total = mb * (1 << 20);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = c.send(chunk, sim.now(), 0, Math.min(chunk.length, total - sent));
      if (n <= 0) break;
      sent += n;
    }
  };
  c.user = { onEstablished: pump, onWritable: pump };
  const t0 = process.hrtime.bigint();
  const c0 = cpuMs();
  c.openActive(sim.now());
  sim.runUntil(() => got >= total);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMs() - c0;
  const segs = a.counters.TcpOutSegs + b.counters.TcpOutSegs;
  return { value: (total * 8) / secs / 1e6, extra: { 'MB/s': total / secs / 1e6, 'segments/s': segs / secs, 'CPU ms/MB': cpu / (total / 1e6) } };
}

/**
 * The same bulk transfer through synack's `net` API: two stacks on the realtime driver (an
 * in-memory link), `net.connect` writing 1 MiB Buffers with backpressure, the server socket
 * read by a 'data' listener. Also reports the engine path (bulk above) measured just before,
 * and the ratio (issue 16: the net path within 80 % of the engine path).
 */
export async function bulkNet(mb: number, mtu: number): Promise<Sample> {
  const engine = bulk(mb, mtu).value;
  const driver = new RealtimeNetDriver();
  const { a, b } = realtimeTwoHosts(driver, {
    mtu,
    optionsA: { tcp_wmem: [4096, 4 << 20, 4 << 20] },
    optionsB: { tcp_rmem: [4096, 6 << 20, 6 << 20] },
  });
  const na = createNet(a, driver), nb = createNet(b, driver);
  const total = mb * (1 << 20);
  const chunk = Buffer.alloc(1 << 20, 7);
  const t0 = process.hrtime.bigint();
  const c0 = cpuMs();
  await new Promise<void>((resolve, reject) => {
    const server = nb.createServer((s) => {
      let got = 0;
      s.on('data', (d: Buffer) => { got += d.length; if (got >= total) { server.close(); s.destroy(); resolve(); } });
      s.on('error', reject);
    });
    server.listen(5001, '198.18.0.2', () => {
      const c = na.connect(5001, '198.18.0.2');
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!c.write(chunk)) { c.once('drain', pump); return; }
        }
        c.end();
      };
      c.on('connect', pump);
      c.on('error', () => { /* the server resets it at the end */ });
    });
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMs() - c0;
  driver.stop();
  const v = (total * 8) / secs / 1e6;
  return { value: v, extra: { 'engine Mbit/s': engine, '% of engine': (100 * v) / engine, 'CPU ms/MB': cpu / (total / 1e6) } };
}

/**
 * Connect + close rate between two stacks, `parallel` connections in flight: the client
 * connects and closes at once; the server closes on the FIN; a connection counts when the
 * server reaches CLOSED (the client holds TIME-WAIT, reused via tcp_tw_reuse + timestamps).
 *
 * `warmup` connections run first, untimed, in simulations of 2,000 each: the figure is the
 * steady state, not V8 compiling the connect path (issue 16: in a fresh process the first
 * 20,000 connections ran at ~40 % of the warm rate and the next 20,000 at ~75 %, so a median
 * of 5 runs measured the JIT as much as the stack; short simulations warm up faster than one
 * long one, whose loop waits for on-stack replacement). Their rate is reported as
 * 'cold conn/s'.
 */
export function connRate(count: number, parallel: number, warmup = 0): Sample {
  let cold = 0;
  if (warmup > 0) {
    const t0 = process.hrtime.bigint();
    for (let w = 0; w < warmup; w += 2000) connRateOnce(Math.min(2000, warmup - w), parallel);
    cold = warmup / (Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const c0 = cpuMs();
  const s = connRateOnce(count, parallel);
  const cpu = cpuMs() - c0;
  const extra: Record<string, number> = { 'CPU µs/conn': (cpu * 1000) / count };
  if (warmup > 0) extra['cold conn/s'] = cold;
  return { value: s.value, extra };
}

function connRateOnce(count: number, parallel: number): Sample {
  const sim = new Simulation({ seed: 2 });
  const { a, b } = twoHosts(sim, { delay: 1 });
  const l = b.listen({ port: 80, backlog: 4096 });
  let started = 0, done = 0;
  const start = (): void => {
    started++;
    const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 80 });
    c.user = { onEstablished: () => c.close(sim.now()) };
    c.openActive(sim.now());
  };
  l.onAcceptable = () => {
    for (let s = l.accept(); s !== null; s = l.accept()) {
      const srv: Tcb = s;
      srv.user = {
        onEnd: () => srv.close(sim.now()),
        onClosed: () => { done++; if (started < count) start(); },
      };
    }
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < parallel && started < count; i++) start();
  sim.runUntil(() => done >= count);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (done < count) throw new Error(`only ${done} of ${count} connections completed`);
  return { value: done / secs };
}

/** Establish `n` idle connections; report heap bytes per connection and the time to open them. */
export function idleConnections(n: number): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  const sim = new Simulation({ seed: 3 });
  const { a, b } = twoHosts(sim, { delay: 1 });
  const ports = Math.ceil(n / 25000);
  const accepted: Tcb[] = [];
  for (let p = 0; p < ports; p++) {
    const l = b.listen({ port: 1000 + p, backlog: 65535 });
    l.onAcceptable = () => { for (let s = l.accept(); s !== null; s = l.accept()) accepted.push(s); };
  }
  gc?.(); gc?.();
  const before = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  const clients: Tcb[] = [];
  let established = 0;
  for (let i = 0; i < n; i++) {
    const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 1000 + (i % ports) });
    c.user = { onEstablished: () => { established++; } };
    c.openActive(sim.now());
    clients.push(c);
    if (i % 1000 === 999) sim.runUntil(() => established === i + 1);
  }
  sim.runUntil(() => established === n && accepted.length === n);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  gc?.(); gc?.();
  const after = process.memoryUsage().heapUsed;
  // Both ends live in this heap: 2n connections.
  const perConn = (after - before) / (2 * n);
  if (clients.length !== n || accepted.length !== n) throw new Error('not all connections opened');
  return { value: perConn, extra: { 'open s': secs, 'conn/s': n / secs } };
}

/** Goodput in virtual time over a lossy bottleneck, next to the Mathis et al. estimate. */
export function lossGoodput(mb: number, seed: number): Sample {
  const sim = new Simulation({ seed });
  const { a, b } = twoHosts(sim, {
    delay: 10_000,
    faultsAtoB: { loss: 0.01, rate: 100e6, queueLimit: 256 * 1024 },
    optionsA: { tcp_wmem: [4096, 4 << 20, 4 << 20] },
    optionsB: { tcp_rmem: [4096, 6 << 20, 6 << 20] },
  });
  const l = b.listen({ port: 5001 });
  let got = 0;
  l.onAcceptable = () => { const s = l.accept()!; s.user = { onReadable: () => { got += s.receive(1 << 30, sim.now()).length; } }; };
  const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 5001 });
  const chunk = new Uint8Array(1 << 20);
  const total = mb * (1 << 20);
  let sent = 0;
  const pump = (): void => { while (sent < total) { const k = c.send(chunk, sim.now(), 0, Math.min(chunk.length, total - sent)); if (k <= 0) break; sent += k; } };
  c.user = { onEstablished: pump, onWritable: pump };
  c.openActive(sim.now());
  const t0 = sim.now();
  sim.runUntil(() => got >= total);
  const secs = (sim.now() - t0) / 1e6;
  return { value: (total * 8) / secs / 1e6, extra: { 'virtual s': secs } };
}

/** Mathis et al. (1997): BW ≈ (MSS/RTT)·sqrt(3/2)/sqrt(p). */
export function mathis(mss: number, rttSec: number, p: number): number {
  return ((mss * 8) / rttSec) * Math.sqrt(1.5) / Math.sqrt(p) / 1e6;
}

/** Node's net over the kernel loopback: bulk throughput (reference column). */
export async function nodeNetBulk(mb: number): Promise<Sample> {
  const total = mb * (1 << 20);
  const server = createServer((s: Socket) => { let n = 0; s.on('data', (d) => { n += d.length; if (n >= total) s.end(); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const chunk = Buffer.alloc(1 << 20, 7);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = connect(port, '127.0.0.1');
    let sent = 0;
    const pump = (): void => { while (sent < total) { sent += chunk.length; if (!c.write(chunk)) { c.once('drain', pump); return; } } };
    c.on('connect', pump);
    c.on('end', () => { c.destroy(); resolve(); });
    c.on('error', reject);
    c.resume();
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise<void>((r) => server.close(() => r()));
  return { value: (total * 8) / secs / 1e6 };
}

/** Node's net over the kernel loopback: sequential connect+close. */
export async function nodeNetConnRate(count: number): Promise<Sample> {
  const server = createServer((s: Socket) => { s.on('end', () => s.end()); s.resume(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.end());
      c.on('close', () => resolve());
      c.on('error', reject);
      c.resume();
    });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise<void>((r) => server.close(() => r()));
  return { value: count / secs };
}

// ---------------------------------------------------------------- TUN (root only)

const tunCache = new Map<string, Promise<TunRun[]>>();

/** One tunBench invocation (both directions, `runs` runs each), shared by the two cases of one offload setting. */
async function tunSamples(direction: TunRun['direction'], quick: boolean, runs: number, offload: boolean): Promise<Sample[]> {
  const key = String(offload);
  if (!tunCache.has(key)) tunCache.set(key, tunBench({ bytes: quick ? 50e6 : 100e6, runs, serveArgs: ['--offload', offload ? 'on' : 'off'] }));
  const all = await tunCache.get(key)!;
  return all.filter((x) => x.direction === direction).map((x) => ({
    value: x.MBps * 8,
    extra: { 'MB/s': x.MBps, 'Mbit/s incl. process start': +(x.wallMBps * 8).toFixed(0), 'packets/s in': x.pktsInPerS, 'packets/s out': x.pktsOutPerS, 'CPU µs/packet': x.usCpuPerPacket, 'CPU ms/MB': x.cpuMsPerMB, retransmits: x.retrans },
  }));
}

function batchOnly(): Sample { throw new Error('measured by runAll'); }

export const CASES: BenchCase[] = [
  { name: 'ceiling', unit: 'Mbit/s', describe: 'the minimal pipeline: copy + checksums + headers per 1448-byte segment, both ends, ACK per two', run: (q) => ceiling(q ? 100 : 400, 1448) },
  { name: 'bulk-mtu1500', unit: 'Mbit/s', describe: 'one connection, two stacks in one process, MTU 1500', run: (q) => bulk(q ? 50 : 200, 1500), ceilingMss: 1448 },
  { name: 'bulk-mtu65535', unit: 'Mbit/s', describe: 'one connection, two stacks in one process, MTU 65535', run: (q) => bulk(q ? 100 : 400, 65535), ceilingMss: 65483 },
  { name: 'bulk-net-mtu1500', unit: 'Mbit/s', describe: "the net API (Socket, realtime driver, a 'data' reader), MTU 1500; next to the engine path", run: (q) => bulkNet(q ? 50 : 100, 1500), ceilingMss: 1448 },
  // A fresh process per run (as the heap cases), warmed up: what ran before (bulk, its heap and
  // its type feedback) does not leak into the figure, and the JIT's first pass is not in it.
  { name: 'connrate-seq', unit: 'conn/s', describe: 'connect+close, one at a time (fresh process, 16,000 untimed first)', run: (q) => connRate(q ? 5000 : 20000, 1, q ? 8000 : 16_000), isolated: true },
  { name: 'connrate-100', unit: 'conn/s', describe: 'connect+close, 100 in flight (fresh process, 16,000 untimed first)', run: (q) => connRate(q ? 10000 : 40000, 100, q ? 8000 : 16_000), isolated: true },
  { name: 'heap-per-conn-10k', unit: 'bytes', describe: '10,000 idle established connections (both ends)', run: () => idleConnections(10_000), isolated: true },
  { name: 'heap-per-conn-100k', unit: 'bytes', describe: '100,000 idle established connections (both ends)', run: (q) => idleConnections(q ? 30_000 : 100_000), isolated: true },
  { name: 'loss-goodput', unit: 'Mbit/s', describe: 'virtual time: 1% loss, 20 ms RTT, 100 Mbit/s bottleneck', run: (q) => lossGoodput(q ? 10 : 40, 7), once: true },
  { name: 'loss-mathis', unit: 'Mbit/s', describe: 'Mathis model for MSS 1448, RTT 20 ms, p = 1%', run: () => ({ value: mathis(1448, 0.02, 0.01) }), once: true },
  { name: 'tun-kernel-to-synack', unit: 'Mbit/s', describe: 'TUN with offloads (TSO/GSO, checksum): the kernel (socat) sends to synack (root only)', run: batchOnly, runAll: (q, n) => tunSamples('kernel→synack', q, n, true), unavailable: tunUnavailable, ceilingMss: 1448 },
  { name: 'tun-synack-to-kernel', unit: 'Mbit/s', describe: 'TUN with offloads: synack (Node http) sends to the kernel (curl) (root only)', run: batchOnly, runAll: (q, n) => tunSamples('synack→kernel', q, n, true), unavailable: tunUnavailable, ceilingMss: 1448 },
  { name: 'tun-kernel-to-synack-nooffload', unit: 'Mbit/s', describe: 'TUN without offloads, kernel to synack (root only)', run: batchOnly, runAll: (q, n) => tunSamples('kernel→synack', q, n, false), unavailable: tunUnavailable, ceilingMss: 1448 },
  { name: 'tun-synack-to-kernel-nooffload', unit: 'Mbit/s', describe: 'TUN without offloads, synack to kernel (root only)', run: batchOnly, runAll: (q, n) => tunSamples('synack→kernel', q, n, false), unavailable: tunUnavailable, ceilingMss: 1448 },
  { name: 'node-net-loopback', unit: 'Mbit/s', describe: "Node's net over the kernel loopback (reference)", run: (q) => nodeNetBulk(q ? 200 : 1000) },
  { name: 'node-net-connrate-seq', unit: 'conn/s', describe: "Node's net connect+close over loopback, one at a time (reference)", run: (q) => nodeNetConnRate(q ? 1000 : 5000) },
  // More than one core (src/shard, docs/sharding.md): 1 and 2 workers.
  ...SHARD_CASES,
];
