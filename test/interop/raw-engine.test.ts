// Interop at the engine level: the Linux kernel's TCP against synack's Stack/Tcb driven
// directly (test/interop/rawpeer.ts, no Node net layer), over a TUN device in a fresh
// network namespace. Runs as root (CI runs it); outside CI without root it skips.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, DIST } from './netns.js';
import { patternBytes } from '../../src/cli/tunhost.js';

const gate = interopGate(['socat']);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const RAWPEER = join(DIST, 'test', 'interop', 'rawpeer.js');

if (gate.fail !== null) test('interop (engine level)', () => assert.fail(gate.fail!));

describe('interop: kernel TCP ↔ synack engine (Tcb callbacks) over TUN', { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 120_000 }, () => {
  let ns: Netns;
  let peer: JsonPeer;
  let lossy: JsonPeer;
  const p = testPrefix();
  const p2 = testPrefix(1);

  before(async () => {
    ns = Netns.create();
    peer = new JsonPeer(ns, RAWPEER, ['--tun', 'sk0', '--addr', p.cidr, '--echo', '7', '--discard', '9']);
    // A second device and stack with 2% loss and 1% reordering on synack's side, both directions.
    lossy = new JsonPeer(ns, RAWPEER, ['--tun', 'sk1', '--addr', p2.cidr, '--echo', '7', '--discard', '9', '--loss', '0.02', '--reorder', '0.01', '--seed', '7']);
    await Promise.all([peer.ready, lossy.ready]);
  });

  after(() => {
    peer?.stop();
    lossy?.stop();
    ns?.destroy();
  });

  test('kernel socat → synack echo: 4 MB byte-exact; the kernel half-closes, synack keeps sending', async () => {
    const data = patternBytes(4_000_000);
    const r = await ns.run('socat', ['-t', '30', '-', `TCP:${p.synack}:7`], { input: data });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, data.length);
    assert.equal(sha(r.stdout), sha(data));
  });

  test('kernel socat → synack discard: 20 MB accepted, connection closed cleanly', async () => {
    const r = await ns.run('socat', ['-u', '-', `TCP:${p.synack}:9`], { input: patternBytes(20_000_000) });
    assert.equal(r.code, 0, r.stderr);
  });

  test('synack → kernel socat echo: synack half-closes, the kernel keeps sending', async () => {
    const server = ns.spawn('socat', ['-t', '30', 'TCP-LISTEN:7007,reuseaddr', 'EXEC:cat']);
    try {
      await waitListening(ns, 7007);
      const res = await peer.request({ cmd: 'send', host: p.kernel, port: 7007, bytes: 3_000_000 });
      assert.equal(res.ok, true, JSON.stringify(res));
      assert.equal(res.received, 3_000_000);
      assert.equal(res.sha256, sha(patternBytes(3_000_000)));
    } finally {
      ns.kill(server);
    }
  });

  test('synack → closed kernel port: ECONNREFUSED', async () => {
    const res = await peer.request({ cmd: 'send', host: p.kernel, port: 7999, bytes: 10 });
    assert.equal(res.ok, false);
    assert.equal(res.error, 'ECONNREFUSED');
  });

  test('kernel → closed synack port: connection refused', async () => {
    const r = await ns.run('socat', ['-u', '-', `TCP:${p.synack}:4444`], { input: 'x' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Connection refused/);
  });

  test('2% loss + 1% reordering on synack\'s side: echo 2 MB and send 2 MB byte-exact', async () => {
    const data = patternBytes(2_000_000);
    const r = await ns.run('socat', ['-t', '60', '-', `TCP:${p2.synack}:7`], { input: data });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(r.stdout), sha(data));
    const server = ns.spawn('socat', ['-t', '30', 'TCP-LISTEN:7008,reuseaddr', 'EXEC:cat']);
    try {
      await waitListening(ns, 7008);
      const res = await lossy.request({ cmd: 'send', host: p2.kernel, port: 7008, bytes: 2_000_000 });
      assert.equal(res.ok, true, JSON.stringify(res));
      assert.equal(res.received, data.length);
      assert.equal(res.sha256, sha(data));
    } finally {
      ns.kill(server);
    }
    const st = (await lossy.request({ cmd: 'stats' })).stats as { faultsOut: { dropped: number }; faultsIn: { dropped: number }; counters: Record<string, number> };
    assert.ok(st.faultsOut.dropped > 0 && st.faultsIn.dropped > 0, JSON.stringify(st.faultsOut));
    assert.ok(st.counters.TcpRetransSegs! > 0);
  });
});

/** Wait until something listens on the kernel side on `port` (polling ss; the listener starts asynchronously). */
export async function waitListening(ns: Netns, port: number, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = ns.execSync('ss', ['-Htln', `sport = :${port}`]);
    if (String(r.stdout).includes(`:${port}`)) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`nothing listens on :${port} after ${timeoutMs} ms`);
}
