// CPU time per thread, for the sharding measurements (Node only, Linux /proc). Node 20 has no
// per-thread CPU clock (process.threadCpuUsage is Node 23.9+) and process.cpuUsage() is the
// whole process — every worker, V8's GC and compiler helper threads, libuv's pool. Linux
// keeps each thread's user+system time in /proc/self/task/<tid>/stat (fields 14 and 15,
// clock ticks); a thread finds its own tid through the /proc/thread-self link. Elsewhere
// these return null / an empty map and the figures are left out.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

let tickMs = 10; // USER_HZ is 100 on every Linux architecture Node supports.

/** This thread's id (Linux), or null. */
export function ownTid(): number | null {
  try { return Number(readlinkSync('/proc/thread-self').split('/').pop()); } catch { return null; }
}

/** CPU milliseconds (user + system) of thread `tid` of this process, or null. */
export function threadCpuMs(tid: number): number | null {
  try { return parseStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')); } catch { return null; }
}

/** CPU milliseconds of every live thread of this process, by tid. */
export function allThreadsCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try { tids = readdirSync('/proc/self/task'); } catch { return out; }
  for (const t of tids) {
    const ms = threadCpuMs(Number(t));
    if (ms !== null) out.set(Number(t), ms);
  }
  return out;
}

/** Busy CPU milliseconds of the whole machine (all cores, every process) and the core count, from /proc/stat; null if unreadable. */
export function machineBusyMs(): { busyMs: number; cores: number } | null {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const busy = f.slice(0, 8).reduce((a, x) => a + x, 0) - f[3]! - f[4]!;
    return { busyMs: busy * tickMs, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
  } catch { return null; }
}

function parseStat(s: string): number {
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * tickMs;
}

/** For tests: the tick length assumed (ms). */
export function setTickMsForTest(ms: number): void { tickMs = ms; }
