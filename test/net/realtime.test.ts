// The same net API on the real event loop with the real clock (RealtimeNetDriver:
// RealtimeDriver + RealtimeClock, Stack.onWake → kick). No sleeps: every wait is for an
// event the stacks produce, with a generous wall-clock cap in case something hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { RealtimeNetDriver, realtimeTwoHosts, attachNet } from '../../src/net/index.js';
import type { Socket } from '../../src/net/socket.js';
import { bytes, B } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const CAP = 30_000_000; // 30 s of wall time: only reached if something is broken

test('realtime: echo over two stacks on the event loop', async () => {
  const driver = new RealtimeNetDriver();
  const { a, b } = realtimeTwoHosts(driver);
  const netA = attachNet(a, driver);
  const netB = attachNet(b, driver);
  assert.equal(netA.driver.kind, 'realtime');
  netB.createServer((s) => s.pipe(s)).listen(7);
  const data = bytes(2 << 20, 4);
  const c = netA.connect(7, B);
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  c.end(data);
  assert.equal(await driver.until(() => c.destroyed, { timeout: CAP }), true);
  assert.equal(sha(Buffer.concat(parts)), sha(data));
  assert.ok(a.tcbs().every((t) => t.state === 'TIME-WAIT' || t.state === 'CLOSED'));
  driver.stop(); // TIME-WAIT timers would otherwise keep the event loop busy for 60 s
});

test('realtime: Node http with keep-alive, a 5 ms link', async () => {
  const driver = new RealtimeNetDriver();
  const { a, b } = realtimeTwoHosts(driver, { delay: 5000 });
  const netA = attachNet(a, driver);
  const netB = attachNet(b, driver);
  const web = http.createServer((req, res) => res.end(`${req.method} ${req.url}`));
  netB.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => web.emit('connection', s)).listen(80);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: unknown }).createConnection = (o: object) => netA.createConnection(o as { port: number });
  const t0 = driver.now();
  const got: string[] = [];
  for (const path of ['/a', '/b', '/c']) {
    got.push(await new Promise<string>((resolve, reject) => {
      http.get({ host: B, port: 80, path, agent }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { s += d; });
        res.on('end', () => resolve(s));
      }).on('error', reject);
    }));
  }
  const elapsed = driver.now() - t0;
  assert.deepEqual(got, ['GET /a', 'GET /b', 'GET /c']);
  // Handshake + three request/response round trips over a 10 ms RTT: real time passed.
  assert.ok(elapsed >= 40_000, `took ${elapsed} µs of real time`);
  assert.equal(b.tcbs().length, 1, 'one kept-alive connection');
  agent.destroy();
  driver.stop();
});
