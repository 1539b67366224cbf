// Closing: half-open with and without allowHalfOpen; end() vs destroy() vs resetAndDestroy()
// as the peer sees them (on the wire and as events); server.close() with live connections;
// maxConnections.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pair, recordEvents, squash, segmentsOut, B, FIN, RST } from './helpers.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import type { Socket } from '../../src/net/socket.js';
import type { SystemError } from '../../src/net/errors.js';

describe('half-close', () => {
  test('allowHalfOpen: the server keeps sending after the client\'s FIN, then ends', async () => {
    const { sim, netA, netB, a, b } = pair({ delay: 1000 });
    const serverLog: string[] = [];
    netB.createServer({ allowHalfOpen: true }, (s) => {
      let req = '';
      s.on('data', (d: Buffer) => { req += d; });
      s.on('end', () => {
        serverLog.push(`end, writable=${s.writable}`);
        // CLOSE-WAIT: the server may still send as much as it likes.
        s.write(`got ${req};`);
        sim.after(5000, () => s.end('bye'));
      });
      s.on('close', (h: boolean) => serverLog.push(`close:${h}`));
    }).listen(80);
    const c = netA.connect(80, B);
    const log = recordEvents(c, ['connect', 'data', 'finish', 'end', 'close', 'error']);
    let got = '';
    c.on('data', (d: Buffer) => { got += d; });
    c.end('request');
    await sim.runUntilAsync(() => c.destroyed && serverLog.length === 2 && b.connectionCount === 0);
    assert.deepEqual(serverLog, ['end, writable=true', 'close:false']);
    assert.deepEqual(squash(log), ['connect', 'finish', 'data', 'end', 'close:false']);
    assert.equal(got, 'got request;bye');
    const states = (s: typeof a) => s.tcbs().map((t) => t.state);
    assert.deepEqual(states(a), ['TIME-WAIT'], 'the client closed first');
    assert.deepEqual(states(b), []);
  });

  test('a paused reader loses nothing when the connection closes cleanly underneath it', async () => {
    const { sim, netA, netB, a } = pair({ delay: 1000 });
    netB.createServer((s) => s.end('x'.repeat(50_000))).listen(80);
    const c = netA.connect({ port: 80, host: B, allowHalfOpen: true });
    c.pause();
    await sim.runUntilAsync(() => c.tcb !== null && c.tcb.finReceived);
    c.end(); // CLOSE-WAIT → LAST-ACK → CLOSED while 50 kB sit unread
    await sim.runUntilAsync(() => a.connectionCount === 0);
    assert.equal(c.destroyed, false);
    let got = 0;
    const log = recordEvents(c, ['data', 'end', 'close', 'error']);
    c.on('data', (d: Buffer) => { got += d.length; });
    c.resume();
    await sim.runUntilAsync(() => c.destroyed);
    await sim.runUntilAsync(() => log.includes('close:false'));
    assert.equal(got, 50_000);
    assert.deepEqual(squash(log), ['data', 'end', 'close:false']);
  });

  test('without allowHalfOpen: the peer\'s FIN ends our side too; a later write is EPIPE', async () => {
    const { sim, netA, netB } = pair();
    let server: Socket | null = null;
    const serverLog: string[] = [];
    netB.createServer((s) => {
      server = s;
      s.on('end', () => serverLog.push(`end, writableEnded=${s.writableEnded}`));
      s.on('finish', () => serverLog.push('finish'));
      s.resume();
    }).listen(80);
    const c = netA.connect(80, B);
    let clientEnded = false;
    c.on('end', () => { clientEnded = true; });
    c.resume();
    c.end();
    await sim.runUntilAsync(() => clientEnded);
    // The server's FIN followed the client's without the server's code calling end().
    assert.deepEqual(serverLog, ['end, writableEnded=false', 'finish']);
    let err: Error | null = null;
    (server as unknown as Socket).write('late', (e) => { err = e ?? null; });
    await sim.runUntilAsync(() => err !== null);
    assert.equal((err as unknown as { code: string }).code, 'EPIPE');
  });
});

describe('end vs destroy vs resetAndDestroy, as the peer sees them', () => {
  async function closeWith(how: (s: Socket) => void, unread = false) {
    const { sim, netA, netB, a, b } = pair({ delay: 1000 });
    const rec = new TraceRecorder().attach(a).attach(b);
    let server: Socket | null = null;
    netB.createServer({ pauseOnConnect: unread }, (s) => { server = s; if (!unread) s.resume(); }).listen(80);
    const c = netA.connect(80, B);
    const peer = recordEvents(c, ['connect', 'end', 'error', 'close']);
    let err: SystemError | null = null;
    c.on('error', (e: SystemError) => { err = e; });
    c.resume();
    c.write('data from the client');
    await sim.runUntilAsync(() => server !== null && (server as Socket).tcb!.readable + (server as Socket).bytesRead > 0);
    how(server as unknown as Socket);
    await sim.runUntilAsync(() => c.destroyed);
    await sim.runUntilIdleAsync();
    const out = segmentsOut(rec.events, b.traceHost);
    return { peer: squash(peer), err, fin: out.some((s) => s.flags & FIN), rst: out.some((s) => s.flags & RST), left: a.connectionCount + b.connectionCount };
  }

  test('end(): FIN; the peer reads \'end\', closes without error', async () => {
    const r = await closeWith((s) => s.end());
    assert.deepEqual(r.peer, ['connect', 'end', 'close:false']);
    assert.equal(r.fin, true);
    assert.equal(r.rst, false);
    assert.equal(r.left, 0);
  });

  test('destroy() with nothing unread: FIN, as close(2) does', async () => {
    const r = await closeWith((s) => s.destroy());
    assert.deepEqual(r.peer, ['connect', 'end', 'close:false']);
    assert.equal(r.fin, true);
    assert.equal(r.rst, false);
  });

  test('destroy() with unread data: RST (RFC 2525 §2.17); the peer gets ECONNRESET', async () => {
    const r = await closeWith((s) => s.destroy(), true);
    assert.deepEqual(r.peer, ['connect', 'error:ECONNRESET', 'close:true']);
    assert.equal(r.rst, true);
    assert.equal(r.fin, false);
  });

  test('resetAndDestroy(): RST; the peer gets ECONNRESET (read)', async () => {
    const r = await closeWith((s) => s.resetAndDestroy());
    assert.deepEqual(r.peer, ['connect', 'error:ECONNRESET', 'close:true']);
    assert.equal(r.rst, true);
    assert.equal(r.fin, false);
    assert.equal((r.err as unknown as SystemError).message, 'read ECONNRESET');
    assert.equal(r.left, 0, 'no TIME-WAIT after a reset');
  });

  test('resetAndDestroy() on a socket that never connected: ERR_SOCKET_CLOSED', async () => {
    const { sim, netA } = pair();
    const s = new netA.Socket();
    let err: Error | null = null;
    s.on('error', (e: Error) => { err = e; });
    s.resetAndDestroy();
    await sim.runUntilAsync(() => err !== null);
    assert.equal((err as unknown as { code: string }).code, 'ERR_SOCKET_CLOSED');
  });
});

describe('servers', () => {
  test('server.close() with live connections: no new ones, \'close\' after the last one ends', async () => {
    const { sim, netA, netB } = pair();
    const conns: Socket[] = [];
    const srv = netB.createServer((s) => { conns.push(s); s.resume(); }).listen(80);
    const c1 = netA.connect(80, B);
    const c2 = netA.connect(80, B);
    c1.resume(); c2.resume();
    await sim.runUntilAsync(() => conns.length === 2);
    let closed = false;
    let cbErr: Error | undefined | null = null;
    srv.on('close', () => { closed = true; });
    srv.close((e) => { cbErr = e; });
    assert.equal(srv.listening, false);
    const late = netA.connect(80, B);
    let lateErr = '';
    late.on('error', (e: SystemError) => { lateErr = e.code; });
    await sim.runUntilAsync(() => lateErr !== '');
    assert.equal(lateErr, 'ECONNREFUSED');
    assert.equal(closed, false, 'two connections still open');
    conns[0]!.end();
    await sim.runUntilAsync(() => c1.destroyed);
    assert.equal(closed, false, 'one connection still open');
    c2.write('still served');
    c2.end();
    await sim.runUntilAsync(() => closed);
    assert.equal(cbErr, undefined);
  });

  test('maxConnections: connections above the limit are closed and reported with \'drop\'', async () => {
    const { sim, netA, netB } = pair();
    const srv = netB.createServer((s) => s.resume()).listen(80);
    srv.maxConnections = 2;
    const drops: Array<Record<string, unknown>> = [];
    srv.on('drop', (d: Record<string, unknown>) => drops.push(d));
    const clients = [0, 1, 2].map(() => { const c = netA.connect(80, B); c.resume(); return c; });
    const ended = clients.map(() => false);
    const ports = clients.map(() => 0);
    clients.forEach((c, i) => c.on('connect', () => { ports[i] = c.localPort!; }));
    clients.forEach((c, i) => c.on('end', () => { ended[i] = true; }));
    await sim.runUntilAsync(() => drops.length === 1 && ended[2] === true);
    let n = -1;
    srv.getConnections((_e, count) => { n = count; });
    await sim.runUntilAsync(() => n >= 0);
    assert.equal(n, 2);
    assert.deepEqual(ended, [false, false, true], 'the third was accepted by TCP, then closed with FIN');
    assert.equal(drops[0]!.remotePort, ports[2]);
    assert.equal(drops[0]!.localPort, 80);
    assert.equal(drops[0]!.remoteFamily, 'IPv4');
    for (const c of clients) c.destroy();
    srv.close();
    await sim.runUntilIdleAsync();
  });
});
