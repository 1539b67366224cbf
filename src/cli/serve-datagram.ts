// The datagram services of `synack serve` (issue 13): --dhcp FIRST-LAST (a DHCP server for
// the kernel's client), --dns with --host NAME=IP (a DNS server answering those names, over
// UDP and TCP), --udp-echo PORT (RFC 862 over UDP with stack.dgram).
import type { Stack, NetIf } from '../stack/stack.js';
import type { NetDriver } from '../net/driver.js';
import { parseIpv4Address, formatIpv4Address } from '../wire/ipv4addr.js';
import { DhcpServer } from '../dhcp/server.js';
import { DnsServer } from '../dns/server.js';
import { attachDgram } from '../dgram/index.js';
import type { Socket as DgramSocket } from '../dgram/socket.js';

export const DATAGRAM_OPTIONS = {
  dhcp: { type: 'string' },
  'dhcp-lease': { type: 'string' },
  dns: { type: 'boolean' },
  host: { type: 'string', multiple: true },
  'udp-echo': { type: 'string' },
} as const;

export const DATAGRAM_HELP = `  --dhcp FIRST-LAST  a DHCP server (RFC 2131) leasing FIRST..LAST, with synack as router
                   (and DNS server with --dns); --dhcp-lease SECONDS (default 3600)
  --dns            a DNS server (RFC 1035) on port 53, UDP and TCP, answering --host names
                   (A and PTR), NXDOMAIN for others; answers over 512 bytes are truncated
                   (TC) and served over TCP
  --host NAME=IP   a name for --dns (repeatable)
  --udp-echo PORT  echo (RFC 862) over UDP
`;

export interface DatagramConfig {
  dhcp: { first: number; last: number; lease: number } | null;
  dns: boolean;
  hosts: Array<[string, string]>;
  udpEcho: number | null;
}

export class DatagramUsageError extends Error {}

type Values = { dhcp?: string; 'dhcp-lease'?: string; dns?: boolean; host?: string[]; 'udp-echo'?: string };

export function parseDatagramFlags(v: Values): DatagramConfig {
  let dhcp: DatagramConfig['dhcp'] = null;
  if (v.dhcp !== undefined) {
    const m = /^([\d.]+)-([\d.]+)$/.exec(v.dhcp);
    const first = m ? parseIpv4Address(m[1]!) : null, last = m ? parseIpv4Address(m[2]!) : null;
    if (first === null || last === null || last < first) throw new DatagramUsageError(`--dhcp takes FIRST-LAST addresses (e.g. 198.18.0.100-198.18.0.150), got '${v.dhcp}'`);
    const lease = v['dhcp-lease'] === undefined ? 3600 : Number(v['dhcp-lease']);
    if (!Number.isInteger(lease) || lease < 4) throw new DatagramUsageError(`--dhcp-lease takes seconds (>= 4), got '${v['dhcp-lease']}'`);
    dhcp = { first, last, lease };
  } else if (v['dhcp-lease'] !== undefined) throw new DatagramUsageError('--dhcp-lease needs --dhcp');
  const hosts: Array<[string, string]> = [];
  for (const h of v.host ?? []) {
    const m = /^([^=\s]+)=([\d.]+)$/.exec(h);
    if (m === null || parseIpv4Address(m[2]!) === null) throw new DatagramUsageError(`--host takes NAME=IPv4, got '${h}'`);
    hosts.push([m[1]!, m[2]!]);
  }
  if (hosts.length > 0 && !v.dns) throw new DatagramUsageError('--host names are served by --dns: add --dns');
  let udpEcho: number | null = null;
  if (v['udp-echo'] !== undefined) {
    udpEcho = Number(v['udp-echo']);
    if (!Number.isInteger(udpEcho) || udpEcho < 1 || udpEcho > 65535) throw new DatagramUsageError(`--udp-echo takes a port 1..65535, got '${v['udp-echo']}'`);
  }
  return { dhcp, dns: v.dns === true, hosts, udpEcho };
}

export function hasDatagramServices(c: DatagramConfig): boolean {
  return c.dhcp !== null || c.dns || c.udpEcho !== null;
}

export interface DatagramServices {
  dhcp: DhcpServer | null;
  dns: DnsServer | null;
  echo: DgramSocket | null;
  /** Datagrams the UDP echo service answered. */
  echoed(): number;
  describe(): string[];
  stats(): Record<string, unknown>;
  close(): void;
}

export async function startDatagramServices(stack: Stack, driver: NetDriver, nif: NetIf, c: DatagramConfig, log: (s: string) => void): Promise<DatagramServices> {
  const addr = nif.addr;
  let dhcp: DhcpServer | null = null;
  let dns: DnsServer | null = null;
  let echo: DgramSocket | null = null;
  let echoed = 0;
  if (c.dns) {
    dns = new DnsServer(stack, { hosts: Object.fromEntries(groupHosts(c.hosts)), addr });
    dns.onServed = (s) => log(`dns: ${DnsServer.format(s)}`);
  }
  if (c.dhcp !== null) {
    dhcp = new DhcpServer(stack, { nif, pool: { first: c.dhcp.first, last: c.dhcp.last }, router: addr, dns: c.dns ? [addr] : [], leaseTime: c.dhcp.lease });
    dhcp.onLease = (l, ev) => log(`dhcp: ${ev} ${formatIpv4Address(l.addr)} ${l.mac}${l.hostname ? ' (' + l.hostname + ')' : ''}`);
  }
  if (c.udpEcho !== null) {
    const s = attachDgram(stack, driver).createSocket('udp4');
    s.on('message', (msg, rinfo) => { echoed++; s.send(msg, rinfo.port, rinfo.address); });
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(c.udpEcho!, formatIpv4Address(addr), () => { s.off('error', reject); resolve(); }); });
    // A flood may outrun the event loop: a deep queue, as a UDP server would set SO_RCVBUF.
    s.setRecvBufferSize(stack.options.rmem_max);
    echo = s;
  }
  driver.kick();
  return {
    dhcp, dns, echo,
    echoed: () => echoed,
    describe: () => [
      c.dhcp !== null ? `dhcp ${formatIpv4Address(c.dhcp.first)}-${formatIpv4Address(c.dhcp.last)} (lease ${c.dhcp.lease}s)` : '',
      c.dns ? `dns :53 (${c.hosts.length} name${c.hosts.length === 1 ? '' : 's'})` : '',
      c.udpEcho !== null ? `udp-echo :${c.udpEcho}` : '',
    ].filter(Boolean),
    stats: () => ({
      udp: { in: stack.counters.UdpInDatagrams, out: stack.counters.UdpOutDatagrams, noPorts: stack.counters.UdpNoPorts, rcvbufErrors: stack.counters.UdpRcvbufErrors, echoed },
      dhcp: dhcp === null ? undefined : { leases: dhcp.leases().map((l) => ({ addr: formatIpv4Address(l.addr), mac: l.mac, state: l.state, hostname: l.hostname })), stats: dhcp.stats },
      dns: dns === null ? undefined : { served: dns.log.length, tcp: dns.log.filter((l) => l.tcp).length, truncated: dns.log.filter((l) => l.truncated).length },
    }),
    close: () => { dhcp?.close(); dns?.close(); try { echo?.close(); } catch { /* closed */ } },
  };
}

function groupHosts(hs: Array<[string, string]>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [n, a] of hs) m.set(n, [...(m.get(n) ?? []), a]);
  return m;
}
