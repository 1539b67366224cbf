// dns.lookup's errors as Node builds them from getaddrinfo results (lib/internal/errors.js
// dnsException): `getaddrinfo ENOTFOUND name`, `getaddrinfo EAI_AGAIN name`.
import type { SystemError } from '../net/errors.js';

/** libuv's UV_EAI_* numbers as Node reports them in err.errno. */
const EAI_ERRNO: Record<string, number> = { ENOTFOUND: -3008, EAI_AGAIN: -3001, EAI_FAIL: -3002, ESERVFAIL: -3002, ENODATA: -3008 };

export function dnsLookupError(code: string, hostname: string): SystemError & { hostname: string } {
  // getaddrinfo has no SERVFAIL: glibc maps it to EAI_AGAIN (try again later); NODATA to ENOTFOUND.
  const c = code === 'ESERVFAIL' || code === 'ETIMEOUT' || code === 'ECONNREFUSED' ? 'EAI_AGAIN' : code === 'ENODATA' ? 'ENOTFOUND' : code;
  const e = new Error(`getaddrinfo ${c} ${hostname}`) as SystemError & { hostname: string };
  e.errno = EAI_ERRNO[c] ?? -3008;
  e.code = c;
  e.syscall = 'getaddrinfo';
  e.hostname = hostname;
  return e;
}
