// Runs every conformance script in tests/pkt/ (written from the RFCs) against synack.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runScript } from '../../src/pkt/interpreter.js';

// Compiled to dist/test/pkt/: the scripts live in <repo>/tests/pkt/.
const dir = fileURLToPath(new URL('../../../tests/pkt/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.pkt')).sort();

// Stricter than packetdrill: a packet synack sends after a script's last line fails it too.
const STRICT = [{ name: 'fail_extra_packets', value: '' }];

function check(f: string, options: Array<{ name: string; value: string }> = []): void {
  const readFile = (p: string): string | null => { try { return readFileSync(join(dir, p), 'utf8'); } catch { return null; } };
  const r = runScript(readFileSync(join(dir, f), 'utf8'), { options: [...STRICT, ...options], readFile });
  if (!r.ok) {
    const fl = r.failure!;
    assert.fail(`${f}:${fl.line}: ${fl.message}\n    ${fl.details.join('\n    ')}`);
  }
}

describe('tests/pkt conformance scripts', () => {
  test('there are at least 60 scripts', () => {
    assert.ok(files.length >= 60, `${files.length} scripts`);
  });
  for (const f of files) test(f, () => check(f));
});

// Virtual time is exact: the scripts also pass with no timing tolerance at all, so every
// time they state (RTOs, backoff, delayed ACK, keepalive, TIME-WAIT) is the stack's own.
describe('tests/pkt conformance scripts, exact timing', () => {
  const exact = [{ name: 'tolerance_usecs', value: '0' }, { name: 'tolerance_percent', value: '0' }];
  for (const f of files) test(f, () => check(f, exact));
});
