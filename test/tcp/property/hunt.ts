// Bug hunting outside the suite: run many seeds of the property transfer and print failures.
//   npx tsc -p . && node dist/test/tcp/property/hunt.js [firstSeed=1] [count=10000] [traceTail=0]
import { randomSpec, runTransfer, describeFailure } from './transfer.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 10_000);
const tail = Number(process.argv[4] ?? 0);
const t0 = performance.now();
let failed = 0;
let steps = 0;
let slowest = { seed: 0, ms: 0 };
for (let seed = first; seed < first + count; seed++) {
  const spec = randomSpec(seed);
  spec.traceTail = tail;
  const s0 = performance.now();
  const r = runTransfer(spec);
  const ms = performance.now() - s0;
  if (ms > slowest.ms) slowest = { seed, ms };
  steps += r.steps;
  if (r.error !== undefined) {
    failed++;
    console.log(tail > 0 ? describeFailure(r) : `seed ${seed}: ${r.error.split('\n')[0]}`);
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(`${count} runs from seed ${first}: ${failed} failed, ${steps} steps, ${secs.toFixed(1)} s (slowest seed ${slowest.seed}: ${slowest.ms.toFixed(0)} ms)`);
