// The TUN link's failure modes say what is wrong and why: a missing addon, no permission
// (CAP_NET_ADMIN), bad flags. The unprivileged cases run as user nobody inside a fresh
// network namespace when the suite has root, and as the current user otherwise (opening
// the device then fails before anything is created).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, Netns } from './netns.js';
import { tunSupport } from '../../src/link/tun.js';
import { defaultHostAddr, parseDuration, parseTunFlags, UsageError } from '../../src/cli/tunhost.js';
import { parseIpv4Address, formatIpv4Address } from '../../src/wire/ipv4addr.js';

const SYNACK = join(ROOT, 'bin', 'synack.js');
const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).error === undefined;

function synack(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SYNACK, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, input: '', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('TUN link: clear errors', { skip: linux ? false : 'Linux only' }, () => {
  test('tunSupport() answers without throwing', () => {
    const s = tunSupport();
    if (!s.ok) assert.match(s.reason, /addon|tun/i);
  });

  test('addon missing → says it is not built and how to build it (exit 1)', () => {
    const r = synack(['serve', '--tun', 'skx0', '--addr', '198.18.0.1/24', '--http', '80'], { SYNACK_TUN_ADDON: '/nonexistent/synack_tun.node' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /TUN addon is not built/);
    assert.match(r.stderr, /build-addon\.mjs/);
  });

  test('bad flags → a usage error naming the flag (exit 2), before any device is touched', () => {
    let r = synack(['serve', '--tun', 'skx0', '--addr', '198.18.0.1', '--http', '80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--addr takes an IPv4 address with a prefix length/);
    r = synack(['serve', '--tun', 'skx0', '--addr', '198.18.0.1/24']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing to serve/);
    r = synack(['connect', '198.18.0.2', '99999', '--tun', 'skx0', '--addr', '198.18.0.1/24']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /PORT must be 1\.\.65535/);
    r = synack(['get', 'http://example.com/', '--tun', 'skx0', '--addr', '198.18.0.1/24']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /IPv4 address \(synack does no DNS\)/);
    r = synack(['serve', '--tun', 'skx0', '--addr', '198.18.0.1/24', '--http', '80', '--loss', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--loss takes a probability/);
  });

  test('no privileges → EACCES/EPERM with "CAP_NET_ADMIN" or "run as root" in the message (exit 1)', { skip: root && !hasSetpriv ? 'setpriv not installed' : false }, () => {
    const args = ['serve', '--tun', 'skx0', '--addr', '198.18.0.1/24', '--http', '80'];
    let r: { code: number | null; stderr: string };
    if (root) {
      const ns = Netns.create();
      try {
        const x = ns.execSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, SYNACK, ...args]);
        r = { code: x.code, stderr: x.stderr };
      } finally {
        ns.destroy();
      }
    } else {
      r = synack(args);
    }
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot open TUN device skx0: .*(CAP_NET_ADMIN|run as root)/);
    assert.match(r.stderr, /\[(EPERM|EACCES)/);
  });
});

describe('TUN flags', () => {
  test('the kernel gets the first usable address of the prefix that is not synack\'s', () => {
    const h = (a: string, p: number): string => formatIpv4Address(defaultHostAddr(parseIpv4Address(a)!, p));
    assert.equal(h('198.18.0.1', 24), '198.18.0.2');
    assert.equal(h('198.18.0.7', 24), '198.18.0.1');
    assert.equal(h('198.18.0.0', 31), '198.18.0.1'); // RFC 3021: both addresses of a /31 are usable
    assert.equal(h('198.18.0.1', 30), '198.18.0.2');
    assert.throws(() => defaultHostAddr(parseIpv4Address('198.18.0.1')!, 32), UsageError);
  });

  test('durations, probabilities and sysctls', () => {
    assert.equal(parseDuration('delay', '5ms'), 5000);
    assert.equal(parseDuration('delay', '500us'), 500);
    assert.equal(parseDuration('delay', '1.5s'), 1_500_000);
    assert.equal(parseDuration('delay', '7'), 7000);
    assert.throws(() => parseDuration('delay', 'soon'), UsageError);
    const c = parseTunFlags({ tun: 't', addr: '198.18.0.1/24', loss: '0.02', reorder: '0.01', delay: '5ms', seed: '3', sysctl: ['tcp_syncookies=2', 'net.ipv4.tcp_rmem=4096 8192 16384'] });
    assert.deepEqual(c.faults, { loss: 0.02, reorder: 0.01, delay: 5000 });
    assert.equal(c.seed, 3);
    assert.equal(c.options.tcp_syncookies, 2);
    assert.deepEqual(c.options.tcp_rmem, [4096, 8192, 16384]);
    assert.equal(formatIpv4Address(c.hostAddr), '198.18.0.2');
    assert.throws(() => parseTunFlags({ tun: 't', addr: '198.18.0.1/24', sysctl: ['tcp_nonsense=1'] }), /unknown option/);
    assert.throws(() => parseTunFlags({ tun: 't', addr: '198.18.0.1/24', 'host-addr': '198.18.0.1' }), /must differ/);
  });
});
