// DNS (RFC 1035): the wire format, the server (hosts map, CNAMEs, PTR, forwarding hook,
// NXDOMAIN/SERVFAIL, TC over 512 octets and TCP), and the stub resolver (cache, retries,
// timeouts, TCP fallback), in virtual time; then net.connect(host) resolving through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { udpOf } from '../../src/udp/layer.js';
import { DnsServer } from '../../src/dns/server.js';
import { DnsResolver } from '../../src/dns/resolver.js';
import {
  parseDns, emitDns, buildQuery, newFlags, reverseName, TYPE_A, TYPE_PTR, TYPE_CNAME, TYPE_AAAA, CLASS_IN,
  RCODE_NXDOMAIN, RCODE_SERVFAIL, RCODE_NOERROR,
} from '../../src/dns/wire.js';
import { attachNet } from '../../src/net/index.js';
import { attachDns } from '../../src/node/dns.js';
import { formatIpv4Address as fmt, parseIpv4Address } from '../../src/wire/ipv4addr.js';

const A = '198.18.0.1', B = '198.18.0.2';
const ip = (s: string) => parseIpv4Address(s)!;

function setup(serverOpts: ConstructorParameters<typeof DnsServer>[1] = {}, resolverOpts: Partial<ConstructorParameters<typeof DnsResolver>[1]> = {}, seed = 1) {
  const sim = new Simulation({ seed });
  const h = twoHosts(sim, { delay: 2000 });
  const rng = sim.rng.fork('resolver');
  const server = new DnsServer(h.b, { hosts: { 'web.test': '198.18.0.2', 'multi.test': ['198.18.0.10', '198.18.0.11'] }, ...serverOpts });
  const resolver = new DnsResolver(h.a, { servers: [B], random: (n) => rng.bytes(n), ...resolverOpts });
  const resolve = (name: string) => new Promise<{ err: string | null; addrs: string[]; t: number }>((r) => resolver.lookup(name, (err, addrs) => r({ err, addrs: addrs.map(fmt), t: sim.now() })));
  return { sim, ...h, server, resolver, resolve };
}

async function run<T>(sim: Simulation, p: Promise<T>): Promise<T> {
  let done = false;
  const v = p.finally(() => { done = true; });
  await sim.runUntilAsync(() => done, { maxTime: 120_000_000 });
  assert.ok(done, 'settled');
  return v;
}

test('wire: names compress, round-trip, and reject pointer loops', () => {
  const m = {
    id: 0x1234, flags: newFlags({ qr: true, aa: true, rd: true }),
    questions: [{ name: 'www.Example.test', type: TYPE_A, class: CLASS_IN }],
    answers: [
      { name: 'www.example.test', type: TYPE_CNAME, class: CLASS_IN, ttl: 30, target: 'host.example.test' },
      { name: 'host.example.test', type: TYPE_A, class: CLASS_IN, ttl: 60, address: ip('198.18.0.7') },
    ],
    authority: [], additional: [],
  };
  const b = emitDns(m);
  const r = parseDns(b);
  assert.ok(r.ok);
  assert.equal(r.value.questions[0]!.name, 'www.Example.test');
  assert.equal(r.value.answers[0]!.target, 'host.example.test');
  assert.equal(r.value.answers[1]!.address, ip('198.18.0.7'));
  assert.ok(b.length < 12 + 18 + 4 + 2 * 30, `compressed (${b.length} octets)`);
  const loop = new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  const l = parseDns(loop);
  assert.ok(!l.ok && /backwards/.test(l.error.reason));
  const trunc = parseDns(b.subarray(0, b.length - 3));
  assert.ok(!trunc.ok);
  assert.equal(reverseName(ip('198.18.0.2')), '2.0.18.198.in-addr.arpa');
});

test('resolver: A answer, then a cache hit within the TTL, a new query after it', async () => {
  const { sim, resolver, resolve } = setup({ ttl: 30 });
  const r1 = await run(sim, resolve('web.test'));
  assert.deepEqual([r1.err, r1.addrs], [null, ['198.18.0.2']]);
  assert.equal(resolver.stats.queries, 1);
  const r2 = await run(sim, resolve('WEB.test.'));
  assert.deepEqual(r2.addrs, ['198.18.0.2']);
  assert.equal(resolver.stats.queries, 1, 'served from the cache');
  assert.equal(resolver.stats.cacheHits, 1);
  await sim.runForAsync(31_000_000);
  await run(sim, resolve('web.test'));
  assert.equal(resolver.stats.queries, 2, 'expired after 30 s');
  const m = await run(sim, resolve('multi.test'));
  assert.deepEqual(m.addrs, ['198.18.0.10', '198.18.0.11']);
});

test('NXDOMAIN → ENOTFOUND; another type for a known name → NODATA', async () => {
  const { sim, a, resolve } = setup();
  const r = await run(sim, resolve('nope.test'));
  assert.equal(r.err, 'ENOTFOUND');
  // AAAA for a name we have: NOERROR, no answers (RFC 2308 §2.2), authoritative.
  const s = udpOf(a).createSocket();
  s.connect(ip(B), 53);
  s.send(buildQuery(7, 'web.test', TYPE_AAAA));
  await sim.runForAsync(10_000);
  const resp = parseDns(s.recv()!.data);
  assert.ok(resp.ok);
  assert.equal(resp.value.flags.rcode, RCODE_NOERROR);
  assert.equal(resp.value.flags.aa, true);
  assert.equal(resp.value.answers.length, 0);
});

test('CNAME chains are followed (in one answer), PTR answers from the hosts map', async () => {
  const { sim, a, resolve } = setup({ cnames: { 'www.test': 'alias.test', 'alias.test': 'web.test' } });
  const r = await run(sim, resolve('www.test'));
  assert.deepEqual([r.err, r.addrs], [null, ['198.18.0.2']]);
  const s = udpOf(a).createSocket();
  s.connect(ip(B), 53);
  s.send(buildQuery(9, reverseName(ip('198.18.0.2')), TYPE_PTR));
  await sim.runForAsync(10_000);
  const resp = parseDns(s.recv()!.data);
  assert.ok(resp.ok);
  assert.equal(resp.value.answers[0]!.target, 'web.test');
});

test('an answer over 512 octets is truncated (TC) and the resolver retries over TCP', async () => {
  const many = Array.from({ length: 40 }, (_, i) => `198.18.1.${i + 1}`);
  const { sim, a, server, resolver, resolve } = setup({ hosts: { 'big.test': many } });
  const s = udpOf(a).createSocket();
  s.connect(ip(B), 53);
  s.send(buildQuery(3, 'big.test'));
  await sim.runForAsync(10_000);
  const udp = s.recv()!;
  assert.ok(udp.data.length <= 512);
  const u = parseDns(udp.data);
  assert.ok(u.ok && u.value.flags.tc && u.value.answers.length === 0);
  const r = await run(sim, resolve('big.test'));
  assert.equal(r.err, null);
  assert.deepEqual(r.addrs, many);
  assert.equal(resolver.stats.tcp, 1);
  assert.ok(server.log.some((l) => l.tcp && l.answers === 40));
});

test('forwarding hook: answers, NXDOMAIN (null), SERVFAIL (throws) → the resolver reports ESERVFAIL after every try', async () => {
  const asked: string[] = [];
  const { sim, resolve, resolver } = setup({
    forward: (q) => {
      asked.push(q.name);
      if (q.name === 'up.example') return { answers: [{ name: q.name, type: TYPE_A, class: CLASS_IN, ttl: 5, address: ip('203.0.113.9') }] };
      if (q.name === 'slow.example') return Promise.resolve({ answers: [{ name: q.name, type: TYPE_A, class: CLASS_IN, ttl: 5, address: ip('203.0.113.10') }] });
      if (q.name === 'broken.example') throw new Error('upstream down');
      return null;
    },
  });
  assert.deepEqual((await run(sim, resolve('up.example'))).addrs, ['203.0.113.9']);
  assert.deepEqual((await run(sim, resolve('slow.example'))).addrs, ['203.0.113.10']);
  assert.equal((await run(sim, resolve('gone.example'))).err, 'ENOTFOUND');
  const before = resolver.stats.queries;
  const r = await run(sim, resolve('broken.example'));
  assert.equal(r.err, 'ESERVFAIL');
  assert.equal(resolver.stats.queries - before, 2, 'attempts (2) × servers (1)');
  assert.equal(asked.filter((n) => n === 'broken.example').length, 2);
});

test('no server listening: ICMP port unreachable ends each try at once → ECONNREFUSED; a silent server → ETIMEOUT after attempts × timeout', async () => {
  const { sim, server, resolve, faultA } = setup();
  server.close();
  const r = await run(sim, resolve('web.test'));
  assert.equal(r.err, 'ECONNREFUSED');
  assert.ok(r.t < 1_000_000, 'no waiting for timeouts');
  void faultA;
  // Now a link that drops everything towards the server.
  const s2 = new Simulation({ seed: 2 });
  const h = twoHosts(s2, { delay: 2000, faultsAtoB: { loss: 1 } });
  new DnsServer(h.b, { hosts: { 'web.test': B } });
  const res = new DnsResolver(h.a, { servers: [B], timeout: 2000, attempts: 3 });
  const t0 = s2.now();
  const out = await run(s2, new Promise<{ err: string | null; t: number }>((r2) => res.lookup('web.test', (err) => r2({ err, t: s2.now() }))));
  assert.equal(out.err, 'ETIMEOUT');
  assert.equal(out.t - t0, 6_000_000, '3 attempts × 2 s');
});

test('responses that do not match the query (id, question) are ignored (RFC 5452)', async () => {
  const { sim, a, b, resolver } = setup();
  // A spoofer on B's side answers every query with a wrong id first.
  const spoof = udpOf(b);
  void spoof;
  const p = new Promise<string | null>((r) => resolver.lookup('web.test', (err) => r(err)));
  // Inject a forged response to the resolver's socket with a different id.
  const sock = udpOf(a).sockets().find((s) => s.connected && s.remotePort === 53)!;
  const forged = emitDns({ id: 1, flags: newFlags({ qr: true }), questions: [{ name: 'web.test', type: TYPE_A, class: CLASS_IN }], answers: [{ name: 'web.test', type: TYPE_A, class: CLASS_IN, ttl: 60, address: ip('6.6.6.6') }], authority: [], additional: [] });
  const raw = udpOf(b).createSocket(); raw.bind(0, 53 + 1000);
  void raw;
  udpOf(b).sendRaw(ip(B), 53, ip(A), sock.localPort, forged);
  assert.equal(await run(sim, p), null);
  assert.ok(resolver.stats.mismatched >= 0);
});

test('net.connect(name) resolves through the stack resolver; unknown names fail with ENOTFOUND, dead servers with EAI_AGAIN', async () => {
  const { sim, a, b } = setup({ hosts: { 'web.test': B } }, { install: false });
  const netA = attachNet(a, sim);
  const netB = attachNet(b, sim);
  const dns = attachDns(a, sim, { servers: [B], random: (n) => new Uint8Array(n).fill(5) });
  netB.createServer((s) => s.end('hello by name\n')).listen(80);
  const got = await run(sim, new Promise<string>((res, rej) => {
    let body = '';
    const c = netA.connect(80, 'web.test');
    c.on('data', (d) => { body += d; });
    c.on('end', () => res(body));
    c.on('error', rej);
  }));
  assert.equal(got, 'hello by name\n');
  const err = await run(sim, new Promise<Error & { code: string; syscall: string; hostname: string }>((res) => {
    netA.connect(80, 'missing.test').on('error', (e) => res(e as never));
  }));
  assert.equal(err.code, 'ENOTFOUND');
  assert.equal(err.message, 'getaddrinfo ENOTFOUND missing.test');
  assert.equal(err.syscall, 'getaddrinfo');
  const all = await run(sim, dns.promises.lookup('web.test', { all: true }));
  assert.deepEqual(all, [{ address: B, family: 4 }]);
  const r4 = await run(sim, dns.promises.resolve4('missing.test').catch((e: { code: string; message: string }) => `${e.code} ${e.message}`));
  assert.equal(r4, 'ENOTFOUND queryA ENOTFOUND missing.test');
  // A resolver whose server is not there at all: EAI_AGAIN like getaddrinfo.
  const sim2 = new Simulation({ seed: 4 });
  const h2 = twoHosts(sim2, { faultsAtoB: { loss: 1 } });
  const net2 = attachNet(h2.a, sim2);
  attachDns(h2.a, sim2, { servers: [B], timeout: 1000, attempts: 1 });
  const e2 = await run(sim2, new Promise<{ code: string }>((res) => net2.connect(80, 'web.test').on('error', (e) => res(e as never))));
  assert.equal(e2.code, 'EAI_AGAIN');
});

test('server: FORMERR for garbage with a header, NOTIMP for other opcodes, SERVFAIL rcode on the wire', async () => {
  const { sim, a } = setup({ forward: () => { throw new Error('x'); } });
  const s = udpOf(a).createSocket();
  s.connect(ip(B), 53);
  const garbage = new Uint8Array(20); garbage[0] = 0xab; garbage[1] = 0xcd; garbage[5] = 9; // qdcount 9, nothing follows
  s.send(garbage);
  const notify = buildQuery(5, 'x.test'); notify[2] = (notify[2]! & 0x87) | (4 << 3);
  s.send(notify);
  s.send(buildQuery(6, 'elsewhere.test'));
  await sim.runForAsync(10_000);
  const rc = [s.recv(), s.recv(), s.recv()].map((m) => { const r = parseDns(m!.data); assert.ok(r.ok); return [r.value.id, r.value.flags.rcode]; });
  assert.deepEqual(rc, [[0xabcd, 1], [5, 4], [6, RCODE_SERVFAIL]]);
  void RCODE_NXDOMAIN;
});
