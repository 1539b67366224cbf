// Linux errno names and numbers for scripts: the stack's table (src/stack/errors.ts) plus
// the few more a socket layer reports, and the aliases scripts use.
import { ERRNO } from '../stack/errors.js';

const EXTRA: Readonly<Record<string, number>> = {
  ESRCH: 3, ENXIO: 6, E2BIG: 7, ENOTTY: 25, ESPIPE: 29, ERANGE: 34, ENOSYS: 38, ENOTEMPTY: 39,
  EPROTOTYPE: 91, ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ENETRESET: 102, ETOOMANYREFS: 109,
};

const ALIASES: Readonly<Record<string, string>> = { EWOULDBLOCK: 'EAGAIN', ENOTSUP: 'EOPNOTSUPP', EDEADLOCK: 'EDEADLK' };

/** Linux errno number for a name (aliases resolved), or undefined. */
export function errnoNumber(name: string): number | undefined {
  const n = ALIASES[name] ?? name;
  return ERRNO[n] ?? EXTRA[n];
}

/** Canonical name (EWOULDBLOCK → EAGAIN). */
export function canonicalErrno(name: string): string {
  return ALIASES[name] ?? name;
}

const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', EBADF: 'Bad file descriptor', EAGAIN: 'Resource temporarily unavailable',
  EINVAL: 'Invalid argument', EPIPE: 'Broken pipe', ENOTSOCK: 'Socket operation on non-socket',
  ENOPROTOOPT: 'Protocol not available', EOPNOTSUPP: 'Operation not supported', EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use', EADDRNOTAVAIL: 'Cannot assign requested address', ENETUNREACH: 'Network is unreachable',
  ECONNABORTED: 'Software caused connection abort', ECONNRESET: 'Connection reset by peer', EISCONN: 'Transport endpoint is already connected',
  ENOTCONN: 'Transport endpoint is not connected', ETIMEDOUT: 'Connection timed out', ECONNREFUSED: 'Connection refused',
  EHOSTUNREACH: 'No route to host', EALREADY: 'Operation already in progress', EINPROGRESS: 'Operation now in progress',
  EPROTONOSUPPORT: 'Protocol not supported', EFAULT: 'Bad address', ENOTTY: 'Inappropriate ioctl for device',
};

/** strerror()-style text, for messages. */
export function errnoText(name: string): string {
  return STRERROR[canonicalErrno(name)] ?? name;
}

/** Name of a Linux errno number (the canonical one), or null. */
export function errnoNameOf(n: number): string | null {
  for (const [k, v] of Object.entries(ERRNO)) if (v === n) return k;
  for (const [k, v] of Object.entries(EXTRA)) if (v === n) return k;
  return null;
}
