// Child process for test/net/liveness.test.ts: sets up one situation on Node's own net
// (kernel loopback) or on synack (realtime driver), then reports whether the process stays
// alive. Once the situation is reached an unref()'d 400 ms timer is started: if something
// keeps the event loop alive it fires and prints "alive"; if nothing does, the process exits
// on its own first and prints "exited". Neither outcome depends on how fast the machine is.
import * as nodeNet from 'node:net';
import type { AddressInfo } from 'node:net';
import { RealtimeNetDriver, realtimeTwoHosts, attachNet } from '../../src/index.js';

const [impl, mode] = process.argv.slice(2) as [string, string];
let reached = false;
process.on('exit', () => { if (!reached) console.log('never-reached'); });

function reach(): void {
  if (reached) return;
  reached = true;
  let alive = false;
  process.on('exit', () => { if (!alive) console.log('exited'); });
  setTimeout(() => { alive = true; console.log('alive'); process.exit(0); }, 400).unref();
}

type Net = Pick<typeof nodeNet, 'createServer' | 'connect'>;
let serverNet: Net = nodeNet;
let clientNet: Net = nodeNet;
let host = '127.0.0.1';
if (impl === 'synack') {
  const driver = new RealtimeNetDriver();
  const { a, b } = realtimeTwoHosts(driver);
  clientNet = attachNet(a, driver) as unknown as Net;
  serverNet = attachNet(b, driver) as unknown as Net;
  host = '198.18.0.2';
}

const srv = serverNet.createServer((s) => {
  // The server side never keeps the process alive in these cases: only the client is judged.
  s.unref();
  if (mode === 'time-wait') s.on('end', () => s.end());
  if (mode === 'halfopen-end') s.end();
  if (mode === 'keepalive') s.setKeepAlive(true, 1000);
});
srv.listen(0, host, () => {
  if (mode === 'listen') { reach(); return; }
  if (mode === 'listen-unref') { srv.unref(); reach(); return; }
  srv.unref();
  const port = (srv.address() as AddressInfo).port;
  const c = clientNet.connect({ port, host, allowHalfOpen: mode === 'halfopen-end' });
  switch (mode) {
    case 'idle': c.on('connect', reach); break;
    case 'unref': c.unref(); c.on('connect', reach); break;
    case 'paused': c.pause(); c.on('connect', reach); break;
    // Everything written is in the send buffer: a paused socket no longer reads, so nothing
    // is active (Node: the write completed at once into the kernel).
    case 'paused-written': c.pause(); c.write('x'.repeat(1000), reach); break;
    case 'halfopen-end': c.on('end', reach); break;
    // The client closes first and sits in TIME-WAIT (60 s): that alone must not hold the process.
    case 'time-wait': c.on('close', reach); c.end(); break;
    // Keepalive probes pending on an unref()'d connection: protocol timers only.
    case 'keepalive': c.setKeepAlive(true, 1000); c.on('connect', () => { c.unref(); reach(); }); break;
    default: throw new Error(`unknown mode ${mode}`);
  }
});
