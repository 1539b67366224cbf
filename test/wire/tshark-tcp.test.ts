// Cross-checks our TCP emitter against an independent decoder: Wireshark's tshark.
// Packets are built with emitIpv4Header + emitTcp, written with PcapWriter, and tshark must
// decode the same fields, call both checksums "Good", and report nothing malformed.
// tshark 4.0 prints checksum status as numbers in `-T fields` output: 0 Bad, 1 Good.
// Expert severities: 0x200000 chat, 0x400000 note, 0x600000 warn, 0x800000 error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitTcp, parseTcp, tcpHeaderLength, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../src/wire/tcp.js';
import type { TcpEmitFields } from '../../src/wire/tcp.js';
import { tcpOptionsLength } from '../../src/wire/tcpoptions.js';
import type { TcpOption } from '../../src/wire/tcpoptions.js';
import { emitIpv4Header, IPPROTO_TCP } from '../../src/wire/ipv4.js';
import { PcapWriter } from '../../src/wire/pcap.js';
import { mulberry32 } from './prng.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).error === undefined;
const skip = !hasTshark && !process.env.CI ? 'tshark not installed (apt-get install tshark); required when CI is set' : false;

const A = 0xc6120001; // 198.18.0.1
const B = 0xc6120002; // 198.18.0.2

const SEV_WARN = 0x600000;
const SEV_ERROR = 0x800000;


interface Case {
  name: string;
  fields: TcpEmitFields;
  payload: Uint8Array | null;
  src: number;
  dst: number;
  /** Realistic segments must raise no expert info at warning level or above. */
  strict: boolean;
  /** The control packet: checksum deliberately broken after emit. */
  corrupt?: boolean;
}

const LINUX_SYN: TcpOption[] = [
  { kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 0xfffffff0, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 },
];

function cases(): Case[] {
  const c: Case[] = [
    { name: 'Linux SYN', src: A, dst: B, strict: true, payload: null,
      fields: { srcPort: 40000, dstPort: 80, seq: 0xfffffffe, ack: 0, flags: TCP_SYN, window: 64240, options: LINUX_SYN } },
    { name: 'SYN-ACK', src: B, dst: A, strict: true, payload: null,
      fields: { srcPort: 80, dstPort: 40000, seq: 12345, ack: 0xffffffff, flags: TCP_SYN | TCP_ACK, window: 65160,
        options: [{ kind: 'mss', value: 1400 }, { kind: 'sackOK' }, { kind: 'ts', val: 9, ecr: 0xfffffff0 }, { kind: 'nop' }, { kind: 'wscale', shift: 14 }] } },
    { name: 'data with nop,nop,TS (odd length)', src: A, dst: B, strict: true, payload: new Uint8Array(1447).fill(0x41),
      fields: { srcPort: 40001, dstPort: 80, seq: 0xffffff00, ack: 7, flags: TCP_PSH | TCP_ACK, window: 502,
        options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 100, ecr: 200 }] } },
    { name: 'ACK with two SACK blocks', src: B, dst: A, strict: true, payload: null,
      fields: { srcPort: 80, dstPort: 40002, seq: 1, ack: 0xfffffff0, flags: TCP_ACK, window: 1000,
        options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 1, ecr: 2 }, { kind: 'nop' }, { kind: 'nop' },
          { kind: 'sack', blocks: [[0xfffffff8, 8], [100, 200]] }] } },
    { name: 'urgent data', src: A, dst: B, strict: true, payload: Uint8Array.of(1, 2, 3, 4),
      fields: { srcPort: 40003, dstPort: 23, seq: 77, ack: 88, flags: TCP_URG | TCP_ACK | TCP_PSH, window: 4096, urgentPointer: 4 } },
    { name: 'RST', src: B, dst: A, strict: false, payload: null,
      fields: { srcPort: 80, dstPort: 40004, seq: 5, ack: 0, flags: TCP_RST, window: 0 } },
    { name: 'SYN+FIN with data and reserved bits', src: A, dst: B, strict: false, payload: Uint8Array.of(9),
      fields: { srcPort: 40005, dstPort: 80, seq: 0x80000000, ack: 0, flags: TCP_SYN | TCP_FIN, window: 1, reserved: 0xe } },
    { name: 'options with EOL padding', src: A, dst: B, strict: false, payload: null,
      fields: { srcPort: 40006, dstPort: 80, seq: 1, ack: 0, flags: TCP_SYN, window: 1, options: [{ kind: 'mss', value: 536 }, { kind: 'wscale', shift: 2 }] } },
  ];
  const rnd = mulberry32(0x5eed);
  const int = (n: number) => Math.floor(rnd() * n);
  const u32 = () => (rnd() < 0.3 ? 0xffffffff - int(64) : int(0x100000000)) >>> 0;
  for (let k = 0; k < 60; k++) {
    const opts: TcpOption[] = [];
    for (let n = int(6); n > 0; n--) {
      const pick = int(7);
      const o: TcpOption = pick === 0 ? { kind: 'nop' }
        : pick === 1 ? { kind: 'mss', value: 536 + int(9000) }
        : pick === 2 ? { kind: 'wscale', shift: int(15) }
        : pick === 3 ? { kind: 'sackOK' }
        : pick === 4 ? { kind: 'ts', val: u32(), ecr: u32() }
        : pick === 5 ? { kind: 'sack', blocks: Array.from({ length: 1 + int(3) }, (): [number, number] => [u32(), u32()]) }
        // Unassigned kinds only: tshark checks the length of the ones it knows (MD5, TFO, ...).
        : { kind: 'unknown', type: 100 + int(100), data: new Uint8Array(int(6)).map(() => int(256)) };
      if (tcpOptionsLength([...opts, o]) <= 40) opts.push(o);
    }
    c.push({
      name: `random ${k}`, src: A + int(10), dst: B + 10 + int(10), strict: false,
      payload: new Uint8Array(int(3) === 0 ? 0 : int(1461)).map(() => int(256)),
      fields: {
        srcPort: 1024 + int(64512), dstPort: 1024 + int(64512), seq: u32(), ack: u32(), flags: int(256),
        window: int(65536), urgentPointer: int(65536), options: opts,
      },
    });
  }
  c.push({ name: 'control: corrupted checksum', src: A, dst: B, strict: false, corrupt: true, payload: new Uint8Array(10),
    fields: { srcPort: 40007, dstPort: 80, seq: 1, ack: 1, flags: TCP_ACK | TCP_PSH, window: 100 } });
  return c;
}

function build(k: Case): Uint8Array {
  const tcpLen = tcpHeaderLength(k.fields) + (k.payload?.length ?? 0);
  const out = new Uint8Array(20 + tcpLen);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src: k.src, dst: k.dst, dontFragment: true }, tcpLen, out, 0);
  emitTcp(k.fields, k.payload, k.src, k.dst, out, 20);
  if (k.corrupt) out[out.length - 1]! ^= 0x01;
  return out;
}

const FIELDS = [
  'frame.number', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.len',
  'tcp.window_size_value', 'tcp.urgent_pointer', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr', 'tcp.options.sack_le', 'tcp.options.sack_re',
  'tcp.checksum.status', 'ip.checksum.status', '_ws.malformed', '_ws.expert.severity', '_ws.expert.message',
] as const;

function tshark(file: string, extra: string[]): string {
  const r = spawnSync('tshark', ['-r', file, '-n',
    '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
    // Each case is its own conversation; sequence analysis would only add noise.
    '-o', 'tcp.analyze_sequence_numbers:FALSE', '-o', 'tcp.relative_sequence_numbers:FALSE',
    ...extra], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout;
}

function list(s: string): number[] {
  return s === '' ? [] : s.split(',').map((x) => Number(x));
}

test('tshark decodes our TCP segments with good checksums and nothing malformed', { skip }, () => {
  if (!hasTshark) assert.fail('tshark is required when CI is set');
  const all = cases();
  const dir = mkdtempSync(join(tmpdir(), 'synack-tshark-tcp-'));
  try {
    const w = new PcapWriter();
    const packets = all.map(build);
    packets.forEach((p, i) => w.writePacket(i * 1000, p));
    const file = join(dir, 'tcp.pcap');
    writeFileSync(file, w.bytes());

    const out = tshark(file, ['-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f])]);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, all.length);
    lines.forEach((line, i) => {
      const k = all[i]!;
      const cols = line.split('|');
      const v = Object.fromEntries(FIELDS.map((f, j) => [f, j === FIELDS.length - 1 ? cols.slice(j).join('|') : cols[j] ?? '']));
      const why = `${k.name}: ${line}`;
      const f = k.fields;
      const opts = f.options ?? [];
      assert.equal(Number(v['frame.number']), i + 1, why);
      assert.equal(Number(v['tcp.srcport']), f.srcPort, why);
      assert.equal(Number(v['tcp.dstport']), f.dstPort, why);
      // tcp.flags is 12 bits in tshark (it includes the reserved/AE bits).
      assert.equal(Number(v['tcp.flags']), f.flags | ((f.reserved ?? 0) << 8), why);
      assert.equal(Number(v['tcp.seq_raw']), f.seq >>> 0, why);
      assert.equal(Number(v['tcp.ack_raw']), f.ack >>> 0, why);
      assert.equal(Number(v['tcp.hdr_len']), tcpHeaderLength(f), why);
      assert.equal(Number(v['tcp.len']), k.payload?.length ?? 0, why);
      assert.equal(Number(v['tcp.window_size_value']), f.window, why);
      assert.equal(Number(v['tcp.urgent_pointer']), f.urgentPointer ?? 0, why);
      assert.deepEqual(list(v['tcp.options.mss_val']!), opts.flatMap((o) => (o.kind === 'mss' ? [o.value] : [])), why);
      assert.deepEqual(list(v['tcp.options.wscale.shift']!), opts.flatMap((o) => (o.kind === 'wscale' ? [o.shift] : [])), why);
      assert.deepEqual(list(v['tcp.options.timestamp.tsval']!), opts.flatMap((o) => (o.kind === 'ts' ? [o.val] : [])), why);
      assert.deepEqual(list(v['tcp.options.timestamp.tsecr']!), opts.flatMap((o) => (o.kind === 'ts' ? [o.ecr] : [])), why);
      const sacks = opts.flatMap((o) => (o.kind === 'sack' ? o.blocks : []));
      assert.deepEqual(list(v['tcp.options.sack_le']!), sacks.map((b) => b[0]), why);
      assert.deepEqual(list(v['tcp.options.sack_re']!), sacks.map((b) => b[1]), why);
      assert.equal(v['ip.checksum.status'], '1', why);
      assert.equal(v['_ws.malformed'], '', why);
      const severities = list(v['_ws.expert.severity']!);
      if (k.corrupt) {
        assert.equal(v['tcp.checksum.status'], '0', why);
        // tshark's correct value agrees with the one our parser names.
        const m = /should be (0x[0-9a-f]{4})/.exec(v['_ws.expert.message']!);
        assert.ok(m, why);
        const r = parseTcp(packets[i]!.subarray(20), { src: k.src, dst: k.dst });
        assert.ok(!r.ok && r.error.kind === 'bad-checksum', why);
        assert.match(r.error.reason, new RegExp(`expected ${m[1]}`), why);
      } else {
        assert.equal(v['tcp.checksum.status'], '1', why);
        assert.ok(severities.every((s) => s < SEV_ERROR), why);
        if (k.strict) assert.ok(severities.every((s) => s < SEV_WARN), why);
      }
    });

    // The verbose tree as well: every checksum line says Good (except the control) and no
    // "Malformed Packet" appears anywhere.
    const verbose = tshark(file, ['-V']);
    assert.doesNotMatch(verbose, /Malformed Packet/);
    assert.equal((verbose.match(/\[Checksum Status: Good\]/g) ?? []).length, all.length - 1);
    assert.equal((verbose.match(/\[Checksum Status: Bad\]/g) ?? []).length, 1);
    assert.equal((verbose.match(/\[Header checksum status: Good\]/g) ?? []).length, all.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
