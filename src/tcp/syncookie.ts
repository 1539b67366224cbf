// SYN cookies, RFC 4987 §3.6 and Appendix A, laid out exactly as Linux does it
// (net/ipv4/syncookies.c: secure_tcp_syn_cookie / check_tcp_syn_cookie, cookie_init_timestamp /
// cookie_timestamp_decode). A listener whose SYN queue is full answers with a SYN-ACK whose ISN
// encodes everything it must remember; the final ACK (ack = ISN + 1) brings it back.
//
//   cookie = H0(4-tuple) + clientIsn + (count << 24) + ((H1(4-tuple, count) + mssIndex) mod 2^24)
//
// After subtracting H0 + clientIsn, the top 8 bits are the counter and the low 24 bits are a
// keyed hash plus the index of the peer's MSS in SYNCOOKIE_MSS_TABLE. H0 and H1 are SipHash-2-4
// under two independent keys (Linux: siphash_4u32(saddr, daddr, sport << 16 | dport, count,
// &syncookie_secret[c])). H0 hides the counter from outsiders; H1 is the authenticator: a
// forged ACK passes only if its low 24 bits land on one of 4 valid indexes (4 in 2^24).
//
// Counter: count = floor(now / 60 s). Linux uses 60 s periods too (tcp_cookie_time: jiffies /
// TCP_SYNCOOKIE_PERIOD, TCP_SYNCOOKIE_PERIOD = 60 * HZ); the older "now >> 6" (64 s) variant is
// not used. A cookie is accepted only while the counter moved by less than MAX_SYNCOOKIE_AGE = 2
// (diff 0 or 1), i.e. it lives between 60 and 120 s depending on where in a period it was made.
//
// Addresses are IPv4 as uint32 in host order and ports 0..65535. saddr/sport are the CLIENT's
// (the SYN's source), daddr/dport ours, as in Linux where the SYN's iph->saddr is passed.
//
// Not handled here (the listener's job): Linux accepts a cookie ACK only if the listener sent
// cookies recently (tcp_synq_no_recent_overflow, within 2 periods), only for ACKs without
// RST/SYN, and only when tcp_syncookies is enabled.
import type { Instant } from '../time/instant.js';
import { sipHash24Words, sipKeyWords } from './siphash.js';
import { condenseKey } from './isn.js';

/** Linux msstab (syncookies.c): the MSS values a cookie can carry, 2 bits of index. */
export const SYNCOOKIE_MSS_TABLE: readonly number[] = Object.freeze([536, 1300, 1440, 1460]);
/** Counter period in µs (Linux TCP_SYNCOOKIE_PERIOD = 60 s). */
export const SYNCOOKIE_PERIOD: number = 60_000_000;
/** A cookie is valid while (count now - count in cookie) < this (Linux MAX_SYNCOOKIE_AGE). */
export const SYNCOOKIE_MAX_AGE = 2;

const COOKIEBITS = 24;
const COOKIEMASK = (1 << COOKIEBITS) - 1;
const TWO32 = 0x1_0000_0000;
const KEY_DOMAIN = 0x434f4f4b; // "COOK": keeps cookie keys distinct from ISN keys of the same secret

/**
 * The MSS a cookie will carry for a peer that announced `peerMss`: the largest table entry not
 * above it, or the smallest entry (536) when the peer announced less (Linux does the same —
 * __cookie_v4_init_sequence falls back to index 0).
 */
export function syncookieMss(peerMss: number): number {
  return SYNCOOKIE_MSS_TABLE[mssIndex(peerMss)]!;
}

function mssIndex(mss: number): number {
  let i = SYNCOOKIE_MSS_TABLE.length - 1;
  for (; i > 0; i--) if (mss >= SYNCOOKIE_MSS_TABLE[i]!) break;
  return i;
}

/** The cookie counter at `now`: 60 s periods, as a uint32 (Linux tcp_cookie_time). */
export function syncookieCount(now: Instant): number {
  return Math.floor(now / SYNCOOKIE_PERIOD) >>> 0;
}

export class SynCookies {
  // Two independent keys, like Linux's syncookie_secret[2].
  private readonly key0: Uint32Array;
  private readonly key1: Uint32Array;

  /** @param secret 16 or more random bytes (seeded in simulation). */
  constructor(secret: Uint8Array) {
    const master = sipKeyWords(condenseKey(secret));
    const derive = (c: number): Uint32Array =>
      Uint32Array.of(0, 1, 2, 3).map((i) => sipHash24Words(master, KEY_DOMAIN, c, i, 0));
    this.key0 = derive(0);
    this.key1 = derive(1);
  }

  /**
   * The ISN for a cookie SYN-ACK answering a SYN from (saddr, sport) to (daddr, dport) with
   * sequence number `clientIsn` and MSS option `peerMss` (rounded down to a table entry, see
   * syncookieMss; use that value as the connection's send MSS). Returns a uint32.
   */
  make(saddr: number, sport: number, daddr: number, dport: number, clientIsn: number, peerMss: number, now: Instant): number {
    const count = syncookieCount(now);
    const ports = portsWord(sport, dport);
    const h0 = sipHash24Words(this.key0, saddr >>> 0, daddr >>> 0, ports, 0);
    const h1 = sipHash24Words(this.key1, saddr >>> 0, daddr >>> 0, ports, count);
    const low = (h1 + mssIndex(peerMss)) & COOKIEMASK;
    // Only the counter's low 8 bits survive the shift; masking first keeps the sum below 2^53.
    return (h0 + (clientIsn >>> 0) + (count & 0xff) * (1 << COOKIEBITS) + low) % TWO32;
  }

  /**
   * Validates the handshake-completing ACK: `ackNumber` is its ACK field (our ISN + 1) and
   * `clientIsn` its sequence number minus 1. Returns the MSS the cookie carries, or 0 when the
   * cookie is forged, belongs to another connection, or is too old (Linux __cookie_v4_check).
   */
  check(saddr: number, sport: number, daddr: number, dport: number, clientIsn: number, ackNumber: number, now: Instant): number {
    const count = syncookieCount(now);
    const ports = portsWord(sport, dport);
    const h0 = sipHash24Words(this.key0, saddr >>> 0, daddr >>> 0, ports, 0);
    // Strip the outer layer: what remains is (count << 24) + ((H1 + mssIndex) mod 2^24).
    const cookie = ((ackNumber >>> 0) - 1 - h0 - (clientIsn >>> 0)) >>> 0;
    const diff = (count - (cookie >>> COOKIEBITS)) & 0xff; // mod 256: the counter keeps 8 bits
    if (diff >= SYNCOOKIE_MAX_AGE) return 0;
    const h1 = sipHash24Words(this.key1, saddr >>> 0, daddr >>> 0, ports, (count - diff) >>> 0);
    const index = (cookie - h1) & COOKIEMASK;
    return index < SYNCOOKIE_MSS_TABLE.length ? SYNCOOKIE_MSS_TABLE[index]! : 0;
  }
}

function portsWord(sport: number, dport: number): number {
  return (((sport & 0xffff) << 16) | (dport & 0xffff)) >>> 0;
}

// --- Options in the timestamp (Linux cookie_init_timestamp / cookie_timestamp_decode) ---
// The cookie ISN has no room for window scale, SACK-permitted or ECN. When the SYN carried a
// timestamp, Linux stores them in the low 6 bits of the SYN-ACK's TSval, which the client echoes
// in TSecr of the final ACK (RFC 4987 §3.6 describes FreeBSD's equivalent). Timestamps themselves
// need no bit: a TS option on the final ACK proves they were negotiated.
const TS_OPT_WSCALE_MASK = 0xf; // 0xf = no window scaling
const TS_OPT_SACK = 1 << 4;
const TS_OPT_ECN = 1 << 5;
const TSBITS = 6;
const MAX_WSCALE = 14; // RFC 7323 §2.3

/**
 * TSval for a cookie SYN-ACK: `tsNow` (uint32, the TS clock) with its low 6 bits replaced by
 * the options. `wscale` is the peer's shift count from its SYN (-1 = no window scale option;
 * values above 14 are clamped to 14 as RFC 7323 §2.3 and Linux tcp_parse_options do).
 *
 * Like Linux cookie_init_timestamp, the result never exceeds tsNow: if replacing the bits made
 * it larger, 64 is subtracted, because later segments carry the ordinary clock and TSval must
 * not go backwards (RFC 7323 §5.4 PAWS). Linux does this on 64-bit values; here TS values are
 * 32-bit, so for tsNow < 64 the subtraction wraps, which is still "earlier" in the modular
 * order RFC 7323 uses for timestamps.
 */
export function cookieTsVal(tsNow: number, wscale: number, sackOk: boolean, ecn = false): number {
  const ws = wscale < 0 ? TS_OPT_WSCALE_MASK : Math.min(wscale, MAX_WSCALE);
  const options = ws | (sackOk ? TS_OPT_SACK : 0) | (ecn ? TS_OPT_ECN : 0);
  const now = tsNow >>> 0;
  let ts = ((now & ~((1 << TSBITS) - 1)) | options) >>> 0;
  if (options > (now & ((1 << TSBITS) - 1))) ts = (ts - (1 << TSBITS)) >>> 0;
  return ts;
}

/** Which options this host has enabled (Linux sysctls tcp_window_scaling, tcp_sack, tcp_ecn). */
export interface CookieTsPolicy {
  windowScaling?: boolean;
  sack?: boolean;
  ecn?: boolean;
}

/**
 * Recovers the options from the TSecr of a cookie ACK. Returns null when the encoding cannot
 * be ours: tsEcr is not a uint32, the window-scale field is above 14 and not 0xf (impossible
 * with 4 bits, kept for safety), or — as Linux cookie_timestamp_decode / cookie_ecn_ok reject
 * — it claims an option that `policy` says this host has disabled (all enabled by default).
 */
export function decodeCookieTs(
  tsEcr: number,
  policy: CookieTsPolicy = {},
): { wscale: number; sackOk: boolean; ecn: boolean } | null {
  if (!Number.isInteger(tsEcr) || tsEcr < 0 || tsEcr > 0xffffffff) return null;
  const ws = tsEcr & TS_OPT_WSCALE_MASK;
  const sackOk = (tsEcr & TS_OPT_SACK) !== 0;
  const ecn = (tsEcr & TS_OPT_ECN) !== 0;
  if (ws !== TS_OPT_WSCALE_MASK && ws > MAX_WSCALE) return null;
  if (sackOk && policy.sack === false) return null;
  if (ecn && policy.ecn === false) return null;
  if (ws !== TS_OPT_WSCALE_MASK && policy.windowScaling === false) return null;
  return { wscale: ws === TS_OPT_WSCALE_MASK ? -1 : ws, sackOk, ecn };
}
