// `synack get URL --tun …`: an HTTP GET with Node's http client over synack on a TUN device.
import http from 'node:http';
import { createWriteStream, type WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import type { Socket } from '../net/socket.js';
import { TUN_OPTIONS, TUN_HELP, UsageError, parseTunFlags, startTunHost, closeOnExit, describeStartError, settle, type TunHost } from './tunhost.js';

export const summary = 'HTTP GET over synack on a Linux TUN device';

const HELP = `usage: synack get URL --tun NAME --addr A/P [options]

Fetches URL (http://IPv4[:port]/path, a server on the kernel's side of the device) with
Node's http client over synack and prints the body, or saves it with -o.

  -o, --output FILE   save the body to FILE (a progress bar shows on a terminal)
  --sha256            print the body's SHA-256 to stderr
  -q, --quiet         no status line on stderr
  -h, --help          this text

${TUN_HELP}
exit status: 0 for a 2xx response, 1 for another status or a connection error, 2 on bad usage.
`;

function human(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

/** A one-line progress bar on stderr, redrawn at most 10 times a second. */
class Progress {
  private last = 0;
  private readonly t0 = performance.now();
  constructor(private readonly total: number | null) {}
  update(done: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const rate = done / Math.max(0.001, (now - this.t0) / 1000);
    let bar = '';
    if (this.total !== null && this.total > 0) {
      const w = 30, f = Math.min(w, Math.round((done / this.total) * w));
      bar = `[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${((done / this.total) * 100).toFixed(0).padStart(3)}% `;
    }
    process.stderr.write(`\r${bar}${human(done)}${this.total !== null ? ' / ' + human(this.total) : ''}  ${human(rate)}/s   `);
  }
  done(n: number): void { this.update(n, true); process.stderr.write('\n'); }
}

export async function run(argv: string[]): Promise<number> {
  let values, positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { ...TUN_OPTIONS, output: { type: 'string', short: 'o' }, sha256: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
      allowPositionals: true,
    }));
  } catch (e) {
    process.stderr.write(`synack get: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }

  let host: TunHost;
  let url: URL;
  try {
    if (positionals.length !== 1) throw new UsageError('need one URL');
    try { url = new URL(positionals[0]!); } catch { throw new UsageError(`not a URL: '${positionals[0]}'`); }
    if (url.protocol !== 'http:') throw new UsageError(`only http:// URLs (got ${url.protocol})`);
    if (parseIpv4Address(url.hostname) === null) throw new UsageError(`the URL's host must be an IPv4 address (synack does no DNS), got '${url.hostname}'`);
    host = startTunHost(parseTunFlags(values));
  } catch (e) {
    process.stderr.write(`synack get: ${describeStartError(e)}\n`);
    if (e instanceof UsageError) process.stderr.write('(synack get --help for usage)\n');
    return e instanceof UsageError ? 2 : 1;
  }
  closeOnExit(host);

  const agent = new http.Agent({ keepAlive: false });
  // Node's http client, with synack sockets instead of the kernel's.
  (agent as unknown as { createConnection: unknown }).createConnection = (opts: { port: number; host: string }): Socket =>
    host.net.createConnection({ port: Number(opts.port), host: opts.host, noDelay: true } as never);

  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      const lenHeader = res.headers['content-length'];
      const total = lenHeader !== undefined ? Number(lenHeader) : null;
      const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
      let out: WriteStream | NodeJS.WriteStream = process.stdout;
      if (values.output !== undefined) out = createWriteStream(values.output);
      const progress = values.output !== undefined && process.stderr.isTTY && !values.quiet ? new Progress(total) : null;
      const hash = values.sha256 ? createHash('sha256') : null;
      let n = 0;
      res.on('data', (d: Buffer) => {
        n += d.length;
        hash?.update(d);
        progress?.update(n);
        if (!out.write(d)) { res.pause(); out.once('drain', () => res.resume()); }
      });
      res.on('end', () => {
        progress?.done(n);
        const finish = (): void => {
          const s = (performance.now() - t0) / 1000;
          if (!values.quiet) process.stderr.write(`synack get: ${res.statusCode} ${res.statusMessage ?? ''}, ${n} bytes in ${s.toFixed(2)} s (${human(n / Math.max(s, 1e-6))}/s)\n`);
          if (hash) process.stderr.write(`sha256 ${hash.digest('hex')}\n`);
          resolve(ok ? 0 : 1);
        };
        if (out !== process.stdout) (out as WriteStream).end(finish);
        else process.stdout.write('', finish);
      });
      res.on('error', (e) => { process.stderr.write(`synack get: ${e.message}\n`); resolve(1); });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`synack get: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}\n`);
      resolve(1);
    });
  });
  agent.destroy();
  await settle(host);
  host.close();
  return code;
}
