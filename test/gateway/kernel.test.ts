// `synack gateway` with the Linux kernel as the guest, in namespace synack-14-gw-<pid>-…:
// the gateway (the CLI, as a user runs it), the host's servers on 127.0.0.1 and the guest's
// curl all run inside the namespace, so nothing leaves it. The guest reaches the host's
// loopback as 198.18.0.2 (--host-alias), only on allowed ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Netns, interopGate, ROOT } from '../interop/netns.js';

const gate = interopGate(['curl']);
const BIG = 100 << 20;
const HTTP_PORT = 18080, CLOSED_PORT = 18081, DENIED_PORT = 18082, GUEST_PORT = 7022, FWD_PORT = 19022, UDP_PORT = 18053;
let ns: Netns | null = null;
let gwProc: ChildProcess | null = null;
let dir = '';
let bigSha = '';

// The host's servers: GET /big (100 MB of a pattern), POST /up (answers sha256 of the body);
// and the guest's server on :7022 (echo, for hostfwd). Node one-liners, no test files needed.
const HOST_SERVER = `
const http = require('http'), crypto = require('crypto'), fs = require('fs');
const big = fs.readFileSync(process.argv[1]);
http.createServer((q, r) => {
  if (q.method === 'POST') { const h = crypto.createHash('sha256'); q.on('data', d => h.update(d)); q.on('end', () => r.end(h.digest('hex'))); return; }
  r.writeHead(200, { 'content-length': big.length }); r.end(big);
}).listen(${HTTP_PORT}, '127.0.0.1', () => {
  const u = require('dgram').createSocket('udp4');
  u.on('message', (m, r) => u.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  u.bind(${UDP_PORT}, '127.0.0.1', () => console.log('ready'));
});`;
const GUEST_SERVER = `
require('net').createServer(s => s.pipe(s)).listen(${GUEST_PORT}, '198.18.0.100', () => console.log('ready'));`;

function waitLine(p: ChildProcess, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes(want)) resolve(); });
    p.on('exit', (c) => reject(new Error(`exited ${c} before '${want}'`)));
  });
}

before(async () => {
  if (gate.skip || gate.fail) return;
  dir = mkdtempSync(join(tmpdir(), 'synack-14-'));
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(dir, 'big'), big);
  bigSha = createHash('sha256').update(big).digest('hex');
  ns = Netns.create('14-gw');
  const host = ns.spawn(process.execPath, ['-e', HOST_SERVER, join(dir, 'big')]);
  await waitLine(host, 'ready');
  gwProc = ns.spawn(process.execPath, [join(ROOT, 'bin', 'synack.js'), 'gateway', '--tun', 'gw14', '--subnet', '198.18.0.0/24',
    '--allow', `tcp:127.0.0.1:${HTTP_PORT}`, '--allow', `tcp:127.0.0.1:${CLOSED_PORT}`, '--allow', `udp:127.0.0.1:${UDP_PORT}`,
    '--host-alias', '198.18.0.2=127.0.0.1', '--hostfwd', `${FWD_PORT}:${GUEST_PORT}`, '-q']);
  gwProc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[gateway] ${d}`));
  await waitLine(gwProc, 'ready');
  const guest = ns.spawn(process.execPath, ['-e', GUEST_SERVER]);
  await waitLine(guest, 'ready');
});

after(() => { ns?.destroy(); if (dir) rmSync(dir, { recursive: true, force: true }); });

const opts = { skip: gate.skip };

test('kernel guest → gateway → host 127.0.0.1: 100 MB download byte-exact (curl http://198.18.0.2/)', opts, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  const out = join(dir, 'down');
  const r = await ns!.run('curl', ['-sS', '--max-time', '120', '-o', out, `http://198.18.0.2:${HTTP_PORT}/big`], { timeoutMs: 130_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), bigSha);
  rmSync(out);
});

test('kernel guest → gateway → host 127.0.0.1: 100 MB upload byte-exact (curl --data-binary)', opts, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  const r = await ns!.run('curl', ['-sS', '--max-time', '120', '-H', 'Expect:', '--data-binary', `@${join(dir, 'big')}`, `http://198.18.0.2:${HTTP_PORT}/up`], { timeoutMs: 130_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), bigSha);
});

test('not on the allow-list → refused at once (the kernel gets a RST: ECONNREFUSED, not a timeout); a closed allowed port too', opts, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  for (const [addr, port] of [['198.18.0.2', DENIED_PORT], ['198.18.0.77', 80], ['198.18.0.2', CLOSED_PORT]] as const) {
    // One SYN, no retries: a dropped SYN would end in ETIMEDOUT (the 5 s timer), a RST in ECONNREFUSED.
    const r = await ns!.run(process.execPath, ['-e', `
      const s = require('net').connect(${port}, '${addr}');
      const t = setTimeout(() => { console.log('ETIMEDOUT'); process.exit(0); }, 5000);
      s.on('error', e => { console.log(e.code); process.exit(0); });
      s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });`], { timeoutMs: 20_000 });
    assert.equal(r.stdout.toString().trim(), 'ECONNREFUSED', `${addr}:${port}: ${r.stderr}`);
  }
  const c = await ns!.run('curl', ['-sS', '--connect-timeout', '5', `http://198.18.0.2:${DENIED_PORT}/`], { timeoutMs: 20_000 });
  assert.equal(c.code, 7, `curl exit ${c.code} (7 = could not connect, 28 = timeout): ${c.stderr}`);
});

test('hostfwd: 127.0.0.1:19022 on the host reaches the guest server on :7022', opts, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  const msg = 'through the port forward\n'.repeat(1000);
  const r = await ns!.run(process.execPath, ['-e', `
    const s = require('net').connect(${FWD_PORT}, '127.0.0.1'); let n = 0, b = [];
    s.on('data', d => { b.push(d); n += d.length; if (n >= ${msg.length}) { process.stdout.write(Buffer.concat(b)); s.end(); } });
    s.write(${JSON.stringify(msg)});`], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), msg);
});

test('UDP: echo through the gateway to a host loopback UDP server; a port without a rule gets ICMP port unreachable (ECONNREFUSED)', opts, async () => {
  assert.equal(gate.fail, null, gate.fail ?? '');
  const r = await ns!.run(process.execPath, ['-e', `
    const d = require('dgram');
    const s = d.createSocket('udp4');
    s.connect(${UDP_PORT}, '198.18.0.2', () => {
      let n = 0;
      const send = () => s.send('ping ' + n);
      s.on('message', (m) => { console.log(String(m)); if (++n === 3) { s.close(); refused(); } else send(); });
      send();
    });
    function refused() {
      const x = d.createSocket('udp4');
      x.on('error', (e) => { console.log(e.code); process.exit(0); });
      x.connect(${UDP_PORT + 1}, '198.18.0.2', () => { x.send('anyone?'); setTimeout(() => x.send('anyone?'), 200); });
      setTimeout(() => { console.log('no error'); process.exit(0); }, 5000);
    }`], { timeoutMs: 20_000 });
  assert.equal(r.stdout.toString(), 'echo:ping 0\necho:ping 1\necho:ping 2\nECONNREFUSED\n', r.stderr);
});
