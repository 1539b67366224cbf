import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareOptions, matchOutbound, DEFAULT_MATCH } from '../../src/pkt/matcher.js';
import { parseScript } from '../../src/pkt/parser.js';
import type { OptSpec, PacketEvent } from '../../src/pkt/ast.js';
import type { ConnContext, OutPacket } from '../../src/pkt/packet.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';

const LISN = 1_000_000;
const RISN = 4_294_967_000; // wraps: relative numbers must still work

function ctx(): ConnContext {
  return { localAddr: 1, localPort: 8080, remoteAddr: 2, remotePort: 40000, remoteIsn: RISN, localIsn: LISN, tsOffset: 5000 };
}

function line(text: string): PacketEvent {
  const r = parseScript(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.script.events[0] as PacketEvent;
}

function out(p: Partial<OutPacket>): OutPacket {
  return {
    t: 0, src: 1, dst: 2, srcPort: 8080, dstPort: 40000, seq: LISN, ack: RISN, flags: TCP_ACK, window: 100, urg: 0,
    options: [], len: 0, consumed: false, line: 0, ...p,
  };
}

describe('pkt matcher', () => {
  test('a matching packet has no differences (numbers relative to each ISN, mod 2^32)', () => {
    const ev = line('0 > P. 1:1001(1000) ack 301 win 100');
    const p = out({ seq: LISN + 1, ack: (RISN + 301) >>> 0, flags: TCP_PSH | TCP_ACK, len: 1000 });
    assert.deepEqual(matchOutbound(ev, p, ctx(), DEFAULT_MATCH), []);
  });

  test('each differing field is named', () => {
    const ev = line('0 > S. 0:0(0) ack 1 win 500');
    const p = out({ seq: LISN + 7, ack: (RISN + 2) >>> 0, flags: TCP_ACK, window: 600, len: 3 });
    const d = matchOutbound(ev, p, ctx(), DEFAULT_MATCH);
    assert.deepEqual(d.map((x) => x.field), ['flags', 'seq', 'len', 'ack', 'win']);
    assert.deepEqual(d[0], { field: 'flags', expected: 'S.', got: '.' });
    assert.deepEqual(d[4], { field: 'win', expected: '500', got: '600' });
  });

  test('the window and ack are compared only when the script gives them', () => {
    const ev = line('0 > . 1:1(0)');
    assert.deepEqual(matchOutbound(ev, out({ seq: LISN + 1, ack: 12345, window: 7 }), ctx(), DEFAULT_MATCH), []);
  });

  test('lenient switches: ignoreWin, ignorePsh', () => {
    const ev = line('0 > . 1:1(0) ack 0 win 1');
    const p = out({ seq: LISN + 1, flags: TCP_ACK | TCP_PSH, window: 9 });
    assert.equal(matchOutbound(ev, p, ctx(), DEFAULT_MATCH).length, 2);
    assert.deepEqual(matchOutbound(ev, p, ctx(), { ...DEFAULT_MATCH, ignoreWin: true, ignorePsh: true }), []);
  });

  test('options: order and NOPs matter; <...> matches anything; no <> means none', () => {
    const ev = line('0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>');
    const good = out({ flags: TCP_SYN | TCP_ACK, ack: (RISN + 1) >>> 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
    assert.deepEqual(matchOutbound(ev, good, ctx(), DEFAULT_MATCH), []);
    const noNop = { ...good, options: [{ kind: 'mss', value: 1460 }, { kind: 'wscale', shift: 7 }] as OutPacket['options'] };
    assert.equal(matchOutbound(ev, noNop, ctx(), DEFAULT_MATCH)[0]!.field, 'option 2');
    assert.deepEqual(matchOutbound(line('0 > S. 0:0(0) ack 1 <...>'), noNop, ctx(), DEFAULT_MATCH), []);
    const d = matchOutbound(line('0 > S. 0:0(0) ack 1'), good, ctx(), DEFAULT_MATCH);
    assert.equal(d[0]!.field, 'options');
    assert.match(d[0]!.got, /extra mss 1460/);
  });

  test('TS val is not compared, TS ecr is; SACK blocks are relative to the remote ISN', () => {
    const ev = line('0 > . 1:1(0) ack 1 <nop,nop,TS val 100 ecr 700,nop,nop,sack 1001:2001>');
    const opts: OutPacket['options'] = [
      { kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 987654, ecr: 700 }, { kind: 'nop' }, { kind: 'nop' },
      { kind: 'sack', blocks: [[(RISN + 1001) >>> 0, (RISN + 2001) >>> 0]] },
    ];
    const p = out({ seq: LISN + 1, ack: (RISN + 1) >>> 0, options: opts });
    assert.deepEqual(matchOutbound(ev, p, ctx(), DEFAULT_MATCH), []);
    const bad = out({ ...p, options: opts.map((o) => (o.kind === 'ts' ? { ...o, ecr: 701 } : o)) });
    const d = matchOutbound(ev, bad, ctx(), DEFAULT_MATCH);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.field, 'option 3 (ts)');
  });

  test('ignoreOptions: options are not compared (kinds, order, values)', () => {
    const exp: OptSpec[] = [{ kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'wscale', shift: 7 }];
    const act: OptSpec[] = [{ kind: 'wscale', shift: 9 }, { kind: 'nop' }, { kind: 'mss', value: 1460 }];
    const lenient = { ...DEFAULT_MATCH, ignoreOptions: true };
    assert.notEqual(compareOptions(exp, act, DEFAULT_MATCH), null);
    assert.equal(compareOptions(exp, act, lenient), null);
  });
});
