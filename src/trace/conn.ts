// Small shared helpers for traces: connection names ("198.18.0.1:40000-198.18.0.2:80", from
// one host's side, as the JSON trace writes them), TCP flag letters, and the RFC name of a
// state transition's origin.
import type { ConnId, TraceEvent } from './events.js';
import type { TcpState } from '../tcp/types.js';
import { formatIpv4Address, parseIpv4Address } from '../wire/ipv4addr.js';

/** "local:port-peer:port" from the side of the host that owns `c`. */
export function formatConnId(c: ConnId): string {
  return `${formatIpv4Address(c.localAddr)}:${c.localPort}-${formatIpv4Address(c.remoteAddr)}:${c.remotePort}`;
}

/** Parse "a.b.c.d:port-e.f.g.h:port" back into a ConnId, or null. */
export function parseConnId(s: string): ConnId | null {
  const m = /^\s*(\d+\.\d+\.\d+\.\d+):(\d+)\s*-\s*(\d+\.\d+\.\d+\.\d+):(\d+)\s*$/.exec(s);
  if (m === null) return null;
  const la = parseIpv4Address(m[1]!), ra = parseIpv4Address(m[3]!);
  const lp = Number(m[2]), rp = Number(m[4]);
  if (la === null || ra === null || lp > 65535 || rp > 65535) return null;
  return { localAddr: la, localPort: lp, remoteAddr: ra, remotePort: rp };
}

/** Same connection, seen from either end. */
export function sameConn(a: ConnId, b: ConnId): boolean {
  return (a.localAddr === b.localAddr && a.localPort === b.localPort && a.remoteAddr === b.remoteAddr && a.remotePort === b.remotePort)
    || (a.localAddr === b.remoteAddr && a.localPort === b.remotePort && a.remoteAddr === b.localAddr && a.remotePort === b.localPort);
}

/** Accepts a ConnId or its string form; null when the string does not parse. */
export function toConnId(c: string | ConnId): ConnId | null {
  return typeof c === 'string' ? parseConnId(c) : c;
}

// TCP header flag bits in header order (RFC 9293 §3.1, RFC 3168 for ECE/CWR), lowest first:
// FIN SYN RST PSH ACK URG ECE CWR. The JSON trace writes them as letters in this order.
const FLAG_LETTERS = 'FSRPAUEC';

/** Flag letters in FSRPAUEC order: 0x12 → "SA", 0x11 → "FA", 0x18 → "PA", 0x04 → "R". "" for none. */
export function flagLetters(flags: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) s += FLAG_LETTERS[i];
  return s;
}

/** Inverse of flagLetters (unknown letters are ignored). */
export function parseFlagLetters(s: string): number {
  let f = 0;
  for (const ch of s) {
    const i = FLAG_LETTERS.indexOf(ch);
    if (i >= 0) f |= 1 << i;
  }
  return f;
}

/**
 * The RFC origin of a transition. The engine creates a passive connection's TCB when the SYN
 * arrives, so it reports CLOSED → SYN-RECEIVED (or CLOSED → ESTABLISHED for a SYN-cookie
 * child); in RFC 9293 §3.10.7.2 terms that connection leaves LISTEN. Only a passive open
 * leaves CLOSED for anything but SYN-SENT (§3.10.1), so the rewrite is exact.
 */
export function rfcFrom(from: TcpState, to: TcpState): TcpState {
  return from === 'CLOSED' && to !== 'SYN-SENT' && to !== 'CLOSED' ? 'LISTEN' : from;
}

/** Events sorted by time, stable (recorders of several stacks may interleave). */
export function timeOrdered<T extends TraceEvent>(events: readonly T[]): T[] {
  let sorted = true;
  for (let i = 1; i < events.length; i++) if (events[i]!.t < events[i - 1]!.t) { sorted = false; break; }
  if (sorted) return events.slice();
  return events.map((e, i) => [e, i] as const).sort((x, y) => x[0].t - y[0].t || x[1] - y[1]).map((p) => p[0]);
}
