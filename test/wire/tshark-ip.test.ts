// Cross-checks our IPv4/ICMP emitters and pcap writer against Wireshark's dissectors.
// tshark 4.0 prints checksum status fields as numbers in `-T fields` output
// (0 = Bad, 1 = Good, 2 = Unverified); other versions may print the names, so both are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/wire/pcap.js';
import { emitIpv4Header, ipv4HeaderLength, IPPROTO_ICMP, IPPROTO_TCP, type Ipv4Fields } from '../../src/wire/ipv4.js';
import { emitIcmpEcho, emitIcmpDestUnreachable, icmpEchoLength, icmpDestUnreachableLength } from '../../src/wire/icmp.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';

const A = parseIpv4Address('198.18.0.1')!;
const B = parseIpv4Address('198.18.0.2')!;
const T0 = 1_700_000_000_123_456; // fixed capture time in µs (tests never read the wall clock)

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).error === undefined;
const skip = !hasTshark && !process.env.CI ? 'tshark not installed (apt-get install tshark); required when CI is set' : false;

function ipPacket(f: Ipv4Fields, body: (out: Uint8Array, off: number) => number, bodyLen: number): Uint8Array {
  const hl = ipv4HeaderLength(f);
  const pkt = new Uint8Array(hl + bodyLen);
  assert.equal(body(pkt, hl), bodyLen);
  emitIpv4Header(f, bodyLen, pkt, 0);
  return pkt;
}

function echo(f: Ipv4Fields, type: 0 | 8, id: number, seq: number, dataLen: number): Uint8Array {
  const data = new Uint8Array(dataLen).map((_, i) => (i * 13 + 1) & 0xff);
  return ipPacket(f, (o, off) => emitIcmpEcho(type, id, seq, data, o, off), icmpEchoLength(dataLen));
}

/** The packets, and what tshark must decode from each (first occurrence of each field). */
function buildCapture(): { pcap: Uint8Array; expect: Record<string, string | number | boolean>[] } {
  const w = new PcapWriter();
  const expect: Record<string, string | number | boolean>[] = [];

  // 1: echo request, DF, odd data length.
  w.writePacket(T0, echo({ identification: 99, dontFragment: true, ttl: 64, protocol: IPPROTO_ICMP, src: A, dst: B }, 8, 0x1234, 7, 11));
  expect.push({ len: 39, hdr: 20, id: 99, df: true, mf: false, frag: 0, ttl: 64, proto: 1, src: '198.18.0.1', dst: '198.18.0.2',
    dscp: 0, ecn: 0, icmpType: 8, icmpCode: 0, ident: 0x1234, seq: 7, data: 11, ipOk: true, icmpOk: true });

  // 2: echo reply with IP options (NOP NOP NOP EOL), DSCP EF, ECN CE.
  w.writePacket(T0 + 1, echo({ identification: 0xfffe, dscp: 46, ecn: 3, ttl: 1, protocol: IPPROTO_ICMP, src: B, dst: A,
    options: Uint8Array.of(1, 1, 1, 0) }, 0, 0xffff, 0xfffe, 56));
  expect.push({ len: 88, hdr: 24, id: 0xfffe, df: false, mf: false, frag: 0, ttl: 1, proto: 1, src: '198.18.0.2', dst: '198.18.0.1',
    dscp: 46, ecn: 3, icmpType: 0, icmpCode: 0, ident: 0xffff, seq: 0xfffe, data: 56, ipOk: true, icmpOk: true });

  // 3: fragmentation needed (type 3 code 4, RFC 1191 MTU 1280) quoting a 1500-byte TCP segment.
  const tcp = new Uint8Array(1500);
  emitIpv4Header({ identification: 7, dontFragment: true, ttl: 63, protocol: IPPROTO_TCP, src: A, dst: B }, 1480, tcp, 0);
  tcp.set([0xc0, 0x01, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04], 20); // ports 49153 -> 80, seq 0x01020304
  const unreachLen = icmpDestUnreachableLength(tcp);
  w.writePacket(T0 + 1_000_000, ipPacket({ ttl: 255, protocol: IPPROTO_ICMP, src: 0x0a000001, dst: A },
    (o, off) => emitIcmpDestUnreachable(4, tcp, o, off, 1280), unreachLen));
  expect.push({ len: 20 + 36, hdr: 20, id: 0, df: false, mf: false, frag: 0, ttl: 255, proto: 1, src: '10.0.0.1', dst: '198.18.0.1',
    dscp: 0, ecn: 0, icmpType: 3, icmpCode: 4, mtu: 1280, ipOk: true, icmpOk: true, innerIpOk: true, innerTcpPort: 80 });

  // 4: a last fragment (offset 1480, no MF): tshark must show the offset; header checksum good.
  w.writePacket(T0 + 2_000_000, ipPacket({ identification: 5, fragmentOffset: 1480, ttl: 64, protocol: IPPROTO_ICMP, src: A, dst: B },
    (o, off) => { o.fill(0xab, off, off + 20); return 20; }, 20));
  expect.push({ len: 40, hdr: 20, id: 5, df: false, mf: false, frag: 1480, ttl: 64, proto: 1, src: '198.18.0.1', dst: '198.18.0.2', ipOk: true });

  // 5: control: both checksums deliberately wrong, so we know tshark really checks them.
  const bad = echo({ ttl: 64, protocol: IPPROTO_ICMP, src: A, dst: B }, 8, 1, 1, 4);
  bad[11]! ^= 0x01;
  bad[23]! ^= 0x01;
  w.writePacket(T0 + 3_000_000, bad);
  expect.push({ ipOk: false, icmpOk: false });

  return { pcap: w.bytes(), expect };
}

const FIELDS = [
  'frame.time_epoch', 'ip.len', 'ip.hdr_len', 'ip.id', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto',
  'ip.src', 'ip.dst', 'ip.dsfield.dscp', 'ip.dsfield.ecn', 'ip.checksum.status', 'icmp.type', 'icmp.code',
  'icmp.checksum.status', 'icmp.ident', 'icmp.seq', 'icmp.mtu', 'data.len', 'tcp.dstport',
] as const;

function status(s: string | undefined): 'good' | 'bad' | string {
  if (s === '1' || s === 'Good') return 'good';
  if (s === '0' || s === 'Bad') return 'bad';
  return `other(${s})`;
}
const bool = (s: string | undefined): boolean => s === '1' || s === 'True';

test('tshark decodes our IPv4/ICMP packets with good checksums', { skip }, () => {
  if (!hasTshark) assert.fail('tshark is required when CI is set');
  const dir = mkdtempSync(join(tmpdir(), 'synack-tshark-'));
  try {
    const file = join(dir, 'ip.pcap');
    const { pcap, expect } = buildCapture();
    writeFileSync(file, pcap);

    const r = spawnSync('tshark', ['-r', file, '-n', '-o', 'ip.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=;', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trimEnd().split('\n').map((line) => {
      const cols = line.split('\t');
      return Object.fromEntries(FIELDS.map((f, i) => [f, (cols[i] ?? '').split(';')])) as Record<(typeof FIELDS)[number], string[]>;
    });
    assert.equal(rows.length, expect.length);

    rows.forEach((row, i) => {
      const e = expect[i]!;
      const first = (f: (typeof FIELDS)[number]): string | undefined => row[f][0];
      const at = `frame ${i + 1}`;
      // Microsecond timestamps survive the pcap round trip exactly.
      const [sec, frac = ''] = first('frame.time_epoch')!.split('.');
      const t = [T0, T0 + 1, T0 + 1_000_000, T0 + 2_000_000, T0 + 3_000_000][i]!;
      assert.equal(Number(sec) * 1e6 + Number(frac.padEnd(9, '0').slice(0, 6)), t, at);
      assert.equal(status(first('ip.checksum.status')), e.ipOk ? 'good' : 'bad', `${at} ip checksum`);
      if ('icmpOk' in e) assert.equal(status(first('icmp.checksum.status')), e.icmpOk ? 'good' : 'bad', `${at} icmp checksum`);
      if (!e.ipOk) return;
      assert.equal(Number(first('ip.len')), e.len, `${at} len`);
      assert.equal(Number(first('ip.hdr_len')), e.hdr, `${at} hdr_len`);
      assert.equal(Number(first('ip.id')), e.id, `${at} id`); // "0x0063" or "99"
      assert.equal(bool(first('ip.flags.df')), e.df, `${at} df`);
      assert.equal(bool(first('ip.flags.mf')), e.mf, `${at} mf`);
      // tshark 4.0 shows the raw 13-bit field (8-byte units); 3.x showed bytes.
      const frag = Number(first('ip.frag_offset'));
      assert.ok(frag * 8 === e.frag || frag === e.frag, `${at} frag_offset ${frag}`);
      assert.equal(Number(first('ip.ttl')), e.ttl, `${at} ttl`);
      assert.equal(Number(first('ip.proto')), e.proto, `${at} proto`);
      assert.equal(first('ip.src'), e.src, `${at} src`);
      assert.equal(first('ip.dst'), e.dst, `${at} dst`);
      if ('dscp' in e) {
        assert.equal(Number(first('ip.dsfield.dscp')), e.dscp, `${at} dscp`);
        assert.equal(Number(first('ip.dsfield.ecn')), e.ecn, `${at} ecn`);
      }
      if ('icmpType' in e) {
        assert.equal(Number(first('icmp.type')), e.icmpType, `${at} icmp type`);
        assert.equal(Number(first('icmp.code')), e.icmpCode, `${at} icmp code`);
      }
      if ('ident' in e) {
        assert.equal(Number(first('icmp.ident')), e.ident, `${at} ident`);
        assert.equal(Number(first('icmp.seq')), e.seq, `${at} seq`);
        assert.equal(Number(first('data.len')), e.data, `${at} data len`);
      }
      if ('mtu' in e) {
        assert.equal(Number(first('icmp.mtu')), e.mtu, `${at} mtu`);
        // The quoted header is dissected too: its own checksum is good and the TCP ports are read.
        assert.deepEqual(row['ip.checksum.status'].map(status), ['good', 'good'], `${at} inner ip checksum`);
        assert.equal(Number(first('tcp.dstport')), e.innerTcpPort, `${at} quoted tcp port`);
      }
    });

    // The verbose tree agrees: every header checksum is "correct" except in the control frame.
    const v = spawnSync('tshark', ['-r', file, '-n', '-V', '-o', 'ip.check_checksum:TRUE'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    const frames = v.stdout.split(/^Frame \d+:/m).slice(1);
    assert.equal(frames.length, expect.length);
    frames.forEach((text, i) => {
      if (expect[i]!.ipOk) {
        assert.match(text, /\[Header checksum status: Good\]/, `frame ${i + 1}`);
        assert.doesNotMatch(text, /incorrect|Malformed|Expert Info \(Error/, `frame ${i + 1}`);
      } else {
        assert.match(text, /\[Header checksum status: Bad\]/);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
