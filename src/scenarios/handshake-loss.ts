// Losses during the handshake: a lost SYN, a lost SYN-ACK, a lost final ACK, and a server
// that never answers.
import type { TcpErrorCode } from '../tcp/types.js';
import type { Scenario } from './types.js';
import {
  Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, statePath, enteredAt, segments, exchange, collect, bytes,
  isSyn, isSynAck, pktIs, pktInfo, fmtTime, gaps, secs, stateEvents,
} from './common.js';

export const synLost: Scenario = {
  name: 'syn-lost',
  title: { en: 'A lost SYN: the client retries with backoff', zh: 'SYN 丢失：客户端以退避方式重试' },
  explain: {
    en:
      'A lost SYN is not fatal: it is retransmitted. Nothing acknowledges a lost SYN, so only the sender\'s ' +
      'retransmission timer can recover it. Before any round ' +
      'trip has been measured the timer starts at 1 s (RFC 6298 §2.1), and each time it expires it doubles ' +
      '(exponential backoff, §5.5): the SYN goes out at 0 s, 1 s, 3 s, 7 s… Backing off matters because a missing ' +
      'answer usually means congestion or an overloaded server, and retrying faster would make it worse. ' +
      'Here the first two SYNs are lost; the third gets through and the connection opens at 3 s plus one round trip. ' +
      'The SYN-ACK echoes the timestamp of the SYN that got through, so the RTT sample is correct despite the ' +
      'retransmissions (without timestamps, Karn\'s rule would forbid timing a retransmitted SYN). ' +
      'A lost SYN is also a hint of congestion: the client starts sending with a congestion window of one ' +
      'segment instead of the usual ten (RFC 5681 §3.1).',
    zh:
      'SYN 丢失并不致命：它会被重传。丢失的 SYN 不会被任何人确认，所以只有发送方的重传定时器能恢复它。在测得任何往返时间之前，定时器从 1 秒开始（RFC 6298 §2.1），' +
      '每次超时就加倍（指数退避，§5.5）：SYN 在 0 秒、1 秒、3 秒、7 秒……发出。退避很重要，因为没有回答通常意味着拥塞或服务器过载，' +
      '更快地重试只会让情况更糟。这里前两个 SYN 丢失，第三个到达，连接在 3 秒加一个往返时打开。' +
      'SYN-ACK 回显了到达的那个 SYN 的时间戳，所以尽管有重传，RTT 样本仍然正确（没有时间戳时，Karn 规则禁止对重传的 SYN 计时）。' +
      'SYN 丢失也暗示着拥塞：客户端开始发送时的拥塞窗口是一个报文段，而不是通常的十个（RFC 5681 §3.1）。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    serve(w.b, 80, () => {});
    w.faultA.dropWhen(pktIs('SYN'), 2);
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();

    const syns = segments(w.rec, w.a, 'out', port).filter(isSyn);
    ck.eq('SYN sent at 0 s, 1 s, 3 s (timeouts 1 s, 2 s: doubling)', 'SYN 在 0、1、3 秒发出（超时 1 秒、2 秒：加倍）', secs(syns.map((x) => x.t)), [0, 1, 3]);
    ck.eq('the first two SYNs lost, the third delivered', '前两个 SYN 丢失，第三个送达', syns.map((x) => (x.lost ? 'lost' : 'ok')), ['lost', 'lost', 'ok']);
    ck.ok('retransmitted SYNs reuse the same ISN', '重传的 SYN 使用同一个 ISN', syns.every((x) => x.seq === c.iss), `ISN=${c.iss}`);
    const t = enteredAt(w.rec, w.a, 'ESTABLISHED', port);
    ck.ok('ESTABLISHED at 3 s + one round trip', '在 3 秒加一个往返时进入 ESTABLISHED', t === 3 * SEC + 10 * MS, fmtTime(t));
    ck.eq('client counters: TcpExtTCPTimeouts=2, TcpRetransSegs=2', '客户端计数器：TcpExtTCPTimeouts=2、TcpRetransSegs=2',
      [w.a.counters.TcpExtTCPTimeouts, w.a.counters.TcpRetransSegs], [2, 2]);
    ck.ok('RTT measured from the echoed timestamp: 10 ms, not 3 s', '根据回显的时间戳测得 RTT：10 ms 而不是 3 秒', c.rtt.srtt === 10 * MS, `srtt=${c.rtt.srtt / MS} ms`);
    ck.eq('after the lost SYNs the congestion window is one segment (RFC 5681 §3.1)', 'SYN 丢失之后拥塞窗口是一个报文段（RFC 5681 §3.1）',
      `cwnd = ${c.cc.cwnd / c.effMss} × ${c.effMss} bytes`, 'cwnd = 1 × 1448 bytes');
    return result(w, ck, c.connId);
  },
};

export const synackLost: Scenario = {
  name: 'synack-lost',
  title: { en: 'A lost SYN-ACK: the server retransmits it, then gives up', zh: 'SYN-ACK 丢失：服务器重传它，最后放弃' },
  explain: {
    en:
      'A SYN-ACK has two senders that can repair its loss: the server, whose SYN-ACK timer (1 s, doubling) is ' +
      'running, and the client, whose SYN timer runs too. Both started one link delay apart, so they expire ' +
      'together: the client\'s retransmitted SYN reaches the server just when the server would retransmit anyway. ' +
      'The server answers it with the SYN-ACK and counts that as this round\'s retransmission (as Linux does), so ' +
      'one SYN-ACK goes out, not two. In the first connection only the first SYN-ACK is lost: it opens after 1 s.\n' +
      'In the second connection the network fails right after the SYN arrived. The server keeps a half-open ' +
      'connection (SYN-RECEIVED) in its SYN queue, retransmits the SYN-ACK tcp_synack_retries = 5 times ' +
      '(1, 2, 4, 8, 16 s apart) and, 32 s after the last one, 63 s after the SYN, releases it. That bound matters: ' +
      'each half-open connection holds memory and a slot in the SYN queue, which is what a SYN flood exploits. ' +
      'The client gives up later (tcp_syn_retries = 6: 127 s) with ETIMEDOUT. A SYN-ACK that arrives after the client ' +
      'has given up (CLOSED) is answered with RST (RFC 9293 §3.10.7.1), which makes the server drop its half-open ' +
      'connection at once instead of retrying.',
    zh:
      'SYN-ACK 的丢失有两个发送方可以修复：服务器，它的 SYN-ACK 定时器（1 秒，逐次加倍）在运行；以及客户端，它的 SYN 定时器也在运行。' +
      '两者启动时间只差一个链路延迟，所以同时到期：客户端重传的 SYN 恰好在服务器本来就要重传时到达。服务器用 SYN-ACK 回答它，' +
      '并把这算作本轮的重传（Linux 也是这样），所以只发出一个 SYN-ACK 而不是两个。第一条连接只丢了第一个 SYN-ACK：1 秒后打开。\n' +
      '在第二条连接中，网络在 SYN 到达后立即故障。服务器在 SYN 队列里保留一个半连接（SYN-RECEIVED），' +
      '重传 SYN-ACK tcp_synack_retries = 5 次（间隔 1、2、4、8、16 秒），并在最后一次之后 32 秒、即 SYN 之后 63 秒释放它。' +
      '这个上限很重要：每个半连接都占用内存和 SYN 队列中的一个位置，而 SYN 洪泛正是利用了这一点。' +
      '客户端更晚才放弃（tcp_syn_retries = 6：127 秒），报 ETIMEDOUT。如果 SYN-ACK 在客户端已经放弃（CLOSED）之后才到达，' +
      '客户端的 TCP 会用 RST 回应（RFC 9293 §3.10.7.1），服务器随即丢弃这个半连接，不再重试。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const l = serve(w.b, 80, () => {});
    // Connection 1: the first SYN-ACK is lost.
    w.faultB.dropWhen(pktIs('SYN-ACK'), 1);
    const c1 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const p1 = c1.localPort;
    c1.openActive(w.sim.now());
    w.sim.runUntilIdle();
    const sa1 = segments(w.rec, w.b, 'out', p1).filter(isSynAck);
    ck.eq('connection 1: SYN-ACK at 0.005 s (lost) and 1.005 s', '连接 1：SYN-ACK 在 0.005 秒（丢失）和 1.005 秒发出',
      sa1.map((x) => `${(x.t / SEC).toFixed(3)}${x.lost ? ' lost' : ''}`), ['0.005 lost', '1.005']);
    ck.eq('connection 1: the client retransmitted its SYN once', '连接 1：客户端重传了一次 SYN', segments(w.rec, w.a, 'out', p1).filter(isSyn).length, 2);
    const e1 = [enteredAt(w.rec, w.a, 'ESTABLISHED', p1), enteredAt(w.rec, w.b, 'ESTABLISHED', p1)];
    ck.ok('connection 1 opens at 1.010 s (client) / 1.015 s (server)', '连接 1 在 1.010 秒（客户端）/ 1.015 秒（服务器）打开',
      e1[0] === 1010 * MS && e1[1] === 1015 * MS, e1.map(fmtTime).join(', '));

    // Connection 2: the network fails once the SYN has arrived.
    const t0 = 10 * SEC;
    w.sim.runFor(t0 - w.sim.now());
    const c2 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const p2 = c2.localPort;
    let err: TcpErrorCode | null = null, errAt = -1;
    c2.user = { onClosed: (e) => { err = e; errAt = w.sim.now(); } };
    w.faultA.dropWhen((p) => pktInfo(p)?.srcPort === p2 && w.sim.now() > t0);
    w.faultB.dropWhen((p) => pktInfo(p)?.dstPort === p2);
    c2.openActive(w.sim.now());
    let queueAt60 = -1;
    w.sim.at(t0 + 60 * SEC, () => { queueAt60 = l.synQueue.size; });
    w.sim.runUntilIdle();
    const sa2 = segments(w.rec, w.b, 'out', p2).filter(isSynAck);
    ck.eq('connection 2: 1 + tcp_synack_retries (5) SYN-ACKs, 1, 2, 4, 8, 16 s apart', '连接 2：1 + tcp_synack_retries（5）个 SYN-ACK，间隔 1、2、4、8、16 秒',
      secs(gaps(sa2.map((x) => x.t))), [1, 2, 4, 8, 16]);
    const rel = stateEvents(w.rec, w.b, p2).find((x) => x.to === 'CLOSED');
    ck.ok('connection 2: the half-open connection is released 63 s after the SYN (SYN-RECEIVED → CLOSED)', '连接 2：半连接在 SYN 之后 63 秒被释放（SYN-RECEIVED → CLOSED）',
      rel !== undefined && rel.from === 'SYN-RECEIVED' && rel.t === t0 + 63 * SEC + 5 * MS, rel ? `${fmtTime(rel.t - t0)} after the SYN, cause ${rel.cause}` : 'not released');
    ck.eq('SYN queue: 1 entry at +60 s, empty at the end; only connection 1 left on the server', 'SYN 队列：+60 秒时 1 项，结束时为空；服务器上只剩连接 1',
      [queueAt60, l.synQueue.size, w.b.connectionCount], [1, 0, 1]);
    ck.ok('connection 2: the client gives up after 127 s with ETIMEDOUT', '连接 2：客户端在 127 秒后以 ETIMEDOUT 放弃',
      err === 'ETIMEDOUT' && errAt === t0 + 127 * SEC, `${err} after ${fmtTime(errAt - t0)}`);
    return result(w, ck);
  },
};

export const finalAckLost: Scenario = {
  name: 'final-ack-lost',
  title: { en: 'The handshake\'s final ACK is lost', zh: '握手的最后一个 ACK 丢失' },
  explain: {
    en:
      'When the third segment of the handshake is lost, the two sides disagree: the client is ESTABLISHED, the ' +
      'server still in SYN-RECEIVED. Nothing needs to be retransmitted specially, because every later segment from ' +
      'the client carries the same acknowledgment. In the first connection the client sends its request 200 ms ' +
      'later; the server takes the ACK field of that data segment as the missing ACK, becomes ESTABLISHED and ' +
      'accepts the data (RFC 9293 §3.10.7.4, fifth step in SYN-RECEIVED).\n' +
      'If the client stays silent, the server\'s SYN-ACK timer fires and it retransmits the SYN-ACK; the client, ' +
      'already ESTABLISHED, answers the duplicate with an ACK. In the second connection those ACKs are lost too ' +
      '(the path from client to server fails for a while): after tcp_synack_retries the server releases the ' +
      'half-open connection and forgets it. When the client finally sends data, the listener sees an ACK for no ' +
      'connection and answers RST; the client\'s send fails with ECONNRESET. A client protocol where the server ' +
      'speaks first (SMTP, SSH banners) is exposed to exactly this.',
    zh:
      '握手的第三个报文段丢失后，两端的看法不一致：客户端已是 ESTABLISHED，服务器仍在 SYN-RECEIVED。不需要专门重传什么，' +
      '因为客户端之后的每个报文段都携带同样的确认。在第一条连接中，客户端 200 ms 后发送请求；服务器把这个数据报文段的 ACK 字段' +
      '当作缺失的 ACK，进入 ESTABLISHED 并接受数据（RFC 9293 §3.10.7.4，SYN-RECEIVED 状态下的第五步）。\n' +
      '如果客户端一直不说话，服务器的 SYN-ACK 定时器到期，它重传 SYN-ACK；已经 ESTABLISHED 的客户端用一个 ACK 回答这个重复报文。' +
      '在第二条连接中这些 ACK 也丢失了（客户端到服务器的路径暂时故障）：在 tcp_synack_retries 次之后，服务器释放半连接并忘掉它。' +
      '当客户端终于发送数据时，监听者看到一个不属于任何连接的 ACK，回复 RST；客户端的发送以 ECONNRESET 失败。' +
      '由服务器先说话的协议（SMTP、SSH 的欢迎信息）恰好会遇到这种情况。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const got = new Map<number, { text(): string }>();
    serve(w.b, 80, (t) => { got.set(t.remotePort, collect(t, () => w.sim.now())); });

    // Connection 1: the ACK is lost, data follows 200 ms later.
    const c1 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const p1 = c1.localPort;
    w.faultA.dropWhen((p) => pktInfo(p)?.srcPort === p1 && pktIs('ACK')(p), 1);
    c1.openActive(w.sim.now());
    w.sim.at(200 * MS, () => { c1.send(bytes('hello'), w.sim.now()); });
    w.sim.runUntilIdle();
    ck.eq('connection 1: the final ACK is lost', '连接 1：最后的 ACK 丢失', exchange(w.rec, w.a, p1).slice(0, 4), ['C>S S', 'S>C S.', 'C>S . (lost)', 'C>S P. 5']);
    const est1 = stateEvents(w.rec, w.b, p1).find((x) => x.to === 'ESTABLISHED');
    ck.ok('connection 1: the server becomes ESTABLISHED on the data segment\'s ACK (0.205 s)', '连接 1：服务器在数据报文段的 ACK 到达时进入 ESTABLISHED（0.205 秒）',
      est1 !== undefined && est1.from === 'SYN-RECEIVED' && est1.t === 205 * MS, est1 ? `${est1.from} → ${est1.to} at ${fmtTime(est1.t)}` : 'never');
    ck.eq('connection 1: the data is accepted', '连接 1：数据被接受', got.get(p1)?.text() ?? '', 'hello');
    ck.eq('connection 1: no SYN-ACK retransmission was needed', '连接 1：不需要重传 SYN-ACK', segments(w.rec, w.b, 'out', p1).filter(isSynAck).length, 1);

    // Connection 2: the client's ACKs are lost for 70 s; it sends data at +70 s.
    const t0 = 10 * SEC;
    w.sim.runFor(t0 - w.sim.now());
    const c2 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const p2 = c2.localPort;
    let err: TcpErrorCode | null = null;
    c2.user = { onClosed: (e) => { err = e; } };
    w.faultA.dropWhen((p) => pktInfo(p)?.srcPort === p2 && pktIs('ACK')(p) && w.sim.now() < t0 + 70 * SEC);
    c2.openActive(w.sim.now());
    w.sim.at(t0 + 70 * SEC, () => { c2.send(bytes('hello?'), w.sim.now()); });
    w.sim.runUntilIdle();
    const sa2 = segments(w.rec, w.b, 'out', p2).filter(isSynAck);
    ck.eq('connection 2: the server retransmits its SYN-ACK 5 times (1, 2, 4, 8, 16 s apart)', '连接 2：服务器重传 SYN-ACK 5 次（间隔 1、2、4、8、16 秒）',
      secs(gaps(sa2.map((x) => x.t))), [1, 2, 4, 8, 16]);
    const acks2 = segments(w.rec, w.a, 'out', p2).filter((x) => x.len === 0 && x.flags === 0x10);
    ck.ok('connection 2: the client answers each duplicate SYN-ACK with an ACK (all lost)', '连接 2：客户端用 ACK 回答每个重复的 SYN-ACK（全部丢失）',
      acks2.length === 6 && acks2.every((x) => x.lost === true), `${acks2.length} ACKs, ${acks2.filter((x) => x.lost).length} lost`);
    ck.eq('connection 2: the server gives up: SYN-RECEIVED → CLOSED at +63.005 s', '连接 2：服务器放弃：在 +63.005 秒 SYN-RECEIVED → CLOSED',
      stateEvents(w.rec, w.b, p2).map((x) => `${x.to}@${((x.t - t0) / SEC).toFixed(3)}`), ['SYN-RECEIVED@0.005', 'CLOSED@63.005']);
    ck.eq('connection 2: the late data is answered with RST; the client gets ECONNRESET', '连接 2：迟到的数据被 RST 回应；客户端得到 ECONNRESET',
      [exchange(w.rec, w.a, p2).slice(-2).join(', '), String(err)], ['C>S P. 6, S>C R', 'ECONNRESET']);
    return result(w, ck);
  },
};

export const connectTimeout: Scenario = {
  name: 'connect-timeout',
  title: { en: 'Connection timeout: nobody answers the SYN', zh: '连接超时：没有人回答 SYN' },
  explain: {
    en:
      'The server host is down, or a firewall silently drops the SYN. Unlike a refused connection, silence ' +
      'carries no information: the SYN might have been lost, or the answer might be on its way. So the client keeps ' +
      'retransmitting with exponential backoff — 1, 2, 4, 8, 16, 32 s — and after tcp_syn_retries = 6 ' +
      'retransmissions it waits one more doubled interval (64 s) for an answer before connect() fails with ETIMEDOUT: ' +
      '127 s after the first SYN (RFC 1122 §4.2.3.5 asks for at least 3 minutes for R2 during a SYN; Linux uses ' +
      'this retry count). An application that cannot wait that long sets its own, shorter connect timeout.',
    zh:
      '服务器主机宕机，或者防火墙悄悄丢弃了 SYN。与连接被拒绝不同，沉默不携带任何信息：SYN 可能丢了，回答也可能正在路上。' +
      '所以客户端以指数退避不断重传——1、2、4、8、16、32 秒——在 tcp_syn_retries = 6 次重传之后，再等待一个加倍的间隔（64 秒），' +
      '然后 connect() 以 ETIMEDOUT 失败：距第一个 SYN 127 秒（RFC 1122 §4.2.3.5 对 SYN 期间的 R2 要求至少 3 分钟；Linux 使用这个重试次数）。' +
      '等不了这么久的应用程序会设置自己更短的连接超时。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    w.faultA.dropWhen(pktIs('SYN'));
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    let err: TcpErrorCode | null = null, at = -1;
    c.user = { onClosed: (e) => { err = e; at = w.sim.now(); } };
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();
    const syns = segments(w.rec, w.a, 'out', port).filter(isSyn);
    ck.eq('7 SYNs (1 + tcp_syn_retries) at 0, 1, 3, 7, 15, 31, 63 s', '7 个 SYN（1 + tcp_syn_retries），在 0、1、3、7、15、31、63 秒',
      secs(syns.map((x) => x.t)), [0, 1, 3, 7, 15, 31, 63]);
    ck.ok('connect() fails with ETIMEDOUT at 127 s', 'connect() 在 127 秒以 ETIMEDOUT 失败', err === 'ETIMEDOUT' && at === 127 * SEC, `${err} at ${fmtTime(at)}`);
    ck.eq('client: CLOSED → SYN-SENT → CLOSED', '客户端：CLOSED → SYN-SENT → CLOSED', statePath(w.rec, w.a, port), ['CLOSED', 'SYN-SENT', 'CLOSED']);
    ck.eq('counters: TcpExtTCPTimeouts=6, TcpAttemptFails=1; the server saw nothing', '计数器：TcpExtTCPTimeouts=6、TcpAttemptFails=1；服务器什么也没收到',
      [w.a.counters.TcpExtTCPTimeouts, w.a.counters.TcpAttemptFails, w.b.counters.TcpInSegs], [6, 1, 0]);
    return result(w, ck, c.connId);
  },
};
