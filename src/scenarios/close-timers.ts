// The timers of closing: TIME-WAIT and its 2·MSL (restarted by a retransmitted FIN),
// LAST-ACK retries for orphans, and the FIN-WAIT-2 timeout.
import type { Tcb } from '../tcp/tcb.js';
import type { Scenario } from './types.js';
import { StackError } from '../stack/errors.js';
import {
  Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, statePath, enteredAt, segments, exchange, collect, bytes,
  isFin, isRst, fmtTime, stateEvents, timerEvents, pktIs, pktInfo, injectFrom, gaps, secs,
} from './common.js';

/** Client connects to port 80; the server application closes `serverDelay` after the client's FIN. */
function closeSetup(seed: number, serverDelay: number, opts: Parameters<typeof makeWorld>[1] = {}) {
  const w = makeWorld(seed, opts);
  let server: Tcb | null = null;
  serve(w.b, 80, (t) => {
    server = t;
    collect(t, () => w.sim.now());
    const end = t.user!.onEnd!;
    t.user!.onEnd = () => { end(); w.sim.after(serverDelay, () => t.close(w.sim.now())); };
  });
  const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
  c.openActive(w.sim.now());
  return { w, c, port: c.localPort, server: () => server as Tcb | null };
}

export const lastAckLost: Scenario = {
  name: 'last-ack-lost',
  title: { en: 'The last ACK is lost: TIME-WAIT absorbs the retransmitted FIN', zh: '最后的 ACK 丢失：TIME-WAIT 吸收重传的 FIN' },
  explain: {
    en:
      'This is the first reason for TIME-WAIT. The client\'s ACK of the server\'s FIN is lost. The server, in ' +
      'LAST-ACK, cannot tell a lost FIN from a lost ACK, so its retransmission timer sends the FIN again. If the ' +
      'client had forgotten the connection, that FIN would be answered with RST and the server\'s application would ' +
      'see an error for a connection that actually closed cleanly. Because the client is still in TIME-WAIT, it ' +
      'recognizes the FIN, acknowledges it again, and restarts the 2·MSL timer (RFC 9293 §3.10.7.4, TIME-WAIT: ' +
      '"acknowledge it, and restart the 2 MSL timeout"), since another copy of the FIN could still follow. ' +
      'Each retransmitted FIN restarts it again, so TIME-WAIT ends 2·MSL after the last FIN, not 2·MSL after it began. ' +
      'The server closes normally as soon as this second ACK arrives.',
    zh:
      '这是 TIME-WAIT 存在的第一个理由。客户端对服务器 FIN 的 ACK 丢失了。处于 LAST-ACK 的服务器无法区分 FIN 丢失和 ACK 丢失，' +
      '所以它的重传定时器再次发送 FIN。如果客户端已经忘掉了这条连接，这个 FIN 会被 RST 回应，服务器的应用程序会为一条实际上已正常关闭的连接看到错误。' +
      '因为客户端仍处于 TIME-WAIT，它认出这个 FIN，再次确认，并重新启动 2·MSL 定时器（RFC 9293 §3.10.7.4，TIME-WAIT：“确认它，并重启 2 MSL 超时”），' +
      '因为 FIN 可能还有别的副本随后到达。每一个重传的 FIN 都会让它重新开始计时，所以 TIME-WAIT 在最后一个 FIN 之后 2·MSL 才结束，' +
      '而不是从进入 TIME-WAIT 起算 2·MSL。第二个 ACK 一到，服务器就正常关闭。',
  },
  run({ seed }) {
    const { w, c, port, server } = closeSetup(seed, 20 * MS);
    const ck = new Checks();
    c.user = { onEstablished: () => { w.sim.after(100 * MS, () => c.close(w.sim.now())); } };
    // The client's ACK of the server's FIN: the first pure ACK the client sends after TIME-WAIT begins.
    w.faultA.dropWhen((p) => pktIs('ACK')(p) && c.state === 'TIME-WAIT', 1);
    w.sim.runUntilIdle();

    const sfins = segments(w.rec, w.b, 'out', port).filter(isFin);
    const rto = sfins.length === 2 ? sfins[1]!.t - sfins[0]!.t : -1;
    ck.ok('the server retransmits its FIN once, after its RTO (≥ 200 ms)', '服务器在其 RTO（≥ 200 ms）之后重传一次 FIN',
      sfins.length === 2 && sfins[1]!.seq === sfins[0]!.seq && sfins[1]!.retransmit === true && rto >= 200 * MS,
      `${sfins.length} FINs, ${rto / MS} ms apart`);
    const cout = segments(w.rec, w.a, 'out', port).filter((x) => sfins.length > 0 && x.t > sfins[0]!.t);
    ck.eq('the client ACKs both copies of the FIN; the first ACK is lost', '客户端确认 FIN 的两个副本；第一个 ACK 丢失',
      cout.map((x) => (x.lost ? 'lost' : 'ok')), ['lost', 'ok']);
    const sets = timerEvents(w.rec, w.a, 'time-wait', 'set');
    const fin2At = sfins.length === 2 ? sfins[1]!.t + 5 * MS : -1;
    ck.ok('TIME-WAIT timer restarted at the FIN\'s arrival: it now ends 2·MSL after it', 'TIME-WAIT 定时器在 FIN 到达时重启：现在在其后 2·MSL 结束',
      sets.length === 2 && sets[1]!.t === fin2At && sets[1]!.at === fin2At + 60 * SEC,
      sets.map((x) => `set at ${fmtTime(x.t)} → ${fmtTime(x.at ?? 0)}`).join('; '));
    const tw = enteredAt(w.rec, w.a, 'TIME-WAIT', port), closed = stateEvents(w.rec, w.a, port).at(-1);
    ck.ok('the client closes 2·MSL after the retransmitted FIN, not after entering TIME-WAIT', '客户端在重传的 FIN 之后 2·MSL 关闭，而不是在进入 TIME-WAIT 之后',
      closed !== undefined && closed.to === 'CLOSED' && closed.t === fin2At + 60 * SEC && closed.t > tw + 60 * SEC,
      closed ? `TIME-WAIT at ${fmtTime(tw)}, CLOSED at ${fmtTime(closed.t)}` : '');
    ck.eq('the client stays in TIME-WAIT throughout (no state change on the duplicate FIN)', '客户端始终处于 TIME-WAIT（收到重复 FIN 时状态不变）',
      statePath(w.rec, w.a, port).slice(-2), ['TIME-WAIT', 'CLOSED']);
    const sc = stateEvents(w.rec, w.b, port).at(-1);
    ck.ok('the server closes normally (LAST-ACK → CLOSED) on the second ACK — no RST, no error', '服务器在第二个 ACK 到达时正常关闭（LAST-ACK → CLOSED）——没有 RST，没有错误',
      sc !== undefined && sc.from === 'LAST-ACK' && sc.cause === 'normal' && server()?.error === null && !segments(w.rec, w.a, 'out', port).some(isRst),
      sc ? `${sc.from} → ${sc.to} (${sc.cause}) at ${fmtTime(sc.t)}` : '');
    return result(w, ck, c.connId);
  },
};

export const timeWait2msl: Scenario = {
  name: 'time-wait-2msl',
  title: { en: 'TIME-WAIT lasts 2·MSL', zh: 'TIME-WAIT 持续 2·MSL' },
  explain: {
    en:
      'MSL, the maximum segment lifetime, bounds how long a segment can survive in the network. Linux uses 30 s, so ' +
      'its TIME-WAIT lasts 60 s; RFC 793 suggested 2 minutes (a 4-minute TIME-WAIT), the figure many textbooks quote. ' +
      'The side that closes first waits 2·MSL in TIME-WAIT: one MSL for its final ACK to reach the peer, one MSL ' +
      'for a retransmitted FIN to come back. During that time every old segment of this connection dies out, so ' +
      'none can be mistaken for data of a new connection between the same two endpoints — the second reason for ' +
      'TIME-WAIT. Here a delayed duplicate of the server\'s response (put on the wire by the scenario: the server did ' +
      'not send it again) arrives 10 s into TIME-WAIT: it is ' +
      'acknowledged and dropped, not delivered. The server, which has forgotten the connection, answers that ACK ' +
      'with RST. With Linux\'s default, tcp_rfc1337 = 0, that RST would end TIME-WAIT early — the "TIME-WAIT ' +
      'assassination" hazard RFC 1337 describes; this client sets tcp_rfc1337 = 1, RFC 1337\'s remedy, and ignores it. Meanwhile the four-tuple stays reserved: connecting again from the ' +
      'same port fails with EADDRINUSE (tcp_tw_reuse is off here) until TIME-WAIT ends, exactly 60 s after it ' +
      'began; then the same port works again. Busy clients that close first accumulate TIME-WAIT entries; see ' +
      'time-wait-reuse.',
    zh:
      'MSL（最长报文段寿命）限定了报文段在网络中能存活多久。Linux 取 30 秒，所以它的 TIME-WAIT 持续 60 秒；' +
      'RFC 793 建议的是 2 分钟（TIME-WAIT 为 4 分钟），许多教科书引用的正是这个数字。先关闭的一方在 TIME-WAIT 中等待 2·MSL：' +
      '一个 MSL 让它的最后一个 ACK 到达对方，另一个 MSL 让重传的 FIN 返回。在这段时间里，这条连接的所有旧报文段都会消亡，' +
      '因此不会被误认为同一对端点之间新连接的数据——这是 TIME-WAIT 的第二个理由。这里服务器响应的一个延迟副本（由场景注入，并不是服务器又发了一次）在 TIME-WAIT 开始 10 秒后到达：' +
      '它被确认并丢弃，没有交付。已经忘掉这条连接的服务器用 RST 回应那个 ACK。按 Linux 的默认设置 tcp_rfc1337 = 0，这个 RST 会提前结束 TIME-WAIT——' +
      '这正是 RFC 1337 所说的“TIME-WAIT 暗杀”隐患；这个客户端设置了 tcp_rfc1337 = 1（RFC 1337 给出的补救办法），因而忽略它。与此同时四元组一直被占用：从同一端口再次连接会以 EADDRINUSE 失败（这里关闭了 tcp_tw_reuse），' +
      '直到 TIME-WAIT 在开始后整整 60 秒结束；之后同一端口又可以使用。先关闭的繁忙客户端会积累 TIME-WAIT 条目；参见 time-wait-reuse。',
  },
  run({ seed }) {
    const w = makeWorld(seed, { optionsA: { tcp_tw_reuse: 0, tcp_rfc1337: 1 } });
    const ck = new Checks();
    const now = (): number => w.sim.now();
    serve(w.b, 80, (t) => {
      let answered = false;
      t.user = {
        onReadable: () => { t.receive(1 << 16, now()); if (!answered) { answered = true; t.send(bytes('200 OK'), now()); } },
        onEnd: () => { t.close(now()); },
      };
    });
    let dup: Uint8Array | null = null;
    // Keep a copy of the server's response packet: it will reappear as a delayed duplicate.
    w.faultB.dropWhen((p) => { if (dup === null && (pktInfo(p)?.len ?? 0) > 0) dup = p.slice(); return false; });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    let got = '';
    c.user = {
      onEstablished: () => { c.send(bytes('GET /'), now()); },
      onReadable: () => { got += new TextDecoder().decode(c.receive(1 << 16, now())); w.sim.after(100 * MS, () => c.close(now())); },
    };
    c.openActive(now());
    w.sim.runUntil(() => c.state === 'TIME-WAIT');
    const tw = w.sim.now();
    const deliveredBefore = c.bytesReceived;
    w.sim.at(tw + 10 * SEC, () => { if (dup !== null) injectFrom(w, w.b, dup); });
    let err30 = '';
    let port30: string | number = 0;
    w.sim.at(tw + 30 * SEC, () => {
      try { w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80, localPort: port }); err30 = 'connected'; } catch (e) { err30 = (e as StackError).code; }
    });
    w.sim.at(tw + 61 * SEC, () => {
      try { const c2 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80, localPort: port }); c2.openActive(w.sim.now()); port30 = c2.localPort; } catch (e) { port30 = (e as StackError).code; }
    });
    w.sim.runUntilIdle();

    const closed = stateEvents(w.rec, w.a, port).find((x) => x.from === 'TIME-WAIT');
    ck.ok('TIME-WAIT lasts exactly 2·MSL = 60 s', 'TIME-WAIT 恰好持续 2·MSL = 60 秒', closed !== undefined && closed.t - tw === 60 * SEC,
      closed ? `${fmtTime(tw)} → ${fmtTime(closed.t)} (${closed.cause})` : 'never');
    const ackDup = segments(w.rec, w.a, 'out', port).filter((x) => x.t === tw + 10 * SEC + 5 * MS);
    ck.ok('a delayed duplicate arriving in TIME-WAIT is acknowledged and not delivered', '在 TIME-WAIT 中到达的延迟副本被确认而不被交付',
      dup !== null && ackDup.length === 1 && c.bytesReceived === deliveredBefore && got === '200 OK',
      `${ackDup.length} ACK; bytes delivered ${deliveredBefore} → ${c.bytesReceived}`);
    const rst = segments(w.rec, w.b, 'out', port).find(isRst);
    ck.ok('the server answers that ACK with RST; the client ignores it (tcp_rfc1337 = 1)', '服务器用 RST 回应那个 ACK；客户端忽略它（tcp_rfc1337 = 1）',
      rst !== undefined && closed !== undefined && closed.cause === 'time-wait-done', rst ? `RST at ${fmtTime(rst.t)}; TIME-WAIT ended by ${closed?.cause}` : 'no RST');
    ck.eq('reusing the four-tuple during TIME-WAIT fails with EADDRINUSE', '在 TIME-WAIT 期间重用四元组以 EADDRINUSE 失败', err30, 'EADDRINUSE');
    const est2 = stateEvents(w.rec, w.a, port).filter((x) => x.to === 'ESTABLISHED').length;
    ck.ok('after TIME-WAIT, the same port connects again', 'TIME-WAIT 结束后，同一端口可以再次连接', port30 === port && est2 === 2, `port ${port30}, ${est2} connections established`);
    return result(w, ck, c.connId);
  },
};

export const lastAckRetries: Scenario = {
  name: 'last-ack-retries',
  title: { en: 'LAST-ACK gives up after tcp_orphan_retries', zh: 'LAST-ACK 在 tcp_orphan_retries 次后放弃' },
  explain: {
    en:
      'The client sends its FIN and then its host disappears (crash, cable pulled). The server acknowledges the FIN, ' +
      'and a second later its application closes: the server sends its FIN and waits in LAST-ACK. No ACK will ever ' +
      'come. The application has already closed the socket, so nobody is waiting for the outcome: the connection ' +
      'is an orphan, and for orphans Linux limits the retransmissions to tcp_orphan_retries (3 here; 0 means 8) ' +
      'instead of the ~15 minutes of tcp_retries2, so that dead peers cannot pin kernel memory for long. The FIN is ' +
      'retransmitted with exponential backoff (RTO 200 ms, 400 ms, 800 ms, 1.6 s) and then the connection is ' +
      'deleted silently.',
    zh:
      '客户端发送 FIN 之后，它的主机消失了（崩溃、拔掉网线）。服务器确认了这个 FIN，一秒后它的应用程序关闭：服务器发送自己的 FIN，在 LAST-ACK 中等待。' +
      'ACK 永远不会来。应用程序已经关闭了套接字，没有人在等待结果：这条连接是一个孤儿（orphan），对孤儿连接 Linux 把重传次数限制为 tcp_orphan_retries' +
      '（这里是 3；0 表示 8），而不是 tcp_retries2 的大约 15 分钟，这样已失效的对端就不能长期占用内核内存。FIN 以指数退避重传' +
      '（RTO 200 ms、400 ms、800 ms、1.6 s），然后连接被悄悄删除。',
  },
  run({ seed }) {
    const { w, c, port } = closeSetup(seed, 1 * SEC, { optionsB: { tcp_orphan_retries: 3 } });
    const ck = new Checks();
    c.user = { onEstablished: () => { w.sim.after(100 * MS, () => c.close(w.sim.now())); } };
    // The client's host dies once its FIN has been acknowledged.
    w.sim.runUntil(() => c.state === 'FIN-WAIT-2');
    const dead = w.sim.now();
    w.faultA.partition(true);
    w.faultB.partition(true);
    w.sim.runUntilIdle();

    const fins = segments(w.rec, w.b, 'out', port).filter(isFin);
    ck.eq('the server sends its FIN 1 + tcp_orphan_retries (3) times', '服务器发送 FIN 1 + tcp_orphan_retries（3）次', fins.length, 4);
    ck.eq('retransmissions 200, 400, 800 ms apart (exponential backoff)', '重传间隔 200、400、800 ms（指数退避）', secs(gaps(fins.map((x) => x.t))), [0.2, 0.4, 0.8]);
    const last = stateEvents(w.rec, w.b, port).at(-1);
    ck.ok('LAST-ACK → CLOSED one more doubled RTO (1.6 s) after the last FIN', '在最后一个 FIN 之后再过一个加倍的 RTO（1.6 秒），LAST-ACK → CLOSED',
      last !== undefined && last.from === 'LAST-ACK' && last.to === 'CLOSED' && fins.length === 4 && last.t - fins[3]!.t === 1600 * MS,
      last ? `${last.from} → ${last.to} (${last.cause}) at ${fmtTime(last.t)}` : '');
    ck.eq('nothing left on the server: no connection, no orphan', '服务器上什么也没留下：没有连接，没有孤儿', [w.b.connectionCount, w.b.orphanCount], [0, 0]);
    ck.ok('all the FINs were sent after the client died', '所有 FIN 都是在客户端主机宕机之后发出的', fins.every((x) => x.t > dead && x.lost === true), `client died at ${fmtTime(dead)}`);
    return result(w, ck, c.connId);
  },
};

export const finWait2Timeout: Scenario = {
  name: 'fin-wait-2-timeout',
  title: { en: 'FIN-WAIT-2 timeout for an orphan; CLOSE-WAIT forever', zh: '孤儿连接的 FIN-WAIT-2 超时；永远的 CLOSE-WAIT' },
  explain: {
    en:
      'The client closes; the server\'s TCP acknowledges the FIN, but the server application never calls close(). ' +
      'The server sits in CLOSE-WAIT, and the protocol has no timer there: only the application can leave ' +
      'CLOSE-WAIT. Sockets piling up in CLOSE-WAIT on a server therefore always mean an application bug — it does ' +
      'not notice end-of-file, or leaks sockets.\n' +
      'The client waits in FIN-WAIT-2 for a FIN that never comes. The RFC sets no limit there either, but this ' +
      'client has closed its socket (it is an orphan): nobody could read whatever the peer might still send. So ' +
      'Linux deletes an orphan in FIN-WAIT-2 after tcp_fin_timeout (60 s), silently. When the server finally ' +
      'closes, 100 s later, its FIN reaches a host that no longer knows the connection, and the answer is RST.',
    zh:
      '客户端关闭；服务器的 TCP 确认了 FIN，但服务器应用程序一直不调用 close()。服务器停在 CLOSE-WAIT，而协议在这个状态没有定时器：' +
      '只有应用程序才能离开 CLOSE-WAIT。因此服务器上堆积的 CLOSE-WAIT 套接字总是意味着应用程序的缺陷——它没有注意到文件结束，或者泄漏了套接字。\n' +
      '客户端在 FIN-WAIT-2 中等待一个永远不会来的 FIN。RFC 对此也没有规定上限，但这个客户端已经关闭了它的套接字（它是孤儿）：' +
      '对方可能还会发送的任何东西都没人能读了。所以 Linux 在 tcp_fin_timeout（60 秒）之后悄悄删除处于 FIN-WAIT-2 的孤儿连接。' +
      '当服务器终于在 100 秒后关闭时，它的 FIN 到达一个已经不认识这条连接的主机，得到的回答是 RST。',
  },
  run({ seed }) {
    const { w, c, port } = closeSetup(seed, 100 * SEC);
    const ck = new Checks();
    c.user = { onEstablished: () => { w.sim.after(100 * MS, () => c.close(w.sim.now())); } };
    let serverStateAt99 = '';
    w.sim.at(99 * SEC, () => { serverStateAt99 = w.b.tcbs().map((t) => t.state).join(','); });
    w.sim.runUntilIdle();

    const fw2 = enteredAt(w.rec, w.a, 'FIN-WAIT-2', port);
    const end = stateEvents(w.rec, w.a, port).at(-1);
    ck.ok('the orphaned client leaves FIN-WAIT-2 after tcp_fin_timeout = 60 s', '孤儿客户端在 tcp_fin_timeout = 60 秒后离开 FIN-WAIT-2',
      end !== undefined && end.from === 'FIN-WAIT-2' && end.to === 'CLOSED' && end.t - fw2 === 60 * SEC && end.cause === 'fin-wait-2-timeout',
      end ? `${fmtTime(fw2)} → ${fmtTime(end.t)} (${end.cause})` : '');
    ck.ok('silently: the client sends nothing when the timer fires', '悄无声息：定时器到期时客户端什么也不发送',
      end !== undefined && !segments(w.rec, w.a, 'out', port).some((x) => x.t === end.t), '');
    ck.eq('the server is still in CLOSE-WAIT after 99 s', '99 秒后服务器仍处于 CLOSE-WAIT', serverStateAt99, 'CLOSE-WAIT');
    ck.eq('the server\'s late FIN is answered with RST', '服务器迟到的 FIN 得到 RST 回应', exchange(w.rec, w.a, port).slice(-2), ['S>C F.', 'C>S R']);
    const sEnd = stateEvents(w.rec, w.b, port).at(-1);
    ck.ok('the server closes on the RST (LAST-ACK → CLOSED)', '服务器因 RST 关闭（LAST-ACK → CLOSED）',
      sEnd !== undefined && sEnd.from === 'LAST-ACK' && sEnd.to === 'CLOSED' && sEnd.cause === 'reset', sEnd ? `${sEnd.from} → ${sEnd.to} (${sEnd.cause})` : '');
    ck.eq('no connections left', '没有剩余连接', [w.a.connectionCount, w.b.connectionCount], [0, 0]);
    return result(w, ck, c.connId);
  },
};
