// The Node `dgram`-compatible surface of a stack: `stack.dgram` (Node only).
//
// After attachDgram(stack, sim) (virtual time) or attachDgram(stack, realtimeDriver),
// `stack.dgram` has createSocket and Socket shaped like `require('node:dgram')`, so code
// written against Node's dgram runs by swapping the module. Names resolve through the
// stack's DNS resolver when one is installed (src/dns), else through `stack.net.hosts`.
import { isIPv4 } from 'node:net';
import type { Stack } from '../stack/stack.js';
import type { Simulation } from '../sim/simulation.js';
import { toDriver, type NetDriver } from '../net/driver.js';
import { lookupError } from '../net/errors.js';
import { udpOf } from '../udp/layer.js';
import { nameLookupOf } from '../dns/names.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { UdpHandle, type DgramLookup } from './handle.js';
import { Socket, type SocketOptions, type RemoteInfo, type BindOptions, type HandleFactory } from './socket.js';
import { dnsLookupError } from './lookup-errors.js';

export interface DgramModule {
  readonly stack: Stack;
  readonly driver: NetDriver;
  createSocket(type: 'udp4' | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void): Socket;
  /** `new dgram.Socket(type, listener)` bound to this stack. */
  readonly Socket: new (type: 'udp4' | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) => Socket;
}

declare module '../stack/stack.js' {
  interface Stack {
    /** Node's `dgram` API over this stack; defined by attachDgram(stack, driver). */
    readonly dgram: DgramModule;
  }
}

/**
 * dns.lookup-like resolution for `stack`: IPv4 literals as they are, then the stack's DNS
 * resolver (src/dns) if installed, then `stack.net.hosts` if attachNet was called.
 */
export function stackLookup(stack: Stack): DgramLookup {
  return (hostname, _options, cb) => {
    if (isIPv4(hostname)) { process.nextTick(cb, null, hostname, 4); return; }
    const name = hostname.toLowerCase();
    const hosts = (Object.getOwnPropertyDescriptor(stack, 'net')?.value as { hosts?: Map<string, string> } | undefined)?.hosts;
    const h = hosts?.get(name);
    if (h !== undefined) { process.nextTick(cb, null, h, 4); return; }
    const dns = nameLookupOf(stack);
    if (dns !== undefined) {
      dns(name, (err, addrs) => process.nextTick(() => {
        if (err !== null || addrs.length === 0) cb(dnsLookupError(err ?? 'ENOTFOUND', hostname), '', 4);
        else cb(null, formatIpv4Address(addrs[0]!), 4);
      }));
      return;
    }
    process.nextTick(cb, lookupError(hostname), '', 4);
  };
}

export function createDgram(stack: Stack, driverOrSim: NetDriver | Simulation): DgramModule {
  const driver = toDriver(driverOrSim);
  driver.addStack(stack);
  const udp = udpOf(stack);
  const defaultLookup = stackLookup(stack);
  const factory: HandleFactory = (lookup) => new UdpHandle(udp, driver, lookup ?? defaultLookup);

  class BoundSocket extends Socket {
    constructor(type: 'udp4' | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) { super(type, listener, factory); }
  }
  Object.defineProperty(BoundSocket, 'name', { value: 'Socket' });

  return {
    stack, driver, Socket: BoundSocket,
    createSocket: (type, listener) => new BoundSocket(type, listener),
  };
}

/** Give `stack` its `stack.dgram` (idempotent). */
export function attachDgram(stack: Stack, driverOrSim: NetDriver | Simulation): DgramModule {
  const existing = Object.getOwnPropertyDescriptor(stack, 'dgram');
  if (existing !== undefined) return existing.value as DgramModule;
  const m = createDgram(stack, driverOrSim);
  Object.defineProperty(stack, 'dgram', { value: m, enumerable: false, configurable: true, writable: false });
  return m;
}

export { Socket };
export type { SocketOptions, RemoteInfo, BindOptions, DgramLookup };
