// Moving data: flow control with a zero window and persist probes, loss recovery by fast
// retransmit and SACK (RFC 6675), and slow start.
import type { Tcb } from '../tcp/tcb.js';
import type { Scenario } from './types.js';
import { seqDiff } from '../tcp/seq.js';
import {
  Checks, MS, SERVER_ADDR, makeWorld, result, serve, segments, fmtTime, gaps, isPureAck, pktInfo, type Seg,
} from './common.js';

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 8)) & 255;
  return b;
}

function equal(a: Uint8Array, b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Keep writing `data` into `c` as space frees up (onEstablished / onWritable). */
function pump(c: Tcb, data: Uint8Array, now: () => number, onDone?: () => void): void {
  let off = 0;
  const go = (): void => {
    while (off < data.length) { const n = c.send(data, now(), off); if (n <= 0) break; off += n; }
    if (off === data.length && onDone) { const f = onDone; onDone = undefined; f(); }
  };
  const u = c.user ?? {};
  c.user = { ...u, onEstablished: go, onWritable: go };
}

export const zeroWindow: Scenario = {
  name: 'zero-window',
  title: { en: 'Zero window and persist probes', zh: '零窗口与坚持探测' },
  explain: {
    en:
      'Flow control: the receiver advertises how much buffer space it has left, and the sender may not send ' +
      'beyond it. This server has a 4 KB receive buffer and its application stops reading, so the window shrinks ' +
      'to zero and the sender must stop. The danger is deadlock: when the application reads again, the receiver ' +
      'sends a window update — a pure ACK, which is never acknowledged and never retransmitted. If it were lost, ' +
      'both sides would wait forever. So the sender runs the persist timer (RFC 9293 §3.8.6.1, RFC 1122 ' +
      '§4.2.2.17): while the window is zero it sends a probe, forcing the receiver to answer with its current ' +
      'window, backing off exponentially and never giving up as long as the probes are answered (like Linux, the ' +
      'receiver answers such out-of-window segments at most once per 500 ms, tcp_invalid_ratelimit, so one probe ' +
      'here goes unanswered and the next one is answered). When the reader ' +
      'drains the buffer, the window reopens and the transfer completes. The receiver also never shrinks the ' +
      'window it offered (§3.8.6), and neither side sends tiny segments to fill small gaps (silly window ' +
      'syndrome avoidance, RFC 1122 §4.2.3.3–4).',
    zh:
      '流量控制：接收方通告它还剩多少缓冲空间，发送方不得超出。这个服务器只有 4 KB 的接收缓冲区，而且它的应用程序停止了读取，' +
      '于是窗口缩小到零，发送方必须停下。危险在于死锁：当应用程序重新读取时，接收方发送一个窗口更新——这是一个纯 ACK，' +
      '永远不会被确认，也永远不会被重传。如果它丢了，双方就会永远等下去。所以发送方运行坚持定时器（RFC 9293 §3.8.6.1、RFC 1122 §4.2.2.17）：' +
      '只要窗口为零，它就发送探测报文，迫使接收方回答当前窗口，探测间隔按指数退避，而且只要探测有回答就永不放弃' +
      '（和 Linux 一样，接收方对这种窗口外报文段每 500 ms 最多回答一次，即 tcp_invalid_ratelimit，所以这里有一个探测没有得到回答，下一个才得到）。' +
      '当读者清空缓冲区后，窗口重新打开，传输得以完成。接收方也从不收缩它已经提供的窗口（§3.8.6），' +
      '双方都不会为了填补小空隙而发送很小的报文段（糊涂窗口综合症的避免，RFC 1122 §4.2.3.3–4）。',
  },
  run({ seed }) {
    // A 4 KB buffer that never grows; rmem_max too, so that the window is not scaled (the
    // shift follows max(tcp_rmem[2], rmem_max), as Linux's tcp_select_initial_window).
    const w = makeWorld(seed, { optionsB: { tcp_rmem: [4096, 4096, 4096], rmem_max: 4096 } });
    const ck = new Checks();
    const now = (): number => w.sim.now();
    const got: number[] = [];
    let reading = false;
    const READ_AT = 3000 * MS;
    serve(w.b, 80, (t) => {
      const read = (): void => { if (reading) for (let d = t.receive(1 << 16, now()); d.length > 0; d = t.receive(1 << 16, now())) for (const x of d) got.push(x); };
      t.user = { onReadable: read, onEnd: () => { t.close(now()); } };
      w.sim.at(READ_AT, () => { reading = true; read(); });
    });
    const data = pattern(12_000);
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    pump(c, data, now, () => c.close(now()));
    c.openActive(now());
    w.sim.runUntilIdle();

    const sAcks = segments(w.rec, w.b, 'out', port).filter(isPureAck);
    const zero = sAcks.find((x) => x.win === 0);
    ck.ok('the receiver advertises a zero window once its 4 KB buffer is full', '接收方在 4 KB 缓冲区填满后通告零窗口',
      zero !== undefined && zero.t < READ_AT, zero ? `win=0 at ${fmtTime(zero.t)}` : 'never');
    const probes = segments(w.rec, w.a, 'out', port).filter((x) => x.len === 0 && (x.flags & 0x07) === 0 && zero !== undefined && x.t > zero.t && x.t < READ_AT);
    const g = gaps(probes.map((x) => x.t));
    ck.ok('the sender probes the zero window with backoff: each interval double the previous', '发送方以退避方式探测零窗口：每个间隔是前一个的两倍',
      probes.length >= 3 && g.every((x, i) => i === 0 || x === 2 * g[i - 1]!), `${probes.length} probes, ${g.map((x) => `${x / MS} ms`).join(', ')}`);
    // Replies to out-of-window segments are rate-limited (tcp_invalid_ratelimit, 500 ms, as in Linux).
    let lastReply = -Infinity;
    const answered = probes.map((p) => {
      const a = sAcks.find((x) => x.t === p.t + 5 * MS && x.win === 0);
      if (a !== undefined) lastReply = a.t;
      return a !== undefined ? 'answered' : p.t + 5 * MS - lastReply < 500 * MS ? 'rate-limited' : 'unanswered';
    });
    ck.ok('the probes are answered with the (still zero) window, at most one reply per 500 ms; the connection is never dropped', '探测得到（仍为零的）窗口的回答，每 500 ms 最多一个回答；连接从未被中断',
      !answered.includes('unanswered') && answered.includes('answered') && w.a.counters.TcpExtTCPZeroWindowProbes === probes.length && c.error === null,
      answered.join(', '));
    const update = sAcks.find((x) => x.t >= READ_AT && x.win > 0);
    ck.ok('when the application reads, a window update reopens the window at once', '应用程序读取时，窗口更新立即重新打开窗口',
      // As Linux: the update offers the free buffer up to rcv_ssthresh (what the offer had grown
      // to while data came in), not necessarily the whole 4 KB.
      update !== undefined && update.t === READ_AT && update.win >= 2048, update ? `win=${update.win} at ${fmtTime(update.t)}` : 'none');
    const sentData = segments(w.rec, w.a, 'out', port).filter((x) => x.len > 0);
    ck.ok('no tiny segments to fill small window gaps (SWS avoidance): only the last one is short', '不会为填补小的窗口空隙而发送极小的报文段（SWS 避免）：只有最后一个较短',
      sentData.slice(0, -1).every((x) => x.len >= 1000), `segment sizes ${sentData.map((x) => x.len).join(', ')}`);
    ck.ok('all 12000 bytes arrive intact', '全部 12000 字节完整到达', equal(data, got), `${got.length} bytes`);
    return result(w, ck, c.connId);
  },
};

export const lossRecovery: Scenario = {
  name: 'loss-recovery',
  title: { en: 'Loss recovery: fast retransmit and SACK recovery of two holes', zh: '丢包恢复：快速重传与 SACK 恢复两个空洞' },
  explain: {
    en:
      'Two data segments of a burst are lost. The receiver cannot acknowledge beyond the first hole, so every later ' +
      'segment makes it repeat the same cumulative ACK at once — a duplicate ACK — and, since SACK was negotiated, ' +
      'each duplicate ACK also lists the blocks received above the holes (RFC 2018). The sender keeps them in a ' +
      'scoreboard. One duplicate ACK might just mean reordering; three segments SACKed above a hole mean it is lost ' +
      '(RFC 6675 IsLost). So on the third duplicate ACK the sender retransmits the first hole immediately (fast ' +
      'retransmit, RFC 5681 §3.2) instead of waiting for the retransmission timer, and enters SACK-based loss ' +
      'recovery (RFC 6675): it lowers its window (CUBIC: ssthresh = cwnd = 0.7 × flight) rather than collapsing to one ' +
      'segment, because data is evidently still flowing, and from then on sends only while its estimate of the data ' +
      'still in the network ("pipe": what was sent, minus what was SACKed or is lost) leaves room in the window. ' +
      'As more SACK blocks arrive, the second hole gets three SACKed segments above it too, and it is retransmitted ' +
      'at once — in the same round trip, before the first retransmission is even acknowledged. Without SACK ' +
      '(NewReno, RFC 6582) the sender learns of the second hole only from the ACK of the first retransmission, one ' +
      'round trip per hole. Only the two holes are resent, never the data the receiver already holds; one ACK then ' +
      'covers everything, recovery ends when it reaches the highest segment sent when it began, and the transfer goes ' +
      'on with no timeout.',
    zh:
      '一次突发中有两个数据报文段丢失了。接收方无法确认第一个空洞之后的数据，所以之后每到一个报文段，它都立即重复同一个累计确认——重复 ACK——' +
      '而且由于协商了 SACK，每个重复 ACK 还列出空洞之上已收到的数据块（RFC 2018）。发送方把它们记在一张记分板上。一个重复 ACK 可能只是乱序；' +
      '而一个空洞之上已有三个报文段被 SACK，就说明它丢了（RFC 6675 的 IsLost）。于是在第三个重复 ACK 时，发送方立即重传第一个空洞' +
      '（快速重传，RFC 5681 §3.2），而不是等待重传定时器，并进入基于 SACK 的丢包恢复（RFC 6675）：它降低窗口（CUBIC：ssthresh = cwnd = 0.7 × 在途数据），' +
      '而不是降到一个报文段，因为数据显然仍在流动；此后只有当它对仍在网络中的数据量的估计（“pipe”：已发送的数据减去已被 SACK 或已判定丢失的部分）' +
      '在窗口内还有余地时才发送。随着更多 SACK 块到达，第二个空洞之上也有了三个被 SACK 的报文段，它立即被重传——在同一个往返内，' +
      '甚至在第一个重传被确认之前。没有 SACK 时（NewReno，RFC 6582），发送方要等到第一个重传的 ACK 才知道第二个空洞，每个空洞需要一个往返。' +
      '只有这两个空洞被重传，接收方已有的数据从不重发；随后一个 ACK 覆盖全部数据，当它到达恢复开始时发出的最高序号时恢复结束，传输继续，没有超时。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const now = (): number => w.sim.now();
    const got: number[] = [];
    serve(w.b, 80, (t) => { t.user = { onReadable: () => { for (const x of t.receive(1 << 20, now())) got.push(x); } }; });
    const data = pattern(30_000);
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    // Lose the third and the sixth data segment of the first burst (first transmissions only).
    let dataSegs = 0;
    const lost: number[] = [];
    w.faultA.dropWhen((p) => {
      const i = pktInfo(p);
      if (i === null || i.len === 0) return false;
      dataSegs++;
      if (dataSegs === 3 || dataSegs === 6) { lost.push(i.seq); return true; }
      return false;
    }, 2);
    pump(c, data, now, () => c.close(now()));
    let ssthreshBefore = 0, flight = 0;
    const cc = c.cc;
    const onLoss = cc.onLossDetected.bind(cc);
    cc.onLossDetected = (inFlight: number, t: number): void => { ssthreshBefore = cc.ssthresh; flight = inFlight; onLoss(inFlight, t); };
    c.openActive(now());
    w.sim.runUntilIdle();

    const RTT = 10 * MS;
    const [hole1, hole2] = lost as [number, number];
    const acks = segments(w.rec, w.b, 'out', port).filter(isPureAck);
    const dupAcks = acks.filter((x) => x.ack === hole1);
    const rtx = segments(w.rec, w.a, 'out', port).filter((x) => x.retransmit === true && x.len > 0);
    ck.ok('the receiver answers each segment after the first hole with a duplicate ACK for the missing byte', '接收方对第一个空洞之后的每个报文段都回复一个指向缺失字节的重复 ACK',
      dupAcks.length >= 4, `${dupAcks.length} ACKs with ack=${hole1} (1 + ${dupAcks.length - 1} duplicates)`);
    const rel = (x: number): number => seqDiff(x, hole1);
    ck.ok('the duplicate ACKs carry SACK blocks for the data received above the holes', '重复 ACK 携带 SACK 块，描述空洞之上已收到的数据',
      dupAcks.slice(1).every((x) => (x.options.sack?.length ?? 0) > 0 && seqDiff(x.options.sack![0]![0], hole1) > 0),
      dupAcks.slice(1, 4).map((x) => JSON.stringify((x.options.sack ?? []).map(([l, r]) => [rel(l), rel(r)]))).join(' '));
    const third = dupAcks[3];
    ck.ok('the first hole is retransmitted the moment the third duplicate ACK arrives', '第三个重复 ACK 一到，第一个空洞就被重传',
      rtx.length > 0 && rtx[0]!.seq === hole1 && third !== undefined && rtx[0]!.t === third.t + 5 * MS,
      rtx.length > 0 ? `retransmit seq=${rtx[0]!.seq} at ${fmtTime(rtx[0]!.t)}; 3rd dup ACK sent at ${third ? fmtTime(third.t) : '?'}` : 'none');
    ck.ok('the second hole is retransmitted in the same round trip, before the first retransmission is acknowledged', '第二个空洞在同一个往返内被重传，早于第一个重传得到确认',
      rtx.length > 1 && rtx[1]!.seq === hole2 && rtx[1]!.t - rtx[0]!.t < RTT,
      rtx.length > 1 ? `retransmit seq=${rtx[1]!.seq} (+${rel(rtx[1]!.seq)}) at ${fmtTime(rtx[1]!.t)}` : 'none');
    ck.eq('only the holes are resent: the SACKed data is not', '只重传空洞：已被 SACK 的数据不重传', rtx.map((x) => rel(x.seq)), [0, rel(hole2)]);
    ck.eq('SACK recovery, no timeout: TcpExtTCPSackRecovery=1, TcpExtTCPRenoRecovery=0, TcpExtTCPTimeouts=0, two retransmissions', 'SACK 恢复而非超时：TcpExtTCPSackRecovery=1、TcpExtTCPRenoRecovery=0、TcpExtTCPTimeouts=0、重传两次',
      [w.a.counters.TcpExtTCPSackRecovery, w.a.counters.TcpExtTCPRenoRecovery, w.a.counters.TcpExtTCPTimeouts, w.a.counters.TcpRetransSegs], [1, 0, 0, 2]);
    ck.ok('the window is cut to 0.7 × flight (CUBIC), not to one segment', '窗口被减到 0.7 × 在途数据（CUBIC），而不是一个报文段',
      ssthreshBefore > flight && Math.abs(c.cc.ssthresh - Math.floor(0.7 * flight)) <= c.effMss, `flight ${flight} → ssthresh ${c.cc.ssthresh}`);
    const full = acks.find((x) => rtx.length > 1 && x.t > rtx[1]!.t && seqDiff(x.ack, hole2) > 0);
    ck.ok('one ACK after the second retransmission covers everything received: both holes repaired in about one round trip', '第二个重传之后的一个 ACK 覆盖所有已收数据：两个空洞大约在一个往返内修复',
      full !== undefined && seqDiff(full.ack, hole2) > c.effMss && full.t - rtx[1]!.t === 5 * MS && full.t - rtx[0]!.t < 2 * RTT,
      full ? `ack +${rel(full.ack)} at ${fmtTime(full.t)}` : 'none');
    ck.ok('all 30000 bytes arrive intact', '全部 30000 字节完整到达', equal(data, got), `${got.length} bytes`);
    return result(w, ck, c.connId);
  },
};

export const slowStart: Scenario = {
  name: 'slow-start',
  title: { en: 'Slow start: the congestion window doubles every round trip', zh: '慢启动：拥塞窗口每个往返翻一番' },
  explain: {
    en:
      'A new connection knows nothing about the capacity of the path, and blasting a whole receive window into it ' +
      'could overflow a router queue. So the sender keeps a congestion window (cwnd) besides the receiver\'s ' +
      'window and sends no more than their minimum. It starts with the initial window — 10 segments (RFC 6928) — ' +
      'and in slow start grows cwnd by the amount of data each ACK acknowledges (RFC 5681 §3.1; at most two ' +
      'segments per ACK, RFC 3465). Every segment delivered lets two more go: the window doubles each round ' +
      'trip — 10, 20, 40, 80 segments — exponential, despite the name ("slow" only compared with sending ' +
      'everything at once). Slow start ends at the first loss (ssthresh is then set, and growth becomes linear or ' +
      'cubic) or when the receiver\'s window becomes the limit. Here it never does: the receiver starts with a ' +
      '128 KB buffer, but sees the application read more every round trip and grows the buffer ahead of the ' +
      'sender (receive-buffer autotuning, Linux tcp_rcv_space_adjust: about twice what was read per RTT, up to ' +
      'tcp_rmem[2]), so the window it announces stays larger than cwnd.',
    zh:
      '新连接对路径容量一无所知，一下子把整个接收窗口的数据灌进去，可能会让路由器队列溢出。所以发送方在接收方窗口之外还维护一个拥塞窗口（cwnd），' +
      '发送量不超过两者中的较小者。它从初始窗口开始——10 个报文段（RFC 6928）——在慢启动阶段，每个 ACK 确认多少数据，cwnd 就增加多少' +
      '（RFC 5681 §3.1；每个 ACK 最多两个报文段，RFC 3465）。每送达一个报文段就能再发两个：窗口每个往返翻一番——10、20、40、80 个报文段——' +
      '尽管名字叫“慢”，实际上是指数增长（“慢”只是相对于一次把所有数据都发出去而言）。慢启动在第一次丢包时结束（此时设定 ssthresh，' +
      '增长变为线性或三次函数式），或者在接收方窗口成为限制时结束。这里接收窗口始终不是限制：接收方从 128 KB 的缓冲区开始，' +
      '但看到应用每个往返读走的数据越来越多，就提前扩大缓冲区（接收缓冲区自动调整，Linux tcp_rcv_space_adjust：约为每个 RTT ' +
      '读取量的两倍，上限 tcp_rmem[2]），因此它通告的窗口一直大于 cwnd。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const now = (): number => w.sim.now();
    let received = 0;
    serve(w.b, 80, (t) => { t.user = { onReadable: () => { received += t.receive(1 << 20, now()).length; } }; });
    // Enough data for six full rounds (10+20+40+80+160+320 segments) and a partial seventh.
    const data = pattern(1_000_000);
    // A send buffer big enough that the application never limits the sender.
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80, sndBuf: 1 << 20 });
    const port = c.localPort;
    pump(c, data, now, () => c.close(now()));
    c.openActive(now());
    const cwndAt = new Map<number, number>();
    // The window the server announced, as the client holds it (SND.WND) at each instant.
    const wndAt = new Map<number, number>();
    while (w.sim.step()) { cwndAt.set(w.sim.now(), c.cc.cwnd); wndAt.set(w.sim.now(), c.sndWnd); }

    // Rounds: the instants at which the client sent new data (no bandwidth limit: a round leaves at once).
    const rounds = new Map<number, Seg[]>();
    for (const s of segments(w.rec, w.a, 'out', port)) {
      if (s.len === 0 || s.retransmit) continue;
      const r = rounds.get(s.t) ?? [];
      r.push(s);
      rounds.set(s.t, r);
    }
    const times = [...rounds.keys()].sort((x, y) => x - y);
    const counts = times.map((t) => rounds.get(t)!.length);
    const mss = c.effMss;
    ck.eq('initial window: 10 segments (RFC 6928)', '初始窗口：10 个报文段（RFC 6928）', counts[0], 10);
    // Before receive-buffer autotuning the fixed 128 KB window capped the fifth round at 90
    // segments; now the receiver's buffer grows ahead of cwnd and every round doubles.
    ck.eq('segments sent per round trip: 10, 20, 40, 80, 160, 320 — the receive window never becomes the limit', '每个往返发送的报文段：10、20、40、80、160、320——接收窗口从未成为限制',
      counts.slice(0, 6), [10, 20, 40, 80, 160, 320]);
    ck.ok('rounds are one round trip (10 ms) apart', '各轮之间相隔一个往返（10 ms）', gaps(times.slice(0, 6)).every((x) => x === 10 * MS), times.slice(0, 6).map(fmtTime).join(', '));
    const cw = times.slice(0, 6).map((t) => Math.round((cwndAt.get(t) ?? 0) / mss));
    ck.eq('cwnd when each round is sent, in segments: 10, 20, 40, 80, 160, 320 (doubling)', '每轮发送时的 cwnd（以报文段计）：10、20、40、80、160、320（翻倍）', cw, [10, 20, 40, 80, 160, 320]);
    const wnd = times.slice(0, 6).map((t) => wndAt.get(t) ?? 0);
    ck.ok('the receiver grows its window (from Linux\'s initial 64 KB) past 128 KB, ahead of each round (autotuning)', '接收方把窗口（从 Linux 的初始 64 KB）扩大到超过 128 KB，并始终领先于每一轮（自动调整）',
      wnd[5]! > 131072 && wnd.every((x, i) => x >= counts[i]! * mss), `window at each round (KB): ${wnd.map((x) => Math.round(x / 1024)).join(' ')}`);
    ck.eq('no loss: ssthresh never set, no retransmission, all data delivered', '没有丢包：ssthresh 从未设定，没有重传，所有数据送达',
      [c.cc.ssthresh === 0x7fffffff, w.a.counters.TcpRetransSegs, received], [true, 0, data.length]);
    return result(w, ck, c.connId);
  },
};
