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

/** Run a backquoted shell line against the stack options (mutated in place, then validated). */
export function applyShell(command: string, o: StackOptions): ShellOutcome {
  const res: ShellOutcome = { applied: [], ignored: [], error: null };
  const backup = JSON.stringify(o);
  for (const part of command.split(/;|&&|\|\||\n/)) {
    const w = shellWords(part);
    if (w.length === 0) continue;
    try {
      if (w[0] === 'sysctl') {
        for (const arg of w.slice(1)) {
          if (arg.startsWith('-')) continue;
          const eq = arg.indexOf('=');
          if (eq < 0) { res.ignored.push(`sysctl read '${arg}' ignored`); continue; }
          const name = arg.slice(0, eq).replace(/\//g, '.');
          const r = applySysctl(o, name, arg.slice(eq + 1));
          if (r === null) res.ignored.push(`sysctl ${name} is not modelled; ignored`);
          else res.applied.push(r);
        }
        continue;
      }
      // echo V > /proc/sys/net/ipv4/NAME
      const gt = w.indexOf('>');
      if (w[0] === 'echo' && gt > 0 && w[gt + 1]?.startsWith('/proc/sys/')) {
        const name = w[gt + 1]!.slice('/proc/sys/'.length).replace(/\//g, '.');
        const r = applySysctl(o, name, w.slice(1, gt).join(' '));
        if (r === null) res.ignored.push(`${name} is not modelled; ignored`);
        else res.applied.push(r);
        continue;
      }
      res.ignored.push(`shell command '${part.trim()}' ignored`);
    } catch (e) {
      res.error = `shell command '${part.trim()}': ${(e as Error).message}`;
      break;
    }
  }
  if (res.error === null) {
    try { validateOptions(o); } catch (e) { res.error = (e as Error).message; }
  }
  if (res.error !== null) Object.assign(o, JSON.parse(backup));
  return res;
}
