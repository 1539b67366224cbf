// Real traces for the renderer tests: small simulations of textbook cases, recorded with a
// TraceRecorder (which also marks segments the link dropped as lost).
import { Simulation } from '../../src/sim/simulation.js';
import { twoHosts, type TwoHosts } from '../../src/sim/hosts.js';
import { TraceRecorder, type RecordedEvent } from '../../src/trace/recorder.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { TcpView, TCP_SYN, TCP_ACK, TCP_FIN } from '../../src/wire/tcp.js';

export const NAMES = { '198.18.0.1': 'client', '198.18.0.2': 'server' };

export interface Run {
  sim: Simulation;
  net: TwoHosts;
  rec: TraceRecorder;
  events: RecordedEvent[];
}

const enc = new TextEncoder();

function setup(seed: number, delay = 5000, loss = 0): { sim: Simulation; net: TwoHosts; rec: TraceRecorder } {
  const sim = new Simulation({ seed });
  const net = twoHosts(sim, { delay, faults: { loss } });
  const rec = new TraceRecorder().attach(net.a).attach(net.b).watchLink(net.faultA!).watchLink(net.faultB!);
  rec.capturePackets(net.faultA!).capturePackets(net.faultB!);
  return { sim, net, rec };
}

/** TCP flags of an IPv4 packet (0 when it does not parse). */
export function tcpFlags(packet: Uint8Array): number {
  const r = parseIpv4(packet, { verifyChecksum: false });
  if (!r.ok) return 0;
  const v = new TcpView();
  return v.reset(r.value.payload) === null ? v.flags : 0;
}

/**
 * A small HTTP-like exchange: handshake, a request, a response, the client closes first
 * (four-way close), TIME-WAIT runs out. `dropClient`/`dropServer` drop the first packet
 * (by TCP flags and index) they match; `loss` drops packets at random in both directions.
 */
export function requestResponse(opts: { seed?: number; loss?: number; dropClient?: (flags: number, index: number) => boolean; dropServer?: (flags: number, index: number) => boolean; response?: number } = {}): Run {
  const { sim, net, rec } = setup(opts.seed ?? 1, 5000, opts.loss ?? 0);
  if (opts.dropClient) net.faultA!.dropWhen((p, i) => opts.dropClient!(tcpFlags(p), i), 1);
  if (opts.dropServer) net.faultB!.dropWhen((p, i) => opts.dropServer!(tcpFlags(p), i), 1);
  const l = net.b.listen({ port: 80 });
  l.onAcceptable = () => {
    const s = l.accept()!;
    s.user = {
      onReadable: () => {
        s.receive(1 << 20, sim.now());
        s.send(new Uint8Array(opts.response ?? 120).fill(0x41), sim.now());
      },
      onEnd: () => s.close(sim.now()),
    };
  };
  const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, localPort: 40000 });
  let got = 0;
  c.user = {
    onEstablished: () => { c.send(enc.encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), sim.now()); },
    onReadable: () => { got += c.receive(1 << 20, sim.now()).length; if (got >= (opts.response ?? 120)) c.close(sim.now()); },
  };
  c.openActive(sim.now());
  sim.runUntilIdle({ maxTime: 300_000_000 });
  return { sim, net, rec, events: rec.events };
}

/** The client's first SYN is lost; it retries after the initial RTO (1 s). */
export function synLost(): Run {
  return requestResponse({ dropClient: (f) => (f & (TCP_SYN | TCP_ACK)) === TCP_SYN });
}

/** The server's first FIN is lost: the client, in FIN-WAIT-2, waits for the retransmission. */
export function finLost(): Run {
  return requestResponse({ dropServer: (f) => (f & TCP_FIN) !== 0 });
}

/** Nobody listens on the port: the SYN is answered with RST (ECONNREFUSED). */
export function refused(): Run {
  const { sim, net, rec } = setup(3);
  const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 81, localPort: 40001 });
  c.openActive(sim.now());
  sim.runUntilIdle({ maxTime: 10_000_000 });
  return { sim, net, rec, events: rec.events };
}

/** Both ends send SYN at once (RFC 9293 §3.5 figure 7), then both close at once (CLOSING). */
export function simultaneous(): Run {
  const { sim, net, rec } = setup(4);
  const a = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 6000, localPort: 5000 });
  const b = net.b.connect({ remoteAddr: '198.18.0.1', remotePort: 5000, localPort: 6000 });
  let n = 0;
  const both = () => { if (++n === 2) { a.close(sim.now()); b.close(sim.now()); } };
  a.user = { onEstablished: both };
  b.user = { onEstablished: both };
  a.openActive(sim.now());
  b.openActive(sim.now());
  sim.runUntilIdle({ maxTime: 300_000_000 });
  return { sim, net, rec, events: rec.events };
}

/** Two connections from the client to the same server port, one after the other. */
export function twoConnections(): Run {
  const { sim, net, rec } = setup(5);
  const l = net.b.listen({ port: 80 });
  l.onAcceptable = () => { const s = l.accept()!; s.user = { onEnd: () => s.close(sim.now()) }; };
  const open = (port: number): Tcb => {
    const c = net.a.connect({ remoteAddr: '198.18.0.2', remotePort: 80, localPort: port });
    c.user = { onEstablished: () => c.close(sim.now()) };
    c.openActive(sim.now());
    return c;
  };
  open(40001);
  sim.runFor(2000);
  open(40002);
  sim.runUntilIdle({ maxTime: 300_000_000 });
  return { sim, net, rec, events: rec.events };
}
