import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../src/cli/main.js';

test('cli: version exits 0', async () => {
  assert.equal(await main(['version']), 0);
});

test('synack with no arguments prints the usage on stderr and exits non-zero', async () => {
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  let code: number;
  try { code = await main([]); } finally { process.stderr.write = write; }
  assert.equal(code, 2);
  assert.match(err.join(''), /^usage: synack <command>/);
  assert.match(err.join(''), /\n  lab +/);
});
