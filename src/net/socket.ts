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
import { Duplex, addAbortSignal } from 'node:stream';
import { isIP, isIPv4 } from 'node:net';
import type { Tcb } from '../tcp/tcb.js';
import type { CloseCause, TcpErrorCode, TcpState } from '../tcp/types.js';
import type { DriverTimer } from './driver.js';
import { StackError } from '../stack/errors.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import {
  errnoException, exceptionWithHostPort, endedByOtherParty,
  ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_IP_ADDRESS, ERR_MISSING_ARGS,
  ERR_SOCKET_CLOSED, ERR_SOCKET_CLOSED_BEFORE_CONNECTION, validatePort, validateNumber, validateFunction, validateTimeout, validateAbortSignal,
} from './errors.js';
import { lookupAndConnect } from './connect.js';
import { TCPHandle } from './handle.js';
import { normalizeArgs, type AddressInfo, type NetContext, type OnReadOpts, type SocketConstructorOpts, type TcpSocketConnectOpts } from './options.js';

/** Internal entry points (symbols, so they never clash with stream or user properties). */
export const kAttach = Symbol('synack.attach');
export const kServerSocketClosed = Symbol('synack.serverSocketClosed');

/** What a Server offers its sockets. */
export interface SocketOwner { [kServerSocketClosed](s: Socket): void }

// libuv's uv_tcp_keepalive sets TCP_KEEPINTVL = 1 s and TCP_KEEPCNT = 10 along with the idle time.
const KEEPALIVE_INTERVAL = 1_000_000;
const KEEPALIVE_PROBES = 10;
const READ_CHUNK = 64 * 1024;
/**
 * At most this much is taken out of the TCB between two service turns (libuv's uv__read
 * reads up to 32 times per wakeup): beyond it the bytes stay in the receive buffer and its
 * window closes as before.
 */
const TAKE_MAX = 32 * READ_CHUNK;

interface WriteJob { chunks: Uint8Array[]; idx: number; off: number; cb: (err?: Error | null) => void }

/** States in which the handshake has completed (the socket is "connected"). */
function handshakeDone(s: TcpState): boolean {
  return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN-SENT' && s !== 'SYN-RECEIVED';
}


export class Socket extends Duplex {
  /** True between connect() and 'connect' (Node's `socket.connecting`). */
  connecting = false;
  /** The Server that accepted this socket (passive sockets). */
  server: SocketOwner | null = null;
  _server: SocketOwner | null = null;
  /** Node sets it when it tried several addresses (autoSelectFamily); undefined otherwise. */
  declare autoSelectFamilyAttemptedAddresses: string[];
  /** Set by setTimeout() (Node's `socket.timeout`). */
  timeout: number | undefined = undefined;
  /** Node sets it when the `signal` option aborted. */
  _aborted = false;

  readonly #ctx: NetContext;
  #tcb: Tcb | null = null;
  /** Node's `_handle`: from connect() (or accept) until destroy. */
  #handle: TCPHandle | null = null;
  /** The `onread` option: the buffer reads go into, its generator, and the callback. */
  #onread: { buf: Uint8Array; gen: (() => Uint8Array) | null; cb: OnReadOpts['callback'] } | null = null;
  #established = false;
  #endPushed = false;
  #wantRead = false;
  /**
   * Bytes taken out of the TCB as they arrived (#take), not yet pushed: full chunks, then
   * the chunk being filled (`#acc`, bytes [#accStart, #accLen) not yet pushed).
   */
  #taken: Buffer[] = [];
  #takenBytes = 0;
  #acc: Buffer | null = null;
  #accStart = 0;
  #accLen = 0;
  #write: WriteJob | null = null;
  #serviceQueued = false;
  /** 'connect' already waited its one tick behind the server's accept (see #runService). */
  #connectDeferred = false;
  #closedBy: { error: TcpErrorCode | null; cause: CloseCause } | null = null;
  #bytesRead = 0;
  /** Bytes of the writes handed to TCP (whole writes, as Node's _bytesDispatched counts what reached libuv). */
  #bytesDispatched = 0;
  /** Bytes of the write in progress (still counted in writableLength until its callback). */
  #jobBytes = 0;
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
    // Node: a net.Socket is a byte stream; object modes are rejected.
    for (const k of ['objectMode', 'readableObjectMode', 'writableObjectMode'] as const) {
      if (options[k]) throw ERR_INVALID_ARG_VALUE(`options.${k}`, options[k], 'is not supported');
    }
    // `signal` is applied below, once the private fields exist (Duplex would apply it inside super()).
    super({ ...options, signal: undefined, allowHalfOpen: Boolean(options.allowHalfOpen), emitClose: false, autoDestroy: true, objectMode: false });
    this.#ctx = ctx;
    this.#noDelay = Boolean(options.noDelay);
    this.#keepAlive = Boolean(options.keepAlive);
    this.#keepAliveDelay = Math.max(0, Math.trunc((options.keepAliveInitialDelay ?? 0) / 1000));
    const onread = options.onread as { buffer?: unknown; callback?: unknown } | null | undefined;
    if (onread !== null && typeof onread === 'object' && (onread.buffer instanceof Uint8Array || typeof onread.buffer === 'function') &&
        typeof onread.callback === 'function') {
      const gen = typeof onread.buffer === 'function' ? onread.buffer as () => Uint8Array : null;
      this.#onread = { buf: gen === null ? onread.buffer as Uint8Array : new Uint8Array(0), gen, cb: onread.callback as OnReadOpts['callback'] };
    }
    // As Node's Duplex constructor: stream.addAbortSignal destroys the socket with an
    // AbortError when the signal aborts (at once if it already has); net.Socket also marks
    // itself _aborted, a tick later (addClientAbortSignalOption).
    if (options.signal) {
      const signal = options.signal;
      addAbortSignal(signal, this);
      validateAbortSignal(signal, 'options.signal');
      const onAbort = (): void => { this._aborted = true; };
      if (signal.aborted) process.nextTick(onAbort);
      else process.nextTick(() => signal.addEventListener('abort', onAbort, { once: true }));
    }
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

  /** Node's private flag (some libraries read it). */
  get _connecting(): boolean { return #ctx in this ? this.connecting : false; }

  get bytesRead(): number { return #bytesRead in this ? this.#bytesRead : 0; }
  /**
   * Bytes handed to TCP plus bytes still queued in the stream (as Node counts them). Read on
   * the prototype (no socket) it is undefined, as Node's getter returns, never a throw.
   */
  get bytesWritten(): number {
    // On the prototype Node's getter gives undefined; @types/node (and so this type) says number.
    if (!(#bytesDispatched in this)) return undefined as unknown as number;
    return this.#bytesDispatched + this.writableLength - this.#jobBytes;
  }
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

  /** Node's `_handle` (src/net/handle.ts): null before connect() and after destroy. */
  get _handle(): TCPHandle | null { return #handle in this ? this.#handle : null; }

  #openHandle(): void {
    if (this.#handle !== null) return;
    this.#handle = new TCPHandle({
      reading: () => this.#wantRead,
      setReading: (v) => { this.#wantRead = v; },
      // libuv delivers reads in the poll phase, after this tick's nextTicks (resume()'s own
      // read(0) among them), so an onread reader started here reads on a later turn.
      readStart: () => { this.#wantRead = true; if (this.#onread !== null) setImmediate(() => this.#schedule()); else this.#schedule(); },
      readStop: () => { this.#wantRead = false; this.#updateHold(); },
      bytesRead: () => this.#bytesRead,
      bytesWritten: () => this.#bytesDispatched,
      sockname: () => this.#local,
      peername: () => (this.#established ? this.#peer : null),
    });
    // Node's initSocketHandle: a buffer function gives the first buffer now.
    const o = this.#onread;
    if (o !== null && o.gen !== null) { const b = o.gen(); if (b instanceof Uint8Array) o.buf = b; }
  }

  // ---------------------------------------------------------------- connect

  // Node's overloads, in Node's order (so a Socket is assignable where net.Socket is expected).
  connect(options: TcpSocketConnectOpts | import('node:net').SocketConnectOpts, connectListener?: () => void): this;
  connect(port: number | string, host: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  connect(path: string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, cb] = Array.isArray(args[0]) && args.length === 1 ? args[0] as [Record<string, unknown>, (() => void) | null] : normalizeArgs(args);
    if (cb !== null) this.once('connect', cb);
    if (options.path != null) throw ERR_INVALID_ARG_VALUE('options.path', options.path, 'is not supported (synack has no IPC pipes)');
    if (options.port === undefined) throw ERR_MISSING_ARGS('options', 'port', 'path');
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    if (this.destroyed) this.#reinit();
    this.#openHandle();
    this.#activity();
    const localAddress = options.localAddress as string | undefined;
    const localPort = options.localPort as number | undefined;
    if (localAddress && !isIP(localAddress)) throw ERR_INVALID_IP_ADDRESS(localAddress);
    if (localPort) validateNumber(localPort, 'options.localPort');
    const rawPort = options.port;
    if (typeof rawPort !== 'number' && typeof rawPort !== 'string') throw ERR_INVALID_ARG_TYPE('options.port', ['number', 'string'], rawPort);
    const port = validatePort(rawPort);
    const host = (options.host as string | undefined) || 'localhost';
    this.connecting = true;
    this.#updateHold();
    try {
      // The lookup runs synchronously here, as in Node (a custom lookup may answer at once).
      lookupAndConnect(this, { host, port, localAddress, localPort, options }, this.#ctx,
        (ip) => this.#internalConnect(ip, port, localAddress, localPort));
    } catch (e) {
      // Invalid lookup options (dns.lookup throws them): no connect request is left pending.
      this.connecting = false;
      this.#updateHold();
      throw e;
    }
    return this;
  }

  /** Node's internalConnect: bind (when a local address or port is given), 'connectionAttempt', connect. */
  #internalConnect(address: string, port: number, localAddress: string | undefined, localPort: number | undefined): void {
    const { stack, driver } = this.#ctx;
    if (localAddress && !isIPv4(localAddress)) {
      this.destroy(exceptionWithHostPort('EAFNOSUPPORT', 'bind', localAddress, localPort ?? 0));
      return;
    }
    if (localPort) {
      // bind(2) with SO_REUSEADDR (libuv sets it) still fails on a port a listener owns
      // (Linux inet_csk_bind_conflict: a LISTEN socket always conflicts).
      const want = localAddress || '0.0.0.0';
      const taken = stack.listeners().some((l) => l.localPort === localPort &&
        (want === '0.0.0.0' || l.localAddr === 0 || formatIpv4Address(l.localAddr) === want));
      if (taken) { this.destroy(exceptionWithHostPort('EADDRINUSE', 'bind', want, localPort)); return; }
    }
    this.emit('connectionAttempt', address, port, 4);
    // destroy() from a 'connectionAttempt' listener: no TCB is created, nothing is sent.
    if (!this.connecting || this.destroyed) return;
    const busy = this.#tcb;
    if (busy !== null) {
      // A second connect() on the same handle: libuv's uv_tcp_connect says EALREADY while
      // the first is in progress (EISCONN once connected); Node reports it with the local end.
      const local = `${formatIpv4Address(busy.localAddr)}:${busy.localPort}`;
      this.destroy(exceptionWithHostPort(this.#established ? 'EISCONN' : 'EALREADY', 'connect', address, port, local));
      return;
    }
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
    this.#write = null; this.#closedBy = null; this.#peer = null; this.#local = null; this.#resetAndClosing = false; this.#handle = null;
    this.#bytesRead = 0; this.#bytesDispatched = 0; this.#jobBytes = 0;
    this.#taken = []; this.#takenBytes = 0; this.#acc = null; this.#accStart = 0; this.#accLen = 0;
  }

  // ---------------------------------------------------------------- the TCB underneath

  #attachTcb(tcb: Tcb): void {
    this.#tcb = tcb;
    tcb.handle = this;
    this.#updateHold();
    const schedule = (): void => this.#schedule();
    tcb.user = {
      onEstablished: schedule,
      onReadable: () => { this.#take(); this.#schedule(); },
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
    this.#openHandle();
    this.#attachTcb(tcb);
    this.#established = true;
    // Reset while it waited in the accept queue (Listener.keepClosedChildren): the first read reports it.
    if (tcb.state === 'CLOSED') this.#closedBy = { error: tcb.error, cause: tcb.error === null ? 'normal' : 'reset' };
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
    if (this.connecting && !this.#established && handshakeDone(t.state)) {
      // Node on loopback reports the server's 'connection' before the client's 'connect':
      // the kernel completes the whole handshake inside connect(2), and libuv only adds the
      // client's fd to epoll afterwards, so the listener is first on the ready list. Here the
      // client's SYN-ACK is processed before the server's final ACK, so 'connect' waits one
      // more tick, behind the server's accept (Server#acceptAll, also a nextTick).
      if (!this.#connectDeferred) { this.#connectDeferred = true; this.#schedule(); return; }
      this.#onConnected();
    }
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
    this.#connectDeferred = false;
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

  /**
   * Data arrived (the TCB's onReadable, inside its input processing): while the stream
   * wants data, copy it out of the TCB at once into the chunk the next 'data' will carry —
   * straight from the segment when the TCB holds it there (ReceiveBuffer.pend: one copy
   * instead of two, issue 16), as libuv reads into its buffer as soon as the socket is
   * readable. The chunks are pushed on the service turn (#pull), in order, before anything
   * still in the TCB.
   */
  #take(): void {
    const t = this.#tcb;
    if (t === null || !this.#established || !this.#wantRead || this.#onread !== null || this.destroyed) return;
    while (this.#takenBytes < TAKE_MAX && t.readable > 0) {
      let acc = this.#acc;
      if (acc === null) { acc = this.#acc = Buffer.allocUnsafe(READ_CHUNK); this.#accStart = 0; this.#accLen = 0; }
      // The TCB's own clock: we are inside its processing of a segment.
      const n = t.receiveInto(acc, this.#accLen, READ_CHUNK - this.#accLen, t.now);
      if (n === 0) break;
      this.#accLen += n;
      this.#takenBytes += n;
      if (this.#accLen === READ_CHUNK) {
        this.#taken.push(this.#accStart === 0 ? acc : acc.subarray(this.#accStart));
        this.#acc = null;
      }
    }
  }

  /** Push what #take took, oldest first, while the stream wants it. Returns whether all of it went. */
  #pushTaken(): boolean {
    while (this.#wantRead && this.#taken.length > 0) {
      const b = this.#taken.shift()!;
      this.#takenBytes -= b.length;
      this.#bytesRead += b.length;
      if (!this.push(b)) this.#wantRead = false;
    }
    if (this.#wantRead && this.#taken.length === 0 && this.#acc !== null && this.#accLen > this.#accStart) {
      // The rest of the chunk keeps filling after this view (pushed bytes are never rewritten).
      const b = this.#acc.subarray(this.#accStart, this.#accLen);
      this.#accStart = this.#accLen;
      this.#takenBytes -= b.length;
      this.#bytesRead += b.length;
      if (!this.push(b)) this.#wantRead = false;
    }
    return this.#takenBytes === 0;
  }

  /** Move in-order bytes from the TCB's receive buffer into the stream while it wants them. */
  #pull(): void {
    const t = this.#tcb;
    if (t === null) return;
    const now = this.#ctx.driver.now();
    if (this.#onread !== null) { this.#pullInto(t, now); return; }
    if (this.#takenBytes > 0) {
      this.#activity();
      if (!this.#pushTaken()) { this.#updateHold(); return; }
    }
    while (this.#wantRead && this.#tcb === t && t.readable > 0) {
      // Like libuv's read into a fresh, uninitialised buffer (Node's onStreamRead): no zero
      // fill (new Uint8Array zeroes ~75 ns per KiB here: issue 16), one copy out of the TCB.
      const want = Math.min(t.readable, READ_CHUNK);
      const buf = Buffer.allocUnsafe(want);
      const n = t.receiveInto(buf, 0, want, now);
      this.#bytesRead += n;
      this.#activity();
      // Node's onStreamRead: a full stream buffer stops reading (readStop) until _read.
      if (!this.push(n === want ? buf : buf.subarray(0, n))) this.#wantRead = false;
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

  /**
   * The `onread` option (Node's onStreamRead with a user buffer): each read fills the user's
   * buffer from its start and calls callback(nread, buf) instead of pushing; a callback that
   * returns false stops reading (readStop) until resume() or read(). A buffer function gives
   * the next buffer after every read. End of stream is seen only while reading, as from libuv.
   */
  #pullInto(t: Tcb, now: number): void {
    const o = this.#onread!;
    while (this.#wantRead && this.#tcb === t && t.readable > 0 && o.buf.length > 0 && !this.destroyed) {
      // Straight into the user's buffer (no intermediate array).
      const n = t.receiveInto(o.buf, 0, Math.min(t.readable, o.buf.length), now);
      this.#bytesRead += n;
      this.#activity();
      const more = o.cb.call(this, n, o.buf) !== false;
      if (o.gen !== null) { const next = o.gen(); if (next instanceof Uint8Array) o.buf = next; }
      if (!more) this.#wantRead = false;
    }
    if (this.#wantRead && this.#tcb === t && t.finReceived && t.readable === 0 && !this.#endPushed) {
      this.#endPushed = true;
      this.push(null);
      this.read(0);
    }
    this.#updateHold();
  }

  /** Node: with `onread`, pause/resume/read stop and start the handle's reading directly. */
  override pause(): this {
    if (this.#onread !== null && !this.connecting && this.#handle !== null && this.#wantRead) {
      this.#wantRead = false;
      this.#updateHold();
    }
    return super.pause();
  }

  override resume(): this {
    if (#onread in this && this.#onread !== null && !this.connecting && this.#handle !== null && !this.#wantRead) this.#handle.readStart();
    return super.resume();
  }

  override read(n?: number): unknown {
    if (#onread in this && this.#onread !== null && !this.connecting && this.#handle !== null && !this.#wantRead) this.#handle.readStart();
    return super.read(n);
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
    let total = 0;
    for (const c of chunks) total += c.length;
    this.#bytesDispatched += total;
    this.#jobBytes = total;
    const done = cb;
    cb = (err) => { this.#jobBytes = 0; done(err); };
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
    // Node's _final: "If still connecting - defer handling `_final` until 'connect' will
    // happen" — and a socket that never connected (no handle) is pending too, so
    // `new Socket().end(cb)` never finishes, as in Node.
    if (this.pending) { this.once('connect', () => this._final(cb)); return; }
    const t = this.#tcb;
    // shutdown(SHUT_WR): FIN after the queued data (RFC 9293 §3.10.4).
    if (t !== null && t.state !== 'CLOSED') t.close(this.#ctx.driver.now(), false);
    cb();
  }

  // ---------------------------------------------------------------- closing

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.#clearTimer();
    // Node: a socket with a handle emits 'close' with hadError once the handle is closed; one
    // without (never connected) emits 'close' with no argument (emitCloseNT).
    const handle = this.#handle;
    this.#handle = null;
    handle?.close();
    const t = this.#tcb;
    let pending: WriteJob | null = null;
    if (t !== null) {
      const now = this.#ctx.driver.now();
      t.user = null;
      t.handle = null;
      this.#tcb = null;
      this.#local = null;
      // close(2): FIN (or RST when unread data remains, RFC 2525 §2.17); resetAndDestroy: RST.
      if (this.#resetAndClosing) t.abort(now, 'user: resetAndDestroy');
      else if (t.state !== 'CLOSED') t.close(now, true);
      pending = this.#write;
      this.#write = null;
    }
    this.#updateHold();
    cb(err);
    // A write the TCB had not taken completes without an error after the 'error' event, as
    // in Node: libuv cancels it when the handle closes and onWriteComplete calls back with
    // null on a destroyed stream (measured on Node 20.20, test/net/errors-linux.test.ts).
    if (pending !== null) { const w = pending; process.nextTick(() => w.cb(null)); }
    const hadError = err != null;
    // Node counts the connection off its server here (a server 'close' it unblocks is queued
    // first) and emits the socket's 'close' when the handle has closed, a turn later.
    const owner = this.server;
    if (owner !== null) owner[kServerSocketClosed](this);
    process.nextTick(() => (handle !== null ? this.emit('close', hadError) : this.emit('close')));
  }

  /** Close at once with RST instead of FIN (SO_LINGER 0). */
  resetAndDestroy(): this {
    if (this.#handle !== null) {
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
