// Compacted TIME-WAIT (src/tcp/timewait.ts, src/stack/timewait.ts): a TIME-WAIT connection
// the user can no longer observe becomes a small record; a segment for it rebuilds a Tcb.
// The rebuilt Tcb must behave exactly as the original on the wire, so every script below runs
// twice — compaction off and on — and the two runs must send the same segments at the same
// times and keep the same table, counters and orphans.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, fmt, sec, u32, type FixtureOptions, type Harness } from './states/harness.js';
import { TimeWaitRecord } from '../../src/tcp/timewait.js';

afterEach(finishAll);

type Script = (h: Harness, note: () => void) => void;

interface Run { log: string[] }

function entries(h: Harness): unknown[] {
  return [...(h.stack as unknown as { conns: { values(): Iterable<unknown> } }).conns.values()];
}

function run(mode: 'off' | 'on', opts: FixtureOptions, script: Script): Run {
  const h = fixture('TIME-WAIT', opts);
  h.stack.timeWaitCompaction = mode;
  // The harness's user has onClosed (which forbids compaction); a user that closed and left
  // has none. Both runs drop it, so they differ only in compaction.
  h.c.user = null;
  const log: string[] = [];
  const note = (): void => {
    for (const s of h.drain()) log.push(`${s.t} ${fmt(s)}`);
    const c = h.stack.counters;
    log.push(`t=${h.now} conns=${h.stack.connectionCount} tw=${c.TcpExtTW} recycled=${c.TcpExtTWRecycled} orphans=${h.stack.orphanCount} timers=${h.stack.nextDeadline()}`);
  };
  // A duplicate ACK: processed in TIME-WAIT without a reply, after which the stack compacts.
  h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
  if (mode === 'on') assert.ok(entries(h).some((e) => e instanceof TimeWaitRecord), 'the TIME-WAIT connection was compacted');
  else assert.ok(!entries(h).some((e) => e instanceof TimeWaitRecord));
  note();
  script(h, note);
  note();
  h.drain();
  // With compaction the fixture's Tcb was detached (the stack went on with rebuilt ones): the
  // end-of-test checks look at the stack's connections only.
  if (mode === 'on') { h.tcb = null; h.accepted.length = 0; }
  return { log };
}

function same(opts: FixtureOptions, script: Script): void {
  const off = run('off', opts, script);
  const on = run('on', opts, script);
  assert.deepEqual(on.log, off.log);
}

const SCRIPTS: Array<[string, FixtureOptions, Script]> = [
  ['2·MSL passes', {}, (h) => { h.advance(sec(60) - 1); h.advance(1); }],
  ['a retransmitted FIN → ACK, timer restarted', {}, (h, note) => {
    h.advance(sec(50)); h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 }); note();
    h.advance(sec(50)); note(); h.advance(sec(10)); note();
  }],
  ['the same with timestamps and SACK', { peer: { ts: true, sack: true, ws: 7 } }, (h, note) => {
    h.advance(sec(1)); h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 }); note(); h.advance(sec(61));
  }],
  ['RST = RCV.NXT → CLOSED', {}, (h) => { h.send({ flags: 'R', seq: h.R + 1 }); }],
  ['RST in the window → challenge ACK', {}, (h) => { h.send({ flags: 'R', seq: h.R + 10 }); }],
  ['RST ignored with tcp_rfc1337', { stack: { tcp_rfc1337: 1 } }, (h) => { h.send({ flags: 'R', seq: h.R + 1 }); }],
  ['duplicate ACK and text ignored', {}, (h) => {
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.send({ flags: 'PA', seq: h.R + 1, ack: h.L + 1, payload: 10 });
  }],
  ['an old segment → ACK', { peer: { ts: true } }, (h) => { h.send({ flags: 'PA', seq: h.R - 50, ack: h.L + 1, payload: 10 }); }],
  ['PAWS: an old timestamp → ACK', { peer: { ts: true } }, (h, note) => {
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1, ts: { val: 5 } }); note();
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1, ts: { val: 6 } });
  }],
  ['a SYN, lower sequence → challenge ACK', { passive: true }, (h) => { h.send({ flags: 'S', seq: h.R - 1000, ack: 0 }); }],
  ['a SYN, higher sequence → reopened (RFC 6191)', { passive: true }, (h, note) => {
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0 }); note();
    h.send({ flags: 'A', seq: h.R + 100001, ack: h.L + 1 + 65537 + 1 });
  }],
  ['a SYN with a newer timestamp → reopened', { passive: true, peer: { ts: true } }, (h) => {
    h.send({ flags: 'S', seq: h.R - 5000, ack: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: 0x70001000, ecr: 0 }] });
  }],
  ['a SYN with an older timestamp → ACK', { passive: true, peer: { ts: true } }, (h) => {
    h.send({ flags: 'S', seq: h.R + 100000, ack: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'ts', val: 3, ecr: 0 }] });
  }],
  ['a SYN and no listener → ACK', {}, (h) => { h.send({ flags: 'S', seq: h.R + 100000, ack: 0 }); }],
  ['a segment after 2·MSL → RST', {}, (h) => { h.advance(sec(60)); h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 }); }],
  ['several segments in a row, then expiry', { peer: { ts: true } }, (h, note) => {
    h.send({ flags: 'R', seq: h.R + 10 }); note();
    h.advance(sec(1));
    h.send({ flags: 'FA', seq: h.R, ack: h.L + 1 }); note();
    h.send({ flags: 'PA', seq: h.R - 50, ack: h.L + 1, payload: 10 }); note();
    h.advance(sec(61));
  }],
];

describe('compacted TIME-WAIT behaves as the full TCB on the wire', () => {
  for (const [name, opts, script] of SCRIPTS) test(name, () => same(opts, script));
});

describe('compacted TIME-WAIT and the user', () => {
  test('the handle the user may still hold is detached and reads CLOSED; the stack answers a FIN and ends TIME-WAIT after 2·MSL', () => {
    const h = fixture('TIME-WAIT');
    const t = h.c;
    t.user = null;
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    assert.ok(entries(h).some((e) => e instanceof TimeWaitRecord));
    assert.equal(t.state, 'CLOSED');
    assert.equal(t.nextDeadline(), Infinity);
    assert.equal(h.stack.orphanCount, 1);
    const L = u32(t.iss + 1);
    h.tcb = null;
    h.advance(sec(30));
    h.send({ flags: 'FA', seq: h.R, ack: L + 1 });
    h.expectOne({ flags: 'A', seq: L + 1, ack: h.R + 1 });
    assert.deepEqual(h.stack.tcbs().map((x) => x.state), ['TIME-WAIT']);
    h.advance(sec(60) - 1);
    assert.equal(h.stack.connectionCount, 1);
    h.advance(1);
    assert.equal(h.stack.connectionCount, 0);
    assert.equal(h.stack.counters.TcpExtTW, 1);
    assert.equal(h.stack.orphanCount, 0);
    assert.equal(h.stack.nextDeadline(), Infinity);
  });

  test('not compacted while the user has onClosed (it must run when TIME-WAIT ends), while traced, or when only shut down (not closed)', () => {
    const h = fixture('TIME-WAIT');
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    assert.ok(!entries(h).some((e) => e instanceof TimeWaitRecord));
    const g = fixture('TIME-WAIT');
    g.c.user = null;
    const off = g.stack.addTraceListener(() => {});
    g.send({ flags: 'A', seq: g.R + 1, ack: g.L + 1 });
    assert.ok(!entries(g).some((e) => e instanceof TimeWaitRecord));
    off();
    const k = fixture('TIME-WAIT', { halfClose: true });
    k.c.user = null;
    k.send({ flags: 'A', seq: k.R + 1, ack: k.L + 1 });
    assert.ok(!entries(k).some((e) => e instanceof TimeWaitRecord));
    assert.equal(k.c.state, 'TIME-WAIT');
  });

  test('tcbs() and the connection table show a compacted connection as TIME-WAIT', () => {
    const h = fixture('TIME-WAIT');
    h.c.user = null;
    h.send({ flags: 'A', seq: h.R + 1, ack: h.L + 1 });
    h.tcb = null; // detached at compaction
    assert.ok(entries(h).some((e) => e instanceof TimeWaitRecord));
    const rows = h.stack.connections();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'TIME-WAIT');
    assert.equal(rows[0]!.timer?.kind, 'time-wait');
    assert.deepEqual(h.stack.tcbs().map((t) => t.state), ['TIME-WAIT']);
  });
  test('a record rebuilds every field TIME-WAIT reads, for sequence numbers and timestamps above 2^31 and extreme option values', () => {
    const h = fixture('TIME-WAIT');
    const t = h.c;
    const fields = ['iss', 'sndUna', 'sndNxt', 'sndMax', 'sndWnd', 'sndWl1', 'sndWl2', 'maxSndWnd', 'sndWscale', 'sndBufSeq', 'irs', 'rcvNxt',
      'rcvAdv', 'rcvWscale', 'rcvUp', 'mssOur', 'mssPeer', 'effMss', 'pmtu', 'rcvMss', 'wsOk', 'sackOk', 'tsOk', 'wantWs', 'wantSack', 'wantTs',
      'readShutdown', 'noDelay', 'tsRecent', 'tsRecentAt', 'lastAckSent', 'tsOffset', 'dscp', 'recover', 'lastSendAt', 'lastRecvAt', 'timeWaitAt',
      'passive', 'orphan', 'state'] as const;
    const w = t as unknown as Record<string, unknown>;
    for (const [k, v] of [['sndUna', 0xfffffff0], ['sndNxt', 0xfffffff1], ['sndMax', 0xfffffff2], ['sndWl1', 0x80000000], ['sndWl2', 0xffffffff],
      ['sndBufSeq', 0x90000001], ['irs', 0xfedcba98], ['rcvNxt', 0xfedcba99], ['rcvAdv', 0xfedcbaff], ['rcvUp', 0x80000001], ['recover', 0xfffffff3],
      ['tsRecent', 0xffffffff], ['lastAckSent', 0x80000000], ['sndWscale', 14], ['rcvWscale', 14], ['dscp', 63], ['noDelay', true],
      ['mssPeer', 65535], ['rcvMss', 70000]] as const) w[k] = v;
    const before = Object.fromEntries(fields.map((f) => [f, w[f]]));
    const rec = new TimeWaitRecord(t);
    const back = rec.rehydrate(h.stack) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f, back[f]])), before);
    assert.equal(rec.sndNxt, 0xfffffff1);
    assert.equal(rec.rcvNxt, 0xfedcba99);
    assert.equal(rec.tsRecent, 0xffffffff);
    assert.equal(rec.sndUna, 0xfffffff0);
  });
});
