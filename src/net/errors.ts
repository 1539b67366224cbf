// Errors shaped like Node's own, so code written against `net` can test `err.code`,
// `err.errno` and `err.syscall` unchanged: system errors (ECONNREFUSED, ECONNRESET, …) carry
// a negative errno as libuv reports it, and argument errors use Node's classes and codes
// (ERR_INVALID_ARG_TYPE is a TypeError, ERR_SOCKET_BAD_PORT a RangeError, …) with Node's messages.
import { inspect } from 'node:util';
import { ERRNO, errnoMessage } from '../stack/errors.js';

/** A system error as Node builds it: `connect ECONNREFUSED 198.18.0.2:80`. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

function systemError(message: string, code: string, syscall: string): SystemError {
  const e = new Error(message) as SystemError;
  e.code = code;
  e.errno = -(ERRNO[code] ?? 0);
  e.syscall = syscall;
  return e;
}

/** Node's errnoException: `read ECONNRESET`. */
export function errnoException(code: string, syscall: string): SystemError {
  return systemError(`${syscall} ${code}`, code, syscall);
}

/**
 * Node's ExceptionWithHostPort (connect, bind): `connect ECONNREFUSED 198.18.0.2:80`, with
 * ` - Local (addr:port)` when the local end is known (Node passes it for a failed connect()).
 */
export function exceptionWithHostPort(code: string, syscall: string, address: string, port: number, local?: string): SystemError {
  let details = '';
  if (port && port > 0) details = ` ${address}:${port}`;
  else if (address) details = ` ${address}`;
  if (local) details += ` - Local (${local})`;
  const e = systemError(`${syscall} ${code}${details}`, code, syscall);
  e.address = address;
  if (port) e.port = port;
  return e;
}

/** Node's uvExceptionWithHostPort (listen): `listen EADDRINUSE: address already in use 0.0.0.0:80`. */
export function uvExceptionWithHostPort(code: string, syscall: string, address: string, port: number): SystemError {
  const e = systemError(`${syscall} ${code}: ${errnoMessage(code)} ${address}:${port}`, code, syscall);
  e.address = address;
  e.port = port;
  return e;
}

/** dns.lookup's failure for a name we cannot resolve. */
export function lookupError(host: string): SystemError {
  const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as SystemError & { hostname: string };
  e.code = 'ENOTFOUND';
  e.errno = -3008;
  e.syscall = 'getaddrinfo';
  e.hostname = host;
  return e;
}

type NodeErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** An internal Node error (`code` like ERR_…); the name shows the code the way Node prints it. */
function nodeError<C extends NodeErrorClass>(Base: C, code: string, message: string): InstanceType<C> & { code: string } {
  const e = new Base(message) as InstanceType<C> & { code: string };
  Object.defineProperty(e, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // Node's errors print as `TypeError [ERR_X]: message` in their stack.
  if (typeof e.stack === 'string') e.stack = e.stack.replace(/^(\w*Error)/, `$1 [${code}]`);
  return e;
}

/** `Received type number (70000)` as in Node's internal/errors determineSpecificType. */
export function describeReceived(value: unknown): string {
  if (value == null) return `Received ${value}`;
  if (typeof value === 'function') return `Received function ${(value as { name?: string }).name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor;
    if (ctor?.name) return `Received an instance of ${ctor.name}`;
    return `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];

function formatList(a: string[], type = 'or'): string {
  if (a.length <= 1) return a.join('');
  if (a.length === 2) return `${a[0]} ${type} ${a[1]}`;
  return `${a.slice(0, -1).join(', ')}, ${type} ${a[a.length - 1]}`;
}

/** Node's ERR_INVALID_ARG_TYPE wording (internal/errors.js): primitive types, then `an instance of` classes. */
function typesList(expected: string[]): string {
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const v of expected) {
    if (kTypes.includes(v)) types.push(v.toLowerCase());
    else if (/^[A-Z][a-zA-Z0-9]*$/.test(v)) instances.push(v);
    else other.push(v);
  }
  if (instances.length > 0) { const pos = types.indexOf('object'); if (pos !== -1) { types.splice(pos, 1); instances.push('Object'); } }
  let msg = '';
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types)}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances)}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 1) msg += `one of ${formatList(other)}`;
  else if (other.length === 1) msg += `${other[0]!.toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`;
  return msg;
}

export function ERR_INVALID_ARG_TYPE(name: string, types: string | string[], value: unknown): TypeError & { code: string } {
  const list = Array.isArray(types) ? types : [types];
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${what} must be ${typesList(list)}. ${describeReceived(value)}`);
}

export function ERR_INVALID_ARG_VALUE(name: string, value: unknown, reason = 'is invalid'): TypeError & { code: string } {
  const what = name.includes('.') ? 'property' : 'argument';
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${what} '${name}' ${reason}. Received ${shown}`);
}

export function ERR_SOCKET_BAD_PORT(name: string, port: unknown, allowZero = true): RangeError & { code: string } {
  const op = allowZero ? '>=' : '>';
  return nodeError(RangeError, 'ERR_SOCKET_BAD_PORT', `${name} should be ${op} 0 and < 65536. ${describeReceived(port)}.`);
}

export function ERR_OUT_OF_RANGE(name: string, range: string, value: unknown): RangeError & { code: string } {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`);
}

export function ERR_MISSING_ARGS(...names: string[]): TypeError & { code: string } {
  const list = names.map((n) => `"${n}"`);
  const joined = list.length <= 2 ? list.join(' or ') : `${list.slice(0, -1).join(' or ')} or ${list[list.length - 1]}`;
  return nodeError(TypeError, 'ERR_MISSING_ARGS', `The ${joined} argument must be specified`);
}

export function ERR_INVALID_IP_ADDRESS(addr: unknown): TypeError & { code: string } {
  return nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(addr)}`);
}

export function ERR_INVALID_ADDRESS_FAMILY(family: unknown, host: string, port: number): RangeError & { code: string } {
  return nodeError(RangeError, 'ERR_INVALID_ADDRESS_FAMILY', `Invalid address family: ${String(family)} ${host}:${port}`);
}

export function ERR_SERVER_ALREADY_LISTEN(): Error & { code: string } {
  return nodeError(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
}

export function ERR_SERVER_NOT_RUNNING(): Error & { code: string } {
  return nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.');
}

export function ERR_SOCKET_CLOSED(): Error & { code: string } {
  return nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
}

export function ERR_SOCKET_CLOSED_BEFORE_CONNECTION(): Error & { code: string } {
  return nodeError(Error, 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established');
}

/** EPIPE after the peer's FIN on a socket without allowHalfOpen (Node's writeAfterFIN). */
export function endedByOtherParty(): Error & { code: string } {
  const e = new Error('This socket has been ended by the other party') as Error & { code: string };
  e.code = 'EPIPE';
  return e;
}

// ------------------------------------------------------------------ validators (Node's internal/validators)

export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if ((typeof port !== 'number' && typeof port !== 'string') ||
      (typeof port === 'string' && port.trim().length === 0) ||
      +port !== (+port >>> 0) || +port > 0xffff || (port === 0 && !allowZero)) {
    throw ERR_SOCKET_BAD_PORT(name, port, allowZero);
  }
  return +port | 0;
}

export function validateNumber(value: unknown, name: string, min?: number, max?: number): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value);
  if ((min !== undefined && value < min) || (max !== undefined && value > max) || ((min !== undefined || max !== undefined) && Number.isNaN(value))) {
    const range = min !== undefined && max !== undefined ? `>= ${min} && <= ${max}` : min !== undefined ? `>= ${min}` : `<= ${max}`;
    throw ERR_OUT_OF_RANGE(name, range, value);
  }
}

export function validateFunction(value: unknown, name: string): asserts value is (...a: unknown[]) => unknown {
  if (typeof value !== 'function') throw ERR_INVALID_ARG_TYPE(name, 'function', value);
}

/** Node's validateAbortSignal. */
export function validateAbortSignal(signal: unknown, name: string): asserts signal is AbortSignal {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal);
  }
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw ERR_INVALID_ARG_TYPE(name, 'boolean', value);
}

/** setTimeout's msecs (Node's getTimerDuration). */
export function validateTimeout(msecs: unknown, name = 'msecs'): number {
  if (typeof msecs !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', msecs);
  if (msecs < 0 || !Number.isFinite(msecs)) throw ERR_OUT_OF_RANGE(name, 'a non-negative finite number', msecs);
  return msecs;
}
