import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { toJsonTrace, renderJson, type JsonTraceEvent } from '../../src/trace/json.js';
import { flagLetters, parseFlagLetters, formatConnId, parseConnId } from '../../src/trace/conn.js';
import { requestResponse, synLost, refused } from '../viz/traces.js';

const STATES = ['CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'];
const CONN = /^\d+\.\d+\.\d+\.\d+:\d+-\d+\.\d+\.\d+\.\d+:\d+$/;

/** Checks one event against the documented contract (docs/trace-json.md). */
function checkEvent(e: JsonTraceEvent): void {
  assert.ok(Number.isInteger(e.t) && e.t >= 0, 't is integer µs');
  assert.match(e.host, /^\d+\.\d+\.\d+\.\d+$/);
  assert.ok(['segment', 'state', 'timer', 'user', 'drop'].includes(e.type));
  if (e.type !== 'drop' || e.conn !== null) assert.match(e.conn!, CONN);
  if (e.conn !== null) assert.ok(e.conn.startsWith(e.host + ':'), 'conn is written from the host side');
  switch (e.type) {
    case 'segment':
      assert.ok(e.dir === 'in' || e.dir === 'out');
      assert.match(e.flags, /^F?S?R?P?A?U?E?C?$/);
      for (const k of ['seq', 'ack', 'len', 'win', 'urg'] as const) assert.ok(Number.isInteger(e[k]) && e[k] >= 0 && e[k] <= 0xffffffff, k);
      assert.ok(e.win <= 0xffff);
      assert.ok(Array.isArray(e.options));
      if (e.lost !== undefined) { assert.equal(e.lost, true); assert.equal(e.dir, 'out'); }
      if (e.retransmit !== undefined) assert.equal(e.retransmit, true);
      break;
    case 'state':
      assert.ok(STATES.includes(e.from) && STATES.includes(e.to));
      assert.equal(typeof e.cause, 'string');
      break;
    case 'timer':
      assert.ok(['set', 'cancel', 'fire'].includes(e.action));
      break;
    case 'user':
      assert.equal(typeof e.call, 'string');
      break;
    case 'drop':
      assert.equal(typeof e.reason, 'string');
      break;
  }
}

describe('JSON trace contract', () => {
  test('every event follows the contract, in time order', () => {
    const run = requestResponse();
    const j = toJsonTrace(run.events);
    assert.equal(j.length, run.events.length);
    for (const e of j) checkEvent(e);
    for (let i = 1; i < j.length; i++) assert.ok(j[i]!.t >= j[i - 1]!.t);
    // A JSON round trip is the identity (plain data only).
    assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
    assert.deepEqual(JSON.parse(renderJson(run.events)), j);
  });

  test('the handshake as JSON: flags letters, options array, RFC state names', () => {
    const j = toJsonTrace(requestResponse().events);
    const syn = j.find((e) => e.type === 'segment' && e.dir === 'out' && e.flags === 'S')!;
    assert.ok(syn.type === 'segment');
    assert.equal(syn.host, '198.18.0.1');
    assert.equal(syn.conn, '198.18.0.1:40000-198.18.0.2:80');
    assert.equal(syn.len, 0);
    assert.deepEqual(syn.options.map((o) => o.kind), ['mss', 'sackOK', 'ts', 'wscale']);
    assert.deepEqual(syn.options[0], { kind: 'mss', value: 1460 });
    const synIn = j.find((e) => e.type === 'segment' && e.dir === 'in' && e.flags === 'S')!;
    assert.equal(synIn.host, '198.18.0.2');
    assert.equal(synIn.conn, '198.18.0.2:80-198.18.0.1:40000');
    assert.ok(j.some((e) => e.type === 'segment' && e.flags === 'SA'));
    assert.ok(j.some((e) => e.type === 'segment' && e.flags === 'FA'));
    const states = j.filter((e) => e.type === 'state').map((e) => e.type === 'state' ? `${e.host} ${e.from}->${e.to}` : '');
    assert.ok(states.includes('198.18.0.1 CLOSED->SYN-SENT'));
    // The passive side leaves LISTEN (RFC 9293 §3.10.7.2), not CLOSED.
    assert.ok(states.includes('198.18.0.2 LISTEN->SYN-RECEIVED'), states.join(', '));
    assert.ok(j.some((e) => e.type === 'user' && e.call === 'connect'));
    assert.ok(j.some((e) => e.type === 'timer' && e.timer === 'time-wait' && e.action === 'fire'));
  });

  test('a segment the link dropped carries lost: true', () => {
    const j = toJsonTrace(synLost().events);
    const lost = j.filter((e) => e.type === 'segment' && e.lost === true);
    assert.equal(lost.length, 1);
    const l = lost[0]!;
    assert.ok(l.type === 'segment' && l.flags === 'S' && l.dir === 'out');
    const rex = j.find((e) => e.type === 'segment' && e.retransmit === true)!;
    assert.ok(rex.type === 'segment' && rex.flags === 'S' && rex.seq === l.seq);
  });

  test('a connection-less drop takes the connection of the segment it discarded', () => {
    const j = toJsonTrace(refused().events);
    const drop = j.find((e) => e.type === 'drop')!;
    assert.equal(drop.conn, '198.18.0.2:81-198.18.0.1:40001');
    const rst = j.find((e) => e.type === 'segment' && e.flags === 'RA' && e.dir === 'out')!;
    assert.ok(rst.type === 'segment' && rst.win === 0 && rst.seq === 0);
  });

  test('flag letters and connection names round-trip', () => {
    assert.equal(flagLetters(0x02), 'S');
    assert.equal(flagLetters(0x12), 'SA');
    assert.equal(flagLetters(0x11), 'FA');
    assert.equal(flagLetters(0x18), 'PA');
    assert.equal(flagLetters(0x04), 'R');
    assert.equal(flagLetters(0xff), 'FSRPAUEC');
    for (let f = 0; f < 256; f++) assert.equal(parseFlagLetters(flagLetters(f)), f);
    const c = { localAddr: 0xc6120001, localPort: 40000, remoteAddr: 0xc6120002, remotePort: 80 };
    assert.equal(formatConnId(c), '198.18.0.1:40000-198.18.0.2:80');
    assert.deepEqual(parseConnId(formatConnId(c)), c);
    assert.equal(parseConnId('198.18.0.1:40000'), null);
    assert.equal(parseConnId('198.18.0.1:70000-198.18.0.2:80'), null);
  });
});
