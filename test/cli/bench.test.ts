// `synack bench` as a user runs it: bad arguments fail loudly (exit 2), progress goes to
// stderr one line per case even when piped, --json carries the machine, and the shipped
// bench code does not reach into test/ (which an installed package does not have).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ceiling } from '../../src/cli/bench/ceiling.js';
import { connRate, CASES } from '../../src/cli/bench/suite.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const bin = join(root, 'bin', 'synack.js');

function bench(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, 'bench', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('bench: invalid --runs and --only are usage errors with exit 2', () => {
  for (const args of [['--runs', 'abc'], ['--runs', '0'], ['--runs', '2.5'], ['--runs'], ['--only', 'nope'], ['--only', ''], ['--only', 'ceiling,nope'], ['--bogus']]) {
    const r = bench(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
    assert.match(r.err, /synack bench: /, args.join(' '));
    assert.equal(r.out, '', 'nothing on stdout');
  }
  assert.match(bench(['--only', 'nope']).err, /no case named nope \(cases: ceiling,/);
});

test('bench: piped --json run has the machine, the ceiling, and one progress line per case', () => {
  const r = bench(['--only', 'ceiling,loss-mathis', '--runs', '2', '--quick', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { machine: { cpu: string; cores: number; node: string; loadavg: number[] }; results: Array<{ name: string; runs: number; median: number }> };
  assert.equal(j.machine.node, process.version);
  assert.ok(j.machine.cores >= 1 && j.machine.cpu.length > 0 && j.machine.loadavg.length === 3);
  assert.deepEqual(j.results.map((x) => [x.name, x.runs]), [['ceiling', 2], ['loss-mathis', 1]]);
  assert.ok(j.results[0]!.median > 0);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.filter((l) => /^bench: ceiling: /.test(l)).length, 1, r.err);
  assert.equal(lines.filter((l) => /^bench: loss-mathis: /.test(l)).length, 1, r.err);
});

test('ceiling: the minimal pipeline moves and verifies every segment', () => {
  const s = ceiling(1, 1448);
  assert.ok(s.value > 0 && s.extra!['µs/segment']! > 0);
});

test('connrate: warm-up connections run untimed before the measured ones, in a fresh process per run', () => {
  const s = connRate(300, 1, 2500);
  assert.ok(s.value > 0 && s.extra!['CPU µs/conn']! > 0 && s.extra!['cold conn/s']! > 0, JSON.stringify(s));
  assert.equal(connRate(50, 10).extra!['cold conn/s'], undefined, 'no warm-up asked: none reported');
  for (const name of ['connrate-seq', 'connrate-100']) assert.equal(CASES.find((c) => c.name === name)!.isolated, true, name);
});

test('bench: shipped bench code imports nothing from test/', () => {
  const dir = join(root, 'src', 'cli', 'bench');
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(text, /['"][./]*test\//, `${f} reaches into test/`);
  }
  assert.doesNotMatch(readFileSync(join(root, 'src', 'cli', 'cmd-bench.ts'), 'utf8'), /['"][./]*test\//);
});

test('bench: a case that fails is reported and the cases after it still run (exit 1)', { skip: process.getuid?.() !== 0 ? 'needs root (a TUN case is the one made to fail)' : false }, () => {
  // A namespace prefix that is not allowed makes the TUN case throw before it creates anything.
  const r = spawnSync(process.execPath, [bin, 'bench', '--only', 'tun-kernel-to-synack,node-net-connrate-seq', '--runs', '1', '--quick', '--json'],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SYNACK_NETNS_PREFIX: 'not-synack' } });
  assert.equal(r.status, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { results: Array<{ name: string }>; failed: Array<{ name: string; error: string }> };
  assert.deepEqual(j.results.map((x) => x.name), ['node-net-connrate-seq']);
  assert.deepEqual(j.failed.map((x) => x.name), ['tun-kernel-to-synack']);
  assert.match(j.failed[0]!.error, /must start with synack-/);
  assert.match(r.stderr, /synack bench: tun-kernel-to-synack failed: /);
  assert.match(r.stderr, /^bench: node-net-connrate-seq: /m);
});
