// Connection-state checks in shell lines (src/pkt/shellstate.ts): netstat / ss / sockstat
// piped into grep are evaluated against the connection table, tcpdrop drops a connection
// with a RST, and what cannot be evaluated is reported, never silently passed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runScript, type RunResult } from '../../src/pkt/interpreter.js';

const PASSIVE = [
  '0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
  '+0  bind(3, ..., ...) = 0',
  '+0  listen(3, 1) = 0',
  '+0  < S 0:0(0) win 65535 <mss 1460>',
  '+0  > S. 0:0(0) ack 1 <mss 1460>',
  '+.1 < . 1:1(0) ack 1 win 65535',
  '+0  accept(3, ..., ...) = 4',
];

function run(lines: string[]): RunResult {
  return runScript([...PASSIVE, ...lines].join('\n') + '\n');
}

describe('shell state checks (netstat, ss, sockstat | grep; tcpdrop)', () => {
  test('FreeBSD sockstat names (FIN_WAIT_2, TIME_WAIT …) and Linux netstat names (FIN_WAIT2 …)', () => {
    const r = run([
      '+0  close(4) = 0',
      '+0  > F. 1:1(0) ack 1',
      '+.1 < . 1:1(0) ack 2 win 65535',
      '+0  `sockstat -4 -s -P tcp | grep 8080 | grep -q FIN_WAIT_2`',
      '+0  `netstat -an | grep 8080 | grep -q FIN_WAIT2`',
      '+0  `sleep 1; sockstat -s | grep -wq 192.0.2.1:40000`',
    ]);
    assert.equal(r.ok, true, r.failure?.message);
  });

  test('a check that does not hold fails at its line, with what it saw', () => {
    const r = run(['+0  `netstat -an | grep 8080 | grep -q CLOSE_WAIT`']);
    assert.equal(r.ok, false);
    assert.equal(r.failure!.line, 8);
    assert.match(r.failure!.message, /^shell command failed \(exit 1\): netstat -an/);
  });

  test('grep -v and -c; ss without -a leaves the listener out', () => {
    const r = run([
      '+0  `ss -tn | grep -q LISTEN`',
    ]);
    assert.equal(r.ok, false, 'ss -tn lists connections only');
    const r2 = run(['+0  `ss -tan | grep -v ESTAB | grep -q LISTEN`', '+0  `ss -tan | grep -c 8080`']);
    assert.equal(r2.ok, true, r2.failure?.message);
  });

  test('tcpdrop LADDR LPORT FADDR FPORT: the connection is reset (RST) and gone (ECONNABORTED, FreeBSD tcp_drop); an unknown one fails', () => {
    const r = run([
      '+0  `tcpdrop 192.168.0.1 8080 192.0.2.1 40000`',
      '+0  > R. 1:1(0) ack 1',
      '+0  read(4, ..., 10) = -1 ECONNABORTED (Software caused connection abort)',
    ]);
    assert.equal(r.ok, true, r.failure?.message);
    const r2 = run(['+0  `tcpdrop 192.168.0.1:8080 192.0.2.1:40001`']);
    assert.equal(r2.ok, false);
    assert.match(r2.failure!.details.join('\n'), /no connection/);
  });

  test('what cannot be evaluated (other filters, other tools) is reported, not passed silently', () => {
    const r = run(['+0  `netstat -an | grep 8080 | wc -l`', '+0  `ss -tan state bogus | grep -q 8080`']);
    assert.equal(r.ok, true, r.failure?.message);
    assert.ok(r.notes.some((n) => /line 8: shell state check not evaluated: filter 'wc -l'/.test(n)), r.notes.join('\n'));
    assert.ok(r.notes.some((n) => /line 9: shell state check not evaluated: ss state 'bogus'/.test(n)), r.notes.join('\n'));
  });
});
