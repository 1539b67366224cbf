// One call to put a gateway on an Ethernet link (browser-clean): the stack, its interface at
// the subnet's first address, and the Gateway. What v86 in a browser page needs (docs/gateway.md):
//
//   const port = new V86NetAdapter(emulator.bus);
//   const { stack } = createEthernetGateway({ clock, link: port, connector, policy, hostAliases });
//   new RealtimeDriver(clock).add(stack)   // or RealtimeNetDriver.addStack in Node
import type { Clock } from '../time/clock.js';
import type { LinkEnd } from '../link/types.js';
import type { Duration } from '../time/instant.js';
import { Stack } from '../stack/stack.js';
import type { NetIf } from '../stack/stack.js';
import { parseCidr, formatIpv4Address } from '../wire/ipv4addr.js';
import type { Connector } from './connector.js';
import { Gateway } from './gateway.js';
import type { Policy } from './policy.js';
import { DhcpServer } from '../dhcp/server.js';
import { DnsServer, type DnsForwardHook } from '../dns/server.js';
import { TYPE_A, CLASS_IN, RCODE_SERVFAIL } from '../dns/wire.js';
import { parseIpv4Address } from '../wire/ipv4addr.js';

export interface EthernetGatewayOptions {
  clock: Clock;
  /** The guest's Ethernet link (a FramePort / V86NetAdapter). */
  link: LinkEnd;
  /** The virtual subnet (default 198.18.0.0/24): the gateway is its .1. */
  subnet?: string;
  connector: Connector;
  policy?: Policy | string[];
  hostAliases?: Record<string, string>;
  udpIdleTimeout?: Duration;
  random?: (n: number) => Uint8Array;
  log?: (msg: string) => void;
  /** DHCP for the guest: the pool (default .100–.199 of the subnet); false: none. */
  dhcp?: { first: string; last: string } | false;
  /** DNS at the gateway's address: names from `hosts`; other A questions via `resolve` (e.g. NodeConnector.resolve4). false: none. */
  dns?: { hosts?: Record<string, string>; resolve?: (name: string) => Promise<string[]> } | false;
}

export interface EthernetGateway {
  stack: Stack;
  nif: NetIf;
  gateway: Gateway;
  /** The gateway's address (the subnet's first), e.g. 198.18.0.1. */
  address: string;
  prefixLen: number;
  dhcp: DhcpServer | null;
  dns: DnsServer | null;
  /** The address of the guest's latest DHCP lease (0 if none yet). */
  guestAddress(): number;
  close(): void;
}

/** A DNS forwarding hook from a resolver: A questions only; failures are SERVFAIL. */
export function forwardVia(resolve: (name: string) => Promise<string[]>, ttl = 60): DnsForwardHook {
  return async (q) => {
    if (q.type !== TYPE_A) return null;
    try {
      const addrs = await resolve(q.name);
      return { answers: addrs.map((a) => ({ name: q.name, type: TYPE_A, class: CLASS_IN, ttl, address: parseIpv4Address(a) ?? 0 })) };
    } catch (e) {
      const code = (e as { code?: string }).code;
      return code === 'ENOTFOUND' || code === 'ENODATA' ? null : { rcode: RCODE_SERVFAIL };
    }
  };
}

export function createEthernetGateway(o: EthernetGatewayOptions): EthernetGateway {
  const c = parseCidr(o.subnet ?? '198.18.0.0/24');
  if (c === null || c.prefixLen > 30) throw Object.assign(new TypeError(`bad subnet '${o.subnet}'`), { code: 'ERR_INVALID_ARG_VALUE' });
  const addr = ((c.addr & (c.prefixLen === 0 ? 0 : (~0 << (32 - c.prefixLen)))) + 1) >>> 0;
  const stack = new Stack({ clock: o.clock, name: 'gateway', ...(o.random ? { random: o.random } : {}) });
  const nif = stack.addEthernetInterface({ link: o.link, addr, prefixLen: c.prefixLen });
  const gateway = new Gateway({
    stack, connector: o.connector, policy: o.policy, hostAliases: o.hostAliases,
    ...(o.udpIdleTimeout !== undefined ? { udpIdleTimeout: o.udpIdleTimeout } : {}), ...(o.log ? { log: o.log } : {}),
  });
  const base = (addr - 1) >>> 0;
  let dhcp: DhcpServer | null = null;
  let dns: DnsServer | null = null;
  if (o.dns !== false) {
    const d = o.dns ?? {};
    dns = new DnsServer(stack, { hosts: d.hosts ?? {}, ...(d.resolve ? { forward: forwardVia(d.resolve) } : {}) });
  }
  if (o.dhcp !== false) {
    const pool = o.dhcp ?? { first: formatIpv4Address(base + 100), last: formatIpv4Address(base + Math.min(199, 2 ** (32 - c.prefixLen) - 2)) };
    dhcp = new DhcpServer(stack, { nif, pool, router: addr, dns: dns !== null ? [addr] : [] });
  }
  const guestAddress = (): number => {
    let best = 0;
    for (const l of dhcp?.leases() ?? []) if (l.state === 'bound') best = l.addr;
    return best;
  };
  const close = (): void => { gateway.close(); dhcp?.close(); dns?.close(); };
  return { stack, nif, gateway, address: formatIpv4Address(addr), prefixLen: c.prefixLen, dhcp, dns, guestAddress, close };
}
