// The gateway in simulation: a synack guest behind the gateway (seeded loss on the guest
// link), the gateway's connector using a third stack's `net` towards a server stack.
//
//   guest G 198.18.0.100 ──(loss)── gateway W 198.18.0.1 [transparent]
//                                      └ NodeConnector(H.net): H 198.19.0.1 ── S 198.19.0.2
// The guest reaches S as 198.18.0.2 (host alias 198.18.0.2 → 198.19.0.2, like slirp's 10.0.2.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { attachNet } from '../../src/net/index.js';
import type { Socket } from '../../src/net/socket.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { NodeConnector, wrapSocket } from '../../src/gateway/node/connector.js';
import type { Connector, OutboundUdp } from '../../src/gateway/connector.js';

function sha(b: Uint8Array): string { return createHash('sha256').update(b).digest('hex'); }

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}

function world(seed: number, loss: number) {
  const sim = new Simulation({ seed });
  const inner = twoHosts(sim, { aAddr: '198.18.0.100', bAddr: '198.18.0.1', faults: { loss }, delay: 2000 });
  const outer = twoHosts(sim, { aAddr: '198.19.0.1', bAddr: '198.19.0.2', delay: 1000 });
  const G = inner.a, W = inner.b, H = outer.a, S = outer.b;
  const netG = attachNet(G, sim), netH = attachNet(H, sim), netS = attachNet(S, sim);
  const gw = new Gateway({
    stack: W,
    connector: new NodeConnector({ net: netH, dgram: null }),
    policy: ['198.19.0.2:80', '198.19.0.2:81'],
    hostAliases: { '198.18.0.2': '198.19.0.2' },
  });
  return { sim, G, W, H, S, netG, netH, netS, gw, inner };
}

/** S: on :80 read the whole upload (until the client's FIN), then answer sha256(upload) + `down`, then FIN. */
function uploadThenDownloadServer(netS: ReturnType<typeof attachNet>, down: Uint8Array) {
  const srv = netS.createServer({ allowHalfOpen: true }, (s: Socket) => {
    const h = createHash('sha256');
    s.on('data', (d: Buffer) => h.update(d));
    s.on('end', () => { s.write(h.digest('hex')); s.end(down); });
  });
  srv.listen(80);
  return srv;
}

for (const [seed, loss] of [[1, 0], [7, 0.02], [23, 0.05]] as const) {
  test(`gateway sim (seed ${seed}, loss ${loss * 100}%): 1 MB up then 1 MB down through the gateway, half-close both ways, byte-exact`, async () => {
    const w = world(seed, loss);
    const up = bytes(1 << 20, seed), down = bytes(1 << 20, seed + 1);
    uploadThenDownloadServer(w.netS, down);
    const c = w.netG.connect({ host: '198.18.0.2', port: 80, allowHalfOpen: true });
    const parts: Buffer[] = [];
    let ended = false, error: Error | null = null;
    c.on('data', (d: Buffer) => parts.push(d));
    c.on('end', () => { ended = true; });
    c.on('error', (e) => { error = e; });
    c.end(up);
    assert.ok(await w.sim.runUntilAsync(() => ended || error !== null, { maxTime: 600_000_000 }), 'finished');
    assert.equal(error, null);
    const got = Buffer.concat(parts);
    assert.equal(got.subarray(0, 64).toString(), sha(up), 'the server got the upload byte-exact');
    assert.equal(sha(got.subarray(64)), sha(down), 'the guest got the download byte-exact');
    assert.equal(w.gw.counters.tcpAccepted, 1);
    if (loss > 0) assert.ok((w.inner.faultA!.stats.dropped ?? 0) + (w.inner.faultB!.stats.dropped ?? 0) > 0, 'loss happened');
  });
}

test('gateway sim: deny by default → RST at once; real ECONNREFUSED → RST to the guest; counters', async () => {
  const w = world(3, 0);
  const t0 = w.sim.now();
  const errs: Record<string, string> = {};
  const at: Record<string, number> = {};
  for (const [name, port] of [['denied', 8080], ['refused', 81]] as const) {
    const c = w.netG.connect({ host: '198.18.0.2', port });
    c.on('error', (e: NodeJS.ErrnoException) => { errs[name] = e.code ?? '?'; at[name] = w.sim.now() - t0; });
  }
  // And a destination with no alias and no rule.
  const c3 = w.netG.connect({ host: '203.0.113.9', port: 80 });
  c3.on('error', (e: NodeJS.ErrnoException) => { errs.other = e.code ?? '?'; });
  assert.ok(await w.sim.runUntilAsync(() => Object.keys(errs).length === 3, { maxTime: 10_000_000 }));
  assert.deepEqual(errs, { denied: 'ECONNREFUSED', refused: 'ECONNREFUSED', other: 'ECONNREFUSED' });
  // Refused by policy: one round trip on the guest link (2 ms each way), no SYN retransmission.
  assert.ok(at.denied! <= 5_000, `denied after ${at.denied} µs`);
  assert.equal(w.gw.counters.tcpRefusedByPolicy, 2);
  assert.equal(w.gw.counters.tcpConnectFailed, 1);
});

test('gateway sim: a slow real reader closes the guest window (bounded buffers), then everything arrives', async () => {
  const w = world(5, 0);
  let received = 0;
  let sock: Socket | null = null;
  const srv = w.netS.createServer((s: Socket) => { sock = s; s.pause(); s.on('data', (d: Buffer) => { received += d.length; }); });
  srv.listen(80);
  const total = 8 << 20;
  const c = w.netG.connect({ host: '198.18.0.2', port: 80 });
  let written = 0;
  const pump = (): void => { while (written < total) { written += 65536; if (!c.write(Buffer.alloc(65536, 7))) { c.once('drain', pump); return; } } };
  c.on('connect', pump);
  await w.sim.runForAsync(5_000_000);
  // The server reads nothing: what left the guest is bounded by the receive/send buffers on
  // the way (S's receive buffer, H's send buffer, W's receive buffer, G's send buffer).
  const inFlight = written - received;
  assert.ok(written < total, `the guest's writer is blocked (${written} of ${total})`);
  const pipe = [...w.gw.pipes][0]!;
  assert.ok(pipe.toReal < 6 << 20, `gateway forwarded ${pipe.toReal}`);
  assert.ok(w.gw.pipes.size === 1 && inFlight > 0);
  sock!.resume();
  assert.ok(await w.sim.runUntilAsync(() => received >= total, { maxTime: 120_000_000 }));
  assert.equal(received, total);
});

test('gateway sim: hostfwd — a connection to the host side reaches a server in the guest', async () => {
  const w = world(9, 0.01);
  // The guest serves an echo on :22.
  w.netG.createServer((s: Socket) => s.pipe(s)).listen(22);
  // "Host" side: H listens on 8022 and forwards into the guest.
  w.netH.createServer((s: Socket) => w.gw.forwardInbound(wrapSocket(s, true), '198.18.0.100', 22)).listen(8022);
  const c = w.netS.connect({ host: '198.19.0.1', port: 8022 });
  const msg = bytes(200_000, 42);
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  c.write(msg);
  assert.ok(await w.sim.runUntilAsync(() => Buffer.concat(parts).length >= msg.length, { maxTime: 60_000_000 }));
  assert.equal(sha(Buffer.concat(parts)), sha(msg));
  assert.equal(w.gw.counters.forwardsAccepted, 1);
});

test('gateway sim: UDP flows — echo, idle timeout closes the flow in virtual time, no rule → ICMP port unreachable', async () => {
  const sim = new Simulation({ seed: 11 });
  const inner = twoHosts(sim, { aAddr: '198.18.0.100', bAddr: '198.18.0.1', delay: 2000 });
  const G = inner.a, W = inner.b;
  // The "real network" for UDP: an echo a millisecond away (the peer, not the thing under test).
  let opened = 0, closed = 0;
  const connector: Connector = {
    connectTcp: () => { throw new Error('no tcp here'); },
    openUdp: () => {
      opened++;
      const o: OutboundUdp = { onmessage: null, onerror: null, send: (d) => { sim.after(1000, () => o.onmessage?.(Uint8Array.from([...new TextEncoder().encode('echo:'), ...d]))); }, close: () => { closed++; } };
      return o;
    },
  };
  const gw = new Gateway({ stack: W, connector, policy: ['udp:198.19.0.2:53'], hostAliases: { '198.18.0.2': '198.19.0.2' }, udpIdleTimeout: 60_000_000 });
  const got: string[] = [];
  const errors: number[] = [];
  G.registerProtocol(17, (d) => got.push(new TextDecoder().decode(d.payload.subarray(8))), (e) => errors.push(e.code));
  const send = (port: number, text: string): void => {
    const data = new TextEncoder().encode(text);
    const u = new Uint8Array(8 + data.length);
    u[0] = 0x9c; u[1] = 0x40; u[2] = port >> 8; u[3] = port & 0xff; u[4] = 0; u[5] = u.length; u.set(data, 8); // checksum 0: not used (RFC 768)
    G.sendIpv4({ dst: '198.18.0.2', protocol: 17, payload: u });
  };
  send(53, 'one');
  await sim.runForAsync(100_000);
  send(53, 'two');
  await sim.runForAsync(30_000_000);
  assert.deepEqual(got, ['echo:one', 'echo:two']);
  assert.equal(opened, 1);
  assert.equal(gw.udp.size, 1, 'still open after 30 s idle');
  await sim.runForAsync(31_000_000);
  assert.equal(gw.udp.size, 0, 'closed after 60 s idle');
  assert.equal(closed, 1);
  assert.equal(gw.counters.udpIdleClosed, 1);
  send(53, 'three');
  await sim.runForAsync(100_000);
  assert.equal(opened, 2, 'a new datagram opens a new flow');
  send(54, 'denied');
  await sim.runForAsync(100_000);
  assert.deepEqual(errors, [3], 'ICMP port unreachable for the port with no rule');
  assert.equal(gw.counters.udpRefusedByPolicy, 1);
});
