// One-line, tcpdump-style rendering of an IPv4 packet (as `tcpdump -n` prints it, without
// the timestamp and the leading "IP "), for traces, tests and the CLI:
//
//   198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 0, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
//   198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 2, length 64
//
// The field order and wording follow tcpdump's print-tcp.c (tcp_print) and print-icmp.c.
// Checksums are only mentioned when wrong, in tcpdump's -v wording. Malformed input never
// throws: the line names the parse error instead ("IP truncated: …", "… TCP bad-data-offset: …").

import { onesSum, pseudoHeaderSum } from './checksum.js';
import type { ParseError } from './errors.js';
import { parseIcmp, parseIcmpQuote, isIcmpDestUnreachable, isIcmpEcho } from './icmp.js';
import type { IcmpDestUnreachable } from './icmp.js';
import { formatIpv4Address } from './ipv4addr.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, parseIpv4 } from './ipv4.js';
import type { Ipv4Packet } from './ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG, TcpView, flagsToString } from './tcp.js';
import type { TcpOption } from './tcpoptions.js';
import { parseTcpOptions, tcpOptionsLength } from './tcpoptions.js';

/**
 * tcpdump's relative sequence numbers (print-tcp.c tcp_seq_hash): one entry per connection
 * for both directions. A segment with ACK set and SYN set (or the first ACK-carrying segment
 * seen) records the bases and is printed absolute; later ones print seq/ack (and SACK edges)
 * relative to them. Create one per capture and pass it to every formatPacket call.
 */
export class RelativeSeqState {
  private readonly conns = new Map<string, { seq: number; ack: number }>();

  /** Returns [seq, ack, sackBase] to print; sackBase is subtracted from SACK edges. */
  apply(src: number, sport: number, dst: number, dport: number, flags: number, seq: number, ack: number): [number, number, number] {
    if ((flags & TCP_ACK) === 0) return [seq, ack, 0];
    // tcpdump's collating order: the "lower" endpoint first, so both directions share an entry.
    const rev = src > dst || (src === dst && sport > dport);
    const key = rev ? `${dst}:${dport}-${src}:${sport}` : `${src}:${sport}-${dst}:${dport}`;
    const e = this.conns.get(key);
    if (e === undefined || (flags & TCP_SYN) !== 0) {
      this.conns.set(key, rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 });
      return [seq, ack, 0];
    }
    if (rev) return [(seq - e.ack) >>> 0, (ack - e.seq) >>> 0, e.seq];
    return [(seq - e.seq) >>> 0, (ack - e.ack) >>> 0, e.ack];
  }

  clear(): void {
    this.conns.clear();
  }
}

export interface FormatOptions {
  /**
   * Relative sequence numbers like tcpdump's default (without -S). Needs `seqState` to
   * remember each connection's bases; without one every packet is the first of its
   * connection, which tcpdump also prints absolute.
   */
  relative?: boolean;
  seqState?: RelativeSeqState;
}

/** Formats packets of one capture, relative sequence numbers by default (tcpdump without -S). */
export class PacketPrinter {
  private readonly opts: FormatOptions;

  constructor(opts?: { relative?: boolean }) {
    this.opts = { relative: opts?.relative ?? true, seqState: new RelativeSeqState() };
  }

  format(ipPacket: Uint8Array): string {
    return formatPacket(ipPacket, this.opts);
  }
}

function hex(v: number): string {
  return v.toString(16);
}

function hex4(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

function errorText(e: ParseError): string {
  return `${e.kind}: ${e.reason}`;
}

/** The checksum field value that would be correct for buf[0..len) with the field at `at`. */
function expectedChecksum(buf: Uint8Array, len: number, at: number, initial: number): number {
  const head = onesSum(buf, 0, at, initial);
  return ~onesSum(buf, at + 2, len - at - 2, head) & 0xffff;
}

/** tcpdump's option names and argument formats (print-tcp.c, the options loop). */
function formatOption(o: TcpOption, sackBase: number): string {
  switch (o.kind) {
    case 'eol': return 'eol';
    case 'nop': return 'nop';
    case 'mss': return `mss ${o.value}`;
    case 'wscale': return `wscale ${o.shift}`;
    case 'sackOK': return 'sackOK';
    case 'sack': {
      let s = `sack ${o.blocks.length} `;
      for (const [l, r] of o.blocks) s += `{${(l - sackBase) >>> 0}:${(r - sackBase) >>> 0}}`;
      return s;
    }
    case 'ts': return `TS val ${o.val >>> 0} ecr ${o.ecr >>> 0}`;
    case 'unknown': {
      let s = `unknown-${o.type}`;
      if (o.data.length > 0) {
        s += ' 0x';
        for (const b of o.data) s += b.toString(16).padStart(2, '0');
      }
      return s;
    }
  }
}

function formatTcp(ip: Ipv4Packet, src: string, dst: string, opts: FormatOptions | undefined): string {
  const seg = ip.payload;
  const view = new TcpView();
  const err = view.reset(seg);
  if (err !== null) {
    if (seg.length >= 4) {
      const sport = (seg[0]! << 8) | seg[1]!;
      const dport = (seg[2]! << 8) | seg[3]!;
      return `${src}.${sport} > ${dst}.${dport}: TCP ${errorText(err)}`;
    }
    return `${src} > ${dst}: TCP ${errorText(err)}`;
  }
  const flags = view.flags;
  let line = `${src}.${view.srcPort} > ${dst}.${view.dstPort}: Flags [${flagsToString(flags)}]`;
  if (!view.checksumOk(ip.src, ip.dst)) {
    // RFC 9293 §3.1: pseudo-header sum; the field itself sits at bytes 16..17.
    const pseudo = pseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, seg.length);
    line += `, cksum ${hex4(view.checksum)} (incorrect -> ${hex4(expectedChecksum(seg, seg.length, 16, pseudo))})`;
  }
  let seq = view.seq;
  let ack = view.ack;
  let sackBase = 0;
  if (opts?.relative && opts.seqState !== undefined) {
    [seq, ack, sackBase] = opts.seqState.apply(ip.src, view.srcPort, ip.dst, view.dstPort, flags, seq, ack);
  }
  const plen = view.payloadLength;
  // tcp_print: seq only for segments that occupy sequence space or carry data.
  if (plen > 0 || (flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) {
    line += `, seq ${seq}`;
    if (plen > 0) line += `:${(seq + plen) >>> 0}`;
  }
  if (flags & TCP_ACK) line += `, ack ${ack}`;
  line += `, win ${view.window}`;
  if (flags & TCP_URG) line += `, urg ${view.urgentPointer}`;
  if (view.optionsLength > 0) {
    const parsed = parseTcpOptions(seg, view.optionsOffset, view.optionsLength);
    if (parsed.ok) {
      const parts = parsed.value.map((o) => formatOption(o, sackBase));
      // The list stopped early only at an End of Option List byte, which tcpdump shows.
      if (tcpOptionsLength(parsed.value) < view.optionsLength) parts.push('eol');
      line += `, options [${parts.join(',')}]`;
    } else {
      line += `, options [${errorText(parsed.error)}]`;
    }
  }
  return line + `, length ${plen}`;
}

/** print-icmp.c icmp2str names (types without their own format). */
const ICMP_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [4, 'source quench'], [5, 'redirect'], [9, 'router advertisement'], [10, 'router solicitation'],
  [12, 'parameter problem'], [13, 'time stamp request'], [14, 'time stamp reply'],
  [15, 'information request'], [16, 'information reply'], [17, 'address mask request'],
  [18, 'address mask reply'],
]);

/** print-icmp.c unr2str for Destination Unreachable codes other than 2, 3 and 4 ("%s" is the quoted destination). */
const UNREACH_FORMATS: ReadonlyMap<number, string> = new Map([
  [0, 'net %s unreachable'], [1, 'host %s unreachable'],
  [5, '%s unreachable - source route failed'], [6, 'net %s unreachable - unknown'],
  [7, 'host %s unreachable - unknown'], [8, '%s unreachable - source host isolated'],
  [9, 'net %s unreachable - admin prohibited'], [10, 'host %s unreachable - admin prohibited'],
  [11, 'net %s unreachable - tos prohibited'], [12, 'host %s unreachable - tos prohibited'],
  [13, 'host %s unreachable - admin prohibited filter'],
  [14, 'host %s unreachable - host precedence violation'], [15, 'host %s unreachable - precedence cutoff'],
]);

function formatUnreachable(m: IcmpDestUnreachable): string {
  const q = parseIcmpQuote(m.quoted);
  if (!q.ok) return `unreachable code ${m.code}, quote ${errorText(q.error)}`;
  const oip = q.value.ip;
  const odst = formatIpv4Address(oip.dst);
  switch (m.code) {
    case 2: return `${odst} protocol ${oip.protocol} unreachable`;
    case 3: {
      const t = q.value.transport;
      const dport = (t[2]! << 8) | t[3]!;
      if (oip.protocol === IPPROTO_TCP) return `${odst} tcp port ${dport} unreachable`;
      if (oip.protocol === IPPROTO_UDP) return `${odst} udp port ${dport} unreachable`;
      return `${odst} protocol ${oip.protocol} port ${dport} unreachable`;
    }
    case 4:
      return m.nextHopMtu !== 0
        ? `${odst} unreachable - need to frag (mtu ${m.nextHopMtu})`
        : `${odst} unreachable - need to frag`;
    default: {
      const f = UNREACH_FORMATS.get(m.code);
      return f !== undefined ? f.replace('%s', odst) : `${odst} unreachable - #${m.code}`;
    }
  }
}

function formatIcmp(ip: Ipv4Packet, src: string, dst: string): string {
  const buf = ip.payload;
  const r = parseIcmp(buf, { verifyChecksum: false });
  if (!r.ok) return `${src} > ${dst}: ICMP ${errorText(r.error)}`;
  const m = r.value;
  let text: string;
  if (isIcmpEcho(m)) {
    text = `echo ${m.type === 8 ? 'request' : 'reply'}, id ${m.identifier}, seq ${m.sequence}`;
  } else if (isIcmpDestUnreachable(m)) {
    text = formatUnreachable(m);
  } else if (m.type === 11) {
    text = m.code === 1 ? 'ip reassembly time exceeded' : m.code === 0 ? 'time exceeded in-transit' : `time exceeded - #${m.code}`;
  } else {
    text = ICMP_TYPE_NAMES.get(m.type) ?? `type-#${m.type}`;
  }
  let line = `${src} > ${dst}: ICMP ${text}, length ${buf.length}`;
  // RFC 792: the checksum covers the whole message; a correct one sums to 0xffff.
  if (onesSum(buf, 0, buf.length) !== 0xffff) {
    line += ` (wrong icmp cksum ${hex(m.checksum)} (->${hex(expectedChecksum(buf, buf.length, 2, 0))})!)`;
  }
  return line;
}

function formatFragment(ip: Ipv4Packet, src: string, dst: string): string {
  const flags: string[] = [];
  if (ip.moreFragments) flags.push('+');
  if (ip.dontFragment) flags.push('DF');
  return `${src} > ${dst}: ip-proto-${ip.protocol} fragment id ${ip.identification}, offset ${ip.fragmentOffset}, ` +
    `flags [${flags.length > 0 ? flags.join(', ') : 'none'}], length ${ip.payload.length}`;
}

/**
 * One tcpdump-style line for an IPv4 packet. Never throws: a packet that does not parse
 * gives "IP <kind>: <reason>", a bad transport header gives "<src> > <dst>: TCP <kind>: …".
 * Fragments (RFC 791 §2.3) are shown as such, not decoded (synack refuses them).
 */
export function formatPacket(ipPacket: Uint8Array, opts?: FormatOptions): string {
  const r = parseIpv4(ipPacket, { verifyChecksum: false });
  if (!r.ok) return `IP ${errorText(r.error)}`;
  const ip = r.value;
  const src = formatIpv4Address(ip.src);
  const dst = formatIpv4Address(ip.dst);
  let line: string;
  if (ip.isFragment) {
    line = formatFragment(ip, src, dst);
  } else if (ip.protocol === IPPROTO_TCP) {
    line = formatTcp(ip, src, dst, opts);
  } else if (ip.protocol === IPPROTO_ICMP) {
    line = formatIcmp(ip, src, dst);
  } else if (ip.protocol === IPPROTO_UDP && ip.payload.length >= 8) {
    const u = ip.payload;
    const ulen = (u[4]! << 8) | u[5]!;
    line = `${src}.${(u[0]! << 8) | u[1]!} > ${dst}.${(u[2]! << 8) | u[3]!}: UDP, length ${Math.max(0, ulen - 8)}`;
  } else {
    line = `${src} > ${dst}: ip-proto-${ip.protocol} ${ip.payload.length}`;
  }
  if (!ip.checksumOk) {
    line += ` (bad ip cksum ${hex(ip.checksum)} (->${hex(expectedChecksum(ipPacket, ip.headerLength, 10, 0))})!)`;
  }
  return line;
}
