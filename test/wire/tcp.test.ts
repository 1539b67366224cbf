import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitTcp, flagsToString, parseTcp, tcpHeaderLength, TcpView,
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_MIN_HEADER, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
} from '../../src/wire/tcp.js';
import type { TcpEmitFields, TcpSegment } from '../../src/wire/tcp.js';
import { tcpOptionsLength } from '../../src/wire/tcpoptions.js';
import type { TcpOption } from '../../src/wire/tcpoptions.js';

const SRC = 0xc6120001; // 198.18.0.1
const DST = 0xc6120002; // 198.18.0.2

// Golden segments written from RFC 9293 §3.1 Figure 1. The checksums were computed
// independently (a 16-bit ones'-complement sum in Python over the Figure 2 pseudo-header
// 198.18.0.1 -> 198.18.0.2, protocol 6, plus the segment).

/** A Linux SYN: mss 1460, sackOK, TS, nop, wscale 7 (20 option bytes), ISN just below 2^32. */
const GOLDEN_SYN = Uint8Array.of(
  0x9c, 0x40, 0x00, 0x50, //             source port 40000, destination port 80
  0xff, 0xff, 0xff, 0xfe, //             sequence number 0xfffffffe
  0x00, 0x00, 0x00, 0x00, //             acknowledgment number 0
  0xa0, 0x02, 0xfa, 0xf0, //             DOffset 10 (40 bytes), Rsrvd 0, flags SYN; window 64240
  0x24, 0x57, 0x00, 0x00, //             checksum 0x2457, urgent pointer 0
  0x02, 0x04, 0x05, 0xb4, //             MSS 1460
  0x04, 0x02, //                         SACK-Permitted
  0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, // TS val 1
  0x00, 0x00, 0x00, 0x00, //             TS ecr 0
  0x01, //                               NOP
  0x03, 0x03, 0x07, //                   WS shift 7
);
const SYN_SEG: TcpSegment = {
  srcPort: 40000, dstPort: 80, seq: 0xfffffffe, ack: 0, dataOffset: 40, reserved: 0, flags: TCP_SYN,
  window: 64240, checksum: 0x2457, urgentPointer: 0,
  options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 1, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
  payload: new Uint8Array(0),
};

/** A PSH|ACK data segment with nop,nop,TS and an odd-length payload "hello". */
const GOLDEN_DATA = Uint8Array.of(
  0x9c, 0x40, 0x00, 0x50, //             ports 40000 -> 80
  0x00, 0x00, 0x00, 0x01, //             seq 1
  0x80, 0x00, 0x00, 0x00, //             ack 0x80000000
  0x80, 0x18, 0x01, 0xf6, //             DOffset 8 (32 bytes), flags ACK|PSH; window 502
  0x22, 0xa7, 0x00, 0x00, //             checksum 0x22a7, urgent pointer 0
  0x01, 0x01, 0x08, 0x0a, //             NOP NOP TS(kind 8, len 10)
  0x01, 0x02, 0x03, 0x04, //             TS val 0x01020304
  0xa0, 0xb0, 0xc0, 0xd0, //             TS ecr 0xa0b0c0d0
  0x68, 0x65, 0x6c, 0x6c, 0x6f, //       "hello"
);
const DATA_SEG: TcpSegment = {
  srcPort: 40000, dstPort: 80, seq: 1, ack: 0x80000000, dataOffset: 32, reserved: 0, flags: TCP_ACK | TCP_PSH,
  window: 502, checksum: 0x22a7, urgentPointer: 0,
  options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 0x01020304, ecr: 0xa0b0c0d0 }],
  payload: new TextEncoder().encode('hello'),
};

/** An ACK carrying nop,nop,TS + nop,nop,SACK with one block that crosses the wrap. */
const GOLDEN_SACK = Uint8Array.of(
  0x00, 0x50, 0x9c, 0x40, //             ports 80 -> 40000
  0x00, 0x00, 0x00, 0x07, //             seq 7
  0xff, 0xff, 0xff, 0x00, //             ack 0xffffff00
  0xb0, 0x10, 0xff, 0xff, //             DOffset 11 (44 bytes), flags ACK; window 65535
  0x0d, 0x2d, 0x00, 0x00, //             checksum 0x0d2d, urgent pointer 0
  0x01, 0x01, 0x08, 0x0a, //             NOP NOP TS
  0x00, 0x00, 0x03, 0xe8, //             TS val 1000
  0x00, 0x00, 0x07, 0xd0, //             TS ecr 2000
  0x01, 0x01, 0x05, 0x0a, //             NOP NOP SACK(kind 5, len 10 = 1 block)
  0xff, 0xff, 0xff, 0xf0, //             left edge 0xfffffff0
  0x00, 0x00, 0x00, 0x10, //             right edge 0x10
);
const SACK_SEG: TcpSegment = {
  srcPort: 80, dstPort: 40000, seq: 7, ack: 0xffffff00, dataOffset: 44, reserved: 0, flags: TCP_ACK,
  window: 65535, checksum: 0x0d2d, urgentPointer: 0,
  options: [
    { kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 1000, ecr: 2000 },
    { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[0xfffffff0, 0x10]] },
  ],
  payload: new Uint8Array(0),
};

/** SYN|FIN together (a classic scanner probe) with reserved bits 0101 set. */
const GOLDEN_SYNFIN = Uint8Array.of(
  0x00, 0x01, 0x00, 0x02, //             ports 1 -> 2
  0x12, 0x34, 0x56, 0x78, //             seq 0x12345678
  0x00, 0x00, 0x00, 0x00, //             ack 0
  0x55, 0x03, 0x04, 0x00, //             DOffset 5, Rsrvd 0101, flags SYN|FIN; window 1024
  0xb2, 0x0a, 0x00, 0x00, //             checksum 0xb20a, urgent pointer 0
);
const SYNFIN_SEG: TcpSegment = {
  srcPort: 1, dstPort: 2, seq: 0x12345678, ack: 0, dataOffset: 20, reserved: 5, flags: TCP_SYN | TCP_FIN,
  window: 1024, checksum: 0xb20a, urgentPointer: 0, options: [], payload: new Uint8Array(0),
};

/** URG|ACK|PSH with urgent pointer 3 over the payload "abc". */
const GOLDEN_URG = Uint8Array.of(
  0x13, 0x88, 0x00, 0x17, //             ports 5000 -> 23
  0x00, 0x00, 0x00, 0x64, //             seq 100
  0x00, 0x00, 0x00, 0xc8, //             ack 200
  0x50, 0x38, 0x20, 0x00, //             DOffset 5, flags URG|ACK|PSH; window 8192
  0x2a, 0x51, 0x00, 0x03, //             checksum 0x2a51, urgent pointer 3
  0x61, 0x62, 0x63, //                   "abc"
);
const URG_SEG: TcpSegment = {
  srcPort: 5000, dstPort: 23, seq: 100, ack: 200, dataOffset: 20, reserved: 0, flags: TCP_URG | TCP_ACK | TCP_PSH,
  window: 8192, checksum: 0x2a51, urgentPointer: 3, options: [], payload: new TextEncoder().encode('abc'),
};

function fieldsOf(s: TcpSegment): TcpEmitFields {
  return {
    srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window,
    urgentPointer: s.urgentPointer, reserved: s.reserved, options: s.options,
  };
}

function emit(f: TcpEmitFields, payload: Uint8Array | null, off = 0): Uint8Array {
  const len = tcpHeaderLength(f) + (payload?.length ?? 0);
  const out = new Uint8Array(off + len + 5).fill(0xcc);
  assert.equal(emitTcp(f, payload, SRC, DST, out, off), len);
  return out.subarray(off, off + len);
}

describe('tcp header: golden segments', () => {
  const goldens: Array<[string, Uint8Array, TcpSegment]> = [
    ['Linux SYN with mss,sackOK,TS,nop,wscale', GOLDEN_SYN, SYN_SEG],
    ['data segment with nop,nop,TS and odd payload', GOLDEN_DATA, DATA_SEG],
    ['ACK with TS and a SACK block', GOLDEN_SACK, SACK_SEG],
    ['SYN+FIN with reserved bits', GOLDEN_SYNFIN, SYNFIN_SEG],
    ['urgent pointer', GOLDEN_URG, URG_SEG],
  ];
  for (const [name, bytes, seg] of goldens) {
    test(`${name}: parse`, () => {
      const r = parseTcp(bytes, { src: SRC, dst: DST });
      assert.ok(r.ok, r.ok ? '' : r.error.reason);
      assert.deepEqual(r.value, seg);
      // The payload is a view, not a copy.
      assert.equal(r.value.payload.buffer, bytes.buffer);
    });
    test(`${name}: emit`, () => {
      assert.deepEqual(emit(fieldsOf(seg), seg.payload), bytes);
      assert.deepEqual(emit(fieldsOf(seg), seg.payload, 3), bytes); // odd offset: checksum alignment
    });
    test(`${name}: view`, () => {
      const v = new TcpView();
      assert.equal(v.reset(bytes), null);
      assert.equal(v.buf, bytes);
      assert.deepEqual(
        [v.srcPort, v.dstPort, v.seq, v.ack, v.dataOffset, v.reserved, v.flags, v.window, v.checksum, v.urgentPointer],
        [seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.dataOffset, seg.reserved, seg.flags, seg.window, seg.checksum, seg.urgentPointer],
      );
      assert.equal(v.optionsOffset, 20);
      assert.equal(v.optionsLength, seg.dataOffset - 20);
      assert.equal(v.payloadOffset, seg.dataOffset);
      assert.equal(v.payloadLength, seg.payload.length);
      assert.deepEqual(v.payload(), seg.payload);
      assert.equal(v.checksumOk(SRC, DST), true);
      assert.equal(v.checksumOk(SRC, DST + 1), false);
    });
  }

  test('emitting without options or payload gives a 20-byte header', () => {
    const b = emit({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_RST, window: 0 }, null);
    assert.equal(b.length, TCP_MIN_HEADER);
    assert.equal(b[12], 0x50);
    const r = parseTcp(b, { src: SRC, dst: DST });
    assert.ok(r.ok);
    assert.equal(r.value.flags, TCP_RST);
    assert.equal(r.value.reserved, 0);
  });

  test('int32 seq/ack (from bit operations) are written mod 2^32', () => {
    const b = emit({ srcPort: 1, dstPort: 2, seq: -1, ack: -2, flags: TCP_ACK, window: 1 }, null);
    const r = parseTcp(b);
    assert.ok(r.ok);
    assert.equal(r.value.seq, 0xffffffff);
    assert.equal(r.value.ack, 0xfffffffe);
  });
});

describe('tcp header: malformed', () => {
  test('shorter than 20 bytes is truncated', () => {
    for (let n = 0; n < 20; n++) {
      const b = GOLDEN_SYN.slice(0, n);
      const r = parseTcp(b, { src: SRC, dst: DST });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'truncated');
      assert.equal(new TcpView().reset(b)?.kind, 'truncated');
    }
  });

  test('data offset below 5 or beyond the segment', () => {
    for (const [doff, len] of [[0, 20], [4, 40], [6, 20], [15, 56], [11, 40]]) {
      const b = new Uint8Array(len);
      b[12] = doff << 4;
      const r = parseTcp(b);
      assert.ok(!r.ok, `doff ${doff} len ${len}`);
      assert.equal(r.error.kind, 'bad-data-offset');
      assert.equal(new TcpView().reset(b)?.kind, 'bad-data-offset');
    }
    // The edge: DOffset 15 with exactly 60 bytes is fine.
    const b = new Uint8Array(60);
    b[12] = 0xf0;
    b.fill(1, 20, 60); // forty NOPs
    const r = parseTcp(b);
    assert.ok(r.ok);
    assert.equal(r.value.options.length, 40);
    assert.equal(r.value.payload.length, 0);
  });

  test('bad options give bad-option (after the checksum)', () => {
    const b = GOLDEN_SYN.slice();
    b[21] = 5; // MSS length 5
    const noVerify = parseTcp(b);
    assert.ok(!noVerify.ok);
    assert.equal(noVerify.error.kind, 'bad-option');
    // With the pseudo-header the corruption is first seen as a checksum error.
    const verify = parseTcp(b, { src: SRC, dst: DST });
    assert.ok(!verify.ok);
    assert.equal(verify.error.kind, 'bad-checksum');
    // A view does not look at options.
    assert.equal(new TcpView().reset(b), null);
  });

  test('bad checksum is detected only when asked', () => {
    const b = GOLDEN_DATA.slice();
    b[b.length - 1] ^= 0x01;
    const r = parseTcp(b, { src: SRC, dst: DST });
    assert.ok(!r.ok);
    assert.equal(r.error.kind, 'bad-checksum');
    assert.match(r.error.reason, /0x22a7/);
    assert.ok(parseTcp(b).ok);
    assert.ok(parseTcp(b, { src: SRC }).ok);
    assert.ok(parseTcp(b, { src: SRC, dst: DST, verifyChecksum: false }).ok);
    assert.ok(!parseTcp(GOLDEN_DATA, { src: SRC, dst: DST + 1 }).ok); // misrouted (RFC 9293 §3.1)
  });

  test('a failed reset leaves an empty view, never the previous segment', () => {
    const v = new TcpView();
    assert.equal(v.reset(GOLDEN_URG), null);
    assert.equal(v.srcPort, 5000);
    assert.notEqual(v.reset(new Uint8Array(3)), null);
    assert.equal(v.srcPort, 0);
    assert.equal(v.payloadLength, 0);
    assert.equal(v.dataOffset, 20);
    assert.equal(v.payload().length, 0);
  });

  test('emit rejects values that do not fit (caller bugs)', () => {
    const base: TcpEmitFields = { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 0, window: 0 };
    const out = new Uint8Array(100);
    assert.throws(() => emitTcp({ ...base, srcPort: 65536 }, null, SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp({ ...base, window: -1 }, null, SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp({ ...base, flags: 0x100 }, null, SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp({ ...base, reserved: 16 }, null, SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp({ ...base, urgentPointer: 1e6 }, null, SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp(base, new Uint8Array(81), SRC, DST, out, 0), RangeError);
    assert.throws(() => emitTcp(base, null, SRC, DST, out, 81), RangeError);
    const tooMany: TcpOption[] = new Array(41).fill({ kind: 'nop' });
    assert.throws(() => tcpHeaderLength({ options: tooMany }), RangeError);
    assert.equal(tcpHeaderLength({ options: tooMany.slice(1) }), 60);
    assert.equal(tcpHeaderLength({ options: tooMany.slice(3) }), 60); // 38 -> padded 40
    assert.equal(tcpHeaderLength({}), 20);
  });
});

describe('tcp flags', () => {
  test('tcpdump letters in tcpdump order', () => {
    assert.equal(flagsToString(TCP_SYN), 'S');
    assert.equal(flagsToString(TCP_SYN | TCP_ACK), 'S.');
    assert.equal(flagsToString(TCP_FIN | TCP_ACK), 'F.');
    assert.equal(flagsToString(TCP_PSH | TCP_ACK), 'P.');
    assert.equal(flagsToString(TCP_RST | TCP_ACK), 'R.');
    assert.equal(flagsToString(TCP_ACK), '.');
    assert.equal(flagsToString(TCP_SYN | TCP_FIN), 'SF');
    assert.equal(flagsToString(TCP_SYN | TCP_ECE | TCP_CWR), 'SEW');
    assert.equal(flagsToString(0xff), 'SFRP.UEW');
    assert.equal(flagsToString(0), 'none');
  });
});

// ---- properties ----

const u32 = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0xfffffff0, max: 0xffffffff }),
  fc.integer({ min: 0, max: 16 }),
  fc.integer({ min: 0x7ffffff0, max: 0x80000010 }),
);

const arbOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  fc.integer({ min: 0, max: 0xffff }).map((value): TcpOption => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 255 }).map((shift): TcpOption => ({ kind: 'wscale', shift })),
  fc.constant<TcpOption>({ kind: 'sackOK' }),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 }).map((blocks): TcpOption => ({ kind: 'sack', blocks })),
  fc.tuple(u32, u32).map(([val, ecr]): TcpOption => ({ kind: 'ts', val, ecr })),
  fc.record({
    type: fc.integer({ min: 9, max: 255 }),
    data: fc.uint8Array({ maxLength: 8 }),
  }).map(({ type, data }): TcpOption => ({ kind: 'unknown', type, data })),
);

const arbOptions = fc.array(arbOption, { maxLength: 8 }).map((opts) => {
  const out: TcpOption[] = [];
  for (const o of opts) if (tcpOptionsLength([...out, o]) <= 40) out.push(o);
  return out;
});

const arbFields: fc.Arbitrary<TcpEmitFields> = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  seq: u32,
  ack: u32,
  flags: fc.integer({ min: 0, max: 0xff }),
  window: fc.integer({ min: 0, max: 0xffff }),
  urgentPointer: fc.integer({ min: 0, max: 0xffff }),
  reserved: fc.integer({ min: 0, max: 15 }),
  options: arbOptions,
});

const arbPayload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.integer({ min: 0, max: 1460 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff)),
);

describe('tcp header: properties', () => {
  test('parse(emit(x)) == x, and the view agrees', () => {
    fc.assert(fc.property(arbFields, arbPayload, fc.nat(7), u32, u32, (f, payload, off, src, dst) => {
      const len = tcpHeaderLength(f) + payload.length;
      const out = new Uint8Array(off + len);
      assert.equal(emitTcp(f, payload, src, dst, out, off), len);
      const seg = out.subarray(off);
      const r = parseTcp(seg, { src, dst });
      assert.ok(r.ok, r.ok ? '' : r.error.reason);
      const p = r.value;
      assert.deepEqual(
        { srcPort: p.srcPort, dstPort: p.dstPort, seq: p.seq, ack: p.ack, flags: p.flags, window: p.window,
          urgentPointer: p.urgentPointer, reserved: p.reserved, options: p.options },
        { ...f },
      );
      assert.equal(p.dataOffset, tcpHeaderLength(f));
      assert.deepEqual(p.payload, payload);
      const v = new TcpView();
      assert.equal(v.reset(seg), null);
      assert.equal(v.seq, f.seq);
      assert.equal(v.ack, f.ack);
      assert.equal(v.checksum, p.checksum);
      assert.equal(v.payloadLength, payload.length);
      assert.equal(v.checksumOk(src, dst), true);
    }), { numRuns: 1500 });
  });

  test('any single-bit error is caught by the checksum', () => {
    fc.assert(fc.property(arbFields, fc.uint8Array({ maxLength: 100 }), fc.nat(), fc.nat(7), (f, payload, at, bit) => {
      const seg = emit(f, payload).slice();
      const i = at % seg.length;
      seg[i]! ^= 1 << bit;
      const r = parseTcp(seg, { src: SRC, dst: DST });
      // Corrupting DOffset can also make the header itself invalid, which is reported first.
      assert.ok(!r.ok);
      assert.ok(['bad-checksum', 'bad-data-offset'].includes(r.error.kind), r.error.kind);
    }), { numRuns: 1500 });
  });
});
