// `synack lab [--port N]`: serve the lab page (dist/lab/, built by scripts/build-browser.mjs)
// on 127.0.0.1 and print its URL. The page is static files — everything runs in the
// browser on synack's core — so this is only a file server; the same files work from any
// static host.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, normalize, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { joinNegativeValues } from './args.js';

export const summary = 'the synack lab: the textbook TCP cases in your browser (serves 127.0.0.1)';

const HELP = `usage: synack lab [--port N]

Serves the synack lab on http://127.0.0.1:PORT/ and prints the URL: a page that runs the
textbook TCP scenarios on synack's core, in the browser — step through them, lose the
segment you choose, change sysctls, ask what-if questions; English and Chinese.
The page needs no server: dist/lab/ works from any static host.

options:
  --port N      TCP port (default 8315; 0 picks a free one)
  -h, --help    this text
`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
};

/** dist/lab next to this file (dist/src/cli → dist/lab). */
export function labDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lab');
}

/** A static file server for `dir` on 127.0.0.1; resolves with the server once listening. */
export function serveLab(dir: string, port: number): Promise<Server> {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 403 : 405).end();
      return;
    }
    readFile(file).then((body) => {
      const ext = file.slice(file.lastIndexOf('.'));
      res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, () => { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'); });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(server); });
  });
}

export async function run(argv: string[]): Promise<number> {
  let values: { port?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(argv, ['--port']), options: { port: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    process.stderr.write(`synack lab: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help === true) { process.stdout.write(HELP); return 0; }
  const port = values.port === undefined ? 8315 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`synack lab: --port must be an integer in 0..65535, got '${values.port}'\n`);
    return 2;
  }
  const dir = labDir();
  if (!existsSync(join(dir, 'index.html'))) {
    process.stderr.write(`synack lab: the page is not built (${dir}); run \`npm run build\`\n`);
    return 1;
  }
  let server: Server;
  try {
    server = await serveLab(dir, port);
  } catch (e) {
    process.stderr.write(`synack lab: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  process.stdout.write(`synack lab: http://127.0.0.1:${actual}/  (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { server.close(); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
