// `synack serve --workers N`: the same services as `synack serve`, on a stack sharded over N
// worker threads (src/shard, docs/sharding.md): one queue of a multi-queue TUN device per
// worker, connections partitioned by their 4-tuple's symmetric hash. The connection table
// (Enter on a terminal, or {"cmd":"table"} with --control) is the merged view of all
// shards, each row with the shard that holds it; {"cmd":"stats"} sums the counters.
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { TUN_OPTIONS, UsageError, parseTunFlags, describeStartError } from './tunhost.js';
import { ShardedStack, type ShardConnRow } from '../shard/sharded.js';
import { renderConnectionTable } from '../stack/table.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';

/** The merged table as ss would print it for each shard in turn. */
export function renderShardTable(rows: readonly ShardConnRow[], shards: number, opts: { info?: boolean } = {}): string {
  let out = '';
  for (let k = 0; k < shards; k++) {
    const mine = rows.filter((r) => r.shard === k);
    out += `shard ${k}: ${mine.filter((r) => !r.listener).length} connections\n` + renderConnectionTable(mine, { info: opts.info ?? false });
  }
  return out;
}

function portFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${name} takes a port 1..65535, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...TUN_OPTIONS, workers: { type: 'string' }, steering: { type: 'string' }, http: { type: 'string' }, echo: { type: 'string' }, discard: { type: 'string' }, backlog: { type: 'string' }, control: { type: 'boolean' } },
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`synack serve: ${(e as Error).message} (synack serve --help for usage)\n`);
    return 2;
  }
  const control = values.control === true;
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n'); };
  let sh: ShardedStack;
  let workers: number;
  try {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers takes an integer 1..64, got '${values.workers}'`);
    if (values.tap !== undefined) throw new UsageError('--workers needs --tun (a multi-queue TUN device; TAP is not sharded)');
    if (values.pcap !== undefined || values.loss || values.reorder || values.delay || values.jitter || values.duplicate || values.corrupt) {
      throw new UsageError('--workers does not combine with --pcap or fault options');
    }
    const services = { http: portFlag('http', values.http), echo: portFlag('echo', values.echo), discard: portFlag('discard', values.discard) };
    if (services.http === undefined && services.echo === undefined && services.discard === undefined) throw new UsageError('nothing to serve: give --http, --echo and/or --discard');
    let backlog: number | undefined;
    if (values.backlog !== undefined) {
      backlog = Number(values.backlog);
      if (!Number.isInteger(backlog) || backlog < 1) throw new UsageError(`--backlog takes a positive integer, got '${values.backlog}'`);
    }
    const steering = values.steering ?? 'auto';
    if (steering !== 'auto' && steering !== 'ebpf' && steering !== 'kernel') throw new UsageError(`--steering takes auto, ebpf or kernel, got '${steering}'`);
    const cfg = parseTunFlags(values);
    sh = await ShardedStack.start({
      workers, addr: formatIpv4Address(cfg.addr), prefixLen: cfg.prefixLen, mtu: cfg.mtu,
      link: { kind: 'tun', name: cfg.tun, hostAddr: formatIpv4Address(cfg.hostAddr), offload: cfg.offload, steering },
      services: { ...services, ...(backlog !== undefined ? { backlog } : {}) },
      options: cfg.options,
    });
  } catch (e) {
    const msg = describeStartError(e);
    if (control) say({ error: msg, code: (e as { code?: string }).code });
    process.stderr.write(`synack serve: ${msg}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  let closing: Promise<void> | null = null;
  const stop = (code: number): void => {
    if (closing !== null) return;
    closing = sh.close().finally(() => process.exit(code));
  };
  for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) process.on(sig, () => stop(128 + num));

  const stats = async (): Promise<Record<string, unknown>> => {
    const per = await sh.stats();
    const cpu = process.cpuUsage();
    return {
      steering: sh.steering,
      counters: await sh.counters(),
      discardBytes: per.reduce((a, s) => a + s.discardBytes, 0),
      shards: per,
      // The whole process (every worker thread): Node 20 has no per-thread CPU clock.
      cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000 },
      // Per thread (Linux /proc): this thread, each shard's, and the rest (GC helpers, libuv).
      threads: sh.threadCpu(),
    };
  };
  const addr = `${formatIpv4Address(parseTunFlags(values).addr)}`;
  if (control) say({ ready: true, pid: process.pid, tun: sh.tunName, addr, workers, steering: sh.steering, steeringError: sh.steeringError });
  const how = sh.steering === 'ebpf' ? 'the kernel steers each flow to its shard (eBPF)' : `wrong-queue packets are forwarded to their shard${sh.steeringError !== null ? ` (no eBPF steering: ${sh.steeringError})` : ''}`;
  process.stderr.write(`synack serve: ${sh.tunName} up; synack ${addr} sharded over ${workers} worker threads, one TUN queue each; ${how}\n`);
  const rl = control || process.stdin.isTTY ? createInterface({ input: process.stdin }) : null;
  rl?.on('line', (line) => {
    if (!control) { void sh.connections().then((rows) => process.stdout.write(renderShardTable(rows, workers, { info: true }))); return; }
    let m: { cmd?: string; id?: unknown };
    try { m = JSON.parse(line); } catch { say({ error: 'bad json' }); return; }
    const reply = (p: Promise<Record<string, unknown>>): void => { p.then((r) => say({ id: m.id, ...r }), (e: Error) => say({ id: m.id, error: e.message })); };
    switch (m.cmd) {
      case 'table': reply(sh.connections().then((table) => ({ table }))); break;
      case 'stats': reply(stats().then((s) => ({ stats: s }))); break;
      case 'quit': say({ id: m.id, bye: true }); stop(0); break;
      default: say({ id: m.id, error: `unknown command ${String(m.cmd)}` });
    }
  });
  if (!control && process.stdin.isTTY) process.stderr.write('press Enter for the connection table, Ctrl-C to stop\n');
  await new Promise<never>(() => { /* until a signal */ });
  return 0;
}
