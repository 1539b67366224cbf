// Node's own http module over synack sockets, unchanged: the server is fed synack
// connections ('connection' event), the client gets them from createConnection or an Agent.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { pair, bytes, B } from './helpers.js';
import type { NetModule } from '../../src/net/index.js';
import type { Simulation } from '../../src/sim/simulation.js';
import type { Socket } from '../../src/net/socket.js';
import type { FaultOptions } from '../../src/link/faulty.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An http.Server on `net` port 80, as Node's http.Server would set up its net.Server. */
function serve(net: NetModule, handler: http.RequestListener) {
  const hs = http.createServer(handler);
  let connections = 0;
  const srv = net.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => { connections++; hs.emit('connection', s); });
  srv.listen(80);
  return { hs, srv, connections: () => connections };
}

function agentFor(net: NetModule, opts: http.AgentOptions = {}): http.Agent {
  const agent = new http.Agent({ keepAlive: true, ...opts });
  (agent as unknown as { createConnection: unknown }).createConnection = (o: object) => net.createConnection(o as { port: number });
  return agent;
}

interface Res { status: number; headers: http.IncomingHttpHeaders; body: Buffer; localPort: number | undefined }

function request(opts: http.RequestOptions, body?: Buffer | Buffer[]): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: B, port: 80, ...opts }, (res) => {
      const localPort = (res.socket as unknown as Socket | null)?.localPort;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) { for (const b of body) req.write(b); req.end(); } else req.end(body);
  });
}

/** Run the simulation until the promise settles (virtual-time budget `maxTime`). */
async function settle<T>(sim: Simulation, p: Promise<T>, maxTime = 3_600_000_000): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then((v) => { value = v; done = true; }, (e) => { error = e; done = true; });
  const ok = await sim.runUntilAsync(() => done, { maxTime });
  if (!ok) throw new Error(`not settled within ${maxTime / 1e6} s of virtual time`);
  if (error !== undefined) throw error;
  return value as T;
}

/** GET /get?n=… answers n bytes; POST answers {bytes, sha256} of the body; /chunks answers in 5 chunks. */
function handler(payloads: Map<number, Buffer>): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; h.update(d); });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex'), te: req.headers['transfer-encoding'] ?? null })));
      return;
    }
    if (url.pathname === '/chunks') {
      for (let i = 0; i < 5; i++) res.write(`chunk ${i};`);
      res.end();
      return;
    }
    const n = Number(url.searchParams.get('n') ?? 0);
    const body = payloads.get(n) ?? bytes(n, n);
    payloads.set(n, body);
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
}

describe('http over synack', () => {
  test('keep-alive: several requests on one connection through an Agent', async () => {
    const { sim, netA, netB } = pair({ delay: 2000 });
    const { connections } = serve(netB, handler(new Map()));
    const agent = agentFor(netA, { maxSockets: 1 });
    const ports = new Set<number | undefined>();
    for (let i = 0; i < 5; i++) {
      const r = await settle(sim, request({ path: `/get?n=${1000 * (i + 1)}`, agent }));
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 1000 * (i + 1));
      assert.equal(r.headers.connection, 'keep-alive');
      ports.add(r.localPort);
    }
    assert.equal(connections(), 1, 'one TCP connection carried all five');
    assert.equal(ports.size, 1);
    agent.destroy();
    await sim.runUntilIdleAsync();
  });

  test('without an Agent: createConnection per request, Connection: close', async () => {
    const { sim, netA, netB, a } = pair({ delay: 1000 });
    const { connections } = serve(netB, handler(new Map()));
    for (let i = 0; i < 3; i++) {
      const r = await settle(sim, request({ path: '/get?n=10', createConnection: ((o: object) => netA.createConnection(o as { port: number })) as never }));
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 10);
    }
    assert.equal(connections(), 3);
    await sim.runUntilAsync(() => a.tcbs().every((t) => t.state === 'TIME-WAIT' || t.state === 'CLOSED'), { maxTime: 10_000_000 });
    await sim.runUntilIdleAsync();
    assert.equal(a.connectionCount, 0);
  });

  test('chunked bodies both ways (Transfer-Encoding: chunked)', async () => {
    const { sim, netA, netB } = pair({ delay: 1000 });
    serve(netB, handler(new Map()));
    const agent = agentFor(netA);
    const down = await settle(sim, request({ path: '/chunks', agent }));
    assert.equal(down.headers['transfer-encoding'], 'chunked');
    assert.equal(down.body.toString(), 'chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;');
    const parts = [bytes(10_000, 1), bytes(70_000, 2), bytes(5, 3)];
    const up = await settle(sim, request({ method: 'POST', path: '/up', agent }, parts));
    const j = JSON.parse(up.body.toString()) as { bytes: number; sha256: string; te: string };
    assert.equal(j.te, 'chunked');
    assert.equal(j.bytes, 80_005);
    assert.equal(j.sha256, sha(Buffer.concat(parts)));
    agent.destroy();
  });

  test('50 MB download and 50 MB upload, checked by sha256', async (t) => {
    const { sim, netA, netB } = pair({ delay: 100 });
    const SIZE = 50 * 1024 * 1024;
    const payloads = new Map<number, Buffer>();
    const big = bytes(SIZE, 42);
    payloads.set(SIZE, big);
    serve(netB, handler(payloads));
    const agent = agentFor(netA);
    let t0 = performance.now();
    const down = await settle(sim, request({ path: `/get?n=${SIZE}`, agent }));
    const downMs = performance.now() - t0;
    assert.equal(down.body.length, SIZE);
    assert.equal(sha(down.body), sha(big));
    t0 = performance.now();
    const up = await settle(sim, request({ method: 'POST', path: '/up', agent, headers: { 'content-length': SIZE } }, big));
    const upMs = performance.now() - t0;
    const j = JSON.parse(up.body.toString()) as { bytes: number; sha256: string };
    assert.equal(j.bytes, SIZE);
    assert.equal(j.sha256, sha(big));
    t.diagnostic(`50 MB download ${downMs.toFixed(0)} ms (${(SIZE / 1048576 / (downMs / 1000)).toFixed(1)} MiB/s), upload ${upMs.toFixed(0)} ms (${(SIZE / 1048576 / (upMs / 1000)).toFixed(1)} MiB/s) real time`);
    agent.destroy();
  });
});

describe('http over a faulty link', () => {
  const cases: Array<[string, FaultOptions]> = [
    ['5% loss each way', { loss: 0.05 }],
    ['reordering (20% held back 3 ms) and 1 ms jitter', { reorder: 0.2, reorderDelay: 3000, jitter: 1000 }],
    ['5% loss plus reordering', { loss: 0.05, reorder: 0.1, reorderDelay: 4000 }],
  ];
  for (const [name, faults] of cases) {
    test(name, async () => {
      const { sim, netA, netB, a, b, faultA, faultB } = pair({ delay: 5000, faults, seed: 7 });
      serve(netB, handler(new Map()));
      const agent = agentFor(netA, { maxSockets: 1 });
      for (let i = 0; i < 4; i++) {
        const r = await settle(sim, request({ path: `/get?n=${200_000 + i}`, agent }));
        assert.equal(r.status, 200);
        assert.equal(sha(r.body), sha(bytes(200_000 + i, 200_000 + i)));
      }
      const body = bytes(1 << 20, 9);
      const up = await settle(sim, request({ method: 'POST', path: '/up', agent }, body));
      assert.equal((JSON.parse(up.body.toString()) as { sha256: string }).sha256, sha(body));
      agent.destroy();
      await sim.runUntilIdleAsync();
      assert.equal(a.connectionCount + b.connectionCount, 0);
      if (faults.loss) {
        assert.ok(faultA!.stats.dropped + faultB!.stats.dropped > 0, 'packets were lost');
        assert.ok(a.counters.TcpRetransSegs + b.counters.TcpRetransSegs > 0, 'and retransmitted');
      } else {
        assert.ok(faultA!.stats.reordered + faultB!.stats.reordered > 0, 'packets were reordered');
      }
    });
  }
});
