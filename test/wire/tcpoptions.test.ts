import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  newTcpOptionSummary, parseTcpOptions, scanTcpOptions, summarizeTcpOptions, tcpOptionsLength, writeTcpOptions,
  TCPOPT_EOL, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERMITTED, TCPOPT_TIMESTAMP, TCPOPT_WSCALE,
} from '../../src/wire/tcpoptions.js';
import type { TcpOption, TcpOptionSummary } from '../../src/wire/tcpoptions.js';

/** Summary as a plain object so deepEqual compares only the meaningful SACK slots. */
function plain(s: TcpOptionSummary): object {
  return {
    mss: s.mss, wscale: s.wscale, sackPermitted: s.sackPermitted, tsPresent: s.tsPresent,
    tsVal: s.tsVal, tsEcr: s.tsEcr, sackCount: s.sackCount,
    sackBlocks: Array.from(s.sackBlocks.subarray(0, 2 * s.sackCount)),
  };
}

function encode(opts: TcpOption[]): Uint8Array {
  const out = new Uint8Array(((tcpOptionsLength(opts) + 3) & ~3));
  const n = writeTcpOptions(opts, out, 0);
  assert.equal(n, out.length);
  return out;
}

// Linux's SYN option layout (SPEC: `mss,sackOK,TS,nop,wscale`), 20 bytes, RFC 9293 §3.2,
// RFC 2018 §2, RFC 7323 §3.2 and §2.2.
const LINUX_SYN = Uint8Array.of(
  0x02, 0x04, 0x05, 0xb4, //             MSS kind 2, length 4, 1460
  0x04, 0x02, //                         SACK-Permitted kind 4, length 2
  0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, // TS kind 8, length 10, TSval 1
  0x00, 0x00, 0x00, 0x00, //             TSecr 0
  0x01, //                               NOP
  0x03, 0x03, 0x07, //                   WS kind 3, length 3, shift 7
);
const LINUX_SYN_OPTS: TcpOption[] = [
  { kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 1, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 },
];

describe('tcp options: golden bytes', () => {
  test('constants', () => {
    assert.deepEqual([TCPOPT_EOL, TCPOPT_NOP, TCPOPT_MSS, TCPOPT_WSCALE, TCPOPT_SACK_PERMITTED, TCPOPT_SACK, TCPOPT_TIMESTAMP],
      [0, 1, 2, 3, 4, 5, 8]);
  });

  test('Linux SYN layout parses, scans and re-emits byte for byte', () => {
    const r = parseTcpOptions(LINUX_SYN, 0, LINUX_SYN.length);
    assert.ok(r.ok);
    assert.deepEqual(r.value, LINUX_SYN_OPTS);
    assert.equal(tcpOptionsLength(LINUX_SYN_OPTS), 20);
    assert.deepEqual(encode(LINUX_SYN_OPTS), LINUX_SYN);
    const s = newTcpOptionSummary();
    assert.equal(scanTcpOptions(LINUX_SYN, 0, LINUX_SYN.length, s), null);
    assert.deepEqual(plain(s), {
      mss: 1460, wscale: 7, sackPermitted: true, tsPresent: true, tsVal: 1, tsEcr: 0, sackCount: 0, sackBlocks: [],
    });
  });

  test('data segment layout nop,nop,TS', () => {
    const b = Uint8Array.of(
      0x01, 0x01, //                         NOP NOP (align TS on a word, RFC 7323 Appendix A)
      0x08, 0x0a, 0xff, 0xff, 0xff, 0xff, // TS, TSval 0xffffffff
      0x80, 0x00, 0x00, 0x00, //             TSecr 0x80000000
    );
    const r = parseTcpOptions(b, 0, b.length);
    assert.ok(r.ok);
    assert.deepEqual(r.value, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 0xffffffff, ecr: 0x80000000 }]);
    assert.deepEqual(encode(r.value), b);
    const s = newTcpOptionSummary();
    assert.equal(scanTcpOptions(b, 0, b.length, s), null);
    assert.equal(s.tsPresent, true);
    assert.equal(s.tsVal, 0xffffffff);
    assert.equal(s.tsEcr, 0x80000000);
    assert.equal(s.mss, -1);
    assert.equal(s.wscale, -1);
  });

  test('SACK option with two blocks (RFC 2018 §3: length 8n+2)', () => {
    const b = Uint8Array.of(
      0x01, 0x01, //                         NOP NOP
      0x05, 0x12, //                         SACK kind 5, length 18 = 2 + 8*2
      0xff, 0xff, 0xff, 0xf0, //             left edge 1 = 0xfffffff0 (crosses the wrap)
      0x00, 0x00, 0x00, 0x10, //             right edge 1 = 0x10
      0x00, 0x00, 0x10, 0x00, //             left edge 2 = 4096
      0x00, 0x00, 0x20, 0x00, //             right edge 2 = 8192
    );
    const r = parseTcpOptions(b, 0, b.length);
    assert.ok(r.ok);
    const opts: TcpOption[] = [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[0xfffffff0, 0x10], [4096, 8192]] }];
    assert.deepEqual(r.value, opts);
    assert.deepEqual(encode(opts), b);
    const s = newTcpOptionSummary();
    assert.equal(scanTcpOptions(b, 0, b.length, s), null);
    assert.equal(s.sackCount, 2);
    assert.deepEqual(Array.from(s.sackBlocks.subarray(0, 4)), [0xfffffff0, 0x10, 4096, 8192]);
  });

  test('EOL ends the list; the rest is padding and is not reported', () => {
    const opts: TcpOption[] = [{ kind: 'mss', value: 536 }, { kind: 'wscale', shift: 14 }];
    const b = encode(opts);
    assert.deepEqual(b, Uint8Array.of(0x02, 0x04, 0x02, 0x18, 0x03, 0x03, 0x0e, 0x00 /* EOL pad */));
    const r = parseTcpOptions(b, 0, b.length);
    assert.ok(r.ok);
    assert.deepEqual(r.value, opts);
    // Garbage after EOL is ignored (it would be an invalid option if read).
    const junk = Uint8Array.of(0x01, 0x00, 0x02, 0x00, 0xff);
    const j = parseTcpOptions(junk, 0, junk.length);
    assert.ok(j.ok);
    assert.deepEqual(j.value, [{ kind: 'nop' }]);
    assert.equal(scanTcpOptions(junk, 0, junk.length, newTcpOptionSummary()), null);
  });

  test('an explicit eol is written as one zero byte', () => {
    const opts: TcpOption[] = [{ kind: 'nop' }, { kind: 'eol' }];
    assert.equal(tcpOptionsLength(opts), 2);
    assert.deepEqual(encode(opts), Uint8Array.of(1, 0, 0, 0));
  });

  test('unknown kinds are kept and skipped by length (RFC 9293 §3.1 MUST-6)', () => {
    const b = Uint8Array.of(
      0x1e, 0x04, 0xab, 0xcd, //             kind 30 (MPTCP), length 4, 2 data bytes
      0x22, 0x02, //                         kind 34 (TFO cookie request), length 2, no data
      0x02, 0x04, 0x05, 0xb4, //             MSS 1460
    );
    const r = parseTcpOptions(b, 0, b.length);
    assert.ok(r.ok);
    assert.deepEqual(r.value, [
      { kind: 'unknown', type: 30, data: Uint8Array.of(0xab, 0xcd) },
      { kind: 'unknown', type: 34, data: new Uint8Array(0) },
      { kind: 'mss', value: 1460 },
    ]);
    assert.deepEqual(encode(r.value).subarray(0, b.length), b);
    const s = newTcpOptionSummary();
    assert.equal(scanTcpOptions(b, 0, b.length, s), null);
    assert.equal(s.mss, 1460);
  });

  test('parse respects off/len within a larger buffer', () => {
    const b = new Uint8Array(30).fill(0xee);
    b.set(LINUX_SYN, 5);
    const r = parseTcpOptions(b, 5, 20);
    assert.ok(r.ok);
    assert.deepEqual(r.value, LINUX_SYN_OPTS);
    const empty = parseTcpOptions(b, 5, 0);
    assert.ok(empty.ok);
    assert.deepEqual(empty.value, []);
  });

  test('scan: last duplicate wins, SACK keeps at most 4 blocks, out is reset', () => {
    const b = Uint8Array.of(
      0x02, 0x04, 0x00, 0x01, //  MSS 1
      0x02, 0x04, 0x00, 0x02, //  MSS 2 (wins)
      0x03, 0x03, 0x0f, //        wscale 15 (raw, not clamped)
      0x05, 0x2a, //              SACK, 5 blocks (42 bytes; possible only outside a real header)
      ...new Array(40).fill(0).map((_, i) => i),
    );
    const s = newTcpOptionSummary();
    s.sackPermitted = true;
    s.tsPresent = true;
    assert.equal(scanTcpOptions(b, 0, b.length, s), null);
    assert.equal(s.mss, 2);
    assert.equal(s.wscale, 15);
    assert.equal(s.sackPermitted, false);
    assert.equal(s.tsPresent, false);
    assert.equal(s.sackCount, 4);
    const r = parseTcpOptions(b, 0, b.length);
    assert.ok(r.ok);
    const sack = r.value.find((o) => o.kind === 'sack');
    assert.ok(sack !== undefined && sack.kind === 'sack');
    assert.equal(sack.blocks.length, 5);
    assert.deepEqual(plain(summarizeTcpOptions(r.value)), plain(s));
  });
});

describe('tcp options: malformed', () => {
  const cases: Array<[string, number[]]> = [
    ['length 0 (RFC 9293 MUST-7)', [0x1e, 0x00, 0, 0]],
    ['length 1', [0x1e, 0x01, 0, 0]],
    ['no length byte', [0x01, 0x01, 0x01, 0x02]],
    ['overruns the area', [0x1e, 0x08, 0, 0]],
    ['MSS length 3', [0x02, 0x03, 0x05, 0x00]],
    ['MSS length 5', [0x02, 0x05, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x00]],
    ['WS length 4', [0x03, 0x04, 0x07, 0x00]],
    ['WS length 2', [0x03, 0x02, 0x00, 0x00]],
    ['SACKOK length 3', [0x04, 0x03, 0x00, 0x00]],
    ['TS length 8', [0x08, 0x08, 0, 0, 0, 0, 0, 0]],
    ['TS length 12', [0x08, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['SACK with no block', [0x05, 0x02, 0x00, 0x00]],
    ['SACK length 11', [0x05, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['valid MSS then truncated TS', [0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a, 0, 0]],
  ];
  for (const [name, bytes] of cases) {
    test(name, () => {
      const b = Uint8Array.from(bytes);
      const r = parseTcpOptions(b, 0, b.length);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'bad-option');
      assert.ok(r.error.reason.length > 0);
      assert.deepEqual(scanTcpOptions(b, 0, b.length, newTcpOptionSummary()), r.error);
    });
  }

  test('an area outside the buffer is truncated, not a throw', () => {
    const b = new Uint8Array(8);
    for (const [off, len] of [[0, 9], [-1, 2], [4, 5], [9, 0], [0.5, 2], [2, -1]] as const) {
      const r = parseTcpOptions(b, off, len);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'truncated');
      assert.deepEqual(scanTcpOptions(b, off, len, newTcpOptionSummary()), r.error);
    }
  });

  test('the option area ends at off+len even if the buffer continues', () => {
    const b = Uint8Array.of(0x02, 0x04, 0x05, 0xb4);
    const r = parseTcpOptions(b, 0, 3);
    assert.ok(!r.ok);
    assert.equal(r.error.kind, 'bad-option');
  });
});

describe('tcp options: emit errors are RangeErrors', () => {
  test('unencodable values and small buffers throw', () => {
    const out = new Uint8Array(40);
    assert.throws(() => writeTcpOptions([{ kind: 'mss', value: 70000 }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'mss', value: -1 }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'wscale', shift: 256 }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'ts', val: 2 ** 32, ecr: 0 }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'ts', val: 1.5, ecr: 0 }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'unknown', type: 300, data: new Uint8Array(0) }], out, 0), RangeError);
    assert.throws(() => writeTcpOptions([{ kind: 'unknown', type: 99, data: new Uint8Array(254) }], new Uint8Array(300), 0), RangeError);
    assert.throws(() => writeTcpOptions(LINUX_SYN_OPTS, new Uint8Array(19), 0), RangeError);
    assert.throws(() => writeTcpOptions(LINUX_SYN_OPTS, out, 21), RangeError);
  });

  test('int32 sequence values are written as uint32', () => {
    const out = new Uint8Array(12);
    writeTcpOptions([{ kind: 'ts', val: -1, ecr: -0x80000000 }], out, 0);
    const r = parseTcpOptions(out, 0, 12);
    assert.ok(r.ok);
    assert.deepEqual(r.value, [{ kind: 'ts', val: 0xffffffff, ecr: 0x80000000 }]);
  });
});

// ---- properties ----

const u32 = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0xffffff00, max: 0xffffffff }),
  fc.integer({ min: 0, max: 0xff }),
);

/** Any valid option except eol (an EOL ends the list, so it cannot round-trip mid-list). */
const arbTcpOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  fc.integer({ min: 0, max: 0xffff }).map((value): TcpOption => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 255 }).map((shift): TcpOption => ({ kind: 'wscale', shift })),
  fc.constant<TcpOption>({ kind: 'sackOK' }),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 }).map((blocks): TcpOption => ({ kind: 'sack', blocks })),
  fc.tuple(u32, u32).map(([val, ecr]): TcpOption => ({ kind: 'ts', val, ecr })),
  fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => ![0, 1, 2, 3, 4, 5, 8].includes(t)),
    data: fc.uint8Array({ maxLength: 12 }),
  }).map(({ type, data }): TcpOption => ({ kind: 'unknown', type, data })),
);

/** Valid option lists that fit the 40-byte TCP option space. */
const arbTcpOptions: fc.Arbitrary<TcpOption[]> = fc.array(arbTcpOption, { maxLength: 10 })
  .map((opts) => {
    const out: TcpOption[] = [];
    let len = 0;
    for (const o of opts) {
      const n = tcpOptionsLength([o]);
      if (len + n > 40) continue;
      out.push(o);
      len += n;
    }
    return out;
  });

describe('tcp options: properties', () => {
  test('parse(write(x)) == x and scan agrees with the parsed list', () => {
    fc.assert(fc.property(arbTcpOptions, fc.integer({ min: 0, max: 7 }), (opts, off) => {
      const padded = (tcpOptionsLength(opts) + 3) & ~3;
      const buf = new Uint8Array(off + padded + 3).fill(0x5a);
      assert.equal(writeTcpOptions(opts, buf, off), padded);
      const r = parseTcpOptions(buf, off, padded);
      assert.ok(r.ok);
      assert.deepEqual(r.value, opts);
      const s = newTcpOptionSummary();
      assert.equal(scanTcpOptions(buf, off, padded, s), null);
      assert.deepEqual(plain(s), plain(summarizeTcpOptions(opts)));
    }), { numRuns: 2000 });
  });

  function agree(buf: Uint8Array, off: number, len: number): void {
    const r = parseTcpOptions(buf, off, len);
    const s = newTcpOptionSummary();
    const e = scanTcpOptions(buf, off, len, s);
    if (r.ok) {
      assert.equal(e, null);
      assert.deepEqual(plain(s), plain(summarizeTcpOptions(r.value)));
    } else {
      assert.deepEqual(e, r.error);
      assert.ok(['bad-option', 'truncated'].includes(r.error.kind));
    }
  }

  test('scan agrees with parse on arbitrary bytes', () => {
    // Bytes biased towards the interesting kinds and small lengths so both paths are hit.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10, 18, 26, 34));
    fc.assert(fc.property(fc.array(byte, { maxLength: 44 }), fc.nat(4), fc.nat(4), (bytes, a, b) => {
      const buf = Uint8Array.from(bytes);
      agree(buf, 0, buf.length);
      agree(buf, Math.min(a, buf.length), Math.max(0, buf.length - a - b));
    }), { numRuns: 5000 });
  });

  test('scan agrees with parse on mutated valid encodings', () => {
    fc.assert(fc.property(arbTcpOptions, fc.array(fc.tuple(fc.nat(39), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      (opts, edits) => {
        const buf = encode(opts);
        for (const [i, v] of edits) if (buf.length > 0) buf[i % buf.length] = v;
        agree(buf, 0, buf.length);
      }), { numRuns: 3000 });
  });
});
