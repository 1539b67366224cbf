// Run one scenario twice — on Node's own `net` over the kernel loopback and on synack — and
// return both event logs, so a test can assert that a program cannot tell them apart.
// A scenario is written against the `net` module it is given; it records what it sees into
// `log` and resolves when it is done.
import * as nodeNet from 'node:net';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import assert from 'node:assert/strict';
import { attachNet, createNet, type NetModule } from '../../src/net/index.js';

/** The part of `net` scenarios use (Node's module and a synack NetModule both fit). */
export type NetLike = Pick<typeof nodeNet, 'createServer' | 'connect' | 'createConnection' | 'Socket'>;

export interface Env {
  /** The module the server side uses. */
  server: NetLike;
  /** The module the client side uses. */
  client: NetLike;
  /** The address clients connect to and servers listen on. */
  host: string;
  /** What the scenario saw, in order. */
  log: string[];
  /** Node: a wall-clock timer; synack: a timer of the driver (virtual time in a simulation). */
  after(ms: number, fn: () => void): void;
}

export type Scenario = (env: Env) => Promise<void>;

/** Node's own net over the kernel loopback (wall-clock cap: only reached if the scenario hangs). */
export async function runOnNode(scenario: Scenario, capMs = 20_000): Promise<string[]> {
  const log: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  const env: Env = {
    server: nodeNet, client: nodeNet, host: '127.0.0.1', log,
    after: (ms, fn) => { timers.push(setTimeout(fn, ms)); },
  };
  let cap: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      scenario(env),
      new Promise<void>((_, reject) => { cap = setTimeout(() => reject(new Error(`node scenario hung; log so far: ${log.join(' ')}`)), capMs); }),
    ]);
  } finally {
    clearTimeout(cap);
    for (const t of timers) clearTimeout(t);
  }
  return log;
}

/** synack: two simulated hosts, the server on B, the client on A; virtual time moves until it is done. */
export async function runOnSynack(scenario: Scenario, maxTime = 600_000_000): Promise<string[]> {
  const sim = new Simulation({ seed: 7 });
  const { a, b } = twoHosts(sim, { delay: 100 });
  const client: NetModule = attachNet(a, sim);
  const server: NetModule = attachNet(b, sim);
  const log: string[] = [];
  const env: Env = {
    server: server as unknown as NetLike, client: client as unknown as NetLike, host: '198.18.0.2', log,
    after: (ms, fn) => { sim.after(ms * 1000, fn); },
  };
  let done = false;
  let failure: unknown = null;
  scenario(env).then(() => { done = true; }, (e: unknown) => { done = true; failure = e; });
  const ok = await sim.runUntilAsync(() => done, { maxTime });
  if (failure !== null) throw failure;
  if (!ok) throw new Error(`synack scenario did not finish; log so far: ${log.join(' ')}`);
  return log;
}

/** Record events of an emitter into env.log with a prefix; errors as `error:CODE`, close as `close:hadError`. */
export function record(log: string[], prefix: string, e: NodeJS.EventEmitter, names: string[]): void {
  for (const n of names) {
    e.on(n, (arg?: unknown) => {
      if (n === 'close') log.push(`${prefix}close:${String(arg ?? '')}`);
      else if (n === 'error') {
        const er = arg as { code?: string; errno?: number; syscall?: string; message: string };
        log.push(`${prefix}error:${er.code}/${er.errno}/${er.syscall}`);
      } else if (n === 'data') log.push(`${prefix}data:${(arg as Buffer).length}`);
      else log.push(prefix + n);
    });
  }
}

/** Resolve when `e` emits `name`. */
export function once(e: NodeJS.EventEmitter, name: string): Promise<unknown> {
  return new Promise((resolve) => e.once(name, resolve));
}

/** Resolve on `e`'s 'close'. */
export function closed(e: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => e.once('close', () => resolve()));
}

/**
 * Run `scenario` on Node's own net over the kernel loopback, then on `createNet()` (synack's
 * loopback, real time), and assert that the two logs are equal.
 */
export async function sameOnLoopback(scenario: (net: typeof nodeNet) => Promise<string[]>): Promise<void> {
  const node = await scenario(nodeNet);
  const syn = await scenario(createNet() as unknown as typeof nodeNet);
  assert.deepEqual(syn, node);
}
