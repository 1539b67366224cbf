// TUN offloads against the real kernel (root; CI runs it): `synack serve --offload on` opens
// the device with IFF_VNET_HDR + TSO4/CSUM. The kernel must hand synack super-segments
// (rxGso) and take synack's (txGso), and every byte must arrive intact both ways.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, ROOT } from './netns.js';
import { loadTunAddon } from '../../src/link/tun.js';

const gate = interopGate(['curl', 'socat']);
// An addon built before native/tun_vnet.c has no openVnet: outside CI that is a skip (rebuild
// with `node scripts/build-addon.mjs`); in CI the addon is always fresh, so it fails there.
if (gate.skip === false && gate.fail === null) {
  try {
    if (loadTunAddon().openVnet === undefined) {
      const why = 'the TUN addon predates offload support (node scripts/build-addon.mjs)';
      if (process.env.CI) gate.fail = why; else gate.skip = why;
    }
  } catch (e) { gate.fail = (e as Error).message; }
}
const SYNACK = join(ROOT, 'bin', 'synack.js');

if (gate.fail !== null) test('interop (offload)', () => assert.fail(gate.fail!));

describe('interop: TUN with offloads (virtio-net header, TSO/GSO, checksum)', { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 120_000 }, () => {
  let ns: Netns;
  let peer: JsonPeer;
  const p = testPrefix(7);
  const stats = async (): Promise<{ tun: Record<string, number>; discardBytes: number; counters: Record<string, number> }> =>
    (await peer.request({ cmd: 'stats' })).stats as never;

  before(async () => {
    ns = Netns.create('16-offload');
    peer = new JsonPeer(ns, SYNACK, ['serve', '--tun', 'sko0', '--addr', p.cidr, '--http', '80', '--discard', '9', '--offload', 'on', '--control']);
    await peer.ready;
  });
  after(() => { peer?.stop(); ns?.destroy(); });

  test('synack → kernel: 20 MB over HTTP, byte-exact (SHA-256), sent as GSO super-segments', async () => {
    const a = await stats();
    const head = await ns.run('curl', ['-sS', '-I', `http://${p.synack}/bytes/20000000`], { timeoutMs: 60_000 });
    const want = /x-sha256: *([0-9a-f]{64})/i.exec(String(head.stdout))?.[1];
    const r = await ns.run('sh', ['-c', `curl -sS --max-time 60 http://${p.synack}/bytes/20000000 | sha256sum`], { timeoutMs: 70_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(want !== undefined);
    assert.equal(String(r.stdout).slice(0, 64), want);
    const b = await stats();
    assert.ok(b.tun.txGso! - a.tun.txGso! > 0, 'super-segments sent');
    // Far fewer writes than 1448-byte segments.
    assert.ok(b.tun.txPackets! - a.tun.txPackets! < 20e6 / 1448, `${b.tun.txPackets! - a.tun.txPackets!} writes`);
  });

  test('kernel → synack: 20 MB to discard, every byte counted, received as TSO super-segments', async () => {
    const a = await stats();
    const r = await ns.run('sh', ['-c', `head -c 20000000 /dev/zero | socat -u - TCP:${p.synack}:9`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    let n = 0;
    for (let i = 0; i < 500 && n < 20e6; i++) { n = (await stats()).discardBytes - a.discardBytes; if (n < 20e6) await new Promise((res) => setTimeout(res, 20)); }
    assert.equal(n, 20e6);
    const b = await stats();
    assert.ok(b.tun.rxGso! - a.tun.rxGso! > 0, 'super-segments received');
    assert.equal(b.tun.rxErrors, 0);
    assert.equal(b.counters.TcpInCsumErrors, 0);
  });

  test('multi-queue: two queues of one device open (IFF_MULTI_QUEUE), a plain open of it is refused', async () => {
    const script = `
      const { TunLink } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'link', 'tun.js'))});
      const a = TunLink.open({ name: 'skmq0', multiQueue: true, hostAddr: '198.18.250.2', prefixLen: 24 });
      const b = TunLink.open({ name: 'skmq0', multiQueue: true });
      let plain = 'opened';
      try { TunLink.open({ name: 'skmq0' }).close(); } catch (e) { plain = e.code; }
      console.log(JSON.stringify({ a: a.name, b: b.name, fds: a.fd !== b.fd, plain }));
      a.close(); b.close();`;
    const r = await ns.run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(String(r.stdout)) as { a: string; b: string; fds: boolean; plain: string };
    assert.deepEqual(j, { a: 'skmq0', b: 'skmq0', fds: true, plain: 'EINVAL' });
  });
});
