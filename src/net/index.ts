// The Node `net`-compatible surface of a stack (SPEC "stack.net").
//
// The core (src/stack) stays browser-clean, so `stack.net` is not a getter in Stack: it is
// a property that attachNet() defines. After
//     attachNet(stack, sim)            // virtual time (a Simulation), or
//     attachNet(stack, realtimeDriver) // the real event loop (RealtimeNetDriver)
// `stack.net` is a module with createServer / connect / createConnection / Socket / Server,
// shaped like `require('node:net')`, so code written against Node's net runs by swapping it.
import { isIP, isIPv4, isIPv6, type NetConnectOpts as NodeNetConnectOpts } from 'node:net';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { Stack } from '../stack/stack.js';
import type { StackOptions } from '../stack/options.js';
import type { Simulation } from '../sim/simulation.js';
import { Socket } from './socket.js';
import { normalizeArgs, type NetContext, type SocketConstructorOpts, type TcpSocketConnectOpts } from './options.js';
import { Server, type ServerOpts } from './server.js';
import { toDriver, RealtimeNetDriver, type NetDriver } from './driver.js';
import { ERR_INVALID_ARG_TYPE } from './errors.js';
import { AutoSelectDefaults, BlockList, SocketAddress, callableClass, _setSimultaneousAccepts } from './surface.js';

export interface NetModule {
  readonly stack: Stack;
  readonly driver: NetDriver;
  /** `new net.Socket(options)` bound to this stack. */
  readonly Socket: new (options?: SocketConstructorOpts) => Socket;
  /** `new net.Server(options, listener)` bound to this stack. */
  readonly Server: new (options?: ServerOpts | ((s: Socket) => void), listener?: (s: Socket) => void) => Server;
  createServer(listener?: (socket: Socket) => void): Server;
  createServer(options?: ServerOpts, listener?: (socket: Socket) => void): Server;
  connect(options: TcpSocketConnectOpts | NodeNetConnectOpts, connectListener?: () => void): Socket;
  connect(port: number | string, host?: string, connectListener?: () => void): Socket;
  connect(port: number | string, connectListener?: () => void): Socket;
  /**
   * The shape of http.request's and http.Agent's `createConnection` (as @types/node declares
   * Agent.createConnection, whose runtime value is net.createConnection): http passes its
   * request options (the URL path already cleared) and a callback, which — as in Node — is a
   * 'connect' listener; http also takes the returned socket at once.
   */
  connect(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Socket;
  createConnection: NetModule['connect'];
  /** Names the default lookup resolves (host name → IPv4), like /etc/hosts. */
  readonly hosts: Map<string, string>;
  isIP: typeof isIP;
  isIPv4: typeof isIPv4;
  isIPv6: typeof isIPv6;
  /** Node's alias of Socket. */
  readonly Stream: NetModule['Socket'];
  readonly BlockList: typeof BlockList;
  readonly SocketAddress: typeof SocketAddress;
  getDefaultAutoSelectFamily(): boolean;
  setDefaultAutoSelectFamily(value: boolean): void;
  getDefaultAutoSelectFamilyAttemptTimeout(): number;
  setDefaultAutoSelectFamilyAttemptTimeout(value: number): void;
  /** Deprecated in Node (DEP0121); a no-op. */
  _setSimultaneousAccepts(requested?: boolean): void;
}

export interface AttachNetOptions {
  /** Host names the default lookup resolves, e.g. { 'server.test': '198.18.0.2' }. */
  hosts?: Record<string, string>;
}

declare module '../stack/stack.js' {
  interface Stack {
    /** Node's `net` API over this stack; defined by attachNet(stack, driver). */
    readonly net: NetModule;
  }
}

export interface LoopbackNetOptions extends AttachNetOptions {
  /** Stack options, named like Linux sysctls (src/stack/options.ts). */
  options?: Partial<StackOptions>;
  /** The real-time driver to run the stack on (default: a new one). */
  driver?: RealtimeNetDriver;
}

/**
 * `createNet()`: a ready `net` module over a new real-time stack that has only its loopback
 * interface (127.0.0.1/8) — `require('node:net')` semantics for programs that talk to
 * themselves, without the kernel. `net.stack` is the stack (for traces, tables, counters).
 *
 * `createNet(stack, driver)`: the net module for an existing stack without touching the
 * stack object (attachNet also defines `stack.net`).
 */
export function createNet(opts?: LoopbackNetOptions): NetModule;
export function createNet(stack: Stack, driverOrSim: NetDriver | Simulation, opts?: AttachNetOptions): NetModule;
export function createNet(first?: Stack | LoopbackNetOptions, driverOrSim?: NetDriver | Simulation, opts: AttachNetOptions = {}): NetModule {
  if (first instanceof Stack) {
    if (driverOrSim === undefined) throw ERR_INVALID_ARG_TYPE('driver', 'object', driverOrSim);
    return buildNet(first, driverOrSim, opts);
  }
  const o = first ?? {};
  const driver = o.driver ?? new RealtimeNetDriver();
  const stack = new Stack({ clock: driver.clock, options: o.options, name: 'localhost' });
  return attachNet(stack, driver, o);
}

function buildNet(stack: Stack, driverOrSim: NetDriver | Simulation, opts: AttachNetOptions): NetModule {
  const driver = toDriver(driverOrSim);
  driver.addStack(stack);
  // Every stack has lo (src/stack/loopback.ts), so 'localhost' resolves as /etc/hosts has it.
  const hosts = new Map<string, string>([['localhost', '127.0.0.1']]);
  for (const [k, v] of Object.entries(opts.hosts ?? {})) hosts.set(k.toLowerCase(), v);
  const auto = new AutoSelectDefaults();
  const ctx: NetContext = { stack, driver, hosts, autoSelect: auto };

  class BoundSocket extends Socket {
    constructor(options?: SocketConstructorOpts) { super(options ?? {}, ctx); }
  }
  Object.defineProperty(BoundSocket, 'name', { value: 'Socket' });

  class BoundServer extends Server {
    constructor(options?: ServerOpts | ((s: Socket) => void), listener?: (s: Socket) => void) {
      if (typeof options === 'function') { listener = options; options = {}; }
      else if (options === undefined || options === null) options = {};
      else if (typeof options !== 'object') throw ERR_INVALID_ARG_TYPE('options', 'object', options);
      super(ctx, BoundSocket, options, listener);
    }
  }
  Object.defineProperty(BoundServer, 'name', { value: 'Server' });

  function createServer(options?: ServerOpts | ((s: Socket) => void), listener?: (s: Socket) => void): Server {
    return new BoundServer(options, listener);
  }

  function connect(...args: unknown[]): Socket {
    const normalized = normalizeArgs(args);
    const options = normalized[0];
    const socket = new BoundSocket(options as SocketConstructorOpts);
    if (options.timeout) socket.setTimeout(options.timeout as number);
    return socket.connect(normalized as unknown as TcpSocketConnectOpts);
  }

  const SocketCtor = callableClass(BoundSocket);
  return {
    stack, driver, hosts,
    Socket: SocketCtor,
    Stream: SocketCtor,
    Server: callableClass(BoundServer),
    BlockList, SocketAddress, _setSimultaneousAccepts,
    getDefaultAutoSelectFamily: auto.getDefaultAutoSelectFamily,
    setDefaultAutoSelectFamily: auto.setDefaultAutoSelectFamily as (v: boolean) => void,
    getDefaultAutoSelectFamilyAttemptTimeout: auto.getDefaultAutoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout: auto.setDefaultAutoSelectFamilyAttemptTimeout as (v: number) => void,
    createServer: createServer as NetModule['createServer'],
    connect: connect as NetModule['connect'],
    createConnection: connect as NetModule['connect'],
    isIP, isIPv4, isIPv6,
  };
}

/**
 * Give `stack` its `stack.net` (idempotent: a second call returns the same module). The
 * driver polls the stack: a Simulation (virtual time) or a RealtimeNetDriver (event loop).
 */
export function attachNet(stack: Stack, driverOrSim: NetDriver | Simulation, opts: AttachNetOptions = {}): NetModule {
  const existing = Object.getOwnPropertyDescriptor(stack, 'net');
  if (existing !== undefined) {
    const m = existing.value as NetModule;
    for (const [k, v] of Object.entries(opts.hosts ?? {})) m.hosts.set(k.toLowerCase(), v);
    return m;
  }
  const m = buildNet(stack, driverOrSim, opts);
  Object.defineProperty(stack, 'net', { value: m, enumerable: false, configurable: true, writable: false });
  return m;
}

export { Socket, Server };
export type { SocketConstructorOpts, TcpSocketConnectOpts, ServerOpts };
export type { AddressInfo, LookupFunction, NetContext } from './options.js';
export type { ListenOptions } from './server.js';
export {
  SimulationDriver, RealtimeNetDriver, simulationDriver, realtimeTwoHosts, toDriver, runUntilSettled,
  type NetDriver, type DriverTimer, type UntilOptions, type RealtimeNetDriverOptions, type RealtimeHostsOptions, type RealtimeHosts,
} from './driver.js';
export type { SystemError } from './errors.js';
