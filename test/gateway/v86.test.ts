// v86 itself: a Debian i386 kernel + busybox initramfs (scripts/build-v86-guest.sh) boots in
// v86 under Node with its NE2000 NIC on synack's V86NetAdapter; the guest configures eth0,
// then wgets a file from an HTTP server on the host's 127.0.0.1 through the gateway (as
// 198.18.0.2) and prints its md5 on the serial console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { RealtimeNetDriver } from '../../src/net/driver.js';
import { V86NetAdapter } from '../../src/gateway/frames.js';
import { createEthernetGateway } from '../../src/gateway/setup.js';
import { NodeConnector } from '../../src/gateway/node/connector.js';

const CACHE = process.env.SYNACK_V86_CACHE ?? '/var/cache/synack-v86';
const FILES = ['vmlinuz', 'initrd.img', 'seabios.bin', 'vgabios.bin'];
const have = FILES.every((f) => existsSync(join(CACHE, f)));
const skip = have ? false : process.env.CI ? false : `v86 guest image not built (bash scripts/build-v86-guest.sh ${CACHE})`;

function image(f: string): { buffer: ArrayBuffer } {
  const b = readFileSync(join(CACHE, f));
  return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
}

test('v86: a Linux guest boots, configures eth0 and fetches a file from the host through the gateway', { skip, timeout: 240_000 }, async (t) => {
  assert.ok(have, `v86 guest image missing in ${CACHE}: CI must build it (scripts/build-v86-guest.sh)`);
  const body = randomBytes(1 << 20);
  const md5 = createHash('md5').update(body).digest('hex');
  const srv = http.createServer((_q, r) => { r.writeHead(200, { 'content-length': body.length }); r.end(body); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;

  const require = createRequire(import.meta.url);
  const v86dir = join(require.resolve('v86/package.json'), '..', 'build');
  const { V86 } = (await import(join(v86dir, 'libv86.mjs'))) as { V86: new (o: object) => any };
  const emulator = new V86({
    wasm_path: join(v86dir, 'v86.wasm'),
    bios: image('seabios.bin'), vga_bios: image('vgabios.bin'), bzimage: image('vmlinuz'), initrd: image('initrd.img'),
    cmdline: `console=ttyS0 quiet loglevel=3 tsc=reliable mitigations=off synack.url=http://198.18.0.2:${port}/file synack.ip=198.18.0.100/24 synack.gw=198.18.0.1`,
    memory_size: 128 << 20, autostart: true, disable_speaker: true, net_device: { type: 'ne2k' },
  });
  const driver = new RealtimeNetDriver();
  const adapter = new V86NetAdapter(emulator.bus);
  const gw = createEthernetGateway({
    clock: driver.clock, link: adapter, connector: new NodeConnector(),
    policy: [`tcp:127.0.0.1:${port}`], hostAliases: { '198.18.0.2': '127.0.0.1' },
  });
  driver.addStack(gw.stack);
  driver.hold(1);
  let serial = '';
  const t0 = Date.now();
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let cur = '';
      emulator.add_listener('serial0-output-byte', (b: number) => {
        const ch = String.fromCharCode(b);
        serial += ch;
        if (ch !== '\n') { cur += ch; return; }
        if (cur.includes('SYNACK-FETCH-OK') || cur.includes('SYNACK-FETCH-FAIL') || cur.includes('SYNACK-DHCP-FAIL')) resolve(cur.trim());
        cur = '';
      });
      setTimeout(() => reject(new Error(`no result after 200 s; serial:\n${serial.slice(-3000)}`)), 200_000).unref();
    });
    assert.match(line, /SYNACK-FETCH-OK/, serial.slice(-3000));
    const [, bytes, sum] = line.split(/\s+/);
    assert.equal(Number(bytes), body.length);
    assert.equal(sum, md5);
    assert.equal(gw.gateway.counters.tcpAccepted, 1);
    t.diagnostic(`boot to fetched: ${((Date.now() - t0) / 1000).toFixed(1)} s; frames in/out ${adapter.counters.framesIn}/${adapter.counters.framesOut}`);
  } finally {
    emulator.destroy?.();
    driver.hold(-1);
    driver.stop();
    srv.closeAllConnections();
    srv.close();
  }
});
