#!/usr/bin/env node
// CPU per thread of one sharded run, for A/B comparisons between two built trees (issue 16,
// docs/sharding.md "Fourth pass"): the main thread, each shard's worker thread and the rest
// (V8's GC and compiler helpers, libuv), from /proc/self/task (Linux), plus the messages the
// in-memory wire and the forwarding channels posted. Build the tree first (npm run build).
// Usage: node scripts/shard-threads.mjs TREE local-bulk|local-connrate|mem-bulk|mem-connrate WORKERS [ROUNDS=1]
//   env SCALE (work multiplier, default 1), WARM (warm-up multiplier, default 1: ¼ of the work)
// TREE is a repository root with dist/ built (e.g. . or another worktree).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
const [treeArg, kind, W, roundsS] = process.argv.slice(2);
const tree = (await import('node:path')).resolve(treeArg);
const workers = Number(W), rounds = Number(roundsS ?? 1);
const { ShardedStack } = await import(tree + '/dist/src/shard/sharded.js');
const { Stack } = await import(tree + '/dist/src/stack/stack.js');
const { RealtimeNetDriver } = await import(tree + '/dist/src/net/driver.js');
function tasks() {
  const out = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      out.set(t, { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return out;
}
const mainTid = readlinkSync('/proc/thread-self').split('/').pop();
const sh = await ShardedStack.start({ workers, addr: '198.18.0.2', link: { kind: 'memory' }, setup: new URL('./shard-threads-setup.mjs', import.meta.url), setupData: { tree }, options: { tcp_rmem: [4096, 1 << 20, 6 << 20] } });
const tids = await sh.broadcast({ cmd: 'tid' });
const name = (t, comm) => t === mainTid ? 'main' : tids.includes(t) ? `shard${tids.indexOf(t)}` : comm;
let driver, stack;
if (kind.startsWith('mem')) {
  driver = new RealtimeNetDriver();
  stack = new Stack({ clock: driver.clock, name: 'peer', options: { tcp_wmem: [4096, 1 << 20, 4 << 20], tcp_tw_reuse: 1 } });
  stack.addInterface({ addr: '198.18.0.1', prefixLen: 24, link: sh.wire });
  driver.addStack(stack); driver.hold(1);
}
const chunk = new Uint8Array(1 << 20);
async function memBulk(total, conns) {
  const per = Math.floor(total / conns);
  let ended = 0;
  await new Promise((resolve) => {
    for (let i = 0; i < conns; i++) {
      const c = stack.connect({ remoteAddr: '198.18.0.2', remotePort: 9 });
      let sent = 0;
      const pump = () => { while (sent < per) { const n = c.send(chunk, driver.now(), 0, Math.min(chunk.length, per - sent)); if (n <= 0) return; sent += n; } if (c.state === 'ESTABLISHED') c.close(driver.now()); };
      c.user = { onEstablished: pump, onWritable: pump, onEnd: () => { if (++ended === conns) resolve(); } };
      c.openActive(driver.now());
    }
    driver.kick();
  });
  return per * conns;
}
async function memConn(count, parallel) {
  let started = 0, done = 0;
  await new Promise((resolve, reject) => {
    const start = () => { started++; const c = stack.connect({ remoteAddr: '198.18.0.2', remotePort: 9 });
      c.user = { onEstablished: () => c.close(driver.now()), onEnd: () => { done++; if (done === count) resolve(); else if (started < count) start(); }, onClosed: (e) => { if (e !== null) reject(new Error(e)); } };
      c.openActive(driver.now()); };
    for (let i = 0; i < parallel && started < count; i++) start();
    driver.kick();
  });
  return count;
}
const S = Number(process.env.SCALE || 1); const total = Math.floor((128 << 20) * S), count = Math.floor(16000 * S);
const job = (scale) => {
  if (kind === 'local-bulk') return sh.broadcast({ cmd: 'local-bulk', conns: 8 / workers, bytes: Math.floor(total * scale / workers) }).then((r) => r.reduce((a, x) => a + x.bytes, 0));
  if (kind === 'local-connrate') return sh.broadcast({ cmd: 'local-connrate', count: Math.floor(count * scale / workers), parallel: 64 / workers }).then((r) => r.reduce((a, x) => a + x.done, 0));
  if (kind === 'mem-bulk') return memBulk(Math.floor(total * scale), 8);
  if (kind === 'mem-connrate') return memConn(Math.floor(count * scale), 64);
};
await job(0.25 * Number(process.env.WARM || 1));
const msgs = () => sh.wire ? sh.wire.batchers.reduce((a, b) => a + b.messages, 0) : 0;
const pk = () => sh.wire ? sh.wire.batchers.reduce((a, b) => a + b.packetsOut, 0) : 0;
for (let r = 0; r < rounds; r++) {
  const m0 = msgs(), p0 = pk(), st0 = await sh.stats(); const a = tasks(); const t0 = performance.now(); const c0 = process.cpuUsage();
  const units = await job(1);
  const wall = (performance.now() - t0) / 1000; const cu = process.cpuUsage(c0); const b = tasks();
  const per = {};
  for (const [t, v] of b) { const d = (v.ticks - (a.get(t)?.ticks ?? 0)) / 100; if (d <= 0) continue; const n = name(t, v.comm) === v.comm ? `${v.comm}:${t}` : name(t, v.comm); per[n] = +((per[n] ?? 0) + d).toFixed(2); }
  const rate = kind.endsWith('bulk') ? `${(units * 8 / wall / 1e6).toFixed(0)} Mbit/s` : `${(units / wall).toFixed(0)} conn/s`;
  const st1 = await sh.stats();
  const sm = st1.reduce((x, s, k) => x + s.link.forwardMessages - st0[k].link.forwardMessages, 0), fw = st1.reduce((x, s, k) => x + s.link.rxForwarded - st0[k].link.rxForwarded, 0), wq = st1.reduce((x, s, k) => x + s.queue.txPackets - st0[k].queue.txPackets, 0);
  console.log(JSON.stringify({ kind, workers, rate, mainMsgs: msgs() - m0, mainPkts: pk() - p0, shardTxPkts: wq, fwdPkts: fw, fwdMsgs: sm, wall: +wall.toFixed(2), cpu: +((cu.user + cu.system) / 1e6).toFixed(2), per }));
}
if (driver) { driver.hold(-1); driver.stop(); }
await sh.close();
