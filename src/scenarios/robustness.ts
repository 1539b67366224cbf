// Long-lived and loaded hosts: keepalive finding a dead peer, a SYN flood against a listener
// with and without SYN cookies, and ephemeral port exhaustion by TIME-WAIT.
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode, SegmentOut } from '../tcp/types.js';
import type { Scenario, ScenarioResult } from './types.js';
import type { StackOptions } from '../stack/options.js';
import { newOutOptions } from '../tcp/types.js';
import { seqAdd, seqDiff, seqGt } from '../tcp/seq.js';
import { TCP_SYN } from '../wire/tcp.js';
import { serializeSegment } from '../stack/tcpout.js';
import { StackError } from '../stack/errors.js';
import {
  Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, statePath, segments, collect, bytes,
  isRst, isSyn, fmtTime, gaps, secs, stateEvents, note, type World,
} from './common.js';
import type { ConnId } from '../trace/events.js';

export const keepaliveDeadPeer: Scenario = {
  name: 'keepalive-dead-peer',
  title: { en: 'Keepalive finds a dead peer', zh: '保活机制发现失效的对端' },
  explain: {
    en:
      'An idle TCP connection sends nothing at all, so if the peer\'s host crashes or the path disappears, a ' +
      'connection with nothing to send would never notice and would live forever. Keepalive (RFC 1122 §4.2.3.6, ' +
      'off by default, enabled per socket) probes an idle connection: after tcp_keepalive_time (2 hours) without ' +
      'hearing from the peer it sends a probe — a segment with SEG.SEQ = SND.NXT−1 and no data, which any live ' +
      'TCP must answer with an ACK — then repeats every tcp_keepalive_intvl (75 s). After tcp_keepalive_probes (9 on Linux; BSD and many textbooks say 10) ' +
      'unanswered probes the peer is declared dead: the connection is reset and the application gets ETIMEDOUT, ' +
      '2 h + 9 × 75 s = 2 h 11 min 15 s after the last sign of life. RFC 1122 asks for a default idle time of no ' +
      'less than two hours because probes cost traffic and can kill connections over a briefly broken path. ' +
      'Virtual time makes the two hours pass in microseconds.',
    zh:
      '空闲的 TCP 连接完全不发送任何东西，所以如果对端主机崩溃或路径消失，一条没有数据要发的连接永远不会察觉，会一直存在下去。' +
      '保活（RFC 1122 §4.2.3.6，默认关闭，按套接字开启）会探测空闲连接：在 tcp_keepalive_time（2 小时）内没有收到对端任何消息后，' +
      '它发送一个探测报文——SEG.SEQ = SND.NXT−1 且不带数据，任何活着的 TCP 都必须用 ACK 回答——然后每隔 tcp_keepalive_intvl（75 秒）重复一次。' +
      '在 tcp_keepalive_probes（Linux 为 9；BSD 和许多教科书写的是 10）个探测都没有回应之后，对端被判定为死亡：连接被复位，应用程序得到 ETIMEDOUT，' +
      '这距离最后一次收到对方消息是 2 小时 + 9 × 75 秒 = 2 小时 11 分 15 秒。RFC 1122 要求默认空闲时间不少于两小时，' +
      '因为探测会产生流量，还可能在路径短暂中断时杀死连接。虚拟时间让这两个小时在几微秒内过去。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    serve(w.b, 80, () => {});
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    let err: TcpErrorCode | null = null, at = -1;
    c.user = { onEstablished: () => { c.setKeepAlive(w.sim.now(), true); }, onClosed: (e) => { err = e; at = w.sim.now(); } };
    c.openActive(w.sim.now());
    // The server's host dies one second later: nothing gets through either way.
    w.sim.at(1 * SEC, () => { w.faultA.partition(true); w.faultB.partition(true); });
    w.sim.runUntilIdle();

    const lastHeard = 10 * MS; // the SYN-ACK
    const probes = segments(w.rec, w.a, 'out', port).filter((x) => x.t > 1 * SEC && !isRst(x));
    ck.ok('the first probe goes out 2 h (tcp_keepalive_time) after the peer was last heard', '第一个探测在最后一次收到对端消息 2 小时（tcp_keepalive_time）后发出',
      probes.length > 0 && probes[0]!.t - lastHeard === 7200 * SEC, probes.length > 0 ? fmtTime(probes[0]!.t) : 'none');
    ck.eq('9 probes (tcp_keepalive_probes), 75 s apart (tcp_keepalive_intvl)', '9 个探测（tcp_keepalive_probes），间隔 75 秒（tcp_keepalive_intvl）',
      [probes.length, [...new Set(secs(gaps(probes.map((x) => x.t))))].join(',')], [9, '75']);
    ck.ok('each probe is SEG.SEQ = SND.NXT − 1 with no data, so a live peer must ACK it', '每个探测都是 SEG.SEQ = SND.NXT − 1 且不带数据，所以活着的对端必须确认它',
      probes.length > 0 && probes.every((x) => x.seq === seqAdd(c.sndNxt, -1) && x.len === 0), probes.length > 0 ? `seq=${probes[0]!.seq}, SND.NXT=${c.sndNxt}` : '');
    ck.ok('ETIMEDOUT 2 h + 9 × 75 s after the peer was last heard, with a RST', '在最后一次收到对端消息 2 小时 + 9 × 75 秒后 ETIMEDOUT，并发送 RST',
      err === 'ETIMEDOUT' && at - lastHeard === (7200 + 9 * 75) * SEC && segments(w.rec, w.a, 'out', port).filter(isRst).length === 1,
      `${err} at ${fmtTime(at)}`);
    ck.eq('counter TcpExtTCPKeepAlive = 9', '计数器 TcpExtTCPKeepAlive = 9', w.a.counters.TcpExtTCPKeepAlive, 9);
    return { ...result(w, ck, c.connId) };
  },
};

// ------------------------------------------------------------------ SYN flood

const FLOOD_BACKLOG = 16;
const FLOOD_END = 20 * SEC;
const CLIENT_START = 500 * MS;

interface FloodRun { w: World; c: Tcb; srv: Tcb | null; err: TcpErrorCode | null; errAt: number; estAt: number; queueFull: number; got: string }

/** The client's connection seen from the server. */
const fromServer = (c: Tcb): ConnId => ({ localAddr: c.remoteAddr, localPort: c.remotePort, remoteAddr: c.localAddr, remotePort: c.localPort });

/** Spoofed SYNs: FLOOD_BACKLOG at once, then 10 per second until FLOOD_END, from random unreachable sources. */
function flood(seed: number, syncookies: number, before?: FloodRun): FloodRun {
  const w = makeWorld(seed, { optionsA: { tcp_syn_retries: 3 }, optionsB: { tcp_max_syn_backlog: FLOOD_BACKLOG, tcp_syncookies: syncookies } });
  const run = { got: (): string => '', srv: null as Tcb | null };
  const l = serve(w.b, 80, (t) => { const got = collect(t, () => w.sim.now()); run.got = () => got.text(); run.srv = t; });
  const rng = w.sim.rng.fork('attacker');
  const seg: SegmentOut = { seq: 0, ack: 0, flags: TCP_SYN, window: 64240, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false };
  seg.opts.mss = 1460;
  const spoof = (): void => {
    const src = (((10 << 24) | rng.int(0, 1 << 24)) >>> 0);
    seg.seq = rng.nextU32();
    w.faultA.send(serializeSegment(seg, src, rng.int(1024, 65536), w.b.traceHost, 80, 64, 0));
  };
  for (let i = 0; i < FLOOD_BACKLOG; i++) spoof();
  for (let t = 100 * MS; t <= FLOOD_END; t += 100 * MS) w.sim.at(t, spoof);
  let queueFull = -1;
  const out: FloodRun = { w, c: null as unknown as Tcb, srv: null, err: null, errAt: -1, estAt: -1, queueFull: -1, got: '' };
  w.sim.at(CLIENT_START, () => {
    queueFull = l.synQueue.size;
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    out.c = c;
    c.user = {
      onEstablished: () => { out.estAt = w.sim.now(); c.send(bytes('GET /'), w.sim.now()); },
      onClosed: (e) => { out.err = e; out.errAt = w.sim.now(); },
    };
    // The diagram shows the client's connection: summarise the flood beside the server.
    note(w, w.b, fromServer(c), `flood: ${FLOOD_BACKLOG} spoofed SYNs, SYN queue full (${queueFull}/${FLOOD_BACKLOG}), +10/s`);
    if (before !== undefined) {
      const n = segments(before.w.rec, before.w.a, 'out', before.c.localPort).filter(isSyn).length;
      note(w, w.a, c.connId, `without cookies: ${n} SYNs dropped, ETIMEDOUT at ${Math.round((before.errAt - CLIENT_START) / SEC)} s`);
    }
    if (syncookies !== 0) {
      // Mark the cookie: the SYN-ACK to this client carries a SYN cookie as its ISN.
      const off = w.b.addTraceListener((e) => {
        if (e.type === 'segment' && e.dir === 'out' && e.conn.remotePort === c.localPort && (e.flags & 0x12) === 0x12) {
          note(w, w.b, fromServer(c), 'ISN = SYN cookie (no state kept)');
          off();
        }
      });
    }
    c.openActive(w.sim.now());
  });
  w.sim.at(FLOOD_END + 10 * MS, () => {
    if (out.c === null) return;
    const cn = w.b.counters;
    note(w, w.b, fromServer(out.c), syncookies !== 0 ? `flood over: ${FLOOD_BACKLOG + 200} spoofed SYNs, ${cn.TcpExtSyncookiesSent - 1} got cookies` : `flood over: ${FLOOD_BACKLOG + 200} spoofed SYNs, ${cn.TcpExtListenDrops} dropped`);
  });
  w.sim.runUntilIdle();
  out.queueFull = queueFull;
  out.got = run.got();
  out.srv = run.srv;
  return out;
}

export const synFlood: Scenario = {
  name: 'syn-flood',
  title: { en: 'SYN flood, with and without SYN cookies', zh: 'SYN 洪泛：有无 SYN cookie 的对比' },
  explain: {
    en:
      'Every SYN makes a listener keep a half-open connection in SYN-RECEIVED for up to a minute (see ' +
      'synack-lost), and the SYN queue holding them is bounded (tcp_max_syn_backlog, 16 here). An attacker sends ' +
      'SYNs from forged source addresses: the SYN-ACKs go nowhere, nobody ever completes the handshakes, and the ' +
      'queue stays full. Without SYN cookies (tcp_syncookies = 0) the SYNs of legitimate clients are simply ' +
      'dropped; this client sends its SYN at 0, 1, 3 and 7 s (timeouts of 1, 2 and 4 s, doubling) and, after ' +
      'tcp_syn_retries = 3 retransmissions and one more doubled wait (8 s), gives up with ETIMEDOUT 15 s after its first SYN.\n' +
      'With SYN cookies (RFC 4987 §3.6; tcp_syncookies = 1: used when the queue overflows) the server keeps no state ' +
      'for a SYN it cannot queue. It encodes what it must remember — the client\'s address and port, a timestamp, ' +
      'the MSS (and, in the TCP timestamp, window scale and SACK) — in a keyed hash and sends it as its ISN. A ' +
      'legitimate client\'s ACK returns that number plus one; the server checks the hash and creates the ' +
      'connection directly ESTABLISHED. Forged sources never answer, so they cost the server nothing. The same ' +
      'flood now leaves the legitimate client unaffected: it connects in one round trip.',
    zh:
      '每个 SYN 都会让监听者把一个半连接在 SYN-RECEIVED 中保留长达一分钟（参见 synack-lost），而存放它们的 SYN 队列是有上限的' +
      '（tcp_max_syn_backlog，这里是 16）。攻击者用伪造的源地址发送 SYN：SYN-ACK 无处可去，握手永远不会完成，队列一直是满的。' +
      '没有 SYN cookie 时（tcp_syncookies = 0），合法客户端的 SYN 被直接丢弃；这个客户端在 0、1、3、7 秒发出 SYN（超时时间 1、2、4 秒，逐次加倍），' +
      '在 tcp_syn_retries = 3 次重传之后再等待一个加倍的间隔（8 秒），于第一个 SYN 之后 15 秒以 ETIMEDOUT 放弃。\n' +
      '有了 SYN cookie（RFC 4987 §3.6；tcp_syncookies = 1：在队列溢出时使用），服务器对无法入队的 SYN 不保存任何状态。' +
      '它把必须记住的东西——客户端的地址和端口、一个时间戳、MSS（以及放在 TCP 时间戳里的窗口扩大和 SACK）——编码进一个带密钥的散列，作为自己的 ISN 发出。' +
      '合法客户端的 ACK 会带回这个数加一；服务器校验散列，直接创建一个 ESTABLISHED 的连接。伪造的源地址永远不会回答，所以它们不会让服务器付出任何代价。' +
      '同样的洪泛现在对合法客户端毫无影响：它在一个往返内完成连接。',
  },
  run({ seed }): ScenarioResult {
    const ck = new Checks();
    const off = flood(seed, 0);
    ck.eq('cookies off: the SYN queue is full (16 half-open connections) when the client arrives', '不用 cookie：客户端到来时 SYN 队列已满（16 个半连接）', off.queueFull, FLOOD_BACKLOG);
    const offSyns = segments(off.w.rec, off.w.a, 'out', off.c.localPort).filter(isSyn);
    ck.eq('cookies off: the client\'s 4 SYNs are all dropped (at 0, 1, 3, 7 s)', '不用 cookie：客户端的 4 个 SYN 全部被丢弃（在 0、1、3、7 秒）',
      [secs(offSyns.map((x) => x.t - CLIENT_START)).join(','), off.w.b.counters.TcpExtSyncookiesSent, off.c.irs], ['0,1,3,7', 0, 0]);
    ck.ok('cookies off: the legitimate client fails with ETIMEDOUT after 15 s', '不用 cookie：合法客户端在 15 秒后以 ETIMEDOUT 失败',
      off.err === 'ETIMEDOUT' && off.errAt - CLIENT_START === 15 * SEC && off.estAt < 0, `${off.err} after ${fmtTime(off.errAt - CLIENT_START)}`);
    ck.ok('cookies off: the listener dropped 200 spoofed SYNs and the client\'s 4 (TcpExtListenDrops = 204)', '不用 cookie：监听者丢弃了 200 个伪造的 SYN 和客户端的 4 个（TcpExtListenDrops = 204）',
      off.w.b.counters.TcpExtListenDrops === 200 + 4, `TcpExtListenDrops=${off.w.b.counters.TcpExtListenDrops}`);

    const on = flood(seed, 1, off);
    const port = on.c.localPort;
    ck.eq('cookies on: the SYN queue is just as full', '使用 cookie：SYN 队列同样是满的', on.queueFull, FLOOD_BACKLOG);
    ck.ok('cookies on: the client connects in one round trip, with a single SYN', '使用 cookie：客户端只用一个 SYN，在一个往返内完成连接',
      on.estAt - CLIENT_START === 10 * MS && segments(on.w.rec, on.w.a, 'out', port).filter(isSyn).length === 1, `ESTABLISHED after ${fmtTime(on.estAt - CLIENT_START)}`);
    const c = on.w.b.counters;
    ck.ok('cookies on: every SYN beyond the queue got a cookie (TcpExtSyncookiesSent), and only the client\'s came back (TcpExtSyncookiesRecv = 1)',
      '使用 cookie：队列之外的每个 SYN 都得到了 cookie（TcpExtSyncookiesSent），只有客户端的那个回来了（TcpExtSyncookiesRecv = 1）',
      c.TcpExtSyncookiesSent === 201 && c.TcpExtSyncookiesRecv === 1 && c.TcpExtSyncookiesFailed === 0,
      `sent ${c.TcpExtSyncookiesSent}, recv ${c.TcpExtSyncookiesRecv}, failed ${c.TcpExtSyncookiesFailed}`);
    ck.eq('cookies on: the server created the connection directly ESTABLISHED from the ACK', '使用 cookie：服务器根据 ACK 直接创建了 ESTABLISHED 连接',
      stateEvents(on.w.rec, on.w.b, port).slice(0, 1).map((x) => `${x.from} → ${x.to} (${x.cause})`), ['CLOSED → ESTABLISHED (rcv ACK (syn cookie))']);
    ck.eq('cookies on: the request arrives over the cookie connection', '使用 cookie：请求通过 cookie 连接到达', on.got, 'GET /');
    ck.ok('cookies on: the options survived the stateless handshake (MSS 1460, SACK, window scale, timestamps)', '使用 cookie：选项在无状态握手中保留了下来（MSS 1460、SACK、窗口扩大、时间戳）',
      on.srv !== null && on.srv.mssPeer === 1460 && on.srv.sackOk && on.srv.wsOk && on.srv.sndWscale === on.c.rcvWscale && on.srv.tsOk,
      on.srv ? `server side: mss ${on.srv.mssPeer} sack ${on.srv.sackOk} wscale ${on.srv.wsOk ? on.srv.sndWscale : '-'} ts ${on.srv.tsOk}` : 'no connection');
    const r = result(on.w, ck, on.c.connId);
    return r;
  },
};

// ------------------------------------------------------------------ TIME-WAIT reuse

const PORTS: [number, number] = [50000, 50003];

interface ReuseRun { w: World; fifth: Tcb | null; error: string; tw: number; first: { port: number; sndNxt: number; lastTs: number } }

function portExhaustion(seed: number, a: Partial<StackOptions>): ReuseRun {
  const w = makeWorld(seed, { optionsA: { ip_local_port_range: PORTS, ...a } });
  serve(w.b, 80, (t) => {
    t.user = {
      onReadable: () => { t.receive(1 << 16, w.sim.now()); t.send(bytes('200 OK'), w.sim.now()); },
      onEnd: () => { t.close(w.sim.now()); },
    };
  });
  const one = (): Tcb => {
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    c.user = {
      onEstablished: () => { c.send(bytes('GET /'), w.sim.now()); },
      onReadable: () => { c.receive(1 << 16, w.sim.now()); c.close(w.sim.now()); },
    };
    c.openActive(w.sim.now());
    return c;
  };
  const firstConn = one();
  w.sim.runUntil(() => firstConn.state === 'TIME-WAIT');
  const first = { port: firstConn.localPort, sndNxt: firstConn.sndNxt, lastTs: 0 };
  for (const s of segments(w.rec, w.a, 'out', first.port)) if (s.options.ts) first.lastTs = s.options.ts.val;
  for (let i = 0; i < 3; i++) { const c = one(); w.sim.runUntil(() => c.state === 'TIME-WAIT'); }
  w.sim.runFor(1 * SEC);
  const tw = w.a.tcbs().filter((t) => t.state === 'TIME-WAIT').length;
  let fifth: Tcb | null = null, error = '';
  try { fifth = one(); } catch (e) { error = (e as StackError).code; }
  w.sim.runUntil(() => fifth === null || fifth.state === 'ESTABLISHED' || fifth.state === 'CLOSED', { maxTime: 10 * SEC });
  return { w, fifth, error, tw, first };
}

export const timeWaitReuse: Scenario = {
  name: 'time-wait-reuse',
  title: { en: 'TIME-WAIT and port exhaustion; reuse with timestamps', zh: 'TIME-WAIT 与端口耗尽；借助时间戳重用' },
  explain: {
    en:
      'A client that opens many short connections to the same server, closing each one first, leaves each in ' +
      'TIME-WAIT for 60 s, and each holds its four-tuple. With a small range of ephemeral ports (4 here, ' +
      'ip_local_port_range 50000–50003; about 28 000 by default) the client runs out: the next connect() fails ' +
      'with EADDRNOTAVAIL although no connection is actually open.\n' +
      'TIME-WAIT exists so that old segments cannot be mistaken for new ones. With TCP timestamps (RFC 7323) there ' +
      'is a better guard: a new connection on the same four-tuple starts with larger timestamps (the timestamp ' +
      'clock runs on, with the same per-tuple offset) and a sequence number beyond the old one (old SND.NXT + ' +
      '65537), so PAWS rejects any old duplicate. Linux\'s tcp_tw_reuse = 1 therefore lets connect() take over a ' +
      'TIME-WAIT four-tuple when both sides used timestamps (RFC 6191 describes the same idea). Without ' +
      'timestamps it refuses, and the ports stay exhausted until TIME-WAIT ends.',
    zh:
      '一个向同一服务器打开许多短连接、并且每次都先关闭的客户端，会让每条连接在 TIME-WAIT 中停留 60 秒，每条都占着自己的四元组。' +
      '临时端口范围很小时（这里是 4 个，ip_local_port_range 50000–50003；默认约 28000 个），客户端就会用完端口：' +
      '下一个 connect() 以 EADDRNOTAVAIL 失败，尽管实际上没有任何连接是打开的。\n' +
      'TIME-WAIT 的存在是为了让旧报文段不会被误认为新报文段。有了 TCP 时间戳（RFC 7323）就有了更好的防护：' +
      '同一四元组上的新连接以更大的时间戳开始（时间戳时钟持续走动，每个四元组的偏移量相同），序列号也超过旧连接（旧 SND.NXT + 65537），' +
      '所以 PAWS 会拒绝任何旧的重复报文。因此 Linux 的 tcp_tw_reuse = 1 允许 connect() 在双方都使用时间戳时接管处于 TIME-WAIT 的四元组' +
      '（RFC 6191 描述了同样的思路）。没有时间戳时它会拒绝，端口会一直耗尽，直到 TIME-WAIT 结束。',
  },
  run({ seed }): ScenarioResult {
    const ck = new Checks();
    const off = portExhaustion(seed, { tcp_tw_reuse: 0 });
    ck.eq('tcp_tw_reuse = 0: four connections leave four TIME-WAITs; the fifth connect() fails with EADDRNOTAVAIL', 'tcp_tw_reuse = 0：四条连接留下四个 TIME-WAIT；第五次 connect() 以 EADDRNOTAVAIL 失败',
      [off.tw, off.error], [4, 'EADDRNOTAVAIL']);
    const nots = portExhaustion(seed, { tcp_tw_reuse: 1, tcp_timestamps: 0 });
    ck.eq('tcp_tw_reuse = 1 without timestamps: still EADDRNOTAVAIL', 'tcp_tw_reuse = 1 但没有时间戳：仍然 EADDRNOTAVAIL', [nots.tw, nots.error], [4, 'EADDRNOTAVAIL']);
    const on = portExhaustion(seed, { tcp_tw_reuse: 1 });
    const f = on.fifth;
    ck.ok('tcp_tw_reuse = 1 with timestamps: the fifth connection takes over the oldest TIME-WAIT port and connects', 'tcp_tw_reuse = 1 且有时间戳：第五条连接接管最旧的 TIME-WAIT 端口并建立连接',
      f !== null && f.localPort === on.first.port && f.state === 'ESTABLISHED' && on.w.a.counters.TcpExtTWRecycled === 1,
      f ? `port ${f.localPort} (first was ${on.first.port}), ${f.state}, TcpExtTWRecycled=${on.w.a.counters.TcpExtTWRecycled}` : on.error);
    ck.ok('the new ISS is the old SND.NXT + 65537: beyond every old sequence number', '新的 ISS 是旧 SND.NXT + 65537：超过所有旧的序列号',
      f !== null && f.iss === seqAdd(on.first.sndNxt, 65537) && seqGt(f.iss, on.first.sndNxt), f ? `old SND.NXT ${on.first.sndNxt}, new ISS ${f.iss} (+${seqDiff(f.iss, on.first.sndNxt)})` : '');
    const syn = f === null ? undefined : segments(on.w.rec, on.w.a, 'out', f.localPort).filter((x) => isSyn(x)).at(-1);
    ck.ok('the new SYN\'s timestamp is larger than any of the old connection, so PAWS protects it', '新 SYN 的时间戳大于旧连接的任何时间戳，因此受到 PAWS 保护',
      syn?.options.ts !== undefined && ((syn.options.ts.val - on.first.lastTs) | 0) > 0, syn?.options.ts ? `old TSval ${on.first.lastTs}, new TSval ${syn.options.ts.val}` : 'no timestamp');
    ck.eq('the reused four-tuple\'s history: ESTABLISHED … TIME-WAIT, then a new SYN-SENT → ESTABLISHED', '被重用四元组的历史：ESTABLISHED … TIME-WAIT，然后是新的 SYN-SENT → ESTABLISHED',
      statePath(on.w.rec, on.w.a, on.first.port).slice(-4), ['TIME-WAIT', 'CLOSED', 'SYN-SENT', 'ESTABLISHED']);
    return { ...result(on.w, ck, f?.connId), absolute: true };
  },
};
