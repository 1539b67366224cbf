// DHCP (RFC 2131/2132) in virtual time over simulated Ethernet: DORA, renewal at T1,
// rebinding at T2 and expiry, NAK and restart, static leases, retransmission backoff; and the
// client state machine alone with a fake transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { createEthernetPair } from '../../src/sim/ethernet.js';
import { Stack } from '../../src/stack/stack.js';
import { localMac } from '../../src/wire/ethernet.js';
import { DhcpServer } from '../../src/dhcp/server.js';
import { DhcpClient } from '../../src/dhcp/stack-client.js';
import { DhcpClientMachine, type DhcpLease } from '../../src/dhcp/client.js';
import { DnsServer } from '../../src/dns/server.js';
import { nameLookupOf } from '../../src/dns/names.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import {
  parseDhcp, emitDhcp, messageType, optU32, optAddrs, DHCPOFFER, DHCPACK, DHCPNAK, DHCPDISCOVER, DHCPREQUEST, BOOTREPLY,
  OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_LEASE_TIME, OPT_REQUESTED_IP, u32Bytes,
} from '../../src/dhcp/wire.js';
import { formatIpv4Address as fmt, parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { formatMac } from '../../src/dhcp/mac.js';

const ip = (s: string) => parseIpv4Address(s)!;
const S = 1_000_000;

function world(o: { leaseTime?: number; loss?: number; static?: Record<string, string>; seed?: number } = {}) {
  const sim = new Simulation({ seed: o.seed ?? 5 });
  const [l1, l2] = createEthernetPair(sim, { delay: 500 });
  const rs = sim.rng.fork('s'), rc = sim.rng.fork('c');
  const server = new Stack({ clock: sim.clock, random: (n) => rs.bytes(n) });
  const client = new Stack({ clock: sim.clock, random: (n) => rc.bytes(n) });
  server.addEthernetInterface({ link: l1, mac: localMac(1), addr: '198.18.0.1', prefixLen: 24 });
  const cif = client.addEthernetInterface({ link: l2, mac: localMac(2) });
  sim.add(server); sim.add(client);
  const rec = new TraceRecorder().attach(server).attach(client);
  const dhcpd = new DhcpServer(server, {
    pool: { first: '198.18.0.100', last: '198.18.0.102' }, dns: ['198.18.0.1'], domain: 'synack.test', mtu: 1500,
    leaseTime: o.leaseTime ?? 600, static: o.static,
  });
  const dns = new DnsServer(server, { hosts: { 'gw.synack.test': '198.18.0.1' } });
  const rnd = sim.rng.fork('dhcp');
  const dhcp = new DhcpClient(client, { nif: cif, hostname: 'guest', random: () => rnd.float() });
  return { sim, server, client, cif, dhcpd, dhcp, dns, rec };
}

function clientStates(rec: TraceRecorder): string[] {
  return rec.events.filter((e) => e.type === 'dhcp' && e.kind === 'state').map((e) => (e as { to: string }).to);
}
function messages(rec: TraceRecorder, role: 'client' | 'server', dir: 'in' | 'out'): string[] {
  return rec.events.filter((e) => e.type === 'dhcp' && e.kind === 'message' && e.role === role && e.dir === dir).map((e) => (e as { msg: string }).msg);
}

test('DORA: the client gets an address from the pool, the mask, router, DNS, domain; the interface and default route are set', async () => {
  const { sim, client, cif, dhcp, dhcpd, rec } = world();
  dhcp.start();
  await sim.runUntilAsync(() => dhcp.state === 'BOUND', { maxTime: 30 * S });
  assert.equal(dhcp.state, 'BOUND');
  const l = dhcp.lease!;
  assert.equal(fmt(l.addr), '198.18.0.100');
  assert.equal(l.prefixLen, 24);
  assert.deepEqual(l.routers.map(fmt), ['198.18.0.1']);
  assert.deepEqual(l.dns.map(fmt), ['198.18.0.1']);
  assert.equal(l.domain, 'synack.test');
  assert.equal(l.mtu, 1500);
  assert.equal(l.leaseTime, 600);
  assert.equal(fmt(cif.addr), '198.18.0.100');
  assert.equal(fmt(client.network.defaultRoute()!.gateway), '198.18.0.1');
  assert.deepEqual(clientStates(rec), ['INIT', 'SELECTING', 'REQUESTING', 'BOUND']);
  assert.deepEqual(messages(rec, 'client', 'out'), ['DISCOVER', 'REQUEST']);
  assert.deepEqual(messages(rec, 'server', 'out'), ['OFFER', 'ACK']);
  const lease = dhcpd.leaseOf(formatMac(localMac(2)))!;
  assert.equal(lease.state, 'bound');
  assert.equal(lease.hostname, 'guest');
  // The resolver for the lease's DNS server is installed and resolves through the server's DNS.
  const names = nameLookupOf(client)!;
  const got = await new Promise<string>((res) => { names('gw.synack.test', (e, a) => res(e ?? fmt(a[0]!))); void sim.runUntilAsync(() => false, { maxTime: 5 * S }); });
  assert.equal(got, '198.18.0.1');
});

test('renewal at T1 (unicast REQUEST → ACK, same address, lease extended); server gone: REBINDING at T2, then expiry → INIT and unconfigured', async () => {
  const { sim, cif, dhcp, dhcpd, rec } = world({ leaseTime: 100 });
  dhcp.start();
  await sim.runUntilAsync(() => dhcp.state === 'BOUND', { maxTime: 30 * S });
  const first = { ...dhcp.lease! };
  await sim.runUntilAsync(() => dhcp.lease!.obtained > first.obtained, { maxTime: 200 * S });
  const second = dhcp.lease!;
  assert.equal(second.addr, first.addr);
  assert.equal(second.obtained - first.obtained, 50 * S, 'renewed at T1 = lease/2');
  assert.deepEqual(clientStates(rec).slice(3), ['BOUND', 'RENEWING', 'BOUND']);
  assert.deepEqual(messages(rec, 'client', 'out'), ['DISCOVER', 'REQUEST', 'REQUEST']);
  // Now the server stops answering.
  dhcpd.close();
  await sim.runUntilAsync(() => dhcp.state === 'INIT' || dhcp.state === 'SELECTING', { maxTime: 200 * S });
  const tail = clientStates(rec).slice(6);
  assert.deepEqual(tail.slice(0, 3), ['RENEWING', 'REBINDING', 'INIT']);
  assert.equal(cif.addr, 0, 'the address is removed when the lease expires');
  const t = rec.events.filter((e) => e.type === 'dhcp' && e.kind === 'state');
  const at = (to: string) => t.find((e) => (e as { to: string }).to === to && e.t > second.obtained)!.t;
  assert.equal(at('RENEWING') - second.obtained, 50 * S);
  assert.equal(at('REBINDING') - second.obtained, 87 * S, 'T2 = floor(0.875 × 100 s) from the server');
  assert.equal(at('INIT') - second.obtained, 100 * S);
});

test('the server hands the same address back to the same client, static leases by MAC, and a full pool offers nothing', async () => {
  const { sim, dhcp, dhcpd } = world({ static: { [formatMac(localMac(2))]: '198.18.0.50' } });
  dhcp.start();
  await sim.runUntilAsync(() => dhcp.state === 'BOUND', { maxTime: 30 * S });
  assert.equal(fmt(dhcp.lease!.addr), '198.18.0.50');
  assert.ok(dhcpd.leaseOf(formatMac(localMac(2)))!.static);
  // Three other clients fill the pool of three; a fourth gets nothing.
  const got: string[] = [];
  for (let i = 3; i <= 6; i++) {
    const [x, y] = createEthernetPair(sim, { delay: 100 });
    void x; void y;
  }
  // Drive the server directly with DISCOVERs from four MACs (no link needed: inject as datagrams).
  for (let i = 3; i <= 6; i++) {
    const disc = emitDhcp({ op: 1, xid: i, chaddr: localMac(i), flags: 0x8000, options: [[OPT_MESSAGE_TYPE, new Uint8Array([DHCPDISCOVER])]] });
    const offer = await offerFor(sim, dhcpd, disc);
    got.push(offer === null ? 'none' : fmt(offer));
  }
  assert.deepEqual(got, ['198.18.0.100', '198.18.0.101', '198.18.0.102', 'none']);
  assert.equal(dhcpd.stats['pool exhausted'], 1);
});

/** Feed a DISCOVER into the server's socket and read the OFFER's yiaddr off the wire. */
async function offerFor(sim: Simulation, dhcpd: DhcpServer, disc: Uint8Array): Promise<number | null> {
  const before = dhcpd.leases().filter((l) => l.state === 'offered').length;
  const sock = (dhcpd as unknown as { socket: { enqueue(m: unknown): boolean } }).socket;
  sock.enqueue({ data: disc, srcAddr: 0, srcPort: 68, dstAddr: 0xffffffff, nif: null, t: sim.now() });
  await sim.runForAsync(1000);
  const offered = dhcpd.leases().filter((l) => l.state === 'offered');
  if (offered.length === before) return null;
  return offered.find((l) => l.mac === formatMac(disc.subarray(28, 34)))!.addr;
}

test('INIT-REBOOT with an address of another network gets a NAK, and the client starts over with DORA', async () => {
  const w = world();
  w.dhcp.close();
  const rnd = w.sim.rng.fork('reboot');
  const c = new DhcpClient(w.client, { nif: w.cif, previousAddr: ip('10.9.9.9'), random: () => rnd.float() });
  c.start();
  await w.sim.runUntilAsync(() => c.state === 'BOUND', { maxTime: 60 * S });
  assert.equal(fmt(c.lease!.addr), '198.18.0.100');
  assert.deepEqual(clientStates(w.rec).slice(-6), ['INIT-REBOOT', 'REBOOTING', 'INIT', 'SELECTING', 'REQUESTING', 'BOUND']);
  assert.ok(messages(w.rec, 'server', 'out').includes('NAK'));
});

test('retransmission backoff without a server: 4, 8, 16, 32, 64, 64 s, each within ±1 s (RFC 2131 §4.1)', () => {
  const sent: number[] = [];
  let now = 0;
  let r = 0.37;
  const m = new DhcpClientMachine({ mac: localMac(9), random: () => { r = (r * 9301 + 49297) % 233280 / 233280; return r; }, startDelay: false }, {
    send: () => { sent.push(now); }, configure: () => {},
  });
  m.start(0);
  for (let i = 0; i < 7; i++) { now = m.nextDeadline(); m.poll(now); }
  const gaps = sent.slice(1).map((t, i) => (t - sent[i]!) / S);
  const want = [4, 8, 16, 32, 64, 64];
  assert.equal(gaps.length, 6);
  gaps.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1, `gap ${i}: ${g} s vs ${want[i]} s`));
  assert.equal(m.state, 'SELECTING');
});

test('client machine with a fake transport: ignores replies with another xid or chaddr, takes the first OFFER, honours T1/T2 from the ACK', () => {
  const out: Array<{ type: number | undefined; dst: number; src: number; msg: ReturnType<typeof parseDhcp> }> = [];
  const leases: Array<DhcpLease | null> = [];
  let x = 0.5;
  const m = new DhcpClientMachine({ mac: localMac(7), random: () => (x = (x + 0.318) % 1), startDelay: false }, {
    send: (b, dst, src) => { const p = parseDhcp(b); out.push({ type: p.ok ? messageType(p.value) : undefined, dst, src, msg: p }); },
    configure: (l) => leases.push(l),
  });
  m.start(0);
  m.poll(0);
  assert.equal(out[0]!.type, DHCPDISCOVER);
  assert.equal(out[0]!.dst, 0xffffffff);
  assert.equal(out[0]!.src, 0);
  const d = out[0]!.msg; assert.ok(d.ok);
  const reply = (type: number, xid: number, mac: Uint8Array, extra: Array<[number, Uint8Array]> = []) => emitDhcp({
    op: BOOTREPLY, xid, yiaddr: ip('198.18.0.77'), chaddr: mac,
    options: [[OPT_MESSAGE_TYPE, new Uint8Array([type])], [OPT_SERVER_ID, u32Bytes(ip('198.18.0.1'))], [OPT_LEASE_TIME, u32Bytes(1000)], ...extra],
  });
  m.receive(reply(DHCPOFFER, d.value.xid + 1, localMac(7)), 10);
  m.receive(reply(DHCPOFFER, d.value.xid, localMac(8)), 10);
  assert.equal(m.state, 'SELECTING');
  m.receive(reply(DHCPOFFER, d.value.xid, localMac(7)), 20);
  assert.equal(m.state, 'REQUESTING');
  const req = out[1]!.msg; assert.ok(req.ok);
  assert.equal(messageType(req.value), DHCPREQUEST);
  assert.equal(optU32(req.value, OPT_REQUESTED_IP), ip('198.18.0.77'));
  assert.equal(optU32(req.value, OPT_SERVER_ID), ip('198.18.0.1'));
  m.receive(reply(DHCPACK, d.value.xid, localMac(7), [[58, u32Bytes(100)], [59, u32Bytes(200)]]), 30);
  assert.equal(m.state, 'BOUND');
  assert.equal(leases[0]!.t1, 20 + 100 * S, 'T1 counted from the REQUEST');
  assert.equal(m.nextDeadline(), 20 + 100 * S);
  m.poll(20 + 100 * S);
  assert.equal(m.state, 'RENEWING');
  const renew = out[2]!;
  assert.equal(renew.dst, ip('198.18.0.1'), 'unicast to the server');
  assert.equal(renew.src, ip('198.18.0.77'));
  assert.ok(renew.msg.ok && renew.msg.value.ciaddr === ip('198.18.0.77') && optU32(renew.msg.value, OPT_SERVER_ID) === undefined);
  m.receive(emitDhcp({ op: BOOTREPLY, xid: renew.msg.value.xid, chaddr: localMac(7), options: [[OPT_MESSAGE_TYPE, new Uint8Array([DHCPNAK])]] }), 20 + 101 * S);
  assert.equal(m.state, 'INIT');
  assert.equal(leases.at(-1), null, 'NAK removes the configuration');
  void optAddrs; void DHCPNAK;
});
