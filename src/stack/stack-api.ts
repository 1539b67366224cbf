// The public types of a Stack: its network interfaces, how it is created, and the options
// of connect() and listen() (stack.ts re-exports them).
import type { Clock } from '../time/clock.js';
import type { LinkEnd } from '../link/types.js';
import type { NeighbourCache } from '../arp/neighbour.js';
import type { Listener } from '../tcp/listener.js';
import type { StackOptions } from './options.js';

/**
 * A network interface. 'ip' links carry bare IPv4 datagrams (memory pairs, TUN); 'ethernet'
 * ones carry Ethernet II frames and resolve next hops with ARP (see docs/network.md).
 * `addr` 0 means unconfigured (an Ethernet interface waiting for DHCP).
 */
export interface NetIf {
  readonly kind: 'ip' | 'ethernet' | 'loopback';
  readonly name: string;
  addr: number;
  prefixLen: number;
  readonly mtu: number;
  readonly link: LinkEnd;
  /** Ethernet only: the interface's MAC address and its neighbour (ARP) cache. */
  readonly mac?: Uint8Array;
  readonly neighbours?: NeighbourCache;
}

/**
 * Transparent mode (the gateway's "accept any destination" hook, src/gateway): like Linux
 * IP_TRANSPARENT + TPROXY, the stack takes packets addressed to any non-local unicast address
 * instead of dropping them. TCP segments of known connections go to their TCB as usual; for
 * a segment with no connection the hook decides (a Listener takes it, 'rst' refuses it with
 * RFC 9293 §3.10.7.1's reset, 'drop' ignores it — e.g. a SYN while the real connection is
 * being opened); local listeners are never used for non-local addresses. Every other
 * protocol (UDP flows, ICMP) goes to `datagram` whole. Set with Stack.setTransparent().
 */
export interface TransparentHook {
  tcp(packet: Uint8Array, src: number, srcPort: number, dst: number, dstPort: number, flags: number): Listener | 'rst' | 'drop';
  datagram(packet: Uint8Array, protocol: number, src: number, dst: number, payload: Uint8Array, nif: NetIf | null): void;
}

export interface StackInit {
  /** Name for traces and tables (defaults to the first interface address). */
  name?: string;
  clock: Clock;
  options?: Partial<StackOptions>;
  /** Source of secrets (ISN key, cookie key, timestamp offsets). Seed it in simulation. */
  random?: (n: number) => Uint8Array;
  /**
   * Tests only: choose the ISN of passive (listener-created) connections, e.g. just below
   * 2^32 to exercise sequence wraparound. Return null to use the normal RFC 6528 ISN.
   */
  isnOverride?: IsnOverride;
}

/** See StackInit.isnOverride. Addresses/ports are (local, local port, remote, remote port). */
export type IsnOverride = (localAddr: number, localPort: number, remoteAddr: number, remotePort: number) => number | null;

export interface ConnectOptions {
  remoteAddr: number | string;
  remotePort: number;
  localAddr?: number | string;
  localPort?: number;
  rcvBuf?: number;
  sndBuf?: number;
  /** Tests only: force the initial send sequence number (e.g. near 2^32 for wraparound tests). */
  iss?: number;
  /** Differentiated Services codepoint 0..63 of the connection's datagrams (RFC 9293 MUST-48; Tcb.dscp). */
  dscp?: number;
  /** The IPv4 TOS byte as IP_TOS takes it: its DSCP part is used, its ECN bits are ignored (RFC 3168 §5). */
  tos?: number;
}

export interface ListenOptions {
  addr?: number | string;
  port: number;
  backlog?: number;
  /**
   * SO_REUSEADDR (Linux semantics, inet_csk_bind_conflict): without it, listening on a port
   * that a TIME-WAIT connection holds — typically the server's own after a restart — fails
   * with EADDRINUSE; with it, it succeeds when that connection came from a socket that had
   * SO_REUSEADDR too (TIME-WAIT inherits the flag). Default false, as for a
   * plain socket; synack's net layer sets it, as Node does (see src/net/server.ts).
   */
  reuseAddr?: boolean;
}
