// DNS messages: RFC 1035 §4 (header, question, resource records), names with compression
// (§4.1.4), RFC 2181 §11 (labels up to 63 octets, names up to 255). Parsing never throws:
// malformed input gives a typed ParseError. Compression pointers must point backwards (no
// loops) and at most 64 jumps are followed.
import { fail, ok, type ParseResult } from '../wire/errors.js';

export const DNS_PORT = 53;
/** RFC 1035 §4.2.1: UDP messages are limited to 512 octets (no EDNS here). */
export const DNS_UDP_MAX = 512;

export const TYPE_A = 1, TYPE_NS = 2, TYPE_CNAME = 5, TYPE_SOA = 6, TYPE_PTR = 12, TYPE_MX = 15, TYPE_TXT = 16, TYPE_AAAA = 28, TYPE_ANY = 255;
export const CLASS_IN = 1;
export const RCODE_NOERROR = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5;
export const OPCODE_QUERY = 0;

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 255: 'ANY' };
export function typeName(t: number): string { return TYPE_NAMES[t] ?? `TYPE${t}`; }
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export function rcodeName(r: number): string { return RCODE_NAMES[r] ?? `RCODE${r}`; }

export interface DnsQuestion { name: string; type: number; class: number }

export interface DnsSoa { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A: the address as a uint32. */
  address?: number;
  /** CNAME, PTR, NS: the target name (decompressed). MX: the exchange. */
  target?: string;
  /** MX preference. */
  preference?: number;
  soa?: DnsSoa;
  /** The raw RDATA (types not decoded above keep only this; on emit it is used when nothing decoded is set). */
  data?: Uint8Array;
}

export interface DnsFlags {
  qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean; ad?: boolean; cd?: boolean; rcode: number;
}

export interface DnsMessage {
  id: number;
  flags: DnsFlags;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

export function newFlags(f: Partial<DnsFlags> = {}): DnsFlags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode: 0, ...f };
}

const MAX_JUMPS = 64;

class Reader {
  constructor(readonly b: Uint8Array, public p = 0) {}
  need(n: number): boolean { return this.p + n <= this.b.length; }
  u8(): number { return this.b[this.p++]!; }
  u16(): number { const v = (this.b[this.p]! << 8) | this.b[this.p + 1]!; this.p += 2; return v; }
  u32(): number { const v = ((this.b[this.p]! << 24) | (this.b[this.p + 1]! << 16) | (this.b[this.p + 2]! << 8) | this.b[this.p + 3]!) >>> 0; this.p += 4; return v; }
}

/** Read a (possibly compressed) name at r.p; advances r.p past it in the message. */
function readName(r: Reader): string | { error: string } {
  const b = r.b;
  let p = r.p;
  let end = -1; // where the caller continues (after the first pointer)
  let jumps = 0;
  let total = 0;
  const labels: string[] = [];
  for (;;) {
    if (p >= b.length) return { error: 'name runs past the message' };
    const len = b[p]!;
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= b.length) return { error: 'truncated compression pointer' };
      const target = ((len & 0x3f) << 8) | b[p + 1]!;
      if (end < 0) end = p + 2;
      // Pointers must go backwards (to an earlier name), which also rules out loops.
      if (target >= p) return { error: `compression pointer ${target} does not point backwards (at ${p})` };
      if (++jumps > MAX_JUMPS) return { error: 'too many compression pointers' };
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return { error: `reserved label type 0x${(len & 0xc0).toString(16)}` };
    p++;
    if (len === 0) break;
    if (p + len > b.length) return { error: 'label runs past the message' };
    total += len + 1;
    if (total > 255) return { error: 'name longer than 255 octets' };
    let s = '';
    for (let i = 0; i < len; i++) {
      const c = b[p + i]!;
      // Presentation format escapes (RFC 1035 §5.1) for dots, backslashes and non-printables.
      if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
      else if (c < 0x21 || c > 0x7e) s += '\\' + String(c).padStart(3, '0');
      else s += String.fromCharCode(c);
    }
    labels.push(s);
    p += len;
  }
  r.p = end >= 0 ? end : p;
  return labels.join('.');
}

function readRecord(r: Reader): DnsRecord | { error: string } {
  const name = readName(r);
  if (typeof name !== 'string') return name;
  if (!r.need(10)) return { error: 'truncated resource record header' };
  const type = r.u16(), klass = r.u16(), ttl = r.u32(), rdlen = r.u16();
  if (!r.need(rdlen)) return { error: `RDATA of ${rdlen} octets runs past the message` };
  const start = r.p, end = r.p + rdlen;
  const rec: DnsRecord = { name, type, class: klass, ttl: ttl > 0x7fffffff ? 0 : ttl, data: r.b.slice(start, end) };
  // RFC 2181 §8: a TTL with the top bit set is treated as zero.
  if (type === TYPE_A && klass === CLASS_IN) {
    if (rdlen !== 4) return { error: `A record with ${rdlen} octets of RDATA` };
    rec.address = r.u32();
  } else if (type === TYPE_CNAME || type === TYPE_PTR || type === TYPE_NS) {
    const t = readName(r);
    if (typeof t !== 'string') return t;
    if (r.p !== end) return { error: `${typeName(type)} RDATA length mismatch` };
    rec.target = t;
  } else if (type === TYPE_MX) {
    if (rdlen < 3) return { error: 'short MX RDATA' };
    rec.preference = r.u16();
    const t = readName(r);
    if (typeof t !== 'string') return t;
    if (r.p !== end) return { error: 'MX RDATA length mismatch' };
    rec.target = t;
  } else if (type === TYPE_SOA) {
    const mname = readName(r);
    if (typeof mname !== 'string') return mname;
    const rname = readName(r);
    if (typeof rname !== 'string') return rname;
    if (r.p + 20 !== end) return { error: 'SOA RDATA length mismatch' };
    rec.soa = { mname, rname, serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
  }
  r.p = end;
  return rec;
}

/** Parse a DNS message (RFC 1035 §4.1). Never throws. */
export function parseDns(buf: Uint8Array): ParseResult<DnsMessage> {
  if (buf.length < 12) return fail('truncated', `DNS header needs 12 octets, have ${buf.length}`);
  const r = new Reader(buf);
  const id = r.u16();
  const f = r.u16();
  const flags: DnsFlags = {
    qr: (f & 0x8000) !== 0, opcode: (f >> 11) & 0xf, aa: (f & 0x0400) !== 0, tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0, ra: (f & 0x0080) !== 0, ad: (f & 0x0020) !== 0, cd: (f & 0x0010) !== 0, rcode: f & 0xf,
  };
  const qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
  // Each question needs at least 5 octets and each record 11: reject absurd counts early.
  if (12 + qd * 5 + (an + ns + ar) * 11 > buf.length) return fail('truncated', `counts ${qd}/${an}/${ns}/${ar} do not fit ${buf.length} octets`);
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(r);
    if (typeof name !== 'string') return fail('bad-option', `question ${i}: ${name.error}`);
    if (!r.need(4)) return fail('truncated', `question ${i}: no type/class`);
    questions.push({ name, type: r.u16(), class: r.u16() });
  }
  const sections: DnsRecord[][] = [[], [], []];
  const counts = [an, ns, ar];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const rec = readRecord(r);
      if ('error' in rec) return fail('bad-option', `record ${i} of section ${s + 1}: ${rec.error}`);
      sections[s]!.push(rec);
    }
  }
  return ok({ id, flags, questions, answers: sections[0]!, authority: sections[1]!, additional: sections[2]! });
}

// ---------------------------------------------------------------- emit

/** Lower-case a name for comparisons and the compression table (RFC 4343: case-insensitive). */
export function canonicalName(name: string): string {
  let n = name.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

/** Split presentation format into label byte arrays; throws RangeError on a bad name. */
function labelsOf(name: string): Uint8Array[] {
  let n = name;
  if (n.endsWith('.') && !n.endsWith('\\.')) n = n.slice(0, -1);
  if (n === '') return [];
  const out: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < n.length; i++) {
    const ch = n[i]!;
    if (ch === '\\') {
      const d = n.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) { cur.push(Number(d) & 0xff); i += 3; } else { cur.push(n.charCodeAt(i + 1) & 0xff); i += 1; }
    } else if (ch === '.') { out.push(Uint8Array.from(cur)); cur = []; }
    else cur.push(n.charCodeAt(i) & 0xff);
  }
  out.push(Uint8Array.from(cur));
  let total = 1;
  for (const l of out) {
    if (l.length === 0 || l.length > 63) throw new RangeError(`bad DNS label in "${name}"`);
    total += l.length + 1;
  }
  if (total > 255) throw new RangeError(`DNS name "${name}" longer than 255 octets`);
  return out;
}

class Writer {
  buf = new Uint8Array(512);
  len = 0;
  /** Name suffix (case-sensitive) → offset, for compression (RFC 1035 §4.1.4). */
  private readonly names = new Map<string, number>();
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let c = this.buf.length * 2;
    while (c < this.len + n) c *= 2;
    const b = new Uint8Array(c); b.set(this.buf.subarray(0, this.len)); this.buf = b;
  }
  u8(v: number): void { this.ensure(1); this.buf[this.len++] = v & 0xff; }
  u16(v: number): void { this.ensure(2); this.buf[this.len++] = (v >>> 8) & 0xff; this.buf[this.len++] = v & 0xff; }
  u32(v: number): void { this.u16(v >>> 16); this.u16(v & 0xffff); }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  name(name: string, compress = true): void {
    const labels = labelsOf(name);
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).map((l) => String.fromCharCode(...l)).join('.'); // case kept (0x20 randomization needs it)
      const at = compress ? this.names.get(key) : undefined;
      if (at !== undefined) { this.u16(0xc000 | at); return; }
      if (this.len < 0x4000) this.names.set(key, this.len);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
}

function writeRecord(w: Writer, rec: DnsRecord): void {
  w.name(rec.name);
  w.u16(rec.type); w.u16(rec.class); w.u32(rec.ttl >>> 0);
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  if (rec.address !== undefined) w.u32(rec.address >>> 0);
  else if (rec.soa !== undefined) {
    const s = rec.soa;
    w.name(s.mname); w.name(s.rname); w.u32(s.serial); w.u32(s.refresh); w.u32(s.retry); w.u32(s.expire); w.u32(s.minimum);
  } else if (rec.target !== undefined) {
    if (rec.type === TYPE_MX) w.u16(rec.preference ?? 0);
    w.name(rec.target);
  } else if (rec.data !== undefined) w.bytes(rec.data);
  const rdlen = w.len - start;
  w.buf[lenAt] = rdlen >>> 8; w.buf[lenAt + 1] = rdlen & 0xff;
}

/** Serialize a message with name compression. Throws RangeError for an invalid name. */
export function emitDns(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  const f = m.flags;
  w.u16((f.qr ? 0x8000 : 0) | ((f.opcode & 0xf) << 11) | (f.aa ? 0x0400 : 0) | (f.tc ? 0x0200 : 0) | (f.rd ? 0x0100 : 0)
    | (f.ra ? 0x0080 : 0) | (f.ad ? 0x0020 : 0) | (f.cd ? 0x0010 : 0) | (f.rcode & 0xf));
  w.u16(m.questions.length); w.u16(m.answers.length); w.u16(m.authority.length); w.u16(m.additional.length);
  for (const q of m.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const s of [m.answers, m.authority, m.additional]) for (const r of s) writeRecord(w, r);
  return w.buf.slice(0, w.len);
}

/** A standard query for `name` (RD set, as a stub resolver sends it: RFC 1035 §7.1). */
export function buildQuery(id: number, name: string, type = TYPE_A): Uint8Array {
  return emitDns({ id, flags: newFlags({ rd: true }), questions: [{ name, type, class: CLASS_IN }], answers: [], authority: [], additional: [] });
}

/** The reverse-lookup name of an IPv4 address: 2.0.18.198.in-addr.arpa (RFC 1035 §3.5). */
export function reverseName(addr: number): string {
  return `${addr & 0xff}.${(addr >>> 8) & 0xff}.${(addr >>> 16) & 0xff}.${addr >>> 24}.in-addr.arpa`;
}

/** The address of an in-addr.arpa name, or null. */
export function addressOfReverseName(name: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(canonicalName(name));
  if (m === null) return null;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return null;
  return ((o[3]! << 24) | (o[2]! << 16) | (o[1]! << 8) | o[0]!) >>> 0;
}
