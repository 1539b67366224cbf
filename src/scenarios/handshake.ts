// Opening a connection: the three-way handshake, simultaneous open, the old duplicate SYN
// that shows why two segments would not be enough, and the refused connection.
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode } from '../tcp/types.js';
import type { SegmentOut } from '../tcp/types.js';
import type { Scenario } from './types.js';
import { newOutOptions } from '../tcp/types.js';
import { seqAdd } from '../tcp/seq.js';
import { TCP_SYN } from '../wire/tcp.js';
import { serializeSegment } from '../stack/tcpout.js';
import {
  Checks, MS, SERVER_ADDR, makeWorld, result, serve, statePath, enteredAt, segments, exchange, collect, bytes,
  isSynAck, pktIs, fmtTime, injectFrom,
} from './common.js';

export const handshake: Scenario = {
  name: 'handshake',
  title: { en: 'The three-way handshake', zh: '三次握手' },
  explain: {
    en:
      'Each side numbers its bytes from an initial sequence number (ISN) it picks itself, and each side must learn ' +
      'the other\'s ISN and know that its own arrived. The client sends SYN with its ISN; the server acknowledges it ' +
      'and sends its own ISN in the same segment (SYN-ACK); the client acknowledges the server\'s ISN (ACK). ' +
      'Two SYNs and two ACKs, with the middle two folded into one segment: three segments.\n' +
      'Two would not do: the server could not tell a fresh SYN from an old duplicate still wandering in the network, ' +
      'so it would open connections nobody asked for. The third segment proves that a live client really wants ' +
      'this connection with this ISN. A SYN consumes one sequence number, so the first data byte is ISN+1. ' +
      'The SYNs also carry the options both sides must agree on (MSS, window scale, SACK, timestamps).',
    zh:
      '每一端都从自己选定的初始序列号（ISN）开始给字节编号；每一端都必须知道对方的 ISN，并确认自己的 ISN 已被对方收到。' +
      '客户端发送携带其 ISN 的 SYN；服务器确认它，并在同一个报文段里发出自己的 ISN（SYN-ACK）；客户端再确认服务器的 ISN（ACK）。' +
      '两个 SYN 加两个 ACK，中间的 ACK 和 SYN 合并成一个报文段，所以一共是三个报文段。\n' +
      '两次握手不够：服务器无法区分新的 SYN 和仍在网络中游荡的旧的重复 SYN，会建立没人请求的连接。' +
      '第三个报文段证明一个活着的客户端确实想要这个 ISN 的这条连接。SYN 占用一个序列号，所以第一个数据字节是 ISN+1。' +
      'SYN 还携带双方必须商定的选项（MSS、窗口扩大、SACK、时间戳）。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let server: Tcb | null = null;
    serve(w.b, 80, (t) => { server = t; });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();
    const s = server as Tcb | null;

    ck.eq('three segments: SYN, SYN-ACK, ACK', '三个报文段：SYN、SYN-ACK、ACK', exchange(w.rec, w.a, port), ['C>S S', 'S>C S.', 'C>S .']);
    ck.eq('client: CLOSED → SYN-SENT → ESTABLISHED', '客户端：CLOSED → SYN-SENT → ESTABLISHED', statePath(w.rec, w.a, port), ['CLOSED', 'SYN-SENT', 'ESTABLISHED']);
    ck.eq('server connection: SYN-RECEIVED → ESTABLISHED (from LISTEN)', '服务器连接：（从 LISTEN）SYN-RECEIVED → ESTABLISHED',
      statePath(w.rec, w.b, port).slice(1), ['SYN-RECEIVED', 'ESTABLISHED']);
    const [syn, ack] = segments(w.rec, w.a, 'out', port);
    const synack = segments(w.rec, w.b, 'out', port)[0];
    const ok = syn !== undefined && synack !== undefined && ack !== undefined && s !== null;
    ck.ok('SYN-ACK acknowledges ISN(client)+1 and carries ISN(server)', 'SYN-ACK 确认 ISN(客户端)+1 并携带 ISN(服务器)',
      ok && synack.ack === seqAdd(c.iss, 1) && synack.seq === s.iss && syn.seq === c.iss,
      ok ? `ISN(c)=${c.iss} ack=${synack.ack}; ISN(s)=${s.iss}` : 'missing segments');
    ck.ok('the ACK is ISN(client)+1 / ISN(server)+1: each SYN used one sequence number', 'ACK 的 seq/ack 为 ISN+1：每个 SYN 占一个序列号',
      ok && ack.seq === seqAdd(c.iss, 1) && ack.ack === seqAdd(s.iss, 1), ok ? `seq=${ack.seq} ack=${ack.ack}` : '');
    ck.ok('SYN options: mss 1460, sackOK, timestamps, wscale', 'SYN 选项：mss 1460、sackOK、时间戳、wscale',
      ok && syn.options.mss === 1460 && syn.options.sackOK === true && syn.options.ts !== undefined && syn.options.wscale !== undefined,
      ok ? JSON.stringify(syn.options) : '');
    const tc = enteredAt(w.rec, w.a, 'ESTABLISHED', port), ts = enteredAt(w.rec, w.b, 'ESTABLISHED', port);
    ck.ok('client is ESTABLISHED after one round trip (10 ms), the server after one and a half (15 ms)',
      '客户端在一个往返（10 ms）后进入 ESTABLISHED，服务器在一个半往返（15 ms）后', tc === 10 * MS && ts === 15 * MS,
      `client ${fmtTime(tc)}, server ${fmtTime(ts)}`);
    return result(w, ck, c.connId);
  },
};

export const simultaneousOpen: Scenario = {
  name: 'simultaneous-open',
  title: { en: 'Simultaneous open', zh: '同时打开' },
  explain: {
    en:
      'Two applications each actively open a connection to the other at the same moment, from and to fixed ports. ' +
      'The two SYNs cross in the network. Each side, in SYN-SENT, receives a SYN that does not acknowledge its own: ' +
      'it moves to SYN-RECEIVED and answers with SYN-ACK (its own ISN again, plus the acknowledgment of the peer\'s). ' +
      'When each SYN-ACK arrives, both SYNs are acknowledged and both sides are ESTABLISHED: one connection, not two, ' +
      'because a TCP connection is named by its pair of endpoints, not by who called connect(). ' +
      'It takes four segments instead of three, since nobody could combine an ACK with its SYN.',
    zh:
      '两个应用程序在同一时刻、使用固定端口互相主动打开连接。两个 SYN 在网络中交叉而过。' +
      '处于 SYN-SENT 的每一端收到一个并未确认自己 SYN 的 SYN：它转入 SYN-RECEIVED，并回复 SYN-ACK（再次带上自己的 ISN，并确认对方的 ISN）。' +
      '每个 SYN-ACK 到达时，两个 SYN 都已被确认，双方都进入 ESTABLISHED：只有一条连接而不是两条，' +
      '因为 TCP 连接由两端的端点对命名，与谁调用了 connect() 无关。这里需要四个报文段而不是三个，因为谁都没法把 ACK 和自己的 SYN 合并。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const ca = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 7001, localPort: 7000 });
    const cb = w.b.connect({ remoteAddr: '198.18.0.1', remotePort: 7000, localPort: 7001 });
    const gotA = collect(ca, () => w.sim.now());
    const gotB = collect(cb, () => w.sim.now());
    ca.user!.onEstablished = () => { ca.send(bytes('hello from A'), w.sim.now()); };
    cb.user!.onEstablished = () => { cb.send(bytes('hello from B'), w.sim.now()); };
    ca.openActive(w.sim.now());
    cb.openActive(w.sim.now());
    w.sim.runUntilIdle();

    const path = ['CLOSED', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED'];
    ck.eq('side A: SYN-SENT → SYN-RECEIVED → ESTABLISHED', 'A 端：SYN-SENT → SYN-RECEIVED → ESTABLISHED', statePath(w.rec, w.a, 7000), path);
    ck.eq('side B: SYN-SENT → SYN-RECEIVED → ESTABLISHED', 'B 端：SYN-SENT → SYN-RECEIVED → ESTABLISHED', statePath(w.rec, w.b, 7001), path);
    const synsA = segments(w.rec, w.a, 'out', 7000).filter((x) => (x.flags & TCP_SYN) !== 0);
    const synsB = segments(w.rec, w.b, 'out', 7001).filter((x) => (x.flags & TCP_SYN) !== 0);
    ck.eq('each side sends one SYN then one SYN-ACK with the same ISN', '每一端先发一个 SYN，再发一个相同 ISN 的 SYN-ACK',
      [synsA.map((x) => `${x.flags === TCP_SYN ? 'S' : 'S.'}${x.seq === ca.iss ? '' : '?'}`).join(','), synsB.map((x) => `${x.flags === TCP_SYN ? 'S' : 'S.'}${x.seq === cb.iss ? '' : '?'}`).join(',')],
      ['S,S.', 'S,S.']);
    const ta = enteredAt(w.rec, w.a, 'ESTABLISHED', 7000), tb = enteredAt(w.rec, w.b, 'ESTABLISHED', 7001);
    ck.ok('both ESTABLISHED after one round trip (10 ms)', '双方都在一个往返（10 ms）后进入 ESTABLISHED', ta === 10 * MS && tb === 10 * MS, `A ${fmtTime(ta)}, B ${fmtTime(tb)}`);
    ck.ok('one connection: data flows both ways', '只有一条连接：数据双向流动', gotA.text() === 'hello from B' && gotB.text() === 'hello from A',
      `A got "${gotA.text()}", B got "${gotB.text()}"`);
    ck.eq('one connection on each stack', '每个协议栈上只有一条连接', [w.a.connectionCount, w.b.connectionCount], [1, 1]);
    return result(w, ck, ca.connId);
  },
};

export const oldDuplicateSyn: Scenario = {
  name: 'old-duplicate-syn',
  title: { en: 'An old duplicate SYN (why two-way handshakes fail)', zh: '旧的重复 SYN（为什么两次握手不行）' },
  explain: {
    en:
      'A SYN from an earlier incarnation of the connection, delayed in the network, reaches the server while the ' +
      'client\'s new SYN is still on its way (here it was lost and is retransmitted). The server cannot know it is ' +
      'stale: it answers with SYN-ACK and waits in SYN-RECEIVED. With a two-way handshake it would now consider the ' +
      'connection open and send data into a connection nobody wants.\n' +
      'The three-way handshake gives the client a veto: the SYN-ACK acknowledges a sequence number the client never ' +
      'sent (not its ISN+1), so the client, in SYN-SENT, answers with RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.3). ' +
      'The RST is acceptable to the server (its sequence number is exactly what it expects), so the half-open ' +
      'connection is dropped and the listener is back to LISTEN. When the client\'s real SYN arrives, the handshake ' +
      'proceeds normally. This is RFC 9293 Figure 8 ("Recovery from Old Duplicate SYN").',
    zh:
      '一个属于这对端点之间早先某条旧连接、在网络中滞留已久的 SYN，在客户端新的 SYN 还在路上时到达了服务器（这里新 SYN 丢失并被重传）。' +
      '服务器无法知道它已过时：回复 SYN-ACK 并在 SYN-RECEIVED 中等待。如果是两次握手，服务器此时就认为连接已打开，' +
      '并向一条没人要的连接发送数据。\n' +
      '三次握手给了客户端否决权：这个 SYN-ACK 确认的序列号并不是客户端发出的（不是它的 ISN+1），' +
      '于是处于 SYN-SENT 的客户端回复 RST <SEQ=SEG.ACK>（RFC 9293 §3.10.7.3）。这个 RST 对服务器是可接受的（序列号正是它期望的），' +
      '所以半连接被丢弃，监听者回到 LISTEN。当客户端真正的 SYN 到达时，握手正常进行。这就是 RFC 9293 图 8（“从旧的重复 SYN 中恢复”）。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const accepted: Tcb[] = [];
    serve(w.b, 80, (t) => { accepted.push(t); });
    // The client's own first SYN is lost; it comes back 1 s later.
    w.faultA.dropWhen(pktIs('SYN'), 1);
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    let err: TcpErrorCode | null = null;
    c.user = { onClosed: (e) => { err = e; } };
    c.openActive(w.sim.now());
    // The old duplicate: same 4-tuple, a sequence number from long ago. Drawn as coming from
    // the client (its earlier incarnation sent it).
    const staleIsn = seqAdd(c.iss, -100_000);
    const seg: SegmentOut = { seq: staleIsn, ack: 0, flags: TCP_SYN, window: 64240, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false };
    seg.opts.mss = 1460;
    const pkt = serializeSegment(seg, w.a.traceHost, port, w.b.traceHost, 80, 64, 1);
    injectFrom(w, w.a, pkt);
    w.sim.runUntilIdle();

    const bSynAcks = segments(w.rec, w.b, 'out', port).filter(isSynAck);
    const stale = bSynAcks[0];
    ck.ok('the server answers the stale SYN with SYN-ACK ack = stale ISN+1', '服务器用 SYN-ACK 回复过时的 SYN，ack = 旧 ISN+1',
      stale !== undefined && stale.ack === seqAdd(staleIsn, 1), stale ? `ack=${stale.ack}, client ISN+1=${seqAdd(c.iss, 1)}` : 'no SYN-ACK');
    const rst = segments(w.rec, w.a, 'out', port).find((x) => x.flags === 0x04);
    ck.ok('the client, in SYN-SENT, answers with RST <SEQ=SEG.ACK>', '处于 SYN-SENT 的客户端回复 RST <SEQ=SEG.ACK>',
      rst !== undefined && stale !== undefined && rst.seq === stale.ack && rst.t === 10 * MS, rst ? `RST seq=${rst.seq} at ${fmtTime(rst.t)}` : 'no RST');
    const paths = stateEventsByConn(w, port);
    ck.eq('the half-open connection is dropped: SYN-RECEIVED → CLOSED (listener back to LISTEN)', '半连接被丢弃：SYN-RECEIVED → CLOSED（监听者回到 LISTEN）',
      paths[0] ?? [], ['CLOSED', 'SYN-RECEIVED', 'CLOSED']);
    ck.eq('the client never left SYN-SENT because of it, and connects with its real SYN', '客户端没有因此离开 SYN-SENT，并用真正的 SYN 建立连接',
      statePath(w.rec, w.a, port), ['CLOSED', 'SYN-SENT', 'ESTABLISHED']);
    ck.ok('the real connection uses the client\'s ISN', '真正的连接使用客户端的 ISN',
      accepted.length === 1 && accepted[0]!.irs === c.iss && err === null && c.state === 'ESTABLISHED',
      accepted.length === 1 ? `server IRS=${accepted[0]!.irs} client ISS=${c.iss}` : `${accepted.length} accepted`);
    return { ...result(w, ck, c.connId), absolute: true };
  },
};

/** The server's state paths for each of its connections on `port`, split at CLOSED. */
function stateEventsByConn(w: ReturnType<typeof makeWorld>, port: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const e of w.rec.events) {
    if (e.type !== 'state' || e.host !== w.b.traceHost || e.conn.remotePort !== port) continue;
    if (cur.length === 0) cur.push(e.from);
    cur.push(e.to);
    if (e.to === 'CLOSED') { out.push(cur); cur = []; }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export const connectRefused: Scenario = {
  name: 'connect-refused',
  title: { en: 'Connection refused', zh: '连接被拒绝' },
  explain: {
    en:
      'Nobody listens on the port. A segment that arrives for no connection is answered with a reset (RFC 9293 ' +
      '§3.10.7.1): since the SYN carried no ACK, the RST has <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, and its ' +
      'ACK acknowledges exactly the client\'s SYN. That is what makes it believable: a client in SYN-SENT accepts a ' +
      'RST only if it acknowledges its SYN (otherwise anybody could kill connection attempts blindly). ' +
      'The client goes straight back to CLOSED and connect() fails with ECONNREFUSED after one round trip — no ' +
      'retries, because the host answered: it is there, it just does not serve this port.',
    zh:
      '该端口上没有监听者。到达的报文段如果不属于任何连接，对方会回复一个复位报文段（RST）（RFC 9293 §3.10.7.1）：因为 SYN 不带 ACK，' +
      'RST 的格式是 <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>，它的 ACK 恰好确认了客户端的 SYN。这正是它可信的原因：' +
      '处于 SYN-SENT 的客户端只接受确认了自己 SYN 的 RST（否则任何人都能盲目地扼杀连接尝试）。' +
      '客户端直接回到 CLOSED，connect() 在一个往返后以 ECONNREFUSED 失败——不会重试，因为主机已经回答了：它在那里，只是不提供这个端口的服务。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    serve(w.b, 80, () => {});
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 81 });
    const port = c.localPort;
    let err: TcpErrorCode | null = null, at = -1;
    c.user = { onClosed: (e) => { err = e; at = w.sim.now(); } };
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();

    ck.eq('SYN answered by RST-ACK', 'SYN 被 RST-ACK 回应', exchange(w.rec, w.a, port), ['C>S S', 'S>C R.']);
    const rst = segments(w.rec, w.b, 'out', port)[0];
    ck.ok('the RST has seq 0 and acknowledges the SYN (ack = ISN+1)', 'RST 的 seq 为 0，并确认了 SYN（ack = ISN+1）',
      rst !== undefined && rst.seq === 0 && rst.ack === seqAdd(c.iss, 1), rst ? `seq=${rst.seq} ack=${rst.ack} ISN=${c.iss}` : 'no RST');
    ck.eq('client: CLOSED → SYN-SENT → CLOSED', '客户端：CLOSED → SYN-SENT → CLOSED', statePath(w.rec, w.a, port), ['CLOSED', 'SYN-SENT', 'CLOSED']);
    ck.ok('connect() fails with ECONNREFUSED after one round trip (10 ms)', 'connect() 在一个往返（10 ms）后以 ECONNREFUSED 失败',
      err === 'ECONNREFUSED' && at === 10 * MS, `${err} at ${fmtTime(at)}`);
    ck.eq('no retransmission; counters TcpAttemptFails=1 (client), TcpOutRsts=1 (server)', '没有重传；计数器 TcpAttemptFails=1（客户端）、TcpOutRsts=1（服务器）',
      [w.a.counters.TcpRetransSegs, w.a.counters.TcpAttemptFails, w.b.counters.TcpOutRsts], [0, 1, 1]);
    return result(w, ck, c.connId);
  },
};
