// Conformance tests for the gaps closed after docs/conformance.md §7 was written: invalid
// remote and source addresses (RFC 9293 MUST-46, MUST-63), Diffserv (MUST-48, SHLD-21,
// SHLD-22), the initial window after a lost SYN or SYN-ACK (RFC 5681 §3.1), the user timeout
// replacing R2 (MUST-21), protocol unreachable (RFC 1122 §3.2.2.1). ICMP errors to TCP are in
// icmp-errors.test.ts. The harness (states/harness.ts) drives a real Stack with packets.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  fixture, finishAll, Harness, REMOTE_ADDR, LOCAL_ADDR, REMOTE_ISN, SERVER_PORT, CLIENT_PORT, ms, sec,
} from './states/harness.js';
import { ManualClock } from '../../src/time/clock.js';
import { Stack } from '../../src/stack/stack.js';
import { StackError } from '../../src/stack/errors.js';
import { emitIpv4Header, parseIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/ipv4.js';
import { emitTcp, TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { parseIcmp, parseIcmpQuote, isIcmpDestUnreachable } from '../../src/wire/icmp.js';
import { isBroadcastOrMulticast, isMulticast, parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { runScript } from '../../src/pkt/interpreter.js';
import type { PacketHandler } from '../../src/link/types.js';

afterEach(finishAll);

const addr = (s: string): number => parseIpv4Address(s)!;

/** Record every raw IPv4 packet the harness's link is asked to send (the harness still parses them). */
function captureRaw(h: Harness): Uint8Array[] {
  const raw: Uint8Array[] = [];
  const link = h.link as { send(p: Uint8Array): void };
  const orig = link.send.bind(link);
  link.send = (p: Uint8Array) => { raw.push(p); orig(p); };
  return raw;
}

/** The DSCP of a raw IPv4 packet (the upper 6 bits of the TOS byte, RFC 2474 §3). */
const dscpOf = (p: Uint8Array): number => p[1]! >>> 2;

function tcpPacket(src: number, dst: number, sport: number, dport: number, seq: number, flags: number, ack = 0): Uint8Array {
  const pkt = new Uint8Array(40);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src, dst }, 20, pkt, 0);
  emitTcp({ srcPort: sport, dstPort: dport, seq, ack, flags, window: 65535, options: [] }, null, src, dst, pkt, 20);
  return pkt;
}

describe('RFC 9293 MUST-46: an OPEN to an invalid remote address is an error', () => {
  test('isBroadcastOrMulticast: limited broadcast, 224.0.0.0/4, and the directed broadcast of a given prefix (none for /31, /32)', () => {
    const ifs = [{ addr: addr('10.0.0.1'), prefixLen: 24 }, { addr: addr('192.168.7.9'), prefixLen: 31 }];
    for (const a of ['255.255.255.255', '224.0.0.1', '239.255.255.250', '10.0.0.255']) assert.ok(isBroadcastOrMulticast(addr(a), ifs), a);
    for (const a of ['10.0.0.254', '10.0.1.255', '192.168.7.9', '192.168.7.8', '223.255.255.255', '240.0.0.1', '0.0.0.0']) {
      assert.ok(!isBroadcastOrMulticast(addr(a), ifs), a);
    }
    assert.ok(isMulticast(addr('224.0.0.0')) && isMulticast(addr('239.255.255.255')) && !isMulticast(addr('240.0.0.0')));
    assert.ok(!isBroadcastOrMulticast(addr('10.0.0.255')), 'no prefix given: a .255 address is a host');
  });

  test('MUST-46: connect() to 0.0.0.0, 255.255.255.255, a multicast group or a local directed broadcast fails with ENETUNREACH; nothing is sent', () => {
    const h = fixture('CLOSED');
    for (const a of ['0.0.0.0', '255.255.255.255', '224.0.0.1', '239.1.2.3', '10.0.0.255']) {
      assert.throws(() => h.stack.connect({ remoteAddr: a, remotePort: SERVER_PORT }), (e: unknown) => {
        assert.ok(e instanceof StackError, a);
        assert.equal(e.code, 'ENETUNREACH', a);
        assert.equal(e.errno, -101);
        assert.equal(e.syscall, 'connect');
        return true;
      });
    }
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
    // A host address of the same prefix, or a .255 address of another network, is a unicast peer.
    for (const a of ['10.0.0.254', '10.9.9.255']) {
      const t = h.stack.connect({ remoteAddr: a, remotePort: SERVER_PORT });
      t.openActive(h.now);
      h.expectOne({ flags: 'S' });
      t.abort(h.now);
    }
  });
});

describe('RFC 9293 MUST-63: segments from an invalid source address are ignored', () => {
  const martians = ['224.0.0.1', '239.1.2.3', '255.255.255.255', '10.0.0.255', '0.0.0.0'];

  test('MUST-63: a SYN from a martian source (multicast, limited or directed broadcast, 0.0.0.0) to a listener is dropped ("ip: martian source"): no SYN-ACK, no connection', () => {
    const h = fixture('LISTEN');
    for (const s of martians) h.stack.input(tcpPacket(addr(s), LOCAL_ADDR, CLIENT_PORT, SERVER_PORT, REMOTE_ISN, TCP_SYN));
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.synQueue.size, 0);
    assert.equal(h.stack.drops.get('ip: martian source'), martians.length);
  });

  test('MUST-63: segments from a martian source to a closed port get no RST (a SYN and an ACK)', () => {
    const h = fixture('CLOSED');
    for (const s of martians) {
      h.stack.input(tcpPacket(addr(s), LOCAL_ADDR, CLIENT_PORT, 4242, REMOTE_ISN, TCP_SYN));
      h.stack.input(tcpPacket(addr(s), LOCAL_ADDR, CLIENT_PORT, 4242, REMOTE_ISN, TCP_ACK, 12345));
    }
    h.expectNothing();
    assert.equal(h.stack.counters.TcpOutRsts, 0);
    assert.equal(h.stack.drops.get('ip: martian source'), 2 * martians.length);
    // The same segments from a unicast source are answered (RFC 9293 §3.10.7.1).
    h.stack.input(tcpPacket(REMOTE_ADDR, LOCAL_ADDR, CLIENT_PORT, 4242, REMOTE_ISN, TCP_SYN));
    h.expectOne({ flags: 'RA', seq: 0, ack: REMOTE_ISN + 1 });
  });
});

describe('RFC 9293 MUST-48, SHLD-21, SHLD-22: Differentiated Services', () => {
  test('MUST-48/SHLD-22: connect({ dscp }) sends every segment of the connection with that DSCP (SYN, ACK, data, FIN, RST); the default is 0', () => {
    const h = fixture('CLOSED');
    const raw = captureRaw(h);
    const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, localPort: CLIENT_PORT, dscp: 46 });
    h.tcb = t;
    t.openActive(h.now);
    const syn = h.expectOne({ flags: 'S' });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: syn.seq + 1, options: [{ kind: 'mss', value: 1460 }] });
    h.expectOne({ flags: 'A' });
    h.write('x');
    h.expectOne({ flags: 'PA', len: 1 });
    h.close();
    h.expectOne({ flags: 'FA' });
    t.abort(h.now);
    h.expectOne({ flags: 'RA' });
    assert.equal(raw.length, 5);
    for (const p of raw) { assert.equal(dscpOf(p), 46); assert.equal(p[1]! & 3, 0, 'ECN bits stay 0 (not ECN-capable)'); }
    const u = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT });
    u.openActive(h.now);
    h.expectOne({ flags: 'S' });
    assert.equal(dscpOf(raw[5]!), 0);
    u.abort(h.now);
  });

  test('MUST-48: connect({ tos }) takes the DSCP from the TOS byte, ignoring its ECN bits; a DSCP outside 0..63 is EINVAL', () => {
    const h = fixture('CLOSED');
    const raw = captureRaw(h);
    const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, tos: 0xb9 });
    assert.equal(t.dscp, 0xb9 >> 2);
    t.openActive(h.now);
    h.expectOne({ flags: 'S' });
    assert.equal(raw[0]![1], 0xb8);
    t.abort(h.now);
    for (const o of [{ dscp: 64 }, { dscp: -1 }, { dscp: 1.5 }, { tos: 256 }]) {
      assert.throws(() => h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, ...o }), { code: 'EINVAL' });
    }
  });

  test('SHLD-21: the application changes Tcb.dscp during the connection; the next segment carries the new value', () => {
    const h = fixture('ESTABLISHED');
    const raw = captureRaw(h);
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    h.c.dscp = 10;
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 });
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    assert.deepEqual(raw.map(dscpOf), [0, 10]);
  });

  test('MUST-48: a listener\'s children take the DSCP that Listener.onNewChild sets, from the SYN-ACK on', () => {
    const h = fixture('LISTEN');
    const raw = captureRaw(h);
    h.listener!.onNewChild = (t) => { t.dscp = 26; };
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [{ kind: 'mss', value: 1460 }] });
    const sa = h.expectOne({ flags: 'SA' });
    h.send({ flags: 'A', seq: h.R, ack: sa.seq + 1 });
    h.accepted[0]!.send(new Uint8Array(5), h.now);
    h.expectOne({ flags: 'PA', len: 5 });
    assert.deepEqual(raw.map(dscpOf), [26, 26]);
    h.accepted[0]!.abort(h.now);
    h.drain();
  });

  test('IP_TOS in the pkt socket layer: set on the listening socket, read back without the ECN bits; the child\'s SYN-ACK and data carry its DSCP', () => {
    const sent: Uint8Array[] = [];
    const r = runScript([
      '0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0  setsockopt(3, IPPROTO_IP, IP_TOS, [0x2b], 4) = 0',
      '+0  getsockopt(3, IPPROTO_IP, IP_TOS, [0x28], [4]) = 0',
      '+0  bind(3, ..., ...) = 0',
      '+0  listen(3, 1) = 0',
      '+0  < S 0:0(0) win 65535 <mss 1460>',
      '+0  > S. 0:0(0) ack 1 <mss 1460>',
      '+.1 < . 1:1(0) ack 1 win 512',
      '+0  accept(3, ..., ...) = 4',
      '+0  getsockopt(4, SOL_IP, IP_TOS, [0x28], [4]) = 0',
      '+0  write(4, ..., 10) = 10',
      '+0  > P. 1:11(10) ack 1',
      '+0  setsockopt(4, IPPROTO_IP, IP_TOS, [0], 4) = 0',
      '+.1 < . 1:1(0) ack 11 win 512',
      '+0  write(4, ..., 10) = 10',
      '+0  > P. 11:21(10) ack 1',
    ].join('\n') + '\n', {
      onStack: (stack) => {
        const link = stack.interfaces[0]!.link as { send(p: Uint8Array): void };
        const orig = link.send.bind(link);
        link.send = (p: Uint8Array) => { sent.push(p); orig(p); };
      },
    });
    assert.equal(r.ok, true, r.failure ? `line ${r.failure.line}: ${r.failure.message}` : '');
    assert.deepEqual(sent.map(dscpOf), [10, 10, 0]);
  });
});

describe('RFC 5681 §3.1: the initial window after a lost SYN or SYN-ACK is one segment', () => {
  test('§3.1: after a lost SYN the active side starts with cwnd = 1 segment; its ACK opens two more (slow start)', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_congestion_control: 'newreno' } });
    h.advance(sec(1));
    h.expectOne({ flags: 'S', seq: h.iss });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1000 }] });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.cc.cwnd, 1000);
    h.write(10_000);
    h.expectOne({ flags: 'A', seq: h.L, len: 1000 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1000 });
    h.expectOut([{ flags: 'A', seq: h.L + 1000, len: 1000 }, { flags: 'A', seq: h.L + 2000, len: 1000 }]);
    h.c.abort(h.now);
    h.drain();
  });

  test('§3.1: after a lost SYN-ACK the passive side starts with cwnd = 1 segment', () => {
    const h = fixture('SYN-RECEIVED');
    h.advance(sec(1));
    h.expectOne({ flags: 'SA', seq: h.iss });
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectState('ESTABLISHED');
    assert.equal(h.c.cc.cwnd, h.c.effMss);
    h.write(5000);
    h.expectOne({ flags: 'A', seq: h.L, len: 1460 });
    h.c.abort(h.now);
    h.drain();
  });

  test('§3.1: without a lost SYN the initial window stays IW (RFC 6928: 10 segments)', () => {
    const h = fixture('ESTABLISHED', { peer: { mss: 1000 } });
    assert.equal(h.c.cc.cwnd, 10_000);
  });
});

describe('RFC 9293 MUST-21: the user timeout replaces R2 (Linux TCP_USER_TIMEOUT)', () => {
  test('MUST-21: with tcp_retries2 = 2 and a 10 s user timeout, retransmission goes on past 2 retransmissions and the connection fails at 10 s with ETIMEDOUT', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_retries2: 2 } });
    h.c.userTimeout = sec(10);
    const start = h.now;
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.runTimers();
    const rtx = h.drain();
    assert.deepEqual(rtx.map((s) => (s.t - start) / 1000), [200, 600, 1400, 3000, 6200]);
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'user-timeout' });
    assert.equal(h.now - start, sec(10));
  });

  test('MUST-21: a user timeout shorter than the retry budget still ends the connection at the timeout', () => {
    const h = fixture('ESTABLISHED');
    h.c.userTimeout = ms(1000);
    const start = h.now;
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.runTimers();
    assert.deepEqual(h.drain().map((s) => (s.t - start) / 1000), [200, 600]);
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'user-timeout' });
    assert.equal(h.now - start, sec(1));
  });

  test('MUST-21: SYN-SENT keeps tcp_syn_retries even with a longer user timeout (Linux tcp_write_timeout)', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_syn_retries: 2 } });
    h.c.userTimeout = sec(3600);
    const start = h.now;
    h.runTimers();
    assert.equal(h.drain().length, 2);
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
    assert.equal(h.now - start, sec(7));
  });
});

describe('RFC 1122 §3.2.2.1: protocol unreachable', () => {
  function host(options: ConstructorParameters<typeof Stack>[0]['options'] = {}): { stack: Stack; clock: ManualClock; out: Uint8Array[]; input: PacketHandler } {
    const clock = new ManualClock(1_000_000);
    const stack = new Stack({ clock, options, random: (n) => new Uint8Array(n).fill(7) });
    const out: Uint8Array[] = [];
    let input: PacketHandler = () => {};
    stack.addInterface({ addr: LOCAL_ADDR, prefixLen: 24, mtu: 1500, link: { mtu: 1500, send: (p) => { out.push(p); }, setReceiver: (h) => { if (h !== null) input = h; } } });
    return { stack, clock, out, input: (p) => input(p) };
  }

  function udp(src: number, len = 12): Uint8Array {
    const p = new Uint8Array(20 + len);
    emitIpv4Header({ ttl: 64, protocol: IPPROTO_UDP, src, dst: LOCAL_ADDR, identification: 77 }, len, p, 0);
    p.set([0x30, 0x39, 0x00, 0x35, 0, len, 0, 0], 20);
    return p;
  }

  test('SHOULD: a datagram of a protocol the stack lacks (UDP) gets Destination Unreachable code 2 quoting its header and first 8 bytes', () => {
    const { stack, out, input } = host();
    const d = udp(REMOTE_ADDR);
    input(d);
    assert.equal(out.length, 1);
    const ip = parseIpv4(out[0]!);
    assert.ok(ip.ok);
    assert.equal(ip.value.protocol, IPPROTO_ICMP);
    assert.equal(ip.value.src, LOCAL_ADDR);
    assert.equal(ip.value.dst, REMOTE_ADDR);
    const m = parseIcmp(ip.value.payload);
    assert.ok(m.ok && isIcmpDestUnreachable(m.value));
    assert.equal(m.value.type, 3);
    assert.equal(m.value.code, 2);
    assert.deepEqual([...m.value.quoted], [...d.subarray(0, 28)]);
    const q = parseIcmpQuote(m.value.quoted);
    assert.ok(q.ok && q.value.ip.protocol === IPPROTO_UDP);
    assert.equal(stack.counters.IpInUnknownProtos, 1);
    assert.equal(stack.counters.IcmpOutDestUnreachs, 1);
  });

  test('never to a martian source; rate-limited to a burst of 50, then 1000 per second (Linux icmp_msgs_per_sec, icmp_msgs_burst)', () => {
    // icmp_ratelimit 0: only the global bucket (the per-host one, burst 6, is tested in test/udp).
    const { stack, clock, out, input } = host({ icmp_ratelimit: 0 });
    input(udp(addr('224.0.0.9')));
    input(udp(addr('10.0.0.255')));
    assert.equal(out.length, 0);
    for (let i = 0; i < 60; i++) input(udp(REMOTE_ADDR));
    assert.equal(out.length, 50);
    clock.advance(ms(1));
    for (let i = 0; i < 3; i++) input(udp(REMOTE_ADDR));
    assert.equal(out.length, 51);
    assert.equal(stack.counters.IpInUnknownProtos, 63, 'the martians were dropped before (RFC 1122 §3.2.1.3)');
    assert.equal(stack.drops.get('ip: martian source'), 2);
  });
});
