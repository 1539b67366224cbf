// NodeConnector (Node-only): the gateway's real connections through a `net`-shaped module
// — node:net by default, or any synack stack's `stack.net` (the simulation tests use one) —
// and node:dgram for UDP.
import * as nodeNet from 'node:net';
import * as nodeDgram from 'node:dgram';
import type { Duplex } from 'node:stream';
import type { Connector, FlowTarget, OutboundTcp, OutboundUdp } from '../connector.js';

/** The part of node:net the connector uses (node:net and synack's stack.net both fit). */
export interface NetLike {
  connect(opts: { host: string; port: number; allowHalfOpen?: boolean }): Duplex & { setNoDelay?(b?: boolean): unknown };
}

export interface NodeConnectorOptions {
  net?: NetLike;
  /** UDP sockets (default node:dgram); null disables UDP flows. */
  dgram?: typeof nodeDgram | null;
  /** Writes queue up to this many bytes before write() returns false (Node's highWaterMark applies too). */
}

/** Wrap a connected or connecting Duplex (net.Socket) as an OutboundTcp. */
export function wrapSocket(sock: Duplex, connected = false): OutboundTcp {
  const o: OutboundTcp = {
    onconnect: null, ondata: null, onend: null, ondrain: null, onerror: null,
    write: (d) => sock.write(d),
    end: () => { sock.end(); },
    destroy: () => { (sock as nodeNet.Socket).resetAndDestroy?.() ?? sock.destroy(); },
    pause: () => { sock.pause(); },
    resume: () => { sock.resume(); },
  };
  let errored = false;
  let ended = false;
  sock.on('data', (d: Buffer) => o.ondata?.(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  sock.on('end', () => { ended = true; o.onend?.(); });
  sock.on('drain', () => o.ondrain?.());
  sock.on('error', (e: NodeJS.ErrnoException) => { if (!errored) { errored = true; o.onerror?.(e.code ?? 'EIO'); } });
  sock.on('close', () => {
    // Closed without an error and without the peer's FIN (e.g. destroyed): report a reset.
    if (!errored && !ended) { errored = true; o.onerror?.('ECONNRESET'); }
  });
  if (connected) queueMicrotask(() => o.onconnect?.());
  else sock.once('connect', () => o.onconnect?.());
  return o;
}

export class NodeConnector implements Connector {
  private readonly net: NetLike;
  private readonly dgram: typeof nodeDgram | null;
  constructor(o: NodeConnectorOptions = {}) {
    this.net = o.net ?? nodeNet;
    this.dgram = o.dgram === undefined ? nodeDgram : o.dgram;
  }

  connectTcp(t: FlowTarget): OutboundTcp {
    const sock = this.net.connect({ host: t.host, port: t.port, allowHalfOpen: true });
    sock.setNoDelay?.(true);
    return wrapSocket(sock);
  }

  openUdp(t: FlowTarget): OutboundUdp {
    const o: OutboundUdp = { onmessage: null, onerror: null, send: () => {}, close: () => {} };
    if (this.dgram === null) { queueMicrotask(() => o.onerror?.('EACCES')); return o; }
    const s = this.dgram.createSocket('udp4');
    let ready = false, closed = false;
    const early: Uint8Array[] = [];
    s.on('message', (m: Buffer) => o.onmessage?.(new Uint8Array(m.buffer, m.byteOffset, m.byteLength)));
    s.on('error', (e: NodeJS.ErrnoException) => o.onerror?.(e.code ?? 'EIO'));
    s.connect(t.port, t.host, () => { ready = true; for (const d of early.splice(0)) s.send(d); });
    o.send = (d) => { if (closed) return; if (ready) s.send(d); else if (early.length < 64) early.push(d.slice()); };
    o.close = () => { if (!closed) { closed = true; try { s.close(); } catch { /* closed */ } } };
    return o;
  }
}
