#!/usr/bin/env node
// Sharding scaling, interleaved: 1 worker, 2 workers, 1, 2, … in this process, then the
// medians and the ratio (docs/sharding.md). Build first (npm run build).
// Usage: node scripts/shard-bench.mjs local-bulk|local-connrate|mem-bulk|mem-connrate [rounds=5]
const { shardLocal, shardMemBulk, shardMemConnRate } = await import(new URL('../dist/src/cli/bench/shard.js', import.meta.url).href);
const os = await import('node:os');
const kind = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
console.log('load at start', os.loadavg().map((x) => x.toFixed(2)).join(' '), new Date().toISOString());
const res = { 1: [], 2: [] };
for (let r = 0; r < rounds; r++) {
  for (const w of [1, 2]) {
    let s;
    if (kind === 'local-bulk') s = await shardLocal('bulk', w, true);
    else if (kind === 'local-connrate') s = await shardLocal('connrate', w, true);
    else if (kind === 'mem-bulk') s = await shardMemBulk(w, 64, 8);
    else s = await shardMemConnRate(w, 5000, 64);
    res[w].push(s);
    console.log(kind, `${w}w`, Math.round(s.value), JSON.stringify(s.extra));
  }
}
const med = (a) => { const v = a.map((s) => s.value).sort((x, y) => x - y); return v[Math.floor(v.length / 2)]; };
const medx = (a, k) => { const v = a.map((s) => s.extra[k]).sort((x, y) => x - y); return v[Math.floor(v.length / 2)]; };
const cpuKey = Object.keys(res[1][0].extra).find((k) => k.startsWith('CPU ') && k !== 'CPU s');
console.log(`${kind}: median 1w ${Math.round(med(res[1]))}, 2w ${Math.round(med(res[2]))}, ratio ${(med(res[2]) / med(res[1])).toFixed(2)}; ${cpuKey} 1w ${medx(res[1], cpuKey)} 2w ${medx(res[2], cpuKey)}; load at end`, os.loadavg().map((x) => x.toFixed(2)).join(' '));
