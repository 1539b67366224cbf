import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { connectionTable, renderConnectionTable, formatSsTimer } from '../../src/stack/table.js';
import type { Tcb } from '../../src/tcp/tcb.js';

describe('connection table (ss -tanoi)', () => {
  test('print_ms_timer formats like iproute2', () => {
    assert.equal(formatSsTimer(200_000), '200ms');
    assert.equal(formatSsTimer(1_500_000), '1.500ms');
    assert.equal(formatSsTimer(59_000_000), '59sec');
    assert.equal(formatSsTimer(12_345_000), '12sec');
    assert.equal(formatSsTimer(7_140_000_000), '119min');
    assert.equal(formatSsTimer(125_000_000), '2min5sec');
    assert.equal(formatSsTimer(0), '0ms');
  });

  test('listener, established connections with timers and info, then TIME-WAIT', () => {
    const sim = new Simulation({ seed: 1 });
    const net = twoHosts(sim, { delay: 5000 });
    const l = net.b.listen({ port: 80, backlog: 128 });
    let server: Tcb | null = null;
    l.onAcceptable = () => { server = l.accept(); };
    const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, localPort: 40000 });
    c.user = { onEstablished: () => { c.send(new Uint8Array(3000), sim.now()); } };
    c.openActive(sim.now());
    sim.runFor(12_000); // data in flight from the client

    const a = net.a.connections();
    assert.equal(a.length, 1);
    const r = a[0]!;
    assert.equal(r.state, 'ESTABLISHED');
    assert.equal(r.ssState, 'ESTAB');
    assert.equal(`${r.localAddr}:${r.localPort}`, '198.18.0.1:40000');
    assert.equal(`${r.peerAddr}:${r.peerPort}`, '198.18.0.2:80');
    assert.equal(r.sendQ, 3000);
    assert.equal(r.timer?.name, 'on');
    assert.equal(r.timer?.retries, 0);
    assert.ok(r.timer!.remaining > 0 && r.timer!.remaining <= 200_000);
    assert.equal(r.info?.cwnd, 10);
    assert.equal(r.info?.srtt, 10_000);
    assert.deepEqual(r.info?.wscale, [7, 7]);

    const text = renderConnectionTable(a);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^State\s+Recv-Q Send-Q\s+Local Address:Port\s+Peer Address:Port\s+Process$/);
    assert.match(lines[1]!, /^ESTAB\s+0\s+3000\s+198\.18\.0\.1:40000\s+198\.18\.0\.2:80\s+timer:\(on,\d+ms,0\)$/);
    assert.match(lines[2]!, /^\t cubic wscale:7,7 rto:\d+ rtt:10\/5 mss:1448 cwnd:10 /);

    sim.runFor(20_000);
    const b = connectionTable(net.b);
    assert.equal(b[0]!.state, 'LISTEN');
    assert.equal(b[0]!.sendQ, 128);
    assert.equal(b[0]!.peerPort, '*');
    assert.equal(b[1]!.recvQ, 3000, 'the server application has not read');
    const bt = renderConnectionTable(b);
    assert.match(bt, /^LISTEN\s+0\s+128\s+0\.0\.0\.0:80\s+0\.0\.0\.0:\*$/m);
    assert.match(bt, /^ESTAB\s+3000\s+0\s+198\.18\.0\.2:80\s+198\.18\.0\.1:40000/m);
    // The colons of the address columns line up, as in ss.
    const rows = bt.split('\n').filter((x) => x !== '' && !x.startsWith('\t'));
    const col = rows.map((x) => x.indexOf(':', 30));
    assert.ok(col.every((v) => v === col[0]), rows.join('\n'));

    c.close(sim.now());
    server!.receive(1 << 20, sim.now());
    server!.close(sim.now());
    sim.runFor(30_000);
    const tw = net.a.connections().find((x) => x.state === 'TIME-WAIT');
    assert.ok(tw, renderConnectionTable(net.a.connections()));
    assert.equal(tw!.timer?.name, 'timewait');
    assert.equal(tw!.info, null);
    assert.match(renderConnectionTable(net.a.connections()), /^TIME-WAIT .* timer:\(timewait,59sec,0\)$/m);
    const noInfo = renderConnectionTable(net.a.connections(), { info: false, timers: false, header: false });
    assert.doesNotMatch(noInfo, /timer|State|\t/);
  });
});
