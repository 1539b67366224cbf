// stack.net basics: connect and echo, Node's event order, socket and server properties,
// Node's argument errors, EADDRINUSE / EADDRNOTAVAIL, host names.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { pair, recordEvents, squash, A, B } from './helpers.js';
import { attachNet, Socket, Server } from '../../src/net/index.js';
import type { SystemError } from '../../src/net/errors.js';

describe('connect and echo', () => {
  test('events in Node\'s order, data both ways, both sides closed', async () => {
    const { sim, netA, netB, a, b } = pair({ delay: 1000 });
    const serverLog: string[] = [];
    const srv = netB.createServer((s) => {
      const log = recordEvents(s, ['data', 'end', 'finish', 'close', 'error']);
      s.on('data', (d: Buffer) => s.end(`echo:${d}`));
      s.on('close', () => serverLog.push(...squash(log)));
    });
    let listening = false;
    srv.listen(80, () => { listening = true; });
    const c = netA.connect(80, B);
    const log = recordEvents(c, ['lookup', 'connect', 'ready', 'data', 'end', 'finish', 'close', 'error', 'timeout']);
    let got = '';
    c.on('data', (d: Buffer) => { got += d; });
    c.write('hello');
    assert.equal(await sim.runUntilAsync(() => log.includes('close:false') && serverLog.length > 0, { maxTime: 10_000_000 }), true);
    assert.equal(listening, true);
    assert.deepEqual(squash(log), ['connect', 'ready', 'data', 'end', 'finish', 'close:false']);
    assert.deepEqual(serverLog, ['data', 'finish', 'end', 'close:false']);
    assert.equal(got, 'echo:hello');
    assert.equal(c.bytesWritten, 5);
    assert.equal(c.bytesRead, 10);
    await sim.runUntilIdleAsync();
    assert.equal(a.connectionCount + b.connectionCount, 0, 'no TCB left after TIME-WAIT');
  });

  test('Socket is a real stream.Duplex; properties while connecting, connected, closed', async () => {
    const { sim, netA, netB } = pair({ delay: 5000 });
    netB.createServer((s) => s.on('data', () => s.end())).listen(8080);
    const c = netA.connect({ port: 8080, host: B });
    assert.ok(c instanceof Duplex);
    assert.ok(c instanceof Socket);
    assert.ok(c instanceof netA.Socket);
    assert.equal(c.connecting, true);
    assert.equal(c.pending, true);
    assert.equal(c.readyState, 'opening');
    assert.deepEqual(c.address(), {});
    let connected = false;
    c.on('connect', () => { connected = true; });
    await sim.runUntilAsync(() => connected);
    assert.equal(c.connecting, false);
    assert.equal(c.pending, false);
    assert.equal(c.readyState, 'open');
    const addr = c.address() as { address: string; family: string; port: number };
    assert.equal(addr.address, A);
    assert.equal(addr.family, 'IPv4');
    assert.ok(addr.port >= 32768 && addr.port <= 60999, `ephemeral port ${addr.port}`);
    assert.equal(c.localAddress, A);
    assert.equal(c.localPort, addr.port);
    assert.equal(c.remoteAddress, B);
    assert.equal(c.remotePort, 8080);
    assert.equal(c.remoteFamily, 'IPv4');
    assert.equal(sim.now(), 10_000, 'one round trip of 2 × 5 ms');
    c.end('bye');
    assert.equal(c.readyState, 'readOnly');
    let closed = false;
    c.on('close', () => { closed = true; });
    c.resume();
    await sim.runUntilAsync(() => closed);
    assert.equal(c.readyState, 'closed');
    assert.equal(c.remoteAddress, B, 'the peer address survives close, as in Node');
    assert.equal(c.destroyed, true);
  });

  test('server: listening, address(), listen(0) picks a free port, getConnections', async () => {
    const { sim, netB, netA } = pair();
    const s1 = netB.createServer();
    assert.equal(s1.listening, false);
    assert.equal(s1.address(), null);
    const events: string[] = [];
    s1.on('listening', () => events.push('listening'));
    s1.listen(0);
    assert.equal(s1.listening, true);
    const port = s1.address()!.port;
    assert.ok(port > 0);
    assert.deepEqual(s1.address(), { address: '0.0.0.0', family: 'IPv4', port });
    const s2 = new netB.Server({ allowHalfOpen: true });
    assert.ok(s2 instanceof Server);
    s2.listen({ port: 9000, host: B });
    assert.deepEqual(s2.address(), { address: B, family: 'IPv4', port: 9000 });
    const c = netA.connect(port, B);
    let count = -1;
    s1.on('connection', () => s1.getConnections((err, n) => { assert.equal(err, null); count = n; }));
    await sim.runUntilAsync(() => count >= 0);
    assert.deepEqual(events, ['listening']);
    assert.equal(count, 1);
    c.destroy();
    s1.close();
    s2.close();
    await sim.runUntilIdleAsync();
  });

  test('createConnection is connect; new net.Socket().connect() works too', async () => {
    const { sim, netA, netB } = pair();
    assert.equal(netA.createConnection, netA.connect);
    netB.createServer((s) => s.pipe(s)).listen(7);
    const s = new netA.Socket();
    assert.equal(s.pending, true);
    assert.equal(s.connecting, false);
    let got = '';
    s.connect(7, B, () => s.end('ping'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => { got += d; });
    await sim.runUntilAsync(() => s.destroyed);
    assert.equal(got, 'ping');
  });
});

describe('argument errors (Node\'s classes, codes and messages)', () => {
  const { netA, netB } = pair();
  const cases: Array<[string, () => unknown, typeof Error, string, string?]> = [
    ['connect(70000)', () => netA.connect(70000), RangeError, 'ERR_SOCKET_BAD_PORT', 'Port should be >= 0 and < 65536. Received type number (70000).'],
    ['connect({port:"abc"})', () => netA.connect({ port: 'abc' }), RangeError, 'ERR_SOCKET_BAD_PORT', "Port should be >= 0 and < 65536. Received type string ('abc')."],
    ['connect({port:true})', () => netA.connect({ port: true as unknown as number }), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.port" property must be one of type number or string. Received type boolean (true)'],
    ['connect({})', () => netA.connect({} as { port: number }), TypeError, 'ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified'],
    ['connect bad localAddress', () => netA.connect({ port: 80, localAddress: 'x' }), TypeError, 'ERR_INVALID_IP_ADDRESS', 'Invalid IP address: x'],
    ['connect bad localPort', () => netA.connect({ port: 1, host: B, localPort: 'a' as unknown as number }), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.localPort" property must be of type number. Received type string (\'a\')'],
    ['setTimeout(-1)', () => new netA.Socket().setTimeout(-1), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "msecs" is out of range. It must be a non-negative finite number. Received -1'],
    ['setTimeout("a")', () => new netA.Socket().setTimeout('a' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "msecs" argument must be of type number. Received type string (\'a\')'],
    ['listen(70000)', () => netB.createServer().listen(70000), RangeError, 'ERR_SOCKET_BAD_PORT', 'options.port should be >= 0 and < 65536. Received type number (70000).'],
    ['listen({})', () => netB.createServer().listen({}), TypeError, 'ERR_INVALID_ARG_VALUE', 'The argument \'options\' must have the property "port" or "path". Received {}'],
    ['createServer(1)', () => netB.createServer(1 as unknown as undefined), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object. Received type number (1)'],
  ];
  for (const [name, fn, cls, code, message] of cases) {
    test(name, () => {
      assert.throws(fn, (e: Error & { code?: string }) => {
        assert.ok(e instanceof cls, `${e.name} is a ${cls.name}`);
        assert.equal(e.code, code);
        if (message !== undefined) assert.equal(e.message, message);
        return true;
      });
    });
  }

  test('listen twice: ERR_SERVER_ALREADY_LISTEN; close() when not running: ERR_SERVER_NOT_RUNNING', async () => {
    const { sim, netB } = pair();
    const s = netB.createServer().listen(80);
    assert.throws(() => s.listen(81), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    let err: (Error & { code?: string }) | undefined;
    s.close();
    s.close((e) => { err = e; });
    await sim.runUntilAsync(() => err !== undefined);
    assert.equal(err!.code, 'ERR_SERVER_NOT_RUNNING');
    assert.equal(err!.message, 'Server is not running.');
  });
});

describe('address errors', () => {
  test('EADDRINUSE on listen: code, errno, syscall, address, port, message', async () => {
    const { sim, netB } = pair();
    netB.createServer().listen(80);
    const s = netB.createServer();
    let err: SystemError | null = null;
    s.on('error', (e: SystemError) => { err = e; });
    s.listen(80);
    await sim.runUntilAsync(() => err !== null);
    const e = err as unknown as SystemError;
    assert.equal(e.code, 'EADDRINUSE');
    assert.equal(e.errno, -98);
    assert.equal(e.syscall, 'listen');
    assert.equal(e.address, '0.0.0.0');
    assert.equal(e.port, 80);
    assert.equal(e.message, 'listen EADDRINUSE: address already in use 0.0.0.0:80');
    assert.equal(s.listening, false);
  });

  test('EADDRNOTAVAIL: listen on / bind to an address the stack does not own', async () => {
    const { sim, netA, netB } = pair();
    const s = netB.createServer();
    let lerr: SystemError | null = null;
    s.on('error', (e: SystemError) => { lerr = e; });
    s.listen(80, '10.9.9.9');
    let cerr: SystemError | null = null;
    const c = netA.connect({ port: 80, host: B, localAddress: '10.9.9.9' });
    c.on('error', (e: SystemError) => { cerr = e; });
    await sim.runUntilAsync(() => lerr !== null && cerr !== null);
    assert.equal((lerr as unknown as SystemError).code, 'EADDRNOTAVAIL');
    assert.equal((cerr as unknown as SystemError).code, 'EADDRNOTAVAIL');
    assert.equal((cerr as unknown as SystemError).syscall, 'bind');
    assert.equal((cerr as unknown as SystemError).errno, -99);
  });

  test('EADDRINUSE on connect from a local port already used for the same peer', async () => {
    const { sim, netA, netB } = pair();
    netB.createServer().listen(80);
    const c1 = netA.connect({ port: 80, host: B, localPort: 5000 });
    let up = false;
    c1.on('connect', () => { up = true; });
    await sim.runUntilAsync(() => up);
    const c2 = netA.connect({ port: 80, host: B, localPort: 5000 });
    let err: SystemError | null = null;
    c2.on('error', (e: SystemError) => { err = e; });
    await sim.runUntilAsync(() => err !== null);
    assert.equal((err as unknown as SystemError).code, 'EADDRINUSE');
    assert.equal((err as unknown as SystemError).syscall, 'bind');
    c1.destroy();
  });
});

describe('host names', () => {
  test('attachNet hosts map resolves names and emits lookup; unknown names fail with ENOTFOUND', async () => {
    const { sim, a, netB } = pair();
    attachNet(a, sim, { hosts: { 'server.test': B } });
    netB.createServer((s) => s.end('hi')).listen(80);
    const c = a.net.connect(80, 'server.test');
    const lookups: unknown[][] = [];
    c.on('lookup', (...args: unknown[]) => lookups.push(args));
    let data = '';
    c.on('data', (d: Buffer) => { data += d; });
    const bad = a.net.connect(80, 'nowhere.test');
    let err: SystemError | null = null;
    bad.on('error', (e: SystemError) => { err = e; });
    await sim.runUntilAsync(() => c.destroyed && err !== null);
    assert.equal(data, 'hi');
    assert.deepEqual(lookups, [[null, B, 4, 'server.test']]);
    assert.equal((err as unknown as SystemError).code, 'ENOTFOUND');
    assert.equal((err as unknown as SystemError).syscall, 'getaddrinfo');
  });

  test('a custom lookup option is used like dns.lookup', async () => {
    const { sim, netA, netB } = pair();
    netB.createServer((s) => s.end('ok')).listen(80);
    // Node (autoSelectFamily on by default) asks for every address: { all: true } → an array.
    const c = netA.connect({ port: 80, host: 'anything', lookup: (_h, o, cb) => ((o as { all?: boolean }).all ? cb(null, [{ address: B, family: 4 }]) : cb(null, B, 4)) });
    let data = '';
    c.on('data', (d: Buffer) => { data += d; });
    await sim.runUntilAsync(() => c.destroyed);
    assert.equal(data, 'ok');
  });
});
