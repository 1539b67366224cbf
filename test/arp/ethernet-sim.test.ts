// Stacks on simulated Ethernet: ARP resolution through a learning switch, lost requests
// (seeded loss), a TCP connection on top, unconfigured interfaces, broadcasts for other
// protocols, and resolution failure reported as "host unreachable".
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { EthernetSwitch, createEthernetPair } from '../../src/sim/ethernet.js';
import { FaultyLink } from '../../src/link/faulty.js';
import { Stack } from '../../src/stack/stack.js';
import type { LinkEnd } from '../../src/link/types.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { localMac, formatMac, ETHERTYPE_ARP } from '../../src/wire/ethernet.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';
import type { Tcb } from '../../src/tcp/tcb.js';

const A = '198.18.0.1', B = '198.18.0.2';
const ipOf = (s: string): number => parseIpv4Address(s)!;
const isArp = (f: Uint8Array): boolean => ((f[12]! << 8) | f[13]!) === ETHERTYPE_ARP;
const isArpRequest = (f: Uint8Array): boolean => isArp(f) && f[21] === 1;

function host(sim: Simulation, name: string, link: LinkEnd, addr: string | undefined, n: number): Stack {
  const r = sim.rng.fork(name);
  const s = new Stack({ clock: sim.clock, random: (k) => r.bytes(k), name });
  s.addEthernetInterface({ link, mac: localMac(n), addr, prefixLen: 24 });
  sim.add(s);
  return s;
}

function serveEcho(s: Stack, port: number): void {
  const l = s.listen({ port });
  l.onAcceptable = () => {
    for (let t = l.accept(); t !== null; t = l.accept()) {
      const c = t;
      c.user = { onReadable: () => { const d = c.receive(65536, s.now()); if (d.length) c.send(d, s.now()); } };
    }
  };
}

function connectAndSend(sim: Simulation, s: Stack, to: string, port: number, msg: string): { tcb: Tcb; got: () => string; err: () => string | null } {
  const tcb = s.connect({ remoteAddr: to, remotePort: port });
  let got = '';
  let err: string | null = null;
  tcb.user = {
    onReadable: () => { got += new TextDecoder().decode(tcb.receive(65536, sim.now())); },
    onClosed: (e) => { err = e; },
  };
  tcb.openActive(sim.now());
  tcb.send(new TextEncoder().encode(msg), sim.now());
  return { tcb, got: () => got, err: () => err };
}

describe('Ethernet + ARP in simulation', () => {
  test('two stacks behind a learning switch resolve each other and connect', () => {
    const sim = new Simulation({ seed: 7 });
    const sw = new EthernetSwitch(sim, { delay: 100 });
    const a = host(sim, 'a', sw.attach(), A, 1);
    const b = host(sim, 'b', sw.attach(), B, 2);
    const events: TraceEvent[] = [];
    a.addTraceListener((e) => events.push(e));
    serveEcho(b, 7);
    sim.runUntilIdle();
    const c = connectAndSend(sim, a, B, 7, 'hello over ethernet');
    sim.runUntil(() => c.got().length >= 19, { maxTime: 10_000_000 });
    assert.equal(c.got(), 'hello over ethernet');
    const na = a.network.neighbourTable();
    const nb = b.network.neighbourTable();
    assert.deepEqual(na.map((r) => [r.addr, r.mac, r.state]), [[B, formatMac(localMac(2)), 'REACHABLE']]);
    // B learned A from A's request (STALE), then used it: STALE → DELAY → (TCP traffic does not confirm) …
    assert.equal(nb.length, 1);
    assert.equal(nb[0]!.mac, formatMac(localMac(1)));
    const arpOut = events.filter((e) => e.type === 'arp' && e.dir === 'out');
    // One request (the gratuitous ARP at configuration went out before the listener was attached).
    assert.equal(arpOut.length, 1);
    const neigh = events.filter((e) => e.type === 'neigh').map((e) => e.type === 'neigh' ? `${e.from}>${e.to}` : '');
    assert.deepEqual(neigh.slice(0, 2), ['NONE>INCOMPLETE', 'INCOMPLETE>REACHABLE']);
    // The switch learned both MACs and forwards unicast without flooding.
    assert.deepEqual(sw.table().map((r) => r.port).sort(), [0, 1]);
    assert.ok(sw.stats.forwarded > 4);
  });

  test('lost ARP requests (seeded loss) delay the connection but it still opens', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const sim = new Simulation({ seed });
      const sw = new EthernetSwitch(sim, { delay: 1000 });
      const la = new FaultyLink(sw.attach(), {}, sim, sim.rng.fork('fa'));
      // Drop the first two ARP requests from A (the GARP is not a request for B).
      la.dropWhen((f) => isArpRequest(f) && ((f[38]! << 24 | f[39]! << 16 | f[40]! << 8 | f[41]!) >>> 0) === ipOf(B), 2);
      // And random loss on everything else.
      la.configure({ loss: 0.2 });
      const a = host(sim, 'a', la, A, 1);
      const b = host(sim, 'b', sw.attach(), B, 2);
      serveEcho(b, 7);
      const c = connectAndSend(sim, a, B, 7, 'x'.repeat(5000));
      sim.runUntil(() => c.got().length >= 5000, { maxTime: 120_000_000 });
      assert.equal(c.got().length, 5000, `seed ${seed}`);
      assert.ok(la.stats.dropped >= 2, `seed ${seed}`);
      assert.ok(a.network.neighbourTable()[0]!.state !== 'FAILED', `seed ${seed}`);
      // Requests went out 1 s apart (retrans_time); the third one got through.
      assert.ok(a.counters.TcpRetransSegs >= 0);
    }
  });

  test('resolution fails after mcast_solicit requests: host unreachable for the connecting socket', () => {
    const sim = new Simulation({ seed: 3 });
    const [l1] = createEthernetPair(sim, { delay: 10 });
    const a = host(sim, 'a', l1, A, 1);
    const events: TraceEvent[] = [];
    a.addTraceListener((e) => events.push(e));
    const c = connectAndSend(sim, a, '198.18.0.9', 80, 'x');
    sim.runUntilIdle({ maxTime: 300_000_000 });
    const reqs = events.filter((e) => e.type === 'arp' && e.dir === 'out' && e.op === 'request' && e.tpa === ipOf('198.18.0.9'));
    // Each resolution: 3 broadcast requests 1 s apart; the SYN retransmissions restart it.
    assert.ok(reqs.length >= 3);
    assert.deepEqual(reqs.slice(0, 3).map((e) => e.t), [0, 1_000_000, 2_000_000]);
    assert.ok(events.some((e) => e.type === 'neigh' && e.to === 'FAILED' && e.t === 3_000_000));
    assert.equal(c.err(), 'EHOSTUNREACH');
    assert.ok(a.counters.IcmpInDestUnreachs >= 1);
  });

  test('an unconfigured interface receives broadcasts for a registered protocol, sends from 0.0.0.0, then is configured', () => {
    const sim = new Simulation({ seed: 9 });
    const sw = new EthernetSwitch(sim);
    const srv = host(sim, 'srv', sw.attach(), A, 1);
    const cli = host(sim, 'cli', sw.attach(), undefined, 2);
    const gotSrv: string[] = [], gotCli: string[] = [];
    srv.registerProtocol(17, (d) => gotSrv.push(`${d.src}>${d.dst} ${d.broadcast} ${d.payload.length}`));
    cli.registerProtocol(17, (d) => gotCli.push(`${d.src}>${d.dst} ${d.broadcast} ${d.payload.length}`));
    cli.sendIpv4({ dst: '255.255.255.255', protocol: 17, payload: new Uint8Array(8) });
    sim.runUntilIdle();
    assert.deepEqual(gotSrv, [`0>${0xffffffff} true 8`]);
    // Unicast to the address it will get reaches the unconfigured interface too (RFC 2131 §4.1).
    srv.network.neighbourTable();
    srv.sendIpv4({ dst: '198.18.0.50', protocol: 17, payload: [new Uint8Array(4), new Uint8Array(4)], nif: srv.interfaces[0] });
    sim.runUntilIdle({ maxTime: 10_000_000 });
    // No ARP answer from an unconfigured host: the datagram waits, then fails.
    assert.deepEqual(gotCli, []);
    cli.configureInterface(cli.interfaces[0]!, { addr: '198.18.0.50', prefixLen: 24 });
    cli.setDefaultRoute(A);
    sim.runUntilIdle({ maxTime: 1000 }); // the gratuitous ARP reaches srv: its FAILED entry learns the MAC
    assert.equal(srv.network.neighbourTable()[0]!.state, 'STALE');
    srv.sendIpv4({ dst: '198.18.0.50', protocol: 17, payload: new Uint8Array(3) });
    srv.sendIpv4({ dst: '198.18.0.255', protocol: 17, payload: new Uint8Array(5) });
    sim.runUntilIdle({ maxTime: 10_000_000 });
    assert.deepEqual(gotCli, [`${ipOf(A)}>${ipOf('198.18.0.50')} false 3`, `${ipOf(A)}>${ipOf('198.18.0.255')} true 5`]);
    // Off-link destinations go through the gateway's MAC.
    cli.sendIpv4({ dst: '203.0.113.5', protocol: 17, payload: new Uint8Array(2) });
    sim.runUntilIdle({ maxTime: 10_000_000 });
    assert.deepEqual(cli.network.neighbourTable().map((r) => r.addr), [A]);
  });

  test('the neighbour entry goes REACHABLE → STALE, then DELAY → PROBE → REACHABLE on reuse (unicast probe)', () => {
    const sim = new Simulation({ seed: 11 });
    const [l1, l2] = createEthernetPair(sim, { delay: 10 });
    const a = host(sim, 'a', l1, A, 1);
    const b = host(sim, 'b', l2, B, 2);
    const got: number[] = [];
    b.registerProtocol(253, () => got.push(sim.now()));
    a.sendIpv4({ dst: B, protocol: 253, payload: new Uint8Array(1) });
    sim.runUntilIdle();
    assert.equal(a.network.neighbourTable()[0]!.state, 'STALE');
    const events: TraceEvent[] = [];
    a.addTraceListener((e) => events.push(e));
    const t0 = sim.now();
    a.sendIpv4({ dst: B, protocol: 253, payload: new Uint8Array(1) });
    sim.runUntilIdle();
    const path = events.filter((e) => e.type === 'neigh').map((e) => e.type === 'neigh' ? `${e.to}@${(e.t - t0) / 1e6}` : '');
    assert.deepEqual(path.slice(0, 3), ['DELAY@0', 'PROBE@5', 'REACHABLE@5.00002']);
    const probe = events.find((e) => e.type === 'arp' && e.dir === 'out');
    assert.ok(probe !== undefined && probe.type === 'arp' && probe.dst === formatMac(localMac(2)), 'the probe is unicast');
    assert.equal(got.length, 2);
  });
});

describe('Ethernet capture', () => {
  test('a simulated session captured as LINKTYPE_ETHERNET decodes in tshark with no malformed frame', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { TraceRecorder } = await import('../../src/trace/recorder.js');
    const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).error === undefined;
    if (!hasTshark) {
      assert.ok(!process.env.CI, 'tshark is required when CI is set');
      return;
    }
    const sim = new Simulation({ seed: 5 });
    const [l1, l2] = createEthernetPair(sim, { delay: 100 });
    const rec = new TraceRecorder();
    rec.capturePackets(l1, 1).capturePackets(l2, 1);
    const a = host(sim, 'a', l1, A, 1);
    const b = host(sim, 'b', l2, B, 2);
    serveEcho(b, 7);
    const c = connectAndSend(sim, a, B, 7, 'y'.repeat(3000));
    sim.runUntil(() => c.got().length >= 3000, { maxTime: 10_000_000 });
    a.sendIpv4({ dst: '198.18.0.255', protocol: 17, payload: Uint8Array.of(0, 9, 0, 9, 0, 8, 0, 0) });
    sim.runUntilIdle({ maxTime: 1_000_000 });
    const dir = mkdtempSync(join(tmpdir(), 'synack-13-eth-'));
    try {
      const f = join(dir, 'eth.pcap');
      writeFileSync(f, rec.pcap());
      const r = spawnSync('tshark', ['-r', f, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|',
        '-e', 'eth.type', '-e', 'arp.opcode', '-e', '_ws.malformed', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => l.split('|'));
      assert.ok(rows.length > 10);
      assert.deepEqual(rows.filter((x) => x[2] !== '' || x[3] === '0' || x[4] === '0'), []);
      assert.ok(rows.some((x) => x[1] === '1') && rows.some((x) => x[1] === '2'), 'ARP request and reply decoded');
      assert.ok(rows.some((x) => x[0] === '0x0800'), 'IPv4 decoded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
