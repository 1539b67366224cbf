// Matching an outbound packet against a script line, as packetdrill defines it: flags,
// sequence number, length and ack exactly; the window and urgent pointer only when the
// script gives them; options in order with NOPs (`<...>` matches anything). Outbound TS val
// is not compared (our timestamp clock has its own offset); TS ecr is compared as written.
// Lenient switches for scripts written against other systems: ignoreWin, ignoreOptions
// (options not compared at all: kinds, order and values differ between systems, e.g. the
// window scale a stack picks), ignorePsh.
import type { OptSpec, PacketEvent } from './ast.js';
import type { ConnContext, OutPacket } from './packet.js';
import { flagLetters, scriptOptions } from './packet.js';
import { formatOptSpec } from './parser.js';
import { TCP_PSH } from '../wire/tcp.js';

export interface MatchOptions {
  ignoreWin: boolean;
  ignoreOptions: boolean;
  ignorePsh: boolean;
  /** Compare outbound TS val too (only sensible when the script's clock matches ours). */
  checkTsVal: boolean;
}

export const DEFAULT_MATCH: Readonly<MatchOptions> = { ignoreWin: false, ignoreOptions: false, ignorePsh: false, checkTsVal: false };

export interface Difference {
  field: string;
  expected: string;
  got: string;
}

const rel = (v: number, base: number): number => (v - base) >>> 0;

function optValueDiff(e: OptSpec, a: OptSpec, checkTsVal: boolean): boolean {
  switch (e.kind) {
    case 'mss': return a.kind !== 'mss' || a.value !== e.value;
    case 'wscale': return a.kind !== 'wscale' || a.shift !== e.shift;
    case 'ts': return a.kind !== 'ts' || a.ecr !== e.ecr || (checkTsVal && a.val !== e.val);
    case 'sack':
      return a.kind !== 'sack' || a.blocks.length !== e.blocks.length || e.blocks.some(([l, r], i) => a.blocks[i]![0] !== l || a.blocks[i]![1] !== r);
    default: return a.kind !== e.kind;
  }
}

/** Differences between the script's options and the packet's, or null when they match. */
export function compareOptions(expected: OptSpec[], actual: OptSpec[], o: MatchOptions): Difference | null {
  // EOL only pads: it never appears in what we parse, so it is not compared.
  const exp = expected.filter((x) => x.kind !== 'eol');
  const act = actual.filter((x) => x.kind !== 'eol');
  const show = (l: OptSpec[]): string => '<' + l.map(formatOptSpec).join(',') + '>';
  if (o.ignoreOptions) return null;
  for (let i = 0; i < Math.max(exp.length, act.length); i++) {
    const e = exp[i];
    const a = act[i];
    if (e === undefined) return { field: 'options', expected: show(exp), got: `${show(act)} (extra ${formatOptSpec(a!)})` };
    if (a === undefined) return { field: 'options', expected: show(exp), got: `${show(act)} (missing ${formatOptSpec(e)})` };
    if (a.kind !== e.kind) return { field: `option ${i + 1}`, expected: formatOptSpec(e), got: formatOptSpec(a) };
    if (optValueDiff(e, a, o.checkTsVal)) return { field: `option ${i + 1} (${e.kind})`, expected: formatOptSpec(e), got: formatOptSpec(a) };
  }
  return null;
}

/** Compare a (possibly merged) outbound packet with a script line. Empty list: it matches. */
export function matchOutbound(ev: PacketEvent, p: OutPacket, c: ConnContext, o: MatchOptions): Difference[] {
  const d: Difference[] = [];
  const mask = o.ignorePsh ? ~TCP_PSH : ~0;
  if ((ev.flags & mask) !== (p.flags & mask)) d.push({ field: 'flags', expected: ev.flagText, got: flagLetters(p.flags) });
  // `...(len)`: any sequence number; `start:end(len)!`: absolute numbers.
  if (!ev.seqAny) {
    const seq = ev.seqAbs ? p.seq : rel(p.seq, c.localIsn ?? 0);
    if (seq !== ev.start) d.push({ field: ev.seqAbs ? 'seq (absolute)' : 'seq', expected: String(ev.start), got: String(seq) });
  }
  if (p.len !== ev.len) d.push({ field: 'len', expected: String(ev.len), got: String(p.len) });
  if (ev.ack !== null) {
    // `ack N` without the ACK flag: the raw header field.
    const ack = ev.ackRaw ? p.ack : rel(p.ack, c.remoteIsn);
    if (ack !== ev.ack) d.push({ field: ev.ackRaw ? 'ack (raw field)' : 'ack', expected: String(ev.ack), got: String(ack) });
  }
  if (ev.win !== null && !o.ignoreWin && ev.win !== p.window) d.push({ field: 'win', expected: String(ev.win), got: String(p.window) });
  if (ev.urg !== null && ev.urg !== p.urg) d.push({ field: 'urg', expected: String(ev.urg), got: String(p.urg) });
  if (ev.options !== 'any') {
    const od = compareOptions(ev.options ?? [], scriptOptions(p.options, c), o);
    if (od !== null) d.push(od);
  }
  return d;
}
