// Engine fuzzing: against connections in every state (reached through real handshakes and
// closes between two stacks), inject random segments — random flags including odd
// combinations, sequence/ACK numbers near the windows and far away, random options (MSS,
// window scale, SACK-permitted, SACK blocks, timestamps, unknown kinds), random payloads,
// bad checksums and truncations — interleaved with random time jumps (up to 200 s) and user
// calls. No exception may escape, the invariants must hold after every packet and every step,
// and after closing everything both stacks must drain to zero connections and timers.
//
// SYNACK_FUZZ_SEEDS=n (default 40) seeds per target state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS, runFuzz } from './fuzz.js';

const SEEDS = Number(process.env.SYNACK_FUZZ_SEEDS ?? 40);
const OPS = 150;

describe(`fuzz: ${SEEDS} seeds x ${FUZZ_TARGETS.length} states, ${OPS} operations each`, () => {
  for (const target of FUZZ_TARGETS) {
    test(`${target}`, (t) => {
      const failures: string[] = [];
      let injected = 0, steps = 0, reached = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = runFuzz(seed, target, OPS);
        injected += r.injected; steps += r.steps;
        if (r.reached === target) reached++;
        if (r.error !== undefined) failures.push(`seed ${seed} (reached ${r.reached}): ${r.error}`);
      }
      t.diagnostic(`${injected} segments injected, ${steps} steps, target state reached in ${reached}/${SEEDS} seeds`);
      assert.deepEqual(failures, []);
      // The harness must really get there (races in the scripted closes may miss a few).
      assert.ok(reached >= SEEDS * 0.6, `${target} reached in only ${reached}/${SEEDS} seeds`);
    });
  }
});
