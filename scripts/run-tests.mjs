#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner and
// ends with one line: "N passed, N failed".
// Usage: node scripts/run-tests.mjs [substring-filter...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files;
try {
  files = walk(testRoot, []).sort();
} catch {
  console.error('no compiled tests in dist/test: run `npm run build` (npm test does it)');
  process.exit(1);
}
if (filters.length) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));

const res = spawnSync(process.execPath, [
  '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=' + join(root, 'scripts', 'summary-reporter.mjs'), '--test-reporter-destination=stdout',
  ...files,
], { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);
