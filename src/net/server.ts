// net.Server over synack: a LISTEN-state Listener (SYN queue + accept queue, listener.ts)
// whose accepted connections become Sockets, with Node's events and options.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { Listener } from '../tcp/listener.js';
import type { Tcb } from '../tcp/tcb.js';
import { StackError } from '../stack/errors.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { Socket, kAttach, kServerSocketClosed } from './socket.js';
import { normalizeArgs, type NetContext, type SocketConstructorOpts, type AddressInfo } from './options.js';
import {
  uvExceptionWithHostPort, lookupError,
  ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_SERVER_ALREADY_LISTEN, ERR_SERVER_NOT_RUNNING, validatePort, validateFunction, validateAbortSignal,
} from './errors.js';

export interface ServerOpts {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

export interface ListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  path?: string;
  signal?: AbortSignal;
}

export type SocketFactory = new (o?: SocketConstructorOpts) => Socket;

export class Server extends EventEmitter {
  /** Above this many connections new ones are closed and reported with 'drop' (0/undefined: no limit). */
  // Node leaves it undefined until set; @types/node types it number (so a Server is a net.Server).
  maxConnections: number = undefined as unknown as number;
  readonly allowHalfOpen: boolean;
  readonly pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
  highWaterMark: number | undefined;

  readonly #ctx: NetContext;
  readonly #SocketClass: SocketFactory;
  #listener: Listener | null = null;
  #connections = 0;
  #acceptQueued = false;
  #listening = false;
  readonly #sockets = new Set<Socket>();
  #held = false;
  #refed = true;

  constructor(ctx: NetContext, SocketClass: SocketFactory, options: ServerOpts = {}, listener?: (s: Socket) => void) {
    super();
    this.#ctx = ctx;
    this.#SocketClass = SocketClass;
    this.allowHalfOpen = Boolean(options.allowHalfOpen);
    this.pauseOnConnect = Boolean(options.pauseOnConnect);
    this.noDelay = Boolean(options.noDelay);
    this.keepAlive = Boolean(options.keepAlive);
    this.keepAliveInitialDelay = Math.trunc((options.keepAliveInitialDelay ?? 0) / 1000) * 1000;
    this.highWaterMark = options.highWaterMark;
    if (listener !== undefined) this.on('connection', listener);
  }

  get listening(): boolean { return this.#listening; }
  /** Node's private key of the listening address (`4:0.0.0.0:80`), read by some libraries (cluster). */
  _connectionKey: string | undefined = undefined;
  /** Deprecated in Node (DEP0020) but still there: the connection count. */
  get connections(): number { return this.#connections; }
  /** Node's private counter, read by some libraries. */
  get _connections(): number { return this.#connections; }
  /** The Listener underneath (SYN and accept queues), null when not listening. */
  get listener(): Listener | null { return this.#listener; }

  // Node's overloads, in Node's order (so a Server is assignable where net.Server is expected).
  listen(port?: number | string, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number | string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, listeningListener?: () => void): this;
  listen(path: string, backlog?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  // synack has no handles (it throws), but the types stay Node's.
  listen(handle: any, backlog?: number, listeningListener?: () => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  listen(handle: any, listeningListener?: () => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  listen(...args: unknown[]): this {
    const [opts, cb] = normalizeArgs(args);
    const options: Record<string, unknown> = { ...opts };
    if (this.#listener !== null) throw ERR_SERVER_ALREADY_LISTEN();
    if (cb !== null) this.once('listening', cb);
    const toNumber = (x: unknown): number | false => { const n = Number(x); return n >= 0 ? n : false; };
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    this.#addAbortSignal(options.signal);
    // listen(), listen(cb), listen(null) or { port: undefined | null }: any free port (as Node).
    if (args.length === 0 || typeof args[0] === 'function' || (options.port === undefined && 'port' in options) || options.port === null) options.port = 0;
    if (typeof options.port === 'number' || typeof options.port === 'string') {
      const port = validatePort(options.port, 'options.port');
      const backlog = (options.backlog as number | undefined) || backlogFromArgs || undefined;
      const host = options.host;
      if (host !== undefined && host !== null && typeof host !== 'string') throw ERR_INVALID_ARG_TYPE('hostname', 'string', host);
      if (!host || host === '::' || host === '0.0.0.0') this.#listenOn('0.0.0.0', port, backlog);
      else if (isIPv4(host)) this.#listenOn(host, port, backlog);
      else {
        const a = this.#ctx.hosts.get(host.toLowerCase());
        if (a === undefined) process.nextTick(() => this.emit('error', lookupError(host)));
        else this.#listenOn(a, port, backlog);
      }
      return this;
    }
    // Node's isPipeName: a string that is not a number. Anything else (path: -1) is invalid.
    if (typeof options.path === 'string' && options.path !== '' && Number.isNaN(Number(options.path))) {
      throw ERR_INVALID_ARG_VALUE('options', options, 'is not supported: synack has no IPC pipes');
    }
    if (!('port' in options) && !('path' in options)) throw ERR_INVALID_ARG_VALUE('options', options, 'must have the property "port" or "path"');
    throw ERR_INVALID_ARG_VALUE('options', options);
  }

  /** Node's addServerAbortSignalOption: an abort closes the server (no error). */
  #addAbortSignal(signal: unknown): void {
    if (signal === undefined) return;
    validateAbortSignal(signal, 'options.signal');
    const onAborted = (): void => { this.close(); };
    if (signal.aborted) { process.nextTick(onAborted); return; }
    signal.addEventListener('abort', onAborted, { once: true });
    this.once('close', () => signal.removeEventListener('abort', onAborted));
  }

  /**
   * Node's Server.prototype[EventEmitter.captureRejectionSymbol]: with captureRejections, a
   * rejected async 'connection' listener destroys that socket with the error; any other
   * event's rejection is the server's 'error'.
   */
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string | symbol, ...args: unknown[]): void {
    if (event === 'connection') (args[0] as Socket).destroy(err);
    else this.emit('error', err);
  }

  #listenOn(address: string, port: number, backlog: number | undefined): void {
    let l: Listener;
    try {
      // Node's net.Server sets SO_REUSEADDR on Linux: libuv's uv__tcp_bind() calls
      // setsockopt(SO_REUSEADDR, 1) before every TCP bind on Unix, so a restarted Node server
      // rebinds a port its previous incarnation left in TIME-WAIT (checked on Linux 6.x: Node
      // relistens, a plain socket without SO_REUSEADDR gets EADDRINUSE). So does ours.
      l = this.#ctx.stack.listen({ addr: address === '0.0.0.0' ? undefined : address, port, backlog: backlog ?? 511, reuseAddr: true });
    } catch (e) {
      if (!(e instanceof StackError)) throw e;
      process.nextTick(() => this.emit('error', uvExceptionWithHostPort(e.code, 'listen', address, port)));
      return;
    }
    l.keepClosedChildren = true;
    this.#listener = l;
    this.#listening = true;
    this._connectionKey = `4:${address}:${port}`; // the port asked for (0 stays 0), as Node keys it
    this.#updateHold();
    l.onAcceptable = () => {
      // Called from inside segment processing: accept on the next tick, outside the engine.
      if (this.#acceptQueued) return;
      this.#acceptQueued = true;
      process.nextTick(() => this.#acceptAll());
    };
    process.nextTick(() => { if (this.#listener === l) this.emit('listening'); });
  }

  #acceptAll(): void {
    this.#acceptQueued = false;
    const l = this.#listener;
    if (l === null) return;
    for (let t: Tcb | null; (t = l.accept()) !== null;) {
      if (this.maxConnections && this.#connections >= this.maxConnections) {
        this.emit('drop', {
          localAddress: formatIpv4Address(t.localAddr), localPort: t.localPort, localFamily: 'IPv4',
          remoteAddress: formatIpv4Address(t.remoteAddr), remotePort: t.remotePort, remoteFamily: 'IPv4',
        });
        t.close(this.#ctx.driver.now(), true);
        continue;
      }
      const s = new this.#SocketClass({
        allowHalfOpen: this.allowHalfOpen,
        noDelay: this.noDelay,
        keepAlive: this.keepAlive,
        keepAliveInitialDelay: this.keepAliveInitialDelay,
        ...(this.highWaterMark !== undefined ? { readableHighWaterMark: this.highWaterMark, writableHighWaterMark: this.highWaterMark } : {}),
      });
      s[kAttach](t, { pauseOnCreate: this.pauseOnConnect });
      this.#connections++;
      this.#sockets.add(s);
      s.server = this;
      s._server = this;
      this.emit('connection', s);
    }
  }

  [kServerSocketClosed](s: Socket): void {
    if (!this.#sockets.delete(s)) return;
    this.#connections--;
    this.#emitCloseIfDrained();
  }

  address(): AddressInfo | null {
    const l = this.#listener;
    if (l === null) return null;
    return { address: formatIpv4Address(l.localAddr), family: 'IPv4', port: l.localPort };
  }

  /** Stop accepting; 'close' follows once every accepted connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (this.#listener === null) this.once('close', () => cb(ERR_SERVER_NOT_RUNNING()));
      else this.once('close', cb);
    }
    const l = this.#listener;
    if (l !== null) {
      this.#listener = null;
      this.#listening = false;
      this.#updateHold();
      // Linux inet_csk_listen_stop: connections not yet accepted are reset.
      this.#ctx.stack.closeListener(l);
    }
    this.#emitCloseIfDrained();
    return this;
  }

  #emitCloseIfDrained(): void {
    if (this.#listener !== null || this.#connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    validateFunction(cb, 'cb');
    const n = this.#connections;
    process.nextTick(cb, null, n);
    return this;
  }

  /** In real time a listening server keeps the event loop alive unless unref()'d (as in Node). */
  ref(): this { this.#refed = true; this.#updateHold(); return this; }
  unref(): this { this.#refed = false; this.#updateHold(); return this; }

  #updateHold(): void {
    const want = this.#refed && this.#listener !== null;
    if (want === this.#held) return;
    this.#held = want;
    this.#ctx.driver.hold(want ? 1 : -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#listener === null) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}
