// docs/core.md: the ```js example runs as written against the built package (synack/core).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

test('docs/core.md: the example runs and prints what the text says', () => {
  const md = readFileSync(join(root, 'docs', 'core.md'), 'utf8');
  const m = /```js\n([\s\S]*?)```/.exec(md);
  assert.ok(m !== null);
  assert.match(m[1]!, /from 'synack\/core'/);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', m[1]!], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^HELLO CORE$/m);
  assert.match(r.stdout, /TIME-WAIT/);
  assert.match(r.stdout, /client closed: cause=\S+ error=null/);
  assert.match(r.stdout, /^CLOSED at 60\.\d+ s$/m);
});
