// Name resolution for a stack: the hook through which `net.connect(host)`, `dgram` and
// `lookup()` reach synack's DNS stub resolver (src/dns/resolver.ts) when the stack has DNS
// servers. Browser-clean; the Node layers turn the error codes into Node's errors.
import type { Stack } from '../stack/stack.js';

/**
 * Resolve `name` to IPv4 addresses (in answer order). Calls back exactly once, with an
 * error code as Node's dns.lookup reports it ('ENOTFOUND' for a name that does not exist
 * or has no A record, 'EAI_AGAIN' when no server answered, 'ESERVFAIL'…) or the addresses.
 */
export type NameLookup = (name: string, cb: (err: string | null, addrs: number[]) => void) => void;

const resolvers = new WeakMap<Stack, NameLookup>();

/** Install (or with null, remove) the name resolver of `stack`. */
export function setNameLookup(stack: Stack, fn: NameLookup | null): void {
  if (fn === null) resolvers.delete(stack); else resolvers.set(stack, fn);
}

/** The name resolver of `stack`, if one was installed (e.g. by a DNS resolver with servers). */
export function nameLookupOf(stack: Stack): NameLookup | undefined {
  return resolvers.get(stack);
}
