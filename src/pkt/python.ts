// `%{ … }%` blocks: packetdrill runs them in Python with the tcp_info of the socket under
// test in scope (tcpi_state, tcpi_snd_cwnd, tcpi_rto, …). Scripts use them to assert state:
//   %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%
// Here the common subset is evaluated without Python: `assert EXPR[, message]` statements
// whose EXPR uses integers, tcpi_* names, the TCP_CA_* / TCP_* state constants and
// arithmetic / comparison / boolean operators. A statement that uses anything else is
// reported as "not evaluated" (never silently passed); other statements (import, print,
// assignments) are reported too.

/** Linux tcp_info values by field name (tcpi_state, tcpi_snd_cwnd, …). */
export type TcpInfo = Readonly<Record<string, number>>;

/** Names Python scripts use for tcp_info values (include/uapi/linux/tcp.h, net/tcp_states.h). */
export const PY_CONSTANTS: Readonly<Record<string, number>> = {
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5, TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7, TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11,
  TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4,
  TCPI_OPT_TIMESTAMPS: 1, TCPI_OPT_SACK: 2, TCPI_OPT_WSCALE: 4, TCPI_OPT_ECN: 8,
  True: 1, False: 0,
};

export interface PyOutcome {
  /** A failed assertion: its text and the values it saw. */
  failure: string | null;
  /** Statements not evaluated (with why). */
  skipped: string[];
}

class Unsupported extends Error {}

type Tok = { k: 'num' | 'name' | 'op'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_.]*|==|!=|<=|>=|\/\/|<<|>>|[-+*/%<>()&|^~,])/y;
  let i = 0;
  while (i < s.length) {
    if (/^\s*$/.test(s.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(s);
    if (m === null) throw new Unsupported(`cannot read '${s.slice(i).trim()}'`);
    const t = m[1]!;
    out.push(/^\d|^0[xX]/.test(t) ? { k: 'num', v: t } : /^[A-Za-z_]/.test(t) ? { k: 'name', v: t } : { k: 'op', v: t });
    i = re.lastIndex;
  }
  return out;
}

/** A small Pratt evaluator over Python's operator precedence. */
class Expr {
  private i = 0;
  readonly names = new Set<string>();
  constructor(private readonly t: Tok[], private readonly info: TcpInfo) {}

  get done(): boolean { return this.i >= this.t.length; }
  peek(): Tok | undefined { return this.t[this.i]; }

  private value(name: string): number {
    const v = name.startsWith('tcpi_') ? this.info[name] : PY_CONSTANTS[name];
    if (v === undefined) throw new Unsupported(name.startsWith('tcpi_') ? `${name} is not available` : `unknown name ${name}`);
    this.names.add(name);
    return v;
  }

  private atom(): number {
    const t = this.t[this.i++];
    if (t === undefined) throw new Unsupported('expression ends early');
    if (t.k === 'num') return t.v.startsWith('0x') || t.v.startsWith('0X') ? parseInt(t.v, 16) : Number(t.v);
    if (t.k === 'name') {
      if (t.v === 'not') return this.unary(4) ? 0 : 1;
      return this.value(t.v);
    }
    if (t.v === '(') {
      const v = this.expr(0);
      if (this.t[this.i++]?.v !== ')') throw new Unsupported("missing ')'");
      return v;
    }
    if (t.v === '-') return -this.unary(12);
    if (t.v === '+') return this.unary(12);
    if (t.v === '~') return ~this.unary(12);
    throw new Unsupported(`unexpected '${t.v}'`);
  }

  private unary(prec: number): number { return this.expr(prec); }

  // Python precedences: or 1, and 2, not 3, comparisons 4, | 5, ^ 6, & 7, shifts 8, + - 9, * / // % 10.
  private static readonly BIN: Readonly<Record<string, number>> = {
    or: 1, and: 2, '==': 4, '!=': 4, '<': 4, '<=': 4, '>': 4, '>=': 4,
    '|': 5, '^': 6, '&': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '//': 10, '%': 10,
  };

  expr(min: number): number {
    let left = this.atom();
    for (;;) {
      const op = this.t[this.i];
      const p = op === undefined ? undefined : Expr.BIN[op.v];
      if (op === undefined || p === undefined || p < min) return left;
      this.i++;
      if (p === 4) {
        // Chained comparisons: a < b < c.
        let ok = true;
        let a = left;
        let o: Tok | undefined = op;
        for (;;) {
          const b = this.expr(5);
          ok = ok && cmp(o!.v, a, b);
          a = b;
          o = this.t[this.i];
          if (o === undefined || Expr.BIN[o.v] !== 4) break;
          this.i++;
        }
        left = ok ? 1 : 0;
        continue;
      }
      const right = this.expr(p + 1);
      left = arith(op.v, left, right);
    }
  }
}

function cmp(op: string, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

function arith(op: string, a: number, b: number): number {
  switch (op) {
    case 'or': return a !== 0 ? a : b;
    case 'and': return a === 0 ? a : b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '&': return a & b;
    case '<<': return a << b;
    case '>>': return a >> b;
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '//': return Math.floor(a / b);
    default: return ((a % b) + b) % b;
  }
}

/** Split on the top-level comma of `assert cond, msg`. */
function splitAssert(s: string): string {
  let depth = 0;
  let q = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q !== '') { if (c === q) q = ''; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) return s.slice(0, i);
  }
  return s;
}

/** Evaluate a block's statements against `info` (null: no socket with tcp_info). */
export function runPython(code: string, info: TcpInfo | null): PyOutcome {
  const res: PyOutcome = { failure: null, skipped: [] };
  for (const raw of code.split(/\n|;/)) {
    const stmt = raw.replace(/#.*$/, '').trim();
    if (stmt === '') continue;
    const m = /^assert\s+(.*)$/.exec(stmt);
    if (m === null) { res.skipped.push(`'${stmt}' not evaluated (only assert statements are)`); continue; }
    const cond = splitAssert(m[1]!).trim();
    if (info === null) { res.skipped.push(`'${stmt}' not evaluated (no connected socket for tcp_info)`); continue; }
    try {
      const e = new Expr(tokenize(cond), info);
      const v = e.expr(0);
      if (!e.done) throw new Unsupported(`unexpected '${e.peek()!.v}'`);
      if (v === 0 && res.failure === null) {
        const seen = [...e.names].filter((n) => n.startsWith('tcpi_')).map((n) => `${n}=${info[n]}`).join(', ');
        res.failure = `python assertion failed: ${cond}${seen === '' ? '' : ` (${seen})`}`;
      }
    } catch (x) {
      if (!(x instanceof Unsupported)) throw x;
      res.skipped.push(`'${stmt}' not evaluated: ${x.message}`);
    }
  }
  return res;
}
