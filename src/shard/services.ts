// The services a shard can run (every shard listens on each port; a connection is accepted
// by the shard that owns its 4-tuple): echo (RFC 862), discard (RFC 863) and HTTP with
// GET /bytes/N (N bytes of the deterministic pattern `synack serve` sends, x-sha256 header
// first), POST /sha256 and GET /shard (which shard answered). Node's http module runs over
// synack's net API, as in `synack serve`.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { NetModule } from '../net/index.js';
import type { Server } from '../net/server.js';
import type { Socket } from '../net/socket.js';
import { PatternStream } from '../cli/tunhost.js';

export interface ShardServices {
  echo?: number;
  discard?: number;
  http?: number;
  backlog?: number;
}

export interface RunningServices {
  /** Bytes the discard service has read on this shard. */
  discardBytes(): number;
  close(): void;
}

const digests = new Map<number, string>();
function patternDigest(n: number): string {
  let d = digests.get(n);
  if (d === undefined) {
    const h = createHash('sha256');
    const s = new PatternStream();
    for (let left = n; left > 0;) { const k = Math.min(left, 4 << 20); h.update(s.next(k)); left -= k; }
    d = h.digest('hex');
    if (digests.size > 64) digests.clear();
    digests.set(n, d);
  }
  return d;
}

function handle(shard: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://synack').pathname;
  const m = /^\/bytes\/(\d+)$/.exec(path);
  if (req.method === 'GET' && m !== null) {
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n > 2 ** 34) { res.writeHead(400).end('too many bytes\n'); return; }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n), 'x-sha256': patternDigest(n), 'x-shard': String(shard) });
    const s = new PatternStream();
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
    return;
  }
  if (req.method === 'POST' && path === '/sha256') {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; h.update(d); });
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'x-bytes': String(n), 'x-shard': String(shard) }).end(h.digest('hex') + '\n'));
    return;
  }
  if (req.method === 'GET' && path === '/shard') { res.writeHead(200, { 'content-type': 'text/plain' }).end(`${shard}\n`); return; }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

/** Start the services on this shard's stack (listening on `addr`). Resolves once all listen. */
export async function startServices(net: NetModule, shard: number, addr: string, cfg: ShardServices): Promise<RunningServices> {
  const servers: Server[] = [];
  let discarded = 0;
  const listen = (srv: Server, port: number): Promise<void> => new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port, host: addr, backlog: cfg.backlog }, () => { srv.off('error', reject); resolve(); });
    servers.push(srv);
  });
  if (cfg.http !== undefined) {
    const hs = http.createServer((req, res) => handle(shard, req, res));
    hs.keepAliveTimeout = 30_000;
    await listen(net.createServer({ allowHalfOpen: true, noDelay: true }, (s: Socket) => hs.emit('connection', s)), cfg.http);
  }
  if (cfg.echo !== undefined) {
    await listen(net.createServer({ allowHalfOpen: true }, (s: Socket) => { s.on('error', () => s.destroy()); s.pipe(s); }), cfg.echo);
  }
  if (cfg.discard !== undefined) {
    await listen(net.createServer({ allowHalfOpen: true }, (s: Socket) => {
      s.on('error', () => s.destroy());
      s.on('end', () => s.end());
      s.on('data', (d: Uint8Array) => { discarded += d.length; });
    }), cfg.discard);
  }
  return { discardBytes: () => discarded, close: () => { for (const s of servers) s.close(); } };
}
