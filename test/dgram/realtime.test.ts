// stack.dgram on the real event loop (RealtimeNetDriver): an echo round trip, and ref/unref
// counted as the driver's active handles (what keeps a realtime process alive, as for net).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeNetDriver, realtimeTwoHosts } from '../../src/net/driver.js';
import { attachDgram } from '../../src/dgram/index.js';

test('realtime: a datagram echoed between two stacks on the event loop', async () => {
  const driver = new RealtimeNetDriver();
  const { a, b } = realtimeTwoHosts(driver, { delay: 1000 });
  const srv = attachDgram(b, driver).createSocket('udp4');
  srv.on('message', (m, r) => srv.send(m, r.port, r.address));
  await new Promise<void>((r) => srv.bind(7, () => r()));
  const cli = attachDgram(a, driver).createSocket('udp4');
  const got = await new Promise<string>((res) => {
    cli.on('message', (m) => res(m.toString()));
    cli.send('ping over the event loop', 7, '198.18.0.2');
  });
  assert.equal(got, 'ping over the event loop');
  await new Promise<void>((r) => cli.close(() => r()));
  await new Promise<void>((r) => srv.close(() => r()));
  assert.equal(driver.activeHandles, 0);
  driver.stop();
});

test('a bound, referenced socket is an active handle of the driver; unref() and close() release it (as net sockets and servers are)', async () => {
  const driver = new RealtimeNetDriver();
  const { a } = realtimeTwoHosts(driver);
  const s = attachDgram(a, driver).createSocket('udp4');
  assert.equal(driver.activeHandles, 0, 'unbound: not active');
  await new Promise<void>((r) => s.bind(5000, () => r()));
  assert.equal(driver.activeHandles, 1);
  s.unref();
  assert.equal(driver.activeHandles, 0);
  s.ref();
  assert.equal(driver.activeHandles, 1);
  await new Promise<void>((r) => s.close(() => r()));
  assert.equal(driver.activeHandles, 0);
  driver.stop();
});
