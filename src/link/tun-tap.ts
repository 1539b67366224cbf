// The Linux TAP link (Node only): an EthernetLinkEnd whose frames are those of a TAP device
// (IFF_TAP | IFF_NO_PI): Ethernet II frames without preamble or FCS. The device is opened by
// a tiny addon (native/tap.c, synack_tap.node); reading, batching, writing and configuring
// the kernel's side use the TUN addon (native/tun.c), which works on any such fd. Errors are
// TunErrors explained the same way as for TUN (EPERM: needs CAP_NET_ADMIN; no
// /dev/net/tun; the name is busy or is a TUN device; …).
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { PacketHandler } from './types.js';
import type { EthernetLinkEnd } from './ethernet.js';
import { maxFrameLength } from './ethernet.js';
import { loadTunAddon, TunError, type TunStats } from './tun.js';
import { formatIpv4Address, parseIpv4Address } from '../wire/ipv4addr.js';

interface TapAddon {
  open(name: string): { fd: number; name: string };
  hwaddr(name: string): Uint8Array;
}

const ADDON_FILE = 'synack_tap.node';
let addon: TapAddon | null = null;
let addonError: TunError | null = null;

function candidates(): string[] {
  if (process.env.SYNACK_TAP_ADDON) return [process.env.SYNACK_TAP_ADDON];
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  for (const up of ['../..', '../../..']) {
    out.push(join(here, up, 'native', 'build', 'Release', ADDON_FILE));
    out.push(join(here, up, 'native', 'build', 'Debug', ADDON_FILE));
  }
  return out;
}

/** Load the TAP addon (once). Throws TunError ERR_TUN_ADDON saying why it is unavailable. */
export function loadTapAddon(): TapAddon {
  if (addon !== null) return addon;
  if (addonError !== null) throw addonError;
  loadTunAddon(); // the same platform checks; and the read/write half lives there
  const path = candidates().find((p) => existsSync(p));
  if (path === undefined) {
    addonError = new TunError(
      'the TAP addon is not built (native/build/Release/synack_tap.node is missing): it needs a C compiler, make and python3; ' +
        'build it with `node scripts/build-addon.mjs --verbose`',
      'ERR_TUN_ADDON',
    );
    throw addonError;
  }
  try {
    addon = createRequire(import.meta.url)(path) as TapAddon;
    return addon;
  } catch (e) {
    addonError = new TunError(`the TAP addon ${path} failed to load: ${(e as Error).message}; rebuild it with \`node scripts/build-addon.mjs --verbose\``, 'ERR_TUN_ADDON');
    throw addonError;
  }
}

/** Whether TAP links can be used here: `{ ok: false, reason }` explains why not. */
export function tapSupport(): { ok: true } | { ok: false; reason: string; code: string } {
  try {
    loadTapAddon();
  } catch (e) {
    return { ok: false, reason: (e as Error).message, code: (e as TunError).code };
  }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'no /dev/net/tun (load the tun module, or pass the device into the container)', code: 'ENOENT' };
  return { ok: true };
}

function explain(e: NodeJS.ErrnoException, what: string, name: string): TunError {
  const code = e.code ?? 'EUNKNOWN';
  const sc = e.syscall ?? '';
  let why: string;
  if (sc === 'open' && code === 'ENOENT') why = 'there is no /dev/net/tun: the kernel lacks TUN/TAP support (modprobe tun) or the container does not expose the device';
  else if (sc === 'open' && (code === 'EACCES' || code === 'EPERM')) why = 'no permission to open /dev/net/tun: run as root, or grant CAP_NET_ADMIN';
  else if (code === 'EPERM' || code === 'EACCES') why = 'creating or configuring a network device needs CAP_NET_ADMIN: run as root (sudo), inside a network namespace you own (`unshare -rn`), or give node the capability';
  else if (code === 'EBUSY') why = `the device ${name} is already open in another process`;
  else if (code === 'EINVAL' && sc.includes('TUNSETIFF')) why = `${name} exists but is not a TAP device (a TUN device or another kind of link)`;
  else if (code === 'ENODEV') why = `there is no device named ${name}`;
  else if (code === 'EADDRNOTAVAIL' || code === 'EEXIST') why = 'the address is not usable on this device (already in use?)';
  else why = e.message;
  return new TunError(`cannot ${what} TAP device ${name}: ${why} [${code}${sc ? ' in ' + sc : ''}]`, code, e);
}

export interface TapOpenOptions {
  /** Interface name (at most 15 bytes); `%d` lets the kernel number it. */
  name: string;
  /** The kernel's address on the device (with prefixLen); omit to leave it unconfigured (but up). */
  hostAddr?: string | number;
  prefixLen?: number;
  /** IP MTU of the device (default 1500); frames may be 18 bytes longer. */
  mtu?: number;
  readBatch?: number;
  /** Kernel transmit queue length in front of the device (default 4096; 0 keeps the kernel's). */
  txQueueLen?: number;
}

const STAGE_BYTES = 1 << 20;
const STAGE_PACKETS = 1024;

type TunLib = ReturnType<typeof loadTunAddon>;

export class TapDevice implements EthernetLinkEnd {
  readonly framing = 'ethernet' as const;
  readonly stats: TunStats = { rxPackets: 0, rxBytes: 0, rxBatches: 0, rxGso: 0, txGso: 0, txPackets: 0, txBytes: 0, txBatches: 0, txErrors: 0, rxErrors: 0, lastTxErrno: 0 };
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

  private constructor(
    private readonly lib: TunLib,
    readonly fd: number,
    readonly name: string,
    readonly mtu: number,
    /** The MAC address of the kernel's side of the device. */
    readonly kernelMac: Uint8Array,
    private readonly readBatch: number,
  ) {}

  static open(o: TapOpenOptions): TapDevice {
    const tap = loadTapAddon();
    const lib = loadTunAddon();
    const mtu = o.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new TunError(`invalid MTU ${mtu} (68..65535)`, 'ERR_OUT_OF_RANGE');
    let dev: { fd: number; name: string };
    try {
      dev = tap.open(o.name);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE') throw new TunError(`invalid TAP device name '${o.name}' (1 to 15 bytes)`, 'ERR_INVALID_ARG_VALUE');
      throw explain(e as NodeJS.ErrnoException, 'open', o.name);
    }
    let mac: Uint8Array;
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
        mac = tap.hwaddr(dev.name);
      } catch (e) {
        if (e instanceof TunError) throw e;
        throw explain(e as NodeJS.ErrnoException, addr ? `assign ${formatIpv4Address(addr)}/${prefixLen} to` : 'bring up', dev.name);
      }
    } catch (e) {
      lib.close(dev.fd);
      throw e;
    }
    // synack speaks IPv4 only: keep the kernel's IPv6 chatter (router solicitations, MLD) off the device.
    try { writeFileSync(`/proc/sys/net/ipv6/conf/${dev.name}/disable_ipv6`, '1'); } catch { /* ignore */ }
    return new TapDevice(lib, dev.fd, dev.name, mtu, mac, o.readBatch ?? 256);
  }

  get isClosed(): boolean { return this.closed; }

  setReceiver(handler: PacketHandler | null): void {
    this.handler = handler;
    if (handler !== null && this.reader === null && !this.closed) {
      const frame = Math.max(maxFrameLength(this.mtu), 1518);
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
    const n = new Uint32Array(batch, 0, 1)[0]!;
    const lens = new Uint32Array(batch, 4, n);
    let off = ((1 + n) * 4 + 7) & ~7;
    const s = this.stats;
    s.rxBatches++;
    for (let i = 0; i < n; i++) {
      const len = lens[i]!;
      const f = new Uint8Array(batch, off, len);
      off += (len + 3) & ~3;
      s.rxPackets++;
      s.rxBytes += len;
      if (this.handler !== null) this.handler(f);
    }
  }

  /** Queue one frame; it is written with the others of this turn at the next microtask. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    const len = frame.length;
    if (len > maxFrameLength(this.mtu) || len < 14) { this.stats.txErrors++; return; }
    if (this.count === STAGE_PACKETS || this.bytes + len > STAGE_BYTES) this.flush();
    this.stage.set(frame, this.bytes);
    this.lens[this.count++] = len;
    this.bytes += len;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFn);
    }
  }

  flush(): void {
    const n = this.count;
    if (n === 0 || this.closed) { this.count = 0; this.bytes = 0; return; }
    let done = 0, off = 0;
    const s = this.stats;
    s.txBatches++;
    while (done < n) {
      const w = this.lib.writeBatch(this.fd, done === 0 ? this.stage : this.stage.subarray(off), done === 0 ? this.lens : this.lens.subarray(done), n - done);
      for (let i = done; i < done + w; i++) { s.txBytes += this.lens[i]!; off += this.lens[i]!; }
      s.txPackets += w;
      done += w;
      if (done < n) {
        s.txErrors++;
        s.lastTxErrno = this.lib.lastWriteErrno();
        off += this.lens[done]!;
        done++;
      }
    }
    this.count = 0;
    this.bytes = 0;
  }

  ref(on = true): void {
    if (this.reader !== null) this.lib.refReading(this.reader, on);
  }

  private stopReading(): void {
    if (this.reader !== null) {
      this.lib.stopReading(this.reader);
      this.reader = null;
    }
  }

  /** Flush, stop reading and close the fd: the device disappears with it. Idempotent. */
  close(): void {
    if (this.closed) return;
    try { this.flush(); } catch { /* closing anyway */ }
    this.closed = true;
    this.stopReading();
    this.handler = null;
    try { this.lib.close(this.fd); } catch { /* already gone */ }
  }
}
