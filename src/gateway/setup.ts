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
}

export interface EthernetGateway {
  stack: Stack;
  nif: NetIf;
  gateway: Gateway;
  /** The gateway's address (the subnet's first), e.g. 198.18.0.1. */
  address: string;
  prefixLen: number;
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
  return { stack, nif, gateway, address: formatIpv4Address(addr), prefixLen: c.prefixLen };
}
