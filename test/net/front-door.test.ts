// The front door: the ```js example in docs/net.md runs as written against the built
// package, with `import … from 'synack'` resolved by package self-reference from the repo root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// dist/test/net/front-door.test.js → the repository root.
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

for (const doc of ['README.md', join('docs', 'net.md')]) test(`${doc}: the js example runs as written and prints what the text says`, () => {
  const md = readFileSync(join(root, doc), 'utf8');
  const m = /```js\n([\s\S]*?)```/.exec(md);
  assert.ok(m !== null, `${doc} has a \`\`\`js block`);
  const code = m[1]!;
  assert.match(code, /from 'synack'/);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `exit status ${r.status}\nstderr:\n${r.stderr}`);
  assert.match(r.stdout, /^hello from 198\.18\.0\.2$/m);
  assert.match(r.stdout, /SYN-SENT/);
  assert.match(r.stdout, /TIME-WAIT/);
  assert.match(r.stdout, /2MSL timeout/);
});

test('the package entry exports the public API', async () => {
  const m = await import(join(root, 'dist', 'src', 'index.js')) as Record<string, unknown>;
  for (const name of [
    'Stack', 'Simulation', 'twoHosts', 'createLinkPair', 'FaultyLink', 'TraceRecorder', 'renderAscii', 'renderSvg',
    'renderMermaid', 'renderConnectionTable', 'attachNet', 'createNet', 'Socket', 'Server', 'RealtimeNetDriver',
    'realtimeTwoHosts', 'RealtimeDriver', 'RealtimeClock', 'ManualClock', 'StackError',
  ]) assert.equal(typeof m[name], 'function', name);
  const core = await import(join(root, 'dist', 'src', 'core.js')) as Record<string, unknown>;
  assert.equal(core.attachNet, undefined, 'the browser-clean core has no net layer');
  assert.equal(typeof core.Stack, 'function');
});
