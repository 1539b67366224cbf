// Initial sequence numbers, RFC 6528 §3:
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// where M is a 4 µs timer and F a keyed PRF that outsiders cannot compute. RFC 6528 suggests
// MD5; like Linux (net/core/secure_seq.c secure_tcp_seq, siphash_3u32 since 4.13) we use
// SipHash-2-4, which is a PRF designed for exactly this and is cheaper. Linux's M ticks every
// 64 ns (seq_scale: ns >> 6); we keep the RFC's 4 µs so ISNs are reproducible from the integer
// µs clock (RFC 9293 §3.4.1 / RFC 793 also describe the 4 µs clock).
import type { Instant } from '../time/instant.js';
import { sipHash24, sipHash24Words, sipKeyWords } from './siphash.js';

const TWO32 = 0x1_0000_0000;
/** Domain separation word: keeps F distinct from other uses of the same secret (SYN cookies). */
const ISN_DOMAIN = 0x49534e31; // "ISN1"

export class IsnGenerator {
  private readonly key: Uint32Array;

  /**
   * @param secret 16 bytes (128 bits, the key length RFC 6528 §3 calls adequate). In
   *   simulation it comes from the seeded RNG so runs are reproducible. Longer secrets are
   *   condensed to 16 bytes with SipHash; shorter ones are zero-padded (don't).
   */
  constructor(secret: Uint8Array) {
    this.key = sipKeyWords(condenseKey(secret));
  }

  /**
   * The ISN for a connection from (localAddr, localPort) to (remoteAddr, remotePort) started at
   * `now` (integer µs). Addresses are IPv4 as uint32, ports 0..65535. Returns a uint32.
   */
  isn(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, now: Instant): number {
    const f = sipHash24Words(
      this.key,
      localAddr >>> 0,
      remoteAddr >>> 0,
      (((localPort & 0xffff) << 16) | (remotePort & 0xffff)) >>> 0,
      ISN_DOMAIN,
    );
    return (fourMicrosecondTimer(now) + f) % TWO32;
  }
}

/** M in RFC 6528 §3: the number of 4 µs ticks at `now`, mod 2^32 (exact for |now| < 2^53). */
export function fourMicrosecondTimer(now: Instant): number {
  const m = Math.floor(now / 4) % TWO32;
  return m < 0 ? m + TWO32 : m;
}

/** Exactly 16 key bytes: longer secrets keep all their entropy, folded through SipHash. */
export function condenseKey(secret: Uint8Array): Uint8Array {
  if (secret.length === 16) return secret;
  const out = new Uint8Array(16);
  if (secret.length < 16) {
    out.set(secret);
    return out;
  }
  const zero = new Uint8Array(16);
  const a = sipHash24(zero, secret);
  const b = sipHash24(Uint8Array.of(1, ...zero.subarray(1)), secret);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, a[1], true);
  dv.setUint32(4, a[0], true);
  dv.setUint32(8, b[1], true);
  dv.setUint32(12, b[0], true);
  return out;
}
