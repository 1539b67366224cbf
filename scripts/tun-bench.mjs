#!/usr/bin/env node
// Throughput of synack against the Linux kernel over a TUN device, both ways — the same
// measurement as `synack bench --only tun-kernel-to-synack,tun-synack-to-kernel`, with every
// run printed. Needs root, curl, socat and a build (`npm run build`).
//
//   sudo node scripts/tun-bench.mjs [--mb 100] [--runs 3] [--json] [-- serve args…]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const mod = join(root, 'dist', 'src', 'cli', 'bench', 'tun.js');
if (!existsSync(mod)) { console.error('tun-bench: run `npm run build` first'); process.exit(1); }
const { tunBench, tunUnavailable } = await import(mod);
const { values, positionals } = parseArgs({ options: { mb: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean' } }, allowPositionals: true });
const why = tunUnavailable();
if (why !== null) { console.error(`tun-bench: ${why}`); process.exit(1); }
const runs = Number(values.runs), mb = Number(values.mb);
if (!Number.isInteger(runs) || runs < 1 || !(mb > 0)) { console.error('tun-bench: --runs takes a positive integer, --mb a positive number'); process.exit(2); }
const results = await tunBench({ bytes: Math.round(mb * 1e6), runs, serveArgs: positionals, onRun: (r) => { if (!values.json) console.error(JSON.stringify(r)); } });
if (values.json) console.log(JSON.stringify(results, null, 2));
else console.table(results);
