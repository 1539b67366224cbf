#!/usr/bin/env node
// Builds the browser artefacts from the compiled JavaScript in dist/src (run `tsc` first;
// `npm run build` does both):
//   dist/browser/synack.js   the `synack/browser` ES module: the browser-clean core in one file
//   dist/lab/                the lab page: index.html, lab.css, lab.js — static files that work
//                            from any static host (`synack lab` serves them on 127.0.0.1)
// Prints the bundle sizes (raw and gzip), the figures quoted in docs/browser.md.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

async function bundle(entry, outfile) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, outfile),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const bytes = readFileSync(join(root, outfile));
  return { file: outfile, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const out = [];
out.push(await bundle('dist/src/browser.js', 'dist/browser/synack.js'));
if (existsSync(join(root, 'dist/src/lab/main.js'))) {
  out.push(await bundle('dist/src/lab/main.js', 'dist/lab/lab.js'));
  mkdirSync(join(root, 'dist/lab'), { recursive: true });
  for (const f of ['index.html', 'lab.css']) copyFileSync(join(root, 'src/lab', f), join(root, 'dist/lab', f));
}
if (!quiet) {
  for (const o of out) console.log(`${o.file}: ${(o.raw / 1024).toFixed(1)} KiB, ${(o.gzip / 1024).toFixed(1)} KiB gzipped`);
}

