// The socket calls of a script, made on real Linux sockets (native/sockets.c). The kernel
// sockets are always non-blocking; a call the script makes on a blocking socket returns
// 'block' while the kernel says EAGAIN/EINPROGRESS, and the runner retries it, as on synack
// (src/pkt/syscalls.ts has the same interface and argument conventions).
import type { Expr } from '../pkt/ast.js';
import type { Call, CallOutcome } from '../pkt/syscalls.js';
import { checkOut, errnoName, iovTotal, msghdrIovTotal } from '../pkt/syscalls.js';
import { CONSTANTS as K, EvalError, evalInt, field, flagNames } from '../pkt/consts.js';
import { errnoNameOf } from '../pkt/errno.js';
import type { SocketsAddon } from './addon.js';

export interface LinuxHost {
  readonly addrs: { localAddr: number; bindPort: number; remoteAddr: number; connectPort: number };
  /** µs since the script started. */
  now(): number;
  /** An active open sent its SYN from this local port. */
  onActiveOpen(localPort: number, remoteAddr: number, remotePort: number): void;
}

interface LSock {
  /** The script asked for O_NONBLOCK (the kernel socket always is). */
  nonblock: boolean;
  listening: number | null;
  connecting: boolean;
}

const ok = (ret: number, mismatch: string | null = null): CallOutcome => ({ kind: 'done', result: { ret, errno: null, mismatch } });
const BLOCK: CallOutcome = { kind: 'block' };

function fromRet(r: number, mismatch: string | null = null): CallOutcome {
  if (r >= 0) return ok(r, mismatch);
  return { kind: 'done', result: { ret: -1, errno: errnoNameOf(-r) ?? `errno ${-r}`, mismatch: null } };
}

const isAgain = (r: number): boolean => r === -11;

export class LinuxSocketLayer {
  private readonly socks = new Map<number, LSock>();
  private readonly fdMap = new Map<number, number>();
  private lastFd: number | null = null;

  constructor(private readonly n: SocketsAddon, private readonly host: LinuxHost) {}

  mapFd(script: number, live: number): void {
    if (script === live) this.fdMap.delete(script); else this.fdMap.set(script, live);
  }

  private live(e: Expr | undefined): number {
    if (e === undefined) throw new EvalError('missing file descriptor');
    const v = evalInt(e);
    return this.fdMap.get(v) ?? v;
  }

  listeningPort(): number | null {
    let p: number | null = null;
    for (const s of this.socks.values()) if (s.listening !== null) p = s.listening;
    return p;
  }

  /** The fd most recently used by a call that has a connection (for tcp_info). */
  socketUnderTest(): number | null { return this.lastFd; }

  /** Close every socket the script left open. */
  closeAll(): void {
    for (const fd of this.socks.keys()) this.n.close(fd);
    this.socks.clear();
  }

  private arg(args: Expr[], i: number, dflt: number): number {
    const e = args[i];
    return e === undefined || e.kind === 'ellipsis' ? dflt : evalInt(e);
  }

  private sockaddr(e: Expr | undefined, addr: number, port: number): { addr: number; port: number } {
    if (e === undefined || e.kind === 'ellipsis') return { addr, port };
    const p = field(e, 'sin_port', 'port');
    const a = field(e, 'sin_addr', 'addr');
    return { addr: a === undefined ? addr : evalInt(a) >>> 0, port: p === undefined ? port : evalInt(p) };
  }

  call(name: string, args: Expr[]): Call {
    const once = (f: () => CallOutcome): Call => { let r: CallOutcome | null = null; return { attempt: () => (r ??= f()), wakeAt: Infinity }; };
    const retry = (f: () => CallOutcome): Call => ({ attempt: f, wakeAt: Infinity });
    switch (name) {
      case 'socket': return once(() => this.socket(args));
      case 'bind': return once(() => this.withFd(args, (fd) => {
        const a = this.sockaddr(args[1], this.host.addrs.localAddr, this.host.addrs.bindPort);
        return fromRet(this.n.bind(fd, a.addr, a.port));
      }));
      case 'listen': return once(() => this.withFd(args, (fd, s) => {
        const r = this.n.listen(fd, this.arg(args, 1, 128));
        if (r === 0) s.listening = this.n.getsockname(fd)[2];
        return fromRet(r);
      }));
      case 'accept': case 'accept4': return retry(() => this.withFd(args, (fd, s) => {
        const r = this.n.accept(fd);
        if (isAgain(r)) return s.nonblock ? fromRet(r) : BLOCK;
        if (r >= 0) { this.socks.set(r, { nonblock: false, listening: null, connecting: false }); this.lastFd = r; }
        return fromRet(r);
      }));
      case 'connect': return this.connect(args);
      case 'read': case 'recv': case 'recvfrom': return this.read(args, name !== 'read');
      case 'readv': return this.read(args, false, iovTotal(args[1]));
      case 'write': case 'send': case 'sendto': return this.write(args, name !== 'write');
      case 'writev': return this.write(args, false, iovTotal(args[1]));
      case 'recvmsg': return this.read(args, false, msghdrIovTotal(args[1], true), this.arg(args, 2, 0));
      case 'sendmsg': return this.write(args, false, msghdrIovTotal(args[1], false), this.arg(args, 2, 0));
      case 'close': return once(() => this.withFd(args, (fd) => { this.socks.delete(fd); return fromRet(this.n.close(fd)); }));
      case 'shutdown': return once(() => this.withFd(args, (fd) => fromRet(this.n.shutdown(fd, this.arg(args, 1, K.SHUT_RDWR!)))));
      case 'setsockopt': return once(() => this.withFd(args, (fd) => this.setsockopt(fd, args)));
      case 'getsockopt': return once(() => this.withFd(args, (fd) => this.getsockopt(fd, args)));
      case 'fcntl': return once(() => this.withFd(args, (fd, s) => this.fcntl(fd, s, args)));
      case 'ioctl': return once(() => this.withFd(args, (fd, s) => this.ioctl(fd, s, args)));
      case 'poll': return this.poll(args);
      default: throw new EvalError(`system call ${name}() is not supported`);
    }
  }

  private withFd(args: Expr[], fn: (fd: number, s: LSock) => CallOutcome): CallOutcome {
    const fd = this.live(args[0]);
    const s = this.socks.get(fd);
    if (s === undefined) return fromRet(-9); // EBADF
    const r = fn(fd, s);
    if (s.listening === null && this.socks.has(fd)) this.lastFd = fd;
    return r;
  }

  private socket(args: Expr[]): CallOutcome {
    const type = this.arg(args, 1, K.SOCK_STREAM!);
    const r = this.n.socket(this.arg(args, 0, K.AF_INET!), type & ~K.SOCK_NONBLOCK!, this.arg(args, 2, K.IPPROTO_TCP!));
    if (r >= 0) this.socks.set(r, { nonblock: (type & K.SOCK_NONBLOCK!) !== 0, listening: null, connecting: false });
    return fromRet(r);
  }

  private connect(args: Expr[]): Call {
    let started = false;
    return {
      wakeAt: Infinity,
      attempt: () => this.withFd(args, (fd, s) => {
        if (!started) {
          started = true;
          const a = this.sockaddr(args[1], this.host.addrs.remoteAddr, this.host.addrs.connectPort);
          const r = this.n.connect(fd, a.addr, a.port);
          if (r === 0 || r === -115) this.host.onActiveOpen(this.n.getsockname(fd)[2], a.addr, a.port);
          if (r !== -115) return fromRet(r);
          s.connecting = true;
          if (s.nonblock) return fromRet(r);
          return BLOCK;
        }
        // A blocking connect in progress: done when the socket is writable or has an error.
        const p = this.n.poll([fd], [K.POLLOUT!]);
        if ((p[1]! & (K.POLLOUT! | K.POLLERR! | K.POLLHUP!)) === 0) return BLOCK;
        s.connecting = false;
        const [, e] = this.n.getsockopt(fd, K.SOL_SOCKET!, K.SO_ERROR!);
        return e === 0 ? ok(0) : fromRet(-e);
      }),
    };
  }

  private read(args: Expr[], withFlags: boolean, iovLen?: number, flagsArg?: number): Call {
    const len = iovLen ?? this.arg(args, 2, 0);
    const flags = flagsArg ?? (withFlags ? this.arg(args, 3, 0) : 0);
    return {
      wakeAt: Infinity,
      attempt: () => this.withFd(args, (fd, s) => {
        const r = this.n.recv(fd, len, flags & ~K.MSG_DONTWAIT!);
        if (isAgain(r) && !s.nonblock && !(flags & K.MSG_DONTWAIT!)) return BLOCK;
        return fromRet(r);
      }),
    };
  }

  private write(args: Expr[], withFlags: boolean, iovLen?: number, flagsArg?: number): Call {
    const len = iovLen ?? this.arg(args, 2, 0);
    const flags = flagsArg ?? (withFlags ? this.arg(args, 3, 0) : 0);
    let done = 0;
    return {
      wakeAt: Infinity,
      attempt: () => this.withFd(args, (fd, s) => {
        const nb = s.nonblock || (flags & K.MSG_DONTWAIT!) !== 0;
        if (len === 0) return fromRet(this.n.send(fd, 0, flags & ~K.MSG_DONTWAIT!));
        for (;;) {
          const r = this.n.send(fd, len - done, flags & ~K.MSG_DONTWAIT!);
          if (r > 0) { done += r; if (done === len) return ok(done); continue; }
          if (isAgain(r)) {
            if (nb) return done > 0 ? ok(done) : fromRet(r);
            return BLOCK;
          }
          return done > 0 ? ok(done) : fromRet(r);
        }
      }),
    };
  }

  private setsockopt(fd: number, args: Expr[]): CallOutcome {
    const level = this.arg(args, 1, -1);
    const name = this.arg(args, 2, -1);
    const v = args[3];
    if (v === undefined) throw new EvalError('setsockopt needs an option value');
    if (level === K.SOL_SOCKET && name === K.SO_LINGER) {
      const on = field(v, 'onoff', 'l_onoff');
      const secs = field(v, 'linger', 'l_linger');
      if (on === undefined || secs === undefined) throw new EvalError('SO_LINGER needs {onoff=N, linger=N}');
      return fromRet(this.n.setLinger(fd, evalInt(on), evalInt(secs)));
    }
    return fromRet(this.n.setsockopt(fd, level, name, evalInt(v)));
  }

  private getsockopt(fd: number, args: Expr[]): CallOutcome {
    const level = this.arg(args, 1, -1);
    const name = this.arg(args, 2, -1);
    const out = args[3];
    if (level === K.SOL_SOCKET && name === K.SO_LINGER) {
      const [r, on, secs] = this.n.getLinger(fd);
      if (r < 0) return fromRet(r);
      const eo = out === undefined ? undefined : field(out, 'onoff', 'l_onoff');
      const es = out === undefined ? undefined : field(out, 'linger', 'l_linger');
      return ok(0, checkOut(eo, on, 'l_onoff') ?? checkOut(es, secs, 'l_linger'));
    }
    const [r, v] = this.n.getsockopt(fd, level, name);
    if (r < 0) return fromRet(r);
    return ok(0, checkOut(out, v, 'optval', level === K.SOL_SOCKET && name === K.SO_ERROR ? errnoName : undefined));
  }

  private fcntl(fd: number, s: LSock, args: Expr[]): CallOutcome {
    const cmd = this.arg(args, 1, -1);
    if (cmd === K.F_GETFL) {
      const r = this.n.fcntl(fd, cmd, 0);
      return r < 0 ? fromRet(r) : ok((r & ~K.O_NONBLOCK!) | (s.nonblock ? K.O_NONBLOCK! : 0));
    }
    if (cmd === K.F_SETFL) {
      const v = this.arg(args, 2, 0);
      s.nonblock = (v & K.O_NONBLOCK!) !== 0;
      return fromRet(this.n.fcntl(fd, cmd, v | K.O_NONBLOCK!));
    }
    return fromRet(this.n.fcntl(fd, cmd, this.arg(args, 2, 0)));
  }

  private ioctl(fd: number, s: LSock, args: Expr[]): CallOutcome {
    const req = this.arg(args, 1, -1);
    if (req === K.FIONBIO) { s.nonblock = this.arg(args, 2, 0) !== 0; return ok(0); }
    const [r, v] = this.n.ioctl(fd, req);
    if (r < 0) return fromRet(r);
    return ok(0, checkOut(args[2], v, req === K.SIOCINQ ? 'SIOCINQ' : req === K.SIOCOUTQ ? 'SIOCOUTQ' : 'ioctl value'));
  }

  private poll(args: Expr[]): Call {
    const list = args[0];
    if (list === undefined || list.kind !== 'list') throw new EvalError('poll needs [{fd=N, events=…, revents=…}, …]');
    const timeoutMs = this.arg(args, 2, 0);
    const entries = list.items.map((it) => {
      const fd = field(it, 'fd');
      const ev = field(it, 'events');
      if (fd === undefined || ev === undefined) throw new EvalError('poll entries need fd= and events=');
      return { fd: this.live(fd), events: evalInt(ev), revents: field(it, 'revents') };
    });
    const call: Call = {
      wakeAt: timeoutMs < 0 ? Infinity : this.host.now() + timeoutMs * 1000,
      attempt: () => {
        const r = this.n.poll(entries.map((e) => e.fd), entries.map((e) => e.events));
        const n = r[0]!;
        if (n === 0 && (timeoutMs < 0 || this.host.now() < call.wakeAt)) return BLOCK;
        let mismatch: string | null = null;
        entries.forEach((e, i) => {
          if (mismatch !== null || e.revents === undefined || e.revents.kind === 'ellipsis') return;
          const want = evalInt(e.revents);
          const got = r[i + 1]!;
          if (want !== got) mismatch = `revents of fd ${e.fd}: expected ${flagNames(want, 'POLL')}, got ${flagNames(got, 'POLL')}`;
        });
        return fromRet(n, mismatch);
      },
    };
    return call;
  }
}
