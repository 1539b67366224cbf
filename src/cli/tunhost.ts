// What `synack serve`, `connect` and `get` share: the flags that put a stack on a Linux TUN
// device, the realtime driver, fault injection on synack's side of the link, pcap capture,
// clean shutdown on exit and signals, and the connection table (like `ss -tan`).
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance as nodePerformance } from 'node:perf_hooks';
import type { ParseArgsConfig } from 'node:util';
import { Stack } from '../stack/stack.js';
import { DEFAULT_STACK_OPTIONS, type StackOptions } from '../stack/options.js';
import { connectionTable, renderConnectionTable, type ConnRow } from '../stack/table.js';
import { RealtimeNetDriver } from '../net/driver.js';
import { attachNet, type NetModule } from '../net/index.js';
import { TunLink, TunError } from '../link/tun.js';
import { TapDevice } from '../link/tun-tap.js';
import type { EthernetInterface } from '../stack/ethernet.js';
import { formatMac, localMac, parseMac, type Mac } from '../wire/ethernet.js';
import { FaultyLink, type FaultOptions } from '../link/faulty.js';
import { TapLink } from '../link/tap.js';
import type { LinkEnd, PacketHandler } from '../link/types.js';
import { Rng } from '../sim/rng.js';
import { formatIpv4Address, parseCidr, prefixMask } from '../wire/ipv4addr.js';

export class UsageError extends Error {}

/** parseArgs options common to the TUN commands. */
export const TUN_OPTIONS = {
  tun: { type: 'string' },
  tap: { type: 'string' },
  mac: { type: 'string' },
  addr: { type: 'string' },
  'host-addr': { type: 'string' },
  mtu: { type: 'string' },
  pcap: { type: 'string' },
  offload: { type: 'string' },
  loss: { type: 'string' },
  reorder: { type: 'string' },
  'reorder-delay': { type: 'string' },
  delay: { type: 'string' },
  jitter: { type: 'string' },
  duplicate: { type: 'string' },
  corrupt: { type: 'string' },
  faults: { type: 'string' },
  seed: { type: 'string' },
  sysctl: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const TUN_HELP = `link options:
  --tun NAME            TUN device to create (needs CAP_NET_ADMIN): IP packets
  --tap NAME            or a TAP device: Ethernet frames, synack answers ARP and resolves
                        the kernel's MAC address with ARP (docs/network.md)
  --mac M               synack's MAC address on a TAP device (default 02:00 + its IPv4 address)
  --addr A/P            synack's own address and prefix, e.g. 198.18.0.1/24
  --host-addr B         the kernel's address on the device (default: the first usable
                        address of the prefix that is not synack's); the kernel then
                        routes the prefix through the device
  --mtu N               device MTU (default 1500)
  --pcap FILE           capture every packet crossing the device (LINKTYPE_RAW for TUN,
                        LINKTYPE_ETHERNET for TAP)
  --offload on|off      virtio-net header with TSO/GSO and checksum offload: the kernel
                        hands over 64 KB super-segments and splits synack's (default off,
                        or $SYNACK_TUN_OFFLOAD); off with --pcap or fault options; TUN only
fault injection on synack's side of the link (seeded, realtime):
  --loss P              drop each packet with probability P (e.g. 0.02)
  --reorder P           hold a packet back by --reorder-delay (default 2*delay or 1ms)
  --delay T, --jitter T extra one-way delay (5ms, 500us, 1s; a bare number is ms)
  --duplicate P, --corrupt P
  --faults in|out|both  directions the faults apply to (default both)
  --seed N              seed for the fault RNG (default: random, printed)
  --sysctl NAME=VALUE   set a stack option named like the Linux sysctl (repeatable),
                        e.g. --sysctl tcp_syncookies=2 --sysctl tcp_rmem=4096,262144,6291456
`;

export interface TunHostConfig {
  /** The device name (TUN or TAP, as `kind` says). */
  tun: string;
  kind: 'tun' | 'tap';
  /** TAP: synack's MAC address. */
  mac: Mac | null;
  addr: number;
  prefixLen: number;
  hostAddr: number;
  mtu: number;
  pcap: string | undefined;
  /** IFF_VNET_HDR + TSO4/CSUM offloads on the device (src/link/tun-vnet.ts). */
  offload: boolean;
  faults: FaultOptions | null;
  faultDirs: 'in' | 'out' | 'both';
  seed: number;
  options: Partial<StackOptions>;
}

type FlagValues = { [K in keyof typeof TUN_OPTIONS]?: (typeof TUN_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof TUN_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function prob(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const p = Number(v);
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new UsageError(`--${name} takes a probability between 0 and 1, got '${v}'`);
  return p;
}

/** "5ms", "500us", "1.5s", "5" (ms) → integer µs. */
export function parseDuration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s)?$/.exec(v.trim());
  if (m === null) throw new UsageError(`--${name} takes a duration like 5ms, 500us or 1s, got '${v}'`);
  const scale = m[2] === 's' ? 1_000_000 : m[2] === 'us' || m[2] === 'µs' ? 1 : 1000;
  return Math.round(Number(m[1]) * scale);
}

/** The first usable address of the prefix that is not `addr` (RFC 3021: /31 has two usable addresses). */
export function defaultHostAddr(addr: number, prefixLen: number): number {
  if (prefixLen >= 32) throw new UsageError('--addr needs a prefix shorter than /32 so the kernel can have an address in it (or give --host-addr)');
  const net = (addr & prefixMask(prefixLen)) >>> 0;
  const size = 2 ** (32 - prefixLen);
  const first = prefixLen === 31 ? net : net + 1;
  const last = prefixLen === 31 ? net + 1 : net + size - 2;
  for (let a = first; a <= last; a++) if (a !== addr) return a >>> 0;
  throw new UsageError(`no usable address left in ${formatIpv4Address(net)}/${prefixLen} for the kernel`);
}

function parseSysctl(list: string[] | undefined): Partial<StackOptions> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim().replace(/^net\.ipv4\./, '');
    if (eq <= 0 || !(key in DEFAULT_STACK_OPTIONS)) {
      throw new UsageError(`--sysctl ${item}: unknown option (known: ${Object.keys(DEFAULT_STACK_OPTIONS).join(', ')})`);
    }
    const def = (DEFAULT_STACK_OPTIONS as unknown as Record<string, unknown>)[key];
    const raw = item.slice(eq + 1).trim();
    if (Array.isArray(def)) {
      const parts = raw.split(/[,\s]+/).map(Number);
      if (parts.length !== def.length || parts.some((x) => !Number.isFinite(x))) throw new UsageError(`--sysctl ${key} takes ${def.length} numbers, got '${raw}'`);
      out[key] = parts;
    } else if (typeof def === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`--sysctl ${key} takes a number, got '${raw}'`);
      out[key] = n;
    } else {
      out[key] = raw;
    }
  }
  return out as Partial<StackOptions>;
}

/**
 * Buffer sizes for a stack on a real device. Linux grows socket buffers on demand
 * (tcp_rmem/tcp_wmem autotuning); synack does not, so it starts where Linux usually ends up
 * for a fast local link.
 */
const TUN_DEFAULT_OPTIONS: Partial<StackOptions> = {
  tcp_rmem: [4096, 1 << 20, 6291456],
  tcp_wmem: [4096, 1 << 20, 4194304],
};

export function parseTunFlags(v: FlagValues, opts: { needAddr: boolean } = { needAddr: true }): TunHostConfig {
  if (!v.tun && !v.tap) throw new UsageError('--tun NAME or --tap NAME is required');
  if (v.tun && v.tap) throw new UsageError('give --tun NAME or --tap NAME, not both');
  let mac: Mac | null = null;
  if (v.mac !== undefined) {
    if (!v.tap) throw new UsageError('--mac needs --tap (a TUN device has no MAC addresses)');
    mac = parseMac(v.mac);
    if (mac === null || (mac[0]! & 1) === 1) throw new UsageError(`--mac takes a unicast MAC address like 02:00:c6:12:00:01, got '${v.mac}'`);
  }
  if (!v.addr) throw new UsageError('--addr A/P is required (synack\'s own address, e.g. 198.18.0.1/24)');
  const cidr = parseCidr(v.addr);
  if (cidr === null) throw new UsageError(`--addr takes an IPv4 address with a prefix length, like 198.18.0.1/24; got '${v.addr}'`);
  let hostAddr: number;
  if (v['host-addr'] !== undefined) {
    const h = parseCidr(v['host-addr'].includes('/') ? v['host-addr'] : `${v['host-addr']}/32`);
    if (h === null) throw new UsageError(`--host-addr takes an IPv4 address, got '${v['host-addr']}'`);
    hostAddr = h.addr;
    if (hostAddr === cidr.addr) throw new UsageError('--host-addr must differ from --addr (one is synack\'s, the other the kernel\'s)');
  } else {
    hostAddr = defaultHostAddr(cidr.addr, cidr.prefixLen);
  }
  const mtu = v.mtu === undefined ? 1500 : Number(v.mtu);
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new UsageError(`--mtu must be an integer 576..65535, got '${v.mtu}'`);
  const f: FaultOptions = {};
  const loss = prob('loss', v.loss); if (loss) f.loss = loss;
  const reorder = prob('reorder', v.reorder); if (reorder) f.reorder = reorder;
  const dup = prob('duplicate', v.duplicate); if (dup) f.duplicate = dup;
  const corrupt = prob('corrupt', v.corrupt); if (corrupt) f.corrupt = corrupt;
  const delay = parseDuration('delay', v.delay); if (delay) f.delay = delay;
  const jitter = parseDuration('jitter', v.jitter); if (jitter) f.jitter = jitter;
  const rd = parseDuration('reorder-delay', v['reorder-delay']); if (rd) f.reorderDelay = rd;
  const dirs = v.faults ?? 'both';
  if (dirs !== 'in' && dirs !== 'out' && dirs !== 'both') throw new UsageError(`--faults takes in, out or both; got '${dirs}'`);
  let seed: number;
  if (v.seed !== undefined) {
    seed = Number(v.seed);
    if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed takes an integer, got '${v.seed}'`);
  } else {
    seed = Math.floor(Math.random() * 2 ** 31);
  }
  void opts;
  const off = v.offload ?? process.env.SYNACK_TUN_OFFLOAD ?? 'off';
  if (!['on', 'off', '1', '0'].includes(off)) throw new UsageError(`--offload takes on or off, got '${off}'`);
  const faults = Object.keys(f).length > 0 ? f : null;
  // A capture should show real checksums and single segments, and the fault wrappers take
  // whole packets: offloads stay off with either.
  const offload = (off === 'on' || off === '1') && v.pcap === undefined && faults === null;
  return {
    tun: (v.tun ?? v.tap)!, kind: v.tap ? 'tap' : 'tun', mac: v.tap ? mac ?? localMac(cidr.addr) : null,
    addr: cidr.addr, prefixLen: cidr.prefixLen, hostAddr, mtu, pcap: v.pcap, offload: offload && !v.tap,
    faults, faultDirs: dirs, seed,
    options: { ...TUN_DEFAULT_OPTIONS, ...parseSysctl(v.sysctl) },
  };
}

/** Streams a pcap file (LINKTYPE_RAW, µs timestamps) as packets go by. */
export class PcapFile {
  private readonly fd: number;
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  /** Wall-clock µs at performance.now() = 0: timestamps are wall time, monotonic within the file. */
  private readonly base = Date.now() * 1000 - Math.round(performance.now() * 1000);
  packets = 0;

  constructor(readonly path: string, snaplen = 65535, linktype = 101) {
    this.fd = openSync(path, 'w');
    const v = this.view;
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, snaplen, true);
    v.setUint32(20, linktype, true); // LINKTYPE_RAW (101): IP packets, as a TUN device carries them; LINKTYPE_ETHERNET (1) for TAP
    this.pos = 24;
  }

  write(packet: Uint8Array): void {
    if (this.pos + 16 + packet.length > this.buf.length) this.flush();
    if (16 + packet.length > this.buf.length) { this.buf = new Uint8Array(16 + packet.length); this.view = new DataView(this.buf.buffer); }
    const us = this.base + Math.round(performance.now() * 1000);
    const v = this.view, p = this.pos;
    v.setUint32(p, Math.floor(us / 1e6), true);
    v.setUint32(p + 4, us % 1e6, true);
    v.setUint32(p + 8, packet.length, true);
    v.setUint32(p + 12, packet.length, true);
    this.buf.set(packet, p + 16);
    this.pos = p + 16 + packet.length;
    this.packets++;
  }

  flush(): void {
    if (this.pos > 0) writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** A LinkEnd facade that hands packets "sent" to it to a receiver: lets a FaultyLink act on arrivals. */
class Deliverer implements LinkEnd {
  handler: PacketHandler | null = null;
  constructor(readonly mtu: number) {}
  send(packet: Uint8Array): void { if (this.handler !== null) this.handler(packet); }
  setReceiver(h: PacketHandler | null): void { this.handler = h; }
}

/** The stack's view of the device: faults (if any) on the way out and/or in, around the capture tap. */
class FaultedLink implements LinkEnd {
  private readonly inSink: Deliverer;
  constructor(
    private readonly inner: LinkEnd,
    readonly out: FaultyLink | null,
    readonly inbound: FaultyLink | null,
    sink: Deliverer,
  ) { this.inSink = sink; }
  get mtu(): number { return this.inner.mtu; }
  send(packet: Uint8Array): void { (this.out ?? this.inner).send(packet); }
  setReceiver(h: PacketHandler | null): void {
    this.inSink.setReceiver(h);
    if (h === null) { this.inner.setReceiver(null); return; }
    const inb = this.inbound;
    this.inner.setReceiver(inb === null ? h : (p) => inb.send(p));
  }
}

export interface TunHost {
  readonly cfg: TunHostConfig;
  readonly stack: Stack;
  /** Node's net API over the stack (attachNet): servers and clients for the commands. */
  readonly net: NetModule;
  /** The realtime driver: one host timer for the stack's deadlines and the fault scheduler. */
  readonly driver: RealtimeNetDriver;
  /** The device: a TUN link, or a TAP device (then `ethernet` is synack's interface on it). */
  readonly tun: TunLink | TapDevice;
  readonly ethernet: EthernetInterface | null;
  readonly faultOut: FaultyLink | null;
  readonly faultIn: FaultyLink | null;
  readonly pcap: PcapFile | null;
  /** Close everything (idempotent): the device disappears, the pcap is flushed. */
  close(): void;
  /** Functions run by close(), before the device goes away (newest first). */
  onClose(fn: () => void): void;
}

/** Open the device, configure the kernel's side, and put a realtime-driven stack on it. */
export function startTunHost(cfg: TunHostConfig): TunHost {
  const tun = cfg.kind === 'tap'
    ? TapDevice.open({ name: cfg.tun, hostAddr: cfg.hostAddr, prefixLen: cfg.prefixLen, mtu: cfg.mtu })
    : TunLink.open({ name: cfg.tun, hostAddr: cfg.hostAddr, prefixLen: cfg.prefixLen, mtu: cfg.mtu, offload: cfg.offload });
  const driver = new RealtimeNetDriver({
    onError: (e) => { process.stderr.write(`synack: internal error: ${(e as Error)?.stack ?? String(e)}\n`); process.exitCode = 70; },
  });
  let pcap: PcapFile | null = null;
  let base: LinkEnd = tun;
  if (cfg.pcap !== undefined) {
    const pf = new PcapFile(cfg.pcap, 65535, cfg.kind === 'tap' ? 1 : 101);
    pcap = pf;
    base = new TapLink(tun, (_dir, p) => pf.write(p));
  }
  let faultOut: FaultyLink | null = null;
  let faultIn: FaultyLink | null = null;
  let link: LinkEnd = base;
  if (cfg.faults !== null) {
    // The driver is the Scheduler: held-back packets are released by the same host timer.
    const rng = new Rng(cfg.seed);
    if (cfg.faultDirs !== 'in') faultOut = new FaultyLink(base, cfg.faults, driver, rng.fork('out'));
    const sink = new Deliverer(cfg.mtu);
    if (cfg.faultDirs !== 'out') faultIn = new FaultyLink(sink, cfg.faults, driver, rng.fork('in'));
    link = new FaultedLink(base, faultOut, faultIn, sink);
  }
  const stack = new Stack({ clock: driver.clock, options: cfg.options, name: 'synack' });
  let ethernet: EthernetInterface | null = null;
  if (cfg.kind === 'tap') ethernet = stack.addEthernetInterface({ name: cfg.tun, mac: cfg.mac ?? localMac(cfg.addr), addr: cfg.addr, prefixLen: cfg.prefixLen, mtu: cfg.mtu, link });
  else stack.addInterface({ addr: cfg.addr, prefixLen: cfg.prefixLen, mtu: cfg.mtu, link });
  const net = attachNet(stack, driver);

  const closers: Array<() => void> = [];
  let closed = false;
  const host: TunHost = {
    cfg, stack, net, driver, tun, ethernet, faultOut, faultIn, pcap,
    onClose(fn) { closers.unshift(fn); },
    close() {
      if (closed) return;
      closed = true;
      for (const fn of closers) { try { fn(); } catch { /* keep closing */ } }
      driver.stop();
      tun.close();
      if (pcap !== null) { try { pcap.close(); } catch { /* ignore */ } }
    },
  };
  tun.onError = (e) => {
    process.stderr.write(`synack: ${e.message}\n`);
    host.close();
    process.exitCode = 1;
  };
  return host;
}

/**
 * Wait (up to maxMs) until no connection needs the device any more: every one is CLOSED or
 * in TIME-WAIT (where the kernel's side has nothing left to say). Lets `connect`/`get`
 * exit without cutting the last ACK or FIN of a close.
 */
export async function settle(host: TunHost, maxMs = 2000): Promise<void> {
  await host.driver.until(() => host.stack.tcbs().every((t) => t.state === 'TIME-WAIT' || t.state === 'CLOSED'), { timeout: maxMs * 1000 });
}

/**
 * Close the host on process exit and on SIGINT/SIGTERM/SIGHUP (then exit 128+signal).
 * `onSignal` runs first, e.g. to print a summary. Returns a function that removes the handlers.
 */
export function closeOnExit(host: TunHost, onSignal?: (sig: NodeJS.Signals) => void): () => void {
  const onExit = (): void => host.close();
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    const h = (): void => {
      try { onSignal?.(sig); } finally {
        host.close();
        process.exit(128 + num);
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  process.on('exit', onExit);
  return () => {
    process.off('exit', onExit);
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** A one-line, human explanation of a startup failure (TunError or usage). */
export function describeStartError(e: unknown): string {
  if (e instanceof TunError || e instanceof UsageError) return e.message;
  return (e as Error)?.message ?? String(e);
}

// ------------------------------------------------------------------ connection table

/** The connection table (src/stack/table.ts), as `ss -tan` shows it. */
export function hostTable(host: TunHost): ConnRow[] {
  return connectionTable(host.stack);
}

export function renderHostTable(host: TunHost, opts: { info?: boolean } = {}): string {
  return renderConnectionTable(hostTable(host), { info: opts.info ?? false });
}

/** Everything a status dump shows: table, counters, link and fault statistics, CPU. */
export function hostStats(host: TunHost): Record<string, unknown> {
  const cpu = process.cpuUsage();
  const drops: Record<string, number> = {};
  for (const [k, v] of host.stack.drops.entries()) drops[k] = v;
  return {
    counters: { ...host.stack.counters },
    drops,
    tun: { ...host.tun.stats },
    ...(host.ethernet !== null ? {
      mac: formatMac(host.ethernet.mac),
      kernelMac: formatMac((host.tun as TapDevice).kernelMac),
      eth: { ...host.ethernet.eth },
      arp: { ...host.ethernet.neighbours.counters },
      neighbours: host.ethernet.neighbourTable(),
    } : {}),
    faultsOut: host.faultOut ? { ...host.faultOut.stats } : null,
    faultsIn: host.faultIn ? { ...host.faultIn.stats } : null,
    cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000 },
    // Event-loop time busy vs idle (ms, cumulative): busy ≈ the stack, http, the device syscalls.
    loop: (({ idle, active }) => ({ idleMs: idle, activeMs: active }))(nodePerformance.eventLoopUtilization()),
    uptimeMs: host.driver.now() / 1000,
  };
}

// ------------------------------------------------------------------ test pattern

/**
 * The deterministic pseudo-random byte stream served by GET /bytes/N and sent by the test
 * tools: xorshift128 (Marsaglia 2003) from a fixed seed, each 32-bit word little-endian.
 * Byte i of the stream is the same whatever sizes it is read in.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class PatternStream {
  // xorshift128 state as int32 (the same bits as uint32; keeps V8 on small integers).
  private x = 123456789; private y = 362436069; private z = 521288629; private w = 88675123;
  private spare = new Uint8Array(4);
  private spareOff = 4;

  /** A generator at the same position. */
  clone(): PatternStream {
    const c = new PatternStream();
    c.x = this.x; c.y = this.y; c.z = this.z; c.w = this.w;
    c.spare.set(this.spare);
    c.spareOff = this.spareOff;
    return c;
  }

  /** The next n bytes of the stream (a fresh array). */
  next(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    while (i < n && this.spareOff < 4) out[i++] = this.spare[this.spareOff++]!;
    const words = (n - i) >>> 2;
    let x = this.x, y = this.y, z = this.z, w = this.w;
    if (LITTLE_ENDIAN && i === 0) {
      // Fast path: whole words straight into an Int32Array view (out starts 4-aligned).
      const v = new Int32Array(out.buffer, 0, words);
      for (let k = 0; k < words; k++) {
        const t = x ^ (x << 11);
        x = y; y = z; z = w;
        w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
        v[k] = w;
      }
    } else {
      const dv = new DataView(out.buffer, i, words * 4);
      for (let k = 0; k < words; k++) {
        const t = x ^ (x << 11);
        x = y; y = z; z = w;
        w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
        dv.setInt32(k * 4, w, true);
      }
    }
    i += words * 4;
    if (i < n) {
      const t = x ^ (x << 11);
      x = y; y = z; z = w;
      w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
      new DataView(this.spare.buffer).setInt32(0, w, true);
      this.spareOff = 0;
      while (i < n) out[i++] = this.spare[this.spareOff++]!;
    }
    this.x = x; this.y = y; this.z = z; this.w = w;
    return out;
  }
}

/**
 * The first `limit` bytes of the pattern stream, kept as they are first generated (4 MiB
 * chunks), the way a file server keeps a file in the page cache: `synack serve` answers
 * GET /bytes/N from it, so the TUN bench measures the stack rather than the generator
 * (xorshift in JavaScript costs ~0.8–1.2 CPU ms per MB on this machine, about as much as
 * the whole TCP send path). Bytes beyond the limit are generated on the fly, continuing from
 * where the cache ends.
 */
export class PatternCache {
  static readonly CHUNK = 4 << 20;
  private readonly chunks: Uint8Array[] = [];
  /** The stream positioned at chunks.length × CHUNK. */
  private readonly tail = new PatternStream();

  constructor(readonly limit: number) {}

  /** Bytes held. */
  get size(): number { return this.chunks.length * PatternCache.CHUNK; }

  /** Chunk i (generating it and those before it), or null when it lies beyond the limit. */
  chunk(i: number): Uint8Array | null {
    while (this.chunks.length <= i) {
      if ((this.chunks.length + 1) * PatternCache.CHUNK > this.limit) return null;
      this.chunks.push(this.tail.next(PatternCache.CHUNK));
    }
    return this.chunks[i]!;
  }

  /** A copy of the generator at the end of a full cache (where chunk() returns null). */
  continuation(): PatternStream { return this.tail.clone(); }

  /** A reader of the stream from byte 0. */
  open(): PatternReader { return new PatternReader(this); }
}

/** Reads the pattern through a PatternCache: views into cached chunks where possible. */
export class PatternReader {
  private pos = 0;
  private gen: PatternStream | null = null;
  constructor(private readonly cache: PatternCache) {}

  /** The next n bytes (a view into the cache, or a fresh array); do not modify them. */
  next(n: number): Uint8Array {
    if (this.gen !== null) { this.pos += n; return this.gen.next(n); }
    const C = PatternCache.CHUNK;
    const i = Math.floor(this.pos / C), off = this.pos % C;
    if (off + n <= C) {
      const c = this.cache.chunk(i);
      if (c !== null) { this.pos += n; return c.subarray(off, off + n); }
    }
    // Across chunks, or past the cached part: assemble.
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      if (this.gen !== null) { out.set(this.gen.next(n - done), done); this.pos += n - done; break; }
      const j = Math.floor(this.pos / C), o = this.pos % C;
      const c = this.cache.chunk(j);
      if (c === null) { this.gen = this.cache.continuation(); continue; }
      const k = Math.min(n - done, C - o);
      out.set(c.subarray(o, o + k), done);
      done += k;
      this.pos += k;
    }
    return out;
  }
}

/** The first n bytes of the pattern stream. */
export function patternBytes(n: number): Uint8Array {
  return new PatternStream().next(n);
}
