// The core must bundle for browsers: nothing outside the Node-only adapters may import a
// node: module, use Buffer, or read the wall clock / arm its own timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const src = join(root, 'src');

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

const NODE_ONLY = [/^src\/wisp\/node\//, /^src\/gateway\/node\//, /^src\/net\//, /^src\/cli\//, /^src\/link\/tun/, /^src\/link\/rtsched/, /^src\/index\.ts$/, /^src\/node\//, /^src\/pktlinux\//, /^src\/dgram\//, /^src\/shard\//];
const CLOCK_ALLOWED = [/^src\/time\/clock\.ts$/, /^src\/time\/realtime\.ts$/,
  // The lab page (browser UI, not core): it paces "play" with setInterval; it imports no node: module.
  /^src\/lab\//];

test('core modules import no node: builtins and use no Buffer', () => {
  const bad: string[] = [];
  for (const f of walk(src)) {
    const rel = relative(root, f).replaceAll('\\', '/');
    if (NODE_ONLY.some((r) => r.test(rel))) continue;
    const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    if (/from\s+['"]node:|require\(\s*['"]node:|from\s+['"](fs|net|os|crypto|stream|events|path|child_process)['"]/.test(text)) bad.push(`${rel}: node import`);
    if (/\bBuffer\./.test(text) || /\bnew Buffer\b/.test(text)) bad.push(`${rel}: Buffer`);
  }
  assert.deepEqual(bad, []);
});

test('the TCP core never reads the wall clock or arms timers', () => {
  const bad: string[] = [];
  for (const f of walk(src)) {
    const rel = relative(root, f).replaceAll('\\', '/');
    if (NODE_ONLY.some((r) => r.test(rel)) || CLOCK_ALLOWED.some((r) => r.test(rel))) continue;
    const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    if (/Date\.now\(|performance\.now\(|\bsetTimeout\(|\bsetInterval\(/.test(text)) bad.push(rel);
  }
  assert.deepEqual(bad, []);
});
