// Event order and buffering that programs observe, compared with Node's own net on the kernel
// loopback in the same test (each scenario runs on both and the logs must be equal):
// - 'connection' on the server before 'connect' on the client (the kernel finishes a loopback
//   handshake inside connect(2); src/stack/loopback.ts, Socket#runService);
// - server.close() in the client's 'connect' handler leaves the accepted connection alone;
// - `new Socket().end(cb)` never finishes (Node's _final waits for 'connect');
// - the first 64 KB write to a fresh loopback connection is taken whole (Linux sizes the send
//   buffer at establishment: tcp_sndbuf_expand, autotune.ts initSendBuffer).
import { test } from 'node:test';
import * as nodeNet from 'node:net';
import type { AddressInfo } from 'node:net';
import { closed, sameOnLoopback } from './nodecompare.js';

type Net = typeof nodeNet;
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listen(net: Net, onConn: (c: nodeNet.Socket) => void): Promise<{ srv: nodeNet.Server; port: number }> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, port: (srv.address() as AddressInfo).port };
}

const both = sameOnLoopback;

test("loopback: the server's 'connection' comes before the client's 'connect', every time", () => both(async (net) => {
  const { srv, port } = await listen(net, (c) => { log.push('connection'); c.destroy(); });
  const log: string[] = [];
  for (let i = 0; i < 5; i++) {
    const c = net.connect(port, '127.0.0.1', () => log.push('connect'));
    c.on('error', () => {});
    await closed(c);
  }
  srv.close();
  return log;
}));

test("server.close() in the client's 'connect' handler: the accepted connection lives on and ends normally", () => both(async (net) => {
  const log: string[] = [];
  const { srv, port } = await listen(net, (c) => { log.push('connection'); setTimeout(() => c.end('bye'), 20); });
  const c = net.connect(port, '127.0.0.1');
  c.on('connect', () => { srv.close(() => log.push('server closed')); log.push(`listening=${srv.listening}`); });
  c.on('error', (e) => log.push(`client error ${(e as NodeJS.ErrnoException).code}`));
  c.on('data', (d) => log.push(`data ${d}`));
  c.on('end', () => log.push('end'));
  await closed(c);
  await tick(20);
  return log;
}));

test('new Socket().end(cb) on a socket that never connects: no finish, no callback', () => both(async (net) => {
  const log: string[] = [];
  const s = new net.Socket();
  s.on('finish', () => log.push('finish'));
  s.on('close', () => log.push('close'));
  s.end(() => log.push('end callback'));
  await tick(30);
  log.push(`destroyed=${s.destroyed} readyState=${s.readyState} writableEnded=${s.writableEnded} writableFinished=${s.writableFinished}`);
  s.destroy();
  await tick(5);
  return log;
}));

test('the first 64 KB write on a fresh loopback connection is taken whole; writes return false once the buffer is full', () => both(async (net) => {
  const log: string[] = [];
  let peer: nodeNet.Socket | null = null;
  const { srv, port } = await listen(net, (c) => { peer = c; c.pause(); });
  const c = net.connect(port, '127.0.0.1');
  const done = closed(c);
  // Linux moves loopback data inside write(2), so the paused reader's buffer is already full
  // when write() first returns false; synack transmits after the event loop turns, so the
  // reader's buffer may still take some and 'drain' can come before resume(): the log does
  // not depend on which.
  c.on('drain', () => { log.push('drain'); c.destroy(); });
  await new Promise((r) => c.on('connect', r));
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  log.push(`first write ${c.write(chunk)} writableLength ${c.writableLength}`);
  let n = 1;
  while (c.write(chunk) && n < 10_000) n++;
  log.push(`eventually false ${n < 10_000} needDrain ${c.writableNeedDrain}`);
  await tick(10);
  (peer as nodeNet.Socket | null)?.resume();
  await done;
  (peer as nodeNet.Socket | null)?.destroy();
  srv.close();
  return log;
}));
