// Type test (issue 11, deliverable 6), compiled with `strict` and `moduleResolution:
// nodenext` against the built package (test/types.test.ts runs tsc on it). Every line here
// must type-check without casts.
import type * as nodeNet from 'node:net';
import * as http from 'node:http';
import { createNet, Simulation, twoHosts, type LookupFunction } from 'synack';
import { Stack, ManualClock } from 'synack/core';

const net = createNet();
// Node's http takes synack's createConnection as it takes net.createConnection.
http.get({ host: 'localhost', port: 80, createConnection: (opts) => net.createConnection(opts as nodeNet.NetConnectOpts) });
const agent = new http.Agent();
void agent;
// The lookup function type is Node's.
const lookup: nodeNet.LookupFunction = (_h, _o, cb) => cb(null, '127.0.0.1', 4);
const same: LookupFunction = lookup;
net.connect({ port: 80, lookup: same });
net.connect({ port: 80, host: 'localhost', timeout: 1000, keepAlive: true, noDelay: true });
// Sockets are stream.Duplex and have Node's properties.
const s = net.connect(80);
const d: import('node:stream').Duplex = s;
const n: number | undefined = s.remotePort;
void d; void n;
// A faults option gives non-null fault handles.
const sim = new Simulation({ seed: 1 });
const { faultA } = twoHosts(sim, { faults: { loss: 0.01 } });
faultA.partition(false);
// synack/core resolves under nodenext.
const st = new Stack({ clock: new ManualClock(0) });
void st.loopback.mtu;
