// Conformance tests for requirements that no other suite shows (docs/conformance.md):
// RFC 9293 Appendix B (named by ReqID), RFC 6298, RFC 5681, RFC 7323. Each test drives the
// real Stack through the per-state harness (test/tcp/states/harness.ts): packets in, packets
// out, virtual time.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  fixture, finishAll, Harness, REMOTE_ADDR, LOCAL_ADDR, REMOTE_ISN, SERVER_PORT, CLIENT_PORT, ms, sec, u32,
  type OutSeg,
} from './states/harness.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP } from '../../src/wire/ipv4.js';
import { emitTcp, parseTcp, TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { transportChecksum, internetChecksum } from '../../src/wire/checksum.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { initialWindow } from '../../src/tcp/cc/types.js';
import type { TcpOption } from '../../src/wire/tcpoptions.js';
import type { LinkEnd, PacketHandler } from '../../src/link/types.js';

afterEach(finishAll);

const addr = (s: string): number => parseIpv4Address(s)!;
const NEWRENO = { tcp_congestion_control: 'newreno' };

/** Record every raw IPv4 packet the harness's link is asked to send (the harness still parses them). */
function captureRaw(h: Harness): Uint8Array[] {
  const raw: Uint8Array[] = [];
  const link = h.link as { send(p: Uint8Array): void };
  const orig = link.send.bind(link);
  link.send = (p: Uint8Array) => { raw.push(p); orig(p); };
  return raw;
}

/** A TCP/IPv4 packet with any addresses, ports and IP options (the harness's build() fixes the addresses). */
function tcpPacket(o: {
  src: number; dst: number; sport: number; dport: number; seq: number; ack?: number; flags: number;
  win?: number; options?: TcpOption[]; payload?: Uint8Array; ipOptions?: Uint8Array;
}): Uint8Array {
  const fields = { srcPort: o.sport, dstPort: o.dport, seq: u32(o.seq), ack: u32(o.ack ?? 0), flags: o.flags, window: o.win ?? 65535, options: o.options ?? [] };
  const payload = o.payload ?? new Uint8Array(0);
  const ipLen = 20 + (o.ipOptions?.length ?? 0);
  const tcpLen = 20 + (((o.options ?? []).reduce((n, x) => n + (x.kind === 'nop' || x.kind === 'eol' ? 1 : x.kind === 'mss' ? 4 : x.kind === 'wscale' ? 3 : x.kind === 'sackOK' ? 2 : x.kind === 'ts' ? 10 : x.kind === 'sack' ? 2 + 8 * x.blocks.length : 2 + x.data.length), 0) + 3) & ~3) + payload.length;
  const pkt = new Uint8Array(ipLen + tcpLen);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src: o.src, dst: o.dst, dontFragment: true, options: o.ipOptions }, tcpLen, pkt, 0);
  emitTcp(fields, payload, o.src, o.dst, pkt, ipLen);
  return pkt;
}

/** An ICMP error of `type`/`code` from a router, quoting `quoted` (IP header + 8 bytes). */
function icmpError(type: number, code: number, quoted: Uint8Array): Uint8Array {
  const q = quoted.subarray(0, 20 + 8);
  const len = 8 + q.length;
  const pkt = new Uint8Array(20 + len);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_ICMP, src: addr('10.0.0.254'), dst: LOCAL_ADDR }, len, pkt, 0);
  pkt[20] = type; pkt[21] = code;
  pkt.set(q, 28);
  const sum = internetChecksum(pkt, 20, len);
  pkt[22] = sum >>> 8; pkt[23] = sum & 255;
  return pkt;
}

/** A second interface whose link records what it is asked to send. */
function addInterface(h: Harness, a: string): { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const link: LinkEnd = { mtu: 1500, send: (p) => { sent.push(p); }, setReceiver: (_: PacketHandler | null) => {} };
  h.stack.addInterface({ addr: a, prefixLen: 24, mtu: 1500, link });
  return { sent };
}

/** Run timers until the stack sends something (stale timer-queue entries send nothing). */
function nextOut(h: Harness): OutSeg[] {
  for (let i = 0; i < 20; i++) {
    const dl = h.stack.nextDeadline();
    if (dl === Infinity) return [];
    const out = runTo(h, Math.max(dl, h.now));
    if (out.length > 0) return out;
  }
  return [];
}

/** Run every timer due up to `t` and return what was sent meanwhile. */
function runTo(h: Harness, t: number): OutSeg[] {
  h.advanceTo(t);
  return h.drain();
}

// ---------------------------------------------------------------------------------------------

describe('RFC 9293 Appendix B: window (§3.8.6)', () => {
  test('MUST-1: the window is an unsigned number: 0xffff << 14 is a 1 GiB send window', () => {
    const h = fixture('ESTABLISHED', { peer: { ws: 14 } });
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0xffff });
    assert.equal(h.c.sndWnd, 65535 * 16384);
    assert.ok(h.c.sndWnd > 0);
  });

  test('MUST-34/SHLD-15: the peer shrinks its window below the data in flight: no new data is sent; sending resumes when it opens', () => {
    const h = fixture('ESTABLISHED');
    h.write(4380);
    h.expectOut([{ flags: 'A', len: 1460 }, { flags: 'A', len: 1460 }, { flags: 'PA', len: 1460 }]);
    // The right edge moves left: SND.UNA + SND.WND = L+1460+1000 < SND.NXT = L+4380 (usable window negative).
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1460, win: 1000 });
    h.expectNothing();
    assert.equal(h.write(2000), 2000);
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L + 4380, win: 65535 });
    // (The tail goes too: Nagle with Minshall's modification, RFC 9293 Appendix A.3.)
    h.expectOut([{ flags: 'A', seq: h.L + 4380, len: 1460 }, { flags: 'PA', seq: h.L + 5840, len: 540 }]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 6380 });
  });

  test('MUST-35/MUST-37/SHLD-17: a window shrunk to zero under data in flight is probed by the retransmissions; the connection stays open while the peer answers (past tcp_retries2), and times out once it goes silent', () => {
    const h = fixture('ESTABLISHED');
    const start = h.now;
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    let probes = 0;
    while (h.now - start < sec(3000)) {
      const out = nextOut(h);
      assert.ok(out.length > 0, `silence at ${(h.now - start) / 1e6} s in state ${h.c.state}`);
      for (const s of out) {
        assert.equal(s.seq, h.L, 'the probe is the head of the unacknowledged data');
        probes++;
      }
      if (out.length > 0) h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    }
    assert.ok(probes > h.stack.options.tcp_retries2 + 5, `${probes} probes`);
    h.expectState('ESTABLISHED');
    // The window opens: the data is acknowledged and the connection carries on.
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100, win: 65535 });
    h.expectNothing();
    assert.equal(h.c.sndUna, u32(h.L + 100));
    // A peer that stops answering is given up on (no connection hangs forever).
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100, win: 0 });
    h.runTimers();
    h.drain();
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
  });

  test('MUST-36/MUST-37: zero-window probing goes on for hours while the peer answers (30 probes, more than tcp_retries2)', () => {
    const h = fixture('ESTABLISHED');
    const start = h.now;
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    h.write(100);
    h.expectNothing();
    for (let i = 0; i < 30; i++) {
      const out = nextOut(h);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.seq, u32(h.L - 1));
      h.send({ flags: 'A', seq: h.R, ack: h.L, win: 0 });
    }
    h.expectState('ESTABLISHED');
    assert.ok(h.now - start > sec(3600) * 0.6, `${(h.now - start) / 1e6} s`);
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 1000 });
    h.expectOne({ flags: 'PA', seq: h.L, len: 100 });
  });

  test('MUST-66: the URG field (and the ACK field) are processed even when the receive window is zero', () => {
    const h = fixture('ESTABLISHED', { rcvBuf: 1000 });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1000 });
    h.expectOne({ flags: 'A', ack: h.R + 1000, win: 0 });
    h.write('x');
    h.expectOne({ flags: 'PA', len: 1 });
    h.send({ flags: 'UPA', seq: h.R + 1000, ack: h.L + 1, payload: 1, urg: 5 });
    h.expectOne({ flags: 'A', ack: h.R + 1000, win: 0 });
    assert.equal(h.c.rcvUp, u32(h.R + 1005), 'RCV.UP taken from a segment whose text is not acceptable');
    assert.equal(h.c.sndUna, u32(h.L + 1), 'its ACK field too');
  });
});

describe('RFC 9293 Appendix B: TCP options and checksums (§3.1, §3.2)', () => {
  test('MUST-2: every segment the stack sends carries a correct checksum over the pseudo header', () => {
    const h = fixture('CLOSED');
    const raw = captureRaw(h);
    const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, localPort: CLIENT_PORT });
    h.tcb = t;
    t.openActive(h.now);
    h.drain();
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: t.iss + 1, options: [{ kind: 'mss', value: 1460 }] });
    t.send(new Uint8Array(3000).fill(7), h.now);
    h.drain();
    assert.ok(raw.length >= 3);
    for (const p of raw) assert.equal(transportChecksum(LOCAL_ADDR, REMOTE_ADDR, IPPROTO_TCP, p, 20, p.length - 20), 0);
  });

  test('MUST-3: a segment with a bad checksum is dropped (no data taken, no reply) and counted', () => {
    const h = fixture('ESTABLISHED');
    const pkt = h.build({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    pkt[pkt.length - 1]! ^= 0x20;
    h.stack.input(pkt);
    h.expectNothing();
    assert.equal(h.c.readable, 0);
    assert.equal(h.stack.counters.TcpInCsumErrors, 1);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
  });

  test('MUST-5/MUST-6: unknown options (kind 30, kind 34) on a SYN and on a data segment are skipped by their length; the known options around them are used', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [
      { kind: 'mss', value: 1200 }, { kind: 'unknown', type: 30, data: Uint8Array.of(1, 2) }, { kind: 'nop' },
      { kind: 'wscale', shift: 5 }, { kind: 'unknown', type: 34, data: new Uint8Array(0) },
    ] });
    h.expectOne({ flags: 'SA', ack: h.R });
    const t = h.only();
    assert.equal(t.mssPeer, 1200);
    assert.equal(t.sndWscale, 5);
    h.tcb = t;
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'data', options: [{ kind: 'unknown', type: 30, data: Uint8Array.of(9, 9, 9, 9) }, { kind: 'nop' }, { kind: 'nop' }] });
    h.expectOne({ flags: 'A', ack: h.R + 4 });
    assert.equal(h.read(), 'data');
  });

  test('MUST-7: an option with an illegal length (0) gets the segment dropped and counted; the connection carries on', () => {
    const h = fixture('ESTABLISHED');
    const pkt = h.build({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc', options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }] });
    pkt[40] = 30; pkt[41] = 0; // kind 30, length 0
    pkt[36] = 0; pkt[37] = 0;
    const sum = transportChecksum(REMOTE_ADDR, LOCAL_ADDR, IPPROTO_TCP, pkt, 20, pkt.length - 20);
    pkt[36] = sum >>> 8; pkt[37] = sum & 255;
    h.stack.input(pkt);
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.equal(h.c.readable, 0);
    assert.equal(h.stack.counters.TcpInErrs, 1);
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc' });
    h.expectOne({ flags: 'A', ack: h.R + 3 });
  });

  test('MUST-64: options that do not begin on a word boundary are processed (MSS at byte 1, wscale at byte 5, SACK-permitted at byte 8)', () => {
    const h = fixture('LISTEN');
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [{ kind: 'nop' }, { kind: 'mss', value: 1000 }, { kind: 'wscale', shift: 3 }, { kind: 'sackOK' }] });
    h.expectOne({ flags: 'SA', options: ['mss', 'nop', 'nop', 'sackOK', 'nop', 'wscale'] });
    const t = h.only();
    assert.equal(t.mssPeer, 1000);
    assert.equal(t.sndWscale, 3);
    assert.equal(t.sackOk, true);
  });
});

describe('RFC 9293 Appendix B: opening and closing (§3.5, §3.6, §3.9.1)', () => {
  test('MUST-41/MUST-42: LISTEN on a port while a connection from that local port is in SYN-SENT; the connection and the listener each get their own segments', () => {
    const h = fixture('SYN-SENT'); // 10.0.0.1:49152 → 10.0.0.2:80
    const l = h.stack.listen({ port: CLIENT_PORT });
    assert.throws(() => h.stack.listen({ port: CLIENT_PORT }), { code: 'EADDRINUSE' });
    h.expectState('SYN-SENT');
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, ack: h.R, dport: SERVER_PORT });
    h.expectState('ESTABLISHED');
    h.send({ flags: 'S', seq: 5000, ack: 0, sport: 5555 });
    h.expectOne({ flags: 'SA', ack: 5001, sport: CLIENT_PORT, dport: 5555 });
    assert.equal(l.synQueue.size, 1);
    h.expectState('ESTABLISHED');
  });

  test('MUST-43/MUST-45: connect() with a local address sends the SYN and every later segment from it', () => {
    const h = fixture('CLOSED');
    addInterface(h, '192.168.7.1');
    const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT, localAddr: '192.168.7.1', localPort: 40000 });
    h.tcb = t;
    t.openActive(h.now);
    const [syn] = h.expectOut([{ flags: 'S', sport: 40000 }]);
    assert.equal(syn!.src, addr('192.168.7.1'));
    h.stack.input(tcpPacket({ src: REMOTE_ADDR, dst: addr('192.168.7.1'), sport: SERVER_PORT, dport: 40000, seq: REMOTE_ISN, ack: t.iss + 1, flags: TCP_SYN | TCP_ACK, options: [{ kind: 'mss', value: 1460 }] }));
    assert.equal(t.state, 'ESTABLISHED');
    t.send(new TextEncoder().encode('hi'), h.now);
    const out = h.expectOut([{ flags: 'A' }, { flags: 'PA', payload: 'hi' }]);
    for (const s of out) assert.equal(s.src, addr('192.168.7.1'));
  });

  test('MUST-44: without a local address the stack picks the address of the interface that routes to the peer', () => {
    const h = fixture('CLOSED');
    const second = addInterface(h, '192.168.7.1');
    const t = h.stack.connect({ remoteAddr: '192.168.7.50', remotePort: 80 });
    t.openActive(h.now);
    assert.equal(t.localAddr, addr('192.168.7.1'));
    assert.equal(second.sent.length, 1);
    const syn = parseTcp(second.sent[0]!.subarray(20), { src: addr('192.168.7.1'), dst: addr('192.168.7.50') });
    assert.ok(syn.ok && (syn.value.flags & TCP_SYN));
    assert.equal((second.sent[0]![12]! << 24 | second.sent[0]![13]! << 16 | second.sent[0]![14]! << 8 | second.sent[0]![15]!) >>> 0, addr('192.168.7.1'));
    t.abort(h.now);
  });

  test('MUST-45: a listener on 0.0.0.0 answers from the address the SYN was sent to, and keeps using it', () => {
    const h = fixture('LISTEN');
    addInterface(h, '192.168.7.1');
    const dst = addr('192.168.7.1');
    h.stack.input(tcpPacket({ src: REMOTE_ADDR, dst, sport: CLIENT_PORT, dport: SERVER_PORT, seq: REMOTE_ISN, flags: TCP_SYN, options: [{ kind: 'mss', value: 1460 }] }));
    const [synack] = h.expectOut([{ flags: 'SA', ack: h.R }]);
    assert.equal(synack!.src, dst);
    h.stack.input(tcpPacket({ src: REMOTE_ADDR, dst, sport: CLIENT_PORT, dport: SERVER_PORT, seq: h.R, ack: synack!.seq + 1, flags: TCP_ACK }));
    const t = h.accepted[0]!;
    assert.equal(t.state, 'ESTABLISHED');
    assert.equal(t.localAddr, dst);
    t.send(new TextEncoder().encode('x'), h.now);
    const [data] = h.expectOut([{ flags: 'PA', len: 1 }]);
    assert.equal(data!.src, dst);
    t.abort(h.now);
    h.drain();
  });

  test('MUST-57: a SYN addressed to a broadcast or multicast address is silently discarded', () => {
    const h = fixture('LISTEN');
    for (const d of ['255.255.255.255', '10.0.0.255', '224.0.0.1', '239.1.2.3']) {
      h.stack.input(tcpPacket({ src: REMOTE_ADDR, dst: addr(d), sport: CLIENT_PORT, dport: SERVER_PORT, seq: REMOTE_ISN, flags: TCP_SYN }));
    }
    h.expectNothing();
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.stack.counters.IpInAddrErrors, 4);
  });

  test('SHLD-2: a RST carrying data is accepted (the connection is reset)', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'R', seq: h.R, payload: 'diagnostic text' });
    h.expectNothing();
    assert.deepEqual(h.closed, { error: 'ECONNRESET', cause: 'reset' });
  });

  test('MUST-23: with tcp_syn_retries = 7 the SYN is retransmitted for more than 3 minutes (1+2+…+64 s, then 120 s capped by tcp_rto_max: ETIMEDOUT at 247 s)', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_syn_retries: 7 } });
    const start = h.now;
    h.runTimers();
    assert.equal(h.drain().length, 7);
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
    assert.equal(h.now - start, sec(247));
  });
});

describe('RFC 9293 Appendix B: IP layer (§3.9.2)', () => {
  test('MUST-49: the TTL of outgoing segments is configurable (ip_default_ttl)', () => {
    const h = fixture('CLOSED', { stack: { ip_default_ttl: 17 } });
    const raw = captureRaw(h);
    h.send({ flags: 'S', seq: 1, ack: 0 }); // answered by a RST from CLOSED
    const t = h.stack.connect({ remoteAddr: REMOTE_ADDR, remotePort: SERVER_PORT });
    t.openActive(h.now);
    h.drain();
    assert.equal(raw.length, 2);
    for (const p of raw) assert.equal(p[8], 17);
    t.abort(h.now);
  });

  test('MUST-50: IP options are ignored: a SYN in a datagram with IP options is answered normally', () => {
    const h = fixture('LISTEN');
    h.stack.input(tcpPacket({
      src: REMOTE_ADDR, dst: LOCAL_ADDR, sport: CLIENT_PORT, dport: SERVER_PORT, seq: REMOTE_ISN, flags: TCP_SYN,
      options: [{ kind: 'mss', value: 1460 }], ipOptions: Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0), // record route, one empty slot
    }));
    h.expectOne({ flags: 'SA', ack: h.R });
    assert.equal(h.only().state, 'SYN-RECEIVED');
  });

  test('MUST-55: ICMP Source Quench is silently discarded (no change to the connection or its cwnd)', () => {
    const h = fixture('ESTABLISHED');
    const raw = captureRaw(h);
    h.write(100);
    h.expectOne({ flags: 'PA' });
    const cwnd = h.c.cc.cwnd;
    h.stack.input(icmpError(4, 0, raw[0]!));
    h.expectNothing();
    assert.equal(h.c.cc.cwnd, cwnd);
    h.expectState('ESTABLISHED');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
  });

  test('MUST-56: ICMP soft errors (Destination Unreachable codes 0, 1, 5; Time Exceeded; Parameter Problem) do not abort the connection', () => {
    const h = fixture('ESTABLISHED');
    const raw = captureRaw(h);
    h.write(100);
    h.expectOne({ flags: 'PA' });
    for (const [type, code] of [[3, 0], [3, 1], [3, 5], [11, 0], [11, 1], [12, 0]] as const) h.stack.input(icmpError(type, code, raw[0]!));
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.equal(h.closed, null);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    assert.equal(h.c.sndUna, u32(h.L + 100));
  });
});

describe('RFC 9293 Appendix B: keep-alives (§3.8.4)', () => {
  test('MUST-25: keep-alives are off by default: no probe after 3 hours of idleness', () => {
    const h = fixture('ESTABLISHED');
    assert.equal(h.c.keepAlive, false);
    h.advance(sec(3 * 3600));
    h.expectNothing();
    h.expectState('ESTABLISHED');
  });

  test('MUST-24: the application turns keep-alives on and off per connection', () => {
    const h = fixture('ESTABLISHED');
    h.c.setKeepAlive(h.now, true, sec(60));
    h.advance(sec(60));
    h.expectOne({ flags: 'A', seq: h.L - 1, len: 0 });
    h.c.setKeepAlive(h.now, false);
    h.advance(sec(3 * 3600));
    h.expectNothing();
  });

  test('MUST-26: no keep-alive probe while sent data is outstanding', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_retries2: 30 } });
    h.c.setKeepAlive(h.now, true, sec(1), sec(1));
    h.write(10);
    const out = runTo(h, h.now + sec(20));
    assert.ok(out.length > 3);
    for (const s of out) assert.deepEqual([s.seq, s.payload.length], [h.L, 10], 'only retransmissions of the data, no probe at SND.UNA-1');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 });
    h.expectNothing();
    h.advance(sec(1));
    h.expectOne({ flags: 'A', seq: h.L + 9, len: 0 });
  });
});

describe('RFC 9293 Appendix B: retransmission and connection failures (§3.8.1, §3.8.3)', () => {
  test('SHLD-11: with the default tcp_retries2 (15) R2 is far above 100 s: ETIMEDOUT after 924.6 s', () => {
    const h = fixture('ESTABLISHED');
    const start = h.now;
    h.write(10);
    h.runTimers();
    assert.equal(h.drain().length, 16);
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
    assert.equal(h.now - start, ms(924_600));
  });

  test('MUST-18 (RFC 6298 §3, Karn): the ACK of retransmitted data gives no RTT sample', () => {
    const h = fixture('ESTABLISHED');
    const srtt = h.c.rtt.srtt, latest = h.c.rtt.latestRtt;
    h.write(10);
    h.expectOne({ flags: 'PA' });
    h.advance(ms(200));
    h.expectOne({ flags: 'PA', seq: h.L });
    h.advance(ms(50));
    h.send({ flags: 'A', seq: h.R, ack: h.L + 10 });
    assert.equal(h.c.rtt.srtt, srtt);
    assert.equal(h.c.rtt.latestRtt, latest);
  });

  test('MUST-40 / RFC 5681 §4.2: a delayed ACK leaves within 500 ms of the first unacknowledged segment; later segments do not postpone it', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_quickack_segments: 0 } });
    const t0 = h.now;
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 100 });
    h.send({ flags: 'PA', seq: h.R + 100, ack: h.L, payload: 100 }, { at: t0 + ms(30) });
    h.expectNothing();
    h.advanceTo(t0 + ms(40));
    const [a] = h.expectOut([{ flags: 'A', ack: h.R + 200 }]);
    assert.ok(a!.t - t0 <= ms(500));
  });
});

// ---------------------------------------------------------------------------------------------

describe('RFC 6298', () => {
  test('§3: without timestamps one segment per flight is timed: every round trip gives an RTT sample', () => {
    const h = fixture('ESTABLISHED');
    for (const rtt of [30, 50, 20]) {
      h.write(2920);
      h.expectOut([{ flags: 'A' }, { flags: 'PA' }]);
      h.advance(ms(rtt));
      h.send({ flags: 'A', seq: h.R, ack: h.c.sndNxt });
      assert.equal(h.c.rtt.latestRtt, ms(rtt));
    }
  });

  test('§5.7 on the passive side: after the SYN-ACK timed out, data starts with RTO = 3 s', () => {
    const h = fixture('SYN-RECEIVED');
    h.advance(sec(1));
    h.expectOne({ flags: 'SA' });
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectState('ESTABLISHED');
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    h.advance(sec(3) - 1);
    h.expectNothing();
    h.advance(1);
    h.expectOne({ flags: 'PA', seq: h.L, len: 10 });
  });
});

describe('RFC 5681', () => {
  test('§3.1: the SYN-ACK and the ACK of the SYN-ACK do not change cwnd (active and passive opens start with IW)', () => {
    for (const passive of [false, true]) {
      const h = fixture('ESTABLISHED', { passive, stack: NEWRENO });
      assert.equal(h.c.cc.cwnd, initialWindow(h.c.effMss), passive ? 'passive' : 'active');
      const c = fixture('ESTABLISHED', { passive });
      assert.equal(c.c.cc.cwnd, initialWindow(c.c.effMss), passive ? 'passive, cubic' : 'active, cubic');
    }
  });

  test('§3: no more than min(cwnd, rwnd) beyond SND.UNA: a new connection sends IW (10 segments, RFC 6928) and waits for ACKs', () => {
    const h = fixture('ESTABLISHED', { stack: NEWRENO, sndBuf: 1 << 20 });
    h.write(30000);
    const out = h.drain();
    assert.equal(out.length, 10);
    assert.equal(out.reduce((n, s) => n + s.payload.length, 0), 14600);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    assert.equal(h.drain().length, 4, 'slow start: 2 segments acknowledged → 2 replaced + 2 more');
  });

  test('§3.2 + RFC 6582: limited transmit, fast retransmit, inflation, deflation; ssthresh excludes limited-transmit data; loss in the next window lowers it again', () => {
    const h = fixture('ESTABLISHED', { stack: NEWRENO, sndBuf: 1 << 20 });
    const mss = h.c.effMss;
    h.write(20 * mss);
    assert.equal(h.drain().length, 10);
    const iw = 10 * mss;
    // Segment 1 is lost; segments 2.. each produce a duplicate ACK.
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 10 * mss, len: mss }); // limited transmit (RFC 3042)
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 11 * mss, len: mss });
    assert.equal(h.c.cc.cwnd, iw, 'limited transmit does not change cwnd');
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L, len: mss }); // fast retransmit of SND.UNA
    const ssthresh = h.c.cc.ssthresh;
    assert.equal(ssthresh, Math.max(iw / 2, 2 * mss), 'FlightSize/2 without the two limited-transmit segments');
    assert.equal(h.c.cc.cwnd, ssthresh + 3 * mss);
    for (let i = 0; i < 4; i++) {
      h.send({ flags: 'A', seq: h.R, ack: h.L });
      assert.equal(h.c.cc.cwnd, ssthresh + (4 + i) * mss, 'each further duplicate ACK inflates cwnd by SMSS');
    }
    h.expectNothing(); // flight 12 segments, cwnd 11: nothing new yet
    h.send({ flags: 'A', seq: h.R, ack: h.L });
    h.expectOne({ flags: 'A', seq: h.L + 12 * mss, len: mss });
    // The retransmission is acknowledged with everything sent before recovery: deflate.
    h.send({ flags: 'A', seq: h.R, ack: h.L + 12 * mss });
    assert.ok(h.c.cc.cwnd <= ssthresh, `cwnd ${h.c.cc.cwnd} <= ssthresh ${ssthresh}`);
    h.drain();
    // A loss in the next window (the segment sent during recovery is acknowledged, the one
    // after it lost): three duplicate ACKs beyond "recover" lower ssthresh again.
    h.send({ flags: 'A', seq: h.R, ack: h.L + 13 * mss });
    h.drain();
    const una = h.c.sndUna;
    for (let i = 0; i < 3; i++) h.send({ flags: 'A', seq: h.R, ack: una }), h.drain();
    assert.ok(h.c.cc.ssthresh < ssthresh, `ssthresh ${h.c.cc.ssthresh} < ${ssthresh}`);
    h.send({ flags: 'A', seq: h.R, ack: h.c.sndMax });
    h.drain();
  });

  test('§3.2 step 1: a sender using SACK sends new data on a duplicate ACK only when it carries new SACK information', () => {
    const h = fixture('ESTABLISHED', { peer: { sack: true }, sndBuf: 1 << 20 });
    const mss = h.c.effMss;
    h.write(20 * mss);
    assert.equal(h.drain().length, 10);
    h.send({ flags: 'A', seq: h.R, ack: h.L }); // a duplicate ACK without SACK blocks
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.L, sack: [[h.L + mss, h.L + 2 * mss]] }); // new SACK information
    h.expectOne({ flags: 'A', seq: h.L + 10 * mss, len: mss });
    h.send({ flags: 'A', seq: h.R, ack: h.L, sack: [[h.L + mss, h.L + 2 * mss]] }); // the same again: nothing new
    h.expectNothing();
    h.send({ flags: 'A', seq: h.R, ack: h.c.sndMax });
    h.drain();
  });
});

// ---------------------------------------------------------------------------------------------

describe('RFC 7323', () => {
  test('§2.2: a Window Scale option on a segment without SYN is ignored', () => {
    const h = fixture('ESTABLISHED', { peer: { ws: 3 } });
    h.send({ flags: 'A', seq: h.R, ack: h.L, win: 100, options: [{ kind: 'nop' }, { kind: 'wscale', shift: 10 }] });
    assert.equal(h.c.sndWscale, 3);
    assert.equal(h.c.sndWnd, 800);
    const n = fixture('ESTABLISHED');
    n.send({ flags: 'A', seq: n.R, ack: n.L, win: 100, options: [{ kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
    assert.equal(n.c.sndWscale, 0);
    assert.equal(n.c.sndWnd, 100);
  });

  test('§3.2: a Timestamps option on a connection that did not negotiate timestamps is ignored and the segment processed normally', () => {
    const h = fixture('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 'abc', ts: { val: 5, ecr: 1 } });
    h.expectOne({ flags: 'A', ack: h.R + 3, ts: false });
    assert.equal(h.c.tsOk, false);
    assert.equal(h.read(), 'abc');
  });

  test('§3.2: when the ACK bit is off, TSecr is ignored (no RTT sample from a bare SYN)', () => {
    const h = fixture('SYN-SENT', { peer: { ts: true } });
    h.advance(ms(700));
    h.send({ flags: 'S', seq: REMOTE_ISN, ack: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: 1, ecr: u32(h.lastTsVal - 300) }] });
    h.expectOne({ flags: 'SA' });
    assert.equal(h.c.rtt.hasSample, false);
  });

  test('§3.2: segments without the expected timestamp are dropped but never abort the connection', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    for (let i = 0; i < 5; i++) h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: false });
    h.send({ flags: 'FA', seq: h.R, ack: h.L, ts: false });
    h.expectNothing();
    h.expectState('ESTABLISHED');
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10 });
    h.expectOne({ flags: 'A', ack: h.R + 10 });
  });

  test('§2.4 (1): after the window retracted by less than one scale unit, data up to the right edge announced before is still accepted', () => {
    const h = fixture('SYN-SENT');
    h.c.rcvSsthresh = Infinity; // the buffer alone bounds the window (no Linux rcv_ssthresh), as when it has grown
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
    h.expectOne({ flags: 'A', win: 1024 }); // right edge R + 131072
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 1 });
    h.expectOne({ flags: 'A', ack: h.R + 1, win: 1023 }); // announces only up to R + 1 + 130944
    h.send({ flags: 'PA', seq: h.R + 131072 - 100, ack: h.L, payload: 100 });
    h.expectOne({ flags: 'A', ack: h.R + 1 });
    assert.equal(h.c.rcvBuf.outOfOrderBytes, 100, 'held, not refused as out of window');
  });

  test('§5.3: timestamps are checked only on arrival: queued segments with an older TSval are delivered when the retransmission (newer TSval) fills the hole', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    const P = h.peerTs;
    h.send({ flags: 'PA', seq: h.R, ack: h.L, payload: 10, ts: { val: P + 1 } });   // A.1
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.send({ flags: 'PA', seq: h.R + 20, ack: h.L, payload: 10, ts: { val: P + 1 } }); // C.1 (B.1 lost)
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.send({ flags: 'PA', seq: h.R + 30, ack: h.L, payload: 10, ts: { val: P + 1 } }); // D.1
    h.expectOne({ flags: 'A', ack: h.R + 10 });
    h.send({ flags: 'PA', seq: h.R + 10, ack: h.L, payload: 10, ts: { val: P + 2 } }); // B.2
    h.expectOne({ flags: 'A', ack: h.R + 40, ts: { ecr: P + 2 } });
    assert.equal(h.c.readable, 40);
  });
});
