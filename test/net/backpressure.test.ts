// Backpressure is TCP's: write() returns false when the send buffer is full and 'drain'
// follows when ACKs empty it; a paused reader lets the receive window close (zero window,
// persist probes) and resuming reopens it with a window update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pair, bytes, B } from './helpers.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import type { Socket } from '../../src/net/socket.js';
import type { SegmentEvent } from '../../src/trace/events.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('paused reader: the window closes, the writer blocks; resume reopens the window and drains', async () => {
  const { sim, netA, netB, a, b } = pair({ delay: 2000 });
  const rec = new TraceRecorder().attach(a).attach(b);
  let server: Socket | null = null;
  const received: Buffer[] = [];
  netB.createServer({ pauseOnConnect: true }, (s) => { server = s; }).listen(80);
  const c = netA.connect(80, B);
  const data = bytes(1 << 20, 7);
  let off = 0;
  let blockedAt = -1;
  let drains = 0;
  const pump = () => {
    while (off < data.length) {
      const chunk = data.subarray(off, off + 65536);
      off += chunk.length;
      if (!c.write(chunk)) { if (blockedAt < 0) blockedAt = off; return; }
    }
    c.end();
  };
  c.on('drain', () => { drains++; pump(); });
  c.on('connect', pump);
  await sim.runUntilAsync(() => server !== null);
  // Let the sender fill everything it can while nobody reads.
  await sim.runUntilAsync(() => false, { maxTime: 30_000_000 });
  const srv = server as unknown as Socket;
  const wins = rec.events.filter((e): e is SegmentEvent => e.type === 'segment' && e.dir === 'out' && e.host === b.traceHost);
  assert.ok(wins.some((e) => e.win === 0), 'the receiver advertised a zero window');
  assert.ok(blockedAt > 0 && blockedAt < data.length, `write() returned false after ${blockedAt} bytes`);
  // Stuck: a long wait moves nothing (the persist timer probes, the window stays shut).
  const drains0 = drains, off0 = off;
  await sim.runUntilAsync(() => false, { maxTime: 60_000_000 });
  assert.equal(drains, drains0, 'no drain while the window is closed');
  assert.equal(off, off0, 'the writer stays blocked');
  assert.ok(off < data.length);
  const st = c.tcb!;
  assert.equal(st.sndBuf.free, 0, 'the send buffer is full');
  // Full to within one window-scale unit (what a zero in the scaled window field means).
  assert.ok(srv.tcb!.rcvWndAvail < 2 ** srv.tcb!.rcvWscale, `the receive buffer is full (${srv.tcb!.rcvWndAvail} bytes free)`);
  assert.ok(a.counters.TcpExtTCPZeroWindowProbes > 0, 'the sender probes the zero window (persist timer)');
  const zeroAt = wins.findIndex((e) => e.win === 0);
  // Resume: the reader drains the receive buffer and TCP announces the space.
  srv.on('data', (d: Buffer) => received.push(d));
  let ended = false;
  srv.on('end', () => { ended = true; srv.end(); });
  srv.resume(); // pauseOnConnect set readableFlowing = false: a 'data' listener alone does not start it
  assert.equal(await sim.runUntilAsync(() => ended, { maxTime: 600_000_000 }), true);
  const after = rec.events.filter((e): e is SegmentEvent => e.type === 'segment' && e.dir === 'out' && e.host === b.traceHost).slice(zeroAt + 1);
  const update = after.find((e) => e.len === 0 && e.win > 0);
  assert.ok(update !== undefined, 'a window update reopened the window');
  assert.ok(drains > 0, '\'drain\' after the window reopened');
  const got = Buffer.concat(received);
  assert.equal(got.length, data.length);
  assert.equal(sha(got), sha(data));
  assert.equal(a.counters.TcpRetransSegs, 0, 'flow control, not loss: nothing retransmitted');
});

test('write() returns false at the high-water mark and \'drain\' fires once the data is acknowledged', async () => {
  const { sim, netA, netB } = pair({ delay: 5000 });
  netB.createServer((s) => s.resume()).listen(80);
  const c = netA.connect(80, B);
  let connected = false;
  c.on('connect', () => { connected = true; });
  await sim.runUntilAsync(() => connected);
  const big = bytes(200_000, 3);
  assert.equal(c.write(big), false, 'more than the send buffer and the stream high-water mark');
  assert.ok(c.writableLength > 0);
  let drained = false;
  c.on('drain', () => { drained = true; });
  await sim.runUntilAsync(() => drained);
  assert.equal(c.writableLength, 0);
  assert.equal(c.bytesWritten, 200_000);
  c.destroy();
});

test('pause()/resume() mid-stream keep the byte stream intact', async () => {
  const { sim, netA, netB } = pair({ delay: 1000 });
  const data = bytes(3 << 20, 11);
  netB.createServer((s) => s.end(data)).listen(80);
  const c = netA.connect(80, B);
  const parts: Buffer[] = [];
  let n = 0;
  c.on('data', (d: Buffer) => {
    parts.push(d);
    n += d.length;
    if (n > 500_000 && n < 600_000) { c.pause(); sim.after(3_000_000, () => c.resume()); }
  });
  await sim.runUntilAsync(() => c.destroyed);
  assert.equal(sha(Buffer.concat(parts)), sha(data));
});

test('bytes taken from the TCB as they arrive (issue 16): order, integrity and end survive pauses, small reads and destroy', async () => {
  const { sim, netA, netB } = pair({ delay: 100 });
  const data = bytes(6 << 20, 11);
  const received: Buffer[] = [];
  let ended = false;
  let server: Socket | null = null;
  let pauses = 0;
  netB.createServer((s) => {
    server = s;
    let chunks = 0;
    s.on('data', (d: Buffer) => {
      received.push(d); // kept as handed out: later reads must never rewrite an earlier chunk
      // Pause now and then for a while (1 ms of virtual time): what was taken stays queued in order.
      if (++chunks % 7 === 0) { pauses++; s.pause(); sim.at(sim.now() + 1000, () => s.resume()); }
    });
    s.on('end', () => { ended = true; s.end(); });
  }).listen(80);
  const c = netA.connect(80, B);
  let off = 0;
  const pump = () => {
    while (off < data.length) {
      // Odd-sized writes: chunk boundaries fall anywhere.
      const chunk = data.subarray(off, off + 100_003);
      off += chunk.length;
      if (!c.write(chunk)) return;
    }
    c.end();
  };
  c.on('drain', pump);
  c.on('connect', pump);
  assert.equal(await sim.runUntilAsync(() => ended, { maxTime: 600_000_000 }), true);
  const all = Buffer.concat(received);
  assert.equal(all.length, data.length);
  assert.equal(sha(all), sha(data));
  assert.equal((server as unknown as Socket).bytesRead, data.length);
  assert.ok(pauses >= 3, `the reader paused ${pauses} times`);
});
