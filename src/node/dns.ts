// `stack.dns`: the parts of Node's `dns` module a program on synack needs — lookup (as
// net.connect uses it), resolve4, and their promise forms — answered by synack's stub
// resolver (src/dns/resolver.ts) through the stack's UDP/TCP. Node only.
import { isIPv4 } from 'node:net';
import type { Stack } from '../stack/stack.js';
import type { Simulation } from '../sim/simulation.js';
import { toDriver, type NetDriver } from '../net/driver.js';
import { DnsResolver, type ResolverOptions } from '../dns/resolver.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { dnsLookupError } from '../dgram/lookup-errors.js';
import { ERRNO } from '../stack/errors.js';

export interface LookupAddress { address: string; family: 4 }
type LookupCb = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

export interface DnsModule {
  readonly resolver: DnsResolver;
  /** dns.lookup(hostname[, options], callback): options.all gives every address. */
  lookup(hostname: string, callback: LookupCb): void;
  lookup(hostname: string, options: number | { family?: number; all?: boolean }, callback: LookupCb): void;
  /** dns.resolve4(hostname, callback) with Node's resolver error codes (ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT). */
  resolve4(hostname: string, callback: (err: Error | null, addresses: string[]) => void): void;
  getServers(): string[];
  readonly promises: {
    lookup(hostname: string, options?: number | { family?: number; all?: boolean }): Promise<LookupAddress | LookupAddress[]>;
    resolve4(hostname: string): Promise<string[]>;
  };
}

declare module '../stack/stack.js' {
  interface Stack {
    /** Node's `dns` (lookup, resolve4) over synack's resolver; defined by attachDns(stack, driver, { servers }). */
    readonly dns: DnsModule;
  }
}

/** Node's dnsException for the resolver API: `queryA ENOTFOUND name`. */
function resolveError(code: string, hostname: string): Error {
  const e = new Error(`queryA ${code} ${hostname}`) as Error & { code: string; errno: number | undefined; syscall: string; hostname: string };
  e.code = code; e.errno = ERRNO[code] !== undefined ? -ERRNO[code]! : undefined; e.syscall = 'queryA'; e.hostname = hostname;
  return e;
}

export function attachDns(stack: Stack, driverOrSim: NetDriver | Simulation, o: ResolverOptions): DnsModule {
  const existing = Object.getOwnPropertyDescriptor(stack, 'dns');
  if (existing !== undefined) return existing.value as DnsModule;
  const driver = toDriver(driverOrSim);
  driver.addStack(stack);
  const resolver = new DnsResolver(stack, o);
  const kicked = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A): void => { fn(...a); driver.kick(); };

  function lookup(hostname: string, options: unknown, callback?: LookupCb): void {
    if (typeof options === 'function') { callback = options as LookupCb; options = {}; }
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    const cb = callback!;
    if (isIPv4(hostname)) { process.nextTick(() => (all ? cb(null, [{ address: hostname, family: 4 }]) : cb(null, hostname, 4))); return; }
    kicked(() => resolver.lookup(hostname, (err, addrs) => process.nextTick(() => {
      if (err !== null || addrs.length === 0) { cb(dnsLookupError(err ?? 'ENOTFOUND', hostname), all ? [] : '', 4); return; }
      if (all) cb(null, addrs.map((a) => ({ address: formatIpv4Address(a), family: 4 as const })));
      else cb(null, formatIpv4Address(addrs[0]!), 4);
    })))();
  }

  function resolve4(hostname: string, callback: (err: Error | null, addresses: string[]) => void): void {
    kicked(() => resolver.lookup(hostname, (err, addrs) => process.nextTick(() => {
      if (err !== null) callback(resolveError(err, hostname), []);
      else callback(null, addrs.map(formatIpv4Address));
    })))();
  }

  const m: DnsModule = {
    resolver,
    lookup: lookup as DnsModule['lookup'],
    resolve4,
    getServers: () => resolver.servers.map(formatIpv4Address),
    promises: {
      lookup: (hostname, options) => new Promise((res, rej) => lookup(hostname, options ?? {}, (e, a, f) => (e ? rej(e) : res(typeof a === 'string' ? { address: a, family: (f ?? 4) as 4 } : a)))),
      resolve4: (hostname) => new Promise((res, rej) => resolve4(hostname, (e, a) => (e ? rej(e) : res(a)))),
    },
  };
  Object.defineProperty(stack, 'dns', { value: m, enumerable: false, configurable: true, writable: false });
  return m;
}
