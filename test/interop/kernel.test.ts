// The interop suite: synack (`synack serve`, `get`, `connect`: Node's http and net API over
// synack on a TUN device) against the Linux kernel's TCP (curl, socat, python3 -m
// http.server, ss, tshark), inside a fresh network namespace with addresses from
// 198.18.0.0/15. Runs as root (CI runs it as root); outside CI without root it skips.
//
// Layout: one namespace; each synack process has its own TUN device and /24, the kernel's
// address on it is .2 and synack's .1; kernel servers listen on 0.0.0.0 in the namespace.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, ROOT, type RunResult } from './netns.js';
import { patternBytes, PatternStream } from '../../src/cli/tunhost.js';

const gate = interopGate(['curl', 'socat', 'python3', 'ss', 'tshark']);
const SYNACK = join(ROOT, 'bin', 'synack.js');
const FLOOD = join(ROOT, 'scripts', 'interop-synflood.py');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function patternSha(n: number): string {
  const h = createHash('sha256');
  const s = new PatternStream();
  for (let left = n; left > 0;) { const k = Math.min(left, 1 << 20); h.update(s.next(k)); left -= k; }
  return h.digest('hex');
}

if (gate.fail !== null) test('interop (kernel TCP ↔ synack)', () => assert.fail(gate.fail!));

interface Row { ssState: string; localAddr: string; localPort: number; peerAddr: string; peerPort: number | '*'; recvQ: number; sendQ: number }

/** What one suite of transfers runs with: the server's prefix and the client commands' fault flags. */
interface Setup {
  label: string;
  prefixIndex: number;
  faults: string[];
  big: number; post: number; echo: number; get: number; parallel: number;
}

describe('interop: kernel TCP ↔ synack over TUN', { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 280_000 }, () => {
  let ns: Netns;
  let work: string;
  let nextClient = 40;
  const peers: JsonPeer[] = [];

  before(() => {
    ns = Netns.create();
    work = mkdtempSync(join(tmpdir(), 'synack-interop-'));
  });

  after(() => {
    for (const p of peers) p.stop();
    ns?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Start `synack serve` on its own device and /24. */
  async function serve(prefixIndex: number, extra: string[] = []): Promise<{ peer: JsonPeer; addr: string; kernel: string; dev: string }> {
    const p = testPrefix(prefixIndex);
    const dev = `sks${prefixIndex}`;
    const peer = new JsonPeer(ns, SYNACK, ['serve', '--tun', dev, '--addr', p.cidr, '--http', '80', '--echo', '7', '--discard', '9', '--control', ...extra]);
    peers.push(peer);
    await peer.ready;
    return { peer, addr: p.synack, kernel: p.kernel, dev };
  }

  /** Run a synack client command (get/connect) on a fresh device and /24; returns the kernel's address there. */
  function client(cmd: 'get' | 'connect', args: (kernel: string) => string[], faults: string[], input?: Uint8Array | string, timeoutMs = 120_000): Promise<RunResult & { kernel: string }> {
    const p = testPrefix(nextClient);
    const dev = `skc${nextClient++}`;
    return ns.run(process.execPath, [SYNACK, cmd, ...args(p.kernel), '--tun', dev, '--addr', p.cidr, ...faults], { input, timeoutMs }).then((r) => ({ ...r, kernel: p.kernel }));
  }

  const sh = (script: string, input?: Uint8Array | string, timeoutMs = 120_000): Promise<RunResult> => ns.run('sh', ['-c', script], { input, timeoutMs });

  async function waitListening(port: number): Promise<void> {
    for (let i = 0; i < 250; i++) {
      const r = ns.execSync('ss', ['-Htln', `sport = :${port}`]);
      if (String(r.stdout).includes(`:${port}`)) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`nothing listens on :${port}`);
  }

  // ------------------------------------------------------------------ the transfers

  function transfers(s: Setup): void {
    describe(s.label, () => {
      let srv: Awaited<ReturnType<typeof serve>>;
      const url = (path: string): string => `http://${srv.addr}${path}`;
      before(async () => { srv = await serve(s.prefixIndex, s.faults); });
      after(() => srv?.peer.stop());

      test('kernel curl → synack HTTP: GET / shows the live connection table', async () => {
        const r = await ns.run('curl', ['-sS', '--max-time', '60', url('/')]);
        assert.equal(r.code, 0, r.stderr);
        const page = r.stdout.toString();
        assert.match(page, /LISTEN\s+0\s+511\s+\S+:80/);
        assert.match(page, /ESTAB/); // the connection that fetched it
      });

      test(`kernel curl → synack HTTP: ${s.big / 1e6} MB, sha256 matches x-sha256`, async () => {
        const hdr = join(work, `h-${s.prefixIndex}`);
        const r = await sh(`curl -sS --max-time 200 -D ${hdr} ${url(`/bytes/${s.big}`)} | sha256sum && cat ${hdr}`, undefined, 220_000);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.toString();
        const digest = out.slice(0, 64);
        assert.equal(digest, patternSha(s.big));
        assert.match(out, new RegExp(`x-sha256: ${digest}`, 'i'));
        assert.match(out, new RegExp(`content-length: ${s.big}`, 'i'));
      });

      test('kernel curl → synack HTTP: keep-alive, 5 requests on one connection', async () => {
        const before = await opens(srv.peer);
        const urls = [1, 2, 3, 4, 5].map((i) => url(`/bytes/${i * 10_000}`));
        const r = await ns.run('curl', ['-sS', '--max-time', '60', '-w', '%{num_connects} %{size_download}\\n', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.toString().trim().split('\n'), ['1 10000', '0 20000', '0 30000', '0 40000', '0 50000']);
        assert.equal((await opens(srv.peer)) - before, 1);
      });

      test(`kernel curl → synack HTTP: ${s.parallel} requests in parallel, each byte-exact`, async () => {
        const dir = mkdtempSync(join(work, 'par-'));
        const before = await opens(srv.peer);
        const sizes = Array.from({ length: s.parallel }, (_, i) => 20_000 + i * 997);
        const args = ['-sS', '--max-time', '120', '-Z', '--parallel-max', String(s.parallel), '--parallel-immediate'];
        sizes.forEach((n, i) => args.push('-o', join(dir, `f${i}`), url(`/bytes/${n}`)));
        const r = await ns.run('curl', args, { timeoutMs: 150_000 });
        assert.equal(r.code, 0, r.stderr);
        const { readFileSync } = await import('node:fs');
        sizes.forEach((n, i) => assert.equal(sha(readFileSync(join(dir, `f${i}`))), sha(patternBytes(n)), `file ${i}`));
        assert.ok((await opens(srv.peer)) - before >= s.parallel, 'one connection per request');
      });

      test(`kernel curl → synack HTTP: POST /sha256 of ${s.post / 1e6} MB`, async () => {
        const file = join(work, `post-${s.prefixIndex}`);
        const data = patternBytes(s.post);
        writeFileSync(file, data);
        const r = await ns.run('curl', ['-sS', '--max-time', '200', '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', url('/sha256')], { timeoutMs: 220_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString().trim(), sha(data));
      });

      test(`kernel socat → synack echo: ${s.echo / 1e6} MB byte-exact; the kernel half-closes, synack finishes sending`, async () => {
        const data = patternBytes(s.echo);
        const r = await ns.run('socat', ['-t', '100', '-', `TCP:${srv.addr}:7`], { input: data, timeoutMs: 150_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.length, data.length);
        assert.equal(sha(r.stdout), sha(data));
      });

      test(`kernel socat → synack discard: ${s.post / 1e6} MB`, async () => {
        const before = (await stats(srv.peer)).tun.rxBytes;
        const r = await ns.run('socat', ['-u', '-', `TCP:${srv.addr}:9`], { input: patternBytes(s.post), timeoutMs: 150_000 });
        assert.equal(r.code, 0, r.stderr);
        // socat exits once the kernel has the data; the kernel may still be sending it.
        await pollUntil(async () => (await stats(srv.peer)).tun.rxBytes - before >= s.post, 60_000);
      });

      test(`synack get → kernel python3 -m http.server: ${s.get / 1e6} MB byte-exact`, async () => {
        const dir = mkdtempSync(join(work, 'www-'));
        const data = patternBytes(s.get);
        writeFileSync(join(dir, 'file.bin'), data);
        const port = 8000 + s.prefixIndex;
        const server = ns.spawn('python3', ['-m', 'http.server', String(port), '--bind', '0.0.0.0', '--directory', dir]);
        try {
          await waitListening(port);
          const r = await client('get', (k) => [`http://${k}:${port}/file.bin`, '--sha256', '-o', join(dir, 'got.bin')], s.faults, undefined, 200_000);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, new RegExp(`sha256 ${sha(data)}`));
          assert.match(r.stderr, /200 OK/);
        } finally {
          ns.kill(server);
        }
      });

      test(`synack connect → kernel socat (EXEC:cat): ${s.echo / 1e6} MB; synack half-closes, the kernel finishes sending`, async () => {
        const port = 7100 + s.prefixIndex;
        const server = ns.spawn('socat', ['-t', '100', `TCP-LISTEN:${port},reuseaddr`, 'EXEC:cat']);
        try {
          await waitListening(port);
          const data = patternBytes(s.echo);
          const r = await client('connect', (k) => [k, String(port), '-q'], s.faults, data, 200_000);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.length, data.length);
          assert.equal(sha(r.stdout), sha(data));
        } finally {
          ns.kill(server);
        }
      });

      if (s.faults.length > 0) {
        test('the faults really happened on synack\'s side (drops both ways, retransmissions)', async () => {
          const st = await stats(srv.peer);
          assert.ok(st.faultsOut!.dropped > 0 && st.faultsIn!.dropped > 0 && st.faultsOut!.reordered > 0, JSON.stringify([st.faultsOut, st.faultsIn]));
          assert.ok(st.counters.TcpRetransSegs! > 0);
        });
      }
    });
  }

  transfers({ label: 'clean link', prefixIndex: 0, faults: [], big: 100_000_000, post: 20_000_000, echo: 4_000_000, get: 20_000_000, parallel: 50 });
  transfers({ label: '2% loss + 1% reordering on synack\'s side (both directions)', prefixIndex: 1, faults: ['--loss', '0.02', '--reorder', '0.01', '--seed', '2'], big: 10_000_000, post: 4_000_000, echo: 2_000_000, get: 4_000_000, parallel: 50 });
  transfers({ label: '10% loss + 1% reordering on synack\'s side (both directions)', prefixIndex: 2, faults: ['--loss', '0.10', '--reorder', '0.01', '--seed', '10'], big: 1_000_000, post: 500_000, echo: 300_000, get: 500_000, parallel: 20 });

  // ------------------------------------------------------------------ refusals, cookies, options, tables

  describe('connection management', () => {
    let srv: Awaited<ReturnType<typeof serve>>;
    before(async () => { srv = await serve(3); });
    after(() => srv?.peer.stop());

    test('kernel connect to a closed synack port → connection refused', async () => {
      const r = await ns.run('socat', ['-u', '-', `TCP:${srv.addr}:81`], { input: 'x' });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Connection refused/); // ECONNREFUSED: synack answered the SYN with RST
      const c = await ns.run('curl', ['-sS', '--max-time', '10', `http://${srv.addr}:81/`]);
      assert.equal(c.code, 7, c.stderr); // curl: "Failed to connect"
      assert.ok(c.ms < 5000, 'refused at once, not timed out');
    });

    test('synack connect to a closed kernel port → ECONNREFUSED', async () => {
      const r = await client('connect', (k) => [k, '7999'], [], 'x');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ECONNREFUSED/);
    });

    test('tshark on the TUN devices: MSS, window scale, SACK-permitted, timestamps both ways; no bad checksums', async () => {
      const pcap = join(work, 'capture.pcapng');
      const cap = ns.spawn('tshark', ['-i', 'any', '-w', pcap, '-f', 'tcp']);
      let capErr = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`tshark did not start: ${capErr}`)), 15_000);
        // tshark 4 says "Capture started" once dumpcap writes; older ones only "Capturing on".
        cap.stderr!.on('data', (d: Buffer) => { capErr += d.toString(); if (/Capture started|File: /.test(capErr)) { clearTimeout(t); resolve(); } });
        cap.on('exit', () => { clearTimeout(t); reject(new Error(`tshark exited: ${capErr}`)); });
      });
      await new Promise((res) => setTimeout(res, 300)); // dumpcap's filter is attached a moment later
      // Kernel → synack (the kernel's SYN, synack's SYN-ACK) and synack → kernel (synack's SYN, the kernel's SYN-ACK).
      const a = await ns.run('curl', ['-sS', '--max-time', '20', '-o', '/dev/null', `http://${srv.addr}/bytes/200000`]);
      assert.equal(a.code, 0, a.stderr);
      const port = 7200;
      const server = ns.spawn('socat', ['-t', '10', `TCP-LISTEN:${port},reuseaddr`, 'EXEC:cat']);
      await waitListening(port);
      const b = await client('connect', (k) => [k, String(port), '-q'], [], patternBytes(100_000));
      ns.kill(server);
      assert.equal(b.code, 0, b.stderr);
      await new Promise((res) => setTimeout(res, 300));
      ns.kill(cap, 'SIGINT');
      await new Promise((res) => cap.exitCode !== null ? res(null) : cap.on('exit', res));

      const fields = ['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
        'tcp.options.sack_perm', 'tcp.options.timestamp.tsval', 'tcp.checksum.status', 'ip.checksum.status'];
      const r = ns.execSync('tshark', ['-r', pcap, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
      assert.equal(r.code, 0, r.stderr);
      const rows = String(r.stdout).trim().split('\n').map((l) => l.split('|'));
      assert.ok(rows.length > 50, `captured ${rows.length} packets`);
      // With SYNACK_TUN_OFFLOAD=on both sides leave TCP checksums to the device (partial,
      // as a capture on any NIC with tx-checksumming shows them): only IP checksums are checked.
      const offload = process.env.SYNACK_TUN_OFFLOAD === 'on';
      const bad = rows.filter((x) => (!offload && x[10] === '0') || x[11] === '0');
      assert.deepEqual(bad, [], 'packets with bad checksums');
      const syns = rows.filter((x) => x[4] === '1');
      const kernelSyn = syns.find((x) => x[0] !== srv.addr && x[1] === srv.addr && x[5] === '0');
      const synackSynAck = syns.find((x) => x[0] === srv.addr && x[5] === '1');
      const synackSyn = syns.find((x) => x[5] === '0' && x[1] !== srv.addr && x[3] === String(port));
      const kernelSynAck = syns.find((x) => x[5] === '1' && x[2] === String(port));
      for (const [name, x] of [['kernel SYN', kernelSyn], ['synack SYN-ACK', synackSynAck], ['synack SYN', synackSyn], ['kernel SYN-ACK', kernelSynAck]] as const) {
        assert.ok(x !== undefined, `${name} captured`);
        assert.equal(x[6], '1460', `${name}: MSS`);
        assert.match(x[7]!, /^\d+$/, `${name}: window scale`);
        assert.ok(x[8] !== '', `${name}: SACK permitted`);
        assert.match(x[9]!, /^\d+$/, `${name}: timestamps`);
      }
      // synack's shift follows its receive buffer (tcp_rmem max 6 MB → 7, as Linux's default).
      assert.equal(synackSynAck![7], '7');
      assert.equal(synackSyn![7], '7');
    });

    test('a full synack SYN backlog with SYN cookies on: the kernel client still connects', async () => {
      const c = await serve(4, ['--backlog', '8', '--sysctl', 'tcp_max_syn_backlog=8', '--sysctl', 'tcp_syncookies=1']);
      try {
        const prefix = c.addr.split('.').slice(0, 3).join('.');
        const f = await ns.run('python3', [FLOOD, c.addr, '80', prefix, '100', '40']);
        assert.equal(f.code, 0, f.stderr);
        const table = (await c.peer.request({ cmd: 'table' })).table as Row[];
        assert.equal(table.filter((r) => r.ssState === 'SYN-RECV').length, 8, 'the SYN queue is full');
        const r = await ns.run('curl', ['-sS', '--max-time', '20', `http://${c.addr}/bytes/100000`, '-o', '/dev/null', '-w', '%{http_code} %{size_download}']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), '200 100000');
        const st = await stats(c.peer);
        assert.ok(st.counters.TcpExtSyncookiesSent! >= 33, `cookies sent: ${st.counters.TcpExtSyncookiesSent}`);
        assert.ok(st.counters.TcpExtSyncookiesRecv! >= 1, 'the kernel completed a cookie handshake');
      } finally {
        c.peer.stop();
      }
    });

    test('ss -tan in the namespace agrees with synack\'s own table; the side that closes first holds TIME-WAIT', async () => {
      // Three open connections from the kernel to synack's echo service.
      const held = [0, 1, 2].map(() => ns.spawn('socat', ['-t', '5', '-', `TCP:${srv.addr}:7`]));
      const kernelPorts = await pollKernelPorts(srv.addr, '7', 3);
      const table = (await srv.peer.request({ cmd: 'table' })).table as Row[];
      for (const kp of kernelPorts) {
        const mine = table.find((r) => r.localPort === 7 && r.peerPort === kp && r.peerAddr === srv.kernel);
        assert.equal(mine?.ssState, 'ESTAB', `synack's row for kernel port ${kp}`);
        assert.equal(kernelState(srv.addr, 7, kp), 'ESTAB');
      }
      // The kernel closes first (end of socat's stdin → FIN): the kernel holds TIME-WAIT,
      // synack goes CLOSE-WAIT → LAST-ACK → CLOSED.
      for (const p of held) p.stdin!.end();
      await Promise.all(held.map((p) => new Promise((res) => p.exitCode !== null ? res(null) : p.on('exit', res))));
      let lastTable: Row[] = [];
      await pollUntil(async () => {
        const t = (await srv.peer.request({ cmd: 'table' })).table as Row[];
        lastTable = t;
        return kernelPorts.every((kp) => !t.some((r) => r.localPort === 7 && r.peerPort === kp));
      }, 10_000, () => `synack still lists: ${JSON.stringify(lastTable.filter((r) => r.localPort === 7))}; kernel: ${kernelPorts.map((kp) => `${kp}=${kernelState(srv.addr, 7, kp)}`).join(' ')}`);
      for (const kp of kernelPorts) assert.equal(kernelState(srv.addr, 7, kp), 'TIME-WAIT');

      // synack closes first (HTTP with Connection: close: Node's server ends the connection
      // after the response): synack holds TIME-WAIT and the kernel has forgotten it.
      // socat keeps its sending side open (stdin stays open for 0.5 s), so synack's FIN is
      // certainly first; with curl, which closes as soon as it has the body, the two FINs can
      // cross on a loaded machine — a simultaneous close, both sides in TIME-WAIT.
      // Above the kernel's ephemeral range (ip_local_port_range 32768-60999), so the bind cannot
      // collide with a port an earlier connection in this namespace holds (seen once: EADDRINUSE).
      const cport = 61000 + Math.floor(Math.random() * 4000);
      const req = 'GET /bytes/1000 HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n';
      const r = await ns.run('sh', ['-c', `(printf '${req}'; sleep 0.5) | socat -t 0.5 - TCP:${srv.addr}:80,sourceport=${cport}`]);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.match(r.stdout.toString(), /^HTTP\/1\.1 200/);
      lastTable = (await srv.peer.request({ cmd: 'table' })).table as Row[];
      await pollUntil(async () => kernelState(srv.addr, 80, cport) === null, 10_000, () => `kernel still in ${kernelState(srv.addr, 80, cport)}; synack: ${JSON.stringify(lastTable)}`);
      const t2 = (await srv.peer.request({ cmd: 'table' })).table as Row[];
      assert.equal(t2.find((x) => x.localPort === 80 && x.peerPort === cport)?.ssState, 'TIME-WAIT');

      // And every connection each side still lists is listed by the other (TIME-WAIT excepted,
      // being one-sided by design), in the mirrored state.
      const mirror: Record<string, string> = { ESTAB: 'ESTAB', 'FIN-WAIT-1': 'CLOSE-WAIT', 'FIN-WAIT-2': 'CLOSE-WAIT', 'CLOSE-WAIT': 'FIN-WAIT-2', 'LAST-ACK': 'FIN-WAIT-2' };
      for (const x of t2.filter((x) => x.ssState === 'ESTAB' && x.peerAddr === srv.kernel)) {
        assert.equal(kernelState(srv.addr, x.localPort, x.peerPort as number), mirror[x.ssState]);
      }
    });

    async function pollKernelPorts(addr: string, port: string, n: number): Promise<number[]> {
      for (let i = 0; i < 250; i++) {
        const out = String(ns.execSync('ss', ['-Htan', `dst ${addr}:${port}`]).stdout).trim();
        const ports = out === '' ? [] : out.split('\n').filter((l) => l.startsWith('ESTAB')).map((l) => Number(l.trim().split(/\s+/)[3]!.split(':').pop()));
        if (ports.length >= n) return ports;
        await new Promise((res) => setTimeout(res, 20));
      }
      throw new Error('connections did not appear in ss');
    }

    /** The kernel's state for its connection (kernel:kport ↔ synack addr:sport), or null. */
    function kernelState(addr: string, sport: number, kport: number): string | null {
      const out = String(ns.execSync('ss', ['-Htan', `dst ${addr}:${sport} and sport = :${kport}`]).stdout).trim();
      return out === '' ? null : out.split(/\s+/)[0]!;
    }
  });

  async function opens(peer: JsonPeer): Promise<number> {
    return (await stats(peer)).counters.TcpPassiveOpens!;
  }
});

interface Stats {
  counters: Record<string, number>;
  tun: { rxBytes: number; rxPackets: number; txPackets: number };
  faultsOut: { dropped: number; reordered: number } | null;
  faultsIn: { dropped: number; reordered: number } | null;
}

async function stats(peer: JsonPeer): Promise<Stats> {
  return (await peer.request({ cmd: 'stats' })).stats as Stats;
}

async function pollUntil(cond: () => Promise<boolean>, ms = 10_000, why?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('condition not reached' + (why ? ': ' + why() : ''));
}
