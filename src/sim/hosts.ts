// Ready-made simulated networks: two stacks joined by a link (with optional faults in
// either direction), each registered with the simulation as a Pollable.
import type { Duration } from '../time/instant.js';
import type { LinkEnd, Observable } from '../link/types.js';
import type { StackOptions } from '../stack/options.js';
import { Stack } from '../stack/stack.js';
import { FaultyLink, type FaultOptions } from '../link/faulty.js';
import { createLinkPair } from './memlink.js';
import type { Simulation } from './simulation.js';

export interface TwoHostOptions {
  aAddr?: string;
  bAddr?: string;
  mtu?: number;
  /** One-way propagation delay of the link. */
  delay?: Duration;
  /** Link rate in bits/s (0 = infinite). */
  bandwidth?: number;
  /** Faults applied to packets from A to B, and from B to A (`faults` sets both). */
  faults?: FaultOptions;
  faultsAtoB?: FaultOptions;
  faultsBtoA?: FaultOptions;
  optionsA?: Partial<StackOptions>;
  optionsB?: Partial<StackOptions>;
}

/** A fault handle's type: non-null when the options configure faults on that side. */
export type FaultHandle<O, Side extends 'faultsAtoB' | 'faultsBtoA'> =
  O extends { faults: FaultOptions } ? FaultyLink : O extends { [K in Side]: FaultOptions } ? FaultyLink : FaultyLink | null;

export interface TwoHosts<O extends TwoHostOptions = TwoHostOptions> {
  a: Stack;
  b: Stack;
  /** The link ends as the stacks see them (fault wrappers when faults were given). */
  linkA: LinkEnd;
  linkB: LinkEnd;
  /** Fault injectors on A's and B's sending side, when configured. */
  faultA: FaultHandle<O, 'faultsAtoB'>;
  faultB: FaultHandle<O, 'faultsBtoA'>;
  /** The raw link ends, observable (send/deliver/drop events). */
  rawA: LinkEnd & Observable;
  rawB: LinkEnd & Observable;
}

export function twoHosts<O extends TwoHostOptions = TwoHostOptions>(sim: Simulation, o: O = {} as O): TwoHosts<O> {
  const mtu = o.mtu ?? 1500;
  const [rawA, rawB] = createLinkPair(sim, { mtu, delay: o.delay ?? 0, bandwidth: o.bandwidth ?? 0, queueLimit: 100_000 });
  const fa = o.faultsAtoB ?? o.faults;
  const fb = o.faultsBtoA ?? o.faults;
  const faultA = fa ? new FaultyLink(rawA, fa, sim, sim.rng.fork('faults-a')) : null;
  const faultB = fb ? new FaultyLink(rawB, fb, sim, sim.rng.fork('faults-b')) : null;
  const linkA: LinkEnd = faultA ?? rawA;
  const linkB: LinkEnd = faultB ?? rawB;
  const ra = sim.rng.fork('stack-a');
  const rb = sim.rng.fork('stack-b');
  const a = new Stack({ clock: sim.clock, options: o.optionsA, random: (n) => ra.bytes(n) });
  const b = new Stack({ clock: sim.clock, options: o.optionsB, random: (n) => rb.bytes(n) });
  a.addInterface({ addr: o.aAddr ?? '198.18.0.1', prefixLen: 24, mtu, link: linkA });
  b.addInterface({ addr: o.bAddr ?? '198.18.0.2', prefixLen: 24, mtu, link: linkB });
  sim.add(a);
  sim.add(b);
  return { a, b, linkA, linkB, faultA, faultB, rawA, rawB } as TwoHosts<O>;
}
