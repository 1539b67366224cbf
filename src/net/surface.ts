// The rest of Node's `net` module surface for TCP/IPv4 (issue 11, deliverable 4): classes
// callable without `new` (as Node's function constructors are), `net.Stream`, BlockList and
// SocketAddress (Node's own: pure data structures, not tied to the kernel), the
// autoSelectFamily defaults with Node's validation, and the deprecated
// `_setSimultaneousAccepts` no-op.
import { BlockList, SocketAddress } from 'node:net';
import { ERR_INVALID_ARG_TYPE, validateNumber } from './errors.js';

/** `Socket(opts)` and `new Socket(opts)` both construct, as in Node (a class alone throws without `new`). */
export function callableClass<C extends abstract new (...args: never[]) => unknown>(cls: C): C & ((...args: ConstructorParameters<C>) => InstanceType<C>) {
  return new Proxy(cls, {
    apply(target, _thisArg, args: unknown[]) {
      return Reflect.construct(target as unknown as new (...a: unknown[]) => unknown, args);
    },
  }) as C & ((...args: ConstructorParameters<C>) => InstanceType<C>);
}

/** Node's module-level autoSelectFamily defaults (one set per net module). */
export class AutoSelectDefaults {
  family = true;
  attemptTimeout = 250;

  getDefaultAutoSelectFamily = (): boolean => this.family;

  setDefaultAutoSelectFamily = (value: unknown): void => {
    if (typeof value !== 'boolean') throw ERR_INVALID_ARG_TYPE('value', 'boolean', value);
    this.family = value;
  };

  getDefaultAutoSelectFamilyAttemptTimeout = (): number => this.attemptTimeout;

  /** Node: an integer >= 1; values below 10 become 10. */
  setDefaultAutoSelectFamilyAttemptTimeout = (value: unknown): void => {
    validateNumber(value, 'value', 1, 2 ** 31 - 1);
    if (!Number.isInteger(value)) throw ERR_INVALID_ARG_TYPE('value', 'number', value);
    this.attemptTimeout = value < 10 ? 10 : value;
  };
}

let simultaneousAcceptsWarned = false;

/** Node's `net._setSimultaneousAccepts`: deprecated (DEP0121), a no-op outside Windows. */
export function _setSimultaneousAccepts(_requested?: boolean): void {
  if (simultaneousAcceptsWarned) return;
  simultaneousAcceptsWarned = true;
  process.emitWarning('net._setSimultaneousAccepts() is deprecated and will be removed.', 'DeprecationWarning', 'DEP0121');
}

export { BlockList, SocketAddress };
