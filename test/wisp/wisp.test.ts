// Wisp: the codec, synack's client against the @mercuryworkshop/wisp-js server, the
// wisp-js client against `synack relay`, and synack's client against the relay (flow
// control, backpressure, close reasons). Everything on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http from 'node:http';
import * as dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { server as wispServer, logging as wispLogging } from '@mercuryworkshop/wisp-js/server';
import { client as wispClientLib } from '@mercuryworkshop/wisp-js/client';
import {
  decodeWisp, encodeClose, encodeConnect, encodeContinue, encodeData, encodeInfo, WispCloseReason, WispError,
} from '../../src/wisp/packet.js';
import { WispClient, type WispStream } from '../../src/wisp/client.js';
import { startRelay } from '../../src/wisp/node/relay.js';
import { Policy, parseAllowRule, RuleError } from '../../src/gateway/policy.js';

wispLogging.set_level(wispLogging.NONE);

function sha(b: Uint8Array): string { return createHash('sha256').update(b).digest('hex'); }

/** A TCP echo server on 127.0.0.1 (echoes, ends when the client ends). */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = net.createServer((s) => { s.pipe(s); s.on('error', () => {}); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A TCP server that sends `data` and closes. */
async function sourceServer(data: Uint8Array): Promise<{ port: number; close(): Promise<void> }> {
  const srv = net.createServer((s) => { s.on('error', () => {}); s.end(data); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function wispJsServer(): Promise<{ url: string; close(): Promise<void> }> {
  wispServer.options.allow_loopback_ips = true;
  wispServer.options.allow_private_ips = true;
  const srv = http.createServer((_q, r) => r.end('wisp'));
  srv.on('upgrade', (req, sock, head) => wispServer.routeRequest(req, sock, head));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}/`, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

async function connectClient(url: string): Promise<{ client: WispClient; ws: WebSocket }> {
  const ws = new WebSocket(url, 'wisp-v2');
  const client = new WispClient(ws as never);
  await client.readyPromise;
  return { client, ws };
}

/** Write `data` through the stream honouring write() → false / ondrain; collect what comes back. */
function pump(stream: WispStream, data: Uint8Array, chunk = 16384): Promise<{ got: Uint8Array; reason: number }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  return new Promise((resolve) => {
    stream.ondata = (d) => { parts.push(d.slice()); total += d.length; };
    stream.onclose = (reason) => {
      const got = new Uint8Array(total);
      let o = 0;
      for (const p of parts) { got.set(p, o); o += p.length; }
      resolve({ got, reason });
    };
    let off = 0;
    const go = (): void => {
      while (off < data.length) {
        const n = Math.min(chunk, data.length - off);
        const ok = stream.write(data.subarray(off, off + n));
        off += n;
        if (!ok) { stream.ondrain = go; return; }
      }
    };
    go();
  });
}

test('wisp codec: round trips and malformed packets are typed errors', () => {
  const c = decodeWisp(encodeConnect(7, 1, 8080, 'example.test'));
  assert.deepEqual(c, { type: 1, streamId: 7, streamType: 1, port: 8080, hostname: 'example.test' });
  const d = decodeWisp(encodeData(3, new Uint8Array([1, 2, 3])));
  assert.equal(d.type, 2);
  assert.deepEqual([...(d as { data: Uint8Array }).data], [1, 2, 3]);
  assert.deepEqual(decodeWisp(encodeContinue(0, 128)), { type: 3, streamId: 0, bufferRemaining: 128 });
  assert.deepEqual(decodeWisp(encodeClose(9, 0x44)), { type: 4, streamId: 9, reason: 0x44 });
  const i = decodeWisp(encodeInfo(2, 0, [{ id: 1, payload: new Uint8Array(0) }, { id: 4, payload: new Uint8Array([104, 105]) }]));
  assert.equal(i.type, 5);
  assert.deepEqual((i as { extensions: Array<{ id: number }> }).extensions.map((e) => e.id), [1, 4]);
  // Byte layout (little-endian stream id and port, as wisp-js serializes).
  assert.deepEqual([...encodeConnect(0x01020304, 2, 0x1234, 'a')], [1, 4, 3, 2, 1, 2, 0x34, 0x12, 97]);
  for (const bad of [new Uint8Array(3), new Uint8Array([9, 0, 0, 0, 0]), new Uint8Array([3, 0, 0, 0, 0, 1]), new Uint8Array([5, 0, 0, 0, 0, 2, 0, 1, 9, 0, 0, 0])]) {
    assert.throws(() => decodeWisp(bad), (e: unknown) => e instanceof WispError && e.code === 'ERR_WISP_PACKET');
  }
});

test('allow rules: parse, match, deny by default', () => {
  const p = new Policy(['127.0.0.1:8080', 'udp:10.0.0.0/8:53', '*.example.test:443', 'tcp:*:2000-2010']);
  assert.equal(p.allows({ proto: 'tcp', addr: 0x7f000001, port: 8080 }), true);
  assert.equal(p.allows({ proto: 'udp', addr: 0x7f000001, port: 8080 }), true);
  assert.equal(p.allows({ proto: 'tcp', addr: 0x7f000001, port: 8081 }), false);
  assert.equal(p.allows({ proto: 'udp', addr: 0x0a010203, port: 53 }), true);
  assert.equal(p.allows({ proto: 'tcp', addr: 0x0a010203, port: 53 }), false);
  assert.equal(p.allows({ proto: 'tcp', name: 'www.Example.test', port: 443 }), true);
  assert.equal(p.allows({ proto: 'tcp', name: 'example.test.evil', port: 443 }), false);
  assert.equal(p.allows({ proto: 'tcp', addr: 0x01020304, port: 2005 }), true);
  assert.equal(p.allows({ proto: 'udp', addr: 0x01020304, port: 2005 }), false);
  assert.equal(new Policy().allows({ proto: 'tcp', addr: 0x7f000001, port: 80 }), false);
  for (const bad of ['nohost', '1.2.3.4:99999', '1.2.3.4/40:1', 'a b:1', '1.2.3.4:5-4']) {
    assert.throws(() => parseAllowRule(bad), (e: unknown) => e instanceof RuleError && e.code === 'ERR_INVALID_ALLOW_RULE');
  }
});

test('synack Wisp client ↔ wisp-js server: 8 MB echo byte-exact with CONTINUE flow control, UDP echo, refused port', async () => {
  const srv = await wispJsServer();
  const echo = await echoServer();
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const { client, ws } = await connectClient(srv.url);
  try {
    assert.equal(client.version, 2);
    assert.ok(client.initialCredit > 0);
    const data = randomBytes(8 << 20);
    const s = client.open('127.0.0.1', echo.port, 'tcp');
    let continues = 0;
    const orig = s.continued.bind(s);
    s.continued = (n: number) => { continues++; orig(n); };
    const half = pump(s, data);
    // Read everything back, then close our side.
    const got = await new Promise<Uint8Array>((resolve) => {
      const parts: Uint8Array[] = []; let n = 0;
      s.ondata = (d) => { parts.push(d.slice()); n += d.length; if (n === data.length) resolve(Buffer.concat(parts)); };
    });
    void half;
    assert.equal(sha(got), sha(data));
    assert.ok(continues > 0, 'the server sent CONTINUE packets');
    s.close();

    const u = client.open('127.0.0.1', (udp.address() as net.AddressInfo).port, 'udp');
    const back = new Promise<string>((r) => { u.ondata = (d) => r(new TextDecoder().decode(d)); });
    u.write(new TextEncoder().encode('ping over wisp udp'));
    assert.equal(await back, 'ping over wisp udp');
    u.close();

    const dead = client.open('127.0.0.1', await freePort(), 'tcp');
    const reason = await new Promise<number>((r) => { dead.onclose = r; });
    assert.notEqual(reason, WispCloseReason.Voluntary);
  } finally {
    ws.close(); udp.close(); await echo.close(); await srv.close();
  }
});

test('wisp-js client ↔ synack relay: echo, deny by default (HostBlocked), ECONNREFUSED → ConnRefused', async () => {
  const echo = await echoServer();
  const closedPort = await freePort();
  const relay = await startRelay('127.0.0.1', 0, { policy: new Policy([`127.0.0.1:${echo.port}`, `127.0.0.1:${closedPort}`]) });
  const conn = new wispClientLib.ClientConnection(`ws://127.0.0.1:${relay.port}/`);
  try {
    await new Promise<void>((r, j) => { conn.onopen = () => r(); conn.onerror = () => j(new Error('wisp-js client error')); });
    const s = conn.create_stream('127.0.0.1', echo.port);
    const data = randomBytes(1 << 20);
    const got = await new Promise<Uint8Array>((resolve) => {
      const parts: Uint8Array[] = []; let n = 0;
      s.onmessage = (d: Uint8Array) => { parts.push(d.slice()); n += d.length; if (n === data.length) resolve(Buffer.concat(parts)); };
      for (let o = 0; o < data.length; o += 8192) s.send(data.subarray(o, o + 8192));
    });
    assert.equal(sha(got), sha(data));
    s.close();

    const blocked = conn.create_stream('127.0.0.1', echo.port + 1 === closedPort ? echo.port + 2 : echo.port + 1);
    assert.equal(await new Promise((r) => { blocked.onclose = r; }), WispCloseReason.HostBlocked);
    const refused = conn.create_stream('127.0.0.1', closedPort);
    assert.equal(await new Promise((r) => { refused.onclose = r; }), WispCloseReason.ConnRefused);
    assert.equal(relay.relay.counters.streamsRefused, 1);
  } finally {
    conn.close(); await relay.close(); await echo.close();
  }
});

test('synack client ↔ synack relay: 16 MB download and upload byte-exact; a slow reader pauses the host socket', async () => {
  const big = randomBytes(16 << 20);
  const src = await sourceServer(big);
  let uploaded = 0; const upHash = createHash('sha256');
  const sink = net.createServer((s) => { s.on('data', (d) => { uploaded += d.length; upHash.update(d); }); s.on('end', () => s.end()); s.on('error', () => {}); });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  const relay = await startRelay('127.0.0.1', 0, { policy: new Policy(['127.0.0.1:*']), bufferPackets: 16, wsHighWater: 256 * 1024 });
  const { client, ws } = await connectClient(`ws://127.0.0.1:${relay.port}/`);
  try {
    // Download with a reader that pauses: the queue stays bounded (ws.pause at rxHighWater).
    const d = client.open('127.0.0.1', src.port);
    const parts: Uint8Array[] = []; let n = 0; let maxQueued = 0;
    const done = new Promise<number>((r) => { d.onclose = r; });
    d.ondata = (b) => {
      parts.push(b.slice()); n += b.length;
      if ((n & 0xfffff) < b.length) { d.pause(); setTimeout(() => d.resume(), 2); }
      maxQueued = Math.max(maxQueued, (client as unknown as { rxBytes: number }).rxBytes);
    };
    assert.equal(await done, WispCloseReason.Voluntary);
    assert.equal(sha(Buffer.concat(parts)), sha(big));
    assert.ok(maxQueued < 4 << 20, `client queue bounded (max ${maxQueued})`);

    // Upload honouring credit: 16-packet buffer, so CONTINUE paces us.
    const u = client.open('127.0.0.1', sinkPort);
    let writesRefused = 0;
    await new Promise<void>((resolve) => {
      let off = 0;
      const go = (): void => {
        while (off < big.length) {
          const ok = u.write(big.subarray(off, off + 65536)); off += 65536;
          if (!ok) { writesRefused++; u.ondrain = go; return; }
        }
        resolve();
      };
      go();
    });
    await new Promise<void>((r) => { const t = setInterval(() => { if (uploaded >= big.length) { clearInterval(t); r(); } }, 5); });
    assert.equal(upHash.digest('hex'), sha(big));
    assert.ok(writesRefused > 0, 'credit ran out at least once');
    u.close();
  } finally {
    ws.close(); await relay.close(); await src.close(); await new Promise((r) => sink.close(r));
  }
});

test('synack relay CLI: --listen :0 prints the port, --allow admits one destination, others are refused', async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../../bin/synack.js', import.meta.url));
  const echo = await echoServer();
  const child = spawn(process.execPath, [bin, 'relay', '--listen', '127.0.0.1:0', '--allow', `tcp:127.0.0.1:${echo.port}`, '-q'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(String(d).trim()))));
    const { client, ws } = await connectClient(`ws://127.0.0.1:${port}/`);
    const s = client.open('127.0.0.1', echo.port);
    const back = new Promise<string>((r) => { s.ondata = (d) => r(new TextDecoder().decode(d)); });
    s.write(new TextEncoder().encode('via the CLI'));
    assert.equal(await back, 'via the CLI');
    const u = client.open('127.0.0.1', echo.port, 'udp');
    assert.equal(await new Promise((r) => { u.onclose = r; }), WispCloseReason.HostBlocked);
    ws.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await echo.close();
  }
});
