// Guest traffic through Wisp in real time: a synack guest stack → the gateway (its own stack)
// → WispConnector → a Wisp server on 127.0.0.1 (synack relay, and @mercuryworkshop/wisp-js)
// → an HTTP server on the host's 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { server as wispServer, logging as wispLogging } from '@mercuryworkshop/wisp-js/server';
import { RealtimeNetDriver, realtimeTwoHosts } from '../../src/net/driver.js';
import { attachNet } from '../../src/net/index.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { WispConnector } from '../../src/gateway/wisp-connector.js';
import { WispClient } from '../../src/wisp/client.js';
import { startRelay } from '../../src/wisp/node/relay.js';
import { Policy } from '../../src/gateway/policy.js';

wispLogging.set_level(wispLogging.NONE);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function httpServer(body: Uint8Array) {
  let uploadHash = '';
  const srv = http.createServer((req, res) => {
    if (req.method === 'POST') {
      const h = createHash('sha256');
      req.on('data', (d) => h.update(d));
      req.on('end', () => { uploadHash = h.digest('hex'); res.end(uploadHash); });
      return;
    }
    res.writeHead(200, { 'content-length': body.length, connection: 'close' });
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, srv, uploadHash: () => uploadHash };
}

/** Raw HTTP/1.0 request over a synack socket; resolves with the body. */
function fetchVia(netG: ReturnType<typeof attachNet>, host: string, port: number, method = 'GET', body?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = netG.connect({ host, port });
    const parts: Buffer[] = [];
    c.on('data', (d: Buffer) => parts.push(d));
    c.on('end', () => {
      const all = Buffer.concat(parts);
      const i = all.indexOf('\r\n\r\n');
      resolve(all.subarray(i + 4));
    });
    c.on('error', reject);
    const head = `${method} / HTTP/1.0\r\nHost: x\r\n${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n`;
    c.write(head);
    if (body) c.write(body);
  });
}

async function setup(url: string, awaitContinue: boolean) {
  const driver = new RealtimeNetDriver();
  const { a: G, b: W } = realtimeTwoHosts(driver, { aAddr: '198.18.0.100', bAddr: '198.18.0.1' });
  const netG = attachNet(G, driver);
  const ws = new WebSocket(url, 'wisp-v2');
  const client = new WispClient(ws as never);
  await client.readyPromise;
  const gw = new Gateway({
    stack: W, connector: new WispConnector(client, { awaitContinue }),
    policy: ['127.0.0.1:*'], hostAliases: { '198.18.0.2': '127.0.0.1' },
  });
  return { driver, netG, ws, client, gw };
}

test('gateway → Wisp client → synack relay → host HTTP server: 8 MB down and up byte-exact; refused port → ECONNREFUSED', async () => {
  const body = randomBytes(8 << 20);
  const h = await httpServer(body);
  const relay = await startRelay('127.0.0.1', 0, { policy: new Policy([`127.0.0.1:${h.port}`]) });
  const w = await setup(`ws://127.0.0.1:${relay.port}/`, true);
  try {
    const got = await fetchVia(w.netG, '198.18.0.2', h.port);
    assert.equal(sha(got), sha(body));
    const up = randomBytes(8 << 20);
    const ans = await fetchVia(w.netG, '198.18.0.2', h.port, 'POST', up);
    assert.equal(ans.toString(), sha(up));
    // The gateway allows any loopback port here; the relay's own rules refuse this one.
    await assert.rejects(fetchVia(w.netG, '198.18.0.2', h.port + 1 === relay.port ? h.port + 2 : h.port + 1), { code: 'ECONNREFUSED' });
    assert.ok(relay.relay.counters.streamsRefused >= 1);
  } finally {
    w.ws.close(); w.gw.close(); w.driver.stop(); await relay.close(); h.srv.closeAllConnections(); h.srv.close();
  }
});

test('gateway → Wisp client → @mercuryworkshop/wisp-js server → host HTTP server: 4 MB byte-exact', async () => {
  const body = randomBytes(4 << 20);
  const h = await httpServer(body);
  wispServer.options.allow_loopback_ips = true;
  const srv = http.createServer();
  srv.on('upgrade', (req, sock, head) => wispServer.routeRequest(req, sock, head));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const w = await setup(`ws://127.0.0.1:${(srv.address() as net.AddressInfo).port}/`, false);
  try {
    const got = await fetchVia(w.netG, '198.18.0.2', h.port);
    assert.equal(sha(got), sha(body));
  } finally {
    w.ws.close(); w.gw.close(); w.driver.stop(); srv.closeAllConnections(); srv.close(); h.srv.closeAllConnections(); h.srv.close();
  }
});
