// SO_REUSEADDR, Linux semantics: a port held by a TIME-WAIT connection can be listened on
// again only when the new socket and the one the connection came from both set it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorld, SERVER_ADDR, bytes } from '../../src/scenarios/common.js';
import type { Listener } from '../../src/tcp/listener.js';
import { attachNet } from '../../src/net/index.js';

/** One request; the server answers and closes first, so its side ends in TIME-WAIT. */
function serverTimeWait(reuseAddr: boolean) {
  const w = makeWorld(1);
  const now = () => w.sim.now();
  const l: Listener = w.b.listen({ port: 80, reuseAddr });
  l.onAcceptable = () => {
    for (let t = l.accept(); t !== null; t = l.accept()) {
      const s = t;
      s.user = { onReadable: () => { s.receive(1 << 16, now()); s.send(bytes('ok'), now()); s.close(now()); } };
    }
  };
  const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
  c.user = { onEstablished: () => { c.send(bytes('hi'), now()); }, onReadable: () => { c.receive(1 << 16, now()); }, onEnd: () => { c.close(now()); } };
  c.openActive(now());
  w.sim.runFor(1_000_000);
  w.b.closeListener(l);
  assert.deepEqual(w.b.tcbs().map((t) => t.state), ['TIME-WAIT']);
  return w;
}

test('without SO_REUSEADDR, listening on a port a TIME-WAIT connection holds fails with EADDRINUSE', () => {
  const w = serverTimeWait(false);
  assert.throws(() => w.b.listen({ port: 80 }), { code: 'EADDRINUSE' });
  // Both sockets must set it (the TIME-WAIT one inherited "no" from its listener).
  assert.throws(() => w.b.listen({ port: 80, reuseAddr: true }), { code: 'EADDRINUSE' });
  // Another port, or after TIME-WAIT: fine.
  w.b.listen({ port: 81 });
  w.sim.runFor(60_000_000);
  assert.equal(w.b.listen({ port: 80 }).localPort, 80);
});

test('with SO_REUSEADDR on both sockets the restarted server listens at once', () => {
  const w = serverTimeWait(true);
  assert.equal(w.b.listen({ port: 80, reuseAddr: true }).localPort, 80);
});

test('net.Server sets SO_REUSEADDR as Node does on Linux: it listens again beside TIME-WAIT', async () => {
  const w = makeWorld(1);
  const srvNet = attachNet(w.b, w.sim), cliNet = attachNet(w.a, w.sim);
  const first = srvNet.createServer((s) => { s.end('bye'); }).listen(80);
  const sock = cliNet.createConnection({ host: SERVER_ADDR, port: 80 });
  sock.on('data', () => {});
  sock.on('end', () => sock.end());
  await w.sim.runForAsync(1_000_000);
  assert.ok(w.b.tcbs().some((t) => t.state === 'TIME-WAIT' && t.localPort === 80));
  first.close();
  await w.sim.runForAsync(1000);
  const again = srvNet.createServer();
  let err: unknown = null;
  again.on('error', (e) => { err = e; });
  again.listen(80);
  await w.sim.runForAsync(1000);
  assert.equal(err, null);
  assert.equal(again.listening, true);
  again.close();
});
