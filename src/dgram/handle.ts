// The synack counterpart of Node's UDP handle (src/udp_wrap.cc over libuv's uv_udp_t): the
// object dgram.Socket drives. Methods return 0 or an error code string where libuv returns a
// negative errno, so the Socket above can follow lib/dgram.js step by step.
import type { NetDriver } from '../net/driver.js';
import type { UdpLayer } from '../udp/layer.js';
import type { UdpSocket } from '../udp/socket.js';
import { StackError } from '../stack/errors.js';
import { formatIpv4Address, parseIpv4Address } from '../wire/ipv4addr.js';

export type DgramLookup = (hostname: string, options: number | { family?: number }, callback: (err: Error | null, address: string, family: number) => void) => void;

export interface AddressOut { address?: string; family?: string; port?: number }

export type OnMessage = (nread: number | string, buf: Buffer | null, rinfo: { address: string; family: 'IPv4'; port: number; size?: number } | null) => void;

export class UdpHandle {
  readonly sock: UdpSocket;
  onmessage: OnMessage | null = null;
  private receiving = false;
  private drainQueued = false;
  private refed = true;
  private held = false;
  private closed = false;

  constructor(private readonly udp: UdpLayer, private readonly driver: NetDriver, readonly lookupFn: DgramLookup) {
    this.sock = udp.createSocket();
    this.sock.user = {
      onReadable: () => this.scheduleDrain(),
      onError: () => this.scheduleDrain(),
    };
  }

  /** lookup4: an empty address means 127.0.0.1 (Node's lib/internal/dgram.js). */
  lookup(address: string, cb: (err: Error | null, ip: string) => void): void {
    this.lookupFn(address || '127.0.0.1', 4, (err, ip) => cb(err, ip));
  }

  bind(ip: string, port: number, reuseAddr: boolean): string | 0 {
    const a = parseIpv4Address(ip);
    if (a === null) return 'EINVAL';
    this.sock.reuseAddr = reuseAddr;
    try { this.sock.bind(a, port); } catch (e) { return code(e); }
    this.updateHold();
    return 0;
  }

  connect(ip: string, port: number): string | 0 {
    const a = parseIpv4Address(ip);
    if (a === null) return 'EINVAL';
    try { this.sock.connect(a, port); } catch (e) { return code(e); }
    return 0;
  }

  disconnect(): string | 0 {
    this.sock.disconnect();
    return 0;
  }

  /** Synchronous send: bytes + 1 on success (Node's convention), else an error code. */
  send(list: Uint8Array[], port: number | undefined, ip: string | null): number | string {
    let addr: number | undefined;
    if (ip !== null && port !== undefined) {
      const a = parseIpv4Address(ip);
      if (a === null) return 'EINVAL';
      addr = a;
    }
    // 127.0.0.0/8 without a loopback interface: there is no route (synack has no lo).
    if (addr !== undefined && (addr >>> 24) === 127 && !this.udp.stack.interfaces.some((i) => i.addr === addr)) return 'ENETUNREACH';
    try {
      const n = this.sock.send(list, addr, port);
      this.driver.kick();
      return n + 1;
    } catch (e) { return code(e); }
  }

  getsockname(out: AddressOut): string | 0 {
    if (!this.sock.bound) return 'EBADF';
    out.address = formatIpv4Address(this.sock.localAddr);
    out.family = 'IPv4';
    out.port = this.sock.localPort;
    return 0;
  }

  getpeername(out: AddressOut): string | 0 {
    if (!this.sock.connected) return 'ENOTCONN';
    out.address = formatIpv4Address(this.sock.remoteAddr);
    out.family = 'IPv4';
    out.port = this.sock.remotePort;
    return 0;
  }

  /** Socket options need a bound socket (libuv creates the fd at bind): EBADF before. */
  setBroadcast(on: number): string | 0 {
    if (!this.sock.bound) return 'EBADF';
    this.sock.broadcast = on !== 0;
    return 0;
  }

  setTTL(ttl: number): string | 0 {
    if (!this.sock.bound) return 'EBADF';
    if (!(ttl >= 1 && ttl <= 255)) return 'EINVAL';
    this.sock.ttl = Math.trunc(ttl);
    return 0;
  }

  /** uv_recv_buffer_size / uv_send_buffer_size: size 0 reads, else sets; undefined + ctx on error. */
  bufferSize(size: number, recv: boolean, ctx: { code?: string }): number | undefined {
    if (!this.sock.bound || this.closed) { ctx.code = 'EBADF'; return undefined; }
    if (size === 0) return recv ? this.sock.rcvBuf : this.sock.sndBuf;
    if (recv) this.sock.setRecvBufferSize(size); else this.sock.setSendBufferSize(size);
    return 0;
  }

  recvStart(): void { this.receiving = true; this.scheduleDrain(); }
  recvStop(): void { this.receiving = false; }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiving = false;
    this.sock.close();
    this.updateHold();
  }

  ref(): void { this.refed = true; this.updateHold(); }
  unref(): void { this.refed = false; this.updateHold(); }
  hasRef(): boolean { return this.refed; }

  /** A bound, open, referenced socket keeps a realtime event loop alive (as a libuv handle does). */
  private updateHold(): void {
    const want = this.refed && !this.closed && this.sock.bound;
    if (want !== this.held) { this.held = want; this.driver.hold(want ? 1 : -1); }
  }

  private scheduleDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    process.nextTick(() => this.drain());
  }

  /** libuv's uv__udp_recvmsg loop: the pending error first (recvmsg fails with it), then datagrams. */
  private drain(): void {
    this.drainQueued = false;
    if (!this.receiving || this.closed) return;
    const err = this.sock.takeError();
    if (err !== null) this.onmessage?.(err, null, null);
    for (let m = this.sock.recv(); m !== null; m = this.sock.recv()) {
      if (!this.receiving || this.closed) return;
      const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.length);
      this.onmessage?.(buf.length, buf, { address: formatIpv4Address(m.srcAddr), family: 'IPv4', port: m.srcPort });
    }
  }
}

function code(e: unknown): string {
  if (e instanceof StackError) return e.code;
  throw e;
}
