// Property runs: seeded bidirectional transfers with half-close over random faults (loss up
// to 20%, reordering, duplication, corruption, jitter, rate limits), random delays, buffer
// sizes, MTUs and stack options (SACK, timestamps, window scaling, CUBIC/NewReno, SYN cookies,
// delayed-ACK and RTO settings, forced ISNs near 2^32). Each run checks the engine invariants
// after every Simulation.step() (see invariants.ts), byte-exact delivery both ways, both ends
// CLOSED (through TIME-WAIT where due), and no connection or timer left behind.
//
// SYNACK_SEEDS=n (default 1000) and SYNACK_SEED_START=s (default 1) choose the seeds; a
// failing seed is reproduced with `node dist/test/tcp/property/hunt.js <seed> 1 400` (trace
// tail) and becomes a named test in regressions.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSpec, runTransfer, describeFailure } from './transfer.js';

const COUNT = Number(process.env.SYNACK_SEEDS ?? 1000);
const START = Number(process.env.SYNACK_SEED_START ?? 1);
const BATCH = 100;

describe(`property: ${COUNT} seeded bidirectional transfers with half-close over random faults`, () => {
  for (let b = START; b < START + COUNT; b += BATCH) {
    const end = Math.min(b + BATCH, START + COUNT);
    test(`seeds ${b}..${end - 1}`, (t) => {
      const failures: string[] = [];
      let steps = 0, checks = 0, retransmits = 0, bytes = 0, wrapped = 0;
      for (let seed = b; seed < end; seed++) {
        const r = runTransfer(randomSpec(seed));
        steps += r.steps; checks += r.checks; retransmits += r.a.retransmits + r.b.retransmits;
        bytes += r.a.received + r.b.received;
        if (r.spec.issA !== undefined || r.spec.issB !== undefined) wrapped++;
        if (r.error !== undefined) failures.push(describeFailure(r));
      }
      t.diagnostic(`${end - b} runs, ${(bytes / 1e6).toFixed(1)} MB delivered, ${retransmits} retransmissions, ${steps} steps, ${checks} invariant checks, ${wrapped} with ISNs near 2^32`);
      assert.deepEqual(failures, [], `${failures.length} failing seeds:\n${failures.join('\n')}`);
    });
  }
});
