// Receive-buffer autotuning (Linux "DRS", tcp_rcv_space_adjust; autotune.ts rcvSpaceAdjust): on a
// long fat path the receive window grows past the 128 KiB default (tcp_rmem[1]) when the
// application keeps up, and stays put for a slow reader or a size the user fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import type { StackOptions } from '../../src/stack/options.js';
import type { Tcb } from '../../src/tcp/tcb.js';

const DEFAULT_RMEM = 131072;
const RMEM_MAX = 6291456;

interface RunOptions {
  total: number;
  /** Fixed receive buffer (ConnectOptions-style; the server side uses the listener default otherwise). */
  rcvBuf?: number;
  /** Read only every this many µs (and at most readMax bytes); default: read everything on arrival. */
  readEvery?: number;
  readMax?: number;
  maxTime?: number;
  optionsB?: Partial<StackOptions>;
}

interface RunResult {
  received: number;
  /** µs from the first data byte read to the last. */
  elapsed: number;
  maxCapacity: number;
  /** Largest window the receiver announced (bytes, scaled), as the sender saw it. */
  maxSndWnd: number;
  finalCapacity: number;
  rcvBufAuto: boolean;
}

/** 20 ms RTT, 1 Gbit/s: A sends `total` bytes to B, which reads them (a client connecting to B). */
function run(o: RunOptions): RunResult {
  const sim = new Simulation({ seed: 7 });
  const { a, b } = twoHosts(sim, {
    delay: 10_000, bandwidth: 1e9,
    optionsA: { tcp_wmem: [4096, 16384, 32 << 20] },
    optionsB: o.optionsB,
  });
  // B is the receiver and the active opener (so a fixed rcvBuf can go through connect()).
  const l = a.listen({ port: 5001 });
  let sender: Tcb | null = null;
  const data = new Uint8Array(256 * 1024).map((_, i) => i & 255);
  let sent = 0;
  const pump = (): void => {
    while (sent < o.total) {
      const n = sender!.send(data, sim.now(), 0, Math.min(data.length, o.total - sent));
      if (n <= 0) break;
      sent += n;
    }
    if (sent === o.total) sender!.close(sim.now(), false);
  };
  l.onAcceptable = () => {
    sender = l.accept();
    sender!.user = { onWritable: pump };
    pump();
  };
  const rcv = b.connect({ remoteAddr: '198.18.0.1', remotePort: 5001, rcvBuf: o.rcvBuf });
  let received = 0;
  let first = -1;
  let last = -1;
  let maxCapacity = rcv.rcvBuf.capacity;
  const drain = (): void => {
    const d = rcv.receive(o.readMax ?? 1 << 30, sim.now());
    if (d.length > 0) {
      if (first < 0) first = sim.now();
      last = sim.now();
      received += d.length;
    }
    maxCapacity = Math.max(maxCapacity, rcv.rcvBuf.capacity);
  };
  if (o.readEvery === undefined) {
    rcv.user = { onReadable: drain };
  } else {
    const tick = (): void => { drain(); if (received < o.total) sim.after(o.readEvery!, tick); };
    sim.after(o.readEvery, tick);
  }
  rcv.openActive(sim.now());
  sim.runUntil(() => received >= o.total, { maxTime: o.maxTime ?? 60_000_000 });
  return {
    received, elapsed: last - first, maxCapacity, finalCapacity: rcv.rcvBuf.capacity,
    maxSndWnd: sender === null ? 0 : (sender as Tcb).maxSndWnd, rcvBufAuto: rcv.rcvBufAuto,
  };
}

const mbit = (r: RunResult): number => r.received * 8 / r.elapsed; // bits per µs = Mbit/s

test('20 ms RTT, 1 Gbit/s: the window grows well past 128 KiB and goodput well past 52 Mbit/s', () => {
  const r = run({ total: 64 << 20 });
  assert.equal(r.received, 64 << 20);
  assert.equal(r.rcvBufAuto, true);
  // 128 KiB per 20 ms is 52 Mbit/s: the fixed default window's ceiling.
  assert.ok(r.maxCapacity >= 8 * DEFAULT_RMEM, `buffer grew to only ${r.maxCapacity}`);
  assert.ok(r.maxSndWnd >= 8 * DEFAULT_RMEM, `window announced only ${r.maxSndWnd}`);
  assert.ok(r.maxCapacity <= RMEM_MAX);
  const g = mbit(r);
  assert.ok(g > 200, `goodput ${g.toFixed(1)} Mbit/s`);
});

test('a fixed receive buffer (ConnectOptions.rcvBuf) does not grow: the window caps goodput at buffer/RTT', () => {
  const r = run({ total: 8 << 20, rcvBuf: DEFAULT_RMEM });
  assert.equal(r.received, 8 << 20);
  assert.equal(r.rcvBufAuto, false);
  assert.equal(r.maxCapacity, DEFAULT_RMEM);
  assert.ok(r.maxSndWnd <= DEFAULT_RMEM, `window ${r.maxSndWnd}`);
  const g = mbit(r);
  assert.ok(g < 55, `goodput ${g.toFixed(1)} Mbit/s with a fixed 128 KiB window`);
});

test('a slow reader (16 KiB every 100 ms) does not grow the buffer', () => {
  const r = run({ total: 1 << 20, readEvery: 100_000, readMax: 16 * 1024, maxTime: 30_000_000 });
  assert.equal(r.received, 1 << 20);
  assert.equal(r.rcvBufAuto, true);
  assert.equal(r.maxCapacity, DEFAULT_RMEM);
});

test('a reader that drains everything but only once a second does not grow the buffer either', () => {
  const r = run({ total: 1 << 20, readEvery: 1_000_000, maxTime: 60_000_000 });
  assert.equal(r.received, 1 << 20);
  assert.equal(r.maxCapacity, DEFAULT_RMEM);
});

test('the buffer never exceeds tcp_rmem[2]', () => {
  // A small maximum, reached quickly.
  const max = 512 * 1024;
  const r = run({ total: 32 << 20, optionsB: { tcp_rmem: [4096, DEFAULT_RMEM, max] } });
  assert.equal(r.received, 32 << 20);
  assert.equal(r.maxCapacity, max);
  assert.ok(r.maxSndWnd <= max, `window ${r.maxSndWnd}`);
  // And with the default maximum on a long transfer.
  const big = run({ total: 128 << 20 });
  assert.ok(big.maxCapacity <= RMEM_MAX, `buffer ${big.maxCapacity}`);
  assert.ok(big.maxSndWnd <= RMEM_MAX, `window ${big.maxSndWnd}`);
});
