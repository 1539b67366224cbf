// Bug hunting outside the suite: many fuzz seeds against every target state.
//   npx tsc -p . && node dist/test/tcp/property/fuzz-hunt.js [firstSeed=1] [count=1000] [ops=150]
import { FUZZ_TARGETS, runFuzz } from './fuzz.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 1000);
const ops = Number(process.argv[4] ?? 150);
const t0 = performance.now();
let failed = 0, injected = 0;
const reached = new Map<string, number>();
for (let seed = first; seed < first + count; seed++) {
  for (const target of FUZZ_TARGETS) {
    const r = runFuzz(seed, target, ops);
    injected += r.injected;
    const k = `${target}->${r.reached}`;
    reached.set(k, (reached.get(k) ?? 0) + 1);
    if (r.error !== undefined) {
      failed++;
      console.log(`seed ${seed} ${target} (reached ${r.reached}): ${r.error.split('\n').slice(0, 4).join(' | ')}`);
    }
  }
}
console.log([...reached].map(([k, v]) => `${k}:${v}`).join(' '));
console.log(`${count} seeds x ${FUZZ_TARGETS.length} targets from ${first}: ${failed} failed, ${injected} segments injected, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
