// Throughput of synack against the Linux kernel over a TUN device, both ways (Node only,
// root). Shipped with the package, so `npx synack bench --only tun-…` works from an
// installed copy: it needs only bin/synack.js, the built addon, `ip`, curl and socat.
//
// Everything happens in a fresh network namespace (`$SYNACK_NETNS_PREFIX-<pid>-<hex>`,
// default prefix `synack-bench`), with addresses from 198.18.0.0/15 and nothing routed out;
// the namespace is deleted by its exact name on every exit path.
//
// synack → kernel: curl GET /bytes/N from `synack serve` (Node http over synack).
// kernel → synack: socat sends N bytes to synack's discard service (net API).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The package root: dist/src/cli/bench → four levels up (src/cli/bench when run from source: three). */
function packageRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../../../..', '../../..']) {
    const r = join(here, up);
    if (existsSync(join(r, 'bin', 'synack.js')) && existsSync(join(r, 'package.json'))) return r;
  }
  return join(here, '../../../..');
}

export const PKG_ROOT = packageRoot();

/** socat's read/write block in the kernel → synack case (bytes). */
const SOCAT_BLOCK = 128 * 1024;

function hasCommand(c: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
}

/** Why the TUN cases cannot run here, or null when they can. */
export function tunUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (a network namespace and a TUN device)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  const addon = join(PKG_ROOT, 'native', 'build', 'Release', 'synack_tun.node');
  if (!existsSync(addon) && !process.env.SYNACK_TUN_ADDON) return 'the TUN addon is not built (node scripts/build-addon.mjs --verbose)';
  for (const c of ['ip', 'curl', 'socat']) if (!hasCommand(c)) return `${c} is not installed`;
  return null;
}

class Netns {
  readonly name: string;
  private readonly procs = new Set<ChildProcess>();
  private gone = false;
  private readonly onExit = (): void => this.destroy();

  constructor() {
    const prefix = process.env.SYNACK_NETNS_PREFIX || 'synack-bench';
    if (!/^synack-[A-Za-z0-9-]{0,20}$/.test(prefix)) throw new Error(`SYNACK_NETNS_PREFIX must start with synack- (got ${prefix})`);
    this.name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const r = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${this.name}: ${r.stderr || r.error?.message}`);
    process.on('exit', this.onExit);
    spawnSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'exec', this.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore' });
  }

  spawn(cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: 'pipe', detached: true });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    return p;
  }

  run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
    const p = this.spawn(cmd, args);
    let err = '';
    p.stdout!.resume();
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdin!.end();
    const timer = setTimeout(() => this.kill(p), timeoutMs);
    return new Promise((resolve) => p.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr: err }); }));
  }

  runOut(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

/** `synack serve --control` in the namespace: JSON requests on stdin, replies on stdout. */
class ServeProcess {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  private id = 1;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  private stderr = '';

  constructor(ns: Netns, args: string[]) {
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

  async stats(): Promise<TunStatsSnapshot> {
    const id = this.id++;
    const r = await new Promise<Record<string, unknown>>((resolve) => {
      this.waiting.set(id, resolve);
      this.proc.stdin!.write(JSON.stringify({ cmd: 'stats', id }) + '\n');
    });
    if (r.stats === undefined) throw new Error(`synack serve: ${String(r.error)} ${this.stderr}`);
    return r.stats as TunStatsSnapshot;
  }
}

interface TunStatsSnapshot {
  discardBytes: number;
  /** The newest discard connection (absent from an older synack serve). */
  discardLast?: { bytes: number; ms: number } | null;
  tun: { rxPackets: number; txPackets: number; rxBytes: number; rxBatches: number; txBatches: number };
  cpu: { userMs: number; systemMs: number };
  counters: { TcpRetransSegs: number };
}

export interface TunRun {
  direction: 'kernel→synack' | 'synack→kernel';
  /**
   * `seconds`/`MBps`: the transfer on its connection — from curl's connect to its last byte
   * (curl's time_total − time_connect), from synack's accept to the last byte read by its
   * discard service — without starting `ip netns exec` and the client (10–50 ms on this
   * machine, a third of a 100 MB run at 5 Gbit/s). `wallSeconds`/`wallMBps` include them.
   */
  run: number; seconds: number; MBps: number; wallSeconds: number; wallMBps: number;
  pktsInPerS: number; pktsOutPerS: number; cpuPerSec: number; usCpuPerPacket: number; cpuMsPerMB: number; retrans: number;
}

export interface TunBenchOptions { bytes: number; runs: number; serveArgs?: string[]; onRun?: (r: TunRun) => void }

/**
 * Both directions, `runs` runs each, against one `synack serve` in one namespace.
 * `serveArgs` are passed through to `synack serve` (e.g. `--offload off`).
 */
export async function tunBench(o: TunBenchOptions): Promise<TunRun[]> {
  const why = tunUnavailable();
  if (why !== null) throw new Error(`tun bench: ${why}`);
  const ns = new Netns();
  const results: TunRun[] = [];
  // A /24 in 198.18.0.0/15 picked per process (the namespace is private, but keep it tidy).
  const third = `198.18.${1 + (process.pid % 250)}`;
  const synack = `${third}.1`;
  try {
    const serve = new ServeProcess(ns, ['--tun', 'skb0', '--addr', `${synack}/24`, '--http', '80', '--discard', '9', ...(o.serveArgs ?? [])]);
    await serve.ready;
    const measure = async (direction: TunRun['direction'], fn: (before: TunStatsSnapshot) => Promise<number | null>): Promise<void> => {
      for (let i = 0; i < o.runs; i++) {
        const a = await serve.stats();
        const t0 = performance.now();
        const conn = await fn(a);
        const wall = (performance.now() - t0) / 1000;
        const s = conn !== null && conn > 0 ? conn : wall;
        const b = await serve.stats();
        const rx = b.tun.rxPackets - a.tun.rxPackets, tx = b.tun.txPackets - a.tun.txPackets;
        const cpu = (b.cpu.userMs - a.cpu.userMs + b.cpu.systemMs - a.cpu.systemMs) / 1000;
        const r: TunRun = {
          direction, run: i + 1, seconds: +s.toFixed(4), MBps: +(o.bytes / 1e6 / s).toFixed(1),
          wallSeconds: +wall.toFixed(4), wallMBps: +(o.bytes / 1e6 / wall).toFixed(1),
          pktsInPerS: Math.round(rx / s), pktsOutPerS: Math.round(tx / s),
          cpuPerSec: +(cpu / s).toFixed(2), usCpuPerPacket: +((cpu * 1e6) / Math.max(1, rx + tx)).toFixed(2),
          cpuMsPerMB: +((cpu * 1000) / (o.bytes / 1e6)).toFixed(3),
          retrans: b.counters.TcpRetransSegs - a.counters.TcpRetransSegs,
        };
        results.push(r);
        o.onRun?.(r);
      }
    };
    // Byte-exact check, outside the clock: the body's SHA-256 must match the x-sha256 header
    // (computing the digest also warms the server's cache for the timed runs).
    const head = await ns.runOut('curl', ['-sS', '--max-time', '600', '-I', `http://${synack}/bytes/${o.bytes}`], 620_000);
    const want = /x-sha256: *([0-9a-f]{64})/i.exec(head.stdout)?.[1];
    const body = await ns.runOut('sh', ['-c', `curl -sS --max-time 600 http://${synack}/bytes/${o.bytes} | sha256sum`], 620_000);
    const got = body.stdout.slice(0, 64);
    if (head.code !== 0 || body.code !== 0 || want === undefined || want !== got) throw new Error(`synack→kernel: body digest ${got} != header ${want ?? '(none)'}: ${head.stderr} ${body.stderr}`);
    await measure('synack→kernel', async () => {
      const r = await ns.runOut('curl', ['-sS', '--max-time', '600', '-o', '/dev/null', '-w', '%{size_download} %{time_connect} %{time_total}', `http://${synack}/bytes/${o.bytes}`], 620_000);
      if (r.code !== 0) throw new Error(`curl: ${r.stderr}`);
      const [size, connect, total] = r.stdout.trim().split(/\s+/).map(Number);
      if (size !== o.bytes) throw new Error(`synack→kernel: curl got ${size} of ${o.bytes} bytes`);
      return total! - connect!;
    });
    await measure('kernel→synack', async (a) => {
      // Generated in the namespace so this process is not the bottleneck. socat reads
      // /dev/zero itself (readbytes: exactly N) in 128 KiB blocks, as iperf3 writes: with its
      // default 8 KiB blocks behind a pipe (`head -c N /dev/zero | socat`) the client cost
      // 4.6 CPU-seconds per GB on this machine, and a kernel sender that is not window-
      // limited sent each 8 KiB write as its own segment (8.1 KB per packet measured instead
      // of ~64 KB super-segments): the bench measured the client more than synack.
      const r = await ns.run('socat', ['-u', '-b', String(SOCAT_BLOCK), `OPEN:/dev/zero,readbytes=${o.bytes}`, `TCP:${synack}:9`], 620_000);
      if (r.code !== 0) throw new Error(`socat: ${r.stderr}`);
      // socat returns once the kernel has the data; the clock stops when synack's discard
      // service has read every byte (exactly: more or fewer is a failure).
      for (let polls = 0; ; polls++) {
        const s = await serve.stats();
        const n = s.discardBytes - a.discardBytes;
        if (n === o.bytes) return s.discardLast?.bytes === o.bytes ? s.discardLast.ms / 1000 : null;
        if (n > o.bytes || polls > 60_000) throw new Error(`kernel→synack: discard read ${n} of ${o.bytes} bytes`);
        await new Promise((res) => setTimeout(res, 2));
      }
    });
    ns.kill(serve.proc, 'SIGTERM');
  } finally {
    ns.destroy();
  }
  return results;
}
