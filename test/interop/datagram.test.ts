// Interop for the datagram half of issue 13: the kernel's resolver tools and UDP sockets
// against `synack serve --dns --host … --udp-echo 7` over TUN, in a namespace
// synack-13b-<pid>-<hex> with addresses from 198.18.0.0/15 (always deleted):
//   dig: the configured answer, NXDOMAIN, a truncated answer (TC) retried over TCP;
//   curl http://NAME/ with the name resolved by synack's DNS (the namespace's resolv.conf);
//   UDP echo with socat; 10,000 datagrams echoed and counted; ICMP port unreachable seen by
//   the kernel (ECONNREFUSED on a connected socket) for a closed port.
// DHCP needs Ethernet: its interop (udhcpc over TAP) is in dhcp-tap.test.ts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, ROOT } from './netns.js';

const gate = interopGate(['dig', 'curl', 'socat', 'python3']);
const SYNACK = join(ROOT, 'bin', 'synack.js');
if (gate.fail !== null) test('interop (kernel UDP/DNS ↔ synack)', () => assert.fail(gate.fail!));

describe('interop: kernel UDP and DNS ↔ synack over TUN', { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 180_000 }, () => {
  let ns: Netns;
  let peer: JsonPeer;
  let etcDir = '';
  const p = testPrefix(200);
  const big = Array.from({ length: 40 }, (_, i) => `198.18.250.${i + 1}`);

  before(async () => {
    ns = Netns.create('13b');
    // `ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf: the
    // kernel side's libc resolver (curl's getaddrinfo) asks synack.
    etcDir = join('/etc/netns', ns.name);
    mkdirSync(etcDir, { recursive: true });
    writeFileSync(join(etcDir, 'resolv.conf'), `nameserver ${p.synack}\noptions timeout:2 attempts:2\n`);
    peer = new JsonPeer(ns, SYNACK, ['serve', '--tun', 'sk13b', '--addr', p.cidr, '--http', '80', '--dns', '--udp-echo', '7', '--control',
      '--host', `web.test=${p.synack}`, '--host', `alias.test=${p.synack}`, ...big.flatMap((a) => ['--host', `big.test=${a}`])]);
    await peer.ready;
  });

  after(() => {
    peer?.stop();
    ns?.destroy();
    if (etcDir) rmSync(etcDir, { recursive: true, force: true });
  });

  const sh = (script: string, timeoutMs = 60_000) => ns.run('sh', ['-c', script], { timeoutMs });

  test('dig gets the configured A record (authoritative), and the PTR back', async () => {
    const r = await sh(`dig +time=3 +tries=2 @${p.synack} web.test A`);
    const out = r.stdout.toString();
    assert.match(out, /status: NOERROR/);
    assert.match(out, /flags: qr aa rd;/);
    assert.match(out, new RegExp(`web\\.test\\.\\s+60\\s+IN\\s+A\\s+${p.synack.replace(/\./g, '\\.')}`));
    const ptr = (await sh(`dig +short +time=3 +tries=2 @${p.synack} -x ${p.synack}`)).stdout.toString().trim();
    assert.equal(ptr, 'web.test.');
  });

  test('dig gets NXDOMAIN for an unknown name', async () => {
    const out = (await sh(`dig +time=3 +tries=2 @${p.synack} nosuch.test A`)).stdout.toString();
    assert.match(out, /status: NXDOMAIN/);
    assert.match(out, /ANSWER: 0,/);
  });

  test('an answer over 512 bytes comes back truncated (TC) over UDP and whole over TCP', async () => {
    const udp = (await sh(`dig +ignore +noedns +time=3 +tries=2 @${p.synack} big.test A`)).stdout.toString();
    assert.match(udp, /flags: qr aa tc rd;/);
    assert.match(udp, /ANSWER: 0,/);
    const auto = (await sh(`dig +noedns +time=3 +tries=2 @${p.synack} big.test A`)).stdout.toString();
    assert.match(auto, /Truncated, retrying in TCP mode/);
    assert.match(auto, /ANSWER: 40,/);
    const addrs = [...auto.matchAll(/big\.test\.\s+60\s+IN\s+A\s+([\d.]+)/g)].map((m) => m[1]);
    assert.deepEqual(addrs, big);
    const st = await peer.request({ cmd: 'stats' }) as { stats: { dns: { tcp: number; truncated: number } } };
    assert.ok(st.stats.dns.truncated >= 2 && st.stats.dns.tcp >= 1, JSON.stringify(st.stats.dns));
  });

  test('curl http://web.test/ resolves the name through synack\'s DNS and gets synack\'s page', async () => {
    const r = await sh('curl -sS --max-time 20 -o /dev/null -w "%{http_code} %{remote_ip}" http://web.test/');
    assert.equal(r.stdout.toString(), `200 ${p.synack}`, r.stderr);
    const bad = await sh('curl -sS --max-time 20 http://nosuch.test/');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Could not resolve host: nosuch\.test/);
  });

  test('UDP echo with socat, both ways', async () => {
    const r = await sh(`printf 'hello over udp' | socat -t 3 - UDP:${p.synack}:7`);
    assert.equal(r.stdout.toString(), 'hello over udp', r.stderr);
  });

  test('10,000 datagrams to synack, each echoed back and counted on both sides', async () => {
    const before = (await peer.request({ cmd: 'stats' }) as { stats: { udp: { in: number; echoed: number } } }).stats.udp;
    // Windows of 100 in flight: the kernel's TUN queue and synack's receive queue are bounded
    // (drops are legitimate UDP behaviour); a lost one would be counted, not waited for forever.
    const py = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.connect(("${p.synack}", 7))
s.settimeout(3)
got = 0; bad = 0; n = 10000; i = 0
while i < n:
    k = min(100, n - i)
    for j in range(k):
        s.send(b"dgram-%05d" % (i + j))
    for j in range(k):
        try:
            d = s.recv(2048)
        except socket.timeout:
            break
        if d.startswith(b"dgram-"): got += 1
        else: bad += 1
    i += k
print(got, bad)
`;
    const r = await ns.run('python3', ['-c', py], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const [got, bad] = r.stdout.toString().trim().split(' ').map(Number);
    const after = (await peer.request({ cmd: 'stats' }) as { stats: { udp: { in: number; echoed: number; rcvbufErrors: number } } }).stats.udp;
    assert.equal(bad, 0);
    assert.equal(after.in - before.in, 10_000, `synack received ${after.in - before.in} (receive-buffer drops ${after.rcvbufErrors})`);
    assert.equal(after.echoed - before.echoed, 10_000);
    assert.equal(got, 10_000, `the kernel got ${got} echoes back`);
  });

  test('a closed port: synack sends ICMP port unreachable, the kernel reports ECONNREFUSED', async () => {
    const py = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("${p.synack}", 9999))
s.settimeout(3)
s.send(b"anyone?")
try:
    s.recv(100); print("answered")
except ConnectionRefusedError: print("ECONNREFUSED")
except socket.timeout: print("timeout")
`;
    const r = await ns.run('python3', ['-c', py], { timeoutMs: 20_000 });
    assert.equal(r.stdout.toString().trim(), 'ECONNREFUSED', r.stderr);
    const s = await sh(`printf x | socat -t 2 - UDP:${p.synack}:9998`);
    assert.match(s.stderr, /Connection refused/);
    const st = await peer.request({ cmd: 'stats' }) as { stats: { udp: { noPorts: number }; counters: Record<string, number> } };
    assert.ok(st.stats.udp.noPorts >= 2);
    assert.ok(st.stats.counters.IcmpOutDestUnreachs >= 2);
  });
});
