// The package as npm would publish it: LICENSE, repository fields, the browser bundle,
// docs and example scripts in; build leftovers (native/build/) and tests out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

test('npm pack: the files a user needs and nothing left over from a build', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }>; size: number }>;
  const files = pack!.files.map((f) => f.path);
  for (const want of ['LICENSE', 'README.md', 'package.json', 'bin/synack.js', 'dist/src/index.js', 'dist/browser/synack.js',
    'dist/lab/index.html', 'dist/lab/lab.js', 'native/tun.c', 'native/binding.gyp', 'docs/browser.md', 'tests/pkt/closing-syn.pkt']) {
    assert.ok(files.includes(want), `${want} missing from the package`);
  }
  const bad = files.filter((f) => f.startsWith('native/build/') || f.startsWith('dist/test/') || f.startsWith('node_modules/') || f.endsWith('.pcap'));
  assert.deepEqual(bad, []);
});

test('package.json: license file, repository, homepage, the browser export', () => {
  const p = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown> & { exports: Record<string, unknown> };
  assert.equal(p.license, 'MIT');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.ok(p.repository !== undefined && p.homepage !== undefined);
  assert.deepEqual(p.exports['./browser'], { types: './dist/src/browser.d.ts', default: './dist/browser/synack.js' });
  assert.ok(existsSync(join(root, 'dist/browser/synack.js')));
});

test('the browser bundle is one self-contained ES module that runs a scenario', async () => {
  const src = readFileSync(join(root, 'dist/browser/synack.js'), 'utf8');
  assert.doesNotMatch(src, /\bfrom\s*["']node:|require\(["']node:/);
  const spec = 'synack/browser'; // the package's own export, as a user imports it
  const m = await import(spec) as typeof import('../src/browser.js');
  const r = m.runScenario(m.findScenario('handshake')!, { drops: [0] });
  assert.equal(r.events.filter((e) => e.type === 'segment' && e.dir === 'out' && e.lost).length, 1);
  assert.match(m.renderSvg(r.events, { names: r.hosts }), /class="legend"/);
});
