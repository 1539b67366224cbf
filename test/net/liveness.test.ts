// Process liveness in real time (issue 11, deliverable 3): which sockets and servers keep a
// Node process alive. Every case runs in a child process twice, on Node's own net over the
// kernel loopback and on synack's realtime driver, and both must agree with the expectation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./liveness-child.js', import.meta.url));

function run(impl: string, mode: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, impl, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d; });
    p.stderr.on('data', (d: Buffer) => { err += d; });
    // Only reached if a process hangs (an outcome neither implementation should have).
    const cap = setTimeout(() => { p.kill(); }, 30_000);
    p.on('close', (code) => {
      clearTimeout(cap);
      if (code !== 0) reject(new Error(`${impl} ${mode}: exit ${code}\n${out}${err}`));
      else resolve(out.trim());
    });
  });
}

const CASES: Array<[string, 'alive' | 'exited', string]> = [
  ['listen', 'alive', 'a listening server keeps the process alive'],
  ['listen-unref', 'exited', 'server.unref() lets it exit'],
  ['idle', 'alive', 'an idle open connection keeps it alive'],
  ['unref', 'exited', 'socket.unref() lets it exit'],
  ['paused', 'exited', 'a socket paused before connect never starts reading: it does not hold the process'],
  ['paused-written', 'exited', 'a paused socket whose writes all reached the send buffer does not hold the process'],
  ['halfopen-end', 'exited', 'a half-open socket after end of stream does not hold the process'],
  ['time-wait', 'exited', 'only TIME-WAIT left: the process exits'],
  ['keepalive', 'exited', 'keepalive timers of an unref()\'d connection do not hold the process'],
];

// All children start at once (each spends most of its time loading); the tests await them.
const runs = new Map(CASES.map(([mode]) => {
  const p = Promise.all([run('node', mode), run('synack', mode)]);
  p.catch(() => { /* reported by the test */ });
  return [mode, p] as const;
}));

for (const [mode, expected, title] of CASES) {
  test(`liveness: ${title}`, async () => {
    const [node, synack] = await runs.get(mode)!;
    assert.equal(node, expected, `Node's own net: ${node}`);
    assert.equal(synack, expected, `synack: ${synack}`);
  });
}
