// `synack pkt FILE...`: one line per script, the closing count, the exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoNumber, canonicalErrno } from '../../src/pkt/errno.js';

const bin = fileURLToPath(new URL('../../../bin/synack.js', import.meta.url));

const GOOD = `// a passive open
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  \`ip link set up\`
`;

test('synack pkt: ok / FAIL file:line lines, notes, the closing count, exit status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-pkt-'));
  try {
    const good = join(dir, 'good.pkt');
    const bad = join(dir, 'bad.pkt');
    writeFileSync(good, GOOD);
    writeFileSync(bad, GOOD.replace('> S. 0:0(0) ack 1 <mss 1460>', '> S. 0:0(0) ack 1 win 1000 <mss 1460>'));
    const r = spawnSync(process.execPath, [bin, 'pkt', good, bad], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `ok ${good}`);
    assert.match(lines[1]!, /^ {4}note: line 9: shell command 'ip link set up' ignored$/);
    assert.equal(lines[2], `FAIL ${bad}:6: win: expected 1000, got 64240`);
    assert.equal(lines.at(-1), '1 passed, 1 failed');
    assert.equal(r.status, 1);

    const ok = spawnSync(process.execPath, [bin, 'pkt', '--quiet', good], { encoding: 'utf8' });
    assert.equal(ok.stdout, `ok ${good}\n1 passed, 0 failed\n`);
    assert.equal(ok.status, 0);

    const traced = spawnSync(process.execPath, [bin, 'pkt', '--quiet', '--trace', good], { encoding: 'utf8' });
    assert.match(traced.stdout, /SYN-RECEIVED/);
    assert.match(traced.stdout, /192\.168\.0\.1:8080/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errno names and Linux numbers', () => {
  assert.equal(errnoNumber('ECONNREFUSED'), 111);
  assert.equal(errnoNumber('EINPROGRESS'), 115);
  assert.equal(errnoNumber('EWOULDBLOCK'), 11);
  assert.equal(errnoNumber('ENOTTY'), 25);
  assert.equal(canonicalErrno('EWOULDBLOCK'), 'EAGAIN');
  assert.equal(errnoNumber('ENOPE'), undefined);
});

test('synack pkt: a missing or unreadable file is a usage error (exit 2), nothing runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-pkt-'));
  try {
    const good = join(dir, 'good.pkt');
    writeFileSync(good, GOOD);
    const missing = join(dir, 'missing.pkt');
    const r = spawnSync(process.execPath, [bin, 'pkt', good, missing], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^synack pkt: cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file\\n`));
    assert.match(r.stderr, /usage: synack pkt/);
    const d = spawnSync(process.execPath, [bin, 'pkt', dir], { encoding: 'utf8' });
    assert.equal(d.status, 2);
    assert.match(d.stderr, /cannot read .*: is a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('synack pkt: --define NAME[=V], --define=NAME[=V], -D NAME[=V], -DNAME reach #ifdef and expressions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-pkt-'));
  try {
    const f = join(dir, 'd.pkt');
    writeFileSync(f, [
      '0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '#ifdef A', '+0  bind(3, ..., ...) = 0', '#endif',
      '#ifdef B', '+0  listen(3, BL) = 0', '#endif',
      '#ifdef C', '+0  < S 0:0(0) win W <mss 1460>', '#endif',
      '#ifdef D', '+0  > S. 0:0(0) ack 1 <mss 1460>', '#endif',
      '#ifdef Linux', '+.1 < . 1:1(0) ack 1 win W', '+0 accept(3, ..., ...) = 4', '#endif',
    ].join('\n') + '\n');
    const r = spawnSync(process.execPath, [bin, 'pkt', '--quiet', '--define', 'A', '--define=B', '-D', 'BL=1', '-DC', '-D', 'W=4000', '--define=D=1', f], { encoding: 'utf8' });
    assert.equal(r.stdout, `ok ${f}\n1 passed, 0 failed\n`);
    assert.equal(r.status, 0);
    // Without C and D the SYN is never sent; accept() blocks: the script fails.
    const r2 = spawnSync(process.execPath, [bin, 'pkt', '--quiet', '-D', 'A', '-D', 'B', '-D', 'BL=1', '-D', 'W=4000', f], { encoding: 'utf8' });
    assert.equal(r2.status, 1);
    const bad = spawnSync(process.execPath, [bin, 'pkt', '-D', '9x', f], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /-D needs NAME\[=VALUE\], got '9x'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
