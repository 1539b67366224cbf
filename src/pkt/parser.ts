// Parser for the packetdrill dialect: option lines, timed events (absolute, +relative,
// ranges A~B, `*`), syscalls (with `...`, [pointers], {structs}, results and errno,
// blocking `S...E`), inbound/outbound TCP lines and backquoted shell commands.
// Errors never throw: parseScript returns { ok: false, error: { line, message } }.
import type { Expr, OptSpec, PacketEvent, ParseOutcome, Script, ScriptEvent, SyscallEvent, TimePoint, TimeSpec } from './ast.js';
import { Cursor, intValue, preprocess, secondsToUs, type LogicalLine, type Token } from './lexer.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';

class ParseFail extends Error {}

/** The names defined for the script being parsed (parseScript is synchronous). */
let DEFINES: ReadonlyMap<string, string> = new Map();

/** A defined word used where a number is expected is replaced by its value. */
function wordToken(t: Token): Token {
  if (t.kind !== 'ident') return t;
  const v = DEFINES.get(t.text);
  if (v === undefined) return t;
  return { kind: 'num', text: v.trim(), pos: t.pos };
}

function fail(msg: string): never {
  throw new ParseFail(msg);
}

const FLAG_BITS: Readonly<Record<string, number>> = {
  S: TCP_SYN, F: TCP_FIN, R: TCP_RST, P: TCP_PSH, '.': TCP_ACK, U: TCP_URG, E: TCP_ECE, W: TCP_CWR,
};

/** `S.` → SYN|ACK; `-` → no flags. */
export function parseFlags(word: string): number {
  if (word === '-') return 0;
  if (word === '') fail('missing TCP flags');
  let f = 0;
  for (const ch of word) {
    const b = FLAG_BITS[ch];
    if (b === undefined) fail(`unknown TCP flag '${ch}' in '${word}'`);
    if (f & b) fail(`TCP flag '${ch}' given twice in '${word}'`);
    f |= b;
  }
  return f;
}

const U32 = 0x1_0000_0000;

function u32(t0: Token, what: string): number {
  const t = wordToken(t0);
  const v = intValue(t);
  if (!Number.isFinite(v) || v < 0 || v >= U32) fail(`expected ${what} (an integer 0..2^32-1), got '${t.text || 'end of line'}'`);
  return v;
}

function expectPunct(c: Cursor, p: string, what: string): void {
  const t = c.next();
  if (t.text !== p || t.kind !== 'punct') fail(`expected '${p}' ${what}, got '${t.text || 'end of line'}'`);
}

// ------------------------------------------------------------------ times

function timeNumber(c: Cursor): number {
  const t = c.next();
  if (t.kind !== 'num' || t.text.startsWith('0x')) fail(`expected a time in seconds, got '${t.text || 'end of line'}'`);
  const us = secondsToUs(t.text);
  // Keep virtual time exact (integer µs below 2^53) however many events add up.
  if (!Number.isSafeInteger(us) || us > 1e15) fail(`time ${t.text} s is too large`);
  return us;
}

function timePoint(c: Cursor): TimePoint {
  const rel = c.accept('+');
  return { rel, us: timeNumber(c) };
}

/** True when the line starts with a time (a number, `+`, `*` or `.5`). */
function startsWithTime(c: Cursor): boolean {
  const t = c.peek();
  return t.kind === 'num' || (t.kind === 'punct' && (t.text === '+' || t.text === '*'));
}

function parseTime(c: Cursor): { time: TimeSpec; end: TimePoint | null } {
  if (c.accept('*')) return { time: { kind: 'any' }, end: null };
  const lo = timePoint(c);
  if (c.accept('~')) {
    const hi = timePoint(c);
    // `+A~B`: the upper bound shares the lower bound's base unless written absolute.
    if (lo.rel && !hi.rel) hi.rel = true;
    if (hi.us < lo.us) fail('time range upper bound is before its lower bound');
    return { time: { kind: 'range', lo, hi }, end: null };
  }
  if (c.accept('...')) {
    const end = timePoint(c);
    // packetdrill: in `+S...E` the end is measured from the same base as the start.
    if (lo.rel) end.rel = true;
    if (end.us < lo.us) fail('blocking call end time is before its start time');
    return { time: { kind: 'point', at: lo }, end };
  }
  return { time: { kind: 'point', at: lo }, end: null };
}

// ------------------------------------------------------------------ packets

function parseSeq(c: Cursor): { start: number; end: number; len: number; seqAny: boolean; seqAbs: boolean } {
  if (c.accept('...')) {
    // nplab: `...(LEN)` — any sequence number.
    expectPunct(c, '(', "in ...(len)");
    const len = u32(c.next(), 'length');
    expectPunct(c, ')', "in ...(len)");
    return { start: 0, end: len, len, seqAny: true, seqAbs: false };
  }
  const start = u32(c.next(), 'start sequence number');
  expectPunct(c, ':', 'in start:end(len)');
  const end = u32(c.next(), 'end sequence number');
  expectPunct(c, '(', 'in start:end(len)');
  const len = u32(c.next(), 'length');
  expectPunct(c, ')', 'in start:end(len)');
  if (((end - start) >>> 0) !== len) fail(`sequence range ${start}:${end} does not have length ${len}`);
  // `!` right after `)`: absolute sequence numbers.
  const bang = c.peek();
  const seqAbs = bang.kind === 'punct' && bang.text === '!' && bang.pos === c.pos;
  if (seqAbs) c.next();
  return { start, end, len, seqAny: false, seqAbs };
}

function parseOneOption(text: string): OptSpec {
  const c = new Cursor(text);
  const name = c.next();
  let o: OptSpec;
  switch (name.text) {
    case 'nop': o = { kind: 'nop' }; break;
    case 'eol': o = { kind: 'eol' }; break;
    case 'sackOK': o = { kind: 'sackOK' }; break;
    case 'mss': {
      const v = u32(c.next(), 'MSS value');
      if (v > 0xffff) fail(`MSS ${v} does not fit 16 bits`);
      o = { kind: 'mss', value: v };
      break;
    }
    case 'wscale': {
      const v = u32(c.next(), 'window scale shift');
      if (v > 0xff) fail(`window scale ${v} does not fit 8 bits`);
      o = { kind: 'wscale', shift: v };
      break;
    }
    case 'sack': {
      const blocks: Array<[number, number]> = [];
      while (!c.atEnd) {
        const l = u32(c.next(), 'SACK left edge');
        expectPunct(c, ':', 'in a SACK block');
        blocks.push([l, u32(c.next(), 'SACK right edge')]);
      }
      if (blocks.length === 0) fail('sack option needs at least one block');
      o = { kind: 'sack', blocks };
      break;
    }
    case 'TS': {
      const a = c.next();
      if (a.text !== 'val') fail(`expected 'TS val X ecr Y', got 'TS ${a.text}'`);
      const val = u32(c.next(), 'TS val');
      const b = c.next();
      if (b.text !== 'ecr') fail(`expected 'ecr' after TS val, got '${b.text}'`);
      o = { kind: 'ts', val, ecr: u32(c.next(), 'TS ecr') };
      break;
    }
    default:
      fail(`unsupported TCP option '${text}' (known: mss, nop, eol, wscale, sackOK, sack, TS val/ecr)`);
  }
  if (!c.atEnd) fail(`unexpected '${c.rest()}' after TCP option ${name.text}`);
  return o;
}

function parseOptions(c: Cursor): OptSpec[] | 'any' {
  const rest = c.rest();
  const close = rest.indexOf('>');
  if (!rest.startsWith('<') || close < 0) fail("expected TCP options '<...>'");
  const inner = rest.slice(1, close).trim();
  c.pos = c.text.length - rest.length + close + 1;
  if (inner === '...') return 'any';
  if (inner === '') return [];
  return inner.split(',').map((s) => parseOneOption(s.trim()));
}

function parsePacket(c: Cursor, base: Pick<PacketEvent, 'line' | 'time' | 'text'>): PacketEvent {
  const dirTok = c.next();
  const dir = dirTok.text === '<' ? 'in' : 'out';
  const flagText = c.word();
  const flags = parseFlags(flagText);
  const seq = parseSeq(c);
  if (seq.seqAny && dir === 'in') fail("'...(len)' (any sequence number) is for outbound packets only: an inbound packet needs start:end(len)");
  const ev: PacketEvent = { ...base, type: 'packet', dir, flags, flagText, ...seq, ack: null, ackRaw: false, win: null, urg: null, options: null };
  for (;;) {
    const t = c.peek();
    if (t.kind === 'eof') break;
    if (t.kind === 'punct' && t.text === '<') { ev.options = parseOptions(c); continue; }
    c.next();
    switch (t.text) {
      case 'ack': ev.ack = u32(c.next(), 'ack number'); break;
      case 'win': {
        const w = u32(wordToken(c.next()), 'window');
        if (w > 0xffff) fail(`window ${w} does not fit 16 bits`);
        ev.win = w;
        break;
      }
      case 'urg': ev.urg = u32(c.next(), 'urgent pointer'); break;
      default: fail(`unexpected '${t.text}' in a TCP line (expected ack, win, urg or <options>)`);
    }
  }
  // packetdrill accepts `ack N` without the ACK flag: the number is the raw header field
  // (inbound: written as is, not shifted by the ISN; outbound: compared raw).
  if (ev.ack !== null && !(flags & TCP_ACK)) ev.ackRaw = true;
  return ev;
}

// ------------------------------------------------------------------ syscalls

function parseExpr(c: Cursor): Expr {
  const first = parseTerm(c);
  if (c.peek().text !== '|') return first;
  const parts = [first];
  while (c.accept('|')) parts.push(parseTerm(c));
  return { kind: 'or', parts };
}

function parseList(c: Cursor, close: string): Expr[] {
  const items: Expr[] = [];
  if (c.accept(close)) return items;
  for (;;) {
    items.push(parseExpr(c));
    if (c.accept(close)) return items;
    expectPunct(c, ',', `or '${close}' in a list`);
  }
}

function parseTerm(c: Cursor): Expr {
  const t = c.next();
  if (t.kind === 'punct') {
    switch (t.text) {
      case '...': return { kind: 'ellipsis' };
      case '-': {
        const n = c.next();
        const v = intValue(n);
        if (!Number.isFinite(v)) fail(`expected a number after '-', got '${n.text}'`);
        return { kind: 'int', value: -v };
      }
      case '[': return { kind: 'list', items: parseList(c, ']') };
      case '{': {
        const fields: Array<{ name: string; value: Expr }> = [];
        if (c.accept('}')) return { kind: 'struct', fields };
        for (;;) {
          // `name=value`, or a positional value (packetdrill's iovec `{..., 1000}`): name ''.
          const save = c.pos;
          const name = c.next();
          // packetdrill's msghdr fields carry a length after the name: `msg_iov(1)=[…]`,
          // `msg_name(...)=...`; the length is implied by the value, so it is skipped.
          if (name.kind === 'ident' && c.peek().text === '(') {
            c.next();
            parseList(c, ')');
            if (c.peek().text !== '=') c.pos = save;
          }
          if (c.pos !== save && name.kind === 'ident' && c.peek().text === '=') {
            c.next();
            fields.push({ name: name.text, value: parseExpr(c) });
          } else {
            c.pos = save;
            fields.push({ name: '', value: parseExpr(c) });
          }
          if (c.accept('}')) return { kind: 'struct', fields };
          expectPunct(c, ',', "or '}' in a struct");
        }
      }
      default: fail(`unexpected '${t.text}' in an expression`);
    }
  }
  if (t.kind === 'num') {
    const v = intValue(t);
    if (!Number.isFinite(v)) fail(`expected an integer, got '${t.text}'`);
    return { kind: 'int', value: v };
  }
  if (t.kind === 'str') return { kind: 'string', value: t.text };
  if (t.kind === 'ident') {
    if (c.peek().text === '(') { c.next(); return { kind: 'call', name: t.text, args: parseList(c, ')') }; }
    // A name given with --define / -D stands for its value (packetdrill substitutes it).
    const def = DEFINES.get(t.text);
    if (def !== undefined && def !== '') {
      const sub = new Cursor(def);
      const e = parseExpr(sub);
      if (!sub.atEnd) fail(`defined name ${t.text}=${def} is not an expression`);
      return e;
    }
    return { kind: 'sym', name: t.text };
  }
  fail(`unexpected '${t.text || 'end of line'}' in an expression`);
}

function parseSyscall(c: Cursor, base: Omit<SyscallEvent, 'type' | 'name' | 'args' | 'result' | 'errno'>): SyscallEvent {
  const name = c.next();
  if (name.kind !== 'ident') fail(`expected a system call name, got '${name.text}'`);
  expectPunct(c, '(', `after ${name.text}`);
  const args = parseList(c, ')');
  expectPunct(c, '=', `after ${name.text}(…) (every call states its result: '= N')`);
  const result = parseExpr(c);
  let errno: string | null = null;
  const e = c.peek();
  if (e.kind === 'ident') {
    c.next();
    if (!/^E[A-Z0-9]+$/.test(e.text)) fail(`expected an errno name (E…) after the result, got '${e.text}'`);
    errno = e.text;
  }
  // A trailing `(text)` is a note (errno description, flag names): skipped.
  if (c.peek().text === '(') {
    const rest = c.rest();
    if (!rest.endsWith(')')) fail(`unterminated note '${rest}'`);
    c.pos = c.text.length;
  }
  if (!c.atEnd) fail(`unexpected '${c.rest()}' after the system call`);
  return { ...base, type: 'syscall', name: name.text, args, result, errno };
}

// ------------------------------------------------------------------ lines

function parseOptionLine(l: LogicalLine, script: Script): void {
  for (const w of l.text.split(/\s+/)) {
    if (!w.startsWith('--')) throw new ParseFail(`expected --name=value in an option line, got '${w}'`);
    const eq = w.indexOf('=');
    const name = (eq < 0 ? w.slice(2) : w.slice(2, eq));
    script.options.push({ name, value: eq < 0 ? '' : w.slice(eq + 1), line: l.line });
  }
}

let python: Array<{ line: number; code: string }> = [];

function parseEventLine(l: LogicalLine): ScriptEvent | null {
  const c = new Cursor(l.text);
  let time: TimeSpec = { kind: 'point', at: { rel: true, us: 0 } };
  let end: TimePoint | null = null;
  if (startsWithTime(c)) ({ time, end } = parseTime(c));
  if (c.atEnd) fail('a time with no event after it');
  const base = { line: l.line, time, text: l.text };
  const t = c.peek();
  if (t.kind === 'shell') {
    c.next();
    if (!c.atEnd) fail(`unexpected '${c.rest()}' after a shell command`);
    if (end !== null) fail('a shell command cannot be a blocking call');
    return { ...base, type: 'shell', command: t.text };
  }
  if (t.kind === 'punct' && t.text === '%') {
    c.next();
    const id = c.next();
    const m = /^PY(\d+)$/.exec(id.text);
    const block = m === null ? undefined : python[Number(m[1])];
    if (block === undefined) fail(`unexpected '%${id.text}'`);
    if (!c.atEnd) fail(`unexpected '${c.rest()}' after a %{ python }% block`);
    return { ...base, type: 'python', code: block.code, codeLine: block.line };
  }
  if (t.kind === 'punct' && (t.text === '<' || t.text === '>')) {
    if (end !== null) fail("'...' end times are for system calls, not packets");
    return parsePacket(c, base);
  }
  if (t.kind === 'ident') {
    if (t.text === 'icmp' || t.text === 'udp') fail(`${t.text} events are not supported`);
    return parseSyscall(c, { ...base, end });
  }
  fail(`expected a packet ('<' or '>'), a system call or a \`shell command\`, got '${t.text || 'end of line'}'`);
}

/** The names every run has defined: the personality's OS name, as nplab packetdrill predefines it. */
export const PREDEFINED: ReadonlyMap<string, string> = new Map([['Linux', '1']]);

/** Parse a whole script. Never throws. `defines`: --define / -D names (added to PREDEFINED). */
export function parseScript(text: string, defines: ReadonlyMap<string, string> = new Map()): ParseOutcome {
  // A `// defines: A B=1` comment line adds names as if given with -D (a synack convention
  // for scripts that need names, so they run the same from the CLI, the tests and --target linux).
  const header = new Map<string, string>();
  for (const m of text.matchAll(/^\/\/ defines: (.*)$/gm)) {
    for (const w of m[1]!.trim().split(/\s+/)) {
      const eq = w.indexOf('=');
      if (eq < 0) header.set(w, '1'); else header.set(w.slice(0, eq), w.slice(eq + 1));
    }
  }
  const all = new Map([...PREDEFINED, ...header, ...defines]);
  const pre = preprocess(text, all);
  if (pre.error !== null) return { ok: false, error: pre.error };
  DEFINES = all;
  python = pre.python;
  const script: Script = { options: [], events: [], pythonBlocks: pre.pythonBlocks, defines: all };
  for (const l of pre.lines) {
    try {
      if (l.text.startsWith('--')) parseOptionLine(l, script);
      else {
        const ev = parseEventLine(l);
        if (ev !== null) script.events.push(ev);
      }
    } catch (e) {
      if (e instanceof ParseFail) return { ok: false, error: { line: l.line, message: e.message } };
      return { ok: false, error: { line: l.line, message: `internal parser error: ${(e as Error).message}` } };
    }
  }
  return { ok: true, script };
}

/** The option spec as packetdrill writes it (for messages). */
export function formatOptSpec(o: OptSpec): string {
  switch (o.kind) {
    case 'nop': return 'nop';
    case 'eol': return 'eol';
    case 'sackOK': return 'sackOK';
    case 'mss': return `mss ${o.value}`;
    case 'wscale': return `wscale ${o.shift}`;
    case 'sack': return 'sack ' + o.blocks.map(([a, b]) => `${a}:${b}`).join(' ');
    case 'ts': return `TS val ${o.val} ecr ${o.ecr}`;
  }
}
