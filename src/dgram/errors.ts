// Node's dgram errors, with Node's classes, codes and messages (lib/internal/errors.js), so
// code written against node:dgram can test err.code unchanged.
import { ERRNO, errnoMessage } from '../stack/errors.js';
import { describeReceived, type SystemError } from '../net/errors.js';

type Ctor = typeof Error | typeof TypeError | typeof RangeError;

function nodeError<C extends Ctor>(Base: C, code: string, message: string): InstanceType<C> & { code: string } {
  const e = new Base(message) as InstanceType<C> & { code: string };
  Object.defineProperty(e, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  if (typeof e.stack === 'string') e.stack = e.stack.replace(/^(\w*Error)/, `$1 [${code}]`);
  return e;
}

export const ERR_SOCKET_ALREADY_BOUND = (): Error => nodeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
export const ERR_SOCKET_DGRAM_IS_CONNECTED = (): Error => nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
export const ERR_SOCKET_DGRAM_NOT_CONNECTED = (): Error => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
export const ERR_SOCKET_DGRAM_NOT_RUNNING = (): Error => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
export const ERR_SOCKET_BAD_BUFFER_SIZE = (): TypeError => nodeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer');
export const ERR_SOCKET_BAD_TYPE = (): TypeError =>
  nodeError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4 (synack has no IPv6)');
export const ERR_BUFFER_OUT_OF_BOUNDS = (name: string): RangeError =>
  nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', `"${name}" is outside of buffer bounds`);

/** The buffer-argument type error exactly as Node words it for dgram send. */
export function ERR_INVALID_BUFFER_ARG(name: string, value: unknown): TypeError {
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${what} must be of type string or an instance of Buffer, TypedArray, or DataView. ${describeReceived(value)}`);
}

/** ERR_SOCKET_BUFFER_SIZE, a SystemError: `Could not get or set buffer size: uv_recv_buffer_size returned EBADF (bad file descriptor)`. */
export function ERR_SOCKET_BUFFER_SIZE(recv: boolean, code: string): Error {
  const syscall = recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size';
  const msg = code === 'EBADF' ? 'bad file descriptor' : errnoMessage(code);
  const e = nodeError(Error, 'ERR_SOCKET_BUFFER_SIZE', `Could not get or set buffer size: ${syscall} returned ${code} (${msg})`);
  e.name = 'SystemError';
  Object.assign(e, { info: { errno: -(ERRNO[code] ?? 0), code, message: msg, syscall }, errno: -(ERRNO[code] ?? 0), syscall });
  return e;
}

/** Node's ErrnoException: `getsockname EBADF`, `recvmsg ECONNREFUSED`. */
export function errnoException(code: string, syscall: string): SystemError {
  const e = new Error(`${syscall} ${code}`) as SystemError;
  e.code = code;
  e.errno = -(ERRNO[code] ?? 0);
  e.syscall = syscall;
  return e;
}

/**
 * Node's ExceptionWithHostPort: `bind EADDRINUSE 0.0.0.0:41234`, `send EACCES
 * 255.255.255.255:9`, and just `send ECONNREFUSED` on a connected socket (no address given).
 */
export function exceptionWithHostPort(code: string, syscall: string, address: string | undefined, port: number | undefined): SystemError {
  let details = '';
  if (port !== undefined && port > 0) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  const e = new Error(`${syscall} ${code}${details}`) as SystemError;
  e.errno = -(ERRNO[code] ?? 0);
  e.code = code;
  e.syscall = syscall;
  e.address = address;
  if (port) e.port = port;
  return e;
}
