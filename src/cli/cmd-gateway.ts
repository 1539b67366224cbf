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

export const summary = 'be the network of a guest (slirp-style): every guest flow opened for real, allow-listed';

const HELP = `usage: synack gateway --tun NAME --subnet A.B.C.0/24 [options]

Puts synack on the guest side of a virtual subnet and terminates every TCP connection the
guest opens, to any address; each is opened for real from this process (or through a Wisp
server) if a rule allows it. Nothing is allowed by default; a refused connection gets a RST.

  --tun NAME              TUN device to create; the kernel on its other side is the guest
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
      tun: TUN_OPTIONS.tun, pcap: TUN_OPTIONS.pcap, mtu: TUN_OPTIONS.mtu,
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
    if (values.tun === undefined) throw new UsageError('--tun NAME is required');
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
