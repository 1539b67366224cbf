// `synack relay`: a Wisp server (Node-only: node:net, node:dgram, node:dns and the `ws`
// package) with the gateway's deny-by-default destination rules (src/gateway/policy.ts).
//
// Per WebSocket: INFO (v2, UDP extension) then CONTINUE on stream 0 announcing `bufferPackets`
// DATA packets per stream; a v1 client ignores INFO and a v2 client answers it. Per TCP stream:
//  - client → host: every DATA packet is one socket.write(); a packet counts as buffered until
//    its write callback (the kernel took it). After every bufferPackets/2 completed writes the
//    relay sends CONTINUE with bufferPackets − buffered (wisp-js's rule), so a slow host peer
//    stops the client through its credit, never through an unbounded queue here.
//  - host → client: socket data becomes DATA; while the WebSocket's bufferedAmount is above
//    `wsHighWater` the host socket is paused, so a slow client closes the host peer's window.
//  - errors map to close reasons: ECONNREFUSED → ConnRefused (0x44), EHOSTUNREACH/ENETUNREACH
//    → UnreachableHost (0x42), ETIMEDOUT → NoResponse (0x43), a rule miss → HostBlocked (0x48).
//  - Wisp has no half-close: the host's FIN becomes CLOSE Voluntary after its data.
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  decodeWisp, encodeClose, encodeContinue, encodeData, encodeInfo, WispCloseReason, WispError,
  WISP_CLOSE, WISP_CONNECT, WISP_CONTINUE, WISP_DATA, WISP_EXT_UDP, WISP_INFO, WISP_STREAM_TCP, WISP_STREAM_UDP,
} from '../packet.js';
import { Policy } from '../../gateway/policy.js';
import { parseIpv4Address } from '../../wire/ipv4addr.js';

export interface RelayOptions {
  /** Destination rules (deny by default). */
  policy: Policy;
  /** DATA packets buffered per stream (the CONTINUE credit). Default 128 (wisp-js). */
  bufferPackets?: number;
  /** Pause host sockets while the WebSocket has more than this many bytes unsent. Default 1 MiB. */
  wsHighWater?: number;
  /** Resolve names (default dns.lookup, IPv4). */
  lookup?: (name: string) => Promise<string>;
  log?: (msg: string) => void;
}

export interface RelayCounters {
  connections: number;
  streamsOpened: number;
  streamsRefused: number;
  streamsFailed: number;
  badPackets: number;
  bytesToHost: number;
  bytesToClient: number;
}

function errorReason(code: string | undefined): number {
  switch (code) {
    case 'ECONNREFUSED': return WispCloseReason.ConnRefused;
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENOTFOUND': return WispCloseReason.UnreachableHost;
    case 'ETIMEDOUT': return WispCloseReason.NoResponse;
    default: return WispCloseReason.NetworkError;
  }
}

const defaultLookup = (name: string): Promise<string> =>
  new Promise((res, rej) => dns.lookup(name, { family: 4 }, (e, a) => (e ? rej(e) : res(a))));

interface RelayStream {
  id: number;
  closed: boolean;
  close(reason: number | null): void;
  data(d: Uint8Array): void;
}

export class WispRelay {
  readonly counters: RelayCounters = { connections: 0, streamsOpened: 0, streamsRefused: 0, streamsFailed: 0, badPackets: 0, bytesToHost: 0, bytesToClient: 0 };
  readonly wss: WebSocketServer;
  private readonly bufferPackets: number;
  private readonly wsHighWater: number;
  private readonly lookup: (name: string) => Promise<string>;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: RelayOptions) {
    this.bufferPackets = opts.bufferPackets ?? 128;
    this.wsHighWater = opts.wsHighWater ?? 1 << 20;
    this.lookup = opts.lookup ?? defaultLookup;
    this.log = opts.log ?? (() => {});
    this.wss = new WebSocketServer({ noServer: true, handleProtocols: (protos) => (protos.has('wisp-v2') ? 'wisp-v2' : false) });
    this.wss.on('connection', (ws) => this.serve(ws));
  }

  /** Hand an HTTP upgrade to the relay (for use with an existing http.Server). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  /** Serve one Wisp connection. */
  serve(ws: WebSocket): void {
    this.counters.connections++;
    const streams = new Map<number, RelayStream>();
    const send = (b: Uint8Array, cb?: () => void): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(b, { binary: true }, () => cb?.());
    };
    send(encodeInfo(2, 0, [{ id: WISP_EXT_UDP, payload: new Uint8Array(0) }]));
    send(encodeContinue(0, this.bufferPackets));
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      if (!isBinary) { this.counters.badPackets++; return; }
      let p;
      try { p = decodeWisp(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)); }
      catch (e) { if (e instanceof WispError) { this.counters.badPackets++; return; } throw e; }
      if (p.type === WISP_INFO || p.streamId === 0) return; // the client's INFO (v2): nothing to negotiate
      if (p.type === WISP_CONNECT) {
        if (streams.has(p.streamId)) { this.counters.badPackets++; return; }
        if (p.streamType !== WISP_STREAM_TCP && p.streamType !== WISP_STREAM_UDP) { send(encodeClose(p.streamId, WispCloseReason.InvalidInfo)); return; }
        const s = p.streamType === WISP_STREAM_TCP ? this.tcpStream(p.streamId, p.hostname.trim(), p.port, send, ws, streams)
          : this.udpStream(p.streamId, p.hostname.trim(), p.port, send, streams);
        streams.set(p.streamId, s);
        return;
      }
      const s = streams.get(p.streamId);
      if (s === undefined) return;
      if (p.type === WISP_DATA) s.data(p.data);
      else if (p.type === WISP_CLOSE) s.close(null);
      else if (p.type === WISP_CONTINUE) this.counters.badPackets++; // only servers send CONTINUE
    });
    ws.on('close', () => { for (const s of [...streams.values()]) s.close(null); });
    ws.on('error', () => {});
  }

  /** Resolve + check the rules. Returns the address to use, or a close reason. */
  private async admit(proto: 'tcp' | 'udp', hostname: string, port: number): Promise<string | number> {
    let addr = hostname;
    const literal = parseIpv4Address(hostname);
    if (literal === null) {
      try { addr = await this.lookup(hostname); } catch { return WispCloseReason.UnreachableHost; }
    }
    const a = parseIpv4Address(addr);
    if (!this.opts.policy.allows({ proto, addr: a, name: literal === null ? hostname : null, port })) return WispCloseReason.HostBlocked;
    // A name rule admits the name; the address it resolved to must not be a rule-less
    // loopback unless an address rule admits it too (a DNS answer cannot open localhost).
    if (literal === null && a !== null && (a >>> 24) === 127 && !this.opts.policy.allows({ proto, addr: a, port })) return WispCloseReason.HostBlocked;
    return addr;
  }

  private tcpStream(id: number, hostname: string, port: number, send: (b: Uint8Array, cb?: () => void) => void, ws: WebSocket, streams: Map<number, RelayStream>): RelayStream {
    const pending: Uint8Array[] = [];
    let sock: net.Socket | null = null;
    let buffered = 0, completed = 0;
    const self = this;
    const s: RelayStream = {
      id, closed: false,
      close(reason) {
        if (s.closed) return;
        s.closed = true;
        streams.delete(id);
        if (reason !== null) send(encodeClose(id, reason));
        if (sock !== null) { if (reason === null) sock.end(); else sock.destroy(); }
      },
      data(d) {
        buffered++;
        if (sock === null) { pending.push(Uint8Array.from(d)); return; }
        write(d);
      },
    };
    const write = (d: Uint8Array): void => {
      self.counters.bytesToHost += d.length;
      sock!.write(d, () => {
        buffered--; completed++;
        if (completed >= self.bufferPackets / 2 && !s.closed) { completed = 0; send(encodeContinue(id, self.bufferPackets - buffered)); }
      });
    };
    void this.admit('tcp', hostname, port).then((addr) => {
      if (s.closed) return;
      if (typeof addr === 'number') { this.counters.streamsRefused++; this.log(`refused tcp ${hostname}:${port}`); s.close(addr); return; }
      this.counters.streamsOpened++;
      const c = net.connect({ host: addr, port });
      sock = c;
      // Tell the client the connection is up: a CONTINUE with the full credit (Wisp has no
      // connect acknowledgement; this one is harmless to any client, and WispConnector's
      // awaitContinue uses it to turn a refusal into a RST to the guest's SYN).
      c.once('connect', () => { if (!s.closed) send(encodeContinue(id, this.bufferPackets - buffered)); });
      for (const d of pending.splice(0)) write(d);
      let wsPaused = false;
      c.on('data', (chunk: Buffer) => {
        this.counters.bytesToClient += chunk.length;
        send(encodeData(id, chunk), () => {
          if (wsPaused && ws.bufferedAmount < this.wsHighWater / 4) { wsPaused = false; c.resume(); }
        });
        if (!wsPaused && ws.bufferedAmount > this.wsHighWater) { wsPaused = true; c.pause(); }
      });
      c.on('end', () => { s.close(WispCloseReason.Voluntary); });
      c.on('error', (e: NodeJS.ErrnoException) => {
        if (!s.closed) { this.counters.streamsFailed++; this.log(`tcp ${hostname}:${port}: ${e.code ?? e.message}`); }
        s.close(errorReason(e.code));
      });
      c.on('close', () => s.close(WispCloseReason.Voluntary));
    });
    return s;
  }

  private udpStream(id: number, hostname: string, port: number, send: (b: Uint8Array) => void, streams: Map<number, RelayStream>): RelayStream {
    let sock: dgram.Socket | null = null;
    const pending: Uint8Array[] = [];
    const s: RelayStream = {
      id, closed: false,
      close(reason) {
        if (s.closed) return;
        s.closed = true;
        streams.delete(id);
        if (reason !== null) send(encodeClose(id, reason));
        try { sock?.close(); } catch { /* already closed */ }
      },
      data(d) {
        if (sock === null) { if (pending.length < 64) pending.push(Uint8Array.from(d)); return; }
        sock.send(d);
      },
    };
    void this.admit('udp', hostname, port).then((addr) => {
      if (s.closed) return;
      if (typeof addr === 'number') { this.counters.streamsRefused++; s.close(addr); return; }
      this.counters.streamsOpened++;
      const u = dgram.createSocket('udp4');
      u.on('error', (e: NodeJS.ErrnoException) => s.close(errorReason(e.code)));
      u.on('message', (m: Buffer) => { this.counters.bytesToClient += m.length; send(encodeData(id, m)); });
      u.connect(port, addr, () => {
        sock = u;
        for (const d of pending.splice(0)) u.send(d);
      });
    });
    return s;
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}

/** Start a relay on host:port (an http.Server that upgrades every path to Wisp). */
export async function startRelay(host: string, port: number, opts: RelayOptions): Promise<{ relay: WispRelay; server: HttpServer; port: number; close(): Promise<void> }> {
  const relay = new WispRelay(opts);
  const server = createServer((_req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }); res.end('synack relay: Wisp over WebSocket\n'); });
  server.on('upgrade', (req, socket, head) => relay.handleUpgrade(req, socket, head));
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, host, () => res()); });
  const addr = server.address() as net.AddressInfo;
  return {
    relay, server, port: addr.port,
    close: () => new Promise<void>((res) => { relay.close(); server.close(() => res()); server.closeAllConnections?.(); }),
  };
}
