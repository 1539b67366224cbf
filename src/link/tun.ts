// The Linux TUN link (Node only): a LinkEnd whose packets are the IP datagrams of a TUN
// device (IFF_TUN | IFF_NO_PI), read and written by a small N-API addon (native/tun.c).
//
// The addon is loaded lazily, on the first TunLink.open(): importing this module costs
// nothing and never fails, so synack works where the addon is absent (browsers, machines
// without a compiler). When it is missing, or the device cannot be opened, TunError says
// what and why (EPERM: needs CAP_NET_ADMIN; no /dev/net/tun; name busy; …).
//
// Reading: the addon drains the non-blocking fd until EAGAIN on each libuv poll wake-up
// and calls JavaScript once per batch. Writing: send() copies the packet into a staging
// buffer and a microtask flushes everything staged in one native call, so the ACKs for a
// whole read batch leave in one go. With offloads the stack sends TCP super-segments of up
// to 64 KB (TSO: gsoMaxSize, send's gsoSize) built straight into the stage (txAlloc).
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { RX_CSUM_VALID, TX_CSUM_PARTIAL, type LinkEnd, type PacketHandler } from './types.js';
import { VNET_HDR_LEN, TUN_F_CSUM, TUN_F_TSO4, GsoStager, parseVnetRx } from './tun-vnet.js';
import { formatIpv4Address, parseIpv4Address } from '../wire/ipv4addr.js';

interface TunAddon {
  open(name: string): { fd: number; name: string };
  configure(name: string, addr: number, prefixLen: number, mtu: number, txQueueLen: number): void;
  close(fd: number): void;
  startReading(fd: number, frame: number, maxBatch: number, cb: (err: NodeJS.ErrnoException | null, batch?: ArrayBuffer) => void): object;
  stopReading(handle: object): void;
  refReading(handle: object, on: boolean): void;
  writeBatch(fd: number, bytes: Uint8Array, lengths: Uint32Array, count: number): number;
  lastWriteErrno(): number;
  /** native/tun_vnet.c (absent in an addon built before it). */
  openVnet?(name: string, multiQueue: boolean): { fd: number; name: string };
  setOffload?(fd: number, flags: number): void;
  vnetHeaderSize?(): number;
}

/** An error opening or using a TUN device: `code` is the errno name (or ERR_TUN_ADDON). */
export class TunError extends Error {
  readonly code: string;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  constructor(message: string, code: string, cause?: { errno?: number; syscall?: string }) {
    super(message);
    this.name = 'TunError';
    this.code = code;
    this.errno = cause?.errno;
    this.syscall = cause?.syscall;
  }
}

const ADDON_FILE = 'synack_tun.node';
let addon: TunAddon | null = null;
let addonError: TunError | null = null;

/** Where the built addon may be: native/build/Release under the package root, seen from src/link or dist/src/link. */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // SYNACK_TUN_ADDON names the addon file explicitly (and alone).
  if (process.env.SYNACK_TUN_ADDON) return [process.env.SYNACK_TUN_ADDON];
  const out: string[] = [];
  for (const up of ['../..', '../../..']) {
    out.push(join(here, up, 'native', 'build', 'Release', ADDON_FILE));
    out.push(join(here, up, 'native', 'build', 'Debug', ADDON_FILE));
  }
  return out;
}

/** Load the addon (once). Throws TunError ERR_TUN_ADDON saying why it is unavailable. */
export function loadTunAddon(): TunAddon {
  if (addon !== null) return addon;
  if (addonError !== null) throw addonError;
  if (process.platform !== 'linux') {
    addonError = new TunError(`TUN links need Linux (this is ${process.platform})`, 'ERR_TUN_UNSUPPORTED');
    throw addonError;
  }
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    addonError = new TunError(
      'the TUN addon is not built (native/build/Release/synack_tun.node is missing): it needs a C compiler, make and python3; ' +
        'build it with `node scripts/build-addon.mjs --verbose`',
      'ERR_TUN_ADDON',
    );
    throw addonError;
  }
  try {
    addon = createRequire(import.meta.url)(path) as TunAddon;
    return addon;
  } catch (e) {
    addonError = new TunError(`the TUN addon ${path} failed to load: ${(e as Error).message}; rebuild it with \`node scripts/build-addon.mjs --verbose\``, 'ERR_TUN_ADDON');
    throw addonError;
  }
}

/** Whether TUN links can be used here, without throwing: `{ ok: false, reason }` explains why not. */
export function tunSupport(): { ok: true } | { ok: false; reason: string; code: string } {
  try {
    loadTunAddon();
  } catch (e) {
    return { ok: false, reason: (e as Error).message, code: (e as TunError).code };
  }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'no /dev/net/tun (load the tun module, or pass the device into the container)', code: 'ENOENT' };
  return { ok: true };
}

/** Turn an errno error from the addon into a TunError that says what to do about it. */
function explain(e: NodeJS.ErrnoException, what: string, name: string): TunError {
  const code = e.code ?? 'EUNKNOWN';
  const sc = e.syscall ?? '';
  let why: string;
  if (sc === 'open' && code === 'ENOENT') why = 'there is no /dev/net/tun: the kernel lacks TUN support (modprobe tun) or the container does not expose the device';
  else if (sc === 'open' && (code === 'EACCES' || code === 'EPERM')) why = 'no permission to open /dev/net/tun: run as root, or grant CAP_NET_ADMIN';
  else if (code === 'EPERM' || code === 'EACCES') why = `creating or configuring a network device needs CAP_NET_ADMIN: run as root (sudo), inside a network namespace you own (\`unshare -rn\`), or give node the capability`;
  else if (code === 'EBUSY') why = `the device ${name} is already open in another process`;
  else if (code === 'EINVAL' && sc.includes('TUNSETIFF')) why = `${name} exists but is not a TUN device (a TAP device or another kind of link)`;
  else if (code === 'ENODEV') why = `there is no device named ${name}`;
  else if (code === 'EADDRNOTAVAIL' || code === 'EEXIST') why = 'the address is not usable on this device (already in use?)';
  else why = e.message;
  return new TunError(`cannot ${what} TUN device ${name}: ${why} [${code}${sc ? ' in ' + sc : ''}]`, code, e);
}

export interface TunOpenOptions {
  /** Interface name (at most 15 bytes); `%d` lets the kernel number it (e.g. `synack%d`). */
  name: string;
  /** The kernel's address on the device, with prefixLen: the kernel then routes the prefix through it. Omit to leave the device unconfigured. */
  hostAddr?: string | number;
  prefixLen?: number;
  /** Device MTU (default 1500). */
  mtu?: number;
  /** Packets read per wake-up before other I/O gets a turn (default 256). */
  readBatch?: number;
  /**
   * The kernel's transmit queue in front of the device (kernel → synack), in packets.
   * Linux gives TUN devices 500; synack asks for 4096 so that a pause of its event loop
   * (a GC, a burst of work) does not overflow it at full speed. 0 keeps the kernel's.
   */
  txQueueLen?: number;
  /**
   * Offloads (IFF_VNET_HDR + TUNSETOFFLOAD TSO4|CSUM, src/link/tun-vnet.ts): the kernel sends
   * TCP super-segments of up to 64 KB with partial checksums, and synack's runs of full-sized
   * segments leave as super-segments the kernel splits (GSO). Default false.
   */
  offload?: boolean;
  /**
   * IFF_MULTI_QUEUE: open one more queue of the device NAME (created by the first open); the
   * kernel spreads flows over the queues by hash and steers a flow's packets to the queue it
   * was last sent from. The base for sharding a stack over worker threads (one queue each).
   * Uses the virtio-net header (offload mode, with or without the offloads themselves).
   */
  multiQueue?: boolean;
}

export interface TunStats {
  rxPackets: number; rxBytes: number; rxBatches: number;
  /** Offload mode: super-segments received (gso_type TCPV4) and sent (several segments in one write). */
  rxGso: number; txGso: number;
  txPackets: number; txBytes: number; txBatches: number;
  /** Packets the kernel refused (device down, buffer full): the link drops them, like a wire. */
  txErrors: number;
  /** Offload mode: frames with a virtio-net header synack cannot take (dropped). */
  rxErrors: number;
  lastTxErrno: number;
}

/** The largest super-segment the stack may hand over: an IPv4 packet's total length is 16 bits. */
const MAX_GSO_PACKET = 65535;
const STAGE_BYTES = 1 << 20;
const STAGE_PACKETS = 1024;

export class TunLink implements LinkEnd {
  readonly stats: TunStats = { rxPackets: 0, rxBytes: 0, rxBatches: 0, rxGso: 0, txGso: 0, txPackets: 0, txBytes: 0, txBatches: 0, txErrors: 0, rxErrors: 0, lastTxErrno: 0 };
  /** Called with a read error (the device went away); the link stops reading. */
  onError: ((err: Error) => void) | null = null;
  private handler: PacketHandler | null = null;
  private reader: object | null = null;
  private closed = false;
  private readonly stage = new Uint8Array(STAGE_BYTES);
  private readonly lens = new Uint32Array(STAGE_PACKETS);
  private count = 0;
  private bytes = 0;
  private flushQueued = false;
  private readonly flushFn = (): void => { this.flushQueued = false; this.flush(); };
  /** Offload mode: builds virtio-net headers and GSO super-segments in the stage. */
  private readonly gso: GsoStager | null;
  /** The stack may leave TCP checksums to the device (TX_CSUM_PARTIAL): offload mode. */
  readonly txChecksumOffload: boolean;
  /** Offload mode: the stack may send TCP super-segments up to 64 KB (TSO) for the kernel to split. */
  readonly gsoMaxSize: number | undefined;
  /** Offload mode: the stack builds super-segments straight into the stage (LinkEnd.txAlloc). */
  readonly txAlloc: ((len: number) => Uint8Array) | undefined;
  private readonly stageAlloc = (len: number): Uint8Array => {
    // Where send() stages the next entry: after its virtio-net header.
    if (this.count === STAGE_PACKETS || this.bytes + len + VNET_HDR_LEN > STAGE_BYTES) this.flush();
    const at = this.bytes + VNET_HDR_LEN;
    return this.stage.subarray(at, at + len);
  };

  private constructor(
    private readonly lib: TunAddon,
    readonly fd: number,
    readonly name: string,
    readonly mtu: number,
    private readonly readBatch: number,
    /** Frames carry the virtio-net header (offload or multi-queue mode). */
    private readonly vnet = false,
    readonly offload = false,
  ) {
    this.txChecksumOffload = offload;
    this.gsoMaxSize = offload ? MAX_GSO_PACKET : undefined;
    this.txAlloc = offload ? this.stageAlloc : undefined;
    this.gso = vnet ? new GsoStager(this.stage, this.lens) : null;
  }

  /** Open (create) the device; with hostAddr, give the kernel its address and MTU and bring it up. */
  static open(o: TunOpenOptions): TunLink {
    const lib = loadTunAddon();
    const mtu = o.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new TunError(`invalid MTU ${mtu} (68..65535)`, 'ERR_OUT_OF_RANGE');
    let dev: { fd: number; name: string };
    const offload = o.offload === true;
    const vnet = offload || o.multiQueue === true;
    if (vnet && (lib.openVnet === undefined || lib.setOffload === undefined)) {
      throw new TunError('the TUN addon predates offload support: rebuild it with `node scripts/build-addon.mjs --verbose`', 'ERR_TUN_ADDON');
    }
    try {
      if (vnet) {
        dev = lib.openVnet!(o.name, o.multiQueue === true);
        try { lib.setOffload!(dev.fd, offload ? TUN_F_CSUM | TUN_F_TSO4 : 0); } catch (e) { lib.close(dev.fd); throw e; }
      } else dev = lib.open(o.name);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE') throw new TunError(`invalid TUN device name '${o.name}' (1 to 15 bytes)`, 'ERR_INVALID_ARG_VALUE');
      throw explain(e as NodeJS.ErrnoException, 'open', o.name);
    }
    try {
      let addr = 0;
      if (o.hostAddr !== undefined) {
        const a = typeof o.hostAddr === 'number' ? o.hostAddr >>> 0 : parseIpv4Address(o.hostAddr);
        if (a === null) throw new TunError(`invalid IPv4 address '${String(o.hostAddr)}'`, 'ERR_INVALID_IP_ADDRESS');
        addr = a;
      }
      const prefixLen = o.prefixLen ?? 24;
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) throw new TunError(`invalid prefix length ${prefixLen}`, 'ERR_OUT_OF_RANGE');
      try {
        lib.configure(dev.name, addr, prefixLen, mtu, o.txQueueLen ?? 4096);
      } catch (e) {
        if (e instanceof TunError) throw e;
        throw explain(e as NodeJS.ErrnoException, addr ? `assign ${formatIpv4Address(addr)}/${prefixLen} to` : 'bring up', dev.name);
      }
    } catch (e) {
      lib.close(dev.fd);
      throw e;
    }
    // synack speaks IPv4 only: keep the kernel's IPv6 chatter (router solicitations, MLD)
    // off the device. Best effort (no IPv6 in the kernel, read-only /proc: nothing to do).
    try { writeFileSync(`/proc/sys/net/ipv6/conf/${dev.name}/disable_ipv6`, '1'); } catch { /* ignore */ }
    return new TunLink(lib, dev.fd, dev.name, mtu, o.readBatch ?? (offload ? 64 : 256), vnet, offload);
  }

  get isClosed(): boolean { return this.closed; }

  setReceiver(handler: PacketHandler | null): void {
    this.handler = handler;
    if (handler !== null && this.reader === null && !this.closed) {
      // Frames as large as the MTU (at least a full Ethernet frame, in case the MTU is raised later).
      // With offloads: a 64 KB super-segment plus the virtio-net header.
      const frame = this.offload ? 65535 + VNET_HDR_LEN : Math.max(this.mtu, 1500) + (this.vnet ? VNET_HDR_LEN : 0);
      this.reader = this.lib.startReading(this.fd, frame, this.readBatch, (err, batch) => this.onBatch(err, batch));
    }
  }

  private onBatch(err: NodeJS.ErrnoException | null, batch: ArrayBuffer | undefined): void {
    if (err !== null) {
      this.stopReading();
      const e = explain(err, 'read from', this.name);
      if (this.onError) this.onError(e);
      return;
    }
    if (batch === undefined) return;
    const head = new Uint32Array(batch, 0, 1);
    const n = head[0]!;
    const lens = new Uint32Array(batch, 4, n);
    let off = ((1 + n) * 4 + 7) & ~7;
    const s = this.stats;
    s.rxBatches++;
    const vnet = this.vnet;
    for (let i = 0; i < n; i++) {
      const len = lens[i]!;
      const frame = new Uint8Array(batch, off, len);
      off += (len + 3) & ~3;
      s.rxPackets++;
      s.rxBytes += len;
      if (!vnet) {
        // The handler may close the link.
        if (this.handler !== null) this.handler(frame);
        continue;
      }
      const rx = parseVnetRx(frame);
      if (rx === null) { s.rxErrors++; continue; }
      if (rx.gso) s.rxGso++;
      if (this.handler !== null) {
        if (rx.csumValid) this.handler(rx.packet, RX_CSUM_VALID);
        else this.handler(rx.packet);
      }
    }
  }

  /**
   * Queue one IP packet for the device; it is written (with the others of this turn) at the
   * next microtask. `gsoSize` (offload mode): a TCP super-segment the kernel splits into
   * segments of that many payload bytes.
   */
  send(packet: Uint8Array, flags = 0, gsoSize = 0): void {
    if (this.closed) return;
    const len = packet.length;
    if (gsoSize > 0 && this.offload && (flags & TX_CSUM_PARTIAL) !== 0 && len <= MAX_GSO_PACKET) {
      if (this.count === STAGE_PACKETS || this.bytes + len + VNET_HDR_LEN > STAGE_BYTES) this.flush();
      this.bytes = this.gso!.startGso(packet, gsoSize, this.count, this.bytes);
      this.count++;
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flushFn);
      }
      return;
    }
    if (len > this.mtu || len === 0) { this.stats.txErrors++; return; }
    if (this.gso !== null) {
      // Appended to the super-segment being built, or staged after a virtio-net header.
      if (!this.gso.append(packet, (flags & TX_CSUM_PARTIAL) !== 0, this.count, this.bytes)) {
        if (this.count === STAGE_PACKETS || this.bytes + len + VNET_HDR_LEN > STAGE_BYTES) this.flush();
        this.bytes = this.gso.start(packet, (flags & TX_CSUM_PARTIAL) !== 0, this.count, this.bytes);
        this.count++;
      } else this.bytes = this.gso.end;
    } else {
      if (this.count === STAGE_PACKETS || this.bytes + len > STAGE_BYTES) this.flush();
      this.stage.set(packet, this.bytes);
      this.lens[this.count++] = len;
      this.bytes += len;
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFn);
    }
  }

  /** Write everything staged now. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.closed) { this.count = 0; this.bytes = 0; this.gso?.reset(); return; }
    if (this.gso !== null) this.stats.txGso += this.gso.finish();
    let done = 0, off = 0;
    const s = this.stats;
    s.txBatches++;
    while (done < n) {
      const w = this.lib.writeBatch(this.fd, done === 0 ? this.stage : this.stage.subarray(off), done === 0 ? this.lens : this.lens.subarray(done), n - done);
      for (let i = done; i < done + w; i++) { s.txBytes += this.lens[i]!; off += this.lens[i]!; }
      s.txPackets += w;
      done += w;
      if (done < n) {
        // The kernel refused this packet (e.g. EIO while the device is down): drop it, as a wire would.
        s.txErrors++;
        s.lastTxErrno = this.lib.lastWriteErrno();
        off += this.lens[done]!;
        done++;
      }
    }
    this.count = 0;
    this.bytes = 0;
  }

  /** Let (false) or stop letting (true) the open device keep the Node process alive. */
  ref(on = true): void {
    if (this.reader !== null) this.lib.refReading(this.reader, on);
  }

  private stopReading(): void {
    if (this.reader !== null) {
      this.lib.stopReading(this.reader);
      this.reader = null;
    }
  }

  /** Flush, stop reading and close the fd: the (non-persistent) device disappears with it. Idempotent. */
  close(): void {
    if (this.closed) return;
    try { this.flush(); } catch { /* closing anyway */ }
    this.closed = true;
    this.stopReading();
    this.handler = null;
    try { this.lib.close(this.fd); } catch { /* already gone */ }
  }
}
