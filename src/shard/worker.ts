// The body of one shard: a worker thread running its own Stack (same address, same
// listeners as every other shard) on its own queue — one queue of a multi-queue TUN device,
// or a MessagePort to the main thread's in-memory wire — behind a ShardLink that forwards
// packets of other shards' flows to their owners. The main thread (src/shard/sharded.ts)
// asks it for its connection table and counters, and passes requests to the setup module.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Stack } from '../stack/stack.js';
import type { StackOptions } from '../stack/options.js';
import { connectionTable } from '../stack/table.js';
import { RealtimeNetDriver } from '../net/driver.js';
import { attachNet, type NetModule } from '../net/index.js';
import { TunLink, loadTunAddon } from '../link/tun.js';
import type { LinkEnd } from '../link/types.js';
import { ShardMap } from './partition.js';
import { ShardLink } from './shardlink.js';
import { PortLink } from './portlink.js';
import { startServices, type ShardServices, type RunningServices } from './services.js';
import { ownTid } from './threadcpu.js';

export type WorkerLink =
  | { kind: 'memory'; port: MessagePort }
  | { kind: 'tun'; name: string; hostAddr?: string; offload: boolean; txQueueLen?: number };

export interface WorkerInit {
  shard: number;
  shards: number;
  addr: string;
  prefixLen: number;
  mtu: number;
  link: WorkerLink;
  /** peers[j]: a port to shard j; null at this shard's own index. */
  peers: Array<MessagePort | null>;
  services: ShardServices;
  /** URL of a module whose default export is called with the ShardContext (after the services listen). */
  setup?: string;
  setupData?: unknown;
  options?: Partial<StackOptions>;
}

/** What a setup module gets: the shard's stack and net API, and a way to answer the main thread. */
export interface ShardContext {
  readonly shard: number;
  readonly shards: number;
  readonly stack: Stack;
  readonly net: NetModule;
  readonly driver: RealtimeNetDriver;
  /** The partition. net.connect on this shard picks local ports whose flow the shard owns (Stack.ephemeralFilter). */
  readonly map: ShardMap;
  readonly data: unknown;
  /** Handle ShardedStack.request(shard, msg) / broadcast(msg): the return value (or promise) is the reply. */
  onRequest(fn: (msg: unknown) => unknown): void;
}

export interface ShardStats {
  shard: number;
  counters: Record<string, number>;
  drops: Array<[string, number]>;
  link: ShardLink['stats'];
  queue: Record<string, number>;
  connections: number;
  discardBytes: number;
  /** Event-loop utilisation of this worker since it started (0..1): how busy its thread was. */
  elu: number;
  eluActiveMs: number;
}

type Req = { type: 'req'; id: number; cmd: string; data?: unknown };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const driver = new RealtimeNetDriver({
    onError: (e) => port.postMessage({ type: 'fatal', message: (e as Error)?.stack ?? String(e) }),
  });
  const map = new ShardMap(init.shards);
  let queue: LinkEnd;
  let tun: TunLink | null = null;
  let portLink: PortLink | null = null;
  if (init.link.kind === 'tun') {
    const hostAddr = init.link.hostAddr;
    tun = TunLink.open({
      name: init.link.name, multiQueue: true, offload: init.link.offload, mtu: init.mtu,
      ...(hostAddr !== undefined ? { hostAddr, prefixLen: init.prefixLen } : {}),
      ...(init.link.txQueueLen !== undefined ? { txQueueLen: init.link.txQueueLen } : {}),
    });
    queue = tun;
  } else {
    portLink = new PortLink(init.link.port, init.mtu);
    queue = portLink;
  }
  const link = new ShardLink(queue, map, init.shard, init.peers);
  const stack = new Stack({ clock: driver.clock, options: init.options, name: `shard${init.shard}` });
  stack.addInterface({ addr: init.addr, prefixLen: init.prefixLen, mtu: init.mtu, link });
  driver.addStack(stack);
  // A shard runs until closed: its timers and link deliveries must run even when no net
  // socket or server holds the driver (engine-level users, or an idle moment), or an
  // unref()'d host timer would wait for the next message to wake the worker's loop.
  driver.hold(1);
  const net = attachNet(stack, driver);
  const services: RunningServices = await startServices(net, init.shard, init.addr, init.services);
  const elu0 = performance.eventLoopUtilization();

  let userHandler: ((msg: unknown) => unknown) | null = null;
  // Active opens (net.connect on this shard) take only local ports whose flow this shard owns.
  const me = init.shard;
  stack.ephemeralFilter = (la, lp, ra, rp) => map.owner(la, lp, ra, rp) === me;
  const ctx: ShardContext = {
    shard: init.shard, shards: init.shards, stack, net, driver, map, data: init.setupData,
    onRequest(fn) { userHandler = fn; },
  };
  if (init.setup !== undefined) {
    const mod = await import(init.setup) as { default?: (c: ShardContext) => unknown };
    if (typeof mod.default !== 'function') throw new Error(`${init.setup}: no default export function`);
    await mod.default(ctx);
  }

  const stats = (): ShardStats => {
    const elu = performance.eventLoopUtilization(elu0);
    return {
      shard: init.shard,
      counters: { ...stack.counters } as unknown as Record<string, number>,
      drops: stack.drops.entries(),
      link: { ...link.stats, forwardMessages: link.forwardMessagesSent() },
      queue: tun !== null ? { ...tun.stats } as unknown as Record<string, number> : { rxPackets: portLink!.rxPackets, txPackets: portLink!.txPackets },
      connections: stack.connectionCount,
      discardBytes: services.discardBytes(),
      elu: elu.utilization,
      eluActiveMs: elu.active,
    };
  };

  const close = (): void => {
    services.close();
    link.close();
    tun?.close();
    portLink?.close();
    driver.hold(-1);
    driver.stop();
    for (const p of init.peers) p?.close();
  };

  port.on('message', (m: Req) => {
    if (m?.type !== 'req') return;
    const reply = (result: unknown): void => port.postMessage({ type: 'reply', id: m.id, result });
    const fail = (e: unknown): void => port.postMessage({ type: 'reply', id: m.id, error: { message: (e as Error)?.message ?? String(e), code: (e as { code?: string })?.code } });
    try {
      switch (m.cmd) {
        case 'table': reply(connectionTable(stack)); break;
        case 'stats': reply(stats()); break;
        case 'close': close(); reply(true); port.close(); break;
        case 'steer': {
          // native/tun_steer.c: the kernel picks each packet's queue by the partition (0: its own hash again).
          const lib = loadTunAddon() as { setSteering?: (fd: number, shards: number) => void };
          if (tun === null) throw Object.assign(new Error('steering needs a TUN queue'), { code: 'ERR_INVALID_STATE' });
          if (lib.setSteering === undefined) throw Object.assign(new Error('the TUN addon predates flow steering: rebuild it with `node scripts/build-addon.mjs --verbose`'), { code: 'ERR_TUN_ADDON' });
          lib.setSteering(tun.fd, m.data as number);
          reply(true);
          break;
        }
        case 'user':
          if (userHandler === null) { fail(new Error('no request handler (ShardContext.onRequest)')); break; }
          Promise.resolve(userHandler(m.data)).then(reply, fail);
          break;
        default: fail(new Error(`unknown command ${m.cmd}`));
      }
    } catch (e) { fail(e); }
  });
  port.postMessage({ type: 'ready', tunName: tun?.name, tid: ownTid() });
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ type: 'fatal', message: (e as Error)?.message ?? String(e), code: (e as { code?: string })?.code });
});
