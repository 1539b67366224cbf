// DHCP messages: the BOOTP format (RFC 2131 §2, Figure 1) with the magic cookie and options
// (RFC 2132), option overload into sname/file (RFC 2132 §9.3) and long options split over
// several instances (RFC 3396 §7: concatenated). Parsing never throws.
import { fail, ok, type ParseResult } from '../wire/errors.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';

export const DHCP_SERVER_PORT = 67, DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1, BOOTREPLY = 2;
export const HTYPE_ETHERNET = 1;
/** RFC 2131 §2: the BROADCAST bit of 'flags'. */
export const FLAG_BROADCAST = 0x8000;
const MAGIC = 0x63825363; // 99.130.83.99
/** Fixed part (236) + magic cookie (4). */
export const DHCP_MIN_LENGTH = 240;
/** RFC 1542 §2.1: BOOTP messages are at least 300 octets; shorter ones are padded. */
export const BOOTP_MIN_LENGTH = 300;

export const DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPDECLINE = 4, DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7, DHCPINFORM = 8;
const TYPE_NAMES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
export function dhcpTypeName(t: number | undefined): string { return t === undefined ? 'BOOTP' : TYPE_NAMES[t] ?? `TYPE${t}`; }

/** Option codes (RFC 2132). */
export const OPT_PAD = 0, OPT_SUBNET_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12, OPT_DOMAIN = 15,
  OPT_MTU = 26, OPT_BROADCAST = 28, OPT_REQUESTED_IP = 50, OPT_LEASE_TIME = 51, OPT_OVERLOAD = 52, OPT_MESSAGE_TYPE = 53,
  OPT_SERVER_ID = 54, OPT_PARAM_LIST = 55, OPT_MESSAGE = 56, OPT_MAX_SIZE = 57, OPT_T1 = 58, OPT_T2 = 59,
  OPT_VENDOR_CLASS = 60, OPT_CLIENT_ID = 61, OPT_END = 255;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** The client hardware address (16 octets as on the wire; the first hlen are the MAC). */
  chaddr: Uint8Array;
  sname: string;
  file: string;
  /** Options by code, each the concatenation of every instance (RFC 3396). Order of first appearance kept. */
  options: Map<number, Uint8Array>;
}

function u16(b: Uint8Array, i: number): number { return (b[i]! << 8) | b[i + 1]!; }
function u32(b: Uint8Array, i: number): number { return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0; }

function cstr(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  let s = '';
  for (let i = 0; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Read options from b[off..end) into out; returns an error string or null. */
function readOptions(b: Uint8Array, off: number, end: number, out: Map<number, Uint8Array>, where: string): string | null {
  let p = off;
  while (p < end) {
    const code = b[p]!;
    if (code === OPT_PAD) { p++; continue; }
    if (code === OPT_END) return null;
    if (p + 1 >= end) return `${where}: option ${code} has no length`;
    const len = b[p + 1]!;
    if (p + 2 + len > end) return `${where}: option ${code} of ${len} octets runs past the end`;
    const v = b.subarray(p + 2, p + 2 + len);
    const prev = out.get(code);
    if (prev === undefined) out.set(code, v.slice());
    else { const c = new Uint8Array(prev.length + v.length); c.set(prev); c.set(v, prev.length); out.set(code, c); }
    p += 2 + len;
  }
  // RFC 2131 §4.1 requires the end option; many implementations are lax: accept its absence at the end of the message.
  return null;
}

/** Parse a DHCP (or plain BOOTP, without options) message. Never throws. */
export function parseDhcp(b: Uint8Array): ParseResult<DhcpMessage> {
  if (b.length < 236) return fail('truncated', `BOOTP message needs 236 octets, have ${b.length}`);
  const op = b[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return fail('unsupported', `BOOTP op ${op}`);
  const hlen = b[2]!;
  if (hlen > 16) return fail('bad-length', `hlen ${hlen} > 16`);
  const m: DhcpMessage = {
    op, htype: b[1]!, hlen, hops: b[3]!, xid: u32(b, 4), secs: u16(b, 8), flags: u16(b, 10),
    ciaddr: u32(b, 12), yiaddr: u32(b, 16), siaddr: u32(b, 20), giaddr: u32(b, 24),
    chaddr: b.slice(28, 44), sname: cstr(b.subarray(44, 108)), file: cstr(b.subarray(108, 236)), options: new Map(),
  };
  if (b.length < DHCP_MIN_LENGTH) return ok(m); // BOOTP without a vendor area
  if (u32(b, 236) !== MAGIC) return ok(m); // RFC 1497 vendor area not in use
  const err = readOptions(b, DHCP_MIN_LENGTH, b.length, m.options, 'options');
  if (err !== null) return fail('bad-option', err);
  // RFC 2132 §9.3: option overload — sname and/or file carry options too.
  const ov = m.options.get(OPT_OVERLOAD);
  if (ov !== undefined) {
    if (ov.length !== 1 || ov[0]! < 1 || ov[0]! > 3) return fail('bad-option', 'bad option overload value');
    if (ov[0]! & 1) { const e = readOptions(b, 108, 236, m.options, 'file'); if (e !== null) return fail('bad-option', e); m.file = ''; }
    if (ov[0]! & 2) { const e = readOptions(b, 44, 108, m.options, 'sname'); if (e !== null) return fail('bad-option', e); m.sname = ''; }
  }
  return ok(m);
}

// ---------------------------------------------------------------- option helpers

export function optU8(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v !== undefined && v.length === 1 ? v[0]! : undefined;
}
export function optU16(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v !== undefined && v.length === 2 ? u16(v, 0) : undefined;
}
export function optU32(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v !== undefined && v.length === 4 ? u32(v, 0) : undefined;
}
/** A list of addresses (routers, DNS servers): undefined when absent or not a multiple of 4 long. */
export function optAddrs(m: DhcpMessage, code: number): number[] | undefined {
  const v = m.options.get(code);
  if (v === undefined || v.length === 0 || v.length % 4 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(u32(v, i));
  return out;
}
export function optString(m: DhcpMessage, code: number): string | undefined {
  const v = m.options.get(code);
  return v === undefined ? undefined : cstr(v);
}
export function messageType(m: DhcpMessage): number | undefined { return optU8(m, OPT_MESSAGE_TYPE); }
/** The client's MAC (chaddr's first hlen octets). */
export function clientMac(m: DhcpMessage): Uint8Array { return m.chaddr.subarray(0, Math.min(m.hlen, 16)); }

export const u32Bytes = (v: number): Uint8Array => new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
export const addrsBytes = (vs: readonly number[]): Uint8Array => { const o = new Uint8Array(vs.length * 4); vs.forEach((v, i) => o.set(u32Bytes(v), i * 4)); return o; };
export const strBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

// ---------------------------------------------------------------- emit

export interface DhcpEmit {
  op: number;
  xid: number;
  secs?: number;
  flags?: number;
  ciaddr?: number;
  yiaddr?: number;
  siaddr?: number;
  giaddr?: number;
  /** The MAC address (6 octets for Ethernet). */
  chaddr: Uint8Array;
  htype?: number;
  sname?: string;
  file?: string;
  /** Options in order; values longer than 255 octets are split (RFC 3396). Message type first by convention. */
  options: Array<[number, Uint8Array]>;
}

/** Serialize a DHCP message, padded to 300 octets (RFC 1542 §2.1). */
export function emitDhcp(e: DhcpEmit): Uint8Array {
  let optLen = 1; // END
  for (const [, v] of e.options) optLen += Math.max(1, Math.ceil(v.length / 255)) * 2 + v.length;
  const b = new Uint8Array(Math.max(BOOTP_MIN_LENGTH, DHCP_MIN_LENGTH + optLen));
  const dv = new DataView(b.buffer);
  b[0] = e.op; b[1] = e.htype ?? HTYPE_ETHERNET; b[2] = Math.min(16, e.chaddr.length); b[3] = 0;
  dv.setUint32(4, e.xid >>> 0); dv.setUint16(8, e.secs ?? 0); dv.setUint16(10, e.flags ?? 0);
  dv.setUint32(12, e.ciaddr ?? 0); dv.setUint32(16, e.yiaddr ?? 0); dv.setUint32(20, e.siaddr ?? 0); dv.setUint32(24, e.giaddr ?? 0);
  b.set(e.chaddr.subarray(0, 16), 28);
  if (e.sname) b.set(strBytes(e.sname).subarray(0, 63), 44);
  if (e.file) b.set(strBytes(e.file).subarray(0, 127), 108);
  dv.setUint32(236, MAGIC);
  let p = DHCP_MIN_LENGTH;
  for (const [code, v] of e.options) {
    let off = 0;
    do {
      const n = Math.min(255, v.length - off);
      b[p++] = code; b[p++] = n;
      b.set(v.subarray(off, off + n), p);
      p += n; off += n;
    } while (off < v.length);
  }
  b[p] = OPT_END;
  return b;
}

/** One-line summary: "DHCPOFFER xid 0x1234 yiaddr 198.18.0.100 lease 3600s". */
export function describeDhcp(m: DhcpMessage): string {
  const t = messageType(m);
  const parts = [`DHCP${dhcpTypeName(t)}`, `xid 0x${m.xid.toString(16)}`];
  if (m.ciaddr) parts.push(`ciaddr ${formatIpv4Address(m.ciaddr)}`);
  if (m.yiaddr) parts.push(`yiaddr ${formatIpv4Address(m.yiaddr)}`);
  const req = optU32(m, OPT_REQUESTED_IP);
  if (req !== undefined) parts.push(`requested ${formatIpv4Address(req)}`);
  const lease = optU32(m, OPT_LEASE_TIME);
  if (lease !== undefined) parts.push(`lease ${lease}s`);
  return parts.join(' ');
}
