// Symbolic constants scripts use in system calls (Linux values), and evaluation of
// argument expressions to numbers.
import type { Expr } from './ast.js';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import { errnoNumber } from './errno.js';

export const CONSTANTS: Readonly<Record<string, number>> = {
  AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10, PF_INET: 2, PF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0x800, SOCK_CLOEXEC: 0x80000,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41,
  SOL_SOCKET: 1, SOL_TCP: 6, SOL_IP: 0,
  IP_TOS: 1, IP_MTU_DISCOVER: 10, IP_MTU: 14,
  IP_PMTUDISC_DONT: 0, IP_PMTUDISC_WANT: 1, IP_PMTUDISC_DO: 2, IP_PMTUDISC_PROBE: 3, IP_PMTUDISC_INTERFACE: 4, IP_PMTUDISC_OMIT: 5,
  SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6, SO_SNDBUF: 7,
  SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_LINGER: 13, SO_REUSEPORT: 15, SO_RCVLOWAT: 18,
  SO_SNDLOWAT: 19, SO_RCVTIMEO: 20, SO_SNDTIMEO: 21, SO_ACCEPTCONN: 30,
  TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_CORK: 3, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7, TCP_LINGER2: 8, TCP_DEFER_ACCEPT: 9, TCP_WINDOW_CLAMP: 10, TCP_INFO: 11, TCP_QUICKACK: 12,
  TCP_CONGESTION: 13, TCP_USER_TIMEOUT: 18,
  F_DUPFD: 0, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_NONBLOCK: 0x800, O_NDELAY: 0x800,
  SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  SIOCINQ: 0x541b, FIONREAD: 0x541b, SIOCOUTQ: 0x5411, TIOCOUTQ: 0x5411, FIONBIO: 0x5421,
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20,
  POLLRDNORM: 0x40, POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLRDHUP: 0x2000,
  MSG_OOB: 0x1, MSG_PEEK: 0x2, MSG_DONTROUTE: 0x4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_EOR: 0x80,
  MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000, MSG_MORE: 0x8000,
  INADDR_ANY: 0,
  // Linux's other socket-level, IP and TCP options, MSG_ flags and epoll names (include/uapi):
  // upstream scripts use them, so they evaluate (and run on --target linux) even where synack
  // does not model the option (SocketLayer accepts those with a note; see UNMODELLED_OPTIONS).
  SO_PRIORITY: 12, SO_PASSCRED: 16, SO_PEERCRED: 17, SO_BINDTODEVICE: 25, SO_PEERNAME: 28, SO_TIMESTAMP: 29,
  SO_SNDBUFFORCE: 32, SO_RCVBUFFORCE: 33, SO_TIMESTAMPNS: 35, SO_MARK: 36, SO_TIMESTAMPING: 37,
  SO_PROTOCOL: 38, SO_DOMAIN: 39, SO_RXQ_OVFL: 40, SO_PEEK_OFF: 42, SO_BUSY_POLL: 46,
  SO_MAX_PACING_RATE: 47, SO_INCOMING_CPU: 49, SO_ZEROCOPY: 60, SO_TXTIME: 61,
  TCP_MD5SIG: 14, TCP_THIN_LINEAR_TIMEOUTS: 16, TCP_THIN_DUPACK: 17, TCP_REPAIR: 19, TCP_REPAIR_QUEUE: 20,
  TCP_QUEUE_SEQ: 21, TCP_REPAIR_OPTIONS: 22, TCP_FASTOPEN: 23, TCP_TIMESTAMP: 24, TCP_NOTSENT_LOWAT: 25,
  TCP_CC_INFO: 26, TCP_SAVE_SYN: 27, TCP_SAVED_SYN: 28, TCP_REPAIR_WINDOW: 29, TCP_FASTOPEN_CONNECT: 30,
  TCP_ULP: 31, TCP_MD5SIG_EXT: 32, TCP_FASTOPEN_KEY: 33, TCP_FASTOPEN_NO_COOKIE: 34,
  TCP_ZEROCOPY_RECEIVE: 35, TCP_INQ: 36, TCP_TX_DELAY: 37,
  IP_TTL: 2, IP_HDRINCL: 3, IP_OPTIONS: 4, IP_RECVERR: 11, IP_RECVTOS: 13, IP_FREEBIND: 15,
  IP_TRANSPARENT: 19, IP_BIND_ADDRESS_NO_PORT: 24,
  MSG_CTRUNC: 0x8, MSG_CONFIRM: 0x800, MSG_ERRQUEUE: 0x2000, MSG_WAITFORONE: 0x10000,
  MSG_ZEROCOPY: 0x4000000, MSG_FASTOPEN: 0x20000000,
  EPOLLIN: 0x1, EPOLLPRI: 0x2, EPOLLOUT: 0x4, EPOLLERR: 0x8, EPOLLHUP: 0x10, EPOLLRDHUP: 0x2000,
  EPOLLET: 0x80000000, EPOLL_CTL_ADD: 1, EPOLL_CTL_DEL: 2, EPOLL_CTL_MOD: 3,
};

/**
 * Options Linux accepts that this engine does not model: setsockopt() succeeds and the run
 * reports "not modelled" once (as the sysctl lines do), so a script gets as far as the
 * behaviour it checks instead of stopping at the option. getsockopt() of these still fails.
 */
export const UNMODELLED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  SOL_SOCKET: ['SO_PRIORITY', 'SO_TIMESTAMP', 'SO_TIMESTAMPNS', 'SO_TIMESTAMPING', 'SO_MARK', 'SO_MAX_PACING_RATE',
    'SO_ZEROCOPY', 'SO_BUSY_POLL', 'SO_INCOMING_CPU', 'SO_RXQ_OVFL', 'SO_TXTIME', 'SO_DEBUG', 'SO_DONTROUTE',
    'SO_OOBINLINE', 'SO_RCVLOWAT', 'SO_BROADCAST'],
  IPPROTO_TCP: ['TCP_NOTSENT_LOWAT', 'TCP_INQ', 'TCP_THIN_LINEAR_TIMEOUTS', 'TCP_THIN_DUPACK', 'TCP_SAVE_SYN',
    'TCP_TX_DELAY', 'TCP_TIMESTAMP', 'TCP_DEFER_ACCEPT', 'TCP_WINDOW_CLAMP', 'TCP_LINGER2', 'TCP_SYNCNT', 'TCP_CORK',
    'TCP_CONGESTION'],
  IPPROTO_IP: ['IP_RECVERR', 'IP_RECVTOS', 'IP_TTL', 'IP_FREEBIND', 'IP_BIND_ADDRESS_NO_PORT'],
};

/** The name of an unmodelled option at `level`, or null. */
export function unmodelledOption(level: number, name: number): string | null {
  const lv = level === CONSTANTS.SOL_SOCKET ? 'SOL_SOCKET' : level === CONSTANTS.IPPROTO_TCP ? 'IPPROTO_TCP' : level === CONSTANTS.IPPROTO_IP ? 'IPPROTO_IP' : null;
  if (lv === null) return null;
  for (const n of UNMODELLED_OPTIONS[lv]!) if (CONSTANTS[n] === name) return n;
  return null;
}

export class EvalError extends Error {}

/** Evaluate an expression to a number: ints, constants, `A|B`, `[x]`, htons(), inet_addr(). */
export function evalInt(e: Expr): number {
  switch (e.kind) {
    case 'int': return e.value;
    case 'sym': {
      // Errno names are integer constants too (packetdrill: `[ECONNRESET]` for SO_ERROR).
      const v = CONSTANTS[e.name] ?? (/^E[A-Z0-9]+$/.test(e.name) ? errnoNumber(e.name) : undefined);
      if (v === undefined) throw new EvalError(`unknown constant ${e.name}`);
      return v;
    }
    case 'or': return e.parts.reduce((acc, p) => acc | evalInt(p), 0) >>> 0;
    case 'list':
      if (e.items.length !== 1) throw new EvalError('expected a pointer to one value [N]');
      return evalInt(e.items[0]!);
    case 'call':
      if ((e.name === 'htons' || e.name === 'htonl' || e.name === 'ntohs' || e.name === 'ntohl') && e.args.length === 1) return evalInt(e.args[0]!);
      if (e.name === 'inet_addr' && e.args.length === 1 && e.args[0]!.kind === 'string') {
        const a = parseIpv4Address(e.args[0]!.value);
        if (a === null) throw new EvalError(`bad IPv4 address "${e.args[0]!.value}"`);
        return a;
      }
      throw new EvalError(`unsupported function ${e.name}()`);
    case 'string': throw new EvalError(`expected a number, got "${e.value}"`);
    case 'ellipsis': throw new EvalError("expected a number, got '...'");
    case 'struct': throw new EvalError('expected a number, got a {struct}');
  }
}

/** A struct field by name (with or without a `l_`/`sin_` style prefix). */
export function field(e: Expr, ...names: string[]): Expr | undefined {
  if (e.kind !== 'struct') return undefined;
  for (const f of e.fields) if (names.includes(f.name)) return f.value;
  return undefined;
}

/** Names for an or-ed flag value (for messages): 0x5 with POLL* → POLLIN|POLLOUT. */
export function flagNames(v: number, prefix: string): string {
  if (v === 0) return '0';
  const parts: string[] = [];
  let rest = v;
  for (const [k, bit] of Object.entries(CONSTANTS)) {
    if (!k.startsWith(prefix) || bit === 0 || (bit & (bit - 1)) !== 0) continue;
    if ((rest & bit) === bit) { parts.push(k); rest &= ~bit; }
  }
  if (rest !== 0) parts.push('0x' + rest.toString(16));
  return parts.join('|');
}

/** Expression as written (for messages). */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'ellipsis': return '...';
    case 'int': return String(e.value);
    case 'sym': return e.name;
    case 'string': return JSON.stringify(e.value);
    case 'or': return e.parts.map(formatExpr).join('|');
    case 'list': return '[' + e.items.map(formatExpr).join(', ') + ']';
    case 'struct': return '{' + e.fields.map((f) => `${f.name}=${formatExpr(f.value)}`).join(', ') + '}';
    case 'call': return `${e.name}(${e.args.map(formatExpr).join(', ')})`;
  }
}
