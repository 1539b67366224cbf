// net.Socket over synack: a real stream.Duplex on top of one TCB.
//
// Backpressure is the TCP kind. Writes go into the TCB's send buffer; a write that does not
// fit waits for onWritable, so write() returns false while the send buffer is full and
// 'drain' follows when ACKs free it. Reads pull from the TCB's receive buffer only while the
// stream wants data (_read); a paused reader leaves bytes in the receive buffer, the
// advertised window shrinks to zero, and resuming reads them out, which sends a window
// update (RFC 9293 §3.8.6, RFC 1122 §4.2.3.3).
//
// The engine calls the TCB's user callbacks from inside segment processing. They only mark
// the socket for service on process.nextTick, so stream events and user code never run
// inside the engine, and in virtual time they run at the same instant, after the step
// (Simulation.runUntilAsync yields to the event loop between steps).
import { Duplex, type DuplexOptions } from 'node:stream';
import { isIPv4 } from 'node:net';
import type { Tcb } from '../tcp/tcb.js';
import type { CloseCause, TcpErrorCode, TcpState } from '../tcp/types.js';
import type { Stack } from '../stack/stack.js';
import type { NetDriver, DriverTimer } from './driver.js';
import { StackError } from '../stack/errors.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { nameLookupOf } from '../dns/names.js';
import { dnsLookupError } from '../dgram/lookup-errors.js';
import {
  errnoException, exceptionWithHostPort, lookupError, endedByOtherParty,
  ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_IP_ADDRESS, ERR_MISSING_ARGS,
  ERR_SOCKET_CLOSED, ERR_SOCKET_CLOSED_BEFORE_CONNECTION, validatePort, validateNumber, validateFunction, validateTimeout,
} from './errors.js';

/** dns.lookup-compatible resolver. */
export type LookupFunction = (
  hostname: string,
  options: { family?: number; all?: boolean },
  callback: (err: Error | null, address: string, family: number) => void,
) => void;

/** What a socket needs to know about the stack it runs on (one per attachNet). */
export interface NetContext {
  readonly stack: Stack;
  readonly driver: NetDriver;
  /** Names the default lookup resolves (IPv4 literals always resolve). */
  readonly hosts: Map<string, string>;
}

export interface SocketConstructorOpts extends DuplexOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  /** ms; like Node, rounded down to whole seconds. */
  keepAliveInitialDelay?: number;
  /** Passive sockets: do not start reading until resume()/read(). */
  pauseOnCreate?: boolean;
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
}

export interface AddressInfo { address: string; family: string; port: number }

/** Internal entry points (symbols, so they never clash with stream or user properties). */
export const kAttach = Symbol('synack.attach');
export const kServerSocketClosed = Symbol('synack.serverSocketClosed');

/** What a Server offers its sockets. */
export interface SocketOwner { [kServerSocketClosed](s: Socket): void }

// libuv's uv_tcp_keepalive sets TCP_KEEPINTVL = 1 s and TCP_KEEPCNT = 10 along with the idle time.
const KEEPALIVE_INTERVAL = 1_000_000;
const KEEPALIVE_PROBES = 10;
const READ_CHUNK = 64 * 1024;

interface WriteJob { chunks: Uint8Array[]; idx: number; off: number; cb: (err?: Error | null) => void }

/** States in which the handshake has completed (the socket is "connected"). */
function handshakeDone(s: TcpState): boolean {
  return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN-SENT' && s !== 'SYN-RECEIVED';
}

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

export class Socket extends Duplex {
  /** True between connect() and 'connect' (Node's `socket.connecting`). */
  connecting = false;
  /** The Server that accepted this socket (passive sockets). */
  server: SocketOwner | null = null;
  _server: SocketOwner | null = null;
  /** Set by setTimeout() (Node's `socket.timeout`). */
  timeout: number | undefined = undefined;

  readonly #ctx: NetContext;
  #tcb: Tcb | null = null;
  #established = false;
  #endPushed = false;
  #wantRead = false;
  #write: WriteJob | null = null;
  #serviceQueued = false;
  #closedBy: { error: TcpErrorCode | null; cause: CloseCause } | null = null;
  #bytesRead = 0;
  #bytesDispatched = 0;
  #noDelay: boolean;
  #keepAlive: boolean;
  #keepAliveDelay: number;
  #timeoutUs = 0;
  #timer: DriverTimer | null = null;
  #timerDeadline = Infinity;
  #resetAndClosing = false;
  #peer: AddressInfo | null = null;
  #local: AddressInfo | null = null;
  #remoteTarget: { address: string; port: number } | null = null;
  /** Counted as an active handle by the driver (keeps a realtime event loop alive). */
  #held = false;
  #refed = true;
  readonly #service = (): void => this.#runService();

  constructor(options: SocketConstructorOpts = {}, ctx?: NetContext) {
    if (ctx === undefined) throw new TypeError('synack: create sockets through a stack: stack.net.Socket / stack.net.connect()');
    if (options === null || typeof options !== 'object') throw ERR_INVALID_ARG_TYPE('options', 'object', options);
    if (options.keepAliveInitialDelay !== undefined) validateNumber(options.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
    super({ ...options, allowHalfOpen: Boolean(options.allowHalfOpen), emitClose: false, autoDestroy: true, objectMode: false });
    this.#ctx = ctx;
    this.#noDelay = Boolean(options.noDelay);
    this.#keepAlive = Boolean(options.keepAlive);
    this.#keepAliveDelay = Math.max(0, Math.trunc((options.keepAliveInitialDelay ?? 0) / 1000));
    // Shut the writable side when the peer's FIN has been read (Node's onReadableStreamEnd).
    this.on('end', () => { if (!this.allowHalfOpen) this.write = writeAfterFIN; });
  }

  // ---------------------------------------------------------------- properties (Node's names)

  get pending(): boolean { return this.#tcb === null || this.connecting; }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  get bytesRead(): number { return this.#bytesRead; }
  /** Bytes handed to TCP plus bytes still queued in the stream (as Node counts them). */
  get bytesWritten(): number { return this.#bytesDispatched + this.writableLength; }
  get bufferSize(): number { return this.writableLength; }

  get remoteAddress(): string | undefined { return this.#peer?.address; }
  get remotePort(): number | undefined { return this.#peer?.port; }
  get remoteFamily(): string | undefined { return this.#peer?.family; }
  get localAddress(): string | undefined { return this.#local?.address; }
  get localPort(): number | undefined { return this.#local?.port; }
  get localFamily(): string | undefined { return this.#local?.family; }

  address(): AddressInfo | Record<string, never> { return this.#local === null ? {} : { ...this.#local }; }

  /** The TCB underneath (for tables, probes and tests); null before connect and after destroy. */
  get tcb(): Tcb | null { return this.#tcb; }

  // ---------------------------------------------------------------- connect

  connect(options: TcpSocketConnectOpts, connectListener?: () => void): this;
  connect(port: number | string, host?: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, cb] = Array.isArray(args[0]) && args.length === 1 ? args[0] as [Record<string, unknown>, (() => void) | null] : normalizeArgs(args);
    if (cb !== null) this.once('connect', cb);
    if (options.path != null) throw ERR_INVALID_ARG_VALUE('options.path', options.path, 'is not supported (synack has no IPC pipes)');
    if (options.port === undefined) throw ERR_MISSING_ARGS('options', 'port', 'path');
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    if (this.destroyed) this.#reinit();
    const localAddress = options.localAddress as string | undefined;
    const localPort = options.localPort as number | undefined;
    if (localAddress && !isIPv4(localAddress)) throw ERR_INVALID_IP_ADDRESS(localAddress);
    if (localPort) validateNumber(localPort, 'options.localPort');
    let port = options.port;
    if (typeof port !== 'number' && typeof port !== 'string') throw ERR_INVALID_ARG_TYPE('options.port', ['number', 'string'], port);
    port = validatePort(port);
    const host = (options.host as string | undefined) || 'localhost';
    if (options.lookup != null) validateFunction(options.lookup, 'options.lookup');
    const lookup = (options.lookup as LookupFunction | undefined) ?? this.#defaultLookup;
    this.connecting = true;
    this.#updateHold();
    this.#activity();
    process.nextTick(() => {
      if (!this.connecting) return;
      if (isIPv4(host)) { this.#internalConnect(host, port as number, localAddress, localPort); return; }
      lookup(host, { family: 4, all: false }, (err, address) => {
        if (!this.connecting) return;
        this.emit('lookup', err, address, 4, host);
        if (err) { this.destroy(err); return; }
        this.#internalConnect(address, port as number, localAddress, localPort);
      });
    });
    return this;
  }

  readonly #defaultLookup: LookupFunction = (hostname, _opts, cb) => {
    const a = this.#ctx.hosts.get(hostname.toLowerCase());
    // Not in the hosts map: the stack's DNS resolver, when it has one (src/dns, issue 13).
    const dns = a === undefined ? nameLookupOf(this.#ctx.stack) : undefined;
    if (dns !== undefined) {
      dns(hostname, (err, addrs) => process.nextTick(() => (err === null && addrs.length > 0
        ? cb(null, formatIpv4Address(addrs[0]!), 4) : cb(dnsLookupError(err ?? 'ENOTFOUND', hostname), '', 4))));
      return;
    }
    process.nextTick(() => (a !== undefined ? cb(null, a, 4) : cb(lookupError(hostname), '', 4)));
  };

  #internalConnect(address: string, port: number, localAddress: string | undefined, localPort: number | undefined): void {
    const { stack, driver } = this.#ctx;
    this.emit('connectionAttempt', address, port, 4);
    this.#remoteTarget = { address, port };
    let tcb: Tcb;
    try {
      tcb = stack.connect({ remoteAddr: address, remotePort: port, localAddr: localAddress || undefined, localPort: localPort || undefined });
    } catch (e) {
      if (!(e instanceof StackError)) throw e;
      const bind = Boolean(localAddress || localPort) && (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL');
      this.destroy(bind
        ? exceptionWithHostPort(e.code, 'bind', localAddress || '0.0.0.0', localPort ?? 0)
        : exceptionWithHostPort(e.code, 'connect', address, port));
      return;
    }
    this.#attachTcb(tcb);
    tcb.openActive(driver.now());
  }

  /** Reconnecting a destroyed socket (Node allows it): forget the old connection. */
  #reinit(): void {
    (this as unknown as { _undestroy(): void })._undestroy();
    this.#tcb = null; this.#established = false; this.#endPushed = false; this.#wantRead = false;
    this.#write = null; this.#closedBy = null; this.#peer = null; this.#local = null; this.#resetAndClosing = false;
  }

  // ---------------------------------------------------------------- the TCB underneath

  #attachTcb(tcb: Tcb): void {
    this.#tcb = tcb;
    tcb.handle = this;
    this.#updateHold();
    const schedule = (): void => this.#schedule();
    tcb.user = {
      onEstablished: schedule,
      onReadable: schedule,
      onEnd: schedule,
      onWritable: schedule,
      onClosed: (error, cause) => { this.#closedBy = { error, cause }; this.#schedule(); },
    };
    this.#local = { address: formatIpv4Address(tcb.localAddr), family: 'IPv4', port: tcb.localPort };
    this.#peer = { address: formatIpv4Address(tcb.remoteAddr), family: 'IPv4', port: tcb.remotePort };
    tcb.noDelay = this.#noDelay;
    if (this.#keepAlive) this.#applyKeepAlive(tcb);
  }

  /** A connection accepted by a Server: already ESTABLISHED (or further). */
  [kAttach](tcb: Tcb, opts: { pauseOnCreate?: boolean } = {}): void {
    this.#attachTcb(tcb);
    this.#established = true;
    if (opts.pauseOnCreate) { (this as { readableFlowing: boolean | null }).readableFlowing = false; }
    else this.read(0);
    this.#activity();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#serviceQueued) return;
    this.#serviceQueued = true;
    process.nextTick(this.#service);
  }

  /** Everything the TCB signalled since the last turn, in Node's event order. */
  #runService(): void {
    this.#serviceQueued = false;
    const t = this.#tcb;
    if (t === null) return;
    if (this.connecting && !this.#established && handshakeDone(t.state)) this.#onConnected();
    if (this.#tcb !== t) return;
    if (this.#established) {
      this.#pull();
      // A connection that died with an error (ETIMEDOUT, ECONNRESET…) reports that error:
      // flushing the pending write into the closed TCB first would turn it into EPIPE.
      if (this.#closedBy === null || this.#closedBy.error === null) this.#flush();
    }
    if (this.#closedBy !== null && this.#tcb === t) this.#onTcbClosed(t, this.#closedBy.error, this.#closedBy.cause);
    this.#updateHold();
  }

  #onConnected(): void {
    this.connecting = false;
    this.#established = true;
    this.#activity();
    this.emit('connect');
    this.emit('ready');
    // Node's afterConnect: "Start the first read, or get an immediate EOF" — read(0) unless
    // the user paused the socket, so a socket nobody reads still sees the peer's FIN.
    if (!this.isPaused()) this.read(0);
    this.#updateHold();
  }

  #onTcbClosed(t: Tcb, error: TcpErrorCode | null, cause: CloseCause): void {
    if (this.destroyed) return;
    if (error !== null) {
      // Bytes already received are delivered first (Linux tcp_recvmsg reads the queue before sk_err).
      if (this.#established) this.#pull();
      const target = this.#remoteTarget ?? this.#peer!;
      const err = this.#established ? errnoException(error, 'read') : exceptionWithHostPort(error, 'connect', target.address, target.port);
      this.destroy(err);
      return;
    }
    if (this.#established) this.#pull();
    // Both FINs exchanged (LAST-ACK or TIME-WAIT ended): bytes a paused reader has not taken
    // yet stay readable from the closed TCB; 'end' and autoDestroy finish the socket.
    if (t.finReceived && this.writableEnded) return;
    this.destroy(cause === 'reset' ? errnoException('ECONNRESET', 'read') : undefined);
  }

  // ---------------------------------------------------------------- reading

  override _read(_size: number): void {
    this.#wantRead = true;
    if (this.#established) this.#pull();
    this.#updateHold();
  }

  /** Move in-order bytes from the TCB's receive buffer into the stream while it wants them. */
  #pull(): void {
    const t = this.#tcb;
    if (t === null) return;
    const now = this.#ctx.driver.now();
    while (this.#wantRead && this.#tcb === t && t.readable > 0) {
      const data = t.receive(Math.min(t.readable, READ_CHUNK), now);
      this.#bytesRead += data.length;
      this.#activity();
      // Node's onStreamRead: a full stream buffer stops reading (readStop) until _read.
      if (!this.push(Buffer.from(data.buffer, data.byteOffset, data.length))) this.#wantRead = false;
    }
    if (this.#tcb === t && t.finReceived && t.readable === 0 && !this.#endPushed) {
      this.#endPushed = true;
      // Node's onStreamRead on UV_EOF: push(null), then read(0), so 'end' is emitted even
      // when nobody reads (provided the stream buffer is empty), and without allowHalfOpen
      // the Duplex then ends our side and 'close' follows.
      this.push(null);
      this.read(0);
    }
    this.#updateHold();
  }

  // ---------------------------------------------------------------- writing

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#startWrite([chunk], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    // One send for the whole batch (writev(2) fills the socket buffer before TCP pushes), so
    // corked writes such as HTTP headers + body leave as full segments, not one per chunk.
    this.#startWrite(chunks.length === 1 ? [chunks[0]!.chunk] : [Buffer.concat(chunks.map((c) => c.chunk))], cb);
  }

  #startWrite(chunks: Uint8Array[], cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      // Buffered until the handshake completes, as Node does.
      const onClose = (): void => cb(ERR_SOCKET_CLOSED_BEFORE_CONNECTION());
      this.once('connect', () => { this.off('close', onClose); this.#startWrite(chunks, cb); });
      this.once('close', onClose);
      return;
    }
    if (this.#tcb === null || !this.#established) { cb(ERR_SOCKET_CLOSED()); return; }
    this.#activity();
    this.#write = { chunks, idx: 0, off: 0, cb };
    this.#flush();
    this.#updateHold();
  }

  /** Copy the pending write into the TCB's send buffer; finish it when everything fits. */
  #flush(): void {
    const t = this.#tcb;
    const w = this.#write;
    if (t === null || w === null) return;
    const now = this.#ctx.driver.now();
    while (w.idx < w.chunks.length) {
      const c = w.chunks[w.idx]!;
      const left = c.length - w.off;
      if (left > 0) {
        const n = t.send(c, now, w.off, left);
        if (n < 0) {
          this.#write = null;
          w.cb(errnoException('EPIPE', 'write'));
          return;
        }
        w.off += n;
        this.#bytesDispatched += n;
        // Short write: the TCB already grew its buffer if the windows allowed (Tcb.send).
        if (n < left) return;
      }
      w.idx++;
      w.off = 0;
    }
    this.#write = null;
    this.#activity();
    w.cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.pending && this.connecting) { this.once('connect', () => this._final(cb)); return; }
    const t = this.#tcb;
    // shutdown(SHUT_WR): FIN after the queued data (RFC 9293 §3.10.4).
    if (t !== null && t.state !== 'CLOSED') t.close(this.#ctx.driver.now(), false);
    cb();
  }

  // ---------------------------------------------------------------- closing

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.#clearTimer();
    const t = this.#tcb;
    if (t !== null) {
      const now = this.#ctx.driver.now();
      t.user = null;
      t.handle = null;
      this.#tcb = null;
      this.#local = null;
      // close(2): FIN (or RST when unread data remains, RFC 2525 §2.17); resetAndDestroy: RST.
      if (this.#resetAndClosing) t.abort(now, 'user: resetAndDestroy');
      else if (t.state !== 'CLOSED') t.close(now, true);
      const w = this.#write;
      this.#write = null;
      if (w !== null) w.cb(ERR_SOCKET_CLOSED());
    }
    this.#updateHold();
    cb(err);
    const hadError = err != null;
    process.nextTick(() => this.emit('close', hadError));
    const owner = this.server;
    if (owner !== null) owner[kServerSocketClosed](this);
  }

  /** Close at once with RST instead of FIN (SO_LINGER 0). */
  resetAndDestroy(): this {
    if (this.#tcb !== null) {
      if (this.connecting) this.once('connect', () => { this.#resetAndClosing = true; this.destroy(); });
      else { this.#resetAndClosing = true; this.destroy(); }
    } else {
      this.destroy(ERR_SOCKET_CLOSED());
    }
    return this;
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // ---------------------------------------------------------------- options

  setNoDelay(enable?: boolean): this {
    this.#noDelay = enable === undefined ? true : Boolean(enable);
    if (this.#tcb !== null) this.#tcb.noDelay = this.#noDelay;
    return this;
  }

  /** SO_KEEPALIVE with TCP_KEEPIDLE = initialDelay (whole seconds; 0 keeps tcp_keepalive_time), 1 s interval, 10 probes (as libuv sets them). */
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.#keepAlive = Boolean(enable);
    this.#keepAliveDelay = Math.max(0, Math.trunc((initialDelay ?? 0) / 1000));
    if (this.#tcb !== null) this.#applyKeepAlive(this.#tcb);
    return this;
  }

  #applyKeepAlive(t: Tcb): void {
    const now = this.#ctx.driver.now();
    if (!this.#keepAlive) { t.setKeepAlive(now, false); return; }
    const idle = this.#keepAliveDelay > 0 ? this.#keepAliveDelay * 1_000_000 : this.#ctx.stack.options.tcp_keepalive_time * 1_000_000;
    t.setKeepAlive(now, true, idle, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES);
  }

  /** Emit 'timeout' after `msecs` of inactivity (no reads, writes or connect). 0 disables. */
  setTimeout(msecs: number, callback?: () => void): this {
    const ms = validateTimeout(msecs);
    if (callback !== undefined) validateFunction(callback, 'callback');
    this.timeout = ms;
    if (this.destroyed) return this;
    this.#clearTimer();
    this.#timeoutUs = Math.round(ms * 1000);
    if (ms === 0) {
      if (callback) this.removeListener('timeout', callback);
      return this;
    }
    this.#timerDeadline = this.#ctx.driver.now() + this.#timeoutUs;
    this.#armTimer(this.#timeoutUs);
    if (callback) this.once('timeout', callback);
    return this;
  }

  #activity(): void {
    if (this.#timeoutUs === 0 || this.destroyed) return;
    this.#timerDeadline = this.#ctx.driver.now() + this.#timeoutUs;
    if (this.#timer === null) this.#armTimer(this.#timeoutUs);
  }

  #armTimer(delay: number): void {
    this.#timer = this.#ctx.driver.setTimer(delay, () => {
      this.#timer = null;
      if (this.destroyed || this.#timeoutUs === 0) return;
      const now = this.#ctx.driver.now();
      // Activity since arming moved the deadline: sleep again rather than re-arm on every byte.
      if (now < this.#timerDeadline) { this.#armTimer(this.#timerDeadline - now); return; }
      this.#timerDeadline = Infinity;
      this.emit('timeout');
    });
  }

  #clearTimer(): void {
    if (this.#timer !== null) { this.#ctx.driver.clearTimer(this.#timer); this.#timer = null; }
  }

  /** In real time an active socket keeps the event loop alive unless unref()'d (as in Node). */
  ref(): this { this.#refed = true; this.#updateHold(); return this; }
  unref(): this { this.#refed = false; this.#updateHold(); return this; }

  /**
   * libuv's rule: the loop is alive while a referenced handle is active or any request is
   * pending. A TCP handle is active while it reads (read started, not stopped by a full
   * stream buffer or by end of stream); requests are the connect (and its lookup) and a
   * write the kernel has not taken yet — those hold the loop even after unref(). So a
   * socket paused before it started reading, a half-open socket after 'end', or one whose
   * every byte is already in the send buffer does not keep the process alive
   * (docs/net.md "Process liveness").
   */
  #updateHold(): void {
    const reading = this.#tcb !== null && this.#established && this.#wantRead && !this.#endPushed;
    const request = this.connecting || (this.#tcb !== null && this.#write !== null);
    const want = !this.destroyed && (request || (this.#refed && reading));
    if (want === this.#held) return;
    this.#held = want;
    this.#ctx.driver.hold(want ? 1 : -1);
  }
}

/** Node's writeAfterFIN: after the peer's FIN (without allowHalfOpen) a write is EPIPE. */
function writeAfterFIN(this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded) return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, cb as () => void);
  const callback = typeof encoding === 'function' ? encoding : cb;
  const er = endedByOtherParty();
  if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, er);
  this.destroy(er);
  return false;
}
