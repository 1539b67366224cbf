// Connection-state checks in backquoted shell lines, evaluated against synack's connection
// table instead of being ignored. Suites written for real kernels look at the state of the
// socket under test with the system's tools and let packetdrill fail the script when the
// line exits non-zero, e.g.
//   `netstat -an | grep 8080 | grep -q CLOSE_WAIT`          (Linux netstat names)
//   `ss -tan state fin-wait-2 | grep -q :8080`               (iproute2)
//   `sockstat -4 -s -P tcp | grep 8080 | grep FIN_WAIT_2`     (FreeBSD names)
// and drop a connection with FreeBSD's `tcpdrop LADDR LPORT FADDR FPORT` (a RST, as
// tcp_drop does). A pipeline of one of these tools and grep filters is run here over the
// table's rows printed in the tool's format; its exit status is grep's (0 when a line is
// selected). Anything else in such a line — other filters (wc, awk), other tools — is not
// evaluated and says so; the caller reports it.
import type { ConnRow } from '../stack/table.js';
import type { TcpState } from '../tcp/types.js';

export type StateOutcome =
  | { kind: 'not-a-query' }
  | { kind: 'done'; status: number; note: string }
  | { kind: 'unsupported'; why: string };

/** What a state query needs: the table, and a way to drop a connection (tcpdrop). */
export interface StateQueryHost {
  rows(): ConnRow[];
  /** Abort the connection with these endpoints (either order); false when there is none. */
  drop(a: { addr: string; port: number }, b: { addr: string; port: number }): boolean;
}

const TOOLS = new Set(['netstat', 'ss', 'sockstat', 'tcpdrop']);

/** Linux net-tools netstat names (tcp_state in netstat.c). */
const NETSTAT: Record<TcpState, string> = {
  'CLOSED': 'CLOSE', 'LISTEN': 'LISTEN', 'SYN-SENT': 'SYN_SENT', 'SYN-RECEIVED': 'SYN_RECV', 'ESTABLISHED': 'ESTABLISHED',
  'FIN-WAIT-1': 'FIN_WAIT1', 'FIN-WAIT-2': 'FIN_WAIT2', 'CLOSE-WAIT': 'CLOSE_WAIT', 'CLOSING': 'CLOSING',
  'LAST-ACK': 'LAST_ACK', 'TIME-WAIT': 'TIME_WAIT',
};

/** FreeBSD tcpstates[] (netinet/tcp_fsm.h), as sockstat -s and netstat print them. */
const BSD: Record<TcpState, string> = {
  'CLOSED': 'CLOSED', 'LISTEN': 'LISTEN', 'SYN-SENT': 'SYN_SENT', 'SYN-RECEIVED': 'SYN_RCVD', 'ESTABLISHED': 'ESTABLISHED',
  'FIN-WAIT-1': 'FIN_WAIT_1', 'FIN-WAIT-2': 'FIN_WAIT_2', 'CLOSE-WAIT': 'CLOSE_WAIT', 'CLOSING': 'CLOSING',
  'LAST-ACK': 'LAST_ACK', 'TIME-WAIT': 'TIME_WAIT',
};

/** iproute2 `ss state NAME` filter names. */
const SS_FILTER: Record<string, TcpState[]> = {
  'established': ['ESTABLISHED'], 'syn-sent': ['SYN-SENT'], 'syn-recv': ['SYN-RECEIVED'], 'fin-wait-1': ['FIN-WAIT-1'],
  'fin-wait-2': ['FIN-WAIT-2'], 'time-wait': ['TIME-WAIT'], 'closed': ['CLOSED'], 'close-wait': ['CLOSE-WAIT'],
  'last-ack': ['LAST-ACK'], 'listening': ['LISTEN'], 'closing': ['CLOSING'],
  'all': ['LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'],
  'connected': ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK'],
  'synchronized': ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK'],
};

/** Split on `sep` outside quotes. */
function splitOutside(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '', q = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q !== '') { if (c === q) q = ''; cur += c; continue; }
    if (c === '"' || c === "'") { q = c; cur += c; continue; }
    if (s.startsWith(sep, i) && !(sep === '|' && s[i + 1] === '|')) { out.push(cur); cur = ''; i += sep.length - 1; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** Words of one simple command, quotes removed; redirections to /dev/null dropped. */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push(m[1] ?? m[2] ?? m[3]!);
  const cut = out.findIndex((w, i) => i > 0 && /^[0-9]?>>?(&[0-9])?$|^[0-9]?>>?\/dev\/null$|^&>\/dev\/null$/.test(w));
  return cut < 0 ? out : out.slice(0, cut);
}

/** The first word of a command line, after `sleep N;` prefixes (which change nothing here). */
function firstTool(command: string): string | null {
  for (const part of splitOutside(command.trim(), ';').flatMap((p) => splitOutside(p, '&&'))) {
    const w = words(part);
    if (w.length === 0 || w[0] === 'sleep') continue;
    return w[0]!;
  }
  return null;
}

function ep(addr: string, port: number | '*', sep: string): string { return `${addr}${sep}${port}`; }

function toolLines(tool: string, args: string[], rows: ConnRow[]): string[] | { why: string } {
  switch (tool) {
    case 'netstat':
      return rows.map((r) => `tcp        ${r.recvQ}      ${r.sendQ} ${ep(r.localAddr, r.localPort, ':').padEnd(23)} ${ep(r.peerAddr, r.peerPort, ':').padEnd(23)} ${NETSTAT[r.state]}`);
    case 'sockstat':
      // USER COMMAND PID FD PROTO LOCAL FOREIGN [STATE with -s]
      return rows.map((r) => `root     packetdrill 1 ${r.listener ? 3 : 4} tcp4   ${ep(r.localAddr, r.localPort, ':')} ${ep(r.peerAddr, r.peerPort, ':')} ${BSD[r.state]}`);
    case 'ss': {
      let sel = rows;
      const at = args.indexOf('state');
      if (at >= 0) {
        const want = new Set<TcpState>();
        for (let i = at; i < args.length && args[i] === 'state'; i += 2) {
          const names = SS_FILTER[args[i + 1] ?? ''];
          if (names === undefined) return { why: `ss state '${args[i + 1] ?? ''}'` };
          for (const n of names) want.add(n);
        }
        sel = rows.filter((r) => want.has(r.state));
      } else if (!args.some((a) => /^-\w*a/.test(a))) {
        sel = rows.filter((r) => !r.listener); // without -a, ss lists connections only
      }
      return sel.map((r) => `${r.ssState.padEnd(10)} ${r.recvQ}      ${r.sendQ}      ${ep(r.localAddr, r.localPort, ':')}      ${ep(r.peerAddr, r.peerPort, ':')}`);
    }
    default:
      return { why: `'${tool}' is not one of the state tools evaluated (netstat, ss, sockstat, tcpdrop)` };
  }
}

/** `grep [-q -v -w -i -E -F -c -e PAT] PAT` over `lines`; null when an option is not known. */
function grep(args: string[], lines: string[]): { lines: string[]; status: number } | null {
  let invert = false, word = false, icase = false, fixed = false, count = false;
  let pat: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e') { pat = args[++i] ?? null; continue; }
    if (/^-[qvwiEFcs]+$/.test(a)) {
      for (const f of a.slice(1)) { if (f === 'v') invert = true; else if (f === 'w') word = true; else if (f === 'i') icase = true; else if (f === 'F') fixed = true; else if (f === 'c') count = true; }
      continue;
    }
    if (a.startsWith('-')) return null;
    if (pat !== null) return null; // a file operand: not a filter
    pat = a;
  }
  if (pat === null) return null;
  let src = fixed ? pat.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pat;
  if (word) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
  let re: RegExp;
  try { re = new RegExp(src, icase ? 'i' : ''); } catch { return null; }
  const sel = lines.filter((l) => re.test(l) !== invert);
  return { lines: count ? [String(sel.length)] : sel, status: sel.length > 0 ? 0 : 1 };
}

/**
 * Evaluate a shell line that queries connection state (or drops a connection). `not-a-query`
 * for lines that do not start with one of the tools (sysctls and the like: the caller's).
 */
export function evalStateCommand(command: string, host: StateQueryHost): StateOutcome {
  const tool = firstTool(command);
  if (tool === null || !TOOLS.has(tool)) return { kind: 'not-a-query' };
  const parts = splitOutside(command.trim(), ';').flatMap((p) => splitOutside(p, '&&')).map((p) => p.trim()).filter((p) => p !== '');
  let status = 0;
  const notes: string[] = [];
  for (const part of parts) {
    const pipeline = splitOutside(part, '|').map(words);
    const w0 = pipeline[0] ?? [];
    if (w0.length === 0) continue;
    if (w0[0] === 'sleep') continue;
    if (w0[0] === 'tcpdrop') {
      const a = w0.slice(1).filter((x) => !x.startsWith('-'));
      // tcpdrop LADDR LPORT FADDR FPORT, or LADDR:LPORT FADDR:FPORT (FreeBSD also takes '.').
      const pairs = a.length === 4 ? [[a[0]!, a[1]!], [a[2]!, a[3]!]]
        : a.length === 2 ? a.map((x) => { const m = /^(.*)[:.](\d+)$/.exec(x); return m === null ? null : [m[1]!, m[2]!]; }) : [];
      if (pairs.length !== 2 || pairs.some((p) => p === null || !/^\d+$/.test(p[1]!))) return { kind: 'unsupported', why: `tcpdrop arguments '${a.join(' ')}'` };
      const [x, y] = pairs as [[string, string], [string, string]];
      const ok = host.drop({ addr: x[0], port: Number(x[1]) }, { addr: y[0], port: Number(y[1]) });
      status = ok ? 0 : 1;
      notes.push(ok ? `tcpdrop: connection ${x.join(':')} ${y.join(':')} dropped (RST)` : `tcpdrop: no connection ${x.join(':')} ${y.join(':')}`);
      if (!ok) break;
      continue;
    }
    let lines = toolLines(w0[0]!, w0.slice(1), host.rows());
    if (!Array.isArray(lines)) return { kind: 'unsupported', why: lines.why };
    status = 0;
    for (const f of pipeline.slice(1)) {
      if (f[0] !== 'grep' && f[0] !== 'egrep') return { kind: 'unsupported', why: `filter '${f.join(' ')}' (only grep is evaluated)` };
      const r = grep(f[0] === 'egrep' ? f.slice(1) : f.slice(1), lines);
      if (r === null) return { kind: 'unsupported', why: `grep arguments '${f.slice(1).join(' ')}'` };
      lines = r.lines;
      status = r.status;
    }
    notes.push(`${w0[0]}: ${status === 0 ? 'matched' : 'no match'}${lines.length > 0 && status === 0 ? ` (${lines[0]!.replace(/\s+/g, ' ').trim()})` : ''}`);
    if (status !== 0) break; // the check failed: what follows does not change that
  }
  return { kind: 'done', status, note: notes.join('; ') };
}
