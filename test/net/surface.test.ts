// The module surface (issue 11, deliverable 4): each item probed on Node's own net and on
// createNet(), and the observations must be equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeNet from 'node:net';
import type { AddressInfo } from 'node:net';
import { createNet } from '../../src/net/index.js';
import { once } from './nodecompare.js';

type AnyNet = Record<string, unknown> & typeof nodeNet;

function code(fn: () => unknown): string {
  try { fn(); return 'ok'; } catch (e) { const er = e as { code?: string; name: string; message: string }; return `${er.name}/${er.code}: ${er.message}`; }
}

function probeSync(net: AnyNet): Record<string, unknown> {
  const S = net.Socket as unknown as (o?: object) => nodeNet.Socket;
  const V = net.Server as unknown as (o?: object) => nodeNet.Server;
  const s = S();
  const srv = V();
  const out: Record<string, unknown> = {
    socketWithoutNew: s instanceof net.Socket,
    serverWithoutNew: srv instanceof net.Server,
    streamIsSocket: net.Stream === net.Socket,
    isIP: [net.isIP('127.0.0.1'), net.isIP('::1'), net.isIP('x'), net.isIPv4('1.2.3.4'), net.isIPv6('1.2.3.4')],
    blockList: (() => { const b = new net.BlockList(); b.addSubnet('198.18.0.0', 15); return [b.check('198.19.1.1'), b.check('10.0.0.1')]; })(),
    socketAddress: (() => { const a = new net.SocketAddress({ address: '127.0.0.1', port: 80 }); return [a.address, a.port, a.family]; })(),
    autoSelect: net.getDefaultAutoSelectFamily(),
    autoSelectTimeout: net.getDefaultAutoSelectFamilyAttemptTimeout(),
    setAutoSelectBad: code(() => net.setDefaultAutoSelectFamily('yes' as unknown as boolean)),
    setTimeoutBad: code(() => net.setDefaultAutoSelectFamilyAttemptTimeout(0)),
    setTimeoutSmall: (() => { net.setDefaultAutoSelectFamilyAttemptTimeout(5); const v = net.getDefaultAutoSelectFamilyAttemptTimeout(); net.setDefaultAutoSelectFamilyAttemptTimeout(250); return v; })(),
    simultaneousAccepts: typeof (net as unknown as { _setSimultaneousAccepts: unknown })._setSimultaneousAccepts,
    objectMode: code(() => new net.Socket({ objectMode: true } as object)),
    readableObjectMode: code(() => new net.Socket({ readableObjectMode: true } as object)),
    writableObjectMode: code(() => new net.Socket({ writableObjectMode: true } as object)),
    bytesWrittenOnPrototype: code(() => (net.Socket.prototype as unknown as { bytesWritten: unknown }).bytesWritten),
    connectingFlag: (s as unknown as { _connecting: unknown })._connecting,
    freshBytes: [s.bytesRead, s.bytesWritten],
  };
  return out;
}

test('module surface: constructors without new, Stream, BlockList, SocketAddress, autoSelectFamily defaults, option validation', () => {
  const ours = probeSync(createNet() as unknown as AnyNet);
  const node = probeSync(nodeNet as unknown as AnyNet);
  assert.deepEqual(ours, node);
});

test('bytesWritten counts what was written, and restarts on reconnect; server._connectionKey', async () => {
  async function run(net: typeof nodeNet): Promise<unknown[]> {
    const srv = net.createServer((s) => { s.pause(); s.once('data', () => {}); });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const key = (srv as unknown as { _connectionKey: string })._connectionKey;
    const port = (srv.address() as AddressInfo).port;
    const c = net.connect(port, '127.0.0.1');
    const beforeConnect = c.bytesWritten;
    c.write(Buffer.alloc(1000));
    const whileConnecting = c.bytesWritten;
    await once(c, 'connect');
    // Far more than the send buffer: most of it waits in the stream.
    c.write(Buffer.alloc(64 << 20));
    const big = c.bytesWritten;
    c.destroy();
    await once(c, 'close');
    const afterClose = c.bytesWritten;
    c.connect(port, '127.0.0.1');
    await once(c, 'connect');
    const afterReconnect = c.bytesWritten;
    c.destroy();
    await once(c, 'close');
    srv.close();
    return [key.replace(String(port), 'PORT'), beforeConnect, whileConnecting, big, afterClose, afterReconnect];
  }
  const ours = await run(createNet() as unknown as typeof nodeNet);
  const node = await run(nodeNet);
  assert.deepEqual(ours, node);
});
