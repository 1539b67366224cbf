import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import type { TraceEvent } from '../../src/trace/events.js';

test('handshake, data both ways, four-way close, TIME-WAIT', () => {
  const sim = new Simulation({ seed: 1 });
  const { a, b } = twoHosts(sim, { delay: 5000 });
  const events: string[] = [];
  const log = (ev: TraceEvent) => { if (ev.type === 'state') events.push(`${ev.host === a.traceHost ? 'A' : 'B'} ${ev.from}->${ev.to}`); };
  a.addTraceListener(log); b.addTraceListener(log);
  const l = b.listen({ port: 80 });
  let server: Tcb | null = null;
  const got: number[] = [];
  l.onAcceptable = () => {
    server = l.accept();
    server!.user = {
      onReadable: () => { const d = server!.receive(1 << 20, sim.now()); got.push(d.length); },
      onEnd: () => { server!.send(new TextEncoder().encode('bye'), sim.now()); server!.close(sim.now()); },
    };
  };
  const c = a.connect({ remoteAddr: '198.18.0.2', remotePort: 80 });
  let clientGot = '';
  c.user = { onReadable: () => { clientGot += new TextDecoder().decode(c.receive(1 << 20, sim.now())); } };
  c.openActive(sim.now());
  const data = new Uint8Array(100_000).map((_, i) => i & 255);
  let off = 0;
  const pump = () => { while (off < data.length) { const n = c.send(data, sim.now(), off); if (n <= 0) break; off += n; } if (off === data.length) c.close(sim.now(), false); }; // half-close (SHUT_WR): the client still reads "bye"
  c.user.onEstablished = pump;
  c.user.onWritable = pump;
  sim.runUntilIdle({ maxTime: 200_000_000 });
  assert.equal(got.reduce((x, y) => x + y, 0), 100_000);
  assert.equal(clientGot, 'bye');
  assert.equal(c.state, 'CLOSED');
  assert.equal(server!.state, 'CLOSED');
  assert.ok(events.includes('A FIN-WAIT-2->TIME-WAIT') || events.includes('A FIN-WAIT-1->TIME-WAIT') || events.includes('A CLOSING->TIME-WAIT'), events.join(', '));
  assert.ok(events.includes('B LAST-ACK->CLOSED'), events.join(', '));
  assert.equal(a.connectionCount, 0);
  assert.equal(b.connectionCount, 0);
});
