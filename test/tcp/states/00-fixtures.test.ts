// Every fixture reaches its state through real packets (the fixtures assert each step), with
// and without the peer's options, passive and active.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, finishAll, snapshot } from './harness.js';

afterEach(finishAll);
describe('fixtures: every state reached through real packets', () => {
  for (const s of ['LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'SYN-RECEIVED-SIMULTANEOUS', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'] as const) {
    test(s, () => { const h = fixture(s); if (h.tcb) assert.ok(snapshot(h.c)); });
    test(s + ' passive ts sack ws', () => { fixture(s, { passive: true, peer: { ts: true, sack: true, ws: 7 } }); });
  }
});
