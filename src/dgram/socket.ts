// dgram.Socket over synack: Node's lib/dgram.js (v20) followed step by step — bind states,
// the send queue while binding, connect states, argument handling of every send() overload,
// which errors are thrown, emitted or passed to callbacks — with UdpHandle in place of the
// libuv handle. Only udp4 exists (synack has no IPv6), and there is no cluster or fd support.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { UdpHandle, AddressOut, DgramLookup } from './handle.js';
import {
  ERR_SOCKET_ALREADY_BOUND, ERR_SOCKET_DGRAM_IS_CONNECTED, ERR_SOCKET_DGRAM_NOT_CONNECTED, ERR_SOCKET_DGRAM_NOT_RUNNING,
  ERR_SOCKET_BAD_BUFFER_SIZE, ERR_SOCKET_BAD_TYPE, ERR_BUFFER_OUT_OF_BOUNDS, ERR_INVALID_BUFFER_ARG, ERR_SOCKET_BUFFER_SIZE,
  errnoException, exceptionWithHostPort,
} from './errors.js';
import { ERR_INVALID_ARG_TYPE, validatePort, validateFunction } from '../net/errors.js';

const BIND_STATE_UNBOUND = 0, BIND_STATE_BINDING = 1, BIND_STATE_BOUND = 2;
const CONNECT_STATE_DISCONNECTED = 0, CONNECT_STATE_CONNECTING = 1, CONNECT_STATE_CONNECTED = 2;

export interface SocketOptions {
  type: 'udp4' | string;
  reuseAddr?: boolean;
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  lookup?: DgramLookup;
  signal?: AbortSignal;
}

export interface BindOptions { port?: number; address?: string; exclusive?: boolean; fd?: number }
export interface RemoteInfo { address: string; family: 'IPv4'; port: number; size: number }
type SendCallback = (error: Error | null, bytes?: number) => void;
type MsgArg = string | NodeJS.ArrayBufferView | ReadonlyArray<string | NodeJS.ArrayBufferView>;

interface State {
  handle: UdpHandle | null;
  receiving: boolean;
  bindState: number;
  connectState: number;
  queue: Array<() => void> | undefined;
  reuseAddr: boolean | undefined;
  recvBufferSize: number | undefined;
  sendBufferSize: number | undefined;
}

/** Creates the handle of a new socket (bound to one stack by attachDgram). */
export type HandleFactory = (lookup: DgramLookup | undefined) => UdpHandle;

const kState = Symbol('synack.dgram.state');
const kFactory = Symbol('synack.dgram.factory');

function validateUint32(value: unknown, name: string): void {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    const e = new RangeError(`The value of "${name}" is out of range. It must be >= 0 && <= 4294967295. Received ${String(value)}`) as RangeError & { code: string };
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
}

function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw ERR_INVALID_ARG_TYPE(name, 'string', value);
}

function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value);
}

function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Buffer {
  let b: ArrayBufferView;
  if (typeof buffer === 'string') b = Buffer.from(buffer);
  else if (!ArrayBuffer.isView(buffer)) throw ERR_INVALID_BUFFER_ARG('buffer', buffer);
  else b = buffer;
  const off = (offset as number) >>> 0;
  const len = (length as number) >>> 0;
  if (off > b.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('offset');
  if (off + len > b.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('length');
  return Buffer.from(b.buffer, b.byteOffset + off, len);
}

function fixBufferList(list: readonly unknown[]): Buffer[] | null {
  const out: Buffer[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const b = list[i];
    if (typeof b === 'string') out[i] = Buffer.from(b);
    else if (!ArrayBuffer.isView(b)) return null;
    else out[i] = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  return out;
}

export class Socket extends EventEmitter {
  readonly type: string;
  [kState]: State;

  constructor(type: string | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void, factory?: HandleFactory) {
    super();
    if (factory === undefined) throw new TypeError('synack: create datagram sockets through a stack: stack.dgram.createSocket()');
    let lookup: DgramLookup | undefined;
    let recvBufferSize: number | undefined;
    let sendBufferSize: number | undefined;
    let options: SocketOptions | undefined;
    if (type !== null && typeof type === 'object') {
      options = type;
      type = options.type;
      lookup = options.lookup;
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
      recvBufferSize = options.recvBufferSize;
      sendBufferSize = options.sendBufferSize;
    }
    if (type !== 'udp4') throw ERR_SOCKET_BAD_TYPE();
    if (lookup !== undefined) validateFunction(lookup, 'lookup');
    const handle = factory(lookup);
    this.type = type;
    if (typeof listener === 'function') this.on('message', listener);
    this[kState] = {
      handle, receiving: false, bindState: BIND_STATE_UNBOUND, connectState: CONNECT_STATE_DISCONNECTED,
      queue: undefined, reuseAddr: options?.reuseAddr, recvBufferSize, sendBufferSize,
    };
    if (options?.signal !== undefined) {
      const { signal } = options;
      const onAborted = (): void => { if (this[kState].handle) this.close(); };
      if (signal.aborted) onAborted();
      else {
        signal.addEventListener('abort', onAborted, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAborted));
      }
    }
  }

  bind(port?: number | BindOptions | null | (() => void), address?: string | (() => void), callback?: () => void): this;
  bind(...args: unknown[]): this {
    let port = args[0] as unknown;
    const address_ = args[1];
    healthCheck(this);
    const state = this[kState];
    if (state.bindState !== BIND_STATE_UNBOUND) throw ERR_SOCKET_ALREADY_BOUND();
    state.bindState = BIND_STATE_BINDING;
    const cb = args.length > 0 && args[args.length - 1];
    if (typeof cb === 'function') {
      const removeListeners = (): void => {
        this.removeListener('error', removeListeners);
        this.removeListener('listening', onListening);
      };
      const onListening = (): void => { removeListeners(); (cb as () => void).call(this); };
      this.on('error', removeListeners);
      this.on('listening', onListening);
    }
    if (port !== null && typeof port === 'object' && Number.isInteger((port as BindOptions).fd) && (port as BindOptions).fd! > 0) {
      throw ERR_INVALID_ARG_TYPE('options.fd', 'undefined', (port as BindOptions).fd); // synack has no file descriptors
    }
    let address: string;
    if (port !== null && typeof port === 'object') {
      address = (port as BindOptions).address || '';
      port = (port as BindOptions).port;
    } else {
      address = typeof address_ === 'function' ? '' : (address_ as string);
    }
    if (!address) address = '0.0.0.0';
    state.handle!.lookup(address, (err, ip) => {
      if (!state.handle) return;
      if (err) {
        state.bindState = BIND_STATE_UNBOUND;
        this.emit('error', err);
        return;
      }
      const e = state.handle.bind(ip, (port as number) || 0, Boolean(state.reuseAddr));
      if (e) {
        const ex = exceptionWithHostPort(e, 'bind', ip, port as number);
        state.bindState = BIND_STATE_UNBOUND;
        this.emit('error', ex);
        return;
      }
      startListening(this);
    });
    return this;
  }

  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    port = validatePort(port, 'Port', false);
    if (typeof address === 'function') { callback = address; address = ''; }
    else if (address === undefined) address = '';
    validateString(address, 'address');
    const state = this[kState];
    if (state.connectState !== CONNECT_STATE_DISCONNECTED) throw ERR_SOCKET_DGRAM_IS_CONNECTED();
    state.connectState = CONNECT_STATE_CONNECTING;
    if (state.bindState === BIND_STATE_UNBOUND) this.bind({ port: 0, exclusive: true }, null as unknown as string);
    if (state.bindState !== BIND_STATE_BOUND) {
      enqueue(this, () => doConnectLookup(this, port, address as string, callback));
      return;
    }
    doConnectLookup(this, port, address, callback);
  }

  disconnect(): void {
    const state = this[kState];
    if (state.connectState !== CONNECT_STATE_CONNECTED) throw ERR_SOCKET_DGRAM_NOT_CONNECTED();
    const err = state.handle!.disconnect();
    if (err) throw errnoException(err, 'connect');
    state.connectState = CONNECT_STATE_DISCONNECTED;
  }

  /** Legacy wrapper, as in Node. */
  sendto(buffer: MsgArg, offset: number, length: number, port: number, address: string, callback?: SendCallback): void {
    validateNumber(offset, 'offset');
    validateNumber(length, 'length');
    validateNumber(port, 'port');
    validateString(address, 'address');
    this.send(buffer, offset, length, port, address, callback);
  }

  send(msg: MsgArg, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: MsgArg, port?: number, callback?: SendCallback): void;
  send(msg: MsgArg, callback?: SendCallback): void;
  send(msg: MsgArg, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: MsgArg, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: MsgArg, offset: number, length: number, callback?: SendCallback): void;
  send(...a: unknown[]): void {
    let [buffer, offset, length, port, address, callback] = a as [unknown, unknown, unknown, unknown, unknown, unknown];
    let list: Buffer[] | null;
    const state = this[kState];
    const connected = state.connectState === CONNECT_STATE_CONNECTED;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceBuffer(buffer, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceBuffer(buffer, offset, length);
        if (typeof port === 'function') { callback = port; port = null; }
      } else {
        callback = offset;
      }
      if (port || address) throw ERR_SOCKET_DGRAM_IS_CONNECTED();
    }
    if (!Array.isArray(buffer)) {
      if (typeof buffer === 'string') list = [Buffer.from(buffer)];
      else if (!ArrayBuffer.isView(buffer)) throw ERR_INVALID_BUFFER_ARG('buffer', buffer);
      else list = [buffer as Buffer];
    } else if (!(list = fixBufferList(buffer))) {
      throw ERR_INVALID_BUFFER_ARG('buffer list arguments', buffer);
    }
    if (!connected) port = validatePort(port, 'Port', false);
    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') { callback = address; address = undefined; }
    else if (address != null) validateString(address, 'address');
    healthCheck(this);
    if (state.bindState === BIND_STATE_UNBOUND) this.bind({ port: 0, exclusive: true }, null as unknown as string);
    if (list.length === 0) list.push(Buffer.alloc(0));
    if (state.bindState !== BIND_STATE_BOUND) {
      const l = list, p = port, ad = address, cb = callback;
      enqueue(this, () => (this.send as (...x: unknown[]) => void)(l, p, ad, cb));
      return;
    }
    const afterDns = (ex: Error | null, ip: string | null): void => {
      doSend(ex, this, ip, list!, address as string | undefined, port as number | undefined, callback as SendCallback | undefined);
    };
    if (!connected) state.handle!.lookup(address as string, afterDns);
    else afterDns(null, null);
  }

  close(callback?: () => void): this {
    const state = this[kState];
    const queue = state.queue;
    if (typeof callback === 'function') this.on('close', callback);
    if (queue !== undefined) {
      queue.push(() => this.close());
      return this;
    }
    healthCheck(this);
    stopReceiving(this);
    state.handle!.close();
    state.handle = null;
    process.nextTick(() => this.emit('close'));
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this[kState].handle) return;
    await new Promise<void>((resolve) => this.close(resolve));
  }

  address(): { address: string; family: string; port: number } {
    healthCheck(this);
    const out: AddressOut = {};
    const err = this[kState].handle!.getsockname(out);
    if (err) throw errnoException(err, 'getsockname');
    return out as { address: string; family: string; port: number };
  }

  remoteAddress(): { address: string; family: string; port: number } {
    healthCheck(this);
    const state = this[kState];
    if (state.connectState !== CONNECT_STATE_CONNECTED) throw ERR_SOCKET_DGRAM_NOT_CONNECTED();
    const out: AddressOut = {};
    const err = state.handle!.getpeername(out);
    if (err) throw errnoException(err, 'getpeername');
    return out as { address: string; family: string; port: number };
  }

  setBroadcast(arg: boolean): void {
    const h = this[kState].handle;
    const err = h === null ? 'EBADF' : h.setBroadcast(arg ? 1 : 0);
    if (err) throw errnoException(err, 'setBroadcast');
  }

  setTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    const h = this[kState].handle;
    const err = h === null ? 'EBADF' : h.setTTL(ttl);
    if (err) throw errnoException(err, 'setTTL');
    return ttl;
  }

  /** Multicast is not implemented: these fail as on a socket without multicast support. */
  setMulticastTTL(ttl: number): number { validateNumber(ttl, 'ttl'); throw errnoException('ENOPROTOOPT', 'setMulticastTTL'); }
  setMulticastLoopback(_arg: boolean): boolean { throw errnoException('ENOPROTOOPT', 'setMulticastLoopback'); }
  setMulticastInterface(_a: string): void { healthCheck(this); throw errnoException('ENOPROTOOPT', 'setMulticastInterface'); }
  addMembership(_m: string, _i?: string): void { healthCheck(this); throw errnoException('ENOPROTOOPT', 'addMembership'); }
  dropMembership(_m: string, _i?: string): void { healthCheck(this); throw errnoException('ENOPROTOOPT', 'dropMembership'); }

  ref(): this { this[kState].handle?.ref(); return this; }
  unref(): this { this[kState].handle?.unref(); return this; }

  setRecvBufferSize(size: number): void { bufferSize(this, size, true); }
  setSendBufferSize(size: number): void { bufferSize(this, size, false); }
  getRecvBufferSize(): number { return bufferSize(this, 0, true); }
  getSendBufferSize(): number { return bufferSize(this, 0, false); }
  /** Datagrams are sent synchronously onto the link: nothing waits in a send queue. */
  getSendQueueSize(): number { return 0; }
  getSendQueueCount(): number { return 0; }

  /** The synack UDP socket underneath (for tables, counters and tests). */
  get udpSocket(): import('../udp/socket.js').UdpSocket | null { return this[kState].handle?.sock ?? null; }
}

function healthCheck(socket: Socket): void {
  if (!socket[kState].handle) throw ERR_SOCKET_DGRAM_NOT_RUNNING();
}

function startListening(socket: Socket): void {
  const state = socket[kState];
  const h = state.handle!;
  h.onmessage = (nread, buf, rinfo) => {
    if (typeof nread === 'string') { socket.emit('error', errnoException(nread, 'recvmsg')); return; }
    const r = rinfo as RemoteInfo;
    r.size = buf!.length;
    socket.emit('message', buf, r);
  };
  h.recvStart();
  state.receiving = true;
  state.bindState = BIND_STATE_BOUND;
  if (state.recvBufferSize) bufferSize(socket, state.recvBufferSize, true);
  if (state.sendBufferSize) bufferSize(socket, state.sendBufferSize, false);
  socket.emit('listening');
}

function stopReceiving(socket: Socket): void {
  const state = socket[kState];
  if (!state.receiving) return;
  state.handle!.recvStop();
  state.receiving = false;
}

function bufferSize(self: Socket, size: number, recv: boolean): number {
  if (size >>> 0 !== size) throw ERR_SOCKET_BAD_BUFFER_SIZE();
  const ctx: { code?: string } = {};
  const h = self[kState].handle;
  const ret = h === null ? undefined : h.bufferSize(size, recv, ctx);
  if (ret === undefined) throw ERR_SOCKET_BUFFER_SIZE(recv, ctx.code ?? 'EBADF');
  return ret;
}

function enqueue(self: Socket, fn: () => void): void {
  const state = self[kState];
  if (state.queue === undefined) {
    state.queue = [];
    const onListenError = (): void => {
      self.removeListener('listening', onListenSuccess);
      self[kState].queue = undefined;
    };
    const onListenSuccess = (): void => {
      self.removeListener(EventEmitter.errorMonitor, onListenError);
      const q = self[kState].queue!;
      self[kState].queue = undefined;
      for (const f of q) f();
    };
    self.once(EventEmitter.errorMonitor, onListenError);
    self.once('listening', onListenSuccess);
  }
  state.queue.push(fn);
}

function doConnectLookup(self: Socket, port: number, address: string, callback?: () => void): void {
  const state = self[kState];
  if (callback) self.once('connect', callback);
  state.handle!.lookup(address, (ex, ip) => {
    if (!state.handle) return;
    let err: Error | null = ex;
    if (!err) {
      const e = state.handle.connect(ip, port);
      if (e) err = exceptionWithHostPort(e, 'connect', address, port);
    }
    if (err) {
      const error = err;
      state.connectState = CONNECT_STATE_DISCONNECTED;
      process.nextTick(() => {
        if (callback) { self.removeListener('connect', callback); (callback as (e: Error) => void)(error); }
        else self.emit('error', error);
      });
      return;
    }
    state.connectState = CONNECT_STATE_CONNECTED;
    process.nextTick(() => self.emit('connect'));
  });
}

function doSend(ex: Error | null, self: Socket, ip: string | null, list: Buffer[], address: string | undefined, port: number | undefined, callback: SendCallback | undefined): void {
  const state = self[kState];
  if (ex) {
    if (typeof callback === 'function') { process.nextTick(callback, ex); return; }
    process.nextTick(() => self.emit('error', ex));
    return;
  } else if (!state.handle) {
    return;
  }
  const r = state.handle.send(list, port, ip);
  if (typeof r === 'number') {
    if (callback) process.nextTick(callback, null, r - 1);
    return;
  }
  // As in Node: a synchronous send error goes to the callback only, never to 'error'
  // ("Don't emit as error, dgram_legacy.js compatibility").
  if (callback) process.nextTick(callback, exceptionWithHostPort(r, 'send', address, port));
}

/** For the module factory: is this an IPv4 literal (no lookup needed)? */
export const isIPv4Literal = isIPv4;
export { kFactory };
