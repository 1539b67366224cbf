// Closing a connection: the four-way close, half-close, the close with FIN and ACK
// combined, simultaneous close, and the abortive close with RST.
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode, TcpState } from '../tcp/types.js';
import type { Scenario } from './types.js';
import { seqAdd } from '../tcp/seq.js';
import {
  Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, statePath, enteredAt, segments, exchange, collect, bytes,
  isFin, isRst, fmtTime, stateEvents,
} from './common.js';

const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
const RESPONSE = 'HTTP/1.0 200 OK\r\n\r\nhello';

export const dataAndClose: Scenario = {
  name: 'data-and-close',
  title: { en: 'Data and the four-way close', zh: '数据传输与四次挥手' },
  explain: {
    en:
      'A TCP connection is two independent byte streams, one in each direction, and each is closed separately: ' +
      'FIN means "I will send no more", not "I will read no more". The client sends its FIN (FIN-WAIT-1); the ' +
      'server acknowledges it (the client moves to FIN-WAIT-2, the server to CLOSE-WAIT). Only when the ' +
      'server\'s application has finished and closes does the server send its own FIN (LAST-ACK), which the client ' +
      'acknowledges. Two FINs and two ACKs — four segments, because the server\'s ACK is sent by TCP on its own ' +
      '(as Linux, after the 40 ms delayed-ACK time, in case the application answers at once and its FIN can carry ' +
      'the ACK) while its FIN waits for the application. Each FIN carries ACK too (flags F., "FA"): once a connection is ' +
      'established every segment acknowledges what it has received, which textbook figures that draw a bare FIN leave out. ' +
      'Like SYN, FIN occupies one sequence number so that it can be ' +
      'acknowledged and retransmitted like data.\n' +
      'The side that closed first ends in TIME-WAIT for 2·MSL (60 s): its final ACK might be lost, and it must still ' +
      'be there to answer a retransmitted FIN; and old segments of this connection must die out before the same ' +
      'four-tuple can be used again.',
    zh:
      'TCP 连接是两个独立的字节流，每个方向一个，各自单独关闭：FIN 的意思是“我不再发送”，而不是“我不再读取”。' +
      '客户端发送 FIN（FIN-WAIT-1）；服务器确认它（客户端进入 FIN-WAIT-2，服务器进入 CLOSE-WAIT）。' +
      '只有当服务器的应用程序处理完毕并关闭时，服务器才发送自己的 FIN（LAST-ACK），客户端再确认它。两个 FIN 加两个 ACK——四个报文段，' +
      '因为服务器的 ACK 由 TCP 自行发送（和 Linux 一样，在 40 ms 的延迟确认时间之后，以防应用程序立即回答、让它的 FIN 捎带这个 ACK），而它的 FIN 要等待应用程序。每个 FIN 同时也带着 ACK（标志 F.，即“FA”）：连接建立之后，每个报文段都确认已收到的数据，' +
      '只画一个单独 FIN 的教科书插图省略了这一点。和 SYN 一样，FIN 占用一个序列号，这样它就能像数据一样被确认和重传。\n' +
      '先关闭的一方最后在 TIME-WAIT 中停留 2·MSL（60 秒）：它的最后一个 ACK 可能丢失，它必须仍在那里回答重传的 FIN；' +
      '而且在同一个四元组再次使用之前，这条连接的旧报文段必须在网络中消亡。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let server: Tcb | null = null;
    serve(w.b, 80, (t) => {
      server = t;
      t.user = {
        onReadable: () => { t.receive(1 << 16, w.sim.now()); t.send(bytes(RESPONSE), w.sim.now()); },
        // The application finishes its work 100 ms after the client's FIN, then closes (after
        // the delayed ACK of the FIN, 40 ms: closing sooner would send FIN and ACK together).
        onEnd: () => { w.sim.after(100 * MS, () => t.close(w.sim.now())); },
      };
    });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    const got = collect(c, () => w.sim.now());
    c.user!.onEstablished = () => { c.send(bytes(REQUEST), w.sim.now()); };
    const read = c.user!.onReadable!;
    c.user!.onReadable = () => { read(); if (got.text() === RESPONSE) c.close(w.sim.now()); };
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();
    const s = server as Tcb | null;

    ck.eq('segments: handshake, request, response, FIN, ACK, FIN, ACK', '报文段：握手、请求、响应、FIN、ACK、FIN、ACK', exchange(w.rec, w.a, port),
      ['C>S S', 'S>C S.', `C>S P. ${REQUEST.length}`, `S>C P. ${RESPONSE.length}`, 'C>S F.', 'S>C .', 'S>C F.', 'C>S .']);
    ck.eq('client: ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED', '客户端：ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED',
      statePath(w.rec, w.a, port).slice(2), ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'CLOSED']);
    ck.eq('server: ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED', '服务器：ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED',
      statePath(w.rec, w.b, port).slice(2), ['ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
    const cf = segments(w.rec, w.a, 'out', port).find(isFin), sf = segments(w.rec, w.b, 'out', port).find(isFin);
    const sAck = segments(w.rec, w.b, 'out', port).find((x) => cf !== undefined && x.t > cf.t && !isFin(x));
    const cAck = segments(w.rec, w.a, 'out', port).filter((x) => sf !== undefined && x.t > sf.t)[0];
    ck.ok('each FIN takes one sequence number: it is acknowledged with FIN.seq + 1', '每个 FIN 占一个序列号：对它的确认是 FIN.seq + 1',
      cf !== undefined && sf !== undefined && sAck !== undefined && cAck !== undefined && sAck.ack === seqAdd(cf.seq, 1) && cAck.ack === seqAdd(sf.seq, 1),
      cf && sf && sAck && cAck ? `client FIN ${cf.seq} → ack ${sAck.ack}; server FIN ${sf.seq} → ack ${cAck.ack}` : 'missing');
    const tw = enteredAt(w.rec, w.a, 'TIME-WAIT', port), closed = stateEvents(w.rec, w.a, port).find((x) => x.to === 'CLOSED');
    ck.ok('the client stays in TIME-WAIT for 2·MSL = 60 s', '客户端在 TIME-WAIT 中停留 2·MSL = 60 秒',
      closed !== undefined && closed.t - tw === 60 * SEC, closed ? `${fmtTime(tw)} → ${fmtTime(closed.t)}` : 'never closed');
    ck.ok('the response arrived; the server saw the end of the request stream', '响应已到达；服务器看到了请求流的结束',
      got.text() === RESPONSE && s !== null && s.finReceived, JSON.stringify(got.text()));
    ck.eq('no connections left', '没有剩余连接', [w.a.connectionCount, w.b.connectionCount], [0, 0]);
    return result(w, ck, c.connId);
  },
};

export const halfClose: Scenario = {
  name: 'half-close',
  title: { en: 'Half-close: the server keeps sending in CLOSE-WAIT', zh: '半关闭：服务器在 CLOSE-WAIT 中继续发送' },
  explain: {
    en:
      'Because each direction closes on its own, a client can say "that is all my input" with shutdown(SHUT_WR) and ' +
      'still read the answer: its FIN closes only the client-to-server stream. The server sees end-of-file, which ' +
      'for a program like sort, a compressor or rsh is the signal to start producing output, and keeps sending ' +
      'while it sits in CLOSE-WAIT. The client, in FIN-WAIT-2, receives and acknowledges everything. Only when the ' +
      'server closes its side does its FIN arrive and the connection finish. CLOSE-WAIT is a normal, useful state ' +
      'here: it just means "the peer has finished sending, I have not".',
    zh:
      '由于每个方向各自关闭，客户端可以用 shutdown(SHUT_WR) 表示“我的输入就这些”，同时仍然读取回答：它的 FIN 只关闭客户端到服务器的字节流。' +
      '服务器看到文件结束，对 sort、压缩程序或 rsh 这样的程序来说，这正是开始产生输出的信号，它在 CLOSE-WAIT 中继续发送。' +
      '处于 FIN-WAIT-2 的客户端接收并确认所有数据。只有当服务器关闭自己这一侧时，它的 FIN 才到达，连接结束。' +
      '在这里 CLOSE-WAIT 是一个正常而有用的状态：它只是表示“对方已经发完了，我还没有”。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    const chunk = new Uint8Array(1000).fill(0x61);
    const sentIn: TcpState[] = [];
    serve(w.b, 80, (t) => {
      collect(t, () => w.sim.now());
      t.user!.onEnd = () => {
        // End of input: produce the output, three chunks 100 ms apart, then close.
        for (let i = 0; i < 3; i++) {
          w.sim.after((i + 1) * 100 * MS, () => { sentIn.push(t.state); t.send(chunk, w.sim.now()); if (i === 2) t.close(w.sim.now()); });
        }
      };
    });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    const got = collect(c, () => w.sim.now());
    const statesWhileReading: TcpState[] = [];
    const read = c.user!.onReadable!;
    c.user!.onReadable = () => { statesWhileReading.push(c.state); read(); };
    c.user!.onEstablished = () => { c.send(bytes('input data'), w.sim.now()); c.close(w.sim.now(), false); };
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();

    ck.eq('the server sends its three chunks while in CLOSE-WAIT', '服务器在 CLOSE-WAIT 中发送它的三块数据', sentIn, ['CLOSE-WAIT', 'CLOSE-WAIT', 'CLOSE-WAIT']);
    ck.ok('the client receives all 3000 bytes in FIN-WAIT-2, then the FIN', '客户端在 FIN-WAIT-2 中收到全部 3000 字节，然后是 FIN',
      got.data.length === 3000 && got.ended && statesWhileReading.every((x) => x === 'FIN-WAIT-2'), `${got.data.length} bytes while ${[...new Set(statesWhileReading)].join(',')}`);
    ck.eq('client: ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED', '客户端：ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED',
      statePath(w.rec, w.a, port).slice(2), ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'CLOSED']);
    ck.eq('server: ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED', '服务器：ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED',
      statePath(w.rec, w.b, port).slice(2), ['ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
    const cw = enteredAt(w.rec, w.b, 'CLOSE-WAIT', port), la = enteredAt(w.rec, w.b, 'LAST-ACK', port);
    ck.ok('the server stays in CLOSE-WAIT for 300 ms while it produces output', '服务器在产生输出的 300 ms 内停留在 CLOSE-WAIT',
      la - cw === 300 * MS, `${fmtTime(cw)} → ${fmtTime(la)}`);
    return result(w, ck, c.connId);
  },
};

export const closeFinAckCombined: Scenario = {
  name: 'close-fin-ack-combined',
  title: { en: 'Close in three segments: FIN-WAIT-1 → TIME-WAIT directly', zh: '三个报文段的关闭：FIN-WAIT-1 直接进入 TIME-WAIT' },
  explain: {
    en:
      'When the server application closes as soon as it reads end-of-file, its FIN is ready before TCP has sent ' +
      'the ACK of the client\'s FIN, so both go out in one segment (FIN+ACK). The client, still in FIN-WAIT-1, ' +
      'receives a segment that acknowledges its FIN and carries the peer\'s FIN at once, so it goes straight to ' +
      'TIME-WAIT without visiting FIN-WAIT-2. This three-segment close is what you usually see in captures of ' +
      'request/response protocols; the four-way close is the general case, when the second FIN comes later.',
    zh:
      '当服务器应用程序一读到文件结束就关闭时，它的 FIN 在 TCP 发出对客户端 FIN 的 ACK 之前就已就绪，于是两者在同一个报文段（FIN+ACK）中发出。' +
      '仍处于 FIN-WAIT-1 的客户端收到一个同时确认了它的 FIN 并携带对方 FIN 的报文段，因此直接进入 TIME-WAIT，不经过 FIN-WAIT-2。' +
      '在请求/响应协议的抓包中，通常看到的就是这种三个报文段的关闭；四次挥手是一般情况，即第二个 FIN 来得较晚时。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    serve(w.b, 80, (t) => {
      collect(t, () => w.sim.now());
      const prevEnd = t.user!.onEnd!;
      t.user!.onEnd = () => { prevEnd(); t.close(w.sim.now()); };
    });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    c.user = { onEstablished: () => { c.close(w.sim.now()); } };
    c.openActive(w.sim.now());
    w.sim.runUntilIdle();

    ck.eq('the close takes three segments: FIN, FIN+ACK, ACK', '关闭只用三个报文段：FIN、FIN+ACK、ACK', exchange(w.rec, w.a, port).slice(2), ['C>S F.', 'S>C F.', 'C>S .']);
    ck.eq('client: FIN-WAIT-1 → TIME-WAIT, no FIN-WAIT-2', '客户端：FIN-WAIT-1 → TIME-WAIT，不经过 FIN-WAIT-2',
      statePath(w.rec, w.a, port).slice(2), ['ESTABLISHED', 'FIN-WAIT-1', 'TIME-WAIT', 'CLOSED']);
    const tr = stateEvents(w.rec, w.a, port).find((x) => x.to === 'TIME-WAIT');
    ck.ok('the transition happens on the FIN+ACK, one round trip after the client\'s FIN', '这个转换发生在收到 FIN+ACK 时，即客户端 FIN 之后一个往返',
      tr !== undefined && tr.t === enteredAt(w.rec, w.a, 'FIN-WAIT-1', port) + 10 * MS, tr ? `${tr.from} → ${tr.to} (${tr.cause}) at ${fmtTime(tr.t)}` : 'never');
    ck.eq('server: ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED', '服务器：ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED',
      statePath(w.rec, w.b, port).slice(2), ['ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
    return result(w, ck, c.connId);
  },
};

export const simultaneousClose: Scenario = {
  name: 'simultaneous-close',
  title: { en: 'Simultaneous close: CLOSING', zh: '同时关闭：CLOSING 状态' },
  explain: {
    en:
      'Both applications close at the same moment, so both FINs are in flight at once. Each side, in FIN-WAIT-1, ' +
      'receives a FIN that does not acknowledge its own FIN: it acknowledges the peer\'s FIN and enters CLOSING — ' +
      '"we have both said goodbye, I am waiting for you to confirm mine". When the ACK of its FIN arrives it enters ' +
      'TIME-WAIT. Both sides closed actively, so both wait 2·MSL in TIME-WAIT. CLOSING is the one state that only ' +
      'this crossing of FINs reaches.',
    zh:
      '两个应用程序在同一时刻关闭，于是两个 FIN 同时在途。处于 FIN-WAIT-1 的每一端都收到一个没有确认自己 FIN 的 FIN：' +
      '它确认对方的 FIN 并进入 CLOSING——“我们都说了再见，我在等你确认我的”。当对自己 FIN 的 ACK 到达时，它进入 TIME-WAIT。' +
      '双方都是主动关闭，所以双方都在 TIME-WAIT 中等待 2·MSL。CLOSING 是只有这种 FIN 交叉才会到达的状态。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let server: Tcb | null = null;
    serve(w.b, 80, (t) => { server = t; });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    c.openActive(w.sim.now());
    w.sim.at(1 * SEC, () => { c.close(w.sim.now()); (server as Tcb | null)?.close(w.sim.now()); });
    w.sim.runUntilIdle();

    const path = ['ESTABLISHED', 'FIN-WAIT-1', 'CLOSING', 'TIME-WAIT', 'CLOSED'];
    ck.eq('client: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED', '客户端：FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED', statePath(w.rec, w.a, port).slice(2), path);
    ck.eq('server: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED', '服务器：FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED', statePath(w.rec, w.b, port).slice(2), path);
    const ex = exchange(w.rec, w.a, port).slice(3);
    ck.eq('the FINs cross, then each is acknowledged', '两个 FIN 交叉，然后各自被确认', [...ex.slice(0, 2), ...ex.slice(2).sort()], ['C>S F.', 'S>C F.', 'C>S .', 'S>C .']);
    const tc = [enteredAt(w.rec, w.a, 'CLOSING', port), enteredAt(w.rec, w.b, 'CLOSING', port), enteredAt(w.rec, w.a, 'TIME-WAIT', port), enteredAt(w.rec, w.b, 'TIME-WAIT', port)];
    ck.eq('both enter CLOSING after one link delay and TIME-WAIT after one round trip', '双方在一个链路延迟后进入 CLOSING，一个往返后进入 TIME-WAIT',
      tc.map(fmtTime), ['1.005 s', '1.005 s', '1.010 s', '1.010 s']);
    const ends = [stateEvents(w.rec, w.a, port).at(-1)?.t ?? 0, stateEvents(w.rec, w.b, port).at(-1)?.t ?? 0];
    ck.eq('both wait 2·MSL in TIME-WAIT', '双方都在 TIME-WAIT 中等待 2·MSL', ends.map(fmtTime), ['61.010 s', '61.010 s']);
    return result(w, ck, c.connId);
  },
};

export const rstAbort: Scenario = {
  name: 'rst-abort',
  title: { en: 'Abortive close: close() with unread data sends RST', zh: '异常关闭：有未读数据时 close() 发送 RST' },
  explain: {
    en:
      'The server greets the client, but the client application closes its socket without reading the greeting. ' +
      'A FIN would tell the server "all is well, I have finished sending" — but data the server sent has been ' +
      'thrown away unread, and the server deserves to know. So TCP aborts instead (RFC 1122 §4.2.2.13, RFC 2525 ' +
      '§2.17): it sends RST and deletes the connection at once. The server\'s next operation fails with ECONNRESET. ' +
      'A reset skips the orderly close entirely: no FIN exchange, no TIME-WAIT on either side. (Programs sometimes ' +
      'abort deliberately, with SO_LINGER set to 0, for exactly that reason.)',
    zh:
      '服务器向客户端发送欢迎信息，但客户端应用程序没有读取就关闭了套接字。FIN 会告诉服务器“一切正常，我发送完了”——' +
      '但服务器发出的数据被未读就丢弃了，服务器应该知道这一点。所以 TCP 改为中止连接（RFC 1122 §4.2.2.13、RFC 2525 §2.17）：' +
      '发送 RST 并立即删除连接。服务器的下一个操作以 ECONNRESET 失败。复位完全跳过了有序关闭：没有 FIN 交换，双方都没有 TIME-WAIT。' +
      '（程序有时正是为此故意把 SO_LINGER 设为 0 来中止连接。）',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let serr: TcpErrorCode | null | undefined;
    serve(w.b, 80, (t) => {
      t.user = { onClosed: (e) => { serr = e; } };
      t.send(bytes('220 welcome\r\n'), w.sim.now());
    });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    c.openActive(w.sim.now());
    let unread = -1;
    w.sim.at(500 * MS, () => { unread = c.readable; c.close(w.sim.now()); });
    w.sim.runUntilIdle();

    const out = segments(w.rec, w.a, 'out', port).filter((x) => x.t >= 500 * MS);
    ck.ok('the client had unread data and sent RST, not FIN', '客户端有未读数据，发送的是 RST 而不是 FIN',
      unread > 0 && out.length === 1 && isRst(out[0]!) && !out.some(isFin), `${unread} bytes unread; sent ${exchange(w.rec, w.a, port).slice(-1).join('')}`);
    ck.eq('client: ESTABLISHED → CLOSED at once; counter TcpExtTCPAbortOnClose=1', '客户端：ESTABLISHED → CLOSED 立即完成；计数器 TcpExtTCPAbortOnClose=1',
      [statePath(w.rec, w.a, port).slice(2).join(' '), w.a.counters.TcpExtTCPAbortOnClose], ['ESTABLISHED CLOSED', 1]);
    const sclose = stateEvents(w.rec, w.b, port).at(-1);
    ck.ok('the server gets ECONNRESET one link delay later', '服务器在一个链路延迟后得到 ECONNRESET',
      serr === 'ECONNRESET' && sclose !== undefined && sclose.t === 505 * MS, `${serr} at ${sclose ? fmtTime(sclose.t) : '?'}`);
    ck.eq('no TIME-WAIT anywhere, no connections left', '任何一方都没有 TIME-WAIT，没有剩余连接',
      [enteredAt(w.rec, w.a, 'TIME-WAIT', port), enteredAt(w.rec, w.b, 'TIME-WAIT', port), w.a.connectionCount, w.b.connectionCount], [-1, -1, 0, 0]);
    return result(w, ck, c.connId);
  },
};
