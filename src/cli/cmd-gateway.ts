// `synack gateway`: synack as the network of a guest (slirp-style). The guest is the Linux
// kernel on the other side of a TUN device; every TCP connection it opens to any address is
// terminated by synack and opened for real from this process (node:net), or through a Wisp
// server (--wisp URL), if the allow-list admits it.
import { parseArgs } from 'node:util';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { Policy, RuleError } from '../gateway/policy.js';
import { Gateway } from '../gateway/gateway.js';
import { NodeConnector, wrapSocket } from '../gateway/node/connector.js';
import { WispConnector } from '../gateway/wisp-connector.js';
import { WispClient } from '../wisp/client.js';
import { parseIpv4Address, formatIpv4Address } from '../wire/ipv4addr.js';
import { TUN_OPTIONS, UsageError, parseTunFlags, startTunHost, closeOnExit, describeStartError } from './tunhost.js';
import type { Connector } from '../gateway/connector.js';
import { TapDevice } from '../link/tun-tap.js';
import { RealtimeNetDriver } from '../net/driver.js';
import { createEthernetGateway } from '../gateway/setup.js';

export const summary = 'be the network of a guest (slirp-style): every guest flow opened for real, allow-listed';

const HELP = `usage: synack gateway (--tap NAME | --tun NAME) --subnet A.B.C.0/24 [options]

Puts synack on the guest side of a virtual subnet and terminates every TCP connection the
guest opens, to any address; each is opened for real from this process (or through a Wisp
server) if a rule allows it. Nothing is allowed by default; a refused connection gets a RST.

  --tap NAME              TAP device to create (Ethernet); the kernel on its other side is the
                          guest and gets its address by DHCP (pool .100-.199), router and DNS
                          server the gateway (.1)
  --tun NAME              TUN device instead (IP only, no DHCP): the guest is given .100
  --dns-host NAME=IP      a name the gateway's DNS server answers (repeatable); other names
                          are resolved by this host (dns.lookup) and answered (TAP mode)
  --subnet A/P            the virtual subnet; the gateway is its first address (.1), the
                          guest its .100 (--guest-addr to change)
  --guest-addr B          the guest's address on the device
  --allow RULE            [tcp:|udp:]HOST:PORT, repeatable (HOST *, A.B.C.D, A.B.C.D/N, name,
                          *.suffix; PORT *, N, LO-HI); checked on the real destination
  --host-alias V=H        guest address V reaches host H (e.g. 198.18.0.2=127.0.0.1, like
                          slirp's 10.0.2.2), repeatable
  --hostfwd HP:GP         connections to 127.0.0.1:HP on this host reach the guest's port GP
                          (HOSTADDR:HP:GP to listen elsewhere), repeatable
  --wisp URL              open connections through this Wisp server instead of node:net
  --pcap FILE             capture the guest link
  -q, --quiet             no log lines
  -h, --help              this text

Prints "ready" on stdout when the device is up.
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: {
      tun: TUN_OPTIONS.tun, pcap: TUN_OPTIONS.pcap, mtu: TUN_OPTIONS.mtu, tap: { type: 'string' }, 'dns-host': { type: 'string', multiple: true },
      subnet: { type: 'string' }, 'guest-addr': { type: 'string' },
      allow: { type: 'string', multiple: true }, 'host-alias': { type: 'string', multiple: true },
      hostfwd: { type: 'string', multiple: true }, wisp: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e) {
    process.stderr.write(`synack gateway: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  const log = (s: string): void => { if (!values.quiet) process.stderr.write(`synack gateway: ${s}\n`); };
  let policy: Policy;
  const aliases: Record<string, string> = {};
  const fwds: Array<{ hostAddr: string; hostPort: number; guestPort: number }> = [];
  let gwAddr: number, prefixLen: number, guestAddr: number;
  try {
    if ((values.tun === undefined) === (values.tap === undefined)) throw new UsageError('one of --tap NAME or --tun NAME is required');
    const m = /^([\d.]+)\/(\d+)$/.exec(values.subnet ?? '');
    const base = m ? parseIpv4Address(m[1]!) : null;
    if (!m || base === null || Number(m[2]) > 30) throw new UsageError('--subnet A.B.C.D/P is required (P ≤ 30)');
    prefixLen = Number(m[2]);
    gwAddr = (base + 1) >>> 0;
    guestAddr = values['guest-addr'] !== undefined ? (parseIpv4Address(values['guest-addr']) ?? -1) : (base + 100) >>> 0;
    if (guestAddr < 0) throw new UsageError(`bad --guest-addr '${values['guest-addr']}'`);
    policy = new Policy(values.allow ?? []);
    for (const a of values['host-alias'] ?? []) {
      const [v, h] = a.split('=');
      if (v === undefined || h === undefined || parseIpv4Address(v) === null || h === '') throw new UsageError(`bad --host-alias '${a}' (want V=H)`);
      aliases[v] = h;
    }
    for (const f of values.hostfwd ?? []) {
      const parts = f.split(':');
      const nums = parts.slice(-2).map(Number);
      if (parts.length < 2 || parts.length > 3 || nums.some((n) => !Number.isInteger(n) || n < 1 || n > 65535)) throw new UsageError(`bad --hostfwd '${f}' (want [HOSTADDR:]HOSTPORT:GUESTPORT)`);
      fwds.push({ hostAddr: parts.length === 3 ? parts[0]! : '127.0.0.1', hostPort: nums[0]!, guestPort: nums[1]! });
    }
  } catch (e) {
    process.stderr.write(`synack gateway: ${(e as Error).message}\n`);
    return e instanceof UsageError || e instanceof RuleError ? 2 : 1;
  }

  let connector: Connector = new NodeConnector();
  let ws: WebSocket | null = null;
  if (values.wisp !== undefined) {
    ws = new WebSocket(values.wisp, 'wisp-v2');
    const client = new WispClient(ws as never);
    try { await client.readyPromise; } catch (e) {
      process.stderr.write(`synack gateway: Wisp server ${values.wisp}: ${(e as Error).message}\n`);
      return 1;
    }
    client.onclose = () => log('Wisp connection closed');
    connector = new WispConnector(client);
  }

  if (values.tap !== undefined) return runTap(values.tap, { subnet: values.subnet!, policy, aliases, fwds, connector, ws, log, guestAddr: values['guest-addr'] !== undefined ? guestAddr : 0, dnsHosts: values['dns-host'] ?? [] });

  let host;
  try {
    const cfg = parseTunFlags({ tun: values.tun, addr: `${formatIpv4Address(gwAddr)}/${prefixLen}`, 'host-addr': formatIpv4Address(guestAddr), pcap: values.pcap, mtu: values.mtu });
    host = startTunHost(cfg);
  } catch (e) {
    process.stderr.write(`synack gateway: ${describeStartError(e)}\n`);
    ws?.close();
    return e instanceof UsageError ? 2 : 1;
  }
  const gw = new Gateway({ stack: host.stack, connector, policy, hostAliases: aliases, log });
  const servers: net.Server[] = [];
  for (const f of fwds) {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => gw.forwardInbound(wrapSocket(s, true), guestAddr, f.guestPort));
    await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen(f.hostPort, f.hostAddr, () => res()); }).catch((e) => {
      process.stderr.write(`synack gateway: hostfwd ${f.hostAddr}:${f.hostPort}: ${(e as NodeJS.ErrnoException).code}\n`);
      process.exitCode = 1;
    });
    servers.push(srv);
  }
  if (process.exitCode === 1) { host.close(); ws?.close(); return 1; }
  host.onClose(() => { for (const s of servers) s.close(); gw.close(); ws?.close(); });
  log(`gateway ${formatIpv4Address(gwAddr)}/${prefixLen} on ${values.tun}, guest ${formatIpv4Address(guestAddr)}; rules: ${policy.rules.length === 0 ? 'none (everything refused)' : policy.rules.map((r) => r.text).join(', ')}`);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => { closeOnExit(host, () => resolve()); });
  const c = gw.counters;
  log(`closed: tcp accepted ${c.tcpAccepted}, refused by rules ${c.tcpRefusedByPolicy}, connect failed ${c.tcpConnectFailed}, forwards ${c.forwardsAccepted}`);
  return 0;
}

interface TapRun {
  subnet: string; policy: Policy; aliases: Record<string, string>;
  fwds: Array<{ hostAddr: string; hostPort: number; guestPort: number }>;
  connector: Connector; ws: WebSocket | null; log: (s: string) => void; guestAddr: number; dnsHosts: string[];
}

/** TAP mode: an Ethernet link, DHCP and DNS for the guest (src/gateway/setup.ts). */
async function runTap(name: string, o: TapRun): Promise<number> {
  const hosts: Record<string, string> = {};
  for (const h of o.dnsHosts) {
    const [n, a] = h.split('=');
    if (!n || a === undefined || parseIpv4Address(a) === null) { process.stderr.write(`synack gateway: bad --dns-host '${h}' (want NAME=IP)\n`); return 2; }
    hosts[n] = a;
  }
  let tap: TapDevice;
  try { tap = TapDevice.open({ name }); } catch (e) {
    process.stderr.write(`synack gateway: ${describeStartError(e)}\n`);
    o.ws?.close();
    return 1;
  }
  const driver = new RealtimeNetDriver({ onError: (e) => { process.stderr.write(`synack: internal error: ${(e as Error)?.stack ?? String(e)}\n`); process.exitCode = 70; } });
  const resolve = o.connector instanceof NodeConnector ? (n: string) => (o.connector as NodeConnector).resolve4(n) : undefined;
  const g = createEthernetGateway({
    clock: driver.clock, link: tap, subnet: o.subnet, connector: o.connector, policy: o.policy, hostAliases: o.aliases, log: o.log,
    dns: { hosts, ...(resolve ? { resolve } : {}) },
  });
  driver.addStack(g.stack);
  driver.hold(1);
  const servers: net.Server[] = [];
  for (const f of o.fwds) {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => {
      const guest = o.guestAddr || g.guestAddress();
      if (guest === 0) { s.resetAndDestroy(); return; }
      g.gateway.forwardInbound(wrapSocket(s, true), guest, f.guestPort);
    });
    srv.listen(f.hostPort, f.hostAddr);
    servers.push(srv);
  }
  const close = (): void => { for (const s of servers) s.close(); g.close(); tap.close(); o.ws?.close(); driver.hold(-1); driver.stop(); };
  o.log(`gateway ${g.address}/${g.prefixLen} on TAP ${name} (DHCP, DNS at ${g.address}); rules: ${o.policy.rules.length === 0 ? 'none (everything refused)' : o.policy.rules.map((r) => r.text).join(', ')}`);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
  });
  const c = g.gateway.counters;
  o.log(`closed: tcp accepted ${c.tcpAccepted}, refused by rules ${c.tcpRefusedByPolicy}, connect failed ${c.tcpConnectFailed}, udp flows ${c.udpFlows}, forwards ${c.forwardsAccepted}`);
  close();
  return 0;
}
