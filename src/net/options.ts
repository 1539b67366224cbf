// The option and context types of synack's `net` (Node's names), and Node's argument
// normalisation for connect()/listen().
import type { DuplexOptions } from 'node:stream';
import type { Stack } from '../stack/stack.js';
import type { NetDriver } from './driver.js';

/** dns.lookup-compatible resolver. */
export type LookupFunction = import('node:net').LookupFunction;

/** What a socket needs to know about the stack it runs on (one per attachNet). */
export interface NetContext {
  readonly stack: Stack;
  readonly driver: NetDriver;
  /** Names the default lookup resolves (IPv4 literals always resolve). */
  readonly hosts: Map<string, string>;
  /** The module's autoSelectFamily default (net.setDefaultAutoSelectFamily). */
  readonly autoSelect?: { readonly family: boolean };
}

/** Node's `onread` option: read into the user's buffer and call back instead of emitting 'data'. */
export interface OnReadOpts {
  buffer: Uint8Array | (() => Uint8Array);
  /** Return false to stop reading (as pause() does) until resume()/read(). */
  callback(bytesWritten: number, buf: Uint8Array): boolean;
}

export interface SocketConstructorOpts extends DuplexOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  /** ms; like Node, rounded down to whole seconds. */
  keepAliveInitialDelay?: number;
  /** Passive sockets: do not start reading until resume()/read(). */
  pauseOnCreate?: boolean;
  onread?: OnReadOpts;
  signal?: AbortSignal;
}

export interface TcpSocketConnectOpts {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  lookup?: LookupFunction;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
  allowHalfOpen?: boolean;
  hints?: number;
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
  onread?: OnReadOpts;
  signal?: AbortSignal;
}

export interface AddressInfo { address: string; family: string; port: number }

/** Node's normalizeArgs: ([port][, host][, cb]) or (options[, cb]) → [options, cb]. */
export function normalizeArgs(args: unknown[]): [Record<string, unknown>, ((...a: unknown[]) => void) | null] {
  if (args.length === 0) return [{}, null];
  const a0 = args[0];
  let options: Record<string, unknown> = {};
  if (typeof a0 === 'object' && a0 !== null) options = a0 as Record<string, unknown>;
  else {
    options.port = a0;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  return [options, typeof cb === 'function' ? cb as (...a: unknown[]) => void : null];
}
