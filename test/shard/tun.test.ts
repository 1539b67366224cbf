// A stack sharded over 2 worker threads on a multi-queue TUN device (root; CI runs it):
// `synack serve --workers 2` in a fresh namespace, kernel clients (curl, socat) from source
// ports chosen so that both shards own some. Every connection must be accepted by the shard
// owning its 4-tuple (per-shard passive opens match the partition exactly, whatever queue
// the kernel put each SYN on), show up there in the merged table, and carry its bytes exactly.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, ROOT } from '../interop/netns.js';
import { ShardMap } from '../../src/shard/partition.js';
import { PatternStream } from '../../src/cli/tunhost.js';
import { parseIpv4Address } from '../../src/wire/ipv4addr.js';

const gate = interopGate(['curl', 'socat', 'sha256sum']);
const SYNACK = join(ROOT, 'bin', 'synack.js');
if (gate.fail !== null) test('sharded TUN', () => assert.fail(gate.fail!));

type Row = { shard: number; listener: boolean; state: string; localPort: number; peerPort: number | '*' };
type Stats = { counters: Record<string, number>; shards: Array<{ shard: number; counters: Record<string, number>; link: Record<string, number> }> };

for (const steering of ['kernel', 'ebpf'] as const) describe(`sharded stack on a multi-queue TUN device, 2 workers, kernel clients; queues picked by ${steering === 'kernel' ? "the kernel's hash, wrong-queue packets forwarded" : 'the partition (eBPF steering)'}`, { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 180_000 }, () => {
  let ns: Netns;
  let peer: JsonPeer;
  const p = testPrefix(steering === 'kernel' ? 16 : 17);
  const map = new ShardMap(2);
  const kernel = parseIpv4Address(p.kernel)!, synack = parseIpv4Address(p.synack)!;
  /** `count` source ports from `from` upwards that shard `shard` owns towards synack:`port`. */
  const portsOf = (shard: number, port: number, from: number, count: number): number[] => {
    const out: number[] = [];
    for (let sp = from; out.length < count; sp++) if (map.owner(kernel, sp, synack, port) === shard) out.push(sp);
    return out;
  };
  const stats = async (): Promise<Stats> => (await peer.request({ cmd: 'stats' })).stats as Stats;
  const table = async (): Promise<Row[]> => (await peer.request({ cmd: 'table' })).table as Row[];

  before(async () => {
    ns = Netns.create('16w-shard');
    peer = new JsonPeer(ns, SYNACK, ['serve', '--tun', 'sksh0', '--addr', p.cidr, '--host-addr', p.kernel, '--workers', '2', '--steering', steering, '--http', '80', '--echo', '7', '--control']);
    const ready = await peer.ready;
    assert.equal(ready.steering, steering);
  });
  after(() => { peer?.stop(); ns?.destroy(); });

  test('6 curl downloads at once (3 per shard): byte-exact, each accepted by the shard owning its 4-tuple', async () => {
    const N = 3_000_000;
    const h = createHash('sha256');
    const s = new PatternStream();
    h.update(s.next(N));
    const want = h.digest('hex');
    const ports = [...portsOf(0, 80, 42000, 3), ...portsOf(1, 80, 42000, 3)];
    const before0 = await stats();
    const runs = await Promise.all(ports.map((sp) => ns.run('sh', ['-c', `curl -sS --max-time 90 --local-port ${sp} http://${p.synack}/bytes/${N} | sha256sum`], { timeoutMs: 100_000 })));
    for (const r of runs) { assert.equal(r.code, 0, r.stderr); assert.equal(String(r.stdout).slice(0, 64), want); }
    const after0 = await stats();
    const opened = (st: Stats, k: number): number => st.shards[k]!.counters.TcpPassiveOpens!;
    assert.equal(opened(after0, 0) - opened(before0, 0), 3, 'shard 0 accepted exactly its 3 connections');
    assert.equal(opened(after0, 1) - opened(before0, 1), 3, 'shard 1 accepted exactly its 3 connections');
    assert.equal(after0.counters.TcpPassiveOpens! - before0.counters.TcpPassiveOpens!, 6);
    // Whatever the kernel's queue choice, forwarded packets all arrived at their owner.
    const fwd = after0.shards.reduce((a, x) => a + x.link.rxForwarded!, 0), got = after0.shards.reduce((a, x) => a + x.link.rxFromPeers!, 0);
    assert.equal(fwd, got);
    // With the kernel steering by the partition, nothing lands on the wrong queue.
    if (steering === 'ebpf') assert.equal(fwd, 0);
  });

  if (steering === 'kernel') test('a worker ending with its TUN queue still open does not take the process down', async () => {
    // native/tun.c: the reader's close callback used to run after Node had unloaded the addon
    // from the ending worker (SIGSEGV in uv__finish_close).
    const tunJs = JSON.stringify(join(ROOT, 'dist', 'src', 'link', 'tun.js'));
    const script = `
      const { Worker } = await import('node:worker_threads');
      const w = new Worker(\`import { parentPort } from 'node:worker_threads';
        const { TunLink } = await import(\${JSON.stringify(${tunJs})});
        const a = TunLink.open({ name: 'skwt0', hostAddr: '198.18.251.2', prefixLen: 24 });
        a.setReceiver(() => {});
        parentPort.postMessage('open');\`, { eval: true });
      await new Promise((r) => w.once('message', r));
      await w.terminate();
      console.log('ok');`;
    const r = await ns.run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(String(r.stdout).trim(), 'ok');
  });

  test('echo with socat (2 per shard), byte-exact; a live connection is in the merged table on its owner', async () => {
    const ports = [...portsOf(0, 7, 43000, 2), ...portsOf(1, 7, 43000, 2)];
    const inputs = ports.map(() => randomBytes(400_000));
    const runs = await Promise.all(ports.map((sp, i) => ns.run('socat', ['-t', '30', '-', `TCP:${p.synack}:7,sourceport=${sp}`], { input: inputs[i], timeoutMs: 60_000 })));
    runs.forEach((r, i) => { assert.equal(r.code, 0, r.stderr); assert.ok(Buffer.compare(r.stdout, inputs[i]!) === 0, `port ${ports[i]}: ${r.stdout.length} bytes back`); });

    // One held open (stdin not closed): the merged table shows it once, on its owner.
    for (const shard of [0, 1]) {
      const sp = portsOf(shard, 7, 44000, 1)[0]!;
      const proc = ns.spawn('socat', ['-', `TCP:${p.synack}:7,sourceport=${sp}`]);
      try {
        proc.stdin!.write('hello\n');
        let rows: Row[] = [];
        for (let i = 0; i < 500; i++) {
          rows = (await table()).filter((r) => !r.listener && r.peerPort === sp);
          if (rows.length > 0 && rows[0]!.state === 'ESTABLISHED') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(rows.length, 1, `port ${sp}: ${JSON.stringify(rows)}`);
        assert.equal(rows[0]!.shard, shard);
        assert.equal(rows[0]!.state, 'ESTABLISHED');
        const listeners = (await table()).filter((r) => r.listener && r.localPort === 7);
        assert.deepEqual(listeners.map((r) => r.shard).sort(), [0, 1]);
        if (steering === 'ebpf') assert.equal((await stats()).shards.reduce((a, x) => a + x.link.rxForwarded!, 0), 0);
      } finally {
        proc.stdin!.end();
        ns.kill(proc);
      }
    }
  });
});
