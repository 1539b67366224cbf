// The interop suite's harness: a fresh network namespace per test file, processes started in
// it (synack's side and the kernel's clients/servers), and cleanup on every exit path.
//
// Rules it enforces: the namespace is named synack-<pid>-<random>; addresses come from
// 198.18.0.0/15; nothing is routed out (the namespace has only lo and synack's TUN);
// processes are ended by their own id (their process group, which we created), and the
// namespace is deleted by its exact name on normal exit, on an exception, and on signals.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const DIST = join(ROOT, 'dist');
const ADDON = join(ROOT, 'native', 'build', 'Release', 'synack_tun.node');

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/**
 * Whether the interop suite can run here. In CI (CI set) everything it needs must be there:
 * a missing piece is a failure, not a skip. Outside CI, without root (or without a tool) it
 * skips with one line.
 */
export function interopGate(tools: string[] = []): { skip: string | false; fail: string | null } {
  const ci = !!process.env.CI;
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('needs Linux');
  else if (process.getuid?.() !== 0) problems.push('needs root (network namespaces and TUN need CAP_NET_ADMIN)');
  else {
    if (!existsSync('/dev/net/tun')) problems.push('no /dev/net/tun');
    if (!existsSync(ADDON)) problems.push('TUN addon not built (node scripts/build-addon.mjs --verbose)');
    for (const t of ['ip', ...tools]) if (!has(t)) problems.push(`${t} not installed`);
  }
  if (problems.length === 0) return { skip: false, fail: null };
  const why = `interop: ${problems.join('; ')}`;
  return ci ? { skip: false, fail: why + ' (required when CI is set)' } : { skip: why, fail: null };
}

// ------------------------------------------------------------------ cleanup registry

const live = new Set<Netns>();
let hooked = false;

function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => { for (const ns of [...live]) ns.destroy(); });
  for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    process.on(sig, () => {
      for (const ns of [...live]) ns.destroy();
      process.exit(128 + num);
    });
  }
}

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string; ms: number }

export class Netns {
  readonly name: string;
  private readonly procs = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(name: string) { this.name = name; }

  /** Create `synack-[<tag>-]<pid>-<hex>` with lo up. Registers it for cleanup on every exit path. */
  static create(tag = ''): Netns {
    hookProcess();
    // $SYNACK_NETNS_TAG names whose run it is when the test gives no tag (shared machines).
    const t = tag || (process.env.SYNACK_NETNS_TAG ?? '').replace(/[^A-Za-z0-9-]/g, '').slice(0, 12);
    const name = `synack-${t ? t + '-' : ''}${process.pid}-${randomBytes(3).toString('hex')}`;
    const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${name} failed: ${r.stderr || r.error?.message}`);
    const ns = new Netns(name);
    live.add(ns);
    ns.ipSync(['link', 'set', 'lo', 'up']);
    // Keep the kernel's side quiet and IPv4-only on the TUN (no router solicitations, no MLD).
    spawnSync('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore' });
    return ns;
  }

  /** `ip -n NAME …`, synchronously; throws on failure. */
  ipSync(args: string[]): string {
    const r = spawnSync('ip', ['-n', this.name, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip -n ${this.name} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Run a command inside the namespace, synchronously. */
  execSync(cmd: string, args: string[], opts: { input?: string | Uint8Array; timeoutMs?: number } = {}): RunResult {
    const t0 = performance.now();
    const r = spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], { input: opts.input, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 1 << 30 });
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? Buffer.alloc(0), stderr: String(r.stderr ?? ''), ms: performance.now() - t0 };
  }

  /** Start a process inside the namespace, in its own process group (so it and its children end together). */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error(`namespace ${this.name} is gone`);
    const p = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: 'pipe', ...opts, detached: true });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    return p;
  }

  /** Run a command inside the namespace and collect its output (stdin from `input`, then EOF). */
  run(cmd: string, args: string[], opts: { input?: Uint8Array | string; timeoutMs?: number } = {}): Promise<RunResult> {
    const t0 = performance.now();
    const p = this.spawn(cmd, args);
    const out: Buffer[] = [];
    let err = '';
    p.stdout!.on('data', (d: Buffer) => out.push(d));
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdin!.on('error', () => { /* the command may exit before reading everything */ });
    p.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => this.kill(p, 'SIGKILL'), opts.timeoutMs ?? 60_000);
    return new Promise((resolve) => {
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - t0 });
      });
    });
  }

  /** End one of our processes (its whole process group) by id. */
  kill(p: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): void {
    if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
    try { process.kill(-p.pid, sig); } catch { try { process.kill(p.pid, sig); } catch { /* gone */ } }
  }

  /** Kill everything we started in the namespace, then delete it by its exact name. Idempotent, synchronous. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const p of this.procs) this.kill(p, 'SIGKILL');
    // Anything still inside the namespace was started by this suite (it created the namespace).
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout ?? '';
    for (const s of pids.split(/\s+/)) {
      const pid = Number(s);
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }
}

// ------------------------------------------------------------------ a synack process in the namespace

/** A synack process speaking JSON lines (rawpeer, or `synack serve --control`). */
export class JsonPeer {
  readonly proc: ChildProcess;
  readonly ready: Promise<Record<string, unknown>>;
  private nextId = 1;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  stderr = '';
  lines: Record<string, unknown>[] = [];

  constructor(readonly ns: Netns, script: string, args: string[]) {
    this.proc = ns.spawn(process.execPath, [script, ...args]);
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.proc.stdin!.on('error', () => { /* exited */ });
    let onReady: (v: Record<string, unknown>) => void;
    let onFail: (e: Error) => void;
    this.ready = new Promise((res, rej) => { onReady = res; onFail = rej; });
    const rl = createInterface({ input: this.proc.stdout! });
    rl.on('line', (line) => {
      let m: Record<string, unknown>;
      try { m = JSON.parse(line); } catch { return; }
      this.lines.push(m);
      if (m.ready === true) onReady(m);
      else if (m.error !== undefined && m.id === undefined) onFail(new Error(`synack failed to start: ${String(m.error)}`));
      const id = m.id as number | undefined;
      if (id !== undefined && this.waiting.has(id)) {
        const w = this.waiting.get(id)!;
        this.waiting.delete(id);
        w(m);
      }
    });
    this.proc.on('exit', (code, sig) => {
      onFail(new Error(`synack exited (${code ?? sig}) before it was ready: ${this.stderr}`));
      for (const w of this.waiting.values()) w({ error: `exited ${code ?? sig}` });
      this.waiting.clear();
    });
  }

  request(cmd: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiting.delete(id); reject(new Error(`no reply to ${JSON.stringify(cmd)} in ${timeoutMs} ms`)); }, timeoutMs);
      this.waiting.set(id, (v) => { clearTimeout(t); resolve(v); });
      this.proc.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  stop(): void { this.ns.kill(this.proc, 'SIGTERM'); }
}

const prefixBase = randomBytes(1)[0]!;

/** The n-th /24 in 198.18.0.0/15 for this process (distinct for distinct n): synack gets .1, the kernel .2. */
export function testPrefix(n = 0): { net: string; synack: string; kernel: string; cidr: string } {
  const k = (prefixBase + n) % 508;
  const third = `198.${18 + (k >= 254 ? 1 : 0)}.${1 + (k % 254)}`;
  return { net: `${third}.0`, synack: `${third}.1`, kernel: `${third}.2`, cidr: `${third}.1/24` };
}

/** Time one async step (ms). */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}
