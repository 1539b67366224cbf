// Backquoted shell lines: the common sysctls map onto stack options (src/stack/options.ts is
// named after them), BSD's net.inet.tcp.* equivalents where the meaning is clear; anything
// else is reported and ignored.
import { validateOptions, type StackOptions } from '../stack/options.js';

export interface ShellOutcome {
  /** What was applied, e.g. "tcp_timestamps=0". */
  applied: string[];
  /** Notes about what was ignored. */
  ignored: string[];
  /** Set when a sysctl we know got a value we cannot use. */
  error: string | null;
}

/** Split a command into words, honouring '…' and "…" quotes. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q = '';
  for (const ch of s) {
    if (q !== '') {
      if (ch === q) q = ''; else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") { q = ch; has = true; continue; }
    if (/\s/.test(ch)) { if (has) { out.push(cur); cur = ''; has = false; } continue; }
    cur += ch; has = true;
  }
  if (has) out.push(cur);
  return out;
}

type Setter = (o: StackOptions, v: string) => string | null;

function num(v: string): number {
  const n = Number(v.trim());
  if (!Number.isFinite(n)) throw new Error(`not a number: '${v}'`);
  return n;
}

function triple(v: string): [number, number, number] {
  const p = v.trim().split(/\s+/).map(num);
  if (p.length !== 3) throw new Error(`expected three numbers, got '${v}'`);
  return [p[0]!, p[1]!, p[2]!];
}

/** ms → s for BSD sysctls given in milliseconds. */
const msToS = (v: string): number => num(v) / 1000;

const flag = (k: keyof StackOptions): Setter => (o, v) => { (o as unknown as Record<string, number>)[k] = num(v) !== 0 ? 1 : 0; return `${k}=${(o as unknown as Record<string, number>)[k]}`; };
const plain = (k: keyof StackOptions, conv: (v: string) => number = num): Setter =>
  (o, v) => { (o as unknown as Record<string, number>)[k] = conv(v); return `${k}=${(o as unknown as Record<string, number>)[k]}`; };

function setCc(o: StackOptions, v: string): string | null {
  const name = v.trim() === 'reno' ? 'newreno' : v.trim();
  if (name !== 'cubic' && name !== 'newreno') throw new Error(`congestion control '${v}' is not available (cubic, newreno)`);
  o.tcp_congestion_control = name;
  return `tcp_congestion_control=${name}`;
}

/** Linux names (without the net.ipv4. / net.core. prefix) that need more than a plain copy. */
const LINUX_SPECIAL: Readonly<Record<string, Setter>> = {
  tcp_timestamps: flag('tcp_timestamps'),
  tcp_sack: flag('tcp_sack'),
  tcp_window_scaling: flag('tcp_window_scaling'),
  tcp_rmem: (o, v) => { o.tcp_rmem = triple(v); return `tcp_rmem=${o.tcp_rmem.join(' ')}`; },
  tcp_wmem: (o, v) => { o.tcp_wmem = triple(v); return `tcp_wmem=${o.tcp_wmem.join(' ')}`; },
  ip_local_port_range: (o, v) => {
    const p = v.trim().split(/\s+/).map(num);
    if (p.length !== 2) throw new Error(`expected two numbers, got '${v}'`);
    o.ip_local_port_range = [p[0]!, p[1]!];
    return `ip_local_port_range=${p.join(' ')}`;
  },
  tcp_congestion_control: setCc,
  icmp_echo_ignore_all: (o, v) => { o.icmp_echo_enable = num(v) !== 0 ? 0 : 1; return `icmp_echo_enable=${o.icmp_echo_enable}`; },
};

/** FreeBSD / macOS names. Times there are in milliseconds. */
const BSD: Readonly<Record<string, Setter>> = {
  'net.inet.tcp.rfc1323': (o, v) => {
    // FreeBSD: 0 off, 1 both, 2 window scaling only, 3 timestamps only.
    const n = num(v);
    o.tcp_window_scaling = n === 1 || n === 2 ? 1 : 0;
    o.tcp_timestamps = n === 1 || n === 3 ? 1 : 0;
    return `tcp_window_scaling=${o.tcp_window_scaling} tcp_timestamps=${o.tcp_timestamps}`;
  },
  'net.inet.tcp.sack.enable': flag('tcp_sack'),
  'net.inet.tcp.syncookies': flag('tcp_syncookies'),
  'net.inet.tcp.syncookies_only': (o, v) => { o.tcp_syncookies = num(v) !== 0 ? 2 : Math.min(o.tcp_syncookies, 1); return `tcp_syncookies=${o.tcp_syncookies}`; },
  'net.inet.tcp.recvspace': (o, v) => { o.tcp_rmem[1] = num(v); return `tcp_rmem[1]=${o.tcp_rmem[1]}`; },
  'net.inet.tcp.sendspace': (o, v) => { o.tcp_wmem[1] = num(v); return `tcp_wmem[1]=${o.tcp_wmem[1]}`; },
  'net.inet.tcp.msl': plain('tcp_msl', msToS),
  'net.inet.tcp.keepidle': plain('tcp_keepalive_time', msToS),
  'net.inet.tcp.keepintvl': plain('tcp_keepalive_intvl', msToS),
  'net.inet.tcp.keepcnt': plain('tcp_keepalive_probes'),
  'net.inet.tcp.finwait2_timeout': plain('tcp_fin_timeout', msToS),
  'net.inet.tcp.rexmit_min': plain('tcp_rto_min'),
  'net.inet.tcp.rexmit_initial': plain('tcp_rto_initial'),
  'net.inet.tcp.delacktime': plain('tcp_delack_min'),
  'net.inet.tcp.cc.algorithm': setCc,
  'net.inet.ip.ttl': plain('ip_default_ttl'),
  'kern.ipc.somaxconn': plain('somaxconn'),
};

/** Apply one `name=value` sysctl. Returns the applied text, or null when the name is unknown. Throws on a bad value. */
export function applySysctl(o: StackOptions, name: string, value: string): string | null {
  const bsd = BSD[name];
  if (bsd !== undefined) return bsd(o, value);
  const m = /^net\.(?:ipv4|core)\.(.+)$/.exec(name);
  if (m === null) return null;
  const key = m[1]!;
  const special = LINUX_SPECIAL[key];
  if (special !== undefined) return special(o, value);
  if (Object.prototype.hasOwnProperty.call(o, key) && typeof (o as unknown as Record<string, unknown>)[key] === 'number') {
    return plain(key as keyof StackOptions)(o, value);
  }
  return null;
}

export interface ShellContext {
  /** Reads a file by a path relative to the script's directory; null when it cannot. */
  readFile?: (path: string) => string | null;
  /** Variables ($NAME): the script's defined names, plus assignments made by the commands. */
  env?: ReadonlyMap<string, string>;
}

/** Shell integer arithmetic for `$((…))`: + - * / % << >> & | ^ ( ) on integers. */
export function shellArith(text: string): number {
  const toks = text.match(/0[xX][0-9a-fA-F]+|\d+|<<|>>|[-+*/%()&|^~]|\S/g) ?? [];
  let i = 0;
  const prec: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
  const atom = (): number => {
    const t = toks[i++];
    if (t === undefined) throw new Error(`bad arithmetic '$((${text}))'`);
    if (t === '(') { const v = expr(0); if (toks[i++] !== ')') throw new Error(`missing ')' in '$((${text}))'`); return v; }
    if (t === '-') return -atom();
    if (t === '+') return atom();
    if (t === '~') return ~atom();
    if (/^\d|^0[xX]/.test(t)) return Number(t);
    throw new Error(`bad arithmetic '$((${text}))' at '${t}'`);
  };
  const expr = (min: number): number => {
    let l = atom();
    for (;;) {
      const op = toks[i];
      const p = op === undefined ? undefined : prec[op];
      if (p === undefined || p < min) return l;
      i++;
      const r = expr(p + 1);
      switch (op) {
        case '|': l |= r; break;
        case '^': l ^= r; break;
        case '&': l &= r; break;
        case '<<': l = l * 2 ** r; break;
        case '>>': l = Math.floor(l / 2 ** r); break;
        case '+': l += r; break;
        case '-': l -= r; break;
        case '*': l *= r; break;
        case '/': if (r === 0) throw new Error('division by zero'); l = Math.trunc(l / r); break;
        default: if (r === 0) throw new Error('division by zero'); l %= r;
      }
    }
  };
  const v = expr(0);
  if (i !== toks.length) throw new Error(`bad arithmetic '$((${text}))'`);
  return v;
}

/** Expand `$((…))`, `${NAME}` and `$NAME` (unknown names expand to nothing, as in sh). */
function expand(s: string, env: Map<string, string>): string {
  let out = s;
  // Innermost arithmetic first (variables inside are expanded before evaluating).
  for (let guard = 0; guard < 100; guard++) {
    const m = /\$\(\(((?:(?!\$\(\()[^])*?)\)\)/.exec(out);
    if (m === null) break;
    const inner = m[1]!.replace(/\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => env.get(n) ?? '0');
    out = out.slice(0, m.index) + String(shellArith(inner)) + out.slice(m.index + m[0].length);
  }
  return out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a?: string, b?: string) => env.get((a ?? b)!) ?? '');
}

/** Strip a `# comment` that starts a word (not inside quotes). */
function stripComment(line: string): string {
  let q = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q !== '') { if (c === q) q = ''; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Split a command list on ; && || | and newlines (outside quotes). */
function splitCommands(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q !== '') { cur += c; if (c === q) q = ''; continue; }
    if (c === '"' || c === "'") { q = c; cur += c; continue; }
    if (c === '\n' || c === ';' || c === '|' || (c === '&' && s[i + 1] === '&')) {
      out.push(cur);
      cur = '';
      if ((c === '&' || c === '|') && s[i + 1] === c) i++;
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

const MAX_DEPTH = 8;

/** Apply one `name=value` sysctl setting and record what happened. */
function setting(res: ShellOutcome, o: StackOptions, name: string, value: string): void {
  const r = applySysctl(o, name, value);
  if (r === null) res.ignored.push(`sysctl ${name} is not modelled; ignored`);
  else res.applied.push(r);
}

function runCommands(text: string, o: StackOptions, ctx: ShellContext, env: Map<string, string>, res: ShellOutcome, depth: number): void {
  // A line ending in a backslash continues on the next.
  const lines = text.replace(/\\\n/g, ' ').split('\n').map(stripComment).join('\n');
  for (const part of splitCommands(lines)) {
    if (res.error !== null) return;
    let w: string[];
    try {
      w = shellWords(expand(part, env));
    } catch (e) {
      res.error = `shell command '${part.trim()}': ${(e as Error).message}`;
      return;
    }
    // Redirections of a command's output (> /dev/null 2>&1) do not change what it does.
    const redirect = w.findIndex((x, i) => i > 0 && /^[0-9]?>>?(&[0-9])?$|^[0-9]?>\/dev\/null$/.test(x));
    const gt = w.indexOf('>');
    if (w[0] !== 'echo' && redirect > 0) w = w.slice(0, redirect);
    if (w.length === 0) continue;
    const cmd = w[0]!;
    try {
      if (w.length === 1 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(cmd)) {
        const eq = cmd.indexOf('=');
        env.set(cmd.slice(0, eq), cmd.slice(eq + 1));
        continue;
      }
      if (cmd === 'set' || cmd === 'export' || cmd === 'true' || cmd === ':') continue;
      if (cmd === 'sysctl') {
        for (const arg of w.slice(1)) {
          if (arg.startsWith('-')) continue;
          const eq = arg.indexOf('=');
          if (eq < 0) { res.ignored.push(`sysctl read '${arg}' ignored`); continue; }
          setting(res, o, arg.slice(0, eq).replace(/\//g, '.'), arg.slice(eq + 1));
        }
        continue;
      }
      // echo V > /proc/sys/net/ipv4/NAME
      if (cmd === 'echo' && gt > 0 && w[gt + 1]?.startsWith('/proc/sys/')) {
        setting(res, o, w[gt + 1]!.slice('/proc/sys/'.length).replace(/\//g, '.'), w.slice(1, gt).join(' '));
        continue;
      }
      // A helper given /proc/sys/NAME=VALUE arguments (e.g. set_sysctls.py): set each.
      const procArgs = w.slice(1).filter((a) => /^\/proc\/sys\/[^=]+=/.test(a));
      if (procArgs.length > 0) {
        for (const a of procArgs) {
          const eq = a.indexOf('=');
          setting(res, o, a.slice('/proc/sys/'.length, eq).replace(/\//g, '.'), a.slice(eq + 1));
        }
        continue;
      }
      // A shell script file: `../common/defaults.sh`, `sh x.sh`, `bash x.sh`, `. x.sh`.
      const file = (cmd === 'sh' || cmd === 'bash' || cmd === 'source' || cmd === '.') ? w[1] : cmd;
      if (file !== undefined && (file.endsWith('.sh') || file.startsWith('./') || file.startsWith('../'))) {
        if (ctx.readFile === undefined) { res.ignored.push(`shell script ${file} not run (no script directory)`); continue; }
        if (depth >= MAX_DEPTH) throw new Error(`shell scripts nested more than ${MAX_DEPTH} deep`);
        const body = ctx.readFile(file);
        if (body === null) throw new Error(`cannot run ${file}: no such file`);
        runCommands(body, o, ctx, env, res, depth + 1);
        continue;
      }
      res.ignored.push(`shell command '${part.trim()}' ignored`);
    } catch (e) {
      res.error = `shell command '${part.trim()}': ${(e as Error).message}`;
      return;
    }
  }
}

/** Run a backquoted shell line against the stack options (mutated in place, then validated). */
export function applyShell(command: string, o: StackOptions, ctx: ShellContext = {}): ShellOutcome {
  const res: ShellOutcome = { applied: [], ignored: [], error: null };
  const backup = JSON.stringify(o);
  runCommands(command, o, ctx, new Map(ctx.env ?? []), res, 0);
  if (res.error === null) {
    try { validateOptions(o); } catch (e) { res.error = (e as Error).message; }
  }
  if (res.error !== null) Object.assign(o, JSON.parse(backup));
  return res;
}
