// A BSD-socket call layer over synack, with Linux semantics and errno values: socket,
// bind, listen, accept, connect (blocking, and O_NONBLOCK with EINPROGRESS), read/recv,
// write/send, close, shutdown, setsockopt/getsockopt, fcntl, ioctl, poll.
//
// A call returns 'block' when it would wait; the interpreter retries it after every event
// in virtual time until it completes (a blocking call, `+S...E` in a script). The layer
// reads connection state from the Tcb directly rather than through callbacks.
import type { Expr } from './ast.js';
import type { Stack } from '../stack/stack.js';
import type { Listener } from '../tcp/listener.js';
import type { Tcb } from '../tcp/tcb.js';
import type { Instant } from '../time/instant.js';
import { StackError } from '../stack/errors.js';
import { initialWindowScale } from '../stack/options.js';
import { isSynchronized } from '../tcp/types.js';
import { errnoNameOf, errnoNumber } from './errno.js';
import { CONSTANTS as K, EvalError, evalInt, field, flagNames, formatExpr, unmodelledOption } from './consts.js';

/** Where `...` addresses point (packetdrill's defaults). */
export interface AddressConfig {
  localAddr: number;
  bindPort: number;
  remoteAddr: number;
  connectPort: number;
}

export interface SyscallHost {
  readonly stack: Stack;
  readonly addrs: AddressConfig;
  now(): Instant;
  /** An active open just sent (or is about to send) its SYN. */
  onActiveOpen(tcb: Tcb): void;
  /** Report something accepted but not modelled (once per text). */
  note?(text: string): void;
}

/** A finished call: its return value, errno name when it failed, and mismatching output arguments. */
export interface CallResult {
  ret: number;
  errno: string | null;
  /** Output arguments ([val] of getsockopt/ioctl, revents of poll) that differ from the script. */
  mismatch: string | null;
}

export type CallOutcome = { kind: 'done'; result: CallResult } | { kind: 'block' };

/** A started call: attempt() is called until it reports done. wakeAt: a timeout (poll). */
export interface Call {
  attempt(): CallOutcome;
  wakeAt: Instant;
}

interface SockOpts {
  reuseaddr: boolean;
  rcvbuf: number;
  sndbuf: number;
  keepalive: boolean;
  linger: { on: boolean; secs: number };
  nodelay: boolean;
  maxseg: number;
  keepidle: number;
  keepintvl: number;
  keepcnt: number;
  userTimeout: number;
  /** IP_TOS: the TOS byte (its ECN bits cleared, as Linux does for stream sockets). */
  tos: number;
  /** IP_MTU_DISCOVER (Linux IP_PMTUDISC_*; WANT by default, net.ipv4.ip_no_pmtu_disc=0). */
  pmtudisc: number;
}

class Sock {
  nonblock = false;
  bound: { addr: number; port: number } | null = null;
  listener: Listener | null = null;
  tcb: Tcb | null = null;
  /** The Tcb's error has been reported to the user (by a call or SO_ERROR). */
  errReported = false;
  shutRd = false;
  shutWr = false;
  /**
   * connect() has returned 0 on this socket (Linux sock->state == SS_CONNECTED). A
   * non-blocking connect that completed in the background is reported by the next
   * connect() call, which returns 0; only later ones say EISCONN (Linux
   * __inet_stream_connect; BSD says EISCONN at once).
   */
  connectReported = false;
  constructor(readonly fd: number, readonly opts: SockOpts) {}

  /** The pending socket error (sk_err), consumed by take(). */
  get pendingError(): string | null {
    const e = this.tcb?.error ?? null;
    return e !== null && !this.errReported ? e : null;
  }
  takeError(): string | null {
    const e = this.pendingError;
    if (e !== null) this.errReported = true;
    return e;
  }
}


const ok = (ret: number, mismatch: string | null = null): CallOutcome => ({ kind: 'done', result: { ret, errno: null, mismatch } });
const err = (errno: string): CallOutcome => ({ kind: 'done', result: { ret: -1, errno, mismatch: null } });
const BLOCK: CallOutcome = { kind: 'block' };

/** A call whose outcome is known at once. */
function now(o: CallOutcome): Call {
  return { attempt: () => o, wakeAt: Infinity };
}

function retry(fn: () => CallOutcome): Call {
  return { attempt: fn, wakeAt: Infinity };
}

function defaultOpts(): SockOpts {
  return { reuseaddr: false, rcvbuf: 0, sndbuf: 0, keepalive: false, linger: { on: false, secs: 0 }, nodelay: false, maxseg: 0, keepidle: 0, keepintvl: 0, keepcnt: 0, userTimeout: 0, tos: 0, pmtudisc: 1 };
}

/** Compare an output argument `[N]` with the actual value; '...' matches anything. */
export function checkOut(e: Expr | undefined, actual: number, what: string, name?: (v: number) => string | null): string | null {
  if (e === undefined || e.kind === 'ellipsis') return null;
  let expected: number;
  try { expected = evalInt(e); } catch (x) { return `${what}: ${(x as Error).message}`; }
  if (expected === actual) return null;
  // A symbolic expectation also shows its value; the actual value its name when it has one.
  const literal = e.kind === 'int' || (e.kind === 'list' && e.items.length === 1 && e.items[0]!.kind === 'int');
  const n = name?.(actual) ?? null;
  return `${what}: expected ${formatExpr(e)}${literal ? '' : ` (${expected})`}, got ${actual}${n === null ? '' : ` (${n})`}`;
}

export class SocketLayer {
  private readonly fds = new Map<number, Sock>();
  /** Script fd → live fd, when a call returned a different number than the script says. */
  private readonly fdMap = new Map<number, number>();

  constructor(private readonly host: SyscallHost) {}

  /** Start a system call. Throws EvalError for arguments it cannot understand. */
  call(name: string, args: Expr[]): Call {
    switch (name) {
      case 'socket': return now(this.socket(args));
      case 'bind': return now(this.withSock(args, (s) => this.bind(s, args)));
      case 'listen': return now(this.withSock(args, (s) => this.listen(s, args)));
      case 'accept': case 'accept4': return this.blocking(args, (s) => this.accept(s));
      case 'connect': return this.connect(args);
      case 'read': case 'recv': case 'recvfrom': return this.read(args, name !== 'read');
      case 'write': case 'send': case 'sendto': return this.write(args, name !== 'write');
      case 'readv': return this.read(args, false, iovTotal(args[1]));
      case 'writev': return this.write(args, false, iovTotal(args[1]));
      case 'recvmsg': return this.read(args, false, msghdrIovTotal(args[1], true), this.arg(args, 2, 0));
      case 'sendmsg': return this.write(args, false, msghdrIovTotal(args[1], false), this.arg(args, 2, 0));
      case 'close': return now(this.withSock(args, (s) => this.close(s)));
      case 'shutdown': return now(this.withSock(args, (s) => this.shutdown(s, args)));
      case 'setsockopt': return now(this.withSock(args, (s) => this.setsockopt(s, args)));
      case 'getsockopt': return now(this.withSock(args, (s) => this.getsockopt(s, args)));
      case 'fcntl': return now(this.withSock(args, (s) => this.fcntl(s, args)));
      case 'ioctl': return now(this.withSock(args, (s) => this.ioctl(s, args)));
      case 'poll': return this.poll(args);
      default: throw new EvalError(`system call ${name}() is not supported`);
    }
  }

  /** The script calls live fd `live` by the number `script` from now on. */
  mapFd(script: number, live: number): void {
    if (script === live) this.fdMap.delete(script); else this.fdMap.set(script, live);
  }

  private liveFd(scriptFd: number): number { return this.fdMap.get(scriptFd) ?? scriptFd; }

  /** Port of the most recently created listening socket, or null. */
  listeningPort(): number | null {
    let port: number | null = null;
    for (const s of this.fds.values()) if (s.listener !== null) port = s.listener.localPort;
    return port;
  }

  /** Live connection of a script fd (for traces and tests), or null. */
  tcbOf(scriptFd: number): Tcb | null { return this.fds.get(this.liveFd(scriptFd))?.tcb ?? null; }

  private alloc(opts: SockOpts): Sock {
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    const s = new Sock(fd, opts);
    this.fds.set(fd, s);
    return s;
  }

  private withSock(args: Expr[], fn: (s: Sock) => CallOutcome): CallOutcome {
    if (args.length === 0) throw new EvalError('missing file descriptor');
    const s = this.fds.get(this.liveFd(evalInt(args[0]!)));
    if (s === undefined) return err('EBADF');
    const r = fn(s);
    if (s.tcb !== null) this.lastTcb = s.tcb;
    return r;
  }

  /** The connection of the socket most recently used by a call (packetdrill's socket under test, for tcp_info). */
  private lastTcb: Tcb | null = null;
  socketUnderTest(): Tcb | null { return this.lastTcb; }

  /** A call on a socket that may block: EAGAIN instead of blocking on O_NONBLOCK sockets. */
  private blocking(args: Expr[], fn: (s: Sock) => CallOutcome | 'wait', nonblockFlag = false): Call {
    return retry(() => this.withSock(args, (s) => {
      const r = fn(s);
      if (r !== 'wait') return r;
      return s.nonblock || nonblockFlag ? err('EAGAIN') : BLOCK;
    }));
  }

  private arg(args: Expr[], i: number, dflt: number): number {
    const e = args[i];
    return e === undefined || e.kind === 'ellipsis' ? dflt : evalInt(e);
  }

  // ---------------------------------------------------------------- socket, bind, listen

  private socket(args: Expr[]): CallOutcome {
    const domain = this.arg(args, 0, K.AF_INET!);
    const type = this.arg(args, 1, K.SOCK_STREAM!);
    const proto = this.arg(args, 2, K.IPPROTO_TCP!);
    if (domain !== K.AF_INET) return err('EAFNOSUPPORT');
    if ((type & 0xf) !== K.SOCK_STREAM) return err('ESOCKTNOSUPPORT');
    if (proto !== 0 && proto !== K.IPPROTO_TCP) return err('EPROTONOSUPPORT');
    const s = this.alloc(defaultOpts());
    if (type & K.SOCK_NONBLOCK!) s.nonblock = true;
    return ok(s.fd);
  }

  /** sockaddr argument: `...` is the default; `{sin_port=htons(P), sin_addr=inet_addr("A")}` otherwise. */
  private sockaddr(e: Expr | undefined, addr: number, port: number): { addr: number; port: number } {
    if (e === undefined || e.kind === 'ellipsis') return { addr, port };
    const p = field(e, 'sin_port', 'port');
    const a = field(e, 'sin_addr', 'addr');
    return { addr: a === undefined ? addr : evalInt(a) >>> 0, port: p === undefined ? port : evalInt(p) };
  }

  private portInUse(port: number, self: Sock): boolean {
    for (const o of this.fds.values()) {
      if (o === self || o.bound?.port !== port) continue;
      // SO_REUSEADDR on both lets sockets share a port unless one listens (Linux inet_csk_bind_conflict).
      if (!(self.opts.reuseaddr && o.opts.reuseaddr) || o.listener !== null) return true;
    }
    return false;
  }

  private bind(s: Sock, args: Expr[]): CallOutcome {
    if (s.bound !== null || s.tcb !== null) return err('EINVAL');
    const a = this.sockaddr(args[1], this.host.addrs.localAddr, this.host.addrs.bindPort);
    if (a.addr !== 0 && !this.host.stack.interfaces.some((i) => i.addr === a.addr)) return err('EADDRNOTAVAIL');
    if (a.port !== 0 && this.portInUse(a.port, s)) return err('EADDRINUSE');
    s.bound = a;
    return ok(0);
  }

  private listen(s: Sock, args: Expr[]): CallOutcome {
    const backlog = this.arg(args, 1, 128);
    if (s.tcb !== null) return err('EINVAL');
    if (s.listener !== null) { s.listener.backlog = Math.max(1, backlog); return ok(0); }
    try {
      s.listener = this.host.stack.listen({ addr: s.bound?.addr ?? 0, port: s.bound?.port ?? 0, backlog: Math.max(1, backlog) });
    } catch (e) {
      return err(e instanceof StackError ? e.code : 'EINVAL');
    }
    if (s.bound === null) s.bound = { addr: 0, port: s.listener.localPort };
    // Children inherit the listening socket's options (Linux clones the socket).
    const opts = s.opts;
    s.listener.onNewChild = (tcb) => this.applyOpts(tcb, opts, true);
    return ok(0);
  }

  /** Apply socket options to a connection; `fresh` before its SYN / SYN-ACK. */
  private applyOpts(tcb: Tcb, o: SockOpts, fresh: boolean): void {
    const t = this.host.now();
    if (fresh && o.maxseg > 0) tcb.mssOur = Math.min(tcb.mssOur, o.maxseg);
    if (o.rcvbuf > 0) {
      tcb.rcvBuf.capacity = o.rcvbuf; tcb.rcvBufAuto = false;
      // Before the SYN-ACK: a fixed buffer limits the window scale (Linux's window clamp).
      if (fresh && tcb.wantWs) tcb.rcvWscale = initialWindowScale(this.host.stack.options, o.rcvbuf, true);
    }
    if (o.sndbuf > 0) { tcb.sndBuf.capacity = o.sndbuf; tcb.sndBufAuto = false; }
    tcb.noDelay = o.nodelay;
    tcb.userTimeout = o.userTimeout * 1000;
    tcb.dscp = o.tos >> 2;
    if (o.keepalive || o.keepidle > 0 || o.keepintvl > 0 || o.keepcnt > 0) {
      tcb.setKeepAlive(t, o.keepalive, o.keepidle * 1e6 || undefined, o.keepintvl * 1e6 || undefined, o.keepcnt || undefined);
    }
  }

  private accept(s: Sock): CallOutcome | 'wait' {
    const l = s.listener;
    if (l === null) return err('EINVAL');
    const tcb = l.accept();
    if (tcb === null) return 'wait';
    const c = this.alloc({ ...s.opts, linger: { ...s.opts.linger } });
    c.tcb = tcb;
    c.connectReported = true; // an accepted socket is SS_CONNECTED: connect() says EISCONN
    this.lastTcb = tcb;
    c.bound = { addr: tcb.localAddr, port: tcb.localPort };
    return ok(c.fd);
  }

  // ---------------------------------------------------------------- connect

  private connect(args: Expr[]): Call {
    let started = false;
    return retry(() => this.withSock(args, (s) => {
      if (s.listener !== null) return err('EINVAL');
      const tcb = s.tcb;
      if (tcb === null) {
        const a = this.sockaddr(args[1], this.host.addrs.remoteAddr, this.host.addrs.connectPort);
        try {
          s.tcb = this.host.stack.connect({
            remoteAddr: a.addr, remotePort: a.port,
            localAddr: s.bound?.addr || undefined, localPort: s.bound?.port || undefined,
            rcvBuf: s.opts.rcvbuf || undefined, sndBuf: s.opts.sndbuf || undefined,
          });
        } catch (e) {
          return err(e instanceof StackError ? e.code : 'EINVAL');
        }
        s.bound = { addr: s.tcb.localAddr, port: s.tcb.localPort };
        this.applyOpts(s.tcb, s.opts, true);
        this.host.onActiveOpen(s.tcb);
        s.tcb.openActive(this.host.now());
        started = true;
        if (s.nonblock) return err('EINPROGRESS');
      }
      const r = this.connectStatus(s, started);
      if (r.kind === 'block' && (s.nonblock || !started)) return err('EALREADY');
      if (r.kind === 'done' && r.result.ret === 0) {
        if (s.connectReported) return err('EISCONN');
        s.connectReported = true;
      }
      return r;
    }));
  }

  /** A connect in progress: 0 once synchronized, the error if it failed, else block. */
  private connectStatus(s: Sock, mine: boolean): CallOutcome {
    const t = s.tcb!;
    const e = s.takeError();
    if (e !== null) return err(e);
    if (isSynchronized(t.state)) return ok(0);
    if (t.state === 'CLOSED') return mine ? err('ECONNABORTED') : err('EISCONN');
    return BLOCK;
  }

  // ---------------------------------------------------------------- read / write

  private read(args: Expr[], withFlags: boolean, iovLen?: number, flagsArg?: number): Call {
    const len = iovLen ?? this.arg(args, 2, 0);
    const flags = flagsArg ?? (withFlags ? this.arg(args, 3, 0) : 0);
    return this.blocking(args, (s) => {
      const t = s.tcb;
      if (s.listener !== null || t === null) return err('ENOTCONN');
      if (t.readable > 0 && len > 0) {
        const n = Math.min(len, t.readable);
        if (!(flags & K.MSG_PEEK!)) t.receive(n, this.host.now());
        return ok(n);
      }
      if (len === 0) return ok(0);
      // Linux tcp_recvmsg's order: the peer's FIN (SOCK_DONE), then the socket error, then
      // our own shutdown(SHUT_RD) or a closed socket (RCV_SHUTDOWN).
      if (t.finReceived) return ok(0);
      const e = s.takeError();
      if (e !== null) return err(e);
      if (s.shutRd || t.state === 'CLOSED') return ok(0);
      return 'wait';
    }, (flags & K.MSG_DONTWAIT!) !== 0);
  }

  private write(args: Expr[], withFlags: boolean, iovLen?: number, flagsArg?: number): Call {
    const len = iovLen ?? this.arg(args, 2, 0);
    const flags = flagsArg ?? (withFlags ? this.arg(args, 3, 0) : 0);
    let done = 0;
    const data = new Uint8Array(len);
    return this.blocking(args, (s) => {
      const t = s.tcb;
      if (s.listener !== null || t === null) return err('EPIPE');
      const e = s.takeError();
      if (e !== null) return done > 0 ? ok(done) : err(e);
      if (s.shutWr || t.finQueued || t.state === 'CLOSED') return done > 0 ? ok(done) : err('EPIPE');
      // Linux sk_stream_wait_connect: a write during the handshake waits for it.
      if (t.state === 'SYN-SENT' || t.state === 'SYN-RECEIVED') return 'wait';
      if (len === 0) return ok(0);
      const n = t.send(data, this.host.now(), done, len - done);
      if (n < 0) return done > 0 ? ok(done) : err('EPIPE');
      done += n;
      if (done === len) return ok(done);
      // Non-blocking: a partial write returns what fit.
      if ((s.nonblock || (flags & K.MSG_DONTWAIT!)) && done > 0) return ok(done);
      return 'wait';
    }, (flags & K.MSG_DONTWAIT!) !== 0);
  }

  // ---------------------------------------------------------------- close, shutdown

  private close(s: Sock): CallOutcome {
    this.fds.delete(s.fd);
    const t = this.host.now();
    if (s.listener !== null) { this.host.stack.closeListener(s.listener); return ok(0); }
    if (s.tcb !== null) {
      // SO_LINGER with a zero timeout: close() aborts with RST (Linux tcp_close → tcp_disconnect).
      // close() is the Tcb's CLOSE as an orphan: nobody reads any more (new data → RST,
      // RFC 1122 §4.2.2.13, done by the engine).
      if (s.opts.linger.on && s.opts.linger.secs === 0) s.tcb.abort(t, 'close with SO_LINGER 0');
      else s.tcb.close(t);
    }
    return ok(0);
  }

  private shutdown(s: Sock, args: Expr[]): CallOutcome {
    const how = this.arg(args, 1, K.SHUT_RDWR!);
    if (how < 0 || how > 2) return err('EINVAL');
    const t = this.host.now();
    if (s.listener !== null) {
      // Linux inet_shutdown: shutting down the receive side of a listener closes it.
      if (how !== K.SHUT_WR) { this.host.stack.closeListener(s.listener); s.listener = null; }
      return ok(0);
    }
    const tcb = s.tcb;
    if (tcb === null || tcb.state === 'CLOSED') return err('ENOTCONN');
    if (tcb.state === 'SYN-SENT') { tcb.abort(t, 'shutdown in SYN-SENT'); return ok(0); }
    if (how !== K.SHUT_WR) { s.shutRd = true; tcb.shutdownRead(t); }
    if (how !== K.SHUT_RD && !s.shutWr) { s.shutWr = true; tcb.close(t, false); }
    return ok(0);
  }

  // ---------------------------------------------------------------- options

  private optPair(args: Expr[]): [number, number] {
    return [this.arg(args, 1, -1), this.arg(args, 2, -1)];
  }

  private setsockopt(s: Sock, args: Expr[]): CallOutcome {
    const [level, name] = this.optPair(args);
    const valExpr = args[3];
    if (valExpr === undefined) throw new EvalError('setsockopt needs an option value');
    const o = s.opts;
    const t = s.tcb;
    const nowT = this.host.now();
    if (level === K.SOL_SOCKET && name === K.SO_LINGER) {
      const on = field(valExpr, 'onoff', 'l_onoff');
      const secs = field(valExpr, 'linger', 'l_linger');
      if (on === undefined || secs === undefined) throw new EvalError('SO_LINGER needs {onoff=N, linger=N}');
      o.linger = { on: evalInt(on) !== 0, secs: evalInt(secs) };
      return ok(0);
    }
    const unmodelled = unmodelledOption(level, name);
    if (unmodelled !== null) {
      this.host.note?.(`setsockopt ${unmodelled} is not modelled; accepted and ignored`);
      return ok(0);
    }
    const v = evalInt(valExpr);
    if (level === K.SOL_SOCKET) {
      switch (name) {
        case K.SO_REUSEADDR: case K.SO_REUSEPORT: o.reuseaddr = v !== 0; return ok(0);
        // Linux clamps to net.core.rmem_max / wmem_max (stack options, 212992 by default) and doubles the
        // value for bookkeeping (getsockopt shows it); the floor is SOCK_MIN_RCVBUF / SNDBUF.
        case K.SO_RCVBUF:
          o.rcvbuf = Math.max(Math.min(v, this.host.stack.options.rmem_max), 1152);
          if (t !== null) { t.rcvBuf.capacity = o.rcvbuf; t.rcvBufAuto = false; }
          return ok(0);
        case K.SO_SNDBUF:
          o.sndbuf = Math.max(Math.min(v, this.host.stack.options.wmem_max), 2304);
          if (t !== null) { t.sndBuf.capacity = o.sndbuf; t.sndBufAuto = false; }
          return ok(0);
        case K.SO_KEEPALIVE:
          o.keepalive = v !== 0;
          if (t !== null) t.setKeepAlive(nowT, o.keepalive);
          return ok(0);
        default: return err('ENOPROTOOPT');
      }
    }
    if (level === K.IPPROTO_TCP) {
      switch (name) {
        case K.TCP_NODELAY: o.nodelay = v !== 0; if (t !== null) t.noDelay = o.nodelay; return ok(0);
        case K.TCP_MAXSEG:
          // Linux do_tcp_setsockopt: 88 <= val <= 32767 (0 resets).
          if (v !== 0 && (v < 88 || v > 32767)) return err('EINVAL');
          o.maxseg = v;
          return ok(0);
        case K.TCP_KEEPIDLE: case K.TCP_KEEPINTVL: case K.TCP_KEEPCNT: {
          if (v < 1 || v > (name === K.TCP_KEEPCNT ? 127 : 32767)) return err('EINVAL');
          if (name === K.TCP_KEEPIDLE) o.keepidle = v; else if (name === K.TCP_KEEPINTVL) o.keepintvl = v; else o.keepcnt = v;
          if (t !== null) {
            t.setKeepAlive(nowT, t.keepAlive, name === K.TCP_KEEPIDLE ? v * 1e6 : undefined,
              name === K.TCP_KEEPINTVL ? v * 1e6 : undefined, name === K.TCP_KEEPCNT ? v : undefined);
          }
          return ok(0);
        }
        case K.TCP_QUICKACK:
          // Linux: 1 leaves "pingpong" mode and sends a pending ACK at once; 0 enters it,
          // which ends the quick-ACK start (delayed ACKs from now on). Not sticky on Linux
          // (a delayed-ACK timeout leaves pingpong mode again); synack's quick-ACK count only
          // ever runs down, so 0 is.
          if (t !== null) {
            if (v !== 0) { t.quickAcks = Math.max(t.quickAcks, this.host.stack.options.tcp_quickack_segments); t.sendPendingAck(nowT); }
            else t.quickAcks = 0;
          }
          return ok(0);
        case K.TCP_USER_TIMEOUT:
          if (v < 0) return err('EINVAL');
          o.userTimeout = v;
          if (t !== null) t.userTimeout = v * 1000;
          return ok(0);
        default: return err('ENOPROTOOPT');
      }
    }
    if (level === K.IPPROTO_IP && name === K.IP_MTU_DISCOVER) {
      // Linux do_ip_setsockopt: IP_PMTUDISC_DONT..IP_PMTUDISC_OMIT, else EINVAL. synack always
      // sets DF and does PMTUD (tcp/icmp.ts); the value is kept and reported by getsockopt.
      if (v < K.IP_PMTUDISC_DONT! || v > K.IP_PMTUDISC_OMIT!) return err('EINVAL');
      o.pmtudisc = v;
      return ok(0);
    }
    if (level === K.IPPROTO_IP && name === K.IP_TOS) {
      // RFC 9293 MUST-48/SHLD-21; Linux __ip_sock_set_tos: a stream socket keeps its ECN bits
      // (RFC 3168 §5), the rest becomes the TOS byte, effective for the next segment.
      o.tos = v & 0xfc;
      if (t !== null) t.dscp = o.tos >> 2;
      return ok(0);
    }
    return err('ENOPROTOOPT');
  }

  private getsockopt(s: Sock, args: Expr[]): CallOutcome {
    const [level, name] = this.optPair(args);
    const o = s.opts;
    const t = s.tcb;
    const out = args[3];
    if (level === K.SOL_SOCKET && name === K.SO_LINGER) {
      const on = out === undefined ? undefined : field(out, 'onoff', 'l_onoff');
      const secs = out === undefined ? undefined : field(out, 'linger', 'l_linger');
      const m = checkOut(on, o.linger.on ? 1 : 0, 'l_onoff') ?? checkOut(secs, o.linger.secs, 'l_linger');
      return ok(0, m);
    }
    let v: number;
    const opts = this.host.stack.options;
    if (level === K.SOL_SOCKET) {
      switch (name) {
        case K.SO_ERROR: v = errnoNum(s.takeError()); break;
        case K.SO_REUSEADDR: case K.SO_REUSEPORT: v = o.reuseaddr ? 1 : 0; break;
        case K.SO_KEEPALIVE: v = (t?.keepAlive ?? o.keepalive) ? 1 : 0; break;
        case K.SO_TYPE: v = K.SOCK_STREAM!; break;
        case K.SO_ACCEPTCONN: v = s.listener !== null ? 1 : 0; break;
        // Linux doubles SO_RCVBUF/SO_SNDBUF values (bookkeeping overhead); we report the same.
        // Untouched by the user, Linux reports sk_rcvbuf/sk_sndbuf: tcp_rmem[1]/tcp_wmem[1] until
        // the connection is established, then what autotuning made of them (autotune.ts initSendBuffer:
        // 69120 for MSS 1460; receive-buffer DRS).
        case K.SO_RCVBUF: v = o.rcvbuf > 0 ? 2 * o.rcvbuf : t?.rcvBuf.capacity ?? opts.tcp_rmem[1]; break;
        case K.SO_SNDBUF: v = o.sndbuf > 0 ? 2 * o.sndbuf : t?.sndBuf.capacity ?? opts.tcp_wmem[1]; break;
        default: return err('ENOPROTOOPT');
      }
    } else if (level === K.IPPROTO_TCP) {
      switch (name) {
        case K.TCP_NODELAY: v = (t?.noDelay ?? o.nodelay) ? 1 : 0; break;
        // Linux: the current send MSS once connected, else the user's value or 536.
        case K.TCP_MAXSEG: v = t !== null && isSynchronized(t.state) ? t.effMss : o.maxseg || 536; break;
        case K.TCP_KEEPIDLE: v = t !== null ? t.keepIdle / 1e6 : o.keepidle || opts.tcp_keepalive_time; break;
        case K.TCP_KEEPINTVL: v = t !== null ? t.keepIntvl / 1e6 : o.keepintvl || opts.tcp_keepalive_intvl; break;
        case K.TCP_KEEPCNT: v = t !== null ? t.keepCnt : o.keepcnt || opts.tcp_keepalive_probes; break;
        case K.TCP_USER_TIMEOUT: v = o.userTimeout; break;
        case K.TCP_QUICKACK: v = t !== null && t.quickAcks > 0 ? 1 : 0; break;
        default: return err('ENOPROTOOPT');
      }
    } else if (level === K.IPPROTO_IP && name === K.IP_TOS) {
      v = o.tos;
    } else if (level === K.IPPROTO_IP && name === K.IP_MTU_DISCOVER) {
      v = o.pmtudisc;
    } else {
      return err('ENOPROTOOPT');
    }
    return ok(0, checkOut(out, v, 'optval', level === K.SOL_SOCKET && name === K.SO_ERROR ? errnoName : undefined));
  }

  private fcntl(s: Sock, args: Expr[]): CallOutcome {
    const cmd = this.arg(args, 1, -1);
    switch (cmd) {
      case K.F_GETFL: return ok(K.O_RDWR! | (s.nonblock ? K.O_NONBLOCK! : 0));
      case K.F_SETFL: s.nonblock = (this.arg(args, 2, 0) & K.O_NONBLOCK!) !== 0; return ok(0);
      case K.F_GETFD: case K.F_SETFD: return ok(0);
      default: return err('EINVAL');
    }
  }

  private ioctl(s: Sock, args: Expr[]): CallOutcome {
    const req = this.arg(args, 1, -1);
    const t = s.tcb;
    switch (req) {
      case K.SIOCINQ:
        if (s.listener !== null) return err('EINVAL');
        return ok(0, checkOut(args[2], t?.readable ?? 0, 'SIOCINQ'));
      case K.SIOCOUTQ:
        if (s.listener !== null) return err('EINVAL');
        // Linux: bytes not yet acknowledged (write_seq - snd_una), data only.
        return ok(0, checkOut(args[2], t === null ? 0 : t.sndBuf.length, 'SIOCOUTQ'));
      case K.FIONBIO:
        s.nonblock = this.arg(args, 2, 0) !== 0;
        return ok(0);
      default: return err('ENOTTY');
    }
  }

  // ---------------------------------------------------------------- poll

  /** Linux tcp_poll(): the event mask of a socket. */
  pollMask(s: Sock): number {
    if (s.listener !== null) return s.listener.acceptQueue.length > 0 ? K.POLLIN! | K.POLLRDNORM! : 0;
    const t = s.tcb;
    const out = K.POLLOUT! | K.POLLWRNORM!;
    if (t === null) return out | K.POLLHUP!;
    let m = 0;
    const closed = t.state === 'CLOSED';
    // RCV_SHUTDOWN: FIN received, SHUT_RD, or reset/closed (tcp_done sets both directions).
    const rcvShut = t.finReceived || s.shutRd || closed;
    const sndShut = s.shutWr || t.finQueued || closed;
    if ((rcvShut && sndShut) || closed) m |= K.POLLHUP!;
    if (rcvShut) m |= K.POLLIN! | K.POLLRDNORM! | K.POLLRDHUP!;
    if (t.state !== 'SYN-SENT' && t.state !== 'SYN-RECEIVED') {
      if (t.readable > 0) m |= K.POLLIN! | K.POLLRDNORM!;
      if (!sndShut) { if (t.sendSpace > 0) m |= out; } else m |= out;
    }
    if (s.pendingError !== null) m |= K.POLLERR!;
    return m;
  }

  private poll(args: Expr[]): Call {
    const list = args[0];
    if (list === undefined || list.kind !== 'list') throw new EvalError('poll needs [{fd=N, events=…, revents=…}, …]');
    const timeoutMs = this.arg(args, 2, 0);
    const entries = list.items.map((it) => {
      const fd = field(it, 'fd');
      const ev = field(it, 'events');
      if (fd === undefined || ev === undefined) throw new EvalError('poll entries need fd= and events=');
      return { fd: this.liveFd(evalInt(fd)), events: evalInt(ev), revents: field(it, 'revents') };
    });
    const start = this.host.now();
    const call: Call = {
      wakeAt: timeoutMs < 0 ? Infinity : start + timeoutMs * 1000,
      attempt: () => {
        let n = 0;
        const got: number[] = [];
        for (const e of entries) {
          const s = this.fds.get(e.fd);
          const m = s === undefined ? K.POLLNVAL! : this.pollMask(s) & (e.events | K.POLLERR! | K.POLLHUP!);
          got.push(m);
          if (m !== 0) n++;
        }
        if (n === 0 && (timeoutMs < 0 || this.host.now() < call.wakeAt)) return BLOCK;
        let mismatch: string | null = null;
        entries.forEach((e, i) => {
          if (mismatch !== null || e.revents === undefined || e.revents.kind === 'ellipsis') return;
          const want = evalInt(e.revents);
          if (want !== got[i]) mismatch = `revents of fd ${e.fd}: expected ${flagNames(want, 'POLL')}, got ${flagNames(got[i]!, 'POLL')}`;
        });
        return ok(n, mismatch);
      },
    };
    return call;
  }
}

/** Bytes described by an iovec list: `[{..., 1000}, {iov_base=..., iov_len=500}]`. */
export function iovTotal(e: Expr | undefined): number {
  if (e === undefined || e.kind !== 'list') throw new EvalError('expected an iovec list [{..., N}, …]');
  let n = 0;
  for (const it of e.items) {
    const len = field(it, 'iov_len') ?? (it.kind === 'struct' ? it.fields[1]?.value : undefined);
    if (len === undefined) throw new EvalError('an iovec needs a length: {..., N} or {iov_base=..., iov_len=N}');
    n += evalInt(len);
  }
  return n;
}

/**
 * The bytes a packetdrill msghdr `{msg_name(...)=..., msg_iov(1)=[{..., N}], msg_flags=0}`
 * carries (sendmsg/recvmsg). Ancillary data (msg_control: cmsgs such as SCM_TIMESTAMPING or
 * zerocopy notifications) is not modelled and fails the script with a message rather than
 * being ignored; so does a recvmsg whose expected msg_flags is not 0 (MSG_TRUNC, MSG_EOR…),
 * because that flag would not be checked.
 */
export function msghdrIovTotal(e: Expr | undefined, receiving: boolean): number {
  if (e === undefined || e.kind !== 'struct') throw new EvalError('expected a msghdr {msg_name(...)=..., msg_iov(N)=[…], msg_flags=0}');
  const control = field(e, 'msg_control');
  if (control !== undefined && control.kind !== 'ellipsis') throw new EvalError('msghdr msg_control (ancillary data) is not supported');
  const flags = field(e, 'msg_flags');
  if (receiving && flags !== undefined && flags.kind !== 'ellipsis' && evalInt(flags) !== 0) {
    throw new EvalError('recvmsg: an expected msg_flags other than 0 is not supported');
  }
  return iovTotal(field(e, 'msg_iov'));
}

export function errnoName(v: number): string | null {
  return v === 0 ? null : errnoNameOf(v);
}

function errnoNum(name: string | null): number {
  return name === null ? 0 : errnoNumber(name) ?? 0;
}
