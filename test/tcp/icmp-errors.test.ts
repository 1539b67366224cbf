// ICMP errors to TCP (RFC 9293 §3.9.2.2 MUST-54, MUST-56, SHLD-25, SHLD-26; §3.9.1.8
// MUST-47; RFC 1122 §4.2.3.9; RFC 5927 §4.1) and Path MTU Discovery (RFC 1191). Each test
// drives the real Stack through the per-state harness (states/harness.ts): the ICMP message
// quotes a segment of the connection, as a router would.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, Harness, LOCAL_ADDR, REMOTE_ISN, sec } from './states/harness.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP } from '../../src/wire/ipv4.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { classifyIcmpError, MIN_PMTU } from '../../src/tcp/icmp.js';
import type { TcpErrorCode } from '../../src/tcp/types.js';

afterEach(finishAll);

const ROUTER = parseIpv4Address('10.0.0.254')!;

interface Quote { seq: number; sport?: number; dport?: number; protocol?: number; len?: number }

/**
 * An ICMP error from a router about a datagram of `h`'s connection (RFC 792: the quoted
 * IP header and the first 8 bytes of the TCP header: ports and SEG.SEQ). `mtu` goes in the
 * Next-Hop MTU field (RFC 1191 §4).
 */
function icmp(h: Harness, type: number, code: number, q: Quote, mtu = 0): Uint8Array {
  const t = h.c;
  const quote = new Uint8Array(28);
  emitIpv4Header({ ttl: 63, protocol: q.protocol ?? IPPROTO_TCP, src: t.localAddr, dst: t.remoteAddr, dontFragment: true }, 20 + (q.len ?? 1460), quote, 0);
  const sport = q.sport ?? t.localPort, dport = q.dport ?? t.remotePort, seq = q.seq >>> 0;
  quote.set([sport >>> 8, sport & 255, dport >>> 8, dport & 255, seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255], 20);
  const len = 8 + quote.length;
  const pkt = new Uint8Array(20 + len);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_ICMP, src: ROUTER, dst: LOCAL_ADDR }, len, pkt, 0);
  pkt[20] = type; pkt[21] = code;
  pkt[26] = mtu >>> 8; pkt[27] = mtu & 255;
  pkt.set(quote, 28);
  const sum = internetChecksum(pkt, 20, len);
  pkt[22] = sum >>> 8; pkt[23] = sum & 255;
  return pkt;
}

/** Record the soft errors reported to the application (TcbUser.onSoftError). */
function softErrors(h: Harness): TcpErrorCode[] {
  const got: TcpErrorCode[] = [];
  h.c.user!.onSoftError = (e) => { got.push(e); };
  return got;
}

describe('RFC 9293 §3.9.2.2: ICMP errors are directed to the connection (MUST-54) and reported (SHLD-25, MUST-47)', () => {
  test('MUST-54/SHLD-25/MUST-47: a host unreachable quoting a segment in flight is reported through onSoftError (EHOSTUNREACH); the connection goes on (MUST-56)', () => {
    const h = fixture('ESTABLISHED');
    const errs = softErrors(h);
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.stack.input(icmp(h, 3, 1, { seq: h.L }));
    h.expectNothing();
    assert.deepEqual(errs, ['EHOSTUNREACH']);
    assert.equal(h.c.softError, 'EHOSTUNREACH');
    h.expectState('ESTABLISHED');
    assert.equal(h.closed, null);
    assert.equal(h.stack.counters.IcmpInDestUnreachs, 1);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    assert.equal(h.c.softError, null, 'an acceptable ACK clears it (Linux tcp_ack)');
  });

  test('RFC 1122 §4.2.3.9: soft errors and the errno of each (Linux icmp_err_convert): net, host, source route failed, time exceeded, parameter problem, administratively prohibited', () => {
    const h = fixture('ESTABLISHED');
    const errs = softErrors(h);
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    for (const [type, code] of [[3, 0], [3, 1], [3, 5], [11, 0], [11, 1], [12, 0], [3, 13]] as const) h.stack.input(icmp(h, type, code, { seq: h.L }));
    h.expectNothing();
    assert.deepEqual(errs, ['ENETUNREACH', 'EHOSTUNREACH', 'EOPNOTSUPP', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EPROTO', 'EHOSTUNREACH']);
    h.expectState('ESTABLISHED');
    assert.deepEqual([h.stack.counters.IcmpInTimeExcds, h.stack.counters.IcmpInParmProbs], [2, 1]);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
  });

  test('classifyIcmpError: codes 2 and 3 are hard, 4 is PMTUD, Source Quench and Redirect are not acted on, unknown codes are ignored', () => {
    assert.deepEqual(classifyIcmpError(3, 2), { action: 'hard', error: 'ENOPROTOOPT' });
    assert.deepEqual(classifyIcmpError(3, 3), { action: 'hard', error: 'ECONNREFUSED' });
    assert.deepEqual(classifyIcmpError(3, 4), { action: 'pmtu', error: 'EMSGSIZE' });
    assert.equal(classifyIcmpError(4, 0), null);
    assert.equal(classifyIcmpError(5, 1), null);
    assert.equal(classifyIcmpError(3, 16), null);
  });

  test('RFC 1122 §4.2.3.9 DISCUSSION / Linux sk_err_soft: a connection that times out after a soft error reports that error, not ETIMEDOUT', () => {
    const h = fixture('ESTABLISHED', { stack: { tcp_retries2: 2 } });
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.stack.input(icmp(h, 3, 1, { seq: h.L }));
    h.runTimers();
    assert.equal(h.drain().length, 2);
    assert.deepEqual(h.closed, { error: 'EHOSTUNREACH', cause: 'timeout' });
  });

  test('MUST-56 in SYN-SENT: a net unreachable for our SYN aborts nothing; the SYN is retried and connect() finally fails with ENETUNREACH instead of ETIMEDOUT', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_syn_retries: 2 } });
    const errs = softErrors(h);
    h.stack.input(icmp(h, 3, 0, { seq: h.iss }));
    h.expectNothing();
    h.expectState('SYN-SENT');
    assert.deepEqual(errs, ['ENETUNREACH']);
    h.runTimers();
    assert.equal(h.drain().length, 2);
    assert.deepEqual(h.closed, { error: 'ENETUNREACH', cause: 'timeout' });
  });

  test('a SYN-ACK after a soft error in SYN-SENT establishes the connection and forgets the error: a later timeout is ETIMEDOUT', () => {
    const h = fixture('SYN-SENT', { stack: { tcp_retries2: 1 } });
    h.stack.input(icmp(h, 11, 0, { seq: h.iss }));
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }] });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.softError, null);
    h.write(10);
    h.expectOne({ flags: 'PA', len: 10 });
    h.runTimers();
    h.drain();
    assert.deepEqual(h.closed, { error: 'ETIMEDOUT', cause: 'timeout' });
  });

  test('RFC 5927 §4.1: an ICMP error whose quoted SEG.SEQ is outside SND.UNA..SND.MAX−1 is ignored (TcpExtOutOfWindowIcmps); one for no connection is an ICMP input error', () => {
    const h = fixture('ESTABLISHED');
    const errs = softErrors(h);
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    for (const seq of [h.L - 1, h.L + 100, h.L + 5000, h.L - 70000]) h.stack.input(icmp(h, 3, 3, { seq }));
    assert.equal(h.stack.counters.TcpExtOutOfWindowIcmps, 4);
    h.stack.input(icmp(h, 3, 1, { seq: h.L, sport: 4242 }));
    assert.equal(h.stack.counters.IcmpInErrors, 1);
    assert.equal(h.stack.drops.get('icmp: no connection'), 1);
    h.stack.input(icmp(h, 3, 1, { seq: h.L, protocol: 17 }));
    assert.equal(h.stack.drops.get('icmp: not about tcp'), 1);
    h.expectNothing();
    assert.deepEqual(errs, []);
    assert.equal(h.c.softError, null);
    // Nothing in flight: every quote is out of window (a bare ACK carries SND.MAX).
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
    h.stack.input(icmp(h, 3, 1, { seq: h.L + 100 }));
    assert.deepEqual(errs, []);
    assert.equal(h.stack.counters.TcpExtOutOfWindowIcmps, 5);
  });
});

describe('RFC 9293 §3.9.2.2 SHLD-26: hard errors abort a connection attempt', () => {
  test('SHLD-26: a port unreachable for our SYN aborts connect() with ECONNREFUSED (Linux tcp_v4_err); nothing is sent', () => {
    const h = fixture('SYN-SENT');
    h.stack.input(icmp(h, 3, 3, { seq: h.iss }));
    h.expectNothing();
    assert.deepEqual(h.closed, { error: 'ECONNREFUSED', cause: 'unreachable' });
    assert.equal(h.stack.counters.TcpAttemptFails, 1);
  });

  test('SHLD-26: a protocol unreachable for our SYN aborts connect() with ENOPROTOOPT (Linux icmp_err_convert)', () => {
    const h = fixture('SYN-SENT');
    h.stack.input(icmp(h, 3, 2, { seq: h.iss }));
    h.expectNothing();
    assert.deepEqual(h.closed, { error: 'ENOPROTOOPT', cause: 'unreachable' });
  });

  test('SHLD-26: a port unreachable for our SYN-ACK removes the half-open passive connection silently; the listener stays', () => {
    const h = fixture('SYN-RECEIVED');
    h.stack.input(icmp(h, 3, 3, { seq: h.iss }));
    h.expectNothing();
    assert.deepEqual(h.closed, { error: null, cause: 'unreachable' });
    assert.equal(h.listener!.synQueue.size, 0);
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.listener!.closed, false);
  });

  test('SHLD-26 once synchronized: a port unreachable is kept as a soft error (RFC 9293 §3.9.2.2 note, Linux); the connection goes on', () => {
    const h = fixture('ESTABLISHED');
    const errs = softErrors(h);
    h.write(100);
    h.expectOne({ flags: 'PA', len: 100 });
    h.stack.input(icmp(h, 3, 3, { seq: h.L }));
    h.expectNothing();
    h.expectState('ESTABLISHED');
    assert.deepEqual(errs, ['ECONNREFUSED']);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 100 });
  });

  test('TIME-WAIT ignores ICMP errors (Linux tcp_v4_err)', () => {
    const h = fixture('TIME-WAIT');
    h.stack.input(icmp(h, 3, 3, { seq: h.L + 1 }));
    h.expectNothing();
    h.expectState('TIME-WAIT');
  });
});

describe('RFC 1191 Path MTU Discovery (RFC 9293 SHLD-6, RFC 7323 §5.7)', () => {
  test('RFC 1191 §6.2/§6.4: a Datagram Too Big (next-hop MTU 1000) lowers the send MSS to 960 and resends the dropped data at once in 960-byte segments', () => {
    const h = fixture('ESTABLISHED');
    h.write(2920);
    h.expectOut([{ flags: 'A', seq: h.L, len: 1460 }, { flags: 'PA', seq: h.L + 1460, len: 1460 }]);
    const cwndSegs = h.c.cc.cwnd / h.c.effMss;
    h.stack.input(icmp(h, 3, 4, { seq: h.L }, 1000));
    h.expectOut([
      { flags: 'A', seq: h.L, len: 960 }, { flags: 'A', seq: h.L + 960, len: 960 },
      { flags: 'A', seq: h.L + 1920, len: 960 }, { flags: 'PA', seq: h.L + 2880, len: 40 },
    ]);
    assert.equal(h.c.pmtu, 1000);
    assert.equal(h.c.effMss, 960);
    assert.equal(h.c.status().mss, 960);
    assert.equal(h.c.cc.cwnd / h.c.effMss, cwndSegs, 'the congestion window keeps its size in segments (RFC 5681 §3.1)');
    assert.equal(h.c.softError, null, 'not an error to report');
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
    h.write(2000);
    // (The 80-byte tail goes too: Nagle with Minshall's modification, RFC 9293 Appendix A.3.)
    h.expectOut([{ flags: 'A', seq: h.L + 2920, len: 960 }, { flags: 'A', seq: h.L + 3880, len: 960 }, { flags: 'PA', seq: h.L + 4840, len: 80 }]);
    h.c.abort(h.now);
    h.drain();
  });

  test('RFC 1191 §6.4 Note: further Datagram Too Big messages for the same burst (same or larger MTU) change and retransmit nothing', () => {
    const h = fixture('ESTABLISHED');
    h.write(2920);
    h.drain();
    h.stack.input(icmp(h, 3, 4, { seq: h.L }, 1000));
    assert.equal(h.drain().length, 4);
    h.stack.input(icmp(h, 3, 4, { seq: h.L + 1460 }, 1000));
    h.stack.input(icmp(h, 3, 4, { seq: h.L + 1460 }, 1400));
    h.expectNothing();
    assert.equal(h.c.pmtu, 1000);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 2920 });
  });

  test('RFC 1191 §5: a Datagram Too Big without a next-hop MTU, or one below 552, lowers the PMTU to 552 only (Linux min_pmtu) and remembers EMSGSIZE', () => {
    const h = fixture('ESTABLISHED', { peer: { ts: true } });
    assert.equal(h.c.effMss, 1448);
    h.write(1448);
    h.expectOne({ flags: 'PA', len: 1448 });
    h.stack.input(icmp(h, 3, 4, { seq: h.L }, 0));
    assert.equal(h.c.pmtu, MIN_PMTU);
    assert.equal(h.c.effMss, 552 - 40 - 12, 'timestamps still take 12 bytes (RFC 6691 §3)');
    assert.equal(h.c.softError, 'EMSGSIZE');
    h.expectOut([{ flags: 'A', len: 500 }, { flags: 'A', len: 500 }, { flags: 'PA', len: 448 }]);
    h.stack.input(icmp(h, 3, 4, { seq: h.L }, 300));
    h.expectNothing();
    assert.equal(h.c.pmtu, MIN_PMTU);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1448 });
  });

  test('RFC 1191 §6.4: in SYN-SENT the PMTU is kept for the connection; the MSS we announce stays 1460, the data goes in 960-byte segments', () => {
    const h = fixture('SYN-SENT');
    h.stack.input(icmp(h, 3, 4, { seq: h.iss }, 1000));
    h.expectNothing();
    h.advance(sec(1));
    h.expectOne({ flags: 'S', mss: 1460 });
    h.send({ flags: 'SA', seq: REMOTE_ISN, ack: h.L, options: [{ kind: 'mss', value: 1460 }] });
    h.expectOne({ flags: 'A' });
    assert.equal(h.c.effMss, 960);
    h.write(960);
    h.expectOne({ flags: 'PA', len: 960 });
    h.c.abort(h.now);
    h.drain();
  });

  test('RFC 5927 §4.1: a Datagram Too Big quoting data that is not in flight changes nothing', () => {
    const h = fixture('ESTABLISHED');
    h.write(1460);
    h.expectOne({ flags: 'PA', len: 1460 });
    h.stack.input(icmp(h, 3, 4, { seq: h.L + 1460 }, 600));
    h.expectNothing();
    assert.equal(h.c.effMss, 1460);
    h.send({ flags: 'A', seq: h.R, ack: h.L + 1460 });
  });
});
