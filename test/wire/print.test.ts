import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatPacket, PacketPrinter, RelativeSeqState } from '../../src/wire/print.js';
import { emitTcp, tcpHeaderLength, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../src/wire/tcp.js';
import type { TcpEmitFields } from '../../src/wire/tcp.js';
import type { TcpOption } from '../../src/wire/tcpoptions.js';
import { emitIpv4Header, IPPROTO_ICMP, IPPROTO_TCP } from '../../src/wire/ipv4.js';
import type { Ipv4Fields } from '../../src/wire/ipv4.js';
import { emitIcmpDestUnreachable, emitIcmpEcho, icmpDestUnreachableLength } from '../../src/wire/icmp.js';

const A = 0xc6120001; // 198.18.0.1
const B = 0xc6120002; // 198.18.0.2

function ipPacket(f: Partial<Ipv4Fields> & { protocol: number }, payload: Uint8Array): Uint8Array {
  const fields: Ipv4Fields = { ttl: 64, src: A, dst: B, ...f };
  const out = new Uint8Array(20 + payload.length);
  emitIpv4Header(fields, payload.length, out, 0);
  out.set(payload, 20);
  return out;
}

function tcpPacket(f: TcpEmitFields, payload: Uint8Array | null = null, src = A, dst = B): Uint8Array {
  const seg = new Uint8Array(tcpHeaderLength(f) + (payload?.length ?? 0));
  emitTcp(f, payload, src, dst, seg, 0);
  return ipPacket({ protocol: IPPROTO_TCP, src, dst }, seg);
}

const LINUX_SYN: TcpOption[] = [
  { kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 1, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 },
];

describe('formatPacket: TCP', () => {
  test('the Linux SYN, exactly as tcpdump -n prints it', () => {
    const p = tcpPacket({ srcPort: 40000, dstPort: 80, seq: 0, ack: 0, flags: TCP_SYN, window: 64240, options: LINUX_SYN });
    assert.equal(formatPacket(p),
      '198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 0, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0');
  });

  test('SYN-ACK', () => {
    const p = tcpPacket({
      srcPort: 80, dstPort: 40000, seq: 0xffffffff, ack: 1, flags: TCP_SYN | TCP_ACK, window: 65160,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'ts', val: 77, ecr: 1 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    }, null, B, A);
    assert.equal(formatPacket(p),
      '198.18.0.2.80 > 198.18.0.1.40000: Flags [S.], seq 4294967295, ack 1, win 65160, options [mss 1460,sackOK,TS val 77 ecr 1,nop,wscale 7], length 0');
  });

  test('data segment: seq first:next, ack, nop,nop,TS', () => {
    const p = tcpPacket({
      srcPort: 40000, dstPort: 80, seq: 1, ack: 1, flags: TCP_PSH | TCP_ACK, window: 502,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 1000, ecr: 2000 }],
    }, new Uint8Array(100));
    assert.equal(formatPacket(p),
      '198.18.0.1.40000 > 198.18.0.2.80: Flags [P.], seq 1:101, ack 1, win 502, options [nop,nop,TS val 1000 ecr 2000], length 100');
  });

  test('data crossing the 2^32 wrap', () => {
    const p = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0xfffffff6, ack: 5, flags: TCP_ACK, window: 1 }, new Uint8Array(20));
    assert.equal(formatPacket(p), '198.18.0.1.1 > 198.18.0.2.2: Flags [.], seq 4294967286:10, ack 5, win 1, length 20');
  });

  test('a pure ACK shows no seq', () => {
    const p = tcpPacket({ srcPort: 40000, dstPort: 80, seq: 1, ack: 2, flags: TCP_ACK, window: 502 });
    assert.equal(formatPacket(p), '198.18.0.1.40000 > 198.18.0.2.80: Flags [.], ack 2, win 502, length 0');
  });

  test('SACK blocks', () => {
    const p = tcpPacket({
      srcPort: 80, dstPort: 40000, seq: 1, ack: 1001, flags: TCP_ACK, window: 500,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 5, ecr: 6 }, { kind: 'nop' }, { kind: 'nop' },
        { kind: 'sack', blocks: [[2001, 3001], [4001, 5001]] }],
    }, null, B, A);
    assert.equal(formatPacket(p),
      '198.18.0.2.80 > 198.18.0.1.40000: Flags [.], ack 1001, win 500, options [nop,nop,TS val 5 ecr 6,nop,nop,sack 2 {2001:3001}{4001:5001}], length 0');
    const one = tcpPacket({
      srcPort: 80, dstPort: 40000, seq: 1, ack: 1001, flags: TCP_ACK, window: 500,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[2001, 3001]] }],
    }, null, B, A);
    assert.match(formatPacket(one), /options \[nop,nop,sack 1 \{2001:3001\}\]/);
  });

  test('odd flags, urgent pointer, RST, FIN, no flags', () => {
    assert.equal(formatPacket(tcpPacket({ srcPort: 1, dstPort: 2, seq: 9, ack: 0, flags: TCP_SYN | TCP_FIN, window: 0 })),
      '198.18.0.1.1 > 198.18.0.2.2: Flags [SF], seq 9, win 0, length 0');
    assert.equal(formatPacket(tcpPacket({ srcPort: 1, dstPort: 2, seq: 9, ack: 7, flags: TCP_URG | TCP_ACK | TCP_PSH, window: 10, urgentPointer: 3 },
      Uint8Array.of(1, 2, 3))),
    '198.18.0.1.1 > 198.18.0.2.2: Flags [P.U], seq 9:12, ack 7, win 10, urg 3, length 3');
    assert.equal(formatPacket(tcpPacket({ srcPort: 1, dstPort: 2, seq: 9, ack: 0, flags: TCP_RST, window: 0 })),
      '198.18.0.1.1 > 198.18.0.2.2: Flags [R], seq 9, win 0, length 0');
    assert.equal(formatPacket(tcpPacket({ srcPort: 1, dstPort: 2, seq: 9, ack: 4, flags: TCP_FIN | TCP_ACK, window: 5 })),
      '198.18.0.1.1 > 198.18.0.2.2: Flags [F.], seq 9, ack 4, win 5, length 0');
    assert.equal(formatPacket(tcpPacket({ srcPort: 1, dstPort: 2, seq: 9, ack: 4, flags: 0, window: 5 })),
      '198.18.0.1.1 > 198.18.0.2.2: Flags [none], win 5, length 0');
  });

  test('EOL padding is shown as eol, unknown options in hex', () => {
    const p = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0,
      options: [{ kind: 'mss', value: 536 }, { kind: 'wscale', shift: 0 }] });
    assert.equal(formatPacket(p), '198.18.0.1.1 > 198.18.0.2.2: Flags [S], seq 0, win 0, options [mss 536,wscale 0,eol], length 0');
    const u = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0,
      options: [{ kind: 'unknown', type: 30, data: Uint8Array.of(0x0a, 0xff) }, { kind: 'unknown', type: 34, data: new Uint8Array(0) }] });
    assert.equal(formatPacket(u), '198.18.0.1.1 > 198.18.0.2.2: Flags [S], seq 0, win 0, options [unknown-30 0x0aff,unknown-34,eol], length 0');
  });

  test('relative sequence numbers like tcpdump (absolute until a SYN-ACK records the bases)', () => {
    const pr = new PacketPrinter();
    const c = (f: Partial<TcpEmitFields>, n = 0) =>
      pr.format(tcpPacket({ srcPort: 40000, dstPort: 80, seq: 0, ack: 0, flags: 0, window: 502, ...f }, new Uint8Array(n)));
    const s = (f: Partial<TcpEmitFields>, n = 0) =>
      pr.format(tcpPacket({ srcPort: 80, dstPort: 40000, seq: 0, ack: 0, flags: 0, window: 509, ...f }, new Uint8Array(n), B, A));
    const cISN = 0xfffffff0;
    const sISN = 123456789;
    assert.equal(c({ seq: cISN, flags: TCP_SYN }), '198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 4294967280, win 502, length 0');
    assert.equal(s({ seq: sISN, ack: cISN + 1, flags: TCP_SYN | TCP_ACK }),
      '198.18.0.2.80 > 198.18.0.1.40000: Flags [S.], seq 123456789, ack 4294967281, win 509, length 0');
    assert.equal(c({ seq: cISN + 1, ack: sISN + 1, flags: TCP_ACK }), '198.18.0.1.40000 > 198.18.0.2.80: Flags [.], ack 1, win 502, length 0');
    assert.equal(c({ seq: cISN + 1, ack: sISN + 1, flags: TCP_ACK | TCP_PSH }, 100),
      '198.18.0.1.40000 > 198.18.0.2.80: Flags [P.], seq 1:101, ack 1, win 502, length 100');
    // Crosses 2^32 in absolute terms, stays small in relative ones.
    assert.equal(c({ seq: (cISN + 101) >>> 0, ack: sISN + 1, flags: TCP_ACK | TCP_PSH }, 50),
      '198.18.0.1.40000 > 198.18.0.2.80: Flags [P.], seq 101:151, ack 1, win 502, length 50');
    assert.equal(s({ seq: sISN + 1, ack: (cISN + 101) >>> 0, flags: TCP_ACK,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[(cISN + 201) >>> 0, (cISN + 301) >>> 0]] }] }),
    '198.18.0.2.80 > 198.18.0.1.40000: Flags [.], ack 101, win 509, options [nop,nop,sack 1 {201:301}], length 0');
    assert.equal(s({ seq: sISN + 1, ack: (cISN + 151) >>> 0, flags: TCP_FIN | TCP_ACK }),
      '198.18.0.2.80 > 198.18.0.1.40000: Flags [F.], seq 1, ack 151, win 509, length 0');
    // Without a state, or with relative off, the same packet prints absolute.
    const p = tcpPacket({ srcPort: 40000, dstPort: 80, seq: cISN + 1, ack: sISN + 1, flags: TCP_ACK, window: 502 });
    assert.match(formatPacket(p, { relative: true }), /ack 123456790/);
    assert.match(formatPacket(p, { relative: false, seqState: new RelativeSeqState() }), /ack 123456790/);
    assert.match(new PacketPrinter({ relative: false }).format(p), /ack 123456790/);
  });
});

describe('formatPacket: ICMP and others', () => {
  test('echo request and reply', () => {
    const req = new Uint8Array(64);
    emitIcmpEcho(8, 1, 2, new Uint8Array(56), req, 0);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, req)), '198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 2, length 64');
    const rep = new Uint8Array(12);
    emitIcmpEcho(0, 0xbeef, 65535, Uint8Array.of(1, 2, 3, 4), rep, 0);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP, src: B, dst: A }, rep)),
      '198.18.0.2 > 198.18.0.1: ICMP echo reply, id 48879, seq 65535, length 12');
  });

  test('destination unreachable quoting a TCP segment', () => {
    const quoted = tcpPacket({ srcPort: 40000, dstPort: 81, seq: 1, ack: 0, flags: TCP_SYN, window: 1 });
    const port = new Uint8Array(icmpDestUnreachableLength(quoted));
    emitIcmpDestUnreachable(3, quoted, port, 0);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP, src: B, dst: A }, port)),
      '198.18.0.2 > 198.18.0.1: ICMP 198.18.0.2 tcp port 81 unreachable, length 36');
    const frag = new Uint8Array(icmpDestUnreachableLength(quoted));
    emitIcmpDestUnreachable(4, quoted, frag, 0, 1400);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP, src: 0x0a000001, dst: A }, frag)),
      '10.0.0.1 > 198.18.0.1: ICMP 198.18.0.2 unreachable - need to frag (mtu 1400), length 36');
    const host = new Uint8Array(icmpDestUnreachableLength(quoted));
    emitIcmpDestUnreachable(1, quoted, host, 0);
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_ICMP, src: B, dst: A }, host)), /ICMP host 198\.18\.0\.2 unreachable, length 36$/);
    const proto = new Uint8Array(icmpDestUnreachableLength(quoted));
    emitIcmpDestUnreachable(2, quoted, proto, 0);
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_ICMP, src: B, dst: A }, proto)), /ICMP 198\.18\.0\.2 protocol 6 unreachable/);
  });

  test('bad ICMP checksum is flagged, other types named', () => {
    const req = new Uint8Array(16);
    emitIcmpEcho(8, 1, 2, new Uint8Array(8), req, 0);
    const good = (req[2]! << 8) | req[3]!;
    req[8] = 1;
    const line = formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, req));
    assert.match(line, /^198\.18\.0\.1 > 198\.18\.0\.2: ICMP echo request, id 1, seq 2, length 16 \(wrong icmp cksum [0-9a-f]+ \(->[0-9a-f]+\)!\)$/);
    assert.ok(line.includes(`wrong icmp cksum ${good.toString(16)} `));
    const te = Uint8Array.of(11, 0, 0xf4, 0xff, 0, 0, 0, 0);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, te)), '198.18.0.1 > 198.18.0.2: ICMP time exceeded in-transit, length 8');
    const odd = Uint8Array.of(42, 0, 0xd5, 0xff, 0, 0, 0, 0);
    assert.equal(formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, odd)), '198.18.0.1 > 198.18.0.2: ICMP type-#42, length 8');
  });

  test('UDP and other protocols', () => {
    const udp = Uint8Array.of(0x00, 0x35, 0x04, 0xd2, 0x00, 0x0c, 0, 0, 1, 2, 3, 4);
    assert.equal(formatPacket(ipPacket({ protocol: 17 }, udp)), '198.18.0.1.53 > 198.18.0.2.1234: UDP, length 4');
    assert.equal(formatPacket(ipPacket({ protocol: 47 }, new Uint8Array(7))), '198.18.0.1 > 198.18.0.2: ip-proto-47 7');
  });

  test('fragments print as such, not decoded', () => {
    const seg = new Uint8Array(24);
    const first = ipPacket({ protocol: IPPROTO_TCP, moreFragments: true, identification: 4660 }, seg);
    assert.equal(formatPacket(first), '198.18.0.1 > 198.18.0.2: ip-proto-6 fragment id 4660, offset 0, flags [+], length 24');
    const last = ipPacket({ protocol: IPPROTO_TCP, fragmentOffset: 1480, identification: 4660 }, seg);
    assert.equal(formatPacket(last), '198.18.0.1 > 198.18.0.2: ip-proto-6 fragment id 4660, offset 1480, flags [none], length 24');
  });
});

describe('formatPacket: malformed input never throws', () => {
  test('IP-level errors', () => {
    assert.match(formatPacket(new Uint8Array(0)), /^IP truncated: /);
    assert.match(formatPacket(new Uint8Array(7)), /^IP truncated: /);
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    assert.match(formatPacket(v6), /^IP bad-version: /);
    const p = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0 });
    assert.match(formatPacket(p.subarray(0, 30)), /^IP truncated: total length 40, have 30 bytes$/);
  });

  test('IP header checksum errors are flagged, the packet still decoded', () => {
    const p = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0 });
    const stale = (p[10]! << 8) | p[11]!;
    p[8] = 1; // TTL changed without fixing the checksum
    const fixed = new Uint8Array(20);
    emitIpv4Header({ ttl: 1, protocol: IPPROTO_TCP, src: A, dst: B }, 20, fixed, 0);
    const right = (fixed[10]! << 8) | fixed[11]!;
    assert.equal(formatPacket(p),
      `198.18.0.1.1 > 198.18.0.2.2: Flags [S], seq 0, win 0, length 0 (bad ip cksum ${stale.toString(16)} (->${right.toString(16)})!)`);
  });

  test('TCP header errors', () => {
    const short = ipPacket({ protocol: IPPROTO_TCP }, Uint8Array.of(0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 0, 0, 0));
    assert.match(formatPacket(short), /^198\.18\.0\.1\.40000 > 198\.18\.0\.2\.80: TCP truncated: /);
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_TCP }, Uint8Array.of(1, 2))), /^198\.18\.0\.1 > 198\.18\.0\.2: TCP truncated: /);
    const seg = new Uint8Array(20);
    seg[12] = 0x40;
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_TCP }, seg)), /^198\.18\.0\.1\.0 > 198\.18\.0\.2\.0: TCP bad-data-offset: /);
    seg[12] = 0x60;
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_TCP }, seg)), /TCP bad-data-offset: /);
  });

  test('bad options and bad TCP checksum', () => {
    const p = tcpPacket({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_SYN, window: 0, options: [{ kind: 'mss', value: 1460 }] });
    const good = (p[36]! << 8) | p[37]!;
    p[41] = 5; // MSS length 5: also breaks the checksum
    const line = formatPacket(p);
    assert.match(line, /^198\.18\.0\.1\.1 > 198\.18\.0\.2\.2: Flags \[S\], cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\), seq 0, win 0, options \[bad-option: option kind 2 at byte 0 with length 5 [^\]]*\], length 0$/);
    p[41] = 4;
    assert.doesNotMatch(formatPacket(p), /cksum/);
    p[35] ^= 0xff; // window low byte
    assert.ok(formatPacket(p).includes(`cksum 0x${good.toString(16).padStart(4, '0')} (incorrect -> `));
  });

  test('ICMP errors', () => {
    assert.match(formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, Uint8Array.of(8, 0, 0))), /^198\.18\.0\.1 > 198\.18\.0\.2: ICMP truncated: /);
    const bad = Uint8Array.of(3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0);
    const line = formatPacket(ipPacket({ protocol: IPPROTO_ICMP }, bad));
    assert.match(line, /ICMP unreachable code 3, quote truncated: /);
  });
});
