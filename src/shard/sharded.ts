// A stack sharded over worker threads (Node only): N shards, each a Stack with the same
// address and the same listeners in its own worker, connections partitioned by their
// 4-tuple's symmetric hash (src/shard/partition.ts). Each shard has its own queue — one
// queue of a multi-queue TUN device (IFF_MULTI_QUEUE), or a MessagePort to this thread's
// in-memory wire — and forwards packets that arrive on the wrong queue to their owner
// (src/shard/shardlink.ts). From this thread: the merged connection table and counters.
//
//   const sh = await ShardedStack.start({ workers: 2, addr: '198.18.0.2',
//     link: { kind: 'tun', name: 'synack%d', hostAddr: '198.18.0.1' }, services: { http: 80 } });
//   console.log(renderConnectionTable(await sh.connections()));
//   await sh.close();
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { StackOptions } from '../stack/options.js';
import { newCounters, type Counters } from '../stack/counters.js';
import type { ConnRow } from '../stack/table.js';
import type { LinkEnd, PacketHandler } from '../link/types.js';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import { ShardMap, flowOf, ANY_SHARD } from './partition.js';
import { ToeplitzHash, MICROSOFT_RSS_KEY } from './hash.js';
import { PacketBatcher, forEachPacket } from './batch.js';
import type { ShardServices } from './services.js';
import type { WorkerInit, WorkerLink, ShardStats } from './worker.js';
import { allThreadsCpuMs, ownTid } from './threadcpu.js';

export type { ShardStats, ShardContext } from './worker.js';
export type { ShardServices } from './services.js';

/**
 * How the in-memory wire picks the queue of a packet going to the shards (what a NIC's RSS
 * or the kernel's tun queue selection does): 'hash' (default) — like the kernel's TUN
 * (tun_automq_select_queue): a flow goes to the queue it was last sent from, and a flow not
 * seen yet to the queue its hash picks — a Toeplitz hash with a different, non-symmetric key
 * (Microsoft's), which disagrees with the partition as the kernel's own hash does, so the
 * first packets of some flows (a SYN) land on the wrong queue; 'hash-only' — that hash for
 * every packet, never learning (the worst case: every packet of such a flow is forwarded);
 * 'owner' — the partition itself (an RSS NIC with the shards' key, or TUN with eBPF
 * steering: nothing to forward); or a function.
 */
export type WireSteering = 'hash' | 'hash-only' | 'owner' | ((packet: Uint8Array, queues: number) => number);

export type ShardedLinkOptions =
  | { kind: 'memory'; steer?: WireSteering }
  | {
    kind: 'tun';
    /** Device name (`synack%d` lets the kernel number it); created by shard 0, one queue per shard. */
    name: string;
    /** The kernel's address on the device (it then routes the prefix through it). */
    hostAddr?: string;
    /** IFF_VNET_HDR offloads (TSO/GSO, checksums) on every queue. Default false. */
    offload?: boolean;
    /**
     * Who picks a packet's queue: 'ebpf' — a steering program (TUNSETSTEERINGEBPF,
     * native/tun_steer.c) makes the kernel use the partition itself, so nothing arrives on
     * the wrong queue; 'kernel' — the kernel's own flow hash, the shards forward what lands
     * on the wrong queue; 'auto' (default) — 'ebpf' if the program loads, else 'kernel'
     * (ShardedStack.steering says which, steeringError why not).
     */
    steering?: 'auto' | 'ebpf' | 'kernel';
    txQueueLen?: number;
  };

export interface ShardedStackOptions {
  /** Worker threads (shards), 1..64. */
  workers: number;
  /** The stack's address (every shard has it). */
  addr: string;
  prefixLen?: number;
  mtu?: number;
  link: ShardedLinkOptions;
  services?: ShardServices;
  /** A module (path or URL) whose default export each shard calls with its ShardContext. */
  setup?: string | URL;
  setupData?: unknown;
  options?: Partial<StackOptions>;
}

/** A row of the merged connection table: the shard that holds it. */
export type ShardConnRow = ConnRow & { shard: number };

export class ShardError extends Error {
  constructor(message: string, readonly code: string) { super(message); this.name = 'ShardError'; }
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void }

class ShardHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  exited = false;
  /** The worker's thread id (Linux), for its CPU time; null elsewhere. */
  tid: number | null = null;
  constructor(readonly index: number, readonly worker: Worker) {
    worker.on('message', (m: { type: string; id?: number; result?: unknown; error?: { message: string; code?: string } }) => {
      if (m?.type !== 'reply' || m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new ShardError(`shard ${index}: ${m.error.message}`, m.error.code ?? 'ERR_SHARD'));
      else p.resolve(m.result);
    });
    worker.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new ShardError(`shard ${index} exited`, 'ERR_SHARD_EXITED'));
      this.pending.clear();
    });
  }
  request(cmd: string, data?: unknown): Promise<unknown> {
    if (this.exited) return Promise.reject(new ShardError(`shard ${this.index} has exited`, 'ERR_SHARD_EXITED'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'req', id, cmd, data });
    });
  }
}

/**
 * The main thread's end of the in-memory wire: a LinkEnd (attach a Stack to it to play the
 * peer) whose packets go to the shards' queues, steered as WireSteering says.
 */
export class MemoryWire implements LinkEnd {
  private handler: PacketHandler | null = null;
  private readonly batchers: PacketBatcher[];
  private readonly steer: (p: Uint8Array) => number;
  /** Packets sent to each queue. */
  readonly perQueue: number[];

  constructor(private readonly ports: MessagePort[], readonly mtu: number, map: ShardMap, steering: WireSteering = 'hash') {
    const n = ports.length;
    this.perQueue = new Array<number>(n).fill(0);
    this.batchers = ports.map((p) => new PacketBatcher(p));
    // 'hash': the queue each flow was last sent from (tun_flow_update), keyed by the
    // partition's symmetric hash (the kernel uses its own symmetric hash the same way).
    const learn = steering === 'hash' ? new Map<number, number>() : null;
    const scratch = { protocol: 0, src: 0, dst: 0, srcPort: 0, dstPort: 0 };
    ports.forEach((p, q) => {
      p.on('message', (buf: unknown) => {
        const h = this.handler;
        forEachPacket(buf, (pkt, flags) => {
          if (learn !== null) {
            const f = flowOf(pkt, scratch);
            if (f !== null) {
              if (learn.size >= 65536) learn.clear();
              learn.set(map.hash(f.src, f.srcPort, f.dst, f.dstPort), q);
            }
          }
          if (h !== null) { if (flags === 0) h(pkt); else h(pkt, flags); }
        });
      });
    });
    if (typeof steering === 'function') this.steer = (p) => steering(p, n);
    else if (steering === 'owner') this.steer = (p) => { const o = map.ownerOfPacket(p); return o === ANY_SHARD ? 0 : o; };
    else {
      const other = new ToeplitzHash(MICROSOFT_RSS_KEY);
      this.steer = (p) => {
        const f = flowOf(p, scratch);
        if (f === null) return 0;
        if (learn !== null) {
          const q = learn.get(map.hash(f.src, f.srcPort, f.dst, f.dstPort));
          if (q !== undefined) return q;
        }
        // Scale the 32-bit hash to [0, n) as the kernel does (((u64)hash * n) >> 32).
        return Math.floor((other.hash(f.src, f.dst, f.srcPort, f.dstPort) * n) / 4294967296);
      };
    }
  }

  send(packet: Uint8Array, flags = 0): void {
    if (packet.length > this.mtu) return;
    let q = this.steer(packet);
    if (!(q >= 0 && q < this.batchers.length)) q = 0;
    this.perQueue[q]!++;
    this.batchers[q]!.add(packet, flags);
  }

  setReceiver(handler: PacketHandler | null): void { this.handler = handler; }

  close(): void { for (const p of this.ports) p.close(); }
}

function workerUrl(): URL { return new URL('./worker.js', import.meta.url); }

export class ShardedStack {
  /** The partition (flow → shard). */
  readonly map: ShardMap;
  /** In-memory mode: the wire's end in this thread. */
  readonly wire: MemoryWire | null;
  /** TUN mode: the device's name. */
  readonly tunName: string | null;
  /** Who steers packets to queues (TUN: 'ebpf' or 'kernel'; memory: the wire's steering). */
  steering: 'ebpf' | 'kernel' | 'wire' = 'wire';
  /** Why 'auto' steering fell back to 'kernel' (the program did not load), else null. */
  steeringError: string | null = null;
  private closed = false;

  private constructor(private readonly handles: ShardHandle[], map: ShardMap, wire: MemoryWire | null, tunName: string | null) {
    this.map = map;
    this.wire = wire;
    this.tunName = tunName;
  }

  get shards(): number { return this.handles.length; }

  /** Start N workers; resolves when every shard listens. Rejects (and stops them all) if one fails. */
  static async start(o: ShardedStackOptions): Promise<ShardedStack> {
    const n = o.workers;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new ShardError(`workers must be an integer 1..64, got ${n}`, 'ERR_OUT_OF_RANGE');
    if (parseIpv4Address(o.addr) === null) throw new ShardError(`invalid IPv4 address ${o.addr}`, 'ERR_INVALID_IP_ADDRESS');
    const map = new ShardMap(n);
    const mtu = o.mtu ?? 1500;
    const prefixLen = o.prefixLen ?? 24;
    // A channel per pair of shards, for forwarded packets.
    const peers: Array<Array<MessagePort | null>> = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null));
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const ch = new MessageChannel();
        peers[i]![j] = ch.port1;
        peers[j]![i] = ch.port2;
      }
    }
    const wirePorts: MessagePort[] = [];
    const workerPorts: MessagePort[] = [];
    if (o.link.kind === 'memory') {
      for (let i = 0; i < n; i++) { const ch = new MessageChannel(); wirePorts.push(ch.port1); workerPorts.push(ch.port2); }
    }
    const setup = o.setup === undefined ? undefined : o.setup instanceof URL ? o.setup.href : o.setup.startsWith('file:') ? o.setup : new URL(o.setup, 'file://' + process.cwd() + '/').href;
    const handles: ShardHandle[] = [];
    const spawn = (i: number, link: WorkerLink): Promise<{ tunName?: string; tid?: number | null }> => {
      const init: WorkerInit = {
        shard: i, shards: n, addr: o.addr, prefixLen, mtu, link, peers: peers[i]!, services: o.services ?? {},
        ...(setup !== undefined ? { setup } : {}), ...(o.setupData !== undefined ? { setupData: o.setupData } : {}),
        ...(o.options !== undefined ? { options: o.options } : {}),
      };
      const transfer = peers[i]!.filter((p): p is MessagePort => p !== null);
      if (link.kind === 'memory') transfer.push(link.port);
      const w = new Worker(fileURLToPath(workerUrl()), { workerData: init, transferList: transfer, name: `synack-shard-${i}` });
      handles[i] = new ShardHandle(i, w);
      return new Promise((resolve, reject) => {
        const onMsg = (m: { type: string; tunName?: string; tid?: number | null; message?: string; code?: string }): void => {
          if (m?.type === 'ready') { w.off('message', onMsg); w.off('error', reject); handles[i]!.tid = m.tid ?? null; resolve(m); }
          else if (m?.type === 'fatal') { w.off('message', onMsg); reject(new ShardError(`shard ${i}: ${m.message}`, m.code ?? 'ERR_SHARD')); }
        };
        w.on('message', onMsg);
        w.once('error', reject);
        w.once('exit', (code) => reject(new ShardError(`shard ${i} exited (${code}) while starting`, 'ERR_SHARD_EXITED')));
      });
    };
    try {
      let tunName: string | null = null;
      if (o.link.kind === 'tun') {
        const base = { kind: 'tun' as const, offload: o.link.offload === true, ...(o.link.txQueueLen !== undefined ? { txQueueLen: o.link.txQueueLen } : {}) };
        // Shard 0 creates and configures the device; the others attach one queue each, in
        // order: the kernel numbers queues by attachment, and eBPF steering needs shard k on queue k.
        const r0 = await spawn(0, { ...base, name: o.link.name, ...(o.link.hostAddr !== undefined ? { hostAddr: o.link.hostAddr } : {}) });
        tunName = r0.tunName ?? o.link.name;
        for (let k = 1; k < n; k++) await spawn(k, { ...base, name: tunName });
      } else {
        await Promise.all(Array.from({ length: n }, (_, i) => spawn(i, { kind: 'memory', port: workerPorts[i]! })));
      }
      const wire = o.link.kind === 'memory' ? new MemoryWire(wirePorts, mtu, map, o.link.steer) : null;
      for (const h of handles) if (h !== undefined) h.worker.on('error', () => { /* reported through requests rejecting */ });
      const sh = new ShardedStack(handles, map, wire, tunName);
      if (o.link.kind === 'tun') {
        const want = o.link.steering ?? 'auto';
        sh.steering = 'kernel';
        if (want !== 'kernel' && n > 1) {
          try {
            await handles[0]!.request('steer', n);
            sh.steering = 'ebpf';
          } catch (e) {
            if (want === 'ebpf') throw e;
            sh.steeringError = (e as Error).message;
          }
        }
      }
      return sh;
    } catch (e) {
      await Promise.all(handles.filter(Boolean).map((h) => h.worker.terminate()));
      for (const p of wirePorts) p.close();
      throw e;
    }
  }

  /** Every shard's connection table, merged: listeners (one per shard, like SO_REUSEPORT sockets in ss) first, then connections by endpoints. */
  async connections(): Promise<ShardConnRow[]> {
    const tables = await Promise.all(this.handles.map((h) => h.request('table') as Promise<ConnRow[]>));
    return mergeTables(tables);
  }

  /** Per-shard statistics: counters, drops, queue and forwarding figures, event-loop utilisation. */
  async stats(): Promise<ShardStats[]> {
    return Promise.all(this.handles.map((h) => h.request('stats') as Promise<ShardStats>));
  }

  /**
   * CPU milliseconds so far of this process's threads (Linux; null elsewhere): this thread
   * (`main`), each shard's worker thread, and the rest (V8's GC and compiler helper threads,
   * libuv's pool). Node 20 has no per-thread CPU clock; src/shard/threadcpu.ts reads /proc.
   */
  threadCpu(): { mainMs: number; shardMs: number[]; otherMs: number } | null {
    const all = allThreadsCpuMs();
    const me = ownTid();
    if (all.size === 0 || me === null) return null;
    const shardMs = this.handles.map((h) => (h.tid !== null ? all.get(h.tid) ?? 0 : 0));
    let total = 0;
    for (const ms of all.values()) total += ms;
    const mainMs = all.get(me) ?? 0;
    return { mainMs, shardMs, otherMs: total - mainMs - shardMs.reduce((a, x) => a + x, 0) };
  }

  /** The counters of all shards, summed (nstat over the whole stack). */
  async counters(): Promise<Counters> {
    return sumCounters((await this.stats()).map((s) => s.counters));
  }

  /** Ask shard `shard`'s setup module (ShardContext.onRequest). */
  request(shard: number, msg: unknown): Promise<unknown> {
    const h = this.handles[shard];
    if (h === undefined) return Promise.reject(new ShardError(`no shard ${shard}`, 'ERR_OUT_OF_RANGE'));
    return h.request('user', msg);
  }

  /** Ask every shard; the replies in shard order. */
  broadcast(msg: unknown): Promise<unknown[]> {
    return Promise.all(this.handles.map((h) => h.request('user', msg)));
  }

  /** Stop every shard (services, queues, timers) and end the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.handles.map(async (h) => {
      const t = setTimeout(() => { void h.worker.terminate(); }, 2000);
      try { await h.request('close'); } catch { /* already gone */ }
      clearTimeout(t);
      await h.worker.terminate();
    }));
    this.wire?.close();
  }
}

/** The union of per-shard tables, each row tagged with its shard, ordered as connectionTable orders one. */
export function mergeTables(tables: ConnRow[][]): ShardConnRow[] {
  const rows: ShardConnRow[] = [];
  tables.forEach((t, shard) => { for (const r of t) rows.push({ ...r, shard }); });
  const a = (s: string): number => parseIpv4Address(s) ?? 0;
  rows.sort((x, y) => (x.listener === y.listener ? 0 : x.listener ? -1 : 1)
    || (x.listener ? x.localPort - y.localPort || a(x.localAddr) - a(y.localAddr) || x.shard - y.shard
      : a(x.localAddr) - a(y.localAddr) || x.localPort - y.localPort || a(x.peerAddr) - a(y.peerAddr) || (x.peerPort as number) - (y.peerPort as number)));
  return rows;
}

/** Counters summed over shards (every counter is a count or a gauge of the shard's own connections). */
export function sumCounters(list: ReadonlyArray<Record<string, number>>): Counters {
  const out = newCounters() as unknown as Record<string, number>;
  for (const c of list) for (const k of Object.keys(out)) out[k]! += c[k] ?? 0;
  return out as unknown as Counters;
}
