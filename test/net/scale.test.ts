// Many connections at once through the net API: 1,000 sockets open at the same time, each
// carrying a request and a reply, all closed cleanly, nothing leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, B } from './helpers.js';
import type { Socket } from '../../src/net/socket.js';

test('1,000 concurrent connections: all open at once, each echoes, all close, no TCB leaks', async () => {
  const N = 1000;
  const { sim, netA, netB, a, b } = pair({ delay: 2000 });
  const open: Socket[] = [];
  let peak = 0;
  const srv = netB.createServer((s) => {
    open.push(s);
    s.on('close', () => { open.splice(open.indexOf(s), 1); });
  });
  srv.listen({ port: 80, backlog: 2048 });
  // Replies are held until every connection is up, so all N are open at the same time.
  let released = false;
  const release = () => {
    released = true;
    for (const s of open) {
      s.setEncoding('utf8');
      const req = s.read() as string | null;
      s.end(`echo ${req}`);
    }
  };
  const replies: string[] = new Array<string>(N).fill('');
  let closed = 0;
  for (let i = 0; i < N; i++) {
    const c = netA.connect(80, B);
    c.setEncoding('utf8');
    c.on('data', (d: string) => { replies[i] += d; });
    c.on('close', (hadError: boolean) => { assert.equal(hadError, false); closed++; });
    c.write(`#${i}`);
  }
  await sim.runUntilAsync(() => {
    peak = Math.max(peak, open.length);
    return open.length === N;
  }, { maxTime: 60_000_000 });
  assert.equal(open.length, N);
  let count = -1;
  srv.getConnections((_e, n) => { count = n; });
  await sim.runUntilAsync(() => count >= 0);
  assert.equal(count, N);
  assert.equal(b.tcbs().filter((t) => t.state === 'ESTABLISHED').length, N);
  // Give every request time to arrive, then answer them all.
  await sim.runUntilAsync(() => false, { maxTime: 100_000 });
  release();
  assert.equal(await sim.runUntilAsync(() => closed === N, { maxTime: 60_000_000 }), true);
  for (let i = 0; i < N; i++) assert.equal(replies[i], `echo #${i}`);
  assert.equal(released, true);
  srv.close();
  await sim.runUntilIdleAsync();
  assert.equal(a.connectionCount, 0);
  assert.equal(b.connectionCount, 0);
  assert.equal(a.pendingTimers + b.pendingTimers, 0);
  assert.equal(a.counters.TcpRetransSegs + b.counters.TcpRetransSegs, 0);
});
