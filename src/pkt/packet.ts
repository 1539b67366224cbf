// Packets between a script and the stack: building inbound segments from script lines
// (script-relative numbers mapped onto the connection's ISNs), parsing what the stack sent,
// and printing either in the script's own notation.
import type { OptSpec, PacketEvent } from './ast.js';
import type { Instant } from '../time/instant.js';
import { emitIpv4Header, parseIpv4, IPPROTO_TCP } from '../wire/ipv4.js';
import { emitTcp, parseTcp, tcpHeaderLength, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcpoptions.js';
import { formatOptSpec } from './parser.js';

/**
 * One connection as the script sees it: addresses, and the bases that turn script-relative
 * numbers into live ones. localIsn is learned from the stack's SYN / SYN-ACK.
 */
export interface ConnContext {
  localAddr: number;
  /** Our port; for an active open learned from the SYN (null until then). */
  localPort: number | null;
  remoteAddr: number;
  remotePort: number;
  /** The script's ISN (its SYN's sequence number 0 maps here). */
  remoteIsn: number;
  /** The stack's ISN (null until its SYN or SYN-ACK was seen). */
  localIsn: number | null;
  /** live TSval − script TSval, from the first outbound timestamp matched. */
  tsOffset: number | null;
  /**
   * Script TSval → the TSval the stack really sent with it (real time only: a kernel's clock
   * runs on while the script waits, so its TSval drifts from the script's by the timing
   * jitter). An inbound TS ecr that names a script TSval echoes what was sent, as a peer
   * would (Linux checks the ecr of the handshake's ACK against the SYN-ACK's TSvals).
   */
  tsEcho?: Map<number, number>;
}

/** A segment the stack sent, parsed. */
export interface OutPacket {
  t: Instant;
  src: number; dst: number; srcPort: number; dstPort: number;
  seq: number; ack: number; flags: number; window: number; urg: number;
  options: TcpOption[];
  len: number;
  /** Matched by a script line already. */
  consumed: boolean;
  /** Line of the script event during which the stack sent it. */
  line: number;
}

const rel = (v: number, base: number): number => (v - base) >>> 0;
const abs = (v: number, base: number): number => (v + base) >>> 0;

/** Parse an IPv4/TCP packet the stack sent; null for anything else (ICMP…). */
export function parseOutbound(pkt: Uint8Array, t: Instant): OutPacket | null {
  const ip = parseIpv4(pkt, { verifyChecksum: false });
  if (!ip.ok || ip.value.protocol !== IPPROTO_TCP) return null;
  const tcp = parseTcp(ip.value.payload);
  if (!tcp.ok) return null;
  const s = tcp.value;
  return {
    t, src: ip.value.src, dst: ip.value.dst, srcPort: s.srcPort, dstPort: s.dstPort,
    seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, urg: s.urgentPointer,
    options: s.options, len: s.payload.length, consumed: false, line: 0,
  };
}

/** Script options → wire options for an inbound packet (SACK blocks relative to our ISN, TS ecr mapped). */
function wireOptions(opts: OptSpec[], c: ConnContext): TcpOption[] {
  const localBase = c.localIsn ?? 0;
  return opts.map((o): TcpOption => {
    switch (o.kind) {
      case 'nop': case 'eol': case 'sackOK': return { kind: o.kind };
      case 'mss': return { kind: 'mss', value: o.value };
      case 'wscale': return { kind: 'wscale', shift: o.shift };
      case 'sack': return { kind: 'sack', blocks: o.blocks.map(([a, b]) => [abs(a, localBase), abs(b, localBase)] as [number, number]) };
      case 'ts': return { kind: 'ts', val: o.val, ecr: o.ecr === 0 || c.tsOffset === null ? o.ecr : c.tsEcho?.get(o.ecr) ?? abs(o.ecr, c.tsOffset) };
    }
  });
}

/** Build the IPv4 packet for an inbound script line. Throws RangeError when options do not fit. */
export function buildInbound(ev: PacketEvent, c: ConnContext, localPort: number): Uint8Array {
  const options = ev.options === null || ev.options === 'any' ? [] : wireOptions(ev.options, c);
  const f = {
    srcPort: c.remotePort, dstPort: localPort,
    seq: ev.seqAbs ? ev.start : abs(ev.start, c.remoteIsn),
    // `ack N` without the ACK flag goes into the header as written (packetdrill).
    ack: ev.ack === null ? 0 : ev.ackRaw ? ev.ack : abs(ev.ack, c.localIsn ?? 0),
    flags: ev.flags,
    window: ev.win ?? 65535,
    urgentPointer: ev.urg ?? 0,
    options,
  };
  const tcpLen = tcpHeaderLength(f) + ev.len;
  const pkt = new Uint8Array(20 + tcpLen);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_TCP, src: c.remoteAddr, dst: c.localAddr, dontFragment: true }, tcpLen, pkt, 0);
  emitTcp(f, new Uint8Array(ev.len), c.remoteAddr, c.localAddr, pkt, 20);
  return pkt;
}

// ------------------------------------------------------------------ printing

const FLAG_ORDER: ReadonlyArray<[number, string]> = [
  [TCP_SYN, 'S'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P'], [TCP_ACK, '.'], [TCP_URG, 'U'], [TCP_ECE, 'E'], [TCP_CWR, 'W'],
];

/** Flags in packetdrill's letters: S. P. F. R - … */
export function flagLetters(f: number): string {
  let s = '';
  for (const [b, l] of FLAG_ORDER) if (f & b) s += l;
  return s === '' ? '-' : s;
}

/** Wire options in script notation, numbers relative to the connection (outbound direction). */
export function scriptOptions(opts: TcpOption[], c: ConnContext): OptSpec[] {
  const out: OptSpec[] = [];
  for (const o of opts) {
    switch (o.kind) {
      case 'nop': case 'eol': case 'sackOK': out.push({ kind: o.kind }); break;
      case 'mss': out.push({ kind: 'mss', value: o.value }); break;
      case 'wscale': out.push({ kind: 'wscale', shift: o.shift }); break;
      case 'sack': out.push({ kind: 'sack', blocks: o.blocks.map(([a, b]) => [rel(a, c.remoteIsn), rel(b, c.remoteIsn)] as [number, number]) }); break;
      case 'ts': out.push({ kind: 'ts', val: c.tsOffset === null ? o.val : rel(o.val, c.tsOffset), ecr: o.ecr }); break;
      case 'unknown': break;
    }
  }
  return out;
}

export function formatOptions(o: OptSpec[] | 'any' | null): string {
  if (o === null) return '';
  if (o === 'any') return ' <...>';
  if (o.length === 0) return '';
  return ' <' + o.map(formatOptSpec).join(',') + '>';
}

/** An outbound packet in script notation (relative to the connection's ISNs). */
export function formatOut(p: OutPacket, c: ConnContext): string {
  const s = rel(p.seq, c.localIsn ?? 0);
  let t = `> ${flagLetters(p.flags)} ${s}:${(s + p.len) >>> 0}(${p.len})`;
  if (p.flags & TCP_ACK) t += ` ack ${rel(p.ack, c.remoteIsn)}`;
  t += ` win ${p.window}`;
  if (p.flags & TCP_URG) t += ` urg ${p.urg}`;
  return t + formatOptions(scriptOptions(p.options, c));
}

/** A script packet line, normalized. */
export function formatEvent(ev: PacketEvent): string {
  const seq = ev.seqAny ? `...(${ev.len})` : `${ev.start}:${ev.end}(${ev.len})${ev.seqAbs ? '!' : ''}`;
  let t = `${ev.dir === 'in' ? '<' : '>'} ${ev.flagText} ${seq}`;
  if (ev.ack !== null) t += ` ack ${ev.ack}`;
  if (ev.win !== null) t += ` win ${ev.win}`;
  if (ev.urg !== null) t += ` urg ${ev.urg}`;
  return t + formatOptions(ev.options);
}
