// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012), the keyed PRF
// behind our ISNs (RFC 6528 §3 asks for "a cryptographic hash of the connection-id and some
// secret data") and SYN cookies (RFC 4987 §3.6). Linux uses the same function for both
// (net/core/secure_seq.c, net/ipv4/syncookies.c: siphash_3u32 / siphash_4u32).
//
// Pure TypeScript so the core runs in browsers (no node:crypto). JS has no fast 64-bit integers,
// so every 64-bit lane is kept as two 32-bit halves (hi, lo); BigInt would allocate on every
// operation. The state is module scratch: every call initialises it before use and nothing
// awaits in between, so sharing it is safe.

// Scratch state: v0..v3 as (high, low) 32-bit halves, indexes 0..7 = v0h v0l v1h v1l v2h v2l v3h v3l.
// Int32Array rather than module-level `let`s: V8 keeps int32 values unboxed here and in the
// locals below, which measured ~5x faster (~0.3-0.5 µs per 16-byte hash on the CI machine).
// The carry of each 64-bit addition is computed with int32 bit operations, the carry out of
// bit 31 of lo = a + b: ((a & b) | ((a | b) & ~lo)) >>> 31, not with an unsigned comparison
// ((lo >>> 0) < (a >>> 0)): uint32 values above 2^31 are not int32, and V8 compiled the
// comparison through doubles — the bit form made a hash ~2.5x faster (issue 16).
const S = new Int32Array(8);

/** `n` SipRounds (paper §2, Figure 2) on S, with the state held in int32 locals. */
function sipRounds(n: number): void {
  let v0h = S[0]!, v0l = S[1]!, v1h = S[2]!, v1l = S[3]!;
  let v2h = S[4]!, v2l = S[5]!, v3h = S[6]!, v3l = S[7]!;
  let t: number, th: number;
  for (let r = 0; r < n; r++) {
    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    t = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~t)) >>> 31)) | 0;
    v0l = t;
    th = (v1h << 13) | (v1l >>> 19);
    v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
    v1h = th ^ v0h;
    t = v0h; v0h = v0l; v0l = t;
    // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
    t = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~t)) >>> 31)) | 0;
    v2l = t;
    th = (v3h << 16) | (v3l >>> 16);
    v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
    v3h = th ^ v2h;
    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    t = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~t)) >>> 31)) | 0;
    v0l = t;
    th = (v3h << 21) | (v3l >>> 11);
    v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
    v3h = th ^ v0h;
    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    t = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~t)) >>> 31)) | 0;
    v2l = t;
    th = (v1h << 17) | (v1l >>> 15);
    v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
    v1h = th ^ v2h;
    t = v2h; v2h = v2l; v2l = t;
  }
  S[0] = v0h; S[1] = v0l; S[2] = v1h; S[3] = v1l;
  S[4] = v2h; S[5] = v2l; S[6] = v3h; S[7] = v3l;
}

/** Initialisation (paper §2.1): k0, k1 XORed with "somepseudorandomlygeneratedbytes". */
function init(k0h: number, k0l: number, k1h: number, k1l: number): void {
  S[0] = k0h ^ 0x736f6d65; S[1] = k0l ^ 0x70736575;
  S[2] = k1h ^ 0x646f7261; S[3] = k1l ^ 0x6e646f6d;
  S[4] = k0h ^ 0x6c796765; S[5] = k0l ^ 0x6e657261;
  S[6] = k1h ^ 0x74656462; S[7] = k1l ^ 0x79746573;
}

/** Compression of one 64-bit little-endian message word m = (mh, ml): c = 2 rounds. */
function compress(mh: number, ml: number): void {
  S[6] ^= mh; S[7] ^= ml;
  sipRounds(2);
  S[0] ^= mh; S[1] ^= ml;
}

/** Finalisation: v2 ^= 0xff, d = 4 rounds. The result is v0 ^ v1 ^ v2 ^ v3. */
function finalise(): void {
  S[5] ^= 0xff;
  sipRounds(4);
}

/** Little-endian 32-bit read as int32 (the bit pattern is what matters). */
function le32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * SipHash-2-4 of `data` under a 16-byte key. Returns the 64-bit output as [hi, lo] uint32
 * halves of the integer the reference code writes little-endian (so the official test vector
 * for the empty message, bytes 31 0e 0e dd 47 db 6f 72, is [0x726fdb47, 0xdd0e0e31]).
 * Only the first 16 key bytes are used; a shorter key is zero-padded (callers pass 16).
 */
export function sipHash24(key: Uint8Array, data: Uint8Array): [hi: number, lo: number] {
  const k = key.length >= 16 ? key : padKey(key);
  init(le32(k, 4), le32(k, 0), le32(k, 12), le32(k, 8));
  const len = data.length;
  const end = len - (len & 7);
  let i = 0;
  for (; i < end; i += 8) compress(le32(data, i + 4), le32(data, i));
  // Last block: remaining 0..7 bytes little-endian, message length mod 256 in the top byte.
  let bh = (len & 0xff) << 24;
  let bl = 0;
  const rest = len & 7;
  for (let j = 0; j < rest; j++) {
    const byte = data[i + j]!;
    if (j < 4) bl |= byte << (8 * j);
    else bh |= byte << (8 * (j - 4));
  }
  compress(bh, bl);
  finalise();
  return [(S[0]! ^ S[2]! ^ S[4]! ^ S[6]!) >>> 0, (S[1]! ^ S[3]! ^ S[5]! ^ S[7]!) >>> 0];
}

function padKey(key: Uint8Array): Uint8Array {
  const k = new Uint8Array(16);
  k.set(key.subarray(0, 16));
  return k;
}

/** Message words for sipWordsLow, as (high, low) int32 pairs: M[2i], M[2i+1] is word i. */
const M = new Int32Array(6);

/*
 * SipHash-2-4 of the first `n` 64-bit message words in M (the last one already holding the
 * length byte), under a key as four little-endian words; the low 32 bits of the output. The
 * whole state stays in int32 locals for all blocks and the finalisation (no scratch state,
 * no call per block): the word paths run twice per connection (ISN, timestamp offset), and
 * this is ~2x faster than compress()/sipRounds() (issue 16). Same rounds as sipRounds above.
 */
function sipWordsLow(key: Uint32Array, n: number): number {
  const k0l = key[0]! | 0, k0h = key[1]! | 0, k1l = key[2]! | 0, k1h = key[3]! | 0;
  let v0h = k0h ^ 0x736f6d65, v0l = k0l ^ 0x70736575;
  let v1h = k1h ^ 0x646f7261, v1l = k1l ^ 0x6e646f6d;
  let v2h = k0h ^ 0x6c796765, v2l = k0l ^ 0x6e657261;
  let v3h = k1h ^ 0x74656462, v3l = k1l ^ 0x79746573;
  let t: number, th: number;
  for (let b = 0; b <= n; b++) {
    // A message block: v3 ^= m, c = 2 rounds, v0 ^= m. After the last: v2 ^= 0xff, d = 4 rounds.
    let mh = 0, ml = 0, rounds = 4;
    if (b < n) { mh = M[2 * b]!; ml = M[2 * b + 1]!; v3h ^= mh; v3l ^= ml; rounds = 2; } else v2l ^= 0xff;
    for (let r = 0; r < rounds; r++) {
      t = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~t)) >>> 31)) | 0;
      v0l = t;
      th = (v1h << 13) | (v1l >>> 19);
      v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
      v1h = th ^ v0h;
      t = v0h; v0h = v0l; v0l = t;
      t = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~t)) >>> 31)) | 0;
      v2l = t;
      th = (v3h << 16) | (v3l >>> 16);
      v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
      v3h = th ^ v2h;
      t = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~t)) >>> 31)) | 0;
      v0l = t;
      th = (v3h << 21) | (v3l >>> 11);
      v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
      v3h = th ^ v0h;
      t = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~t)) >>> 31)) | 0;
      v2l = t;
      th = (v1h << 17) | (v1l >>> 15);
      v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
      v1h = th ^ v2h;
      t = v2h; v2h = v2l; v2l = t;
    }
    v0h ^= mh; v0l ^= ml;
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/**
 * Fast path: SipHash-2-4 of exactly 16 bytes given as four little-endian uint32 words
 * (w0 = bytes 0..3, …), under a key given as four little-endian uint32 words. Returns the low
 * 32 bits of the output — what Linux's `(u32)siphash_4u32(a, b, c, d, key)` yields
 * (net/ipv4/syncookies.c cookie_hash). No allocation.
 */
export function sipHash24Words(
  key: Uint32Array, w0: number, w1: number, w2: number, w3: number,
): number {
  // The empty tail block carries the length 16 in its top byte.
  M[0] = w1; M[1] = w0; M[2] = w3; M[3] = w2; M[4] = 16 << 24; M[5] = 0;
  return sipWordsLow(key, 3);
}

/**
 * SipHash-2-4 of exactly 12 bytes given as three little-endian uint32 words, under a key given
 * as four little-endian words (sipKeyWords): the same value as `sipHash24(key, bytes)[1]` (the
 * low 32 bits), without the byte array (per-connection timestamp offsets; issue 16).
 */
export function sipHash24Words12(key: Uint32Array, w0: number, w1: number, w2: number): number {
  // The last 4 bytes share the final block with the length 12 in its top byte.
  M[0] = w1; M[1] = w0; M[2] = 12 << 24; M[3] = w2;
  return sipWordsLow(key, 2);
}

/** Converts a 16-byte key to the four little-endian words `sipHash24Words` takes. */
export function sipKeyWords(key: Uint8Array): Uint32Array {
  const k = key.length >= 16 ? key : padKey(key);
  return Uint32Array.of(le32(k, 0), le32(k, 4), le32(k, 8), le32(k, 12));
}
