// Lexing the packetdrill dialect. Two stages:
// 1. preprocess(): strip `// …` and `/* … */` comments and `%{ python }%` blocks (keeping
//    newlines so line numbers stay right), then join physical lines into logical lines
//    (an event continues while brackets are open or the line ends with a comma).
// 2. Cursor: a small tokenizer over one logical line, used by the parser.

export interface LogicalLine {
  /** 1-based line where the logical line starts. */
  line: number;
  text: string;
}

export interface Preprocessed {
  lines: LogicalLine[];
  pythonBlocks: number;
  /** Set when a comment, string or python block is not closed. */
  error: { line: number; message: string } | null;
}

/** Remove comments and python blocks; count the blocks. Newlines are kept. */
function strip(text: string): { out: string; pythonBlocks: number; error: Preprocessed['error'] } {
  let out = '';
  let i = 0;
  let line = 1;
  let pythonBlocks = 0;
  const n = text.length;
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') { out += c; line++; i++; continue; }
    if (c === '%' && text[i + 1] === '{') {
      const end = text.indexOf('}%', i + 2);
      if (end < 0) return { out, pythonBlocks, error: { line, message: 'unterminated %{ python block' } };
      const block = text.slice(i, end + 2);
      pythonBlocks++;
      out += blank(block);
      line += block.split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return { out, pythonBlocks, error: { line, message: 'unterminated /* comment' } };
      const block = text.slice(i, end + 2);
      out += blank(block);
      line += block.split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') { out += ' '; i++; }
      continue;
    }
    if (c === '`' || c === '"') {
      // Shell commands and strings are copied verbatim (a `//` inside them is not a comment).
      const end = text.indexOf(c, i + 1);
      if (end < 0) return { out, pythonBlocks, error: { line, message: c === '`' ? 'unterminated `shell command`' : 'unterminated string' } };
      const s = text.slice(i, end + 1);
      out += s;
      line += s.split('\n').length - 1;
      i = end + 1;
      continue;
    }
    out += c;
    i++;
  }
  return { out, pythonBlocks, error: null };
}

/** Net bracket depth of a line, ignoring strings and shell commands. */
function depth(s: string): number {
  let d = 0;
  let quote = '';
  for (const c of s) {
    if (quote !== '') { if (c === quote) quote = ''; continue; }
    if (c === '"' || c === '`') { quote = c; continue; }
    if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d--;
  }
  return d;
}

export function preprocess(text: string): Preprocessed {
  const s = strip(text.replace(/\r\n?/g, '\n'));
  const phys = s.out.split('\n');
  const lines: LogicalLine[] = [];
  let cur: LogicalLine | null = null;
  let d = 0;
  for (let k = 0; k < phys.length; k++) {
    const t = phys[k]!.trim();
    if (cur === null) {
      if (t === '') continue;
      cur = { line: k + 1, text: t };
    } else if (t !== '') {
      cur.text += ' ' + t;
    }
    d += depth(t);
    // A backquoted command may span lines: keep joining until the quotes balance.
    const ticks = (cur.text.match(/`/g) ?? []).length;
    if (d > 0 || ticks % 2 === 1 || cur.text.endsWith(',')) continue;
    lines.push(cur);
    cur = null;
    d = 0;
  }
  if (cur !== null) lines.push(cur);
  return { lines, pythonBlocks: s.pythonBlocks, error: s.error };
}

// ------------------------------------------------------------------ tokens

export type TokenKind = 'num' | 'ident' | 'str' | 'shell' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the line. */
  pos: number;
}

const PUNCT3 = ['...'];
const PUNCT1 = '()[]{},=|:<>~*+-.!';

/**
 * Tokenizer over one logical line. Numbers are decimal or hex (`0x…`) with an optional
 * fraction; identifiers may contain letters, digits and `_`. `...` is one token.
 */
export class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  private skipWs(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  get atEnd(): boolean {
    this.skipWs();
    return this.pos >= this.text.length;
  }

  /** The rest of the line from the cursor (after whitespace). */
  rest(): string {
    this.skipWs();
    return this.text.slice(this.pos);
  }

  peek(): Token {
    const save = this.pos;
    const t = this.next();
    this.pos = save;
    return t;
  }

  next(): Token {
    this.skipWs();
    const s = this.text;
    const p = this.pos;
    if (p >= s.length) return { kind: 'eof', text: '', pos: p };
    const c = s[p]!;
    for (const q of PUNCT3) {
      if (s.startsWith(q, p)) { this.pos += q.length; return { kind: 'punct', text: q, pos: p }; }
    }
    const num = /^(0[xX][0-9a-fA-F]+|\d+(\.\d+)?|\.\d+)/.exec(s.slice(p));
    if (num !== null) { this.pos += num[0].length; return { kind: 'num', text: num[0], pos: p }; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(p));
    if (id !== null) { this.pos += id[0].length; return { kind: 'ident', text: id[0], pos: p }; }
    if (c === '"' || c === '`') {
      const end = s.indexOf(c, p + 1);
      const e = end < 0 ? s.length : end;
      this.pos = end < 0 ? s.length : end + 1;
      return { kind: c === '"' ? 'str' : 'shell', text: s.slice(p + 1, e), pos: p };
    }
    if (PUNCT1.includes(c)) { this.pos++; return { kind: 'punct', text: c, pos: p }; }
    this.pos++;
    return { kind: 'punct', text: c, pos: p };
  }

  /** Consume `text` if it is the next token. */
  accept(text: string): boolean {
    const t = this.peek();
    if (t.text === text && t.kind !== 'str' && t.kind !== 'shell') { this.next(); return true; }
    return false;
  }

  /** A run of non-space characters (flag letters such as `S.` or `-`). */
  word(): string {
    this.skipWs();
    const start = this.pos;
    while (this.pos < this.text.length && !/\s/.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** Parse an unsigned integer token (decimal or hex). NaN when not one. */
export function intValue(t: Token): number {
  if (t.kind !== 'num' || t.text.includes('.')) return NaN;
  return t.text.startsWith('0x') || t.text.startsWith('0X') ? parseInt(t.text.slice(2), 16) : parseInt(t.text, 10);
}

/** Seconds as written → integer microseconds. */
export function secondsToUs(text: string): number {
  return Math.round(parseFloat(text) * 1_000_000);
}
