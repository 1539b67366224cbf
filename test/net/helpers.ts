// Shared fixtures for the net tests: two simulated hosts with `stack.net` attached.
import type { EventEmitter } from 'node:events';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts, type TwoHostOptions } from '../../src/sim/hosts.js';
import { attachNet } from '../../src/net/index.js';
import type { TraceEvent } from '../../src/trace/events.js';

export const A = '198.18.0.1';
export const B = '198.18.0.2';

export function pair(opts: TwoHostOptions & { seed?: number } = {}) {
  const sim = new Simulation({ seed: opts.seed ?? 1 });
  const hosts = twoHosts(sim, opts);
  const netA = attachNet(hosts.a, sim);
  const netB = attachNet(hosts.b, sim);
  return { sim, ...hosts, netA, netB };
}

/** Record an emitter's events (name plus a short argument) in order. */
export function recordEvents(e: EventEmitter, names: string[]): string[] {
  const log: string[] = [];
  for (const n of names) {
    e.on(n, (arg?: unknown) => {
      if (n === 'close') log.push(`close:${String(arg)}`);
      else if (n === 'error') log.push(`error:${(arg as { code?: string }).code ?? (arg as Error).message}`);
      else if (n === 'data') log.push('data');
      else log.push(n);
    });
  }
  return log;
}

/** Collapse consecutive duplicates ("data data data" → "data"). */
export function squash(log: string[]): string[] {
  return log.filter((x, i) => i === 0 || log[i - 1] !== x);
}

/** Segments a stack sent, as compact strings (flags letters and payload length). */
export function segmentsOut(events: TraceEvent[], host: number): Array<{ flags: number; len: number; win: number; t: number }> {
  const out: Array<{ flags: number; len: number; win: number; t: number }> = [];
  for (const e of events) if (e.type === 'segment' && e.dir === 'out' && e.host === host) out.push({ flags: e.flags, len: e.len, win: e.win, t: e.t });
  return out;
}

export const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (; i < n; i++) b[i] = i & 0xff;
  return b;
}
