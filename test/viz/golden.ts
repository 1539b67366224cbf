// Golden files: test/viz/golden/NAME.txt, compared exactly. UPDATE_GOLDEN=1 rewrites them
// (review the diff: a change means the engine or a renderer now behaves differently).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import assert from 'node:assert/strict';

// Compiled tests run from dist/test/viz; the golden files live in the source tree.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const GOLDEN_DIR = join(ROOT, 'test', 'viz', 'golden');

export function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(file, 'utf8');
  } catch {
    assert.fail(`missing golden file ${file}: run UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/viz`);
  }
  assert.equal(actual, expected, `${name}: rendering differs from ${file} (UPDATE_GOLDEN=1 to accept)`);
}
