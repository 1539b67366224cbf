// ARP (RFC 826) under TCP: resolving the peer's MAC address with a lost request, the cache
// entry aging out and being reused, and a neighbour that has gone away.
import type { Scenario, ScenarioResult } from './types.js';
import type { NeighEvent, ArpEvent } from '../trace/events.js';
import type { Stack } from '../stack/stack.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode } from '../tcp/types.js';
import { Simulation } from '../sim/simulation.js';
import { createEthernetPair } from '../sim/ethernet.js';
import { FaultyLink } from '../link/faulty.js';
import { Stack as StackImpl } from '../stack/stack.js';
import { TraceRecorder } from '../trace/recorder.js';
import { localMac, formatMac, ETHERTYPE_ARP } from '../wire/ethernet.js';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import { Checks, MS, SEC, DELAY, CLIENT_ADDR, SERVER_ADDR, serve, collect, bytes, segments, isSyn, secs, fmtTime } from './common.js';

const isArpRequest = (f: Uint8Array): boolean => f.length >= 22 && ((f[12]! << 8) | f[13]!) === ETHERTYPE_ARP && f[21] === 1;

function neighPath(rec: TraceRecorder, host: Stack, addr: string, from = 0): string[] {
  const a = parseIpv4Address(addr)!;
  return rec.events.filter((e): e is NeighEvent => e.type === 'neigh' && e.host === host.traceHost && e.addr === a && e.t >= from)
    .map((e) => `${e.to}@${fmtTime(e.t - from).replace(' s', '')}`);
}

function arpOut(rec: TraceRecorder, host: Stack, from = 0): Array<ArpEvent & { lost?: boolean }> {
  return rec.events.filter((e): e is ArpEvent => e.type === 'arp' && e.dir === 'out' && e.host === host.traceHost && e.t >= from);
}

export const arp: Scenario = {
  name: 'arp',
  title: { en: 'ARP: resolving a neighbour, a lost request, the cache aging out', zh: 'ARP：解析邻居、请求丢失、缓存老化' },
  explain: {
    en:
      'On Ethernet an IP datagram needs the next hop\'s MAC address first. The client has none for the server, so its ' +
      'neighbour entry goes INCOMPLETE, the SYN waits in the entry\'s queue (unres_qlen) and a request "who has ' +
      '198.18.0.2?" is broadcast. Here it is lost: nothing but the sender\'s timer can repair that, and Linux retries ' +
      'every retrans_time (1 s), mcast_solicit (3) times. The second request arrives; the server learns the client\'s ' +
      'address from it (RFC 826: "merge" the sender, STALE) and answers unicast; the reply makes the client\'s entry ' +
      'REACHABLE and the queued SYN leaves. The SYN\'s own retransmission timer (also 1 s) fired at the same moment, so ' +
      'a second copy waited in the queue too and the server answers it again.\n' +
      'An entry is trusted for reachable_time (a random 15–45 s) after the last confirmation, then goes STALE. Using a ' +
      'STALE entry sends at once but starts DELAY: if nothing confirms the neighbour within delay_first_probe_time (5 s), ' +
      'unicast probes follow. A TCP acknowledgement of new data is such a confirmation (RFC 1122 §2.3.2.1, Linux ' +
      'dst_confirm), so the second connection never needs a probe.\n' +
      'Then the server goes away. The third connection uses the STALE entry; no acknowledgement confirms it, so after ' +
      '5 s the client probes the known address ucast_solicit (3) times, 1 s apart, and the entry FAILS. The next SYN ' +
      'restarts resolution with broadcasts, fails again, and the datagrams that waited are reported to TCP as ICMP host ' +
      'unreachable: connect() fails with EHOSTUNREACH instead of a bare timeout.',
    zh:
      '在以太网上，IP 数据报首先需要下一跳的 MAC 地址。客户端没有服务器的地址，于是它的邻居表项进入 INCOMPLETE，SYN 在该表项的队列' +
      '（unres_qlen）中等待，并广播请求“谁是 198.18.0.2？”。这里请求丢失了：只有发送方的定时器能修复它，Linux 每隔 retrans_time（1 秒）' +
      '重试，共 mcast_solicit（3）次。第二个请求到达；服务器从中学到客户端的地址（RFC 826：“合并”发送方，STALE），并以单播回答；' +
      '应答使客户端的表项变为 REACHABLE，排队的 SYN 随即发出。SYN 自己的重传定时器（同样是 1 秒）也在同一时刻触发，所以第二个副本' +
      '也在队列里等待，服务器再次回答它。\n' +
      '表项在最后一次确认之后的 reachable_time（随机 15–45 秒）内被信任，然后变为 STALE。使用 STALE 表项会立即发送，但进入 DELAY：' +
      '如果在 delay_first_probe_time（5 秒）内没有任何东西确认该邻居，就发送单播探测。TCP 对新数据的确认就是这样的确认' +
      '（RFC 1122 §2.3.2.1，Linux 的 dst_confirm），所以第二条连接从不需要探测。\n' +
      '然后服务器消失了。第三条连接使用 STALE 表项；没有确认到来，于是 5 秒后客户端向已知地址单播探测 ucast_solicit（3）次，间隔 1 秒，' +
      '表项进入 FAILED。下一个 SYN 以广播重新开始解析，再次失败，等待的数据报以 ICMP 主机不可达报告给 TCP：connect() 以 EHOSTUNREACH ' +
      '失败，而不是单纯的超时。',
  },
  run({ seed }): ScenarioResult {
    const sim = new Simulation({ seed });
    const [ra, rb] = createEthernetPair(sim, { delay: DELAY });
    const fa = new FaultyLink(ra, {}, sim, sim.rng.fork('faults-a'));
    const fb = new FaultyLink(rb, {}, sim, sim.rng.fork('faults-b'));
    const rngA = sim.rng.fork('stack-a'), rngB = sim.rng.fork('stack-b');
    const a = new StackImpl({ clock: sim.clock, random: (n) => rngA.bytes(n), options: { tcp_syn_retries: 4 } });
    const b = new StackImpl({ clock: sim.clock, random: (n) => rngB.bytes(n) });
    const rec = new TraceRecorder();
    rec.attach(a).attach(b);
    a.addEthernetInterface({ link: fa, mac: localMac(1), addr: CLIENT_ADDR, prefixLen: 24 });
    b.addEthernetInterface({ link: fb, mac: localMac(2), addr: SERVER_ADDR, prefixLen: 24 });
    sim.add(a); sim.add(b);
    rec.watchLink(fa, 'ethernet').watchLink(fb, 'ethernet');
    rec.capturePackets(fa, 1).capturePackets(fb, 1);
    const ck = new Checks();
    sim.runUntilIdle(); // the gratuitous ARPs of both interfaces
    const t0 = sim.now();

    serve(b, 80, (t) => {
      const got = collect(t, () => sim.now());
      const prev = t.user ?? {};
      t.user = { ...prev, onReadable: () => { prev.onReadable?.(); if (got.text().endsWith('\n')) { t.send(bytes('hello\n'), sim.now()); t.close(sim.now()); } }, onEnd: () => { prev.onEnd?.(); } };
    });
    const connect = (): { c: Tcb; err: () => TcpErrorCode | null } => {
      const c = a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
      let err: TcpErrorCode | null = null;
      c.user = { onClosed: (e) => { err = e; }, onEnd: () => c.close(sim.now()) };
      collect(c, () => sim.now());
      c.openActive(sim.now());
      c.send(bytes('GET\n'), sim.now());
      return { c, err: () => err };
    };

    // ---- 1: resolution, with the first request lost.
    fa.dropWhen(isArpRequest, 1);
    const c1 = connect();
    sim.runUntil(() => c1.c.state === 'CLOSED' || c1.c.state === 'TIME-WAIT', { maxTime: 20 * SEC });
    const req1 = arpOut(rec, a, t0).filter((e) => e.op === 'request');
    ck.eq('the client broadcasts who-has 198.18.0.2 at 0 s (lost) and 1 s (retrans_time)', '客户端在 0 秒（丢失）和 1 秒（retrans_time）广播 who-has 198.18.0.2',
      req1.slice(0, 2).map((e) => `${(e.t - t0) / SEC}${e.lost ? ' lost' : ''}`), ['0 lost', '1']);
    ck.eq('client entry: INCOMPLETE at 0 s, REACHABLE when the reply arrives (1.010 s)', '客户端表项：0 秒 INCOMPLETE，应答到达时（1.010 秒）REACHABLE',
      neighPath(rec, a, SERVER_ADDR, t0).slice(0, 2), ['INCOMPLETE@0.000', 'REACHABLE@1.010']);
    ck.eq('server learned the client from the request (STALE), sent no request of its own', '服务器从请求中学到客户端（STALE），自己没有发送请求',
      [neighPath(rec, b, CLIENT_ADDR, t0)[0] ?? '', arpOut(rec, b, t0).filter((e) => e.op === 'request').length], ['STALE@1.005', 0]);
    const syns = segments(rec, a, 'out').filter(isSyn);
    ck.eq('the SYN (0 s) and its retransmission (1 s) waited in the queue', 'SYN（0 秒）及其重传（1 秒）在队列中等待',
      secs(syns.slice(0, 2).map((s) => s.t - t0)), [0, 1]);
    const est = rec.events.find((e) => e.type === 'state' && e.host === a.traceHost && e.to === 'ESTABLISHED');
    ck.ok('the connection opens one ARP round trip and one TCP round trip after the second request', '连接在第二个请求之后一个 ARP 往返加一个 TCP 往返时建立',
      est !== undefined && est.t - t0 === 1020 * MS, est ? fmtTime(est.t - t0) : 'never');

    // ---- 2: the entry goes STALE, then is reused; TCP's ACKs confirm it (no probe).
    const rt = a.interfaces[0]!.neighbours!.reachableTimeAt(sim.now());
    const t2 = t0 + 100 * SEC;
    sim.runFor(t2 - sim.now());
    const stale = rec.events.find((e): e is NeighEvent => e.type === 'neigh' && e.host === a.traceHost && e.to === 'STALE' && e.t > t0);
    ck.ok('after reachable_time (a random 15–45 s) without confirmation the entry is STALE', '在 reachable_time（随机 15–45 秒）内没有确认后，表项变为 STALE',
      stale !== undefined && rt >= 15 * SEC && rt <= 45 * SEC && stale.t >= t0 + 1010 * MS + rt - 1 && stale.t <= t0 + 1010 * MS + rt + 45 * SEC,
      stale ? `reachable_time ${(rt / SEC).toFixed(1)} s, STALE at ${fmtTime(stale.t - t0)}` : 'never');
    const c2 = connect();
    sim.runUntil(() => c2.c.state === 'CLOSED' || c2.c.state === 'TIME-WAIT', { maxTime: 20 * SEC });
    sim.runFor(t2 + 10 * SEC - sim.now());
    ck.eq('reuse: DELAY at once, REACHABLE 5 s later without any probe (TCP confirmed it)', '再次使用：立即进入 DELAY，5 秒后不经探测变为 REACHABLE（TCP 确认了它）',
      [neighPath(rec, a, SERVER_ADDR, t2).slice(0, 2), arpOut(rec, a, t2).length], [['DELAY@0.000', 'REACHABLE@5.000'], 0]);

    // ---- 3: the server disappears.
    const t3 = t0 + 200 * SEC;
    sim.runFor(t3 - sim.now());
    fb.partition(true);
    fa.partition(true);
    const c3 = connect();
    sim.runUntil(() => c3.c.state === 'CLOSED', { maxTime: 60 * SEC });
    const path3 = neighPath(rec, a, SERVER_ADDR, t3);
    ck.eq('gone: DELAY → PROBE at 5 s → FAILED at 8 s; the next SYN (15 s) restarts resolution, FAILED at 18 s',
      '消失：DELAY → 5 秒 PROBE → 8 秒 FAILED；下一个 SYN（15 秒）重新开始解析，18 秒 FAILED',
      path3.slice(path3[0]?.startsWith('STALE') ? 1 : 0, 6), ['DELAY@0.000', 'PROBE@5.000', 'FAILED@8.000', 'INCOMPLETE@15.000', 'FAILED@18.000']);
    const probes = arpOut(rec, a, t3);
    ck.eq('three unicast probes (ucast_solicit) then three broadcasts (mcast_solicit)', '三次单播探测（ucast_solicit），然后三次广播（mcast_solicit）',
      probes.slice(0, 6).map((e) => `${(e.t - t3) / SEC}${e.dst === 'ff:ff:ff:ff:ff:ff' ? 'b' : 'u'}`), ['5u', '6u', '7u', '15b', '16b', '17b']);
    ck.eq('connect() fails with EHOSTUNREACH (ICMP host unreachable from the failed resolution)', 'connect() 以 EHOSTUNREACH 失败（解析失败产生的 ICMP 主机不可达）',
      c3.err(), 'EHOSTUNREACH');
    ck.eq('client neighbour counters: resolutions, requests, failed', '客户端邻居计数器：解析次数、请求数、失败次数',
      (({ resolutions, requests, failed }) => ({ resolutions, requests, failed }))(a.interfaces[0]!.neighbours!.counters), { resolutions: 2, requests: 8, failed: 2 });
    void formatMac;
    return {
      recorder: rec, checks: ck.list,
      hosts: { [CLIENT_ADDR]: 'client', [SERVER_ADDR]: 'server' },
      stacks: { client: a, server: b },
      conn: c1.c.connId,
    };
  },
};
