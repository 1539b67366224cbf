// A small seeded pseudo-random generator for simulations: sfc32 (Chris Doty-Humphrey's
// "Small Fast Counting" generator, 128-bit state, passes PractRand) seeded through splitmix32.
// Everything random in a simulation (link faults, ISNs, cookie secrets) draws from one of
// these, so a run is reproducible from its seed.

const TWO_32 = 0x1_0000_0000;
const TWO_21 = 0x20_0000;

/** splitmix32 finaliser: a good 32-bit mixer (used for seeding and for fork()). */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `s`, started from `basis`. */
function fnv1a(s: string, basis: number): number {
  let h = (basis ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Split any finite number into two 32-bit halves, so seeds above 2^32 still matter. */
function seedHalves(seed: number): [number, number] {
  if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
  const s = Math.trunc(Math.abs(seed));
  const lo = s % TWO_32 >>> 0;
  const hi = Math.floor(s / TWO_32) % TWO_32 >>> 0;
  // A negative seed gives a different stream from its absolute value.
  return [lo, seed < 0 ? hi ^ 0x80000000 : hi];
}

export class Rng {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.seed = seed;
    const [lo, hi] = seedHalves(seed);
    // mix32 is a bijection, so distinct (lo, hi) give distinct (a, b): no two seeds share a
    // stream. d is sfc32's counter, started at 1 as its author recommends.
    this.a = mix32(lo) | 0;
    this.b = mix32(hi ^ 0x5bd1e995) | 0;
    this.c = mix32(this.a ^ Math.imul(this.b, 0x27d4eb2d)) | 0;
    this.d = 1;
    // Warm up so that close seeds diverge fully.
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 53 bits of resolution. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi) — inclusive lo, exclusive hi. Unbiased. */
  int(lo: number, hi: number): number {
    const range = Math.floor(hi) - Math.ceil(lo);
    if (!(range > 0)) throw new RangeError(`Rng.int: empty range [${lo}, ${hi})`);
    lo = Math.ceil(lo);
    if (range <= TWO_32) {
      // Rejection sampling removes the modulo bias.
      const limit = TWO_32 - (TWO_32 % range);
      for (;;) {
        const u = this.nextU32();
        if (u < limit) return lo + (u % range);
      }
    }
    return lo + Math.floor(this.float() * range);
  }

  /** True with probability p (p <= 0 never, p >= 1 always). Always consumes randomness. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** n uniformly random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const u = this.nextU32();
      out[i] = u & 0xff;
      out[i + 1] = (u >>> 8) & 0xff;
      out[i + 2] = (u >>> 16) & 0xff;
      out[i + 3] = u >>> 24;
    }
    if (i < n) {
      let u = this.nextU32();
      for (; i < n; i++, u >>>= 8) out[i] = u & 0xff;
    }
    return out;
  }

  /**
   * An independent stream derived only from this generator's seed and `label` (not from how
   * much of this stream has been consumed), so adding draws in one component never shifts
   * the randomness of another. `new Rng(r.fork(l).seed)` reproduces the fork.
   */
  fork(label: string): Rng {
    const [lo, hi] = seedHalves(this.seed);
    const newLo = mix32(fnv1a(label, lo) ^ mix32(hi));
    const newHi = mix32(fnv1a(label, hi ^ 0x5bd1e995) ^ lo) % TWO_21;
    return new Rng(newHi * TWO_32 + newLo);
  }
}
