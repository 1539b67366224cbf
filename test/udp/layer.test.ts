// UDP in the stack (virtual time): demultiplexing, checksums, bounded receive queues,
// ICMP port unreachable with Linux's rate limits, ICMP errors to connected sockets only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { udpOf } from '../../src/udp/layer.js';
import { buildUdp, parseUdp } from '../../src/wire/udp.js';
import { emitIpv4Header, parseIpv4, IPPROTO_UDP, IPPROTO_ICMP } from '../../src/wire/ipv4.js';
import { parseIcmp, isIcmpDestUnreachable } from '../../src/wire/icmp.js';
import { StackError } from '../../src/stack/errors.js';

const A = 0xc6120001, B = 0xc6120002;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function setup(opts: Parameters<typeof twoHosts>[1] = {}) {
  const sim = new Simulation({ seed: 3 });
  const h = twoHosts(sim, { delay: 1000, ...opts });
  const wire: Uint8Array[] = [];
  h.rawB.observe((ev) => { if (ev.kind === 'send') wire.push(ev.packet); });
  return { sim, ...h, ua: udpOf(h.a), ub: udpOf(h.b), wire };
}

function ipPacket(src: number, dst: number, proto: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  emitIpv4Header({ ttl: 64, protocol: proto, src, dst }, payload.length, p, 0);
  p.set(payload, 20);
  return p;
}

test('a datagram goes from a socket to a socket, with the checksum on the wire', () => {
  const { sim, ua, ub, rawA } = setup();
  const seen: Uint8Array[] = [];
  rawA.observe((ev) => { if (ev.kind === 'send') seen.push(ev.packet); });
  const srv = ub.createSocket(); srv.bind(0, 5353);
  const cli = ua.createSocket();
  assert.equal(cli.send(enc('hello'), B, 5353), 5);
  sim.runUntilIdle();
  const m = srv.recv();
  assert.ok(m);
  assert.equal(dec(m.data), 'hello');
  assert.equal(m.srcAddr, A);
  assert.equal(m.srcPort, cli.localPort);
  assert.ok(cli.localPort >= 32768 && cli.localPort <= 60999, 'autobound to an ephemeral port');
  const ip = parseIpv4(seen[0]!);
  assert.ok(ip.ok);
  const u = parseUdp(ip.value.payload, { src: A, dst: B });
  assert.ok(u.ok && u.value.checksum !== 0, 'checksum present and valid');
});

test('zero checksum accepted, wrong checksum dropped and counted (RFC 1122 §4.1.3.4)', () => {
  const { b, ub } = setup();
  const srv = ub.createSocket(); srv.bind(0, 7);
  const d = buildUdp(1000, 7, enc('zero'), A, B);
  d[6] = 0; d[7] = 0;
  b.input(ipPacket(A, B, IPPROTO_UDP, d));
  assert.equal(dec(srv.recv()!.data), 'zero');
  const bad = buildUdp(1000, 7, enc('bad'), A, B);
  bad[8] ^= 0xff;
  b.input(ipPacket(A, B, IPPROTO_UDP, bad));
  assert.equal(srv.recv(), null);
  assert.equal(b.counters.UdpInCsumErrors, 1);
  assert.equal(b.counters.UdpInErrors, 1);
  const short = buildUdp(1000, 7, enc('x'), A, B);
  short[5] = 4; // length < 8
  b.input(ipPacket(A, B, IPPROTO_UDP, short));
  assert.equal(b.counters.UdpInErrors, 2);
});

test('closed port: ICMP port unreachable quoting the datagram, rate-limited like Linux (burst 6, then 1/s per host)', () => {
  const { sim, a, b, ua, wire } = setup();
  const cli = ua.createSocket();
  for (let i = 0; i < 20; i++) cli.send(enc('x' + i), B, 9999);
  sim.runFor(500_000);
  const icmps = () => wire.map((p) => parseIpv4(p)).filter((r) => r.ok && r.value.protocol === IPPROTO_ICMP);
  assert.equal(icmps().length, 6);
  assert.equal(b.counters.UdpNoPorts, 20);
  assert.equal(b.counters.IcmpOutRateLimitHost, 14);
  const r = icmps()[0]!;
  assert.ok(r.ok);
  const m = parseIcmp(r.value.payload);
  assert.ok(m.ok && isIcmpDestUnreachable(m.value) && m.value.code === 3);
  sim.runFor(1_000_000);
  for (let i = 0; i < 5; i++) cli.send(enc('y'), B, 9999);
  sim.runFor(10_000);
  assert.equal(icmps().length, 7, 'one token per second');
  assert.equal(a.counters.IcmpInDestUnreachs, 7);
});

test('ICMP errors: a connected socket gets ECONNREFUSED, an unconnected one does not (Linux without IP_RECVERR)', () => {
  const { sim, ua } = setup();
  const un = ua.createSocket();
  const errs: string[] = [];
  un.user = { onReadable() {}, onError: (c) => errs.push('un ' + c) };
  un.send(enc('?'), B, 9998);
  const co = ua.createSocket();
  co.user = { onReadable() {}, onError: (c) => errs.push('co ' + c) };
  co.connect(B, 9997);
  co.send(enc('?'));
  sim.runUntilIdle();
  assert.deepEqual(errs, ['co ECONNREFUSED']);
  assert.equal(un.pendingError, null);
  // The pending error fails the next send once (sock_error), then sends work again.
  assert.throws(() => co.send(enc('again')), (e: StackError) => e.code === 'ECONNREFUSED' && e.syscall === 'send');
  assert.equal(co.send(enc('again')), 5);
});

test('receive queue bounded by SO_RCVBUF: drops counted (UdpRcvbufErrors, socket drops)', () => {
  const { sim, b, ua, ub } = setup();
  const srv = ub.createSocket(); srv.bind(0, 7);
  srv.setRecvBufferSize(4096); // → 8192 like Linux
  assert.equal(srv.rcvBuf, 8192);
  const cli = ua.createSocket();
  for (let i = 0; i < 50; i++) cli.send(new Uint8Array(1000), B, 7);
  sim.runUntilIdle();
  // Accepted while rmem <= rcvbuf: 1768 bytes charged each → 5 fit (8840 > 8192 after the 5th).
  assert.equal(srv.queued, 5);
  assert.equal(srv.drops, 45);
  assert.equal(b.counters.UdpRcvbufErrors, 45);
  while (srv.recv() !== null) { /* drain */ }
  assert.equal(srv.rmem, 0);
  cli.send(new Uint8Array(10), B, 7);
  sim.runUntilIdle();
  assert.equal(srv.queued, 1);
});

test('demultiplexing: connected beats wildcard, exact address beats wildcard, EADDRINUSE unless both reuse', () => {
  const { sim, ua, ub } = setup();
  const any = ub.createSocket(); any.bind(0, 53);
  assert.throws(() => ub.createSocket().bind(B, 53), (e: StackError) => e.code === 'EADDRINUSE');
  assert.throws(() => ub.createSocket().bind(0xc6120063, 54), (e: StackError) => e.code === 'EADDRNOTAVAIL');
  const r1 = ub.createSocket(); r1.reuseAddr = true; r1.bind(0, 60);
  const r2 = ub.createSocket(); r2.reuseAddr = true; r2.bind(0, 60);
  const c1 = ua.createSocket(); c1.bind(0, 4000);
  const c2 = ua.createSocket(); c2.bind(0, 4001);
  const conn = ub.createSocket(); conn.reuseAddr = true; conn.bind(0, 60); conn.connect(A, 4001);
  c1.send(enc('1'), B, 60);
  c2.send(enc('2'), B, 60);
  c1.send(enc('3'), B, 53);
  sim.runUntilIdle();
  assert.equal(dec(r2.recv()!.data), '1', 'the last bound of the reuse group');
  assert.equal(r1.recv(), null);
  assert.equal(dec(conn.recv()!.data), '2', 'the connected socket for its peer');
  assert.equal(dec(any.recv()!.data), '3');
});

test('broadcast: EACCES without SO_BROADCAST; received by every matching socket, never answered with ICMP', () => {
  const { sim, b, ua, ub, wire } = setup();
  const cli = ua.createSocket();
  assert.throws(() => cli.send(enc('b'), 0xffffffff, 67), (e: StackError) => e.code === 'EACCES');
  assert.throws(() => cli.send(enc('b'), 0xc61200ff, 67), (e: StackError) => e.code === 'EACCES', 'directed broadcast too');
  cli.broadcast = true;
  const s1 = ub.createSocket(); s1.reuseAddr = true; s1.bind(0, 67);
  const s2 = ub.createSocket(); s2.reuseAddr = true; s2.bind(0, 67);
  cli.send(enc('all'), 0xffffffff, 67);
  cli.send(enc('nobody'), 0xffffffff, 68);
  sim.runUntilIdle();
  assert.equal(dec(s1.recv()!.data), 'all');
  assert.equal(dec(s2.recv()!.data), 'all');
  assert.equal(s1.recv(), null);
  assert.equal(b.counters.IcmpOutDestUnreachs, 0);
  assert.equal(wire.length, 0);
});

test('a DHCP-style datagram from 0.0.0.0 to 255.255.255.255 is delivered; TCP to broadcast is not', () => {
  const { b, ub } = setup();
  const s = ub.createSocket(); s.bind(0, 67);
  b.input(ipPacket(0, 0xffffffff, IPPROTO_UDP, buildUdp(68, 67, enc('discover'), 0, 0xffffffff)));
  const m = s.recv();
  assert.ok(m);
  assert.equal(m.srcAddr, 0);
  assert.equal(m.dstAddr, 0xffffffff);
  assert.equal(dec(m.data), 'discover');
  const tcp = new Uint8Array(20); tcp[12] = 0x50; tcp[13] = 0x02;
  const before = b.counters.IpInAddrErrors;
  b.input(ipPacket(A, 0xffffffff, 6, tcp));
  assert.equal(b.counters.IpInAddrErrors, before + 1);
  assert.equal(b.connectionCount, 0);
});

test('EMSGSIZE above the MTU (no fragmentation) and above 65507; ttl and tos on the wire', () => {
  const { ua, rawA } = setup({ mtu: 1500 });
  const out: Uint8Array[] = [];
  rawA.observe((ev) => { if (ev.kind === 'send') out.push(ev.packet); });
  const s = ua.createSocket();
  assert.throws(() => s.send(new Uint8Array(1473), B, 7), (e: StackError) => e.code === 'EMSGSIZE');
  assert.equal(s.send(new Uint8Array(1472), B, 7), 1472);
  assert.throws(() => s.send(new Uint8Array(65508), B, 7), (e: StackError) => e.code === 'EMSGSIZE');
  s.ttl = 3; s.tos = 0x10;
  s.send(enc('t'), B, 7);
  const ip = parseIpv4(out[1]!);
  assert.ok(ip.ok);
  assert.equal(ip.value.ttl, 3);
  assert.equal(ip.value.dscp, 4);
});
