import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sipHash24, sipHash24Words, sipHash24Words12, sipKeyWords } from '../../src/tcp/siphash.js';

// Official SipHash-2-4 64-bit test vectors (reference vectors.h, `vectors_sip64`): key
// 00 01 .. 0f, message 00 01 .. (n-1) for n = 0..63, output bytes as the reference writes them
// (little-endian). Cross-checked against OpenSSL 3's SIPHASH MAC (size 8), and entry 15 is the
// paper's Appendix A example (a129ca6149be45e5).
const VECTORS: readonly string[] = [
  '310e0edd47db6f72',
  'fd67dc93c539f874',
  '5a4fa9d909806c0d',
  '2d7efbd796666785',
  'b7877127e09427cf',
  '8da699cd64557618',
  'cee3fe586e46c9cb',
  '37d1018bf50002ab',
  '6224939a79f5f593',
  'b0e4a90bdf82009e',
  'f3b9dd94c5bb5d7a',
  'a7ad6b22462fb3f4',
  'fbe50e86bc8f1e75',
  '903d84c02756ea14',
  'eef27a8e90ca23f7',
  'e545be4961ca29a1',
  'db9bc2577fcc2a3f',
  '9447be2cf5e99a69',
  '9cd38d96f0b3c14b',
  'bd6179a71dc96dbb',
  '98eea21af25cd6be',
  'c7673b2eb0cbf2d0',
  '883ea3e395675393',
  'c8ce5ccd8c030ca8',
  '94af49f6c650adb8',
  'eab8858ade92e1bc',
  'f315bb5bb835d817',
  'adcf6b0763612e2f',
  'a5c91da7acaa4dde',
  '716595876650a2a6',
  '28ef495c53a387ad',
  '42c341d8fa92d832',
  'ce7cf2722f512771',
  'e37859f94623f3a7',
  '381205bb1ab0e012',
  'ae97a10fd434e015',
  'b4a31508beff4d31',
  '81396229f0907902',
  '4d0cf49ee5d4dcca',
  '5c73336a76d8bf9a',
  'd0a704536ba93e0e',
  '925958fcd6420cad',
  'a915c29bc8067318',
  '952b79f3bc0aa6d4',
  'f21df2e41d4535f9',
  '87577519048f53a9',
  '10a56cf5dfcd9adb',
  'eb75095ccd986cd0',
  '51a9cb9ecba312e6',
  '96afadfc2ce666c7',
  '72fe52975a4364ee',
  '5a1645b276d592a1',
  'b274cb8ebf87870a',
  '6f9bb4203de7b381',
  'eaecb2a30b22a87f',
  '9924a43cc1315724',
  'bd838d3aafbf8db7',
  '0b1a2a3265d51aea',
  '135079a3231ce660',
  '932b2846e4d70666',
  'e1915f5cb1eca46c',
  'f325965ca16d629f',
  '575ff28e60381be5',
  '724506eb4c328a95',
];

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const M64 = (1n << 64n) - 1n;

/** Straightforward BigInt SipHash-2-4, written from the paper, as an independent reference. */
function refSipHash(key: Uint8Array, data: Uint8Array): bigint {
  const rd = (b: Uint8Array, at: number, n: number): bigint => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i]!);
    return x;
  };
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;
  const k0 = rd(key, 0, 8);
  const k1 = rd(key, 8, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const len = data.length;
  const end = len - (len % 8);
  for (let i = 0; i < end; i += 8) {
    const m = rd(data, i, 8);
    v3 ^= m; round(); round(); v0 ^= m;
  }
  const b = (BigInt(len & 0xff) << 56n) | rd(data, end, len - end);
  v3 ^= b; round(); round(); v0 ^= b;
  v2 ^= 0xffn;
  round(); round(); round(); round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** The vector's little-endian bytes as a 64-bit integer. */
function vecToBig(hex: string): bigint {
  let x = 0n;
  for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return x;
}

const toBig = ([hi, lo]: [number, number]): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const msg = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

describe('sipHash24', () => {
  test('first official vectors, as given in the paper / vectors.h', () => {
    assert.deepEqual(sipHash24(KEY, msg(0)), [0x726fdb47, 0xdd0e0e31]);
    assert.deepEqual(sipHash24(KEY, msg(1)), [0x74f839c5, 0x93dc67fd]);
    assert.deepEqual(sipHash24(KEY, msg(2)), [0x0d6c8009, 0xd9a94f5a]);
    assert.deepEqual(sipHash24(KEY, msg(3)), [0x85676696, 0xd7fb7e2d]);
    assert.deepEqual(sipHash24(KEY, msg(15)), [0xa129ca61, 0x49be45e5]); // paper, Appendix A
  });

  test('all 64 official vectors', () => {
    assert.equal(VECTORS.length, 64);
    for (let n = 0; n < 64; n++) {
      assert.equal(toBig(sipHash24(KEY, msg(n))), vecToBig(VECTORS[n]!), `message length ${n}`);
    }
  });

  test('the BigInt reference reproduces the official vectors', () => {
    for (let n = 0; n < 64; n++) assert.equal(refSipHash(KEY, msg(n)), vecToBig(VECTORS[n]!));
  });

  test('results are uint32 halves', () => {
    for (let n = 0; n < 64; n++) {
      for (const h of sipHash24(KEY, msg(n))) {
        assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
      }
    }
  });

  test('matches the BigInt reference on random keys and messages (incl. > 255 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, data) => {
          assert.equal(toBig(sipHash24(key, data)), refSipHash(key, data));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('works on subarray views with a non-zero byteOffset', () => {
    const buf = new Uint8Array(100).map((_, i) => (i * 7) & 0xff);
    const data = buf.subarray(3, 40);
    assert.equal(toBig(sipHash24(KEY, data)), refSipHash(KEY, Uint8Array.from(data)));
  });
});

describe('sipHash24Words', () => {
  const le = (w: number[]): Uint8Array => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    w.forEach((x, i) => dv.setUint32(4 * i, x, true));
    return b;
  };

  test('equals the low 32 bits of sipHash24 on the same 16 bytes (official vector 16)', () => {
    const words = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];
    const expected = Number(vecToBig(VECTORS[16]!) & 0xffffffffn);
    assert.equal(sipHash24Words(sipKeyWords(KEY), words[0]!, words[1]!, words[2]!, words[3]!), expected);
  });

  test('matches the byte-oriented function for random keys and words', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
        (key, w) => {
          const got = sipHash24Words(sipKeyWords(key), w[0]!, w[1]!, w[2]!, w[3]!);
          assert.equal(got, sipHash24(key, le(w))[1]);
          assert.equal(BigInt(got), refSipHash(key, le(w)) & 0xffffffffn);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('accepts signed 32-bit inputs (e.g. results of `|` and `<<`) as their uint32 value', () => {
    const k = sipKeyWords(KEY);
    assert.equal(sipHash24Words(k, -1, 0, 1 << 31, 0), sipHash24Words(k, 0xffffffff, 0, 0x80000000, 0));
  });

  test('sipHash24Words12 equals the low word of sipHash24 over the same 12 bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 3, maxLength: 3 }),
        (key, w) => {
          const bytes = new Uint8Array(12);
          const dv = new DataView(bytes.buffer);
          for (let i = 0; i < 3; i++) dv.setUint32(4 * i, w[i]!, true);
          assert.equal(sipHash24Words12(sipKeyWords(key), w[0]!, w[1]!, w[2]!), sipHash24(key, bytes)[1]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
