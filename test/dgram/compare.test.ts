// stack.dgram side by side with Node's own dgram on loopback: one script, run against both,
// must observe the same events, return values and error codes/messages (addresses and ports
// are replaced by role names, since loopback and the simulated network differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeDgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { attachDgram } from '../../src/dgram/index.js';

interface DgramLike {
  createSocket(type: unknown, listener?: (...a: any[]) => void): any;
}

interface Env {
  client: DgramLike;
  server: DgramLike;
  /** The server's address as the client sends to it. */
  serverAddr: string;
  /** A port nobody listens on, at serverAddr. */
  closedPort: number;
  /** Let the network and event loop run until `p` settles. */
  wait<T>(p: Promise<T>): Promise<T>;
}

function rmemMax(): number {
  try { return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()); } catch { return 212992; }
}

async function script(env: Env): Promise<string[]> {
  const log: string[] = [];
  const names = new Map<string, string>();
  const norm = (s: string): string => {
    let out = s;
    for (const [k, v] of names) out = out.split(k).join(v);
    return out;
  };
  const rec = (what: string, v?: unknown): void => { log.push(norm(v === undefined ? what : `${what} ${typeof v === 'string' ? v : JSON.stringify(v)}`)); };
  const tryit = (what: string, fn: () => unknown): void => {
    try { rec(`${what} ok`, fn() ?? 'undefined'); } catch (e) {
      const err = e as Error & { code?: string; syscall?: string };
      rec(`${what} threw`, `${err.name} ${err.code} ${err.message}`);
    }
  };
  names.set(env.serverAddr, 'SERVER');
  const { client, server } = env;
  const s = server.createSocket('udp4');
  tryit('address before bind', () => s.address());
  tryit('setBroadcast before bind', () => s.setBroadcast(true));
  tryit('setTTL before bind', () => s.setTTL(5));
  tryit('getRecvBufferSize before bind', () => s.getRecvBufferSize());
  tryit('remoteAddress unconnected', () => s.remoteAddress());
  tryit('disconnect unconnected', () => s.disconnect());
  tryit('connect port 0', () => s.connect(0));
  tryit('send without port', () => s.send('x'));
  tryit('send port 0', () => s.send('x', 0));
  tryit('send a number', () => s.send(5 as unknown as string, 1234));
  tryit('send a list with a number', () => s.send(['a', 5] as unknown as string, 1234));
  tryit('createSocket bad type', () => { try { server.createSocket('udp5'); } catch (e) { throw Object.assign(new Error('x'), { code: (e as { code: string }).code, name: (e as Error).name }); } });
  tryit('ref returns the socket', () => s.ref() === s);
  tryit('unref returns the socket', () => s.unref() === s);
  s.ref();

  // bind with a callback; 'listening' first, then the callback.
  const order: string[] = [];
  s.on('listening', () => order.push('listening'));
  s.bind(0, () => order.push('bind callback'));
  await env.wait(once(s, 'listening'));
  await env.wait(new Promise((r) => setImmediate(r)));
  rec('bind order', order);
  const port = s.address().port as number;
  names.set(`:${port}`, ':SPORT');
  names.set(`"port":${port}`, '"port":"SPORT"');
  rec('address', { ...s.address(), address: 'ANY', port: 'SPORT' });
  tryit('bind again', () => s.bind(0));
  tryit('setTTL 0', () => s.setTTL(0));
  tryit('setTTL string', () => s.setTTL('a'));
  tryit('setTTL 64', () => s.setTTL(64));
  tryit('getRecvBufferSize', () => s.getRecvBufferSize());
  tryit('getSendBufferSize', () => s.getSendBufferSize());
  tryit('setRecvBufferSize 1000', () => s.setRecvBufferSize(1000));
  tryit('getRecvBufferSize after 1000', () => s.getRecvBufferSize());
  tryit('setRecvBufferSize 10 MB', () => s.setRecvBufferSize(10_000_000));
  tryit('getRecvBufferSize after 10 MB', () => s.getRecvBufferSize());
  tryit('setRecvBufferSize -1', () => s.setRecvBufferSize(-1));
  tryit('setSendBufferSize 1.5', () => s.setSendBufferSize(1.5));
  s.setRecvBufferSize(100_000);

  // A second socket on the same port: 'error' EADDRINUSE from bind.
  const dup = server.createSocket('udp4');
  dup.bind(port);
  const [dupErr] = await env.wait(once(dup, 'error')) as [Error & { code: string; syscall: string; address: string; port: number; errno: number }];
  rec('dup bind error', { code: dupErr.code, message: dupErr.message, syscall: dupErr.syscall, address: dupErr.address, port: dupErr.port === port, errno: dupErr.errno });
  dup.close();

  // Messages: every send overload, the callback's byte count, rinfo.
  const msgs: string[] = [];
  let clientPort = 0;
  s.on('message', (m: Buffer, r: { address: string; family: string; port: number; size: number }) => {
    msgs.push(`${m.toString()} size=${r.size} family=${r.family} port-ok=${r.port === clientPort}`);
    s.send(m, r.port, r.address); // echo
  });
  const c = client.createSocket('udp4');
  const echoes: string[] = [];
  c.on('message', (m: Buffer) => echoes.push(m.toString()));
  const clog: string[] = [];
  c.on('listening', () => clog.push('listening'));
  const sent = (what: string) => (err: Error | null, n?: number) => { clog.push(`${what}: ${err ? (err as { code?: string }).code : 'ok'} ${n}`); };
  c.send('hello', port, env.serverAddr, sent('string')); // implicit bind: 'listening' first
  await env.wait(once(c, 'listening'));
  clientPort = c.address().port;
  c.send(Buffer.from('buffer'), port, env.serverAddr, sent('buffer'));
  c.send([Buffer.from('ar'), 'ray', new Uint8Array([33])], port, env.serverAddr, sent('array'));
  c.send('xxoffsetxx', 2, 6, port, env.serverAddr, sent('offset/length'));
  c.send(new Uint8Array([118, 105, 101, 119]), port, env.serverAddr, sent('typed array'));
  c.send('', port, env.serverAddr, sent('empty'));
  await env.wait((async () => { while (echoes.length < 6) await new Promise((r) => setImmediate(r)); })());
  rec('server got', msgs);
  rec('client got echoes', echoes);
  rec('client log', clog);

  // Errors of send go to the callback.
  const bcast = await env.wait(new Promise<Error | null>((r) => c.send('b', 9, '255.255.255.255', (e: Error | null) => r(e))));
  rec('broadcast without setBroadcast', bcast && { code: (bcast as any).code, message: bcast.message, syscall: (bcast as any).syscall, errno: (bcast as any).errno, address: (bcast as any).address, port: (bcast as any).port });
  const big = await env.wait(new Promise<Error | null>((r) => c.send(Buffer.alloc(70000), 9, env.serverAddr, (e: Error | null) => r(e))));
  rec('70000 bytes', big && { code: (big as any).code, message: big.message, errno: (big as any).errno });
  tryit('offset out of bounds', () => c.send('abc', 4, 1, 9, env.serverAddr));
  tryit('length out of bounds', () => c.send('abc', 1, 3, 9, env.serverAddr));

  // A connected socket to a closed port: ICMP port unreachable → 'error' ECONNREFUSED (recvmsg).
  const k = client.createSocket('udp4');
  names.set(`:${env.closedPort}`, ':CLOSED');
  const connected = new Promise<void>((r) => k.connect(env.closedPort, env.serverAddr, () => r()));
  await env.wait(connected);
  rec('remoteAddress', k.remoteAddress());
  tryit('connect again', () => k.connect(9, env.serverAddr));
  tryit('send with offset/length and port while connected', () => k.send('abc', 0, 1, 9));
  const kerr = new Promise<Error>((r) => k.once('error', r));
  k.send('anyone?');
  const ke = await env.wait(kerr) as Error & { code: string; syscall: string; errno: number };
  rec('connected socket error', { code: ke.code, syscall: ke.syscall, errno: ke.errno, message: ke.message });
  k.disconnect();
  tryit('remoteAddress after disconnect', () => k.remoteAddress());
  tryit('disconnect again', () => k.disconnect());
  const closed = new Promise<string>((r) => k.close(() => r('close callback')));
  rec('close', await env.wait(closed));
  tryit('close again', () => k.close());
  tryit('send after close', () => k.send('x', 9, env.serverAddr));
  tryit('address after close', () => k.address());
  tryit('ref after close', () => k.ref() === k);

  // Connect then send to the server (echo comes back through the connected socket).
  const q = client.createSocket('udp4');
  const qgot: string[] = [];
  q.on('message', (m: Buffer) => qgot.push(m.toString()));
  await env.wait(new Promise<void>((r) => q.connect(port, env.serverAddr, () => r())));
  clientPort = q.address().port;
  q.send('via connect');
  await env.wait((async () => { while (qgot.length < 1) await new Promise((r) => setImmediate(r)); })());
  rec('connected echo', qgot);
  for (const x of [s, c, q]) x.close();
  await env.wait(once(q, 'close'));
  return log;
}

test('stack.dgram behaves like node:dgram (same script, same observations)', async () => {
  // Node's dgram on loopback.
  const nodeLog = await script({
    client: nodeDgram, server: nodeDgram, serverAddr: '127.0.0.1', closedPort: await freePort(),
    wait: (p) => p,
  });
  // synack: client on 198.18.0.1, server on 198.18.0.2, rmem_max as on this machine.
  const sim = new Simulation({ seed: 7 });
  const rmax = rmemMax();
  const { a, b } = twoHosts(sim, { delay: 1000, optionsA: { rmem_max: rmax }, optionsB: { rmem_max: rmax } });
  const synLog = await script({
    client: attachDgram(a, sim), server: attachDgram(b, sim), serverAddr: '198.18.0.2', closedPort: 9999,
    wait: async (p) => {
      let done = false;
      const v = p.finally(() => { done = true; });
      await sim.runUntilAsync(() => done, { maxTime: 60_000_000 });
      return v;
    },
  });
  assert.deepEqual(synLog, nodeLog);
});

/** A UDP port on 127.0.0.1 with nobody listening (bind, read the port, close). */
async function freePort(): Promise<number> {
  const s = nodeDgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
