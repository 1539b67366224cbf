import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runScript, type RunResult } from '../../src/pkt/interpreter.js';
import { applyShell } from '../../src/pkt/sysctl.js';
import { resolveOptions } from '../../src/stack/options.js';

const PASSIVE = [
  '0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
  '+0  bind(3, ..., ...) = 0',
  '+0  listen(3, 1) = 0',
  '+0  < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>',
  '+0  > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>',
  '+.1 < . 1:1(0) ack 1 win 512',
  '+0  accept(3, ..., ...) = 4',
];

function run(lines: string[], options?: Array<{ name: string; value: string }>): RunResult {
  return runScript(lines.join('\n') + '\n', { options });
}

function ok(r: RunResult): void {
  assert.equal(r.ok, true, r.failure ? `line ${r.failure.line}: ${r.failure.message}\n${r.failure.details.join('\n')}` : '');
}

function fails(r: RunResult, line: number, re: RegExp): void {
  assert.equal(r.ok, false, 'expected the script to fail');
  assert.equal(r.failure!.line, line, `failure line (message: ${r.failure!.message})`);
  assert.match(r.failure!.message, re);
}

describe('pkt interpreter: one wrong expectation fails naming the line and the field', () => {
  const good = [...PASSIVE, '+0  write(4, ..., 1000) = 1000', '+0  > P. 1:1001(1000) ack 1 win 502', '+.1 < . 1:1(0) ack 1001 win 512'];

  test('the correct script passes', () => ok(run(good)));

  test('window', () => {
    const r = run(good.map((l) => l.replace('ack 1 win 502', 'ack 1 win 1000')));
    fails(r, 9, /^win: expected 1000, got 502$/);
    assert.match(r.failure!.details.join('\n'), /script: > P\. 1:1001\(1000\) ack 1 win 1000/);
    assert.match(r.failure!.details.join('\n'), /actual: > P\. 1:1001\(1000\) ack 1 win 502/);
  });

  test('ack, flags, length, options', () => {
    fails(run(good.map((l) => l.replace('> P. 1:1001(1000) ack 1 ', '> P. 1:1001(1000) ack 2 '))), 9, /^ack: expected 2, got 1$/);
    fails(run(good.map((l) => l.replace('> P. 1:1001', '> . 1:1001'))), 9, /^flags: expected ., got P.$/);
    fails(run(good.map((l) => l.replace('write(4, ..., 1000) = 1000', 'write(4, ..., 999) = 999'))), 9, /len: expected 1000, got 999/);
    fails(run(good.map((l) => l.replace('sackOK,nop,wscale 7>', 'sackOK,nop,wscale 8>'))), 5, /^option 6 \(wscale\): expected wscale 8, got wscale 7$/);
  });

  test('syscall return value and errno', () => {
    fails(run(good.map((l) => l.replace('accept(3, ..., ...) = 4', 'accept(3, ..., ...) = -1 EAGAIN'))), 7, /^return value: expected -1 EAGAIN, got 4$/);
    const r = run([...PASSIVE, '+0  < R 1:1(0) win 0', '+0  read(4, ..., 10) = -1 ETIMEDOUT']);
    fails(r, 9, /^errno: expected ETIMEDOUT, got ECONNRESET$/);
    fails(run([...PASSIVE, '+0  getsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], [4]) = 0']), 8, /optval: expected \[1\], got 0/);
  });

  test('timing: a packet later than the tolerance, a packet never sent, an unexpected packet', () => {
    // The RTO after a 100 ms RTT is 300 ms, not 200 ms (±25 ms tolerance at 12.5 %).
    const rto = [...good.slice(0, 9), '+.2 > P. 1:1001(1000) ack 1'];
    fails(run(rto), 10, /^expected outbound packet .* by 0\.325s, but none was sent$/);
    fails(run([...good.slice(0, 9), '+.4 > P. 1:1001(1000) ack 1']), 10, /^time: expected 0\.5s .*got 0\.4s$/);
    // A packet after the last line: ignored, as packetdrill does; a failure with --fail_extra_packets.
    ok(run(good.slice(0, 8)));
    fails(run(good.slice(0, 8), [{ name: 'fail_extra_packets', value: '' }]), 8, /^unexpected outbound packet at 0\.1s: > P\. 1:1001\(1000\) ack 1/);
  });

  test('blocking calls: still blocked at the end time, or returning too early', () => {
    fails(run([...PASSIVE, '+0...0.1 read(4, ..., 10) = 10']), 8, /still blocked at 0\.2\d*s; expected it to return at 0\.2s/);
    fails(run([...PASSIVE, '+0  read(4, ..., 10) = 10']), 8, /still blocked/);
    fails(run([...PASSIVE, '+0  < P. 1:11(10) ack 1 win 512', '+0  > . 1:1(0) ack 11', '+0...0.5 read(4, ..., 10) = 10']), 10, /^time: read\(\) returned 10 at 0\.1s, expected it to return at 0\.6s$/);
  });

  test('parse errors and bad options are failures at their line', () => {
    fails(run(['0 close(3) = 0', '+0 < S 0:1(0) win 1']), 2, /^parse error: /);
    fails(run(['--ip_version=ipv6', '0 close(3) = -1 EBADF']), 1, /IPv4 only/);
    fails(run(['0 frobnicate(3) = 0']), 1, /not supported/);
  });
});

describe('pkt interpreter: language features', () => {
  test('ranges, any-time, comments, python blocks, notes', () => {
    const r = run([
      '/* a block',
      '   comment */',
      '%{ print("skipped") }%',
      '--ip_version=ipv4-mapped-ipv6',
      '--some_unknown_flag=1',
      ...PASSIVE,
      '+0  write(4, ..., 100) = 100',
      '+0  > P. 1:101(100) ack 1',
      '+.2~+.4 > P. 1:101(100) ack 1   // the RTO (300 ms)',
      '* > P. 1:101(100) ack 1         // then after 600 ms more',
      '+.1 < . 1:1(0) ack 101 win 512',
      '+0  `ip link set dev tun0 up`',
    ]);
    ok(r);
    const notes = r.notes.join('\n');
    assert.match(notes, /line 3: python 'print\("skipped"\)' not evaluated \(only assert statements are\)/);
    assert.match(notes, /ipv4-mapped-ipv6 runs as plain IPv4/);
    assert.match(notes, /--some_unknown_flag is not supported/);
    assert.match(notes, /line 18: shell command 'ip link set dev tun0 up' ignored/);
    assert.equal(r.endTime, 1_100_000);
  });

  test('consecutive outbound segments merge up to the scripted length unless --strict_segments', () => {
    const s = [...PASSIVE, '+0  write(4, ..., 2920) = 2920', '+0  > P. 1:2921(2920) ack 1'];
    ok(run(s));
    fails(run(s, [{ name: 'strict_segments', value: '' }]), 9, /^flags: expected P., got .; len: expected 2920, got 1460$/);
  });

  test('--ignore-win, --ignore-psh, --ignore-options', () => {
    const s = [
      ...PASSIVE.slice(0, 4), '+0  > S. 0:0(0) ack 1 win 7 <wscale 7,mss 1460>', ...PASSIVE.slice(5),
      '+0  write(4, ..., 10) = 10', '+0  > . 1:11(10) ack 1',
    ];
    fails(run(s), 5, /win: expected 7, got 64240; option 1: expected wscale 7, got mss 1460/);
    ok(run(s, [{ name: 'ignore-win', value: '' }, { name: 'ignore-options', value: '' }, { name: 'ignore-psh', value: '' }]));
  });

  test('poll blocks until its timeout or an event', () => {
    ok(run([
      ...PASSIVE,
      '+0...0.05 poll([{fd=4, events=POLLIN, revents=0}], 1, 50) = 0',
      '+0...0.2 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1',
      '+.2 < P. 1:11(10) ack 1 win 512',
      '+0  > . 1:1(0) ack 11',
    ]));
  });

  test('fds are mapped when the script numbers them differently', () => {
    ok(run([
      '0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 7',
      '+0  bind(7, ..., ...) = 0',
      '+0  listen(7, 1) = 0',
      '+0  close(7) = 0',
      '+0  close(7) = -1 EBADF (Bad file descriptor)',
    ]));
  });

  test('BSD sysctls map where the meaning is clear; others are reported', () => {
    const o = resolveOptions();
    const r = applyShell('sysctl -w net.inet.tcp.rfc1323=0 net.inet.tcp.msl=5000; sysctl net.inet.tcp.sack.enable=0 && sysctl kern.foo=1', o);
    assert.equal(r.error, null);
    assert.deepEqual([o.tcp_timestamps, o.tcp_window_scaling, o.tcp_msl, o.tcp_sack], [0, 0, 5, 0]);
    assert.deepEqual(r.ignored, ['sysctl kern.foo is not modelled; ignored']);
    const r2 = applyShell('sysctl -q net.ipv4.tcp_rmem="4096 65536 1000000"', o);
    assert.equal(r2.error, null);
    assert.deepEqual(o.tcp_rmem, [4096, 65536, 1000000]);
    const bad = applyShell('sysctl -q net.ipv4.tcp_syn_retries=-3', o);
    assert.match(bad.error!, /tcp_syn_retries/);
    assert.equal(o.tcp_syn_retries, 6, 'a rejected value leaves the options unchanged');
  });
});

describe('pkt interpreter: robustness', () => {
  test('random scripts never crash the runner (no internal errors)', async () => {
    const fc = (await import('fast-check')).default;
    const pieces = [
      ...PASSIVE, '+0 < P. 1:11(10) ack 1 win 512', '+0 > . 1:1(0) ack 11', '+0 read(4, ..., 5) = 5', '+0 close(4) = 0',
      '+1 > F. 1:1(0) ack 11', '* > R 0:0(0)', '+0...0.5 read(4, ..., 5) = 0', '+.3~+.5 > P. 1:2(1) ack 1',
      '+0 < R 0:0(0) win 0', '+0 < S. 0:0(0) ack 1 win 1 <sack 1:2,TS val 1 ecr 2>', '+0 connect(3, ..., ...) = 0',
      '+0 setsockopt(4, IPPROTO_TCP, TCP_USER_TIMEOUT, [10], 4) = 0', '+0 poll([{fd=4, events=POLLIN}], 1, 10) = 0',
      '`sysctl -q net.ipv4.tcp_rmem=1`', '+99999999999 close(3) = 0', '0 shutdown(4, 7) = 0', '+0 ioctl(4, FIONREAD, [0]) = 0',
      'garbage', '+0 < S 4294967295:4294967295(0) win 65535 <mss 65535,wscale 255,eol,eol>',
      '+0 write(4, ..., 100000) = 100000', '+0 fcntl(4, F_SETFL, O_NONBLOCK) = 0', '+0 setsockopt(4, SOL_SOCKET, SO_RCVBUF, [0], 4) = 0',
    ];
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 14 }), (lines) => {
      const r = runScript(lines.join('\n'));
      assert.ok(r.ok || !r.failure!.message.startsWith('internal error'), r.failure?.message);
    }), { numRuns: 300, seed: 7 });
  });
});

describe('pkt interpreter: more syscalls', () => {
  test('writev/readv with iovecs; a python block after a time is skipped', () => {
    ok(run([
      ...PASSIVE,
      '+0  writev(4, [{..., 100}, {iov_base=..., iov_len=50}], 2) = 150',
      '+0  > P. 1:151(150) ack 1',
      '+0  %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%',
      '+0  < P. 1:31(30) ack 151 win 512',
      '+0  > . 151:151(0) ack 31',
      '+0  readv(4, [{..., 10}, {..., 10}], 2) = 20',
      '+0  recv(4, ..., 100, MSG_PEEK) = 10',
      '+0  ioctl(4, FIONREAD, [10]) = 0',
      '+0  recv(4, ..., 100, 0) = 10',
      '+0  recv(4, ..., 100, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)',
    ]));
  });
});
