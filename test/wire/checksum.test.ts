import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  onesSum, internetChecksum, pseudoHeaderSum, transportChecksum, checksumUpdate16, checksumUpdate32,
} from '../../src/wire/checksum.js';

/** Plain RFC 1071 §4.1 byte loop: the reference every fast path must equal. */
function refSum(b: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function filled(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; // xorshift32
    b[i] = x & 0xff;
  }
  return b;
}

describe('checksum: RFC 1071', () => {
  test('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    assert.equal(onesSum(b, 0, 8), 0xddf2);
    assert.equal(internetChecksum(b, 0, 8), 0x220d);
    // Same bytes at every misalignment, and long enough to take the Uint32Array path.
    for (let shift = 0; shift < 8; shift++) {
      const big = new Uint8Array(shift + 8 * 20);
      for (let k = 0; k < 20; k++) big.set(b, shift + 8 * k);
      assert.equal(onesSum(big, shift, 160), refSum(big, shift, 160));
    }
  });

  test('empty, all-zero and all-ones inputs', () => {
    assert.equal(onesSum(new Uint8Array(0), 0, 0), 0);
    assert.equal(onesSum(new Uint8Array(100), 0, 100), 0);
    assert.equal(internetChecksum(new Uint8Array(100), 0, 100), 0xffff);
    const ones = new Uint8Array(301).fill(0xff);
    for (let off = 0; off < 4; off++) {
      assert.equal(onesSum(ones, off, 297), refSum(ones, off, 297));
    }
  });

  test('every length 0..300 at every offset 0..7 equals the byte loop', () => {
    const big = filled(320, 42);
    for (let off = 0; off < 8; off++) {
      for (let len = 0; len <= 300; len++) {
        assert.equal(onesSum(big, off, len), refSum(big, off, len), `off=${off} len=${len}`);
      }
    }
  });

  test('property: random lengths 0..3000, odd/unaligned byteOffsets, initial sums', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 0xffff }), fc.integer(),
      (len, viewShift, off, initial, seed) => {
        const backing = filled(len + 16, seed);
        const view = backing.subarray(viewShift); // byteOffset = viewShift, often unaligned
        const a = onesSum(view, off, Math.min(len, view.length - off), initial);
        const r = refSum(view, off, Math.min(len, view.length - off), initial);
        assert.equal(a, r);
        assert.equal(internetChecksum(view, off, Math.min(len, view.length - off), initial), ~r & 0xffff);
      },
    ), { numRuns: 2000 });
  });

  test('more than 2^20 words (accumulator folding) equals the byte loop', () => {
    const big = new Uint8Array(9 * 1024 * 1024 + 3).fill(0xff);
    big.set(filled(4096, 7), 1000);
    assert.equal(onesSum(big, 1, big.length - 1), refSum(big, 1, big.length - 1));
    assert.equal(onesSum(big, 0, big.length), refSum(big, 0, big.length));
  });

  test('continuing from a previous piece equals summing the whole', () => {
    const b = filled(1501, 9);
    for (const cut of [0, 2, 20, 40, 64, 700, 1500]) {
      assert.equal(onesSum(b, cut, b.length - cut, onesSum(b, 0, cut)), onesSum(b, 0, b.length));
    }
  });

  test('inserting the checksum makes the message sum to 0xffff (verify gives 0)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), (raw) => {
      const b = raw.slice();
      b[2] = 0; b[3] = 0;
      const c = internetChecksum(b, 0, b.length);
      b[2] = c >>> 8; b[3] = c & 0xff;
      assert.equal(internetChecksum(b, 0, b.length), 0);
    }), { numRuns: 500 });
  });

  test('out-of-range arguments are caller bugs: RangeError', () => {
    const b = new Uint8Array(10);
    assert.throws(() => onesSum(b, 5, 6), RangeError);
    assert.throws(() => onesSum(b, -1, 2), RangeError);
    assert.throws(() => onesSum(b.subarray(2, 6), 0, 5), RangeError); // never reads past a view
  });
});

describe('checksum: pseudo header (RFC 9293 §3.1)', () => {
  function pseudoBytes(src: number, dst: number, proto: number, len: number): Uint8Array {
    const p = new Uint8Array(12);
    const v = new DataView(p.buffer);
    v.setUint32(0, src >>> 0); v.setUint32(4, dst >>> 0); p[8] = 0; p[9] = proto; v.setUint16(10, len);
    return p;
  }

  test('pseudoHeaderSum equals the sum of the 12 pseudo-header bytes', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(255), fc.nat(0xffff), (s, d, p, l) => {
      assert.equal(pseudoHeaderSum(s, d, p, l), refSum(pseudoBytes(s, d, p, l), 0, 12));
    }));
  });

  test('transportChecksum equals the checksum of pseudo header + segment', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.uint8Array({ maxLength: 1600 }), fc.nat(5),
      (s, d, seg, shift) => {
        const backing = new Uint8Array(seg.length + shift);
        backing.set(seg, shift);
        const all = new Uint8Array(12 + seg.length);
        all.set(pseudoBytes(s, d, 6, seg.length), 0);
        all.set(seg, 12);
        assert.equal(transportChecksum(s, d, 6, backing, shift, seg.length), ~refSum(all, 0, all.length) & 0xffff);
      }), { numRuns: 500 });
  });

  test('int32 addresses (from bit ops) are treated as uint32', () => {
    assert.equal(pseudoHeaderSum(0xc6120001 | 0, 0xc6120002 | 0, 6, 20), pseudoHeaderSum(0xc6120001, 0xc6120002, 6, 20));
  });
});

describe('checksum: RFC 1624 incremental update', () => {
  test('RFC 1624 §4 example: HC=DD2F, m 5555 -> 3285 gives 0000 (eqn. 3, not FFFF)', () => {
    assert.equal(checksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });

  // A 20-byte IPv4-like header: byte 0 is 0x45, so the data are never all zero (the one case
  // where eqn. 3 and recomputation differ, which no IP header or TCP segment can hit).
  const header = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => { h[0] = 0x45; h[10] = 0; h[11] = 0; return h; });

  test('16-bit update equals full recompute', () => {
    fc.assert(fc.property(header, fc.integer({ min: 1, max: 9 }).filter((w) => w !== 5), fc.nat(0xffff), (h, w, nv) => {
      const before = internetChecksum(h, 0, 20);
      const old = (h[2 * w]! << 8) | h[2 * w + 1]!;
      h[2 * w] = nv >>> 8; h[2 * w + 1] = nv & 0xff;
      assert.equal(checksumUpdate16(before, old, nv), internetChecksum(h, 0, 20));
    }), { numRuns: 2000 });
  });

  test('32-bit update (an address) equals full recompute', () => {
    fc.assert(fc.property(header, fc.constantFrom(12, 16), fc.nat(0xffffffff), (h, at, nv) => {
      const before = internetChecksum(h, 0, 20);
      const v = new DataView(h.buffer, h.byteOffset);
      const old = v.getUint32(at);
      v.setUint32(at, nv);
      assert.equal(checksumUpdate32(before, old, nv), internetChecksum(h, 0, 20));
    }), { numRuns: 2000 });
  });

  test('updating a TCP-style transport checksum (a sequence number) equals full recompute', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 60 }), fc.nat(0xffffffff), (seg, nv) => {
      seg[16] = 0; seg[17] = 0;
      const before = transportChecksum(0xc6120001, 0xc6120002, 6, seg, 0, seg.length);
      const v = new DataView(seg.buffer, seg.byteOffset);
      const old = v.getUint32(4);
      v.setUint32(4, nv);
      assert.equal(checksumUpdate32(before, old, nv), transportChecksum(0xc6120001, 0xc6120002, 6, seg, 0, seg.length));
    }), { numRuns: 1000 });
  });
});
