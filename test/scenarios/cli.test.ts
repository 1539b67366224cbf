import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, summary, scenarioReport, wrap, displayWidth } from '../../src/cli/cmd-scenario.js';
import { findScenario, SCENARIOS } from '../../src/scenarios/index.js';

/** Run the command with stdout/stderr captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string; bytes: Uint8Array[] }> {
  const out: string[] = [], err: string[] = [], bytes: Uint8Array[] = [];
  const wo = process.stdout.write.bind(process.stdout), we = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { if (typeof chunk === 'string') out.push(chunk); else bytes.push(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { err.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const code = await run(argv);
    return { code, out: out.join(''), err: err.join(''), bytes };
  } finally {
    process.stdout.write = wo;
    process.stderr.write = we;
  }
}

describe('synack scenario', () => {
  test('summary line', () => {
    assert.match(summary, /list/);
  });

  test('list: every scenario with its title, in English or Chinese', async () => {
    const en = await cli(['list']);
    assert.equal(en.code, 0);
    const [real, whatIfs] = en.out.trim().split('\n\n');
    assert.equal(real!.split('\n').length, SCENARIOS.length);
    assert.match(whatIfs!, /^what-ifs \(NOT TCP\):\nwhatif-two-way-handshake +What if the handshake had two steps/);
    assert.match(en.out, /^handshake\s+The three-way handshake$/m);
    const zh = await cli(['list', '--lang', 'zh']);
    assert.match(zh.out, /^handshake\s+三次握手$/m);
  });

  test('run NAME (ascii): title, diagram, explanation, checks; exit 0', async () => {
    const r = await cli(['run', 'handshake']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^handshake: The three-way handshake\n=+\n/);
    assert.match(r.out, /client \|.*\| server/);
    assert.match(r.out, /SYN-SENT/);
    assert.match(r.out, /\nWhy:\n  Each side numbers its bytes/);
    assert.match(r.out, /\nChecks \(seed 1\):\n  ✔ three segments/);
    assert.doesNotMatch(r.out, /✘/);
  });

  test('--lang zh switches title, explanation and checks', async () => {
    const r = await cli(['run', 'time-wait-2msl', '--lang', 'zh']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^time-wait-2msl: TIME-WAIT 持续 2·MSL/);
    assert.match(r.out, /为什么：\n  MSL（最长报文段寿命）/);
    assert.match(r.out, /检查（种子 1）：\n  ✔ TIME-WAIT 恰好持续/);
  });

  test('--format svg|mermaid|json to stdout, checks to stderr', async () => {
    const svg = await cli(['run', 'syn-lost', '--format', 'svg']);
    assert.equal(svg.code, 0);
    assert.match(svg.out, /^<svg /);
    assert.match(svg.err, /✔ SYN sent at 0 s, 1 s, 3 s/);
    const mm = await cli(['run', 'syn-lost', '--format', 'mermaid']);
    assert.match(mm.out, /^sequenceDiagram/);
    const js = await cli(['run', 'syn-lost', '--format', 'json', '--seed', '5']);
    const events = JSON.parse(js.out) as Array<{ type: string; lost?: boolean }>;
    assert.equal(events.filter((e) => e.type === 'segment' && e.lost === true).length, 2);
  });

  test('--out FILE writes the format (pcap here) and prints the checks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synack-scenario-'));
    try {
      const f = join(dir, 'x.pcap');
      const r = await cli(['run', 'connect-refused', '--format', 'pcap', '--out', f]);
      assert.equal(r.code, 0);
      assert.match(r.out, /✔ SYN answered by RST-ACK/);
      assert.match(r.out, /wrote .*x\.pcap \(pcap, \d+ bytes\)/);
      const b = readFileSync(f);
      assert.equal(b.readUInt32LE(0), 0xa1b2c3d4);
      const g = join(dir, 'x.txt');
      assert.equal((await cli(['run', 'rst-abort', '--out', g])).code, 0);
      assert.match(readFileSync(g, 'utf8'), /Why:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('check: one line per scenario and a closing count', async () => {
    const r = await cli(['check']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /✔ slow-start\s+\d+\/\d+/);
    assert.match(r.out, new RegExp(`\\n${SCENARIOS.length} passed, 0 failed\\n$`));
  });

  test('bad usage: exit 2 with a message', async () => {
    assert.equal((await cli(['run', 'nope'])).code, 2);
    assert.equal((await cli(['run'])).code, 2);
    assert.equal((await cli(['run', 'handshake', '--format', 'png'])).code, 2);
    assert.equal((await cli(['run', 'handshake', '--lang', 'fr'])).code, 2);
    assert.equal((await cli(['run', 'handshake', '--seed', 'x'])).code, 2);
    assert.equal((await cli(['frob'])).code, 2);
    assert.equal((await cli(['--help'])).code, 0);
  });

  test('a failing check makes the exit code 1', async () => {
    const sc = findScenario('handshake')!;
    const orig = sc.run;
    sc.run = (o) => { const r = orig.call(sc, o); r.checks.push({ what: 'impossible', zh: '不可能', ok: false }); return r; };
    try {
      const r = await cli(['run', 'handshake']);
      assert.equal(r.code, 1);
      assert.match(r.out, /✘ impossible/);
    } finally {
      sc.run = orig;
    }
  });

  test('scenarioReport gives the output and a brief', () => {
    const rep = scenarioReport(findScenario('connect-timeout')!, { format: 'json', seed: 3 });
    assert.equal(rep.ok, true);
    assert.equal(typeof rep.output, 'string');
    assert.match(rep.brief, /^connect-timeout: /);
  });
});

describe('wrap', () => {
  test('Latin text at spaces', () => {
    assert.deepEqual(wrap('aaa bbb ccc ddd', 7), ['aaa bbb', 'ccc ddd']);
  });
  test('CJK text between characters, wide characters count two columns', () => {
    const lines = wrap('一二三四五六七八九十', 8);
    assert.deepEqual(lines, ['一二三四', '五六七八', '九十']);
    for (const l of lines) assert.ok(displayWidth(l) <= 8);
  });
  test('closing punctuation never starts a line', () => {
    const lines = wrap('一二三四，五六', 8);
    assert.ok(!lines.some((l) => l.startsWith('，')), JSON.stringify(lines));
  });
});

describe('synack scenario run: what-ifs', () => {
  test('--set and --drop change the run; the checks say what changed; exit 0', async () => {
    const r = await cli(['run', 'handshake', '--drop', '1', '--set', 'tcp_rto_initial=500', '--segments']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /What-if run \(seed 1; tcp_rto_initial=500, drop #1\)/);
    assert.match(r.out, /✘ client is ESTABLISHED after one round trip .*client 0\.510 s/);
    assert.match(r.out, /#1 +5ms +server +SA .*\(lost\)/);
    assert.match(r.out, /#3 +505ms +server +SA .*\(retransmit\)/);
  });
  test('bad --set / --drop values are usage errors that say why', async () => {
    const a = await cli(['run', 'handshake', '--set', 'tcp_nope=1']);
    assert.equal(a.code, 2);
    assert.match(a.err, /no sysctl 'tcp_nope'/);
    const b = await cli(['run', 'handshake', '--drop', '-1']);
    assert.equal(b.code, 2);
    assert.match(b.err, /--drop takes a segment number >= 0/);
    const c = await cli(['run', 'handshake', '--set', 'tcp_msl=x']);
    assert.match(c.err, /value must be a number/);
  });
});
