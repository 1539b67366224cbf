// Type test (issue 11, deliverable 6), compiled with `strict` and `moduleResolution:
// nodenext` against the built package (test/types.test.ts runs tsc on it). Every line here
// must type-check without casts.
import type * as nodeNet from 'node:net';
import * as http from 'node:http';
import * as dns from 'node:dns';
import { WebSocket } from 'ws';
import { Agent as UndiciAgent, Client as UndiciClient, type buildConnector } from 'undici';
import { createNet, attachNet, Simulation, twoHosts, type LookupFunction, type Socket, type Server } from 'synack';
import { Stack, ManualClock } from 'synack/core';

const net = createNet();

// A synack Socket is a net.Socket and a Server a net.Server, wherever Node's are expected.
const asNodeSocket: nodeNet.Socket = net.connect(80);
const asNodeServer: nodeNet.Server = net.createServer();
function takesSocket(s: nodeNet.Socket): string | undefined { return s.remoteAddress; }
function takesServer(s: nodeNet.Server): boolean { return s.listening; }
takesSocket(net.createConnection({ port: 80, host: 'localhost' }));
takesServer(net.createServer((s: Socket) => takesSocket(s)).listen(0));
const ours: Socket = net.connect(80);
const srv: Server = net.createServer();
void asNodeSocket; void asNodeServer; void ours; void srv;

// Node's http takes createConnection as it is: as an option, and as an Agent's method.
http.request({ host: 'localhost', port: 80, createConnection: net.createConnection });
const agent = new http.Agent({ keepAlive: true });
agent.createConnection = net.createConnection;
// The README's http example, as written there.
const sim = new Simulation({ seed: 1 });
const { a, b, faultA } = twoHosts(sim, { delay: 5_000, faults: { loss: 0.01 } });
const client = attachNet(a, sim);
attachNet(b, sim).createServer({ allowHalfOpen: true, noDelay: true }, (socket) => http.createServer().emit('connection', socket)).listen(80);
http.get({ host: '198.18.0.2', port: 80, createConnection: (opts) => client.createConnection(opts) }, (res) => {
  res.setEncoding('utf8');
});
// A faults option gives non-null fault handles.
faultA.partition(false);

// ws takes it as its createConnection option.
new WebSocket('ws://localhost:80/', { createConnection: net.createConnection });

// undici's connect option: a connector that hands undici a synack socket.
const connector: buildConnector.connector = (opts, cb) => {
  const s = net.createConnection({ host: opts.hostname, port: Number(opts.port) }, () => cb(null, s));
  s.once('error', (e) => cb(e, null));
};
new UndiciAgent({ connect: connector });
new UndiciClient('http://localhost', { connect: connector });

// The lookup function type is Node's: Node's own dns.lookup fits, and a synack one fits Node.
const lookup: nodeNet.LookupFunction = (_h, _o, cb) => cb(null, '127.0.0.1', 4);
const same: LookupFunction = lookup;
const back: nodeNet.LookupFunction = same;
net.connect({ port: 80, host: 'localhost', lookup: same });
net.connect({ port: 80, host: 'localhost', lookup: dns.lookup });
net.connect({ port: 80, host: 'localhost', timeout: 1000, keepAlive: true, noDelay: true, hints: dns.ADDRCONFIG, autoSelectFamily: false });
void back;

// onread and signal are typed as Node types them.
net.connect({ port: 80, onread: { buffer: Buffer.alloc(16), callback: (n: number, buf: Uint8Array) => n < buf.length } });
net.createServer().listen({ port: 0, signal: new AbortController().signal });

// Sockets are stream.Duplex and have Node's properties.
const s = net.connect(80);
const d: import('node:stream').Duplex = s;
const n: number | undefined = s.remotePort;
const w: number = s.bytesWritten;
void d; void n; void w;

// synack/core resolves under nodenext.
const st = new Stack({ clock: new ManualClock(0) });
void st.loopback.mtu;
