// Name lookup before a connect, as Node's lib/net.js lookupAndConnect does it (Node 20):
// the lookup function is called synchronously from connect() with Node's options
// ({ family, hints } — `all: true` when auto-selecting a family), its answer is checked, the
// 'lookup' event carries what it gave, and a bad answer becomes an 'error' (never a throw out
// of a callback). synack is IPv4-only: of several addresses it connects to the first IPv4 one
// (Node would race the families, RFC 8305); an IPv6-only answer fails with ENETUNREACH, as a
// Linux host without an IPv6 route reports.
//
// The default lookup is synack's dns.lookup: the stack's hosts map, then its DNS resolver
// (src/dns), with dns.lookup's argument validation (invalid hints throw
// ERR_INVALID_ARG_VALUE, a bad family ERR_INVALID_ARG_VALUE, as Node's dns.lookup throws
// them synchronously out of net.connect()).
import { isIP, type LookupFunction } from 'node:net';
import * as dns from 'node:dns';
import type { NetContext } from './options.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { nameLookupOf } from '../dns/names.js';
import { dnsLookupError } from '../dgram/lookup-errors.js';
import {
  lookupError, exceptionWithHostPort, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_IP_ADDRESS,
  ERR_INVALID_ADDRESS_FAMILY, validateNumber, validateFunction, validateBoolean,
} from './errors.js';

/** What lookupAndConnect needs from the socket. */
export interface ConnectTarget {
  readonly connecting: boolean;
  emit(event: string, ...args: unknown[]): boolean;
  destroy(err?: Error): unknown;
  autoSelectFamilyAttemptedAddresses?: string[];
}

export interface ConnectPlan {
  host: string;
  port: number;
  localAddress: string | undefined;
  localPort: number | undefined;
  options: Record<string, unknown>;
}

type Connect = (ip: string, addressType: number) => void;

function socketToDnsFamily(family: unknown): unknown {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return family;
}

/** Node's lookupAndConnect from the lookup on (the port and local address are already validated). */
export function lookupAndConnect(self: ConnectTarget, plan: ConnectPlan, ctx: NetContext, connect: Connect): void {
  const { host, options, localAddress } = plan;
  let autoSelectFamily = options.autoSelectFamily as boolean | undefined;
  if (autoSelectFamily != null) validateBoolean(autoSelectFamily, 'options.autoSelectFamily');
  else autoSelectFamily = ctx.autoSelect?.family ?? true;
  const attemptTimeout = options.autoSelectFamilyAttemptTimeout;
  if (attemptTimeout != null) {
    validateNumber(attemptTimeout, 'options.autoSelectFamilyAttemptTimeout', 1, 2 ** 31 - 1);
    if (!Number.isInteger(attemptTimeout)) throw ERR_INVALID_ARG_TYPE('options.autoSelectFamilyAttemptTimeout', 'number', attemptTimeout);
  }
  const addressType = isIP(host);
  if (addressType !== 0) {
    process.nextTick(() => { if (self.connecting) connect(host, addressType); });
    return;
  }
  if (options.lookup != null) validateFunction(options.lookup, 'options.lookup');
  const dnsopts: { family: unknown; hints: number; all?: boolean } = { family: socketToDnsFamily(options.family), hints: (options.hints as number) || 0 };
  if (dnsopts.family !== 4 && dnsopts.family !== 6 && dnsopts.hints === 0) dnsopts.hints = dns.ADDRCONFIG;
  const lookup = (options.lookup as LookupFunction | undefined) ?? defaultLookup(ctx);
  const fail = (err: Error): void => { process.nextTick(() => self.destroy(err)); };

  if (dnsopts.family !== 4 && dnsopts.family !== 6 && !localAddress && autoSelectFamily) {
    dnsopts.all = true;
    lookup(host, dnsopts as dns.LookupAllOptions, ((err: Error | null, addresses: dns.LookupAddress[]) => {
      if (!self.connecting) return;
      if (err) { self.emit('lookup', err, undefined, undefined, host); fail(err); return; }
      let first4: dns.LookupAddress | undefined;
      let first6: dns.LookupAddress | undefined;
      for (const a of addresses) {
        self.emit('lookup', err, a.address, a.family, host);
        if (!self.connecting) return;
        if (isIP(a.address) && (a.family === 4 || a.family === 6)) {
          if (a.family === 4) first4 ??= a; else first6 ??= a;
        }
      }
      if (first4 === undefined && first6 === undefined) {
        const f = addresses[0];
        if (f === undefined) return; // Node does nothing either (the socket stays connecting)
        if (!isIP(f.address)) fail(ERR_INVALID_IP_ADDRESS(f.address));
        else fail(ERR_INVALID_ADDRESS_FAMILY(f.family, options.host as string, options.port as number));
        return;
      }
      if (first4 === undefined) { fail(exceptionWithHostPort('ENETUNREACH', 'connect', first6!.address, plan.port)); return; }
      connect(first4.address, 4);
    }) as unknown as Parameters<LookupFunction>[2]);
    return;
  }

  lookup(host, dnsopts as dns.LookupOneOptions, (err, ip, family) => {
    self.emit('lookup', err, ip, family, host);
    if (!self.connecting) return;
    if (err) fail(err);
    else if (typeof ip !== 'string' || !isIP(ip)) fail(ERR_INVALID_IP_ADDRESS(ip));
    else if (family !== 4 && family !== 6) fail(ERR_INVALID_ADDRESS_FAMILY(family, options.host as string, options.port as number));
    else if (family === 6) fail(exceptionWithHostPort('ENETUNREACH', 'connect', ip, plan.port));
    else connect(ip, 4);
  });
}

/** dns.lookup's validation of (hostname, options) (Node's lib/dns.js lookup). */
function validateLookupOptions(hostname: unknown, options: Record<string, unknown>): { all: boolean } {
  if (hostname && typeof hostname !== 'string') throw ERR_INVALID_ARG_TYPE('hostname', 'string', hostname);
  if (options.hints != null) {
    validateNumber(options.hints, 'options.hints');
    const hints = options.hints >>> 0;
    if ((hints & ~(dns.ADDRCONFIG | dns.ALL | dns.V4MAPPED)) !== 0) throw ERR_INVALID_ARG_VALUE('hints', hints);
  }
  if (options.family != null && options.family !== 'IPv4' && options.family !== 'IPv6' &&
      options.family !== 0 && options.family !== 4 && options.family !== 6) {
    throw ERR_INVALID_ARG_VALUE('options.family', options.family, 'must be one of: 0, 4, 6');
  }
  if (options.all != null) validateBoolean(options.all, 'options.all');
  return { all: options.all === true };
}

/** synack's dns.lookup for one stack: the hosts map, then the stack's DNS resolver. */
export function defaultLookup(ctx: NetContext): LookupFunction {
  return ((hostname: string, options: Record<string, unknown>, cb: (err: Error | null, a?: unknown, f?: number) => void) => {
    const { all } = validateLookupOptions(hostname, options ?? {});
    const answer = (err: Error | null, address?: string): void => {
      if (err !== null) cb(err, undefined, undefined);
      else if (all) cb(null, [{ address, family: 4 }]);
      else cb(null, address, 4);
    };
    const a = ctx.hosts.get(hostname.toLowerCase()) ?? (isIP(hostname) === 4 ? hostname : undefined);
    const resolve = a === undefined ? nameLookupOf(ctx.stack) : undefined;
    if (resolve !== undefined) {
      resolve(hostname, (err, addrs) => process.nextTick(() => (err === null && addrs.length > 0
        ? answer(null, formatIpv4Address(addrs[0]!)) : answer(dnsLookupError(err ?? 'ENOTFOUND', hostname)))));
      return;
    }
    process.nextTick(() => (a !== undefined ? answer(null, a) : answer(lookupError(hostname))));
  }) as unknown as LookupFunction;
}
