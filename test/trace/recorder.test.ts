import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readPcap, LINKTYPE_RAW } from '../../src/wire/pcap.js';
import { formatPacket } from '../../src/wire/print.js';
import { requestResponse, synLost, tcpFlags } from '../viz/traces.js';
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts } from '../../src/sim/hosts.js';
import { TraceRecorder } from '../../src/trace/recorder.js';

describe('TraceRecorder packet capture', () => {
  test('pcap(): every packet both stacks sent, in time order, readable back', () => {
    const run = requestResponse();
    const file = run.rec.pcap();
    const r = readPcap(file);
    assert.ok(r.ok);
    assert.equal(r.value.linktype, LINKTYPE_RAW);
    const outs = run.events.filter((e) => e.type === 'segment' && e.dir === 'out');
    assert.equal(r.value.records.length, outs.length);
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i]!;
      assert.ok(o.type === 'segment');
      assert.equal(r.value.records[i]!.tUs, o.t);
      assert.equal(tcpFlags(r.value.records[i]!.data), o.flags);
    }
    assert.match(formatPacket(r.value.records[0]!.data), /^198\.18\.0\.1\.40000 > 198\.18\.0\.2\.80: Flags \[S\]/);
  });

  test('a packet the link dropped is still in the sender-side capture', () => {
    const run = synLost();
    const r = readPcap(run.rec.pcap());
    assert.ok(r.ok);
    const syns = r.value.records.filter((p) => tcpFlags(p.data) === 0x02);
    assert.equal(syns.length, 2);
    assert.equal(syns[1]!.tUs - syns[0]!.tUs, 1_000_000);
  });

  test('detach stops recording; an empty capture is a valid pcap file', () => {
    const sim = new Simulation({ seed: 9 });
    const net = twoHosts(sim, { delay: 1000 });
    const rec = new TraceRecorder().attach(net.a).capturePackets(net.rawA);
    rec.detach();
    assert.equal(net.a.tracer, null, 'no listener left: the stack builds no events');
    const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80 });
    c.openActive(sim.now());
    sim.runFor(10_000);
    assert.equal(rec.events.length, 0);
    assert.equal(rec.packets.length, 0);
    const r = readPcap(rec.pcap());
    assert.ok(r.ok && r.value.records.length === 0);
  });
});
