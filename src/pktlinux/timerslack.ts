// How late a Linux kernel timer may fire, so that `synack pkt --target linux` can check a
// timer-driven event (a retransmission, an ETIMEDOUT) in real time without flaking.
//
// The kernel's timer wheel (kernel/time/timer.c) keeps a timeout of d jiffies in level
// n = 0, 1, 2, … where d < 63·8^n (LVL_START(n+1)), and level n has a granularity of 8^n
// jiffies: calc_index() rounds the expiry *up* to the next multiple of it ("a timer does not
// fire early"), so a timer fires up to one granularity late. TCP arms its timers in jiffies
// rounded up from µs (usecs_to_jiffies), and the wheel's clock may lag a tick: two jiffies more.
// With HZ=250 a 300 ms RTO (75 jiffies, level 1) fires up to 40 ms late, a 2.4 s one (600
// jiffies, level 2) up to 264 ms late; on a HZ=1000 kernel a quarter of that. packetdrill runs
// against HZ=1000 kernels with generous tolerances; this machine's kernel may not be one.
// Level 0 (under 63 jiffies, 252 ms at HZ=250) adds nothing: its few jiffies are what the
// script's tolerance is for, and a slack there would hide real differences of tens of
// milliseconds (a delayed ACK).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release } from 'node:os';

const LVL_CLK_SHIFT = 3;
const LVL_SIZE = 64;

/** Lateness (µs) a kernel timer armed `gapUs` ahead may show at `hz` ticks per second. */
export function timerSlackUs(gapUs: number, hz: number): number {
  const jiffyUs = 1e6 / hz;
  const d = Math.max(0, Math.ceil(gapUs / jiffyUs));
  let lvl = 0;
  while (lvl < 8 && d >= (LVL_SIZE - 1) * 2 ** (LVL_CLK_SHIFT * lvl)) lvl++;
  if (lvl === 0) return 0;
  const gran = 2 ** (LVL_CLK_SHIFT * lvl);
  return Math.round((gran + 2) * jiffyUs);
}

let cachedHz: number | null = null;

/**
 * The running kernel's CONFIG_HZ, from /boot/config-<release> or /proc/config.gz; 100 (the
 * coarsest, so the most lenient) when neither says.
 */
export function kernelHz(): number {
  if (cachedHz !== null) return cachedHz;
  const texts: Array<() => string> = [
    () => readFileSync(`/boot/config-${release()}`, 'utf8'),
    () => gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'),
  ];
  for (const t of texts) {
    try {
      const m = /^CONFIG_HZ=(\d+)$/m.exec(t());
      if (m !== null) return (cachedHz = Number(m[1]));
    } catch { /* not there */ }
  }
  return (cachedHz = 100);
}
