import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseIcmp, parseIcmpQuote, emitIcmpEcho, emitIcmpDestUnreachable, icmpEchoLength, icmpDestUnreachableLength,
  isIcmpEcho, isIcmpDestUnreachable, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED,
  type IcmpMessage,
} from '../../src/wire/icmp.js';
import { emitIpv4Header } from '../../src/wire/ipv4.js';
import type { ParseResult } from '../../src/wire/errors.js';

function must<T>(r: ParseResult<T>): T {
  if (!r.ok) assert.fail(`${r.error.kind}: ${r.error.reason}`);
  return r.value;
}

// RFC 792 p.14, Echo Request.
const GOLDEN_ECHO = Uint8Array.of(
  0x08, 0x00, // type 8 (echo request) | code 0
  0x21, 0x04, // checksum = ~(0800 + 1234 + 0001 + 6162 + 6364)
  0x12, 0x34, // identifier
  0x00, 0x01, // sequence number
  0x61, 0x62, 0x63, 0x64, // data "abcd"
);
// Odd data length: the last byte is padded with a zero for the checksum (RFC 792, RFC 1071 §1).
const GOLDEN_ECHO_ODD = Uint8Array.of(
  0x08, 0x00, 0x21, 0x68, // type 8 | code 0 | checksum
  0x12, 0x34, 0x00, 0x01, // identifier | sequence
  0x61, 0x62, 0x63, // data "abc"
);

// The datagram a "fragmentation needed" error quotes: a 1500-byte TCP segment with DF set.
const QUOTED_IP_HEADER = Uint8Array.of(
  0x45, 0x00, 0x05, 0xdc, // version 4, IHL 5 | TOS 0 | total length 1500
  0xab, 0xcd, 0x40, 0x00, // identification | DF, offset 0
  0x40, 0x06, 0xfd, 0x26, // TTL 64 | TCP | header checksum
  0xc6, 0x12, 0x00, 0x01, // source 198.18.0.1
  0xc6, 0x12, 0x00, 0x02, // destination 198.18.0.2
);
const QUOTED_TCP_8 = Uint8Array.of(
  0xc0, 0x01, 0x00, 0x50, // source port 49153 | destination port 80
  0x01, 0x02, 0x03, 0x04, // sequence number
);
// RFC 792 p.4 Destination Unreachable, code 4 with RFC 1191 §4 Next-Hop MTU.
const GOLDEN_UNREACH = Uint8Array.of(
  0x03, 0x04, // type 3 | code 4 (fragmentation needed and DF set)
  0x32, 0xc8, // checksum
  0x00, 0x00, 0x05, 0xdc, // unused | next-hop MTU 1500
  ...QUOTED_IP_HEADER, ...QUOTED_TCP_8, // internet header + 64 bits of original data
);

function originalDatagram(): Uint8Array {
  const pkt = new Uint8Array(1500);
  pkt.set(QUOTED_IP_HEADER);
  pkt.set(QUOTED_TCP_8, 20);
  for (let i = 28; i < 1500; i++) pkt[i] = i & 0xff;
  return pkt;
}

describe('icmp: golden messages (RFC 792)', () => {
  test('parse echo request', () => {
    const m = must(parseIcmp(GOLDEN_ECHO));
    assert.ok(isIcmpEcho(m));
    assert.equal(m.type, ICMP_ECHO_REQUEST);
    assert.equal(m.code, 0);
    assert.equal(m.checksum, 0x2104);
    assert.equal(m.identifier, 0x1234);
    assert.equal(m.sequence, 1);
    assert.deepEqual([...m.data], [0x61, 0x62, 0x63, 0x64]);
    const odd = must(parseIcmp(GOLDEN_ECHO_ODD));
    assert.ok(isIcmpEcho(odd) && odd.data.length === 3);
  });

  test('emit echo request byte for byte (even and odd data)', () => {
    const out = new Uint8Array(20).fill(0xee);
    assert.equal(emitIcmpEcho(8, 0x1234, 1, Uint8Array.of(0x61, 0x62, 0x63, 0x64), out, 3), 12);
    assert.deepEqual(out.subarray(3, 15), GOLDEN_ECHO);
    assert.equal(out[2], 0xee);
    assert.equal(out[15], 0xee);
    const odd = new Uint8Array(icmpEchoLength(3));
    emitIcmpEcho(8, 0x1234, 1, Uint8Array.of(0x61, 0x62, 0x63), odd, 0);
    assert.deepEqual(odd, GOLDEN_ECHO_ODD);
  });

  test('echo reply round trip', () => {
    const out = new Uint8Array(icmpEchoLength(5));
    emitIcmpEcho(ICMP_ECHO_REPLY, 0xffff, 0xfffe, Uint8Array.of(1, 2, 3, 4, 5), out, 0);
    const m = must(parseIcmp(out));
    assert.ok(isIcmpEcho(m));
    assert.deepEqual({ t: m.type, id: m.identifier, seq: m.sequence, d: [...m.data] }, { t: 0, id: 0xffff, seq: 0xfffe, d: [1, 2, 3, 4, 5] });
  });

  test('parse dest unreachable (frag needed) and its quote', () => {
    const m = must(parseIcmp(GOLDEN_UNREACH));
    assert.ok(isIcmpDestUnreachable(m));
    assert.equal(m.type, ICMP_DEST_UNREACH);
    assert.equal(m.code, 4);
    assert.equal(m.nextHopMtu, 1500);
    assert.equal(m.quoted.length, 28);
    const q = must(parseIcmpQuote(m.quoted));
    assert.equal(q.ip.totalLength, 1500); // the original length, though only 28 bytes are quoted
    assert.equal(q.ip.protocol, 6);
    assert.equal(q.ip.src, 0xc6120001);
    assert.equal(q.ip.checksumOk, true);
    assert.deepEqual([...q.transport], [...QUOTED_TCP_8]);
  });

  test('nextHopMtu is only read for code 4', () => {
    const out = new Uint8Array(icmpDestUnreachableLength(originalDatagram()));
    emitIcmpDestUnreachable(3, originalDatagram(), out, 0, 1500);
    const m = must(parseIcmp(out));
    assert.ok(isIcmpDestUnreachable(m));
    assert.equal(m.nextHopMtu, 0);
  });

  test('emit dest unreachable byte for byte, quoting header + 8 bytes', () => {
    const pkt = originalDatagram();
    assert.equal(icmpDestUnreachableLength(pkt), 36);
    const out = new Uint8Array(40);
    assert.equal(emitIcmpDestUnreachable(4, pkt, out, 2, 1500), 36);
    assert.deepEqual(out.subarray(2, 38), GOLDEN_UNREACH);
  });

  test('dest unreachable quotes IP options and never more than the datagram', () => {
    const opts = new Uint8Array(8).fill(1);
    const pkt = new Uint8Array(28 + 3);
    emitIpv4Header({ ttl: 9, protocol: 17, src: 1, dst: 2, options: opts }, 3, pkt, 0);
    assert.equal(icmpDestUnreachableLength(pkt), 8 + 31);
    const padded = new Uint8Array(60); // link padding past total length is not quoted
    padded.set(pkt);
    assert.equal(icmpDestUnreachableLength(padded), 8 + 31);
    const big = new Uint8Array(100);
    emitIpv4Header({ ttl: 9, protocol: 17, src: 1, dst: 2, options: opts }, 72, big, 0);
    assert.equal(icmpDestUnreachableLength(big), 8 + 28 + 8);
  });

  test('other types keep bytes 4.. as rest', () => {
    const b = Uint8Array.of(ICMP_TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0, ...QUOTED_IP_HEADER, ...QUOTED_TCP_8);
    const m: IcmpMessage = must(parseIcmp(b, { verifyChecksum: false }));
    assert.ok(!isIcmpEcho(m) && !isIcmpDestUnreachable(m));
    assert.ok('rest' in m);
    assert.equal(m.rest.length, 32);
  });
});

describe('icmp: malformed input', () => {
  test('truncated below 8 bytes', () => {
    for (let n = 0; n < 8; n++) {
      const r = parseIcmp(GOLDEN_ECHO.subarray(0, n));
      assert.ok(!r.ok && r.error.kind === 'truncated');
    }
  });
  test('any single-bit flip is a bad checksum; verifyChecksum:false parses anyway', () => {
    for (let i = 0; i < GOLDEN_ECHO.length * 8; i++) {
      const b = GOLDEN_ECHO.slice();
      b[i >> 3]! ^= 1 << (i & 7);
      const r = parseIcmp(b);
      assert.ok(!r.ok && r.error.kind === 'bad-checksum', `bit ${i}`);
      assert.ok(parseIcmp(b, { verifyChecksum: false }).ok);
    }
  });
  test('quote too short', () => {
    const r = parseIcmpQuote(GOLDEN_UNREACH.subarray(8, 8 + 27));
    assert.ok(!r.ok && r.error.kind === 'truncated');
    const r2 = parseIcmpQuote(GOLDEN_UNREACH.subarray(8, 8 + 19));
    assert.ok(!r2.ok && r2.error.kind === 'truncated');
  });
  test('emit into a too-small buffer is a RangeError', () => {
    assert.throws(() => emitIcmpEcho(8, 1, 1, new Uint8Array(10), new Uint8Array(17), 0), RangeError);
    assert.throws(() => emitIcmpDestUnreachable(1, originalDatagram(), new Uint8Array(35), 0), RangeError);
  });
});

describe('icmp: properties', () => {
  test('echo parse(emit(x)) == x', () => {
    fc.assert(fc.property(fc.constantFrom<0 | 8>(0, 8), fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 1500 }), fc.nat(7),
      (type, id, seq, data, off) => {
        const out = new Uint8Array(off + icmpEchoLength(data.length));
        assert.equal(emitIcmpEcho(type, id, seq, data, out, off), icmpEchoLength(data.length));
        const m = must(parseIcmp(out.subarray(off)));
        assert.ok(isIcmpEcho(m));
        assert.deepEqual({ type: m.type, code: m.code, id: m.identifier, seq: m.sequence, data: m.data.slice() },
          { type, code: 0, id, seq, data });
      }), { numRuns: 1000 });
  });

  test('dest unreachable parse(emit(x)) quotes the original', () => {
    fc.assert(fc.property(fc.nat(15), fc.nat(0xffff), fc.nat(10), fc.nat(100), (code, mtu, optWords, payloadLen) => {
      const opts = new Uint8Array(optWords * 4);
      const pkt = new Uint8Array(20 + opts.length + payloadLen);
      emitIpv4Header({ ttl: 64, protocol: 6, src: 0x0a000001, dst: 0x0a000002, options: opts }, payloadLen, pkt, 0);
      const out = new Uint8Array(icmpDestUnreachableLength(pkt));
      emitIcmpDestUnreachable(code, pkt, out, 0, mtu);
      const m = must(parseIcmp(out));
      assert.ok(isIcmpDestUnreachable(m));
      assert.equal(m.code, code);
      assert.equal(m.nextHopMtu, code === 4 ? mtu : 0);
      assert.deepEqual(m.quoted.slice(), pkt.subarray(0, Math.min(pkt.length, 20 + opts.length + 8)));
      const q = parseIcmpQuote(m.quoted);
      assert.equal(q.ok, payloadLen >= 8);
    }), { numRuns: 1000 });
  });

  test('fuzz: 20k random buffers never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (b, verify) => {
      const r = parseIcmp(b, { verifyChecksum: verify });
      if (r.ok && isIcmpDestUnreachable(r.value)) parseIcmpQuote(r.value.quoted);
      parseIcmpQuote(b);
    }), { numRuns: 20000 });
  });

  test('fuzz: 20k mutations of a dest unreachable never throw', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(35), fc.nat(255)), { maxLength: 4 }), fc.nat(36), (muts, cut) => {
      const b = GOLDEN_UNREACH.slice(0, cut);
      for (const [i, v] of muts) if (i < b.length) b[i] = v;
      const r = parseIcmp(b, { verifyChecksum: false });
      if (r.ok && isIcmpDestUnreachable(r.value)) parseIcmpQuote(r.value.quoted);
    }), { numRuns: 20000 });
  });
});
