// Runs scripts against the Linux kernel, each in a fresh network namespace
// (synack-12-pkt-<pid>-<n>, deleted afterwards, also on failure) with a TUN device inside
// it; the interpreter runs in a child process started with `ip netns exec`, so its sockets,
// TUN device and sysctls are the namespace's. Nothing is routed out of the namespace.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import type { Failure } from '../pkt/interpreter.js';

export interface LinuxOutcome {
  ok: boolean;
  failure: Failure | null;
  notes: string[];
  endTime: number;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
/** Addresses from 198.18.0.0/15 (RFC 2544 benchmarking): the kernel's and the script's. */
export const LINUX_LOCAL = parseIpv4Address('198.18.12.1')!;
export const LINUX_REMOTE = parseIpv4Address('198.18.12.2')!;

let seq = 0;
/** Namespaces alive now: deleted on exit or a signal, whatever happens. */
const live = new Set<string>();
let hooked = false;
function cleanupAll(): void {
  for (const ns of live) spawnSync('ip', ['netns', 'delete', ns]);
  live.clear();
}
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => { cleanupAll(); process.exit(130); });
}

/** Why --target linux cannot run here, or null. */
export function linuxTargetUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (network namespaces, TUN)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return 'needs iproute2 (`ip netns`)';
  return null;
}

/** Run one script file in its own namespace. `timeoutMs`: the child is killed after it. */
export function runInNamespace(file: string, options: Array<{ name: string; value: string }>, defines: ReadonlyMap<string, string>, timeoutMs: number): Promise<LinuxOutcome> {
  hook();
  const ns = `synack-12-pkt-${process.pid}-${seq++}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) return Promise.resolve({ ok: false, failure: { line: 0, message: `ip netns add ${ns}: ${add.stderr.trim()}`, details: [] }, notes: [], endTime: 0 });
  live.add(ns);
  const arg = JSON.stringify({ file, options, defines: [...defines], localAddr: LINUX_LOCAL, remoteAddr: LINUX_REMOTE });
  return new Promise<LinuxOutcome>((done) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      spawnSync('ip', ['netns', 'delete', ns]);
      live.delete(ns);
      try {
        done(JSON.parse(out.trim().split('\n').pop() ?? '') as LinuxOutcome);
      } catch {
        const why = signal === 'SIGKILL' ? `killed after ${timeoutMs / 1000} s` : `exit ${code ?? signal}`;
        done({ ok: false, failure: { line: 0, message: `the linux run did not finish (${why})`, details: err.trim() === '' ? [] : err.trim().split('\n').slice(-5) }, notes: [], endTime: 0 });
      }
    });
  });
}
