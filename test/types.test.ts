// The type test: tsc --noEmit on test/types/ (strict) against the built package, as a
// TypeScript user of synack would compile it — under moduleResolution nodenext (the
// package's `exports`, by self-reference), bundler, and node10 (no `exports`: the `types`
// field and `typesVersions` for `synack/core`; run from a scratch directory whose
// node_modules/synack links to this repository, as an installed package would sit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(project: string, cwd = root): void {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
}

test('test/types type-checks under strict + nodenext without casts', () => {
  typecheck(join(root, 'test', 'types', 'tsconfig.json'));
});

test('test/types type-checks under moduleResolution bundler', () => {
  typecheck(join(root, 'test', 'types', 'tsconfig.bundler.json'));
});

test('test/types type-checks under moduleResolution node10 from an installed-package layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-types-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    for (const m of ['@types', 'ws', 'undici', 'undici-types']) symlinkSync(join(root, 'node_modules', m), join(dir, 'node_modules', m));
    symlinkSync(root, join(dir, 'node_modules', 'synack'));
    copyFileSync(join(root, 'test', 'types', 'net-types.ts'), join(dir, 'net-types.ts'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'CommonJS', moduleResolution: 'Node10', strict: true, noEmit: true, types: ['node'], skipLibCheck: true, lib: ['ES2022'] },
      files: ['net-types.ts'],
    }));
    typecheck(join(dir, 'tsconfig.json'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
