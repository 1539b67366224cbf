// Errors with Node-style `code`, `errno` (negative, as libuv reports it) and `syscall`.

/** Linux errno numbers for the codes synack reports. */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze({
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17,
  EINVAL: 22, EMFILE: 24, ENOSPC: 28, EPIPE: 32, ENONET: 64, EPROTO: 71, ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93, EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100,
  ENETUNREACH: 101, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108,
  ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
});

const MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  EADDRINUSE: 'address already in use', EADDRNOTAVAIL: 'address not available', ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer', ETIMEDOUT: 'connection timed out', EPIPE: 'broken pipe',
  ENETUNREACH: 'network is unreachable', EHOSTUNREACH: 'host is unreachable', ECONNABORTED: 'connection aborted',
  EINVAL: 'invalid argument', ENOTCONN: 'socket is not connected', EAGAIN: 'resource temporarily unavailable',
  ENOPROTOOPT: 'protocol not available', EPROTO: 'protocol error', EMSGSIZE: 'message too long', EHOSTDOWN: 'host is down',
  EOPNOTSUPP: 'operation not supported on socket', ENONET: 'machine is not on the network',
});

export class StackError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  address?: string;
  port?: number;
  constructor(code: string, syscall: string, detail?: string) {
    const msg = `${syscall} ${code}${detail ? ' ' + detail : ''}`;
    super(msg);
    this.name = 'Error';
    this.code = code;
    this.errno = -(ERRNO[code] ?? 0);
    this.syscall = syscall;
  }
}

export function errnoMessage(code: string): string {
  return MESSAGES[code] ?? code;
}
