// `synack demo`: two simulated hosts, Node's own http server on one and http client on the
// other, talking through synack in virtual time. One connection carries a GET and a POST,
// then the client closes it. Everything printed comes from the stacks' own packets and
// state: the sequence diagram (TraceRecorder → renderAscii), the `ss`-like connection table
// (stack.connections() → renderConnectionTable) and the counters.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Simulation } from '../sim/simulation.js';
import { twoHosts } from '../sim/hosts.js';
import { attachNet } from '../net/index.js';
import type { Socket } from '../net/socket.js';
import { TraceRecorder } from '../trace/recorder.js';
import { renderAscii } from '../viz/ascii.js';
import { renderConnectionTable } from '../stack/table.js';
import { formatDuration } from '../time/instant.js';
import type { Stack } from '../stack/stack.js';
import { joinNegativeValues, parseLoss } from './args.js';

export const summary = 'HTTP over synack between two simulated hosts: diagram, table, summary';

const HELP = `usage: synack demo [options]

Two simulated hosts in virtual time: a Node http server on 198.18.0.2:80, a Node http
client on 198.18.0.1. One connection carries a GET and a POST, then the client closes it.
Prints the sequence diagram (both ends' states, seq/ack), the connection table during the
transfer and after the close, and a summary. No privileges needed.

options:
  --loss P        packet loss on the link, each direction: a fraction in [0, 1)
                  (0.05) or a percentage (5%) (default 0)
  --delay MS      one-way link delay in milliseconds (default 10)
  --bandwidth M   link rate in Mbit/s, 0 = unlimited (default 10)
  --size BYTES    size of the GET response body and of the POST body (default 4000)
  --seed N        simulation seed: same seed, same run (default 1)
  --width N       widest diagram line (default 100)
  --full          print the whole diagram (by default a long one keeps its first and
                  last 120 lines and folds the middle)
  --absolute      absolute sequence numbers in the diagram (default: relative to the ISNs)
  -h, --help      this text
`;

export interface DemoOptions {
  /** Loss probability per packet and direction, 0..1. */
  loss?: number;
  /** One-way delay, ms. */
  delay?: number;
  /** Mbit/s, 0 = unlimited. */
  bandwidth?: number;
  size?: number;
  seed?: number;
  width?: number;
  absolute?: boolean;
  /** Print every diagram line (default: fold the middle of a diagram longer than 240 lines). */
  full?: boolean;
}

export interface DemoResult {
  ok: boolean;
  text: string;
  getBytes: number;
  postBytes: number;
  /** Bytes of the POST body the server's handler actually received. */
  serverReceived: number;
  segments: { client: number; server: number };
  retransmissions: { client: number; server: number };
  lost: number;
  /** Virtual µs from the first SYN until both ends were closed (client in TIME-WAIT). */
  duration: number;
  clientFinalState: string | null;
}

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

/** Deterministic body bytes (so a run is reproducible and its hash checkable). */
function body(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = 32 + (x % 95); // printable, in case someone pipes it somewhere
  }
  return b;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function table(title: string, t: number, a: Stack, b: Stack): string {
  return `-- ${title} (t=${formatDuration(t)}) --\n` +
    `client ${CLIENT}\n${renderConnectionTable(a.connections())}` +
    `server ${SERVER}\n${renderConnectionTable(b.connections())}`;
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const loss = o.loss ?? 0;
  const delayMs = o.delay ?? 10;
  const mbps = o.bandwidth ?? 10;
  const size = o.size ?? 4000;
  const seed = o.seed ?? 1;
  const sim = new Simulation({ seed });
  const faults = loss > 0 ? { loss } : undefined;
  const net = twoHosts(sim, { aAddr: CLIENT, bAddr: SERVER, delay: Math.round(delayMs * 1000), bandwidth: mbps * 1e6, faults });
  const { a, b } = net;
  const rec = new TraceRecorder().attach(a).attach(b);
  rec.watchLink(net.faultA ?? net.rawA).watchLink(net.faultB ?? net.rawB);
  const clientNet = attachNet(a, sim);
  const serverNet = attachNet(b, sim);
  const out: string[] = [];
  const tables: string[] = [];

  // ---- the server: Node's http.Server, fed with synack connections.
  const payload = body(size, seed);
  const httpServer = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/data') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      res.end(payload);
      return;
    }
    if (req.method === 'POST' && req.url === '/upload') {
      tables.push(table('during the POST upload: request headers read by the server', sim.now(), a, b));
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; serverReceived += d.length; h.update(d); });
      req.on('end', () => {
        const reply = JSON.stringify({ bytes: n, sha256: h.digest('hex') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
        res.end(reply);
      });
      return;
    }
    res.writeHead(404).end();
  });
  // Node's http.Server runs its net.Server with allowHalfOpen and noDelay: so does ours.
  const listener = serverNet.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => httpServer.emit('connection', s));
  listener.listen(80);

  // ---- the client: Node's http.request through an Agent whose sockets are synack sockets.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let clientSocket: Socket | null = null;
  // The Agent passes its options (port, host, noDelay: true, …) as Node's agent would to net.
  (agent as unknown as { createConnection: unknown }).createConnection = (opts: { port: number; host: string }) => {
    clientSocket = clientNet.createConnection(opts);
    return clientSocket;
  };
  const request = (method: string, path: string, data?: Buffer, onResponse?: () => void) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.request({ host: SERVER, port: 80, method, path, agent, headers: data ? { 'content-length': data.length } : {} }, (res) => {
        onResponse?.();
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });

  let failure: Error | null = null;
  let finished = false;
  let getRes: { status: number; body: Buffer } | null = null;
  let postRes: { status: number; body: Buffer } | null = null;
  let serverReceived = 0;
  const upload = body(size, seed + 1);
  void (async () => {
    getRes = await request('GET', '/data', undefined, () => tables.push(table('during the GET response: headers arrived at the client', sim.now(), a, b)));
    postRes = await request('POST', '/upload', upload);
    // The close: the client side closes its (idle, kept-alive) connection first.
    agent.destroy();
  })().catch((e: Error) => { failure = e; }).finally(() => { finished = true; });

  const started = performance.now();
  const budget = 600_000_000; // 10 virtual minutes is far more than any sane --loss needs
  await sim.runUntilAsync(() => finished, { maxTime: budget });
  // Both ends closed: the server's connection gone, the client's in TIME-WAIT (it closed first).
  await sim.runUntilAsync(() => failure !== null || (b.connectionCount === 0 && a.tcbs().every((t) => t.state === 'TIME-WAIT')), { maxTime: budget });
  const closedAt = sim.now();
  const clientFinalState = a.tcbs()[0]?.state ?? null;
  tables.push(table('after the close: the client closed first and waits 2*MSL in TIME-WAIT', closedAt, a, b));
  listener.close();
  await sim.runUntilIdleAsync({ maxTime: budget });
  const realMs = performance.now() - started;

  // ---- output.
  const names = { [CLIENT]: 'client', [SERVER]: 'server' };
  out.push('synack demo: Node http over synack, two simulated hosts, virtual time');
  out.push(`  client ${CLIENT} <--- ${delayMs} ms one-way, ${mbps > 0 ? `${mbps} Mbit/s` : 'unlimited rate'}, loss ${(loss * 100).toFixed(1)}% each way ---> server ${SERVER}:80`);
  out.push(`  seed ${seed}; GET /data (${size}-byte response), POST /upload (${size}-byte body) on one kept-alive connection; the client closes it`);
  out.push('');
  out.push('== sequence diagram ==');
  out.push(foldLines(renderAscii(rec.events, { names, width: o.width ?? 100, absolute: o.absolute ?? false }).trimEnd(), o.full === true ? Infinity : 240));
  out.push('');
  out.push('== connection table (ss -tanoi) ==');
  out.push(tables.join('\n').trimEnd());
  out.push('');

  const getOk = getRes !== null && (getRes as { status: number; body: Buffer }).status === 200 && sha256((getRes as { body: Buffer }).body) === sha256(payload);
  let postOk = false;
  if (postRes !== null) {
    try {
      const j = JSON.parse((postRes as { body: Buffer }).body.toString()) as { bytes: number; sha256: string };
      postOk = j.bytes === upload.length && j.sha256 === sha256(upload);
    } catch { postOk = false; }
  }
  const segsOut = (host: number) => rec.events.filter((e) => e.type === 'segment' && e.dir === 'out' && e.host === host);
  const aSegs = segsOut(a.traceHost), bSegs = segsOut(b.traceHost);
  const dataSegs = (l: typeof aSegs) => l.filter((e) => e.type === 'segment' && e.len > 0).length;
  const lost = (net.faultA?.stats.dropped ?? 0) + (net.faultB?.stats.dropped ?? 0);
  const firstSyn = rec.events.find((e) => e.type === 'segment')?.t ?? 0;
  const duration = closedAt - firstSyn;
  const cs = clientSocket as Socket | null;
  out.push('== summary ==');
  if (failure !== null) out.push(`  FAILED: ${(failure as Error).message}`);
  out.push(`  GET /data      -> ${getRes ? (getRes as { status: number }).status : '-'}, ${getRes ? (getRes as { body: Buffer }).body.length : 0} bytes, sha256 ${getOk ? 'matches' : 'MISMATCH'}`);
  out.push(`  POST /upload   -> ${postRes ? (postRes as { status: number }).status : '-'}, server got ${serverReceived} of ${size} bytes, sha256 ${postOk ? 'matches' : 'MISMATCH'}`);
  out.push(`  bytes          client sent ${cs?.bytesWritten ?? 0}, received ${cs?.bytesRead ?? 0} (HTTP, both requests)`);
  out.push(`  segments       client sent ${aSegs.length} (${dataSegs(aSegs)} with data), server sent ${bSegs.length} (${dataSegs(bSegs)} with data)`);
  out.push(`  retransmitted  client ${a.counters.TcpRetransSegs}, server ${b.counters.TcpRetransSegs}; lost on the link ${lost}`);
  out.push(`  virtual time   ${formatDuration(duration)} from the first SYN to the close; TIME-WAIT ended at ${formatDuration(sim.now())}`);
  out.push(`  real time      ${realMs.toFixed(0)} ms`);
  return {
    ok: failure === null && getOk && postOk,
    text: out.join('\n') + '\n',
    getBytes: getRes ? (getRes as { body: Buffer }).body.length : 0,
    postBytes: postOk ? size : 0,
    serverReceived,
    segments: { client: aSegs.length, server: bSegs.length },
    retransmissions: { client: a.counters.TcpRetransSegs, server: b.counters.TcpRetransSegs },
    lost,
    duration,
    clientFinalState,
  };
}

/** Keep the first and last `max / 2` lines of a long diagram; say how many were folded. */
export function foldLines(text: string, max: number): string {
  const lines = text.split('\n');
  if (lines.length <= max) return text;
  const keep = Math.floor(max / 2);
  const folded = lines.length - 2 * keep;
  return [...lines.slice(0, keep), `   ... ${folded.toLocaleString('en-US')} lines folded (--full prints them) ...`, ...lines.slice(-keep)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv, ['--loss', '--delay', '--bandwidth', '--size', '--seed', '--width']),
      options: {
        full: { type: 'boolean' },
        loss: { type: 'string' }, delay: { type: 'string' }, bandwidth: { type: 'string' }, size: { type: 'string' },
        seed: { type: 'string' }, width: { type: 'string' }, absolute: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`synack demo: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  const num = (name: string, min: number, max: number, int: boolean): number | undefined | null => {
    const s = values[name];
    if (s === undefined) return undefined;
    const v = Number(s);
    if (Number.isFinite(v) && v < 0 && min >= 0) {
      process.stderr.write(`synack demo: --${name} cannot be negative; got '${String(s)}'\n`);
      return null;
    }
    if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      process.stderr.write(`synack demo: --${name} must be ${int ? 'an integer' : 'a number'} in ${min}..${max}, got '${String(s)}'\n`);
      return null;
    }
    return v;
  };
  const loss = values.loss === undefined ? 0 : parseLoss(String(values.loss));
  if (typeof loss === 'string') { process.stderr.write(`synack demo: ${loss}\n`); return 2; }
  const delay = num('delay', 0, 10_000, false);
  const bandwidth = num('bandwidth', 0, 100_000, false);
  const size = num('size', 0, 100_000_000, true);
  const seed = num('seed', 0, 2 ** 32 - 1, true);
  const width = num('width', 60, 1000, true);
  if (delay === null || bandwidth === null || size === null || seed === null || width === null) return 2;
  const r = await runDemo({ loss, delay, bandwidth, size, seed, width, absolute: values.absolute === true, full: values.full === true });
  process.stdout.write(r.text);
  return r.ok ? 0 : 1;
}
