// Loopback (issue 11, deliverable 1): every Stack has `lo` (127.0.0.1/8, MTU 65536) and
// traffic to any of its own addresses is delivered locally without touching a link
// (RFC 1122 §3.2.1.3), in virtual time and in real time; traces, pcap and the connection
// table show these connections like any other. createNet() is a `net` over a real-time
// stack with only loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Simulation } from '../../src/sim/simulation.js';
import { Stack } from '../../src/stack/stack.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { attachNet, createNet } from '../../src/net/index.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { readPcap } from '../../src/wire/pcap.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv4Address } from '../../src/wire/ipv4addr.js';
import { renderConnectionTable } from '../../src/stack/table.js';
import type { Socket } from '../../src/net/socket.js';
import { runOnNode, record, once, type Scenario, type NetLike } from './nodecompare.js';

/** An echo exchange over one stack in virtual time; returns what the client got and the stack. */
async function echoOnOneStack(host: string) {
  const sim = new Simulation({ seed: 3 });
  const { a, rawA } = twoHosts(sim, { delay: 5_000 });
  const net = attachNet(a, sim);
  const rec = new TraceRecorder().attach(a).capturePackets(a.loopback.link);
  let linkPackets = 0;
  rawA.observe((ev) => { if (ev.kind === 'send') linkPackets++; });
  net.createServer((s) => s.pipe(s)).listen(7);
  const c = net.connect(7, host);
  let got = '';
  let table = '';
  let remote = '';
  let local = '';
  c.setEncoding('utf8');
  c.on('connect', () => { remote = c.remoteAddress!; local = c.localAddress!; });
  c.on('data', (d: string) => { got += d; if (got === 'ping') { table = renderConnectionTable(a.connections()); c.end(); } });
  c.write('ping');
  const t0 = sim.now();
  await sim.runUntilAsync(() => c.destroyed);
  return { sim, a, c, got, rec, linkPackets, table, remote, local, elapsed: sim.now() - t0 };
}

test('connect(localhost), connect(127.0.0.1) and connect(own address) are looped back, in zero virtual time, never on the link', async () => {
  for (const [host, local] of [['localhost', '127.0.0.1'], ['127.0.0.1', '127.0.0.1'], ['127.1.2.3', '127.0.0.1'], ['198.18.0.1', '198.18.0.1']] as const) {
    const r = await echoOnOneStack(host);
    assert.equal(r.got, 'ping', host);
    assert.equal(r.linkPackets, 0, `${host}: nothing went out on the 5 ms link`);
    assert.equal(r.elapsed, 0, `${host}: loopback takes no virtual time`);
    assert.equal(r.remote, host === 'localhost' ? '127.0.0.1' : host);
    assert.equal(r.local, local);
    assert.ok(r.a.loopback.link.delivered > 0);
    // The connection table shows both ends, as `ss` does on Linux.
    const ends = r.table.split('\n').filter((l) => l.includes('ESTAB'));
    assert.equal(ends.length, 2, r.table);
  }
});

test('lo: 127.0.0.1/8, MTU 65536, MSS 65495; not the stack\'s first interface or trace name', async () => {
  const r = await echoOnOneStack('127.0.0.1');
  const lo = r.a.loopback;
  assert.deepEqual([lo.kind, lo.name, formatIpv4Address(lo.addr), lo.prefixLen, lo.mtu], ['loopback', 'lo', '127.0.0.1', 8, 65536]);
  assert.equal(r.a.interfaces.includes(lo), false);
  assert.equal(r.a.name, '198.18.0.1');
  assert.equal(formatIpv4Address(r.a.traceHost), '198.18.0.1');
  // Trace: the SYN out and in, with MSS 65535 − 40 (the IP total length caps Linux's 65536 − 40).
  const syns = r.rec.events.filter((e) => e.type === 'segment' && e.flags === 0x02);
  assert.deepEqual(syns.map((e) => e.type === 'segment' && e.dir), ['out', 'in']);
  assert.equal(syns[0]!.type === 'segment' && syns[0]!.options.mss, 65495);
  assert.ok(r.rec.events.some((e) => e.type === 'state' && e.to === 'TIME-WAIT'));
  // pcap: every looped-back datagram, 127.0.0.1 both ways.
  const pkts = readPcap(r.rec.pcap());
  assert.ok(pkts.ok);
  const seen = pkts.value.records.map((p) => { const ip = parseIpv4(p.data); assert.ok(ip.ok); return `${formatIpv4Address(ip.value.src)}>${formatIpv4Address(ip.value.dst)}`; });
  assert.ok(seen.length >= 7, `${seen.length} packets`);
  assert.deepEqual([...new Set(seen)], ['127.0.0.1>127.0.0.1']);
});

test('a large transfer over lo uses 64 KB segments and arrives intact', async () => {
  const sim = new Simulation({ seed: 5 });
  const a = new Stack({ clock: sim.clock });
  sim.add(a);
  const net = attachNet(a, sim);
  const size = 4 << 20;
  let got = 0;
  net.createServer((s) => { s.on('data', (d: Buffer) => { got += d.length; }); }).listen(9);
  const c = net.connect(9, '127.0.0.1');
  c.end(Buffer.alloc(size, 7));
  const rec = new TraceRecorder().attach(a);
  await sim.runUntilAsync(() => got === size);
  const lens = rec.events.filter((e) => e.type === 'segment' && e.dir === 'out').map((e) => (e.type === 'segment' ? e.len : 0));
  assert.ok(Math.max(...lens) > 60_000, `largest segment ${Math.max(...lens)}`);
});

test('127/8 arriving on a real interface is a martian and dropped (RFC 1122 §3.2.1.3 (g))', async () => {
  const sim = new Simulation({ seed: 1 });
  const { a, b } = twoHosts(sim);
  const netB = attachNet(b, sim);
  netB.createServer(() => {}).listen(80);
  const netA = attachNet(a, sim);
  // A connects from a forged 127.0.0.1 source over the real link: B must ignore it.
  const tcb = a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, localAddr: '127.0.0.1' });
  // 127.0.0.1 → 198.18.0.2 routes over the link (the destination is not ours).
  tcb.openActive(sim.now());
  await sim.runUntilAsync(() => b.drops.get('ip: martian loopback address') > 0, { maxTime: 5_000_000 });
  assert.ok(b.drops.get('ip: martian loopback address') > 0);
  assert.equal(b.connectionCount, 0);
  void netA;
});

/** The same scenario on Node's net over the kernel loopback and on createNet(): equal logs. */
async function compareWithCreateNet(s: Scenario): Promise<string[]> {
  const node = await runOnNode(s);
  const net = createNet();
  const log: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  await s({ server: net as unknown as NetLike, client: net as unknown as NetLike, host: '127.0.0.1', log, after: (ms, fn) => { timers.push(setTimeout(fn, ms)); } });
  for (const t of timers) clearTimeout(t);
  assert.deepEqual(log, node, `createNet: ${log.join(' ')}\nnode:      ${node.join(' ')}`);
  return node;
}

test('createNet(): a real-time stack with only lo behaves like Node\'s net on the kernel loopback', async () => {
  const log = await compareWithCreateNet(async ({ server, client, log }) => {
    const srv = server.createServer((s) => { s.setEncoding('utf8'); s.on('data', (d: string) => s.end(d.toUpperCase())); });
    srv.listen(0);
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const c = client.connect(port, 'localhost');
    record(log, '', c, ['connect', 'ready', 'end', 'finish', 'close', 'error']);
    c.setEncoding('utf8');
    let got = '';
    c.on('data', (d: string) => { if (got === '') log.push(`${c.remoteAddress}:${c.remotePort === port} from ${c.localAddress} ${c.remoteFamily}`); got += d; });
    c.on('connect', () => c.write('hello'));
    await once(c, 'close');
    log.push(got);
    const refused = client.connect(port + (port === 65535 ? -1 : 1), '127.0.0.1');
    record(log, 'refused ', refused, ['connect', 'error', 'close']);
    await once(refused, 'close');
    srv.close();
    await once(srv, 'close');
  });
  assert.deepEqual(log, ['connect', 'ready', '127.0.0.1:true from 127.0.0.1 IPv4', 'end', 'finish', 'close:false', 'HELLO',
    'refused error:ECONNREFUSED/-111/connect', 'refused close:true']);
});

test('createNet(): the process exits when the program is done, as with Node', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const prog = `import { createNet } from ${JSON.stringify(index)};
    const net = createNet();
    const srv = net.createServer((s) => s.end('bye')).listen(0, () => {
      const c = net.connect(srv.address().port, 'localhost');
      c.on('data', (d) => console.log(String(d)));
      c.on('close', () => srv.close());
    });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', prog], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'bye');
});

void ({} as Socket);
