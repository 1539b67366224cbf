// `synack serve`: synack on a Linux TUN device, serving HTTP (Node's own http module over
// synack's net API), echo (RFC 862) and discard (RFC 863) to the kernel's TCP on the other
// side of the device.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import type { Socket } from '../net/socket.js';
import type { Server } from '../net/server.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { renderNeighbours } from '../arp/neighbour.js';
import { formatMac } from '../wire/ethernet.js';
import {
  TUN_OPTIONS, TUN_HELP, UsageError, parseTunFlags, startTunHost, closeOnExit, describeStartError,
  hostTable, renderHostTable, hostStats, PatternCache, type TunHost,
} from './tunhost.js';
import {
  DATAGRAM_OPTIONS, DATAGRAM_HELP, DatagramUsageError, parseDatagramFlags, hasDatagramServices, startDatagramServices,
  type DatagramConfig, type DatagramServices,
} from './serve-datagram.js';

export const summary = 'serve HTTP, echo and discard over synack on a Linux TUN or TAP device';

const HELP = `usage: synack serve (--tun NAME | --tap NAME) --addr A/P [--host-addr B] [--http PORT]
                    [--echo PORT] [--discard PORT] [--pcap FILE] [fault options]

Creates the TUN (IP) or TAP (Ethernet, with ARP) device NAME, gives the kernel's side the
address B (so the kernel routes A/P through it) and serves from synack's address A:
  --http PORT      HTTP (Node's http module over synack's net API):
                     GET /              a page with synack's live connection table
                     GET /bytes/N       N bytes of a deterministic pseudo-random stream;
                                        header x-sha256 holds their hex SHA-256
                                        (the first 128 MiB stay in memory once served)
                     POST /sha256       the hex SHA-256 of the request body
                     GET /table.json    the connection table; GET /stats.json counters
                     GET /neigh.json    synack's ARP table (TAP), like ip neigh
  --echo PORT      echo (RFC 862): sends back what it receives, half-close aware
  --discard PORT   discard (RFC 863)
  --backlog N      listen backlog of each service (default 511)
  --workers N      shard the stack over N worker threads, one queue of a multi-queue
                   TUN device each (docs/sharding.md; --tun only, http/echo/discard);
                   --steering auto|ebpf|kernel: who picks a packet's queue (default auto)
  --control        JSON lines on stdin/stdout: {"cmd":"table"|"stats"|"neigh"|"quit","id":N}
                   (without it, pressing Enter on a terminal prints the table)
  -h, --help       this text

Datagram services (UDP):
${DATAGRAM_HELP}
${TUN_HELP}
example (as root, in a network namespace):
  ip netns add synack-demo
  ip netns exec synack-demo synack serve --tun sk0 --addr 198.18.0.1/24 --http 80 &
  ip netns exec synack-demo curl http://198.18.0.1/
  ip netns exec synack-demo synack serve --tap sk1 --addr 198.18.1.1/24 --http 80 &
  ip netns exec synack-demo ping -c 3 198.18.1.1; ip netns exec synack-demo ip neigh
`;

const MAX_BYTES = 2 ** 40;

/**
 * The digest of the first n bytes of the pattern (GET /bytes/N sends it in a header, before
 * the body). Computed once per n, in 4 MiB steps with the event loop free in between (so
 * a 100 MB request does not stall every other connection), shared by concurrent requests.
 */
const digestCache = new Map<number, Promise<string>>();
/** The first 128 MiB of the pattern, kept once generated (tunhost.ts PatternCache: the TUN bench serves 100 MB). */
const patternCache = new PatternCache(128 << 20);
function patternDigest(n: number): Promise<string> {
  const hit = digestCache.get(n);
  if (hit !== undefined) return hit;
  const p = (async () => {
    const h = createHash('sha256');
    const s = patternCache.open();
    for (let left = n; left > 0;) {
      const k = Math.min(left, 4 << 20);
      h.update(s.next(k));
      left -= k;
      if (left > 0) await new Promise<void>((r) => setImmediate(r));
    }
    return h.digest('hex');
  })();
  if (digestCache.size >= 256) digestCache.delete(digestCache.keys().next().value!);
  digestCache.set(n, p);
  return p;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function statusPage(host: TunHost): string {
  const c = host.stack.counters;
  const st = host.tun.stats;
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>synack on ${escapeHtml(host.tun.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head>
<body><h1>synack</h1>
<p>A TCP/IP stack in TypeScript, on ${host.cfg.kind.toUpperCase()} device <b>${escapeHtml(host.tun.name)}</b>: synack is
${formatIpv4Address(host.cfg.addr)}/${host.cfg.prefixLen}, the kernel ${formatIpv4Address(host.cfg.hostAddr)}.
This page came to you over synack's TCP.</p>
<h2>Connections</h2>
<pre>${escapeHtml(renderHostTable(host, { info: true }))}</pre>
${host.ethernet !== null ? `<h2>Neighbours (ARP)</h2>\n<pre>${escapeHtml(renderNeighbours(host.ethernet.neighbourTable()) || '(empty)\n')}</pre>\n` : ''}<h2>Counters</h2>
<pre>segments in ${c.TcpInSegs}, out ${c.TcpOutSegs}, retransmitted ${c.TcpRetransSegs}; active opens ${c.TcpActiveOpens}, passive opens ${c.TcpPassiveOpens}, resets sent ${c.TcpOutRsts}
device: ${st.rxPackets} packets in (${st.rxBatches} reads), ${st.txPackets} packets out (${st.txBatches} writes)</pre>
<p>Try <code>/bytes/1000000</code>, <code>POST /sha256</code>, <code>/table.json</code>, <code>/stats.json</code>.</p>
</body></html>
`;
}

/** GET /bytes/N: stream the pattern with backpressure. */
async function sendBytes(res: http.ServerResponse, n: number, head: boolean): Promise<void> {
  const digest = await patternDigest(n);
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n), 'x-sha256': digest });
  if (head) { res.end(); return; }
  const s = patternCache.open();
  let left = n;
  const pump = (): void => {
    while (left > 0) {
      const k = Math.min(left, 256 * 1024);
      left -= k;
      if (!res.write(s.next(k))) { res.once('drain', pump); return; }
    }
    res.end();
  };
  res.on('close', () => { left = 0; });
  pump();
}

function handle(host: TunHost, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://synack');
  const path = url.pathname;
  const m = /^\/bytes\/(\d+)$/.exec(path);
  if ((req.method === 'GET' || req.method === 'HEAD') && m) {
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n > MAX_BYTES) { res.writeHead(400).end('too many bytes\n'); return; }
    void sendBytes(res, n, req.method === 'HEAD');
    return;
  }
  if (req.method === 'POST' && path === '/sha256') {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; h.update(d); });
    req.on('end', () => {
      const hex = h.digest('hex');
      res.writeHead(200, { 'content-type': 'text/plain', 'x-bytes': String(n) }).end(hex + '\n');
    });
    return;
  }
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(statusPage(host));
    return;
  }
  if (req.method === 'GET' && path === '/table.json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hostTable(host)) + '\n');
    return;
  }
  if (req.method === 'GET' && path === '/neigh.json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(host.ethernet?.neighbourTable() ?? []) + '\n');
    return;
  }
  if (req.method === 'GET' && path === '/stats.json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hostStats(host)) + '\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

function portFlag(name: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${name} takes a port 1..65535, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  // --workers N: the stack sharded over N worker threads (src/shard, docs/sharding.md).
  if (argv.some((a) => a === '--workers' || a.startsWith('--workers='))) return (await import('./serve-sharded.js')).run(argv);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...TUN_OPTIONS, http: { type: 'string' }, echo: { type: 'string' }, discard: { type: 'string' }, backlog: { type: 'string' }, control: { type: 'boolean' }, ...DATAGRAM_OPTIONS },
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`synack serve: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  const control = values.control === true;
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n'); };

  let host: TunHost;
  let ports: { http: number | null; echo: number | null; discard: number | null };
  let backlog: number | undefined;
  let dgramCfg: DatagramConfig;
  try {
    ports = { http: portFlag('http', values.http), echo: portFlag('echo', values.echo), discard: portFlag('discard', values.discard) };
    try { dgramCfg = parseDatagramFlags(values); } catch (e) { throw e instanceof DatagramUsageError ? new UsageError(e.message) : e; }
    if (ports.http === null && ports.echo === null && ports.discard === null && !hasDatagramServices(dgramCfg)) {
      throw new UsageError('nothing to serve: give --http, --echo, --discard, --dhcp, --dns and/or --udp-echo');
    }
    if (values.backlog !== undefined) {
      backlog = Number(values.backlog);
      if (!Number.isInteger(backlog) || backlog < 1) throw new UsageError(`--backlog takes a positive integer, got '${values.backlog}'`);
    }
    host = startTunHost(parseTunFlags(values));
  } catch (e) {
    const msg = describeStartError(e);
    if (control) say({ error: msg, code: (e as { code?: string }).code });
    process.stderr.write(`synack serve: ${msg}\n`);
    if (e instanceof UsageError) process.stderr.write('(synack serve --help for usage)\n');
    return e instanceof UsageError ? 2 : 1;
  }

  const net = host.net;
  const servers: Server[] = [];
  /** Bytes the discard service has read (all connections): the TUN bench stops its clock on it. */
  let discardBytes = 0;
  /** The newest discard connection: bytes read and ms from its accept to its last read (the TUN bench's clock). */
  let discardLast: { bytes: number; ms: number } | null = null;
  let dgram: DatagramServices | null = null;
  const listen = (srv: Server, port: number): Promise<void> => new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port, host: formatIpv4Address(host.cfg.addr), backlog }, () => { srv.off('error', reject); resolve(); });
    servers.push(srv);
  });

  try {
    if (ports.http !== null) {
      const httpServer = http.createServer((req, res) => handle(host, req, res));
      httpServer.keepAliveTimeout = 30_000;
      // Node's http.Server runs its net.Server with allowHalfOpen and noDelay: so does ours.
      await listen(net.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => httpServer.emit('connection', s)), ports.http);
    }
    if (ports.echo !== null) {
      await listen(net.createServer({ allowHalfOpen: true }, (s: Socket) => {
        s.on('error', () => s.destroy());
        // pipe() ends our side once the peer's FIN has been read and everything echoed.
        s.pipe(s);
      }), ports.echo);
    }
    if (ports.discard !== null) {
      await listen(net.createServer({ allowHalfOpen: true }, (s: Socket) => {
        s.on('error', () => s.destroy());
        s.on('end', () => s.end());
        const t0 = performance.now();
        const conn = { bytes: 0, ms: 0 };
        discardLast = conn;
        s.on('data', (d: Uint8Array) => { discardBytes += d.length; conn.bytes += d.length; conn.ms = performance.now() - t0; });
      }), ports.discard);
    }
  } catch (e) {
    process.stderr.write(`synack serve: ${(e as Error).message}\n`);
    host.close();
    return 1;
  }
  try {
    if (hasDatagramServices(dgramCfg)) {
      const nif = host.stack.interfaces[0]!;
      dgram = await startDatagramServices(host.stack, host.driver, nif, dgramCfg, (line) => { if (!control) process.stderr.write(`synack serve: ${line}\n`); });
    }
  } catch (e) {
    process.stderr.write(`synack serve: ${(e as Error).message}\n`);
    host.close();
    return 1;
  }
  host.onClose(() => { for (const s of servers) s.close(); dgram?.close(); });

  const printSummary = (): void => {
    const st = hostStats(host) as { counters: Record<string, number>; tun: Record<string, number>; cpu: { userMs: number; systemMs: number } };
    process.stderr.write(`synack serve: ${st.tun.rxPackets} packets in, ${st.tun.txPackets} out; ${st.counters.TcpPassiveOpens} connections; ` +
      `${st.counters.TcpRetransSegs} retransmitted segments; CPU ${(st.cpu.userMs / 1000).toFixed(2)}s user ${(st.cpu.systemMs / 1000).toFixed(2)}s sys\n`);
  };
  closeOnExit(host, () => { if (!control) printSummary(); });

  const a = formatIpv4Address(host.cfg.addr);
  const services = [ports.http !== null ? `http :${ports.http}` : '', ports.echo !== null ? `echo :${ports.echo}` : '', ports.discard !== null ? `discard :${ports.discard}` : '', ...(dgram?.describe() ?? [])].filter(Boolean).join(', ');
  const faults = host.cfg.faults ? ` faults ${JSON.stringify(host.cfg.faults)} (${host.cfg.faultDirs}, seed ${host.cfg.seed})` : '';
  if (control) {
    say({ ready: true, pid: process.pid, tun: host.tun.name, kind: host.cfg.kind, mac: host.ethernet !== null ? formatMac(host.ethernet.mac) : undefined, addr: a, hostAddr: formatIpv4Address(host.cfg.hostAddr), ports, seed: host.cfg.seed });
  }
  process.stderr.write(`synack serve: ${host.tun.name} (${host.cfg.kind}) up; synack ${a}/${host.cfg.prefixLen}${host.ethernet !== null ? ` (${formatMac(host.ethernet.mac)})` : ''}, kernel ${formatIpv4Address(host.cfg.hostAddr)}; ${services}${faults}\n`);

  if (control) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      let m: { cmd?: string; id?: unknown };
      try { m = JSON.parse(line); } catch { say({ error: 'bad json' }); return; }
      switch (m.cmd) {
        case 'table': say({ id: m.id, table: hostTable(host) }); break;
        case 'stats': say({ id: m.id, stats: { ...hostStats(host), discardBytes, discardLast, ...(dgram?.stats() ?? {}) } }); break;
        case 'neigh': say({ id: m.id, neigh: host.ethernet?.neighbourTable() ?? [] }); break;
        case 'quit': say({ id: m.id, bye: true }); host.close(); process.exit(0); break;
        default: say({ id: m.id, error: `unknown command ${String(m.cmd)}` });
      }
    });
  } else if (process.stdin.isTTY) {
    process.stderr.write('press Enter for the connection table, Ctrl-C to stop\n');
    const rl = createInterface({ input: process.stdin });
    rl.on('line', () => process.stdout.write(renderHostTable(host, { info: true }) + (host.ethernet !== null ? renderNeighbours(host.ethernet.neighbourTable()) : '')));
  }
  // Serve until a signal: the open device keeps the event loop alive.
  await new Promise<never>(() => { /* forever */ });
  return 0;
}
