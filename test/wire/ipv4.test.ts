import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseIpv4, emitIpv4Header, ipv4HeaderLength, IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER,
  type Ipv4Fields, type Ipv4Packet,
} from '../../src/wire/ipv4.js';
import { parseIpv4Address, formatIpv4Address, parseCidr, prefixMask, inPrefix } from '../../src/wire/ipv4addr.js';
import type { ParseErrorKind, ParseResult } from '../../src/wire/errors.js';

function mustParse(b: Uint8Array, opts?: Parameters<typeof parseIpv4>[1]): Ipv4Packet {
  const r = parseIpv4(b, opts);
  if (!r.ok) assert.fail(`${r.error.kind}: ${r.error.reason}`);
  return r.value;
}

function errKind<T>(r: ParseResult<T>): ParseErrorKind | 'ok' {
  return r.ok ? 'ok' : r.error.kind;
}

// RFC 791 §3.1 layout. A UDP datagram header whose checksum (b861) is the widely used worked
// example; 95 bytes of payload follow (total length 0x73 = 115).
const GOLDEN_UDP = Uint8Array.of(
  0x45, 0x00, // version 4, IHL 5 (20 bytes) | DSCP 0, ECN 0
  0x00, 0x73, // total length 115
  0x00, 0x00, // identification 0
  0x40, 0x00, // flags: DF (0b010), fragment offset 0
  0x40, 0x11, // TTL 64 | protocol 17 (UDP)
  0xb8, 0x61, // header checksum
  0xc0, 0xa8, 0x00, 0x01, // source 192.168.0.1
  0xc0, 0xa8, 0x00, 0xc7, // destination 192.168.0.199
);

// IHL 6 with 4 option bytes, ECN-capable, a non-first fragment with MF set.
const GOLDEN_OPTS = Uint8Array.of(
  0x46, 0xba, // version 4, IHL 6 (24 bytes) | DSCP 46 (EF) << 2 | ECN 2 (ECT(0))
  0x00, 0x1c, // total length 28
  0x12, 0x34, // identification 0x1234
  0x20, 0x08, // flags: MF (0b001), fragment offset 8 units = 64 bytes
  0x40, 0x06, // TTL 64 | protocol 6 (TCP)
  0xb8, 0xbd, // header checksum
  0xc6, 0x12, 0x00, 0x01, // source 198.18.0.1
  0xc6, 0x12, 0x00, 0x02, // destination 198.18.0.2
  0x01, 0x01, 0x01, 0x00, // options: NOP NOP NOP EOL (RFC 791 §3.1)
  0xde, 0xad, 0xbe, 0xef, // payload
);

describe('ipv4: golden packets (RFC 791 §3.1)', () => {
  test('parse the UDP example header', () => {
    const buf = new Uint8Array(115 + 6); // 6 bytes of trailing link padding
    buf.set(GOLDEN_UDP);
    for (let i = 20; i < 115; i++) buf[i] = i;
    const p = mustParse(buf);
    assert.deepEqual(
      { ...p, options: [...p.options], payload: p.payload.length },
      {
        version: 4, headerLength: 20, dscp: 0, ecn: 0, totalLength: 115, identification: 0,
        dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_UDP,
        checksum: 0xb861, src: 0xc0a80001, dst: 0xc0a800c7, options: [], payload: 95,
        isFragment: false, checksumOk: true,
      },
    );
    assert.equal(p.payload[0], 20); // view starts right after the header...
    assert.equal(p.payload.buffer, buf.buffer); // ...and is not a copy
  });

  test('emit the UDP example header byte for byte', () => {
    const out = new Uint8Array(20);
    const n = emitIpv4Header({
      identification: 0, dontFragment: true, ttl: 64, protocol: IPPROTO_UDP,
      src: parseIpv4Address('192.168.0.1')!, dst: parseIpv4Address('192.168.0.199')!,
    }, 95, out, 0);
    assert.equal(n, 20);
    assert.deepEqual(out, GOLDEN_UDP);
  });

  test('parse and emit the options/fragment packet', () => {
    const p = mustParse(GOLDEN_OPTS);
    assert.equal(p.headerLength, 24);
    assert.equal(p.dscp, 46);
    assert.equal(p.ecn, 2);
    assert.equal(p.identification, 0x1234);
    assert.equal(p.dontFragment, false);
    assert.equal(p.moreFragments, true);
    assert.equal(p.fragmentOffset, 64);
    assert.equal(p.isFragment, true);
    assert.equal(p.protocol, IPPROTO_TCP);
    assert.equal(formatIpv4Address(p.src), '198.18.0.1');
    assert.equal(formatIpv4Address(p.dst), '198.18.0.2');
    assert.deepEqual([...p.options], [1, 1, 1, 0]);
    assert.deepEqual([...p.payload], [0xde, 0xad, 0xbe, 0xef]);

    const out = new Uint8Array(40).fill(0xee);
    const f: Ipv4Fields = {
      dscp: 46, ecn: 2, identification: 0x1234, moreFragments: true, fragmentOffset: 64, ttl: 64,
      protocol: IPPROTO_TCP, src: 0xc6120001, dst: 0xc6120002, options: Uint8Array.of(1, 1, 1, 0),
    };
    assert.equal(ipv4HeaderLength(f), 24);
    assert.equal(emitIpv4Header(f, 4, out, 7), 24);
    assert.deepEqual(out.subarray(7, 31), GOLDEN_OPTS.subarray(0, 24));
    assert.equal(out[6], 0xee); // nothing written outside the header
    assert.equal(out[31], 0xee);
  });

  test('fragment flag: offset alone marks a fragment', () => {
    const full = new Uint8Array(115);
    emitIpv4Header({ fragmentOffset: 8, ttl: 64, protocol: 17, src: 1, dst: 2 }, 95, full, 0);
    assert.deepEqual([full[6], full[7]], [0x00, 0x01]); // no flags, offset field 1 (8 bytes)
    const p = mustParse(full);
    assert.equal(p.fragmentOffset, 8);
    assert.equal(p.moreFragments, false);
    assert.equal(p.isFragment, true);
  });
});

describe('ipv4: malformed input gives the right error', () => {
  const good = (): Uint8Array => {
    const b = new Uint8Array(115);
    b.set(GOLDEN_UDP);
    return b;
  };
  test('truncated: shorter than 20 bytes', () => {
    for (let n = 0; n < 20; n++) assert.equal(errKind(parseIpv4(good().subarray(0, n))), 'truncated');
  });
  test('bad-version', () => {
    const b = good();
    b[0] = 0x65; // version 6
    assert.equal(errKind(parseIpv4(b)), 'bad-version');
    b[0] = 0x05;
    assert.equal(errKind(parseIpv4(b)), 'bad-version');
  });
  test('bad-ihl: IHL < 5', () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const b = good();
      b[0] = 0x40 | ihl;
      assert.equal(errKind(parseIpv4(b)), 'bad-ihl');
    }
  });
  test('truncated: shorter than IHL*4', () => {
    const b = good().subarray(0, 40);
    b[0] = 0x4f; // 60-byte header
    assert.equal(errKind(parseIpv4(b)), 'truncated');
  });
  test('bad-length: total length < IHL*4', () => {
    const b = good();
    b[2] = 0; b[3] = 19;
    assert.equal(errKind(parseIpv4(b, { verifyChecksum: false })), 'bad-length');
  });
  test('truncated: shorter than total length; allowTruncated accepts it', () => {
    const b = good().subarray(0, 114);
    assert.equal(errKind(parseIpv4(b)), 'truncated');
    const p = mustParse(b, { allowTruncated: true });
    assert.equal(p.totalLength, 115);
    assert.equal(p.payload.length, 94);
  });
  test('bad-checksum, and verifyChecksum:false reports checksumOk=false instead', () => {
    for (let i = 0; i < 20; i++) {
      if (i < 4) continue; // version/IHL/length changes hit other errors first
      const b = good();
      b[i]! ^= 0x10;
      assert.equal(errKind(parseIpv4(b)), 'bad-checksum', `byte ${i}`);
      const p = mustParse(b, { verifyChecksum: false });
      assert.equal(p.checksumOk, false);
    }
  });
  test('emit rejects caller bugs with RangeError', () => {
    const f: Ipv4Fields = { ttl: 1, protocol: 6, src: 1, dst: 2 };
    assert.throws(() => emitIpv4Header(f, 0, new Uint8Array(19), 0), RangeError);
    assert.throws(() => emitIpv4Header(f, 0, new Uint8Array(20), 1), RangeError);
    assert.throws(() => emitIpv4Header({ ...f, options: new Uint8Array(3) }, 0, new Uint8Array(60), 0), RangeError);
    assert.throws(() => emitIpv4Header({ ...f, options: new Uint8Array(44) }, 0, new Uint8Array(80), 0), RangeError);
    assert.throws(() => emitIpv4Header({ ...f, fragmentOffset: 12 }, 0, new Uint8Array(20), 0), RangeError);
    assert.throws(() => emitIpv4Header(f, 65516, new Uint8Array(20), 0), RangeError);
    assert.equal(emitIpv4Header(f, 65515, new Uint8Array(20), 0), 20);
  });
});

describe('ipv4: properties', () => {
  const fields = fc.record({
    dscp: fc.nat(63), ecn: fc.nat(3), identification: fc.nat(0xffff), dontFragment: fc.boolean(),
    moreFragments: fc.boolean(), fragmentOffset: fc.nat(8191).map((x) => x * 8), ttl: fc.nat(255),
    protocol: fc.nat(255), src: fc.nat(0xffffffff), dst: fc.nat(0xffffffff),
    options: fc.nat(10).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 })),
  });

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(fields, fc.nat(600), fc.nat(7), (f, payloadLen, off) => {
      const hl = ipv4HeaderLength(f);
      const buf = new Uint8Array(off + hl + payloadLen + 3);
      assert.equal(emitIpv4Header(f, payloadLen, buf, off), hl);
      const p = mustParse(buf.subarray(off));
      assert.deepEqual({
        dscp: p.dscp, ecn: p.ecn, identification: p.identification, dontFragment: p.dontFragment,
        moreFragments: p.moreFragments, fragmentOffset: p.fragmentOffset, ttl: p.ttl, protocol: p.protocol,
        src: p.src, dst: p.dst, options: p.options.slice(),
      }, { ...f, options: f.options.slice() });
      assert.equal(p.version, 4);
      assert.equal(p.headerLength, hl);
      assert.equal(p.totalLength, hl + payloadLen);
      assert.equal(p.payload.length, payloadLen);
      assert.equal(p.isFragment, f.moreFragments || f.fragmentOffset !== 0);
      assert.ok(p.checksumOk);
    }), { numRuns: 2000 });
  });

  test('emit(parse(b)) reproduces a valid header byte for byte', () => {
    fc.assert(fc.property(fields, (f) => {
      const a = new Uint8Array(ipv4HeaderLength(f) + 8);
      emitIpv4Header(f, 8, a, 0);
      const p = mustParse(a);
      const b = new Uint8Array(a.length);
      emitIpv4Header(p, p.payload.length, b, 0);
      assert.deepEqual(b.subarray(0, p.headerLength), a.subarray(0, p.headerLength));
    }), { numRuns: 500 });
  });

  test('fuzz: 20k random buffers never throw, and results are self-consistent', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.boolean(), (b, verify, partial) => {
      if (b.length > 0 && (b.length & 1)) b[0] = 0x40 | (b[0]! & 0x0f); // reach past the version check often
      const r = parseIpv4(b, { verifyChecksum: verify, allowTruncated: partial });
      if (r.ok) {
        const p = r.value;
        assert.ok(p.headerLength >= 20 && p.headerLength <= b.length);
        assert.ok(p.headerLength + p.payload.length <= b.length);
        assert.equal(p.options.length, p.headerLength - 20);
      }
    }), { numRuns: 20000 });
  });

  test('fuzz: 20k mutations of a valid packet never throw', () => {
    const base = new Uint8Array(64);
    emitIpv4Header({ ttl: 64, protocol: 6, src: 1, dst: 2, options: new Uint8Array(8) }, 36, base, 0);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(63), fc.nat(255)), { maxLength: 4 }), fc.nat(64), (muts, cut) => {
      const b = base.slice(0, cut);
      for (const [i, v] of muts) if (i < b.length) b[i] = v;
      parseIpv4(b);
      parseIpv4(b, { verifyChecksum: false, allowTruncated: true });
    }), { numRuns: 20000 });
  });
});

describe('ipv4addr', () => {
  test('parse and format', () => {
    assert.equal(parseIpv4Address('198.18.0.1'), 0xc6120001);
    assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4Address('0.0.0.0'), 0);
    assert.equal(formatIpv4Address(0xc6120001), '198.18.0.1');
    assert.equal(formatIpv4Address(0xffffffff | 0), '255.255.255.255');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..3.4',
      '1.2.3.-4', '0x1.2.3.4', '1.2.3.4/8', '1e2.0.0.1', '١.2.3.4']) {
      assert.equal(parseIpv4Address(bad), null, JSON.stringify(bad));
    }
  });
  test('round trip over all uint32', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), (a) => {
      assert.equal(parseIpv4Address(formatIpv4Address(a)), a);
    }));
  });
  test('cidr, masks, prefixes', () => {
    assert.deepEqual(parseCidr('198.18.0.1/24'), { addr: 0xc6120001, prefixLen: 24 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { addr: 0, prefixLen: 0 });
    for (const bad of ['198.18.0.1', '198.18.0.1/', '198.18.0.1/33', '198.18.0.1/024', '1.2.3/8', '1.2.3.4/8/8']) {
      assert.equal(parseCidr(bad), null, bad);
    }
    assert.equal(prefixMask(0), 0);
    assert.equal(prefixMask(1), 0x80000000);
    assert.equal(prefixMask(24), 0xffffff00);
    assert.equal(prefixMask(32), 0xffffffff);
    assert.throws(() => prefixMask(33), RangeError);
    assert.ok(inPrefix(0xc61200fe, 0xc6120001, 24));
    assert.ok(!inPrefix(0xc6120100, 0xc6120001, 24));
    assert.ok(inPrefix(0x01020304, 0xffffffff, 0));
    assert.ok(inPrefix(0xffffffff, 0xffffffff, 32));
    assert.ok(!inPrefix(0xfffffffe, 0xffffffff, 32));
  });
});

assert.equal(IPV4_MIN_HEADER, 20);
