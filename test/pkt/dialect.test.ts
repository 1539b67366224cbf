// tests/pkt/dialect/: one script per packetdrill dialect feature, and a deliberately wrong
// twin (NAME-wrong.pkt) that must fail with the precise message its first line states:
//   // expect: LINE: MESSAGE
// A `// defines: A B=1` line gives the --define names the script runs with (parseScript reads it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runScript } from '../../src/pkt/interpreter.js';

const dir = fileURLToPath(new URL('../../../tests/pkt/dialect/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.pkt')).sort();

function run(f: string): ReturnType<typeof runScript> {
  const text = readFileSync(join(dir, f), 'utf8');
  const readFile = (p: string): string | null => { try { return readFileSync(join(dir, p), 'utf8'); } catch { return null; } };
  return runScript(text, { readFile });
}

describe('tests/pkt/dialect: each feature passes, its wrong twin fails precisely', () => {
  test('every feature has a positive and a wrong script', () => {
    const pos = files.filter((f) => !f.endsWith('-wrong.pkt'));
    assert.ok(pos.length >= 10, `${pos.length} features`);
    for (const f of pos) assert.ok(files.includes(f.replace('.pkt', '-wrong.pkt')), `${f} has no -wrong twin`);
  });
  for (const f of files) {
    test(f, () => {
      const r = run(f);
      const text = readFileSync(join(dir, f), 'utf8');
      const m = /^\/\/ expect: (\d+): (.*)$/m.exec(text);
      if (!f.endsWith('-wrong.pkt')) {
        assert.equal(m, null, 'a positive script has no expect: line');
        assert.ok(r.ok, r.failure ? `${f}:${r.failure.line}: ${r.failure.message}\n    ${r.failure.details.join('\n    ')}` : '');
        return;
      }
      assert.ok(m !== null, 'a -wrong script states `// expect: LINE: MESSAGE`');
      assert.equal(r.ok, false, 'the wrong script passed');
      assert.equal(`${r.failure!.line}: ${r.failure!.message}`, `${m[1]}: ${m[2]}`);
    });
  }
});
