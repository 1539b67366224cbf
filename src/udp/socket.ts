// One UDP socket (RFC 768 "User Interface"): a local endpoint, an optional connected peer,
// options named like the socket options, and a bounded receive queue accounted like Linux's
// SO_RCVBUF. Sans-I/O: the UdpLayer fills the queue, the user drains it with recv().
import type { Instant } from '../time/instant.js';
import type { NetIf } from '../stack/stack.js';
import type { UdpLayer } from './layer.js';

/** A received datagram. */
export interface UdpMessage {
  data: Uint8Array;
  srcAddr: number;
  srcPort: number;
  /** The destination address it was sent to (ours, or a broadcast): IP_PKTINFO. */
  dstAddr: number;
  /** The interface it arrived on. */
  nif: NetIf | null;
  t: Instant;
}

/** What the socket tells its user (the dgram layer); called inside packet processing. */
export interface UdpSocketUser {
  /** The receive queue went from empty to non-empty. */
  onReadable(): void;
  /** A pending error (sk_err) was set: an ICMP hard error on a connected socket. */
  onError(code: string): void;
}

/**
 * Per-datagram overhead charged against the receive buffer besides the payload, like the
 * truesize of a Linux skb (sk_buff + shared info + headroom): a small datagram costs about
 * this much, so a default 208 KiB buffer holds a few hundred of them, as on Linux.
 */
export const UDP_TRUESIZE_OVERHEAD = 768;
/** Linux SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (2 * 1152 and 2 * 2304 rounded the kernel's way). */
export const SOCK_MIN_RCVBUF = 2304;
export const SOCK_MIN_SNDBUF = 4608;

export class UdpSocket {
  localAddr = 0;
  localPort = 0;
  remoteAddr = 0;
  remotePort = 0;
  bound = false;
  connected = false;
  closed = false;
  /** SO_REUSEADDR: several sockets may bind the same address and port (the last bound gets unicast). */
  reuseAddr = false;
  /** SO_BROADCAST: sending to a broadcast address is allowed (else EACCES). */
  broadcast = false;
  /** IP_TTL; -1 = the stack's ip_default_ttl. */
  ttl = -1;
  /** IP_TOS. */
  tos = 0;
  /** SO_RCVBUF / SO_SNDBUF as getsockopt reports them (Linux stores twice what was set). */
  rcvBuf: number;
  sndBuf: number;
  /** Datagrams dropped because the receive buffer was full (SO_RXQ_OVFL's counter). */
  drops = 0;
  /** sk_err: set by an ICMP hard error on a connected socket, consumed by the next recv/send. */
  pendingError: string | null = null;
  user: UdpSocketUser | null = null;
  /** For tables and tests: who owns this socket (a dgram Socket, a DHCP server…). */
  handle: unknown = null;

  private readonly queue: UdpMessage[] = [];
  private head = 0;
  private rmemAlloc = 0;

  constructor(readonly layer: UdpLayer, rcvBuf: number, sndBuf: number) {
    this.rcvBuf = rcvBuf;
    this.sndBuf = sndBuf;
  }

  /** Datagrams waiting to be read. */
  get queued(): number { return this.queue.length - this.head; }
  /** Bytes charged against the receive buffer (sk_rmem_alloc). */
  get rmem(): number { return this.rmemAlloc; }

  /** Next datagram, or null when the queue is empty. */
  recv(): UdpMessage | null {
    if (this.head >= this.queue.length) return null;
    const m = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as UdpMessage;
    if (this.head > 64 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
    this.rmemAlloc -= m.data.length + UDP_TRUESIZE_OVERHEAD;
    return m;
  }

  /** Take the pending error (sock_error()): returns and clears it. */
  takeError(): string | null {
    const e = this.pendingError;
    this.pendingError = null;
    return e;
  }

  /**
   * Queue a datagram (UdpLayer only). Linux __udp_enqueue_schedule_skb: dropped when the
   * memory already charged exceeds SO_RCVBUF, so one datagram may overshoot it.
   */
  enqueue(m: UdpMessage): boolean {
    if (this.rmemAlloc > this.rcvBuf) { this.drops++; return false; }
    this.rmemAlloc += m.data.length + UDP_TRUESIZE_OVERHEAD;
    const wasEmpty = this.queued === 0;
    this.queue.push(m);
    if (wasEmpty && this.user !== null) this.user.onReadable();
    return true;
  }

  /** SO_RCVBUF: Linux doubles the value (for overhead), bounded by rmem_max and SOCK_MIN_RCVBUF. */
  setRecvBufferSize(size: number): void {
    const v = Math.min(size, this.layer.stack.options.rmem_max);
    this.rcvBuf = Math.max(SOCK_MIN_RCVBUF, v * 2);
  }

  setSendBufferSize(size: number): void {
    const v = Math.min(size, this.layer.stack.options.wmem_max);
    this.sndBuf = Math.max(SOCK_MIN_SNDBUF, v * 2);
  }

  /** bind(2); see UdpLayer.bind. */
  bind(addr: number, port: number): void { this.layer.bind(this, addr, port); }
  /** connect(2); see UdpLayer.connect. */
  connect(addr: number, port: number): void { this.layer.connect(this, addr, port); }
  /** connect(AF_UNSPEC): forget the peer (the local port stays bound). */
  disconnect(): void { this.layer.disconnect(this); }
  /** sendto(2)/send(2): returns the bytes sent; throws StackError (EACCES, EMSGSIZE, EDESTADDRREQ, ENETUNREACH…). */
  send(data: Uint8Array | readonly Uint8Array[], addr?: number, port?: number): number { return this.layer.send(this, data, addr, port); }
  close(): void { this.layer.close(this); }
}
