// DHCP interop (issue 13): the kernel's DHCP client (busybox udhcpc) gets a lease from
// `synack serve --tap … --dhcp FIRST-LAST --dns` over a TAP device (Ethernet: broadcasts,
// ARP), configures it, resolves a name through synack's DNS, and renews the lease at T1.
// Namespace synack-13b-<pid>-<hex>, addresses from 198.18.0.0/15, always deleted.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, JsonPeer, interopGate, testPrefix, ROOT } from './netns.js';

const gate = interopGate(['busybox', 'dig', 'tshark']);
const SYNACK = join(ROOT, 'bin', 'synack.js');
if (gate.fail !== null) test('interop (kernel DHCP client ↔ synack)', () => assert.fail(gate.fail!));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (cond()) return true; await new Promise((r) => setTimeout(r, 100)); }
  return cond();
}

describe('interop: busybox udhcpc ↔ synack DHCP server over TAP', { skip: gate.skip || (gate.fail !== null ? 'cannot run: see the failure above' : false), timeout: 120_000 }, () => {
  let ns: Netns;
  let peer: JsonPeer;
  let work = '';
  const p = testPrefix(210);
  const net3 = p.synack.split('.').slice(0, 3).join('.');
  const first = `${net3}.100`, last = `${net3}.120`;

  before(async () => {
    ns = Netns.create('13b');
    work = mkdtempSync(join(tmpdir(), 'synack-13b-dhcp-'));
    peer = new JsonPeer(ns, SYNACK, ['serve', '--tap', 'tap13b', '--addr', p.cidr, '--http', '80', '--control', '--pcap', join(work, 'dhcp.pcap'),
      '--dhcp', `${first}-${last}`, '--dhcp-lease', '12', '--dns', '--host', `web.test=${p.synack}`]);
    await peer.ready;
    // The kernel's side starts without an address: udhcpc must get one.
    ns.ipSync(['addr', 'flush', 'dev', 'tap13b']);
  });

  after(() => {
    peer?.stop();
    ns?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('udhcpc gets a lease (DORA), configures it, resolves through synack and renews at T1', async () => {
    const log = join(work, 'events');
    const script = join(work, 'udhcpc.sh');
    // The event is logged after the interface is configured: the test reads the address as soon
    // as it sees 'bound' (logging first raced `ip addr add`, seen once in CI: an empty address list).
    writeFileSync(script, `#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound) ip addr flush dev "$interface"; ip addr add "$ip/$subnet" dev "$interface" ;;
esac
echo "$1 ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease serverid=$serverid" >> ${log}
exit 0
`);
    chmodSync(script, 0o755);
    // Foreground, 4 tries 2 s apart; it stays running to renew.
    const udhcpc = ns.spawn('busybox', ['udhcpc', '-f', '-i', 'tap13b', '-s', script, '-t', '4', '-T', '2', '-x', 'hostname:kernel13b']);
    let out = '';
    udhcpc.stdout!.on('data', (d: Buffer) => { out += d; });
    udhcpc.stderr!.on('data', (d: Buffer) => { out += d; });
    const events = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    try {
      assert.ok(await until(() => events().some((e) => e.startsWith('bound')), 30_000), `no lease: ${out} ${events().join(' | ')}`);
      const bound = events().find((e) => e.startsWith('bound'))!;
      assert.match(bound, new RegExp(`ip=${net3.replace(/\./g, '\\.')}\\.1(0\\d|1\\d|20) `));
      assert.match(bound, /subnet=255\.255\.255\.0 /);
      assert.match(bound, new RegExp(`router=${p.synack.replace(/\./g, '\\.')} `));
      assert.match(bound, new RegExp(`dns=${p.synack.replace(/\./g, '\\.')} `));
      assert.match(bound, /lease=12 /);
      const ip = /ip=([\d.]+)/.exec(bound)![1]!;
      const addrs = ns.ipSync(['-4', 'addr', 'show', 'dev', 'tap13b']);
      assert.match(addrs, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
      // The leased address works: DNS over it, and synack's table has the lease.
      const dig = await ns.run('dig', ['+short', '+time=2', '+tries=2', `@${p.synack}`, 'web.test']);
      assert.equal(dig.stdout.toString().trim(), p.synack);
      const st = await peer.request({ cmd: 'stats' }) as { stats: { dhcp: { leases: Array<{ addr: string; state: string; hostname?: string }> } } };
      const lease = st.stats.dhcp.leases.find((l) => l.addr === ip);
      assert.equal(lease?.state, 'bound');
      assert.equal(lease?.hostname, 'kernel13b');
      // T1 = 6 s: udhcpc renews by unicast and the script sees 'renew' with the same address.
      assert.ok(await until(() => events().some((e) => e.startsWith('renew')), 20_000), `no renewal: ${out} ${events().join(' | ')}`);
      const renew = events().find((e) => e.startsWith('renew'))!;
      assert.match(renew, new RegExp(`ip=${ip.replace(/\./g, '\\.')} `));
      const st2 = await peer.request({ cmd: 'stats' }) as { stats: { dhcp: { stats: Record<string, number> } } };
      assert.ok((st2.stats.dhcp.stats['sent ACK'] ?? 0) >= 2, JSON.stringify(st2.stats.dhcp.stats));
    } finally {
      ns.kill(udhcpc, 'SIGTERM');
    }
  });

  test('tshark decodes the capture: DHCP Discover, Offer, Request, ACK, then the renewal, no malformed frames', async () => {
    const exited = new Promise((r) => peer.proc.once('exit', r));
    peer.stop();
    await exited;
    const f = join(work, 'dhcp.pcap');
    const { spawnSync } = await import('node:child_process');
    const types = spawnSync('tshark', ['-r', f, '-Y', 'dhcp', '-T', 'fields', '-e', 'dhcp.option.dhcp'], { encoding: 'utf8' });
    assert.equal(types.status, 0, types.stderr);
    const seq = types.stdout.trim().split('\n');
    assert.deepEqual(seq.slice(0, 4), ['1', '2', '3', '5'], `DHCP message types: ${seq.join(' ')}`);
    assert.ok(seq.slice(4).join(' ').startsWith('3 5'), `renewal: ${seq.join(' ')}`);
    const bad = spawnSync('tshark', ['-r', f, '-Y', '_ws.malformed || _ws.expert.severity == error'], { encoding: 'utf8' });
    assert.equal(bad.stdout.trim(), '', 'no malformed frames');
  });
});
