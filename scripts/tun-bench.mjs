#!/usr/bin/env node
// Throughput of synack against the Linux kernel over a TUN device, both ways, with packet
// rates and CPU. Needs root (a network namespace and a TUN device), curl and socat, and a
// build (`npm run build`). Everything happens in a fresh namespace synack-bench-…, deleted
// on exit (also on Ctrl-C).
//
//   sudo node scripts/tun-bench.mjs [--mb 200] [--runs 3] [--json]
//
// synack → kernel: curl GET /bytes/N from `synack serve` (Node http over synack).
// kernel → synack: socat sends N bytes to synack's discard service (net API).
// For each: MB/s (payload), packets/s through the device (both directions), synack's CPU
// (user+sys seconds per second of transfer, from the serve process) and µs of CPU per packet.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const harness = join(root, 'dist', 'test', 'interop', 'netns.js');
if (!existsSync(harness)) { console.error('tun-bench: run `npm run build` first'); process.exit(1); }
const { Netns, JsonPeer, testPrefix, interopGate } = await import(harness);

const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean' } } });
const gate = interopGate(['curl', 'socat']);
if (gate.skip || gate.fail) { console.error(`tun-bench: ${gate.skip || gate.fail}`); process.exit(1); }

const bytes = Math.round(Number(values.mb) * 1e6);
const runs = Number(values.runs);
const ns = Netns.create();
const p = testPrefix(0);
const results = [];
try {
  const serve = new JsonPeer(ns, join(root, 'bin', 'synack.js'), ['serve', '--tun', 'skb0', '--addr', p.cidr, '--http', '80', '--discard', '9', '--control']);
  await serve.ready;
  const stats = async () => (await serve.request({ cmd: 'stats' })).stats;

  async function measure(name, fn) {
    for (let i = 0; i < runs; i++) {
      const a = await stats();
      const t0 = performance.now();
      await fn(a);
      const s = (performance.now() - t0) / 1000;
      const b = await stats();
      const rx = b.tun.rxPackets - a.tun.rxPackets, tx = b.tun.txPackets - a.tun.txPackets;
      const cpu = (b.cpu.userMs - a.cpu.userMs + b.cpu.systemMs - a.cpu.systemMs) / 1000;
      results.push({
        direction: name, run: i + 1, seconds: +s.toFixed(3), MBps: +(bytes / 1e6 / s).toFixed(1),
        pktsInPerS: Math.round(rx / s), pktsOutPerS: Math.round(tx / s),
        cpuPerSec: +(cpu / s).toFixed(2), usCpuPerPacket: +((cpu * 1e6) / (rx + tx)).toFixed(2),
        rxPerRead: +(rx / Math.max(1, b.tun.rxBatches - a.tun.rxBatches)).toFixed(1),
        txPerWrite: +(tx / Math.max(1, b.tun.txBatches - a.tun.txBatches)).toFixed(1),
        loopBusy: +((b.loop.activeMs - a.loop.activeMs) / (b.loop.activeMs - a.loop.activeMs + b.loop.idleMs - a.loop.idleMs)).toFixed(2),
        retrans: b.counters.TcpRetransSegs - a.counters.TcpRetransSegs,
      });
    }
  }

  // The x-sha256 header needs the digest before the body: compute it once, outside the clock.
  await ns.run('curl', ['-sS', '--max-time', '600', '-I', `http://${p.synack}/bytes/${bytes}`], { timeoutMs: 620_000 });
  await measure('synack→kernel (curl GET)', async () => {
    const r = await ns.run('curl', ['-sS', '--max-time', '600', '-o', '/dev/null', `http://${p.synack}/bytes/${bytes}`], { timeoutMs: 620_000 });
    if (r.code !== 0) throw new Error(`curl: ${r.stderr}`);
  });
  await measure('kernel→synack (socat → discard)', async (a) => {
    // Generated in the namespace so the harness is not the bottleneck.
    const r = await ns.run('sh', ['-c', `head -c ${bytes} /dev/zero | socat -u - TCP:${p.synack}:9`], { timeoutMs: 620_000 });
    if (r.code !== 0) throw new Error(`socat: ${r.stderr}`);
    // socat returns once the kernel has the data; the clock stops when synack has it all.
    while ((await stats()).tun.rxBytes - a.tun.rxBytes < bytes) await new Promise((res) => setTimeout(res, 5));
  });
  serve.stop();
} finally {
  ns.destroy();
}

if (values.json) console.log(JSON.stringify(results, null, 2));
else console.table(results);
