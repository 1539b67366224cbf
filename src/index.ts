// The public entry point: `import { … } from 'synack'` (Node). Everything browser-clean
// comes from ./core.js; this adds Node's `net` API over synack (src/net, which needs
// node:stream and node:events).
export * from './core.js';

export {
  attachNet, createNet, Socket, Server,
  SimulationDriver, RealtimeNetDriver, simulationDriver, realtimeTwoHosts, toDriver, runUntilSettled,
} from './net/index.js';
export type {
  NetModule, AttachNetOptions, LoopbackNetOptions, NetDriver, DriverTimer, UntilOptions, RealtimeNetDriverOptions, RealtimeHostsOptions, RealtimeHosts,
  SocketConstructorOpts, TcpSocketConnectOpts, ServerOpts, ListenOptions, AddressInfo, LookupFunction, SystemError,
} from './net/index.js';

// Node's `dgram` API over synack (src/dgram).
export { attachDgram, createDgram, stackLookup, Socket as DgramSocket } from './dgram/index.js';
export type { DgramModule, SocketOptions as DgramSocketOptions, RemoteInfo, BindOptions as DgramBindOptions, DgramLookup } from './dgram/index.js';

// Node's `dns` (lookup, resolve4) over synack's stub resolver (src/node/dns.ts).
export { attachDns, type DnsModule } from './node/dns.js';

// A stack sharded over worker threads (src/shard, docs/sharding.md).
export { ShardedStack, MemoryWire, ShardError, mergeTables, sumCounters } from './shard/sharded.js';
export type { ShardedStackOptions, ShardedLinkOptions, ShardConnRow, ShardStats, ShardContext, ShardServices, WireSteering } from './shard/sharded.js';
export { ShardMap, flowOf, ANY_SHARD } from './shard/partition.js';
