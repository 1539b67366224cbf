// The TAP link fails as clearly as the TUN link: a missing addon, no privileges, a name that
// is a TUN device, bad flags.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, Netns, interopGate } from './netns.js';
import { tapSupport } from '../../src/link/tun-tap.js';
import { parseTunFlags } from '../../src/cli/tunhost.js';
import { formatMac } from '../../src/wire/ethernet.js';

const SYNACK = join(ROOT, 'bin', 'synack.js');
const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).error === undefined;
const gate = interopGate();

function synack(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SYNACK, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, input: '', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('TAP link: clear errors', { skip: linux ? false : 'Linux only' }, () => {
  test('tapSupport() answers without throwing', () => {
    const s = tapSupport();
    if (!s.ok) assert.match(s.reason, /addon|tun/i);
  });

  test('TAP addon missing → says it is not built and how to build it (exit 1)', () => {
    const r = synack(['serve', '--tap', 'skx1', '--addr', '198.18.0.1/24', '--http', '80'], { SYNACK_TAP_ADDON: '/nonexistent/synack_tap.node' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /TAP addon is not built/);
    assert.match(r.stderr, /build-addon\.mjs/);
  });

  test('bad flags → usage errors (exit 2)', () => {
    let r = synack(['serve', '--tap', 'skx1', '--tun', 'skx2', '--addr', '198.18.0.1/24', '--http', '80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not both/);
    r = synack(['serve', '--addr', '198.18.0.1/24', '--http', '80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tun NAME or --tap NAME is required/);
    r = synack(['serve', '--tap', 'skx1', '--addr', '198.18.0.1/24', '--http', '80', '--mac', '01:00:5e:00:00:01']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mac takes a unicast MAC/);
    r = synack(['serve', '--tun', 'skx1', '--addr', '198.18.0.1/24', '--http', '80', '--mac', '02:00:00:00:00:01']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mac needs --tap/);
  });

  test('flags: TAP gets a MAC derived from its address unless --mac is given', () => {
    const c = parseTunFlags({ tap: 'sk', addr: '198.18.0.1/24' });
    assert.equal(c.kind, 'tap');
    assert.equal(formatMac(c.mac!), '02:00:c6:12:00:01');
    assert.equal(formatMac(parseTunFlags({ tap: 'sk', addr: '198.18.0.1/24', mac: '02:AA:bb:cc:dd:ee' }).mac!), '02:aa:bb:cc:dd:ee');
    assert.equal(parseTunFlags({ tun: 'sk', addr: '198.18.0.1/24' }).mac, null);
  });

  test('no privileges → EPERM/EACCES naming CAP_NET_ADMIN (exit 1)', { skip: root && !hasSetpriv ? 'setpriv not installed' : false }, () => {
    const args = ['serve', '--tap', 'skx1', '--addr', '198.18.0.1/24', '--http', '80'];
    let r: { code: number | null; stderr: string };
    if (root) {
      const ns = Netns.create('13-taperr');
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
    assert.match(r.stderr, /cannot open TAP device skx1: .*(CAP_NET_ADMIN|run as root)/);
    assert.match(r.stderr, /\[(EPERM|EACCES)/);
  });

  test('a name that is a TUN device → "exists but is not a TAP device" (EINVAL)', { skip: gate.skip || (gate.fail ?? false) }, () => {
    const ns = Netns.create('13-taperr2');
    try {
      ns.ipSync(['tuntap', 'add', 'dev', 'sktun', 'mode', 'tun']);
      const x = ns.execSync(process.execPath, [SYNACK, 'serve', '--tap', 'sktun', '--addr', '198.18.0.1/24', '--http', '80']);
      assert.equal(x.code, 1, x.stderr);
      assert.match(x.stderr, /cannot open TAP device sktun: sktun exists but is not a TAP device/);
      assert.match(x.stderr, /\[EINVAL/);
    } finally {
      ns.destroy();
    }
  });
});
