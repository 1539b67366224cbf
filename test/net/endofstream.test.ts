// End of stream as Node has it (issue 11, deliverable 2): Node starts reading at 'connect'
// and calls read(0) after end-of-stream, so a socket nobody reads still emits 'end', then
// (without allowHalfOpen) ends its own side and closes. Each case runs on Node's own net over
// the kernel loopback and on synack, and the two event logs must be equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { runOnNode, runOnSynack, record, once, type Scenario } from './nodecompare.js';

const EVENTS = ['connect', 'ready', 'end', 'finish', 'close', 'error'];

async function both(s: Scenario): Promise<string[]> {
  const [n, y] = await Promise.all([runOnNode(s), runOnSynack(s)]);
  assert.deepEqual(y, n, `synack: ${y.join(' ')}\nnode:   ${n.join(' ')}`);
  return n;
}

/** A server that ends every connection at once (optionally after writing `data`). */
function endingServer(data: string | undefined): Scenario {
  return async ({ server, client, host, log, after }) => {
    const srv = server.createServer((s) => { if (data === undefined) s.end(); else s.end(data); });
    srv.listen(0, host);
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const c = client.connect(port, host);
    record(log, '', c, EVENTS);
    if (data === undefined) await once(c, 'close');
    else {
      await once(c, 'connect');
      // The bytes stay in the stream buffer: no 'end' until somebody reads them.
      await new Promise<void>((r) => { const poll = (): void => { if (c.readableLength === data.length) r(); else after(1, poll); }; poll(); });
      log.push(`buffered:${c.readableLength}`);
      c.resume();
      await once(c, 'close');
    }
    srv.close();
  };
}

test('a socket nobody reads still gets end → finish → close when the peer ends', async () => {
  const log = await both(endingServer(undefined));
  assert.deepEqual(log, ['connect', 'ready', 'end', 'finish', 'close:false']);
});

test('with unread data there is no end until the data is read', async () => {
  const log = await both(endingServer('hello'));
  assert.deepEqual(log, ['connect', 'ready', 'buffered:5', 'end', 'finish', 'close:false']);
});

test('a socket reconnected after close sees end of stream again', async () => {
  const log = await both(async ({ server, client, host, log }) => {
    const srv = server.createServer((s) => { s.end(); });
    srv.listen(0, host);
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const c = client.connect(port, host);
    record(log, '', c, EVENTS);
    await once(c, 'close');
    log.push('reconnect');
    c.connect(port, host);
    await once(c, 'close');
    srv.close();
  });
  assert.deepEqual(log, ['connect', 'ready', 'end', 'finish', 'close:false', 'reconnect', 'connect', 'ready', 'end', 'finish', 'close:false']);
});

test('allowHalfOpen: end arrives, our side stays open until we end it', async () => {
  const log = await both(async ({ server, client, host, log }) => {
    const srv = server.createServer((s) => { s.end(); });
    srv.listen(0, host);
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const c = client.connect({ port, host, allowHalfOpen: true });
    record(log, '', c, EVENTS);
    await once(c, 'end');
    log.push(`writable:${c.writable}`);
    c.end();
    await once(c, 'close');
    srv.close();
  });
  assert.deepEqual(log, ['connect', 'ready', 'end', 'writable:true', 'finish', 'close:false']);
});
