import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, parseFlags } from '../../src/pkt/parser.js';
import { preprocess } from '../../src/pkt/lexer.js';
import type { PacketEvent, ShellEvent, SyscallEvent } from '../../src/pkt/ast.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { evalInt } from '../../src/pkt/consts.js';

function parse(text: string) {
  const r = parseScript(text);
  if (!r.ok) throw new Error(`line ${r.error.line}: ${r.error.message}`);
  return r.script;
}

function parseError(text: string): { line: number; message: string } {
  const r = parseScript(text);
  assert.equal(r.ok, false, 'expected a parse error');
  return (r as { ok: false; error: { line: number; message: string } }).error;
}

describe('pkt lexer', () => {
  test('comments and python blocks are removed, line numbers kept', () => {
    const p = preprocess('// a\n/* b\n c */ 0 x() = 0\n%{\nprint(1)\n}%\n+1 y() = 0 // tail\n');
    assert.equal(p.pythonBlocks, 1);
    // The python block leaves a marker where it was (it is an event: tcp_info asserts).
    assert.deepEqual(p.lines.map((l) => [l.line, l.text]), [[3, '0 x() = 0'], [4, '%PY0'], [7, '+1 y() = 0']]);
    assert.deepEqual(p.python, [{ line: 4, code: '\nprint(1)\n' }]);
  });

  test('open brackets continue a logical line; // inside backquotes is not a comment', () => {
    const p = preprocess('0 poll([{fd=3,\n  events=POLLIN}], 1, 0) = 0\n`echo http://x`\n');
    assert.equal(p.lines.length, 2);
    assert.equal(p.lines[0]!.text, '0 poll([{fd=3, events=POLLIN}], 1, 0) = 0');
    assert.equal(p.lines[1]!.text, '`echo http://x`');
  });

  test('an unterminated comment is an error with its line', () => {
    assert.equal(preprocess('0 a() = 0\n/* oops\n').error?.line, 2);
  });
});

describe('pkt parser', () => {
  test('option lines', () => {
    const s = parse('--tolerance_usecs=10000\n--ip_version=ipv4 --strict_segments\n');
    assert.deepEqual(s.options.map((o) => [o.name, o.value, o.line]), [
      ['tolerance_usecs', '10000', 1], ['ip_version', 'ipv4', 2], ['strict_segments', '', 2],
    ]);
  });

  test('times: absolute, relative, range, any, blocking', () => {
    const s = parse([
      '0.5 close(3) = 0',
      '+.1 close(3) = 0',
      '1~2 > . 1:1(0) ack 1',
      '+0.1~+0.3 > . 1:1(0) ack 1',
      '* > . 1:1(0) ack 1',
      '+0...0.200 read(4, ..., 10) = 10',
      'close(3) = 0',
    ].join('\n'));
    const t = s.events.map((e) => e.time);
    assert.deepEqual(t[0], { kind: 'point', at: { rel: false, us: 500_000 } });
    assert.deepEqual(t[1], { kind: 'point', at: { rel: true, us: 100_000 } });
    assert.deepEqual(t[2], { kind: 'range', lo: { rel: false, us: 1_000_000 }, hi: { rel: false, us: 2_000_000 } });
    assert.deepEqual(t[3], { kind: 'range', lo: { rel: true, us: 100_000 }, hi: { rel: true, us: 300_000 } });
    assert.deepEqual(t[4], { kind: 'any' });
    assert.deepEqual((s.events[5] as SyscallEvent).end, { rel: true, us: 200_000 });
    assert.deepEqual(t[6], { kind: 'point', at: { rel: true, us: 0 } });
  });

  test('packet lines: flags, seq, ack, win, urg, options', () => {
    const s = parse([
      '0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>',
      '+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>',
      '+0 < P. 1:1001(1000) ack 1 win 257 urg 3 <nop,nop,sack 1:2 3:4,eol>',
      '+0 > F. 1:1(0) ack 1 <...>',
      '+0 < - 1:1(0) win 0',
    ].join('\n'));
    const [a, b, c, d, e] = s.events as PacketEvent[];
    assert.equal(a!.dir, 'in');
    assert.equal(a!.flags, TCP_SYN);
    assert.equal(a!.win, 32792);
    assert.deepEqual(a!.options, [{ kind: 'mss', value: 1000 }, { kind: 'sackOK' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }]);
    assert.equal(b!.dir, 'out');
    assert.equal(b!.flags, TCP_SYN | TCP_ACK);
    assert.equal(b!.ack, 1);
    assert.deepEqual(b!.options![2], { kind: 'ts', val: 100, ecr: 0 });
    assert.equal(c!.flags, TCP_PSH | TCP_ACK);
    assert.deepEqual([c!.start, c!.end, c!.len, c!.urg], [1, 1001, 1000, 3]);
    assert.deepEqual(c!.options![2], { kind: 'sack', blocks: [[1, 2], [3, 4]] });
    assert.deepEqual(c!.options![3], { kind: 'eol' });
    assert.equal(d!.flags, TCP_FIN | TCP_ACK);
    assert.equal(d!.options, 'any');
    assert.equal(e!.flags, 0);
    assert.equal(e!.options, null);
  });

  test('syscalls: ..., [pointers], {structs}, or-ed flags, results, errno, notes', () => {
    const s = parse([
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0',
      '+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
      '+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)',
      '+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)',
      '+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1',
      '+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.168.0.1")}, 16) = 0',
    ].join('\n'));
    const ev = s.events as SyscallEvent[];
    assert.equal(ev[0]!.name, 'socket');
    assert.deepEqual(ev[0]!.args[0], { kind: 'ellipsis' });
    assert.equal(ev[1]!.args[3]!.kind, 'struct');
    assert.equal(evalInt(ev[2]!.args[2]!), 0x802);
    assert.deepEqual(ev[3]!.result, { kind: 'int', value: -1 });
    assert.equal(ev[3]!.errno, 'EINPROGRESS');
    assert.equal(evalInt(ev[4]!.result), 0x802);
    assert.equal(ev[4]!.errno, null);
    assert.equal(ev[5]!.args[0]!.kind, 'list');
    assert.equal(ev[6]!.args[1]!.kind, 'struct');
  });

  test('shell lines with and without a time', () => {
    const s = parse('`sysctl -q net.ipv4.tcp_sack=0`\n+1 `ip link set up`\n');
    assert.deepEqual(s.events.map((e) => (e as ShellEvent).command), ['sysctl -q net.ipv4.tcp_sack=0', 'ip link set up']);
    assert.deepEqual(s.events[1]!.time, { kind: 'point', at: { rel: true, us: 1_000_000 } });
  });

  test('flags', () => {
    assert.equal(parseFlags('S.'), TCP_SYN | TCP_ACK);
    assert.equal(parseFlags('-'), 0);
    assert.throws(() => parseFlags('SX'));
  });

  test('errors name the line and never throw', () => {
    assert.deepEqual(parseError('0 close(3) = 0\n+0 < S 0:5(0) win 1\n').line, 2);
    assert.match(parseError('0 < S 0:5(0) win 1').message, /length/);
    assert.match(parseError('0 < Q 0:0(0)').message, /flag/);
    assert.match(parseError('0 > S 0:0(0) <mss 1460,foo 3>').message, /unsupported TCP option/);
    assert.match(parseError('0 close(3)').message, /=/);
    assert.match(parseError('0 < . 1:1(0) ack 1 win 70000').message, /16 bits/);
    assert.match(parseError('0 icmp unreachable').message, /not supported/);
    assert.equal(parseError('\n\n0...0.1 < S 0:0(0)').line, 3);
    // Garbage of every kind returns an error rather than throwing.
    for (const junk of ['0 <', '0 > S', '+', '0 f(', '0 f(1,', '0 f() = [', '0 f() = {x', '0 ~', '*~', '0 `x']) {
      const r = parseScript(junk);
      assert.equal(r.ok, false, junk);
    }
  });
});
