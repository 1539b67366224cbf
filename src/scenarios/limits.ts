// Growth and limits: congestion avoidance (linear growth above ssthresh) beside slow start,
// and tcp_max_orphans taking effect.
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode } from '../tcp/types.js';
import type { Scenario } from './types.js';
import { Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, segments, pktInfo, fmtTime, isRst, isFin } from './common.js';

const RTT = 10 * MS;

export const congestionAvoidance: Scenario = {
  name: 'congestion-avoidance',
  title: { en: 'Congestion avoidance: linear growth after ssthresh', zh: '拥塞避免：越过 ssthresh 之后线性增长' },
  explain: {
    en:
      'Slow start doubles the congestion window every round trip until something tells the sender it has gone too ' +
      'far. Here one data segment is lost: the sender notices from three duplicate ACKs, retransmits it (fast ' +
      'retransmit) and halves its window — Reno/NewReno sets ssthresh = cwnd = FlightSize / 2 (RFC 5681 §3.2). From ' +
      'then on cwnd ≥ ssthresh, and the sender is in congestion avoidance: cwnd grows by about one segment per round ' +
      'trip (each ACK adds SMSS·SMSS/cwnd, RFC 5681 §3.1 eq. 3), a straight line instead of a doubling. This is the ' +
      '"additive increase, multiplicative decrease" (AIMD) sawtooth of the textbooks; slow start (see slow-start) ' +
      'only ever runs below ssthresh. NewReno is chosen here because its line is the textbook one; Linux\'s default, ' +
      'CUBIC, grows along a cubic curve in congestion avoidance instead.',
    zh:
      '慢开始每个往返把拥塞窗口翻一番，直到有迹象表明发送方发得太多了。这里丢失了一个数据报文段：发送方从三个重复确认得知这一点，' +
      '立即重传它（快重传），并把窗口减半——Reno/NewReno 设定 ssthresh = cwnd = 在途数据量 / 2（RFC 5681 §3.2）。从此 cwnd ≥ ssthresh，' +
      '发送方进入拥塞避免阶段：cwnd 每个往返大约只增加一个报文段（每个 ACK 增加 SMSS·SMSS/cwnd，RFC 5681 §3.1 式 3），' +
      '是一条直线，而不再翻倍。这就是教科书里“加法增大、乘法减小”（AIMD）的锯齿；慢开始（参见 slow-start）只在 ssthresh 之下进行。' +
      '这里选用 NewReno，是因为它的直线正是教科书上的那条；Linux 的默认算法 CUBIC 在拥塞避免阶段则沿三次函数曲线增长。',
  },
  run({ seed }) {
    const w = makeWorld(seed, { optionsA: { tcp_congestion_control: 'newreno' } });
    const ck = new Checks();
    const now = (): number => w.sim.now();
    let received = 0;
    serve(w.b, 80, (t) => { t.user = { onReadable: () => { received += t.receive(1 << 20, now()).length; } }; });
    const size = 1_500_000;
    const data = new Uint8Array(size).fill(0x62);
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80, sndBuf: 1 << 21 });
    let off = 0;
    const pump = (): void => {
      while (off < size) { const n = c.send(data, now(), off); if (n <= 0) return; off += n; }
      if (c.state === 'ESTABLISHED') c.close(now());
    };
    c.user = { onEstablished: pump, onWritable: pump };
    // Lose the 40th data segment of the transfer (its first transmission).
    let n = 0;
    w.faultA.dropWhen((p) => (pktInfo(p)?.len ?? 0) > 0 && ++n === 40, 1);
    let exitAt = -1, lossAt = -1, cwndAtLoss = 0;
    const cc = c.cc;
    const onLoss = cc.onLossDetected.bind(cc), onExit = cc.onRecoveryExit.bind(cc);
    cc.onLossDetected = (f: number, t: number): void => { lossAt = t; cwndAtLoss = cc.cwnd; onLoss(f, t); };
    cc.onRecoveryExit = (t: number): void => { onExit(t); if (exitAt < 0) exitAt = t; };
    c.openActive(now());
    const cwndAt: Array<[number, number]> = [];
    while (w.sim.step()) cwndAt.push([w.sim.now(), c.cc.cwnd]);
    const at = (t: number): number => { let v = 0; for (const [x, y] of cwndAt) { if (x > t) break; v = y; } return v; };

    const mss = c.effMss;
    ck.ok('one loss, repaired by fast retransmit (no timeout)', '一次丢包，由快重传修复（没有超时）',
      w.a.counters.TcpExtTCPRenoRecovery + w.a.counters.TcpExtTCPSackRecovery === 1 && w.a.counters.TcpExtTCPTimeouts === 0 && lossAt > 0,
      `loss detected at ${fmtTime(lossAt)}`);
    ck.ok('ssthresh = half the flight at the loss; cwnd = ssthresh when recovery ends', '丢包时 ssthresh = 在途数据量的一半；恢复结束时 cwnd = ssthresh',
      exitAt > 0 && Math.abs(at(exitAt) - c.cc.ssthresh) <= mss && c.cc.ssthresh < cwndAtLoss,
      `cwnd at loss ${Math.round(cwndAtLoss / mss)} segments, ssthresh ${Math.round(c.cc.ssthresh / mss)}`);
    // Ten round trips after recovery: about ten segments more, never more than two in one.
    const rounds = Array.from({ length: 11 }, (_, k) => at(exitAt + k * RTT) / mss);
    const growth = rounds.slice(1).map((v, i) => v - rounds[i]!);
    const total = rounds[10]! - rounds[0]!;
    ck.ok('after that, cwnd grows by about one segment per round trip (linear): ~10 in 10 round trips', '此后 cwnd 每个往返大约增加一个报文段（线性）：10 个往返约增加 10 个',
      total >= 8 && total <= 12 && growth.every((g) => g >= 0 && g <= 2), `cwnd per RTT (segments): ${rounds.map((x) => x.toFixed(1)).join(', ')}`);
    const early: number[] = [];
    for (let k = 0; 10 * MS + k * RTT + 1 < lossAt; k++) early.push(at(10 * MS + k * RTT + 1) / mss);
    ck.ok('before the loss it doubled every round trip (slow start)', '丢包之前它每个往返翻一番（慢开始）',
      early.length >= 3 && early.slice(1).every((v, i) => v >= 1.8 * early[i]!), `cwnd per RTT (segments): ${early.map((x) => x.toFixed(0)).join(', ')}`);
    ck.eq('all data delivered', '全部数据送达', received, size);
    return result(w, ck, c.connId);
  },
};

export const maxOrphans: Scenario = {
  name: 'max-orphans',
  title: { en: 'tcp_max_orphans: too many orphaned connections are reset', zh: 'tcp_max_orphans：孤儿连接过多时被复位' },
  explain: {
    en:
      'When an application closes a socket, the kernel keeps the connection going on its own until the close ' +
      'completes: it still has to deliver the data and the FIN, and wait for the peer\'s FIN (FIN-WAIT-1, ' +
      'FIN-WAIT-2, CLOSING, LAST-ACK). Such a connection has no process any more — an orphan — and only costs kernel ' +
      'memory, so Linux bounds their number with tcp_max_orphans. Above it, a connection that becomes an orphan is ' +
      'not closed gracefully but reset at once (the kernel logs "too many orphaned sockets"; counter ' +
      'TcpExtTCPAbortOnMemory), and its peer gets ECONNRESET. Here the limit is 2 and the server closes four ' +
      'connections whose clients never close theirs: two get a FIN and wait in FIN-WAIT-2 (for tcp_fin_timeout), ' +
      'the other two get a RST.',
    zh:
      '应用程序关闭套接字后，内核还要独自把连接维持到关闭完成：它仍需要送出数据和 FIN，并等待对方的 FIN（FIN-WAIT-1、FIN-WAIT-2、' +
      'CLOSING、LAST-ACK）。这样的连接已经不属于任何进程——成了孤儿——只占用内核内存，所以 Linux 用 tcp_max_orphans 限制它们的数量。' +
      '超过这个数时，新变成孤儿的连接不再正常关闭，而是被立即复位（内核日志 “too many orphaned sockets”；计数器 TcpExtTCPAbortOnMemory），' +
      '对端得到 ECONNRESET。这里上限是 2，服务器关闭四条连接，而客户端始终不关闭自己那一端：两条收到 FIN，在 FIN-WAIT-2 中等待' +
      '（直到 tcp_fin_timeout），另外两条收到 RST。',
  },
  run({ seed }) {
    const w = makeWorld(seed, { optionsB: { tcp_max_orphans: 2 } });
    const ck = new Checks();
    const now = (): number => w.sim.now();
    const accepted: Tcb[] = [];
    serve(w.b, 80, (t) => { accepted.push(t); });
    const errs: Array<TcpErrorCode | null> = [];
    const clients: Tcb[] = [];
    for (let i = 0; i < 4; i++) {
      const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
      const k = i;
      errs.push(null);
      c.user = { onClosed: (e) => { errs[k] = e; } };
      c.openActive(now());
      clients.push(c);
    }
    // At 1 s the server program closes all four (they become orphans); the clients stay silent.
    w.sim.at(1 * SEC, () => { for (const t of accepted) t.close(now()); });
    w.sim.runUntilIdle();

    const fins = accepted.filter((t) => segments(w.rec, w.b, 'out', t.remotePort).some(isFin)).length;
    const rsts = accepted.filter((t) => segments(w.rec, w.b, 'out', t.remotePort).some(isRst)).length;
    ck.eq('4 connections closed with tcp_max_orphans = 2: 2 FINs, 2 RSTs', '在 tcp_max_orphans = 2 时关闭 4 条连接：2 个 FIN，2 个 RST', [fins, rsts], [2, 2]);
    ck.eq('counter TcpExtTCPAbortOnMemory = 2', '计数器 TcpExtTCPAbortOnMemory = 2', w.b.counters.TcpExtTCPAbortOnMemory, 2);
    ck.eq('the reset clients get ECONNRESET; the others see end-of-file and stay (CLOSE-WAIT)', '被复位的客户端得到 ECONNRESET；其余的收到文件结束，保持在 CLOSE-WAIT',
      [errs.filter((e) => e === 'ECONNRESET').length, clients.filter((c) => c.error === null).length], [2, 2]);
    return result(w, ck);
  },
};
