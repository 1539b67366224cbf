// `synack gateway --tap` with the Linux kernel as the guest, in namespace synack-14-gwtap-…:
// the kernel gets its address from the gateway's DHCP server (busybox udhcpc), resolves a
// name at the gateway's DNS server, and fetches from the host's 127.0.0.1 through the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Netns, interopGate, ROOT } from '../interop/netns.js';

const gate = interopGate(['curl', 'busybox']);
const HTTP_PORT = 18080;
let ns: Netns | null = null;
let dir = '';
const body = Buffer.alloc(1 << 20);
for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff;
const bodySha = createHash('sha256').update(body).digest('hex');

function waitLine(p: ChildProcess, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes(want)) resolve(); });
    p.on('exit', (c) => reject(new Error(`exited ${c} before '${want}'`)));
  });
}

before(async () => {
  if (gate.skip || gate.fail) return;
  dir = mkdtempSync(join(tmpdir(), 'synack-14-tap-'));
  writeFileSync(join(dir, 'body'), body);
  // udhcpc's hook: configure the lease, print it.
  writeFileSync(join(dir, 'dhcp.sh'), `#!/bin/sh
case "$1" in bound|renew)
  ip addr add "$ip/\${mask:-24}" dev "$interface"
  ip route add default via "\${router%% *}" dev "$interface"
  echo "LEASE $ip router=$router dns=$dns";;
esac
`);
  chmodSync(join(dir, 'dhcp.sh'), 0o755);
  ns = Netns.create('14-gwtap');
  const host = ns.spawn(process.execPath, ['-e', `
    const b = require('fs').readFileSync(process.argv[1]);
    require('http').createServer((q, r) => { r.writeHead(200, { 'content-length': b.length }); r.end(b); })
      .listen(${HTTP_PORT}, '127.0.0.1', () => console.log('ready'));`, join(dir, 'body')]);
  await waitLine(host, 'ready');
  const gw = ns.spawn(process.execPath, [join(ROOT, 'bin', 'synack.js'), 'gateway', '--tap', 'gwt14', '--subnet', '198.18.0.0/24',
    '--allow', `tcp:127.0.0.1:${HTTP_PORT}`, '--host-alias', '198.18.0.2=127.0.0.1', '--dns-host', 'web.test=198.18.0.2', '-q']);
  gw.stderr!.on('data', (d: Buffer) => process.stderr.write(`[gateway] ${d}`));
  await waitLine(gw, 'ready');
});

after(() => { ns?.destroy(); if (dir) rmSync(dir, { recursive: true, force: true }); });

test('TAP guest: DHCP lease from the gateway, DNS names at the gateway, HTTP from the host loopback through it', { skip: gate.skip }, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  const d = await ns!.run('busybox', ['udhcpc', '-i', 'gwt14', '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', join(dir, 'dhcp.sh')], { timeoutMs: 30_000 });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout.toString(), /LEASE 198\.18\.0\.1\d\d router=198\.18\.0\.1 dns=198\.18\.0\.1/);
  const n = await ns!.run('busybox', ['nslookup', 'web.test', '198.18.0.1'], { timeoutMs: 15_000 });
  assert.match(n.stdout.toString(), /Address:\s*198\.18\.0\.2/, n.stdout.toString() + n.stderr);
  // A name the hosts map lacks is resolved by the gateway's host (dns.lookup): localhost.
  const f = await ns!.run('busybox', ['nslookup', 'localhost', '198.18.0.1'], { timeoutMs: 15_000 });
  assert.match(f.stdout.toString(), /Address:\s*127\.0\.0\.1/, f.stdout.toString() + f.stderr);
  const c = await ns!.run('curl', ['-sS', '--max-time', '30', `http://198.18.0.2:${HTTP_PORT}/`], { timeoutMs: 40_000 });
  assert.equal(c.code, 0, c.stderr);
  assert.equal(createHash('sha256').update(c.stdout).digest('hex'), bodySha);
  const r = await ns!.run('curl', ['-sS', '--connect-timeout', '5', `http://198.18.0.2:${HTTP_PORT + 1}/`], { timeoutMs: 20_000 });
  assert.equal(r.code, 7, `no rule → refused (curl 7), not a timeout (28): ${r.stderr}`);
});
