// Node's tls and https over synack sockets, unchanged: tls.connect({ socket }) on the
// client, new tls.TLSSocket(socket, { isServer: true }) on the server, and an https.Server
// fed with synack connections. The certificate is generated at test time with openssl.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pair, bytes, B } from './helpers.js';
import type { Simulation } from '../../src/sim/simulation.js';
import type { Socket } from '../../src/net/socket.js';
import type { FaultOptions } from '../../src/link/faulty.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let key = '';
let cert = '';
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'synack-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=synack.test', '-days', '1',
    '-addext', 'subjectAltName=DNS:synack.test',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

async function until(sim: Simulation, cond: () => boolean, maxTime = 600_000_000): Promise<void> {
  assert.equal(await sim.runUntilAsync(cond, { maxTime }), true, 'condition not reached in virtual time');
}

/** A TLS echo server on B:443 built from raw synack sockets; returns what the client got. */
async function tlsEcho(faults: FaultOptions | undefined, payload: Buffer) {
  const { sim, netA, netB, a, b } = pair({ delay: 3000, faults, seed: 3 });
  let serverErr: Error | null = null;
  // TLS decides when the byte stream ends (close_notify, then FIN): the raw sockets are
  // half-open capable, as Node's own TLS over a kernel socket effectively is.
  netB.createServer({ allowHalfOpen: true }, (raw: Socket) => {
    const s = new tls.TLSSocket(raw as unknown as import('node:net').Socket, { isServer: true, key, cert });
    s.on('error', (e) => { serverErr = e; });
    s.pipe(s);
  }).listen(443);
  const raw = netA.connect({ port: 443, host: B, allowHalfOpen: true });
  const c = tls.connect({ socket: raw as unknown as import('node:net').Socket, servername: 'synack.test', ca: cert });
  let secure = false;
  let peerCN = '';
  let protocol = '';
  c.on('secureConnect', () => {
    secure = true;
    peerCN = String(c.getPeerCertificate().subject.CN);
    protocol = String(c.getProtocol());
    c.end(payload);
  });
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  let clientErr: Error | null = null;
  c.on('error', (e) => { clientErr = e; });
  let closed = false;
  c.on('close', () => { closed = true; });
  await until(sim, () => closed);
  await sim.runUntilIdleAsync();
  return { secure, peerCN, protocol, c, got: Buffer.concat(parts), serverErr, clientErr, left: a.connectionCount + b.connectionCount, sim };
}

describe('tls over synack', () => {
  test('tls.connect({ socket }) ↔ new tls.TLSSocket(socket, { isServer: true }): handshake, verified certificate, echo', async () => {
    const payload = bytes(300_000, 5);
    const r = await tlsEcho(undefined, payload);
    assert.equal(r.clientErr, null);
    assert.equal(r.serverErr, null);
    assert.equal(r.secure, true);
    assert.equal(r.c.authorized, true);
    assert.equal(r.peerCN, 'synack.test');
    assert.match(r.protocol, /^TLSv1\.[23]$/);
    assert.equal(sha(r.got), sha(payload));
    assert.equal(r.left, 0);
  });

  test('a certificate the client does not trust is refused', async () => {
    const { sim, netA, netB } = pair({ delay: 1000 });
    netB.createServer((raw: Socket) => {
      const s = new tls.TLSSocket(raw as unknown as import('node:net').Socket, { isServer: true, key, cert });
      s.on('error', () => { /* the client hangs up */ });
    }).listen(443);
    const c = tls.connect({ socket: netA.connect(443, B) as unknown as import('node:net').Socket, servername: 'synack.test' });
    let err: (Error & { code?: string }) | null = null;
    c.on('error', (e) => { err = e; });
    await until(sim, () => err !== null);
    assert.equal((err as unknown as { code: string }).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  for (const [name, faults] of [
    ['with 5% loss', { loss: 0.05 }],
    ['with reordering', { reorder: 0.2, reorderDelay: 5000 }],
  ] as Array<[string, FaultOptions]>) {
    test(`TLS echo ${name}`, async () => {
      const payload = bytes(500_000, 6);
      const r = await tlsEcho(faults, payload);
      assert.equal(r.clientErr, null);
      assert.equal(r.serverErr, null);
      assert.equal(r.c.authorized, true);
      assert.equal(sha(r.got), sha(payload));
    });
  }
});

describe('https over synack', () => {
  async function httpsGet(faults: FaultOptions | undefined) {
    const { sim, netA, netB } = pair({ delay: 2000, faults, seed: 11 });
    const body = bytes(200_000, 8);
    const server = https.createServer({ key, cert }, (req, res) => {
      res.setHeader('x-path', req.url ?? '');
      res.end(body);
    });
    // https.Server is a tls.Server: its 'connection' handler wraps the socket in TLS.
    netB.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => server.emit('connection', s)).listen(443);
    const agent = new https.Agent({ keepAlive: true, ca: cert, servername: 'synack.test' });
    (agent as unknown as { createConnection: unknown }).createConnection = (o: tls.ConnectionOptions) =>
      tls.connect({ ...o, socket: netA.connect({ port: 443, host: B, allowHalfOpen: true }) as unknown as import('node:net').Socket });
    const results: Array<{ status: number; path: string; body: Buffer; proto: string }> = [];
    let error: Error | null = null;
    const get = (path: string) => new Promise<void>((resolve, reject) => {
      https.get({ host: B, port: 443, path, agent, servername: 'synack.test' }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          results.push({ status: res.statusCode ?? 0, path: String(res.headers['x-path']), body: Buffer.concat(parts), proto: String((res.socket as tls.TLSSocket | null)?.getProtocol?.() ?? '') });
          resolve();
        });
      }).on('error', reject);
    });
    let done = false;
    void (async () => { await get('/one'); await get('/two'); })().catch((e: Error) => { error = e; }).finally(() => { done = true; });
    await until(sim, () => done);
    agent.destroy();
    await sim.runUntilIdleAsync();
    return { results, error, body };
  }

  test('https.request through an Agent whose connections are TLS over synack (keep-alive)', async () => {
    const r = await httpsGet(undefined);
    assert.equal(r.error, null);
    assert.deepEqual(r.results.map((x) => [x.status, x.path]), [[200, '/one'], [200, '/two']]);
    for (const x of r.results) assert.equal(sha(x.body), sha(r.body));
  });

  test('https with 5% loss and reordering', async () => {
    const r = await httpsGet({ loss: 0.05, reorder: 0.1, reorderDelay: 4000 });
    assert.equal(r.error, null);
    assert.deepEqual(r.results.map((x) => x.status), [200, 200]);
    for (const x of r.results) assert.equal(sha(x.body), sha(r.body));
  });
});
