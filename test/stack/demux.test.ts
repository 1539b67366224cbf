// The connection table (src/stack/demux.ts) against a plain model keyed by the 4-tuple:
// random adds, removes and replacements over a few addresses and ports, so remote endpoints
// hold one connection (stored directly), several (a Map by local port) and, multi-homed, two
// on one local port (a chain) — and move between these shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConnTable, type ConnEntry } from '../../src/stack/demux.js';

interface Fake { localAddr: number; localPort: number; remoteAddr: number; remotePort: number; n: number }
const tuple = (t: Fake): string => `${t.localAddr}:${t.localPort}-${t.remoteAddr}:${t.remotePort}`;

test('ConnTable agrees with a model under random adds, removes and replacements', () => {
  const op = fc.record({
    kind: fc.constantFrom('add', 'remove', 'replace'),
    la: fc.constantFrom(1, 2), lp: fc.constantFrom(80, 1000, 1001), ra: fc.constantFrom(7, 0xffffffff), rp: fc.constantFrom(5, 6),
  });
  fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
    const table = new ConnTable();
    const model = new Map<string, Fake>();
    let n = 0;
    for (const o of ops) {
      const probe: Fake = { localAddr: o.la, localPort: o.lp, remoteAddr: o.ra, remotePort: o.rp, n: n++ };
      const k = tuple(probe);
      const cur = model.get(k);
      if (o.kind === 'add' && cur === undefined) { table.add(probe as unknown as ConnEntry); model.set(k, probe); }
      else if (o.kind === 'remove') {
        assert.equal(table.remove((cur ?? probe) as unknown as ConnEntry), cur !== undefined);
        model.delete(k);
      } else if (o.kind === 'replace' && cur !== undefined) { table.replace(cur as unknown as ConnEntry, probe as unknown as ConnEntry); model.set(k, probe); }
      assert.equal(table.size, model.size);
    }
    for (const la of [1, 2]) for (const lp of [80, 1000, 1001]) for (const ra of [7, 0xffffffff]) for (const rp of [5, 6]) {
      const want = model.get(`${la}:${lp}-${ra}:${rp}`);
      assert.equal(table.find(la, lp, ra, rp) as unknown, want);
    }
    for (const ra of [7, 0xffffffff]) for (const rp of [5, 6]) {
      const ports = new Set([...model.values()].filter((t) => t.remoteAddr === ra && t.remotePort === rp).map((t) => t.localPort));
      assert.equal(table.portsInUseTo(ra, rp), ports.size);
    }
    assert.deepEqual(new Set(table.values() as unknown as Iterable<Fake>), new Set(model.values()));
  }), { numRuns: 500 });
});
