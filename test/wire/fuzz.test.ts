// Fuzzes every parser in src/wire with random and mutated buffers: nothing may throw, and
// each result is either ok or a ParseError of a known kind with a reason. Seeded, so a
// failure reproduces; set SYNACK_FUZZ_SEED to explore other seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParseErrorKind, ParseResult } from '../../src/wire/errors.js';
import { internetChecksum, transportChecksum } from '../../src/wire/checksum.js';
import { emitIpv4Header, parseIpv4, IPPROTO_ICMP, IPPROTO_TCP } from '../../src/wire/ipv4.js';
import { emitIcmpDestUnreachable, emitIcmpEcho, icmpDestUnreachableLength, parseIcmp, parseIcmpQuote } from '../../src/wire/icmp.js';
import { emitTcp, parseTcp, tcpHeaderLength, TcpView, TCP_ACK, TCP_PSH, TCP_SYN, TCP_URG } from '../../src/wire/tcp.js';
import type { TcpEmitFields } from '../../src/wire/tcp.js';
import { newTcpOptionSummary, parseTcpOptions, scanTcpOptions, summarizeTcpOptions } from '../../src/wire/tcpoptions.js';
import { PcapWriter, readPcap } from '../../src/wire/pcap.js';
import { formatPacket, PacketPrinter } from '../../src/wire/print.js';
import { parseCidr, parseIpv4Address } from '../../src/wire/ipv4addr.js';
import { mulberry32 } from './prng.js';

const KINDS: ReadonlySet<ParseErrorKind> = new Set<ParseErrorKind>([
  'truncated', 'bad-version', 'bad-ihl', 'bad-length', 'bad-checksum', 'bad-data-offset', 'bad-option', 'fragment', 'unsupported',
]);

const SEED = Number(process.env.SYNACK_FUZZ_SEED ?? 0xc0ffee);
const BUFFERS = 100_000;


const rnd = mulberry32(SEED);
const int = (n: number): number => Math.floor(rnd() * n);
/** Values that sit on field boundaries: lengths, offsets, option kinds. */
const INTERESTING = [0, 1, 2, 3, 4, 5, 8, 10, 0x0f, 0x10, 0x14, 0x28, 0x3c, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x5f, 0x60, 0x7f, 0x80, 0xf0, 0xfe, 0xff];
const byte = (): number => (rnd() < 0.3 ? INTERESTING[int(INTERESTING.length)]! : int(256));

function check<T>(r: ParseResult<T>, where: string): r is Extract<ParseResult<T>, { ok: true }> {
  if (r.ok) return true;
  assert.ok(KINDS.has(r.error.kind), `${where}: unknown error kind ${String(r.error.kind)}`);
  assert.equal(typeof r.error.reason, 'string', where);
  assert.ok(r.error.reason.length > 0, `${where}: empty reason`);
  return false;
}

// ---- seed packets ----

const A = 0xc6120001;
const B = 0xc6120002;

function ipWrap(protocol: number, payload: Uint8Array, extra: { options?: Uint8Array; moreFragments?: boolean; fragmentOffset?: number } = {}): Uint8Array {
  const hl = 20 + (extra.options?.length ?? 0);
  const out = new Uint8Array(hl + payload.length);
  emitIpv4Header({ ttl: 64, protocol, src: A, dst: B, ...extra }, payload.length, out, 0);
  out.set(payload, hl);
  return out;
}

function tcpSeg(f: TcpEmitFields, payloadLen = 0): Uint8Array {
  const payload = new Uint8Array(payloadLen).map((_, i) => i & 0xff);
  const seg = new Uint8Array(tcpHeaderLength(f) + payloadLen);
  emitTcp(f, payload, A, B, seg, 0);
  return seg;
}

function seeds(): Uint8Array[] {
  const s: Uint8Array[] = [];
  const tcp = [
    tcpSeg({ srcPort: 40000, dstPort: 80, seq: 0xfffffffe, ack: 0, flags: TCP_SYN, window: 64240,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 1, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] }),
    tcpSeg({ srcPort: 80, dstPort: 40000, seq: 5, ack: 0xffffffff, flags: TCP_SYN | TCP_ACK, window: 65160,
      options: [{ kind: 'mss', value: 1400 }, { kind: 'nop' }, { kind: 'wscale', shift: 3 }] }),
    tcpSeg({ srcPort: 40000, dstPort: 80, seq: 1, ack: 1, flags: TCP_ACK | TCP_PSH, window: 502,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 7, ecr: 9 }] }, 100),
    tcpSeg({ srcPort: 80, dstPort: 40000, seq: 1, ack: 1, flags: TCP_ACK, window: 502,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[10, 20], [30, 40], [50, 60], [70, 80]] }] }),
    tcpSeg({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_URG | TCP_ACK, window: 5, urgentPointer: 2 }, 3),
    tcpSeg({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_ACK, window: 5,
      options: [{ kind: 'unknown', type: 30, data: Uint8Array.of(1, 2, 3, 4) }, { kind: 'mss', value: 9 }] }, 1),
  ];
  for (const t of tcp) {
    s.push(ipWrap(IPPROTO_TCP, t));
  }
  s.push(ipWrap(IPPROTO_TCP, tcp[0]!, { options: Uint8Array.of(1, 1, 1, 0) })); // IHL 6
  s.push(ipWrap(IPPROTO_TCP, tcp[2]!, { moreFragments: true }));
  const echo = new Uint8Array(64);
  emitIcmpEcho(8, 1, 2, new Uint8Array(56).fill(0x61), echo, 0);
  s.push(ipWrap(IPPROTO_ICMP, echo));
  for (const code of [1, 3, 4]) {
    const quoted = s[0]!;
    const u = new Uint8Array(icmpDestUnreachableLength(quoted));
    emitIcmpDestUnreachable(code, quoted, u, 0, 1400);
    s.push(ipWrap(IPPROTO_ICMP, u));
  }
  s.push(ipWrap(17, Uint8Array.of(0, 53, 4, 210, 0, 12, 0, 0, 1, 2, 3, 4)));
  return s;
}

function pcapOf(packets: Uint8Array[]): Uint8Array {
  const w = new PcapWriter();
  packets.forEach((p, i) => w.writePacket(i * 1000 + 0.5, p));
  return w.bytes();
}

// ---- mutations ----

function mutate(src: Uint8Array, pool: Uint8Array[]): Uint8Array {
  let b = src.slice();
  for (let n = 1 + int(3); n > 0; n--) {
    switch (int(9)) {
      case 0: // flip bits
        for (let k = 1 + int(8); k > 0 && b.length > 0; k--) b[int(b.length)]! ^= 1 << int(8);
        break;
      case 1: // overwrite bytes, favouring the headers
        for (let k = 1 + int(4); k > 0 && b.length > 0; k--) b[int(Math.min(b.length, rnd() < 0.7 ? 64 : b.length))] = byte();
        break;
      case 2: { // insert
        const at = int(b.length + 1);
        const ins = new Uint8Array(1 + int(8)).map(byte);
        const nb = new Uint8Array(b.length + ins.length);
        nb.set(b.subarray(0, at));
        nb.set(ins, at);
        nb.set(b.subarray(at), at + ins.length);
        b = nb;
        break;
      }
      case 3: { // delete a range
        const at = int(b.length + 1);
        const len = int(16);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + len))]);
        break;
      }
      case 4: // truncate
        b = b.slice(0, int(b.length + 1));
        break;
      case 5: // append
        b = Uint8Array.from([...b, ...new Uint8Array(1 + int(40)).map(byte)]);
        break;
      case 6: { // hot fields: IP version/IHL, total length, TCP data offset, an option length
        const spots = [0, 2, 3, 6, 9, 32, 41, 43, 45, 47];
        const at = spots[int(spots.length)]!;
        if (at < b.length) b[at] = byte();
        break;
      }
      case 7: { // splice with another seed
        const other = pool[int(pool.length)]!;
        const cut = int(Math.min(b.length, other.length) + 1);
        b = Uint8Array.from([...b.subarray(0, cut), ...other.subarray(cut)]);
        break;
      }
      default: // swap two bytes
        if (b.length > 1) {
          const i = int(b.length);
          const j = int(b.length);
          const t = b[i]!;
          b[i] = b[j]!;
          b[j] = t;
        }
    }
  }
  return b;
}

/** Sometimes make the checksums right again so the deeper checks (options, ICMP quotes) are reached. */
function repairChecksums(b: Uint8Array): void {
  if (b.length < 20) return;
  const hl = (b[0]! & 0x0f) * 4;
  if (hl < 20 || hl > b.length) return;
  b[10] = 0;
  b[11] = 0;
  const c = internetChecksum(b, 0, hl);
  b[10] = c >>> 8;
  b[11] = c & 0xff;
  const total = Math.min(b.length, (b[2]! << 8) | b[3]!);
  const len = total - hl;
  if (b[9] === IPPROTO_TCP && len >= 20) {
    b[hl + 16] = 0;
    b[hl + 17] = 0;
    const t = transportChecksum(A, B, IPPROTO_TCP, b, hl, len);
    b[hl + 16] = t >>> 8;
    b[hl + 17] = t & 0xff;
  } else if (b[9] === IPPROTO_ICMP && len >= 8) {
    b[hl + 2] = 0;
    b[hl + 3] = 0;
    const t = internetChecksum(b, hl, len);
    b[hl + 2] = t >>> 8;
    b[hl + 3] = t & 0xff;
  }
}

// ---- the parsers ----

const view = new TcpView();
const summary = newTcpOptionSummary();

function optionsAgree(buf: Uint8Array, off: number, len: number, where: string): void {
  const r = parseTcpOptions(buf, off, len);
  const e = scanTcpOptions(buf, off, len, summary);
  if (check(r, where)) {
    assert.equal(e, null, where);
    const s = summarizeTcpOptions(r.value);
    assert.equal(summary.mss, s.mss, where);
    assert.equal(summary.wscale, s.wscale, where);
    assert.equal(summary.tsPresent, s.tsPresent, where);
    assert.equal(summary.sackCount, s.sackCount, where);
  } else {
    assert.deepEqual(e, r.error, where);
  }
}

function tcpEverything(seg: Uint8Array, src: number, dst: number, where: string): void {
  const r = parseTcp(seg, { src, dst });
  if (check(r, `${where} parseTcp`)) {
    assert.ok(r.value.dataOffset >= 20 && r.value.dataOffset <= 60 && r.value.dataOffset <= seg.length, where);
    assert.equal(r.value.payload.length, seg.length - r.value.dataOffset, where);
  }
  check(parseTcp(seg), `${where} parseTcp(no checksum)`);
  const err = view.reset(seg);
  if (err === null) {
    const sum = view.srcPort + view.dstPort + view.seq + view.ack + view.flags + view.window + view.checksum +
      view.urgentPointer + view.reserved + view.payload().length;
    assert.ok(Number.isInteger(sum), where);
    assert.ok(view.payloadLength >= 0 && view.optionsLength >= 0 && view.optionsLength <= 40, where);
    view.checksumOk(src, dst);
    optionsAgree(seg, view.optionsOffset, view.optionsLength, `${where} options`);
  } else {
    assert.ok(KINDS.has(err.kind), where);
  }
}

const printer = new PacketPrinter();

function everyParser(b: Uint8Array, where: string): void {
  for (const opts of [undefined, { verifyChecksum: false }, { verifyChecksum: false, allowTruncated: true }]) {
    const r = parseIpv4(b, opts);
    if (check(r, `${where} parseIpv4`) && opts?.allowTruncated !== true) {
      const p = r.value.payload;
      tcpEverything(p, r.value.src, r.value.dst, `${where} ip.payload`);
      check(parseIcmp(p), `${where} parseIcmp(payload)`);
      const icmp = parseIcmp(p, { verifyChecksum: false });
      if (check(icmp, `${where} parseIcmp(payload, no checksum)`) && 'quoted' in icmp.value) {
        check(parseIcmpQuote(icmp.value.quoted), `${where} parseIcmpQuote`);
      }
    }
  }
  // The same bytes taken as a bare segment / message / option area / capture file.
  tcpEverything(b, A, B, `${where} raw`);
  if (b.length > 20) tcpEverything(b.subarray(20), A, B, `${where} raw+20`);
  check(parseIcmp(b), `${where} parseIcmp raw`);
  check(parseIcmpQuote(b), `${where} parseIcmpQuote raw`);
  const off = int(b.length + 3) - 1;
  const len = int(b.length + 3) - 1;
  optionsAgree(b, off, len, `${where} options off=${off} len=${len}`);
  optionsAgree(b, 0, Math.min(b.length, 40), `${where} options whole`);
  check(readPcap(b), `${where} readPcap`);
  const line = formatPacket(b);
  assert.equal(typeof line, 'string', where);
  assert.ok(line.length > 0, where);
  assert.ok(printer.format(b).length > 0, where);
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

test(`fuzz: ${BUFFERS} random and mutated buffers through every src/wire parser (seed ${SEED})`, () => {
  const pool = seeds();
  const stats = { random: 0, mutated: 0, ipOk: 0, tcpOk: 0, pcapOk: 0 };
  const tcpErrors = new Map<ParseErrorKind, number>();
  // Sanity: the seeds themselves parse.
  for (const s of pool) assert.ok(parseIpv4(s).ok);
  for (let n = 0; n < BUFFERS; n++) {
    let b: Uint8Array;
    const kind = rnd();
    if (kind < 0.15) {
      b = new Uint8Array(int(100)).map(byte);
      stats.random++;
    } else if (kind < 0.25) {
      // Random but IPv4-shaped, so the transport parsers see random headers.
      b = new Uint8Array(20 + int(100)).map(byte);
      b[0] = 0x45;
      b[2] = 0;
      b[3] = b.length;
      b[6] = 0;
      b[7] = 0;
      b[9] = rnd() < 0.6 ? IPPROTO_TCP : IPPROTO_ICMP;
      repairChecksums(b);
      stats.random++;
    } else {
      b = mutate(pool[int(pool.length)]!, pool);
      if (rnd() < 0.5) repairChecksums(b);
      stats.mutated++;
    }
    try {
      everyParser(b, `#${n}`);
    } catch (e) {
      throw new Error(`fuzz buffer #${n} (seed ${SEED}) ${hexOf(b)}: ${(e as Error).stack ?? String(e)}`);
    }
    const ip = parseIpv4(b);
    if (ip.ok) {
      stats.ipOk++;
      if (ip.value.protocol === IPPROTO_TCP) {
        const t = parseTcp(ip.value.payload, { src: ip.value.src, dst: ip.value.dst });
        if (t.ok) stats.tcpOk++;
        else tcpErrors.set(t.error.kind, (tcpErrors.get(t.error.kind) ?? 0) + 1);
      }
    }
  }

  // Capture files: whole pcaps of the seeds, mutated.
  const file = pcapOf(pool);
  assert.ok(readPcap(file).ok);
  for (let n = 0; n < 3000; n++) {
    const m = mutate(file, [file]);
    const r = readPcap(m);
    if (check(r, `pcap #${n}`)) {
      stats.pcapOk++;
      for (const rec of r.value.records) formatPacket(rec.data);
    }
  }

  // The string parsers in src/wire return null instead of throwing.
  const chars = '0123456789./-x 255';
  for (let n = 0; n < 3000; n++) {
    const s = Array.from({ length: int(22) }, () => chars[int(chars.length)]).join('');
    const a = parseIpv4Address(s);
    assert.ok(a === null || (Number.isInteger(a) && a >= 0 && a <= 0xffffffff));
    const c = parseCidr(s);
    assert.ok(c === null || (c.prefixLen >= 0 && c.prefixLen <= 32));
  }

  // The mutations must reach deep: a fair share still parses at each layer.
  assert.ok(stats.ipOk > BUFFERS / 10, JSON.stringify(stats));
  assert.ok(stats.tcpOk > BUFFERS / 50, JSON.stringify(stats));
  assert.ok(stats.pcapOk > 100, JSON.stringify(stats));
  // ... and every TCP error kind is produced from checksum-valid IPv4 packets.
  for (const k of ['truncated', 'bad-data-offset', 'bad-checksum', 'bad-option'] as const) {
    assert.ok((tcpErrors.get(k) ?? 0) > 50, `${k}: ${JSON.stringify([...tcpErrors])}`);
  }
  if (process.env.SYNACK_FUZZ_STATS) console.log(JSON.stringify(stats), JSON.stringify([...tcpErrors]));
});
