// IPv4 addresses as uint32 numbers (network byte order value: "1.2.3.4" -> 0x01020304).

/** One decimal octet 0..255 with no leading zeros: "010" is rejected because inet_aton(3) reads it as octal. */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const PREFIX_LEN = /^(3[0-2]|[12][0-9]|[0-9])$/;

/**
 * Strict dotted quad "198.18.0.1" -> uint32, or null: exactly four decimal octets 0..255, no
 * leading zeros, nothing else. A character loop (every connect() with a string address comes
 * here; the regular expression allocated a match array per call — issue 16); it accepts
 * exactly what DOTTED_QUAD does (parseIpv4AddressRegex, compared in test/wire/ipv4addr.test.ts).
 */
export function parseIpv4Address(s: string): number | null {
  const n = s.length;
  if (n < 7 || n > 15) return null;
  let addr = 0, octets = 0, v = 0, digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46; // the end closes the last octet like a '.'
    if (c >= 48 && c <= 57) {
      if (digits === 1 && v === 0) return null; // a leading zero ("010", "00")
      v = v * 10 + (c - 48);
      if (++digits > 3 || v > 255) return null;
    } else if (c === 46) {
      if (digits === 0 || octets === 4) return null;
      addr = addr * 256 + v;
      octets++;
      v = 0; digits = 0;
    } else {
      return null;
    }
  }
  return octets === 4 ? addr : null;
}

/** The reference: parseIpv4Address by regular expression (tests compare the two). */
export function parseIpv4AddressRegex(s: string): number | null {
  const m = DOTTED_QUAD.exec(s);
  if (m === null) return null;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIpv4Address(a: number): string {
  const v = a >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** "198.18.0.1/24" -> { addr, prefixLen }; host bits are kept (an interface address). */
export function parseCidr(s: string): { addr: number; prefixLen: number } | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIpv4Address(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (addr === null || !PREFIX_LEN.test(len)) return null;
  return { addr, prefixLen: Number(len) };
}

/** Netmask for a prefix length 0..32 as uint32 (24 -> 0xffffff00). Throws RangeError otherwise. */
export function prefixMask(prefixLen: number): number {
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) {
    throw new RangeError(`prefix length ${prefixLen} not in 0..32`);
  }
  // JS shifts count mod 32, so /0 needs its own case.
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** True when addr lies in net/prefixLen (host bits of net are ignored). */
export function inPrefix(addr: number, net: number, prefixLen: number): boolean {
  const mask = prefixMask(prefixLen);
  return ((addr & mask) >>> 0) === ((net & mask) >>> 0);
}

/** 224.0.0.0/4: class D, IPv4 multicast (RFC 1112 §4, RFC 5771). */
export function isMulticast(addr: number): boolean {
  return (addr >>> 28) === 0xe;
}

/**
 * True for an address that names more than one host: the limited broadcast 255.255.255.255,
 * a multicast group (224.0.0.0/4), or the directed broadcast of one of `prefixes` (its host
 * part all ones, RFC 1122 §3.2.1.3 (c); /31 and /32 have none, RFC 3021). RFC 9293 MUST-46
 * forbids opening a connection to such an address, MUST-57/MUST-63 receiving from one.
 */
export function isBroadcastOrMulticast(addr: number, prefixes: Iterable<{ readonly addr: number; readonly prefixLen: number }> = []): boolean {
  const a = addr >>> 0;
  if (a === 0xffffffff || isMulticast(a)) return true;
  for (const p of prefixes) {
    if (p.prefixLen > 30) continue;
    const mask = prefixMask(p.prefixLen);
    if (((a & mask) >>> 0) === ((p.addr & mask) >>> 0) && ((a | mask) >>> 0) === 0xffffffff) return true;
  }
  return false;
}
