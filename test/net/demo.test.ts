// `synack demo`: real packets from two simulated hosts running Node's http, drawn and tabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo, run, summary } from '../../src/cli/cmd-demo.js';

test('the demo: GET and POST over one connection, diagram, tables, summary, client in TIME-WAIT', async () => {
  const r = await runDemo();
  assert.equal(r.ok, true, r.text);
  assert.equal(r.getBytes, 4000);
  assert.equal(r.postBytes, 4000);
  assert.equal(r.clientFinalState, 'TIME-WAIT');
  assert.equal(r.retransmissions.client + r.retransmissions.server, 0);
  assert.equal(r.lost, 0);
  const t = r.text;
  // (a) the sequence diagram: both ends' states and seq/ack numbers.
  assert.match(t, /== sequence diagram ==/);
  // (No FIN-WAIT-2: the server closes as soon as it reads the end, within the 40 ms its ACK
  // of the client's FIN is delayed (Linux pingpong mode), so its FIN carries that ACK.)
  for (const s of ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'TIME-WAIT', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']) assert.ok(t.includes(s), s);
  assert.match(t, /S seq=0 win=64240 <mss 1460,sackOK,TS,wscale 7>/);
  assert.match(t, /SA seq=0 ack=1/);
  assert.match(t, /FA seq=\d+ ack=\d+/);
  // (b) the table during the transfer and after the close (TIME-WAIT on the client, which closed first).
  const tables = t.slice(t.indexOf('== connection table'), t.indexOf('== summary'));
  assert.match(tables, /during the GET response/);
  assert.match(tables, /during the POST upload/);
  const after = tables.slice(tables.indexOf('after the close'));
  assert.match(after, /client 198\.18\.0\.1\nState .*\nTIME-WAIT .*198\.18\.0\.1:\d+ +198\.18\.0\.2:80 +timer:\(timewait,59sec,0\)/);
  assert.match(after, /server 198\.18\.0\.2\nState .*\nLISTEN .*\n\s*$/);
  assert.match(tables, /ESTAB .* timer:\(on,/);
  // (c) the summary.
  assert.match(t, /GET \/data +-> 200, 4000 bytes, sha256 matches/);
  assert.match(t, /POST \/upload +-> 200, server got 4000 of 4000 bytes, sha256 matches/);
  assert.match(t, /segments +client sent \d+ \(\d+ with data\), server sent \d+/);
  assert.match(t, /retransmitted +client 0, server 0; lost on the link 0/);
  assert.match(t, /virtual time +[\d.]+ms from the first SYN to the close; TIME-WAIT ended at 1m0\.\d+s/);
});

test('the demo is reproducible from its seed and survives loss', async () => {
  const r1 = await runDemo({ loss: 0.1, seed: 3 });
  const r2 = await runDemo({ loss: 0.1, seed: 3 });
  assert.equal(r1.ok, true, r1.text);
  const strip = (s: string) => s.replace(/real time .*\n/, '');
  assert.equal(strip(r1.text), strip(r2.text));
  assert.ok(r1.lost > 0);
  assert.ok(r1.retransmissions.client + r1.retransmissions.server > 0);
  assert.match(r1.text, /\u00d7/, 'lost segments are drawn ending in ×');
  for (const seed of [1, 2, 4, 5]) {
    const r = await runDemo({ loss: 0.2, seed, delay: 2, size: 20_000 });
    assert.equal(r.ok, true, r.text);
  }
});

test('options: --size, --delay, --bandwidth; bad values are usage errors', async () => {
  const r = await runDemo({ size: 100_000, delay: 1, bandwidth: 0 });
  assert.equal(r.ok, true);
  assert.equal(r.getBytes, 100_000);
  assert.ok(summary.length > 0);
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await run(['--loss', '150%']), 2);
    assert.equal(await run(['--loss', '-1']), 2);
    assert.equal(await run(['--delay', 'x']), 2);
    assert.equal(await run(['--nope']), 2);
  } finally {
    process.stderr.write = write;
  }
});

test('--loss: a fraction in [0, 1) or a percentage; ambiguous and negative values say why', async () => {
  const { parseLoss } = await import('../../src/cli/args.js');
  assert.equal(parseLoss('0.05'), 0.05);
  assert.equal(parseLoss('5%'), 0.05);
  assert.equal(parseLoss('0'), 0);
  assert.match(String(parseLoss('2')), /ambiguous.*0\.02.*2%/);
  assert.match(String(parseLoss('1')), /ambiguous/);
  assert.match(String(parseLoss('100%')), /below 100%/);
  assert.match(String(parseLoss('-0.1')), /cannot be negative/);
  assert.match(String(parseLoss('x')), /fraction in \[0, 1\)/);
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  try {
    assert.equal(await run(['--loss', '-0.1']), 2);
    assert.equal(await run(['--size', '-5']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err[0]!, /--loss cannot be negative; got '-0\.1'/);
  assert.doesNotMatch(err.join(''), /ambiguous/);
  assert.match(err[1]!, /--size cannot be negative/);
});

test('the summary reports what the server actually received; a huge --size folds the diagram', async () => {
  const dead = await runDemo({ loss: 0.99, seed: 1 });
  assert.equal(dead.ok, false);
  assert.equal(dead.serverReceived, 0);
  assert.match(dead.text, /POST \/upload +-> -, server got 0 of 4000 bytes/);
  const big = await runDemo({ size: 3_000_000, bandwidth: 0 });
  assert.equal(big.ok, true);
  assert.equal(big.serverReceived, 3_000_000);
  const diagram = big.text.slice(big.text.indexOf('== sequence diagram =='), big.text.indexOf('== connection table'));
  assert.ok(diagram.split('\n').length < 260, `${diagram.split('\n').length} lines`);
  assert.match(diagram, /\.\.\. [\d,]+ lines folded \(--full prints them\) \.\.\./);
});
