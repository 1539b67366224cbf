import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { probe } from '../../src/trace/probe.js';
import { subscribeConnection, subscribeType } from '../../src/trace/subscribe.js';
import { sameConn } from '../../src/trace/conn.js';
import type { TraceEvent } from '../../src/trace/events.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import { seqDiff } from '../../src/tcp/seq.js';

function bulk(seed: number) {
  const sim = new Simulation({ seed });
  const net = twoHosts(sim, { delay: 5000 });
  const l = net.b.listen({ port: 80 });
  l.onAcceptable = () => { const s = l.accept()!; s.user = { onReadable: () => s.receive(1 << 20, sim.now()) }; };
  const open = (port: number, bytes: number): Tcb => {
    const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, localPort: port });
    c.user = { onEstablished: () => { c.send(new Uint8Array(bytes), sim.now()); } };
    c.openActive(sim.now());
    return c;
  };
  return { sim, net, open };
}

describe('probe and per-connection subscriptions', () => {
  test('probe(tcb) during a transfer', () => {
    const { sim, open } = bulk(1);
    const c = open(40000, 12000);
    const before = probe(c);
    assert.equal(before.state, 'SYN-SENT');
    assert.equal(before.sndNxt, (before.iss + 1) >>> 0);
    assert.equal(before.bytesInFlight, 1);
    sim.runFor(12_000); // established, the first flight is out
    const p = probe(c);
    assert.equal(p.state, 'ESTABLISHED');
    assert.equal(p.conn, '198.18.0.1:40000-198.18.0.2:80');
    assert.equal(p.bytesInFlight, seqDiff(p.sndNxt, p.sndUna));
    assert.ok(p.bytesInFlight > 0);
    assert.equal(p.srtt, 10_000, 'one RTT sample from the handshake: 2 × 5 ms');
    assert.ok(p.rto >= 200_000);
    assert.ok(p.cwnd >= p.bytesInFlight);
    assert.equal(p.ssthresh, 0x7fffffff);
    assert.ok(p.sndWnd > 0 && p.rcvWnd > 0);
    assert.equal(p.retransmissions, 0);
    assert.equal(p.rcvNxt, (p.irs + 1) >>> 0);
    sim.runUntilIdle({ maxTime: 1_000_000 });
    const q = probe(c);
    assert.equal(q.bytesInFlight, 0);
    assert.equal(q.sendQ, 0);
    assert.equal(seqDiff(q.sndUna, q.iss), 12001);
  });

  test('subscribeConnection delivers one connection only; unsubscribing leaves the stack silent', () => {
    const { sim, net, open } = bulk(2);
    const got: TraceEvent[] = [];
    const c1 = open(40001, 3000);
    const c2 = open(40002, 3000);
    const unsub = subscribeConnection(net.a, c2, (e) => got.push(e));
    const byName: TraceEvent[] = [];
    const unsub2 = subscribeConnection(net.b, '198.18.0.1:40002-198.18.0.2:80', (e) => byName.push(e));
    const states: string[] = [];
    const unsub3 = subscribeType(net.a, 'state', (e) => states.push(`${e.conn.localPort} ${e.to}`));
    sim.runUntilIdle({ maxTime: 1_000_000 });
    assert.ok(got.length > 0 && byName.length > 0);
    for (const e of [...got, ...byName]) assert.ok(e.conn !== null && sameConn(e.conn, c2.connId));
    assert.ok(got.some((e) => e.type === 'segment' && e.dir === 'out' && e.len > 0));
    assert.ok(byName.some((e) => e.type === 'state' && e.to === 'ESTABLISHED'));
    assert.ok(states.includes('40001 ESTABLISHED') && states.includes('40002 ESTABLISHED'));
    assert.ok(c1.state === 'ESTABLISHED');
    unsub(); unsub2(); unsub3();
    assert.equal(net.a.tracer, null);
    assert.equal(net.b.tracer, null);
    assert.throws(() => subscribeConnection(net.a, 'bogus', () => {}), TypeError);
  });
});
