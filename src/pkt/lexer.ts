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
  /** The `%{ … }%` blocks: their text and the line each starts on. */
  python: Array<{ line: number; code: string }>;
  /** Set when a comment, string or python block is not closed. */
  error: { line: number; message: string } | null;
}

/** Remove comments and python blocks; count the blocks. Newlines are kept. */
function strip(text: string): { out: string; pythonBlocks: number; python: Preprocessed['python']; error: Preprocessed['error'] } {
  const python: Preprocessed['python'] = [];
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
      if (end < 0) return { out, pythonBlocks, python, error: { line, message: 'unterminated %{ python block' } };
      const block = text.slice(i, end + 2);
      pythonBlocks++;
      python.push({ line, code: text.slice(i + 2, end) });
      // A marker keeps the block's place among the events (its time is on the same line).
      out += `%PY${python.length - 1} ` + blank(block);
      line += block.split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return { out, pythonBlocks, python, error: { line, message: 'unterminated /* comment' } };
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
      if (end < 0) return { out, pythonBlocks, python, error: { line, message: c === '`' ? 'unterminated `shell command`' : 'unterminated string' } };
      const s = text.slice(i, end + 1);
      out += s;
      line += s.split('\n').length - 1;
      i = end + 1;
      continue;
    }
    out += c;
    i++;
  }
  return { out, pythonBlocks, python, error: null };
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

/**
 * nplab packetdrill's conditional blocks: `#ifdef NAME` … `#endif` keeps the lines between
 * only when NAME is defined. No nesting and no `#else` (as nplab); an unterminated block or a
 * stray `#endif` is an error. Dropped lines (and the directives) become blank lines so line
 * numbers stay right.
 */
export function conditionals(text: string, defines: ReadonlyMap<string, string>): { text: string; error: Preprocessed['error'] } {
  const lines = text.split('\n');
  let open: { line: number; keep: boolean } | null = null;
  for (let k = 0; k < lines.length; k++) {
    const t = lines[k]!.trim();
    const m = /^#\s*(ifdef|ifndef|endif|else|elif|if)\b\s*(.*)$/.exec(t);
    if (m === null) {
      if (open !== null && !open.keep) lines[k] = '';
      continue;
    }
    const [, dir, rest] = m as unknown as [string, string, string];
    if (dir === 'ifdef') {
      if (open !== null) return { text, error: { line: k + 1, message: `nested #ifdef (the block opened at line ${open.line} is not closed; nplab packetdrill does not nest)` } };
      const name = rest.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { text, error: { line: k + 1, message: `#ifdef needs one name, got '${rest.trim()}'` } };
      open = { line: k + 1, keep: defines.has(name) };
    } else if (dir === 'endif') {
      if (open === null) return { text, error: { line: k + 1, message: '#endif without #ifdef' } };
      if (rest.trim() !== '') return { text, error: { line: k + 1, message: `unexpected '${rest.trim()}' after #endif` } };
      open = null;
    } else {
      return { text, error: { line: k + 1, message: `#${dir} is not supported (nplab packetdrill has #ifdef … #endif only)` } };
    }
    lines[k] = '';
  }
  if (open !== null) return { text, error: { line: open.line, message: `unterminated #ifdef (no #endif after line ${open.line})` } };
  return { text: lines.join('\n'), error: null };
}

export function preprocess(text: string, defines: ReadonlyMap<string, string> = new Map()): Preprocessed {
  const cond = conditionals(text.replace(/\r\n?/g, '\n'), defines);
  if (cond.error !== null) return { lines: [], pythonBlocks: 0, python: [], error: cond.error };
  const s = strip(cond.text);
  const phys = s.out.split('\n');
  const lines: LogicalLine[] = [];
  let cur: LogicalLine | null = null;
  let d = 0;
  for (let k = 0; k < phys.length; k++) {
    const t = phys[k]!.trim();
    if (cur === null) {
      if (t === '') continue;
      cur = { line: k + 1, text: t };
    } else if (t !== '' || (cur.text.match(/`/g) ?? []).length % 2 === 1) {
      // Inside a backquoted command the newline is kept (a multi-line shell command).
      cur.text += ((cur.text.match(/`/g) ?? []).length % 2 === 1 ? '\n' : ' ') + t;
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
  return { lines, pythonBlocks: s.pythonBlocks, python: s.python, error: s.error };
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
