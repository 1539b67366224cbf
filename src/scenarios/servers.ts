// What happens to servers: a restart with and without SO_REUSEADDR, and keepalive meeting a
// peer that rebooted (it answers the probe with RST).
import type { Tcb } from '../tcp/tcb.js';
import type { TcpErrorCode } from '../tcp/types.js';
import type { Listener } from '../tcp/listener.js';
import type { Scenario, ScenarioResult } from './types.js';
import { StackError } from '../stack/errors.js';
import {
  Checks, MS, SEC, SERVER_ADDR, makeWorld, result, serve, segments, bytes, fmtTime, stateEvents, isRst, type World,
} from './common.js';

// ------------------------------------------------------------------ server restart

interface RestartRun { w: World; early: string; late: string; second: Tcb | null; twAtRestart: number }

/**
 * A server answers one request and closes first (so its side of the connection ends in
 * TIME-WAIT), then is stopped at 1 s and started again at once, then again after TIME-WAIT.
 */
function restart(seed: number, reuseAddr: boolean): RestartRun {
  const w = makeWorld(seed);
  const now = (): number => w.sim.now();
  const app = (t: Tcb): void => {
    t.user = { onReadable: () => { t.receive(1 << 16, now()); t.send(bytes('200 OK'), now()); t.close(now()); } };
  };
  let l: Listener | null = w.b.listen({ port: 80, reuseAddr });
  const accept = (x: Listener): void => { x.onAcceptable = () => { for (let t = x.accept(); t !== null; t = x.accept()) app(t); }; };
  accept(l);
  const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
  c.user = { onEstablished: () => { c.send(bytes('GET /'), now()); }, onReadable: () => { c.receive(1 << 16, now()); }, onEnd: () => { c.close(now()); } };
  c.openActive(now());
  const out: RestartRun = { w, early: '', late: '', second: null, twAtRestart: 0 };
  const tryListen = (): string => {
    try { l = w.b.listen({ port: 80, reuseAddr }); accept(l); return 'ok'; } catch (e) { return (e as StackError).code; }
  };
  w.sim.at(1 * SEC, () => {
    // The server process stops: its listening socket closes; then it starts again.
    if (l !== null) w.b.closeListener(l);
    l = null;
    out.twAtRestart = w.b.tcbs().filter((t) => t.state === 'TIME-WAIT' && t.localPort === 80).length;
    out.early = tryListen();
    if (out.early === 'ok') {
      const c2 = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
      c2.user = { onEstablished: () => { c2.send(bytes('GET /'), now()); }, onReadable: () => { c2.receive(1 << 16, now()); }, onEnd: () => { c2.close(now()); } };
      c2.openActive(now());
      out.second = c2;
    }
  });
  w.sim.at(62 * SEC, () => { if (l === null) out.late = tryListen(); });
  w.sim.runUntilIdle();
  return out;
}

export const serverRestart: Scenario = {
  name: 'server-restart',
  title: { en: 'Server restart with and without SO_REUSEADDR', zh: '服务器重启：设置与不设置 SO_REUSEADDR' },
  explain: {
    en:
      'A server that closes its connections first (after answering, or because it is being stopped) leaves each of ' +
      'them in TIME-WAIT on its own side for 2·MSL (60 s on Linux), and each still holds the server\'s port. Restart ' +
      'the server and its bind()/listen() on that port fails with EADDRINUSE ("Address already in use") for a minute, ' +
      'although nothing is listening — unless the socket sets SO_REUSEADDR. With SO_REUSEADDR set on the old and the ' +
      'new listening socket (the connections inherit it into TIME-WAIT), Linux lets the new socket bind: a TIME-WAIT ' +
      'connection is a complete four-tuple, and a new connection from a client uses another one. New clients ' +
      'connect at once; the TIME-WAIT connection still protects its own four-tuple.\n' +
      'That is why servers set SO_REUSEADDR. Node\'s net.Server does it on every listen (libuv sets it before each ' +
      'TCP bind on Unix), and so does synack\'s net layer; a plain socket does not. Without it the port is usable ' +
      'again only when TIME-WAIT ends.',
    zh:
      '先关闭连接的服务器（回答完请求后，或者因为它正在停止）会让每条连接在自己这一端进入 TIME-WAIT，停留 2·MSL（Linux 上为 60 秒），' +
      '而每条连接都仍然占着服务器的端口。此时重启服务器，它在这个端口上的 bind()/listen() 会在一分钟内以 EADDRINUSE（“Address already in use”）失败，' +
      '尽管并没有任何程序在监听——除非套接字设置了 SO_REUSEADDR。旧的和新的监听套接字都设置了 SO_REUSEADDR 时（连接进入 TIME-WAIT 后仍保留这个标志），' +
      'Linux 允许新套接字绑定：TIME-WAIT 连接是一个完整的四元组，而客户端的新连接使用另一个四元组。新客户端立即可以连接，' +
      'TIME-WAIT 连接仍然保护着它自己的四元组。\n' +
      '这就是服务器都设置 SO_REUSEADDR 的原因。Node 的 net.Server 每次 listen 都会设置它（libuv 在 Unix 上每次 TCP bind 之前都会设置），' +
      'synack 的 net 层也一样；普通套接字则不会。不设置时，只有等 TIME-WAIT 结束，端口才能再次使用。',
  },
  run({ seed }): ScenarioResult {
    const ck = new Checks();
    const off = restart(seed, false);
    ck.eq('the server closed first: its side of the connection is in TIME-WAIT at the restart', '服务器先关闭：重启时它这一端的连接处于 TIME-WAIT',
      off.twAtRestart, 1);
    ck.eq('without SO_REUSEADDR: listen() on port 80 fails with EADDRINUSE while TIME-WAIT lasts', '不设置 SO_REUSEADDR：TIME-WAIT 期间在 80 端口上 listen() 以 EADDRINUSE 失败',
      off.early, 'EADDRINUSE');
    ck.eq('without SO_REUSEADDR: after TIME-WAIT (60 s) the same listen() succeeds', '不设置 SO_REUSEADDR：TIME-WAIT（60 秒）结束后，同样的 listen() 成功', off.late, 'ok');
    const on = restart(seed, true);
    ck.eq('with SO_REUSEADDR: listen() succeeds at once, beside the TIME-WAIT connection', '设置 SO_REUSEADDR：listen() 立即成功，与 TIME-WAIT 连接并存',
      [on.twAtRestart, on.early], [1, 'ok']);
    const s2 = on.second;
    const est = s2 === null ? -1 : (stateEvents(on.w.rec, on.w.a, s2.localPort).find((e) => e.to === 'ESTABLISHED')?.t ?? -1);
    ck.ok('with SO_REUSEADDR: a new client connects to the restarted server one round trip later', '设置 SO_REUSEADDR：新客户端在一个往返之后连上重启后的服务器',
      s2 !== null && est === 1 * SEC + 10 * MS, s2 === null ? 'no second connection' : `ESTABLISHED at ${fmtTime(est)}`);
    return result(on.w, ck);
  },
};

// ------------------------------------------------------------------ keepalive and a rebooted peer

export const keepaliveRebootedPeer: Scenario = {
  name: 'keepalive-rebooted-peer',
  title: { en: 'Keepalive meets a peer that rebooted: RST, ECONNRESET', zh: '保活遇到已重启的对端：RST，ECONNRESET' },
  explain: {
    en:
      'The peer\'s host crashed and came back. Its TCP lost every connection, and nobody told this side: a reboot ' +
      'sends nothing. The idle connection here looks fine until keepalive probes it after tcp_keepalive_time ' +
      '(2 h): the probe reaches a host that is up but has no such connection, and any segment for no connection is ' +
      'answered with a reset (RFC 9293 §3.10.7.1; the probe carries ACK, so the RST has SEQ = the probe\'s ACK). The ' +
      'RST is acceptable (its sequence number is exactly RCV.NXT), the connection is closed at once and the ' +
      'application gets ECONNRESET — after one probe, not nine. Compare keepalive-dead-peer: a peer that is down or ' +
      'unreachable never answers, so it takes all tcp_keepalive_probes and ends with ETIMEDOUT.',
    zh:
      '对端主机崩溃后又重新启动了。它的 TCP 丢失了所有连接，却没有人通知这一端：重启不会发送任何报文。这里的空闲连接看起来一切正常，' +
      '直到 tcp_keepalive_time（2 小时）之后保活机制去探测它：探测报文到达的主机是在线的，但并没有这条连接，' +
      '而任何不属于某条连接的报文段都会收到复位报文段（RFC 9293 §3.10.7.1；探测报文带 ACK，所以 RST 的序号等于探测报文的确认号）。' +
      '这个 RST 是可接受的（序号正好等于 RCV.NXT），连接立即关闭，应用程序得到 ECONNRESET——只用了一个探测，而不是九个。' +
      '对比 keepalive-dead-peer：宕机或不可达的对端永远不会回答，要用完全部 tcp_keepalive_probes 个探测，最后以 ETIMEDOUT 结束。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let server: Tcb | null = null;
    serve(w.b, 80, (t) => { server = t; });
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    const port = c.localPort;
    let err: TcpErrorCode | null = null, at = -1;
    c.user = { onEstablished: () => { c.setKeepAlive(w.sim.now(), true); }, onClosed: (e) => { err = e; at = w.sim.now(); } };
    c.openActive(w.sim.now());
    // The server's host reboots at 1 s: its TCP forgets the connection without a word (the
    // server program starts again and listens, as before the crash).
    w.sim.at(1 * SEC, () => { (server as Tcb | null)?.closeTcb('abort', null); });
    w.sim.runUntilIdle();

    const probes = segments(w.rec, w.a, 'out', port).filter((x) => x.t > 1 * SEC && !isRst(x));
    ck.ok('one keepalive probe, 2 h after the peer was last heard', '一个保活探测，在最后一次收到对端消息 2 小时之后',
      probes.length === 1 && probes[0]!.t - 10 * MS === 7200 * SEC, probes.map((x) => fmtTime(x.t)).join(', '));
    const rst = segments(w.rec, w.b, 'out', port).find(isRst);
    ck.ok('the rebooted host answers it with RST, SEQ = the probe\'s ACK', '重启后的主机用 RST 回答，序号等于探测报文的确认号',
      rst !== undefined && probes.length > 0 && rst.seq === probes[0]!.ack, rst ? `RST seq=${rst.seq >>> 0}` : 'no RST');
    ck.ok('the connection is reset: ECONNRESET one round trip after the probe', '连接被复位：探测之后一个往返得到 ECONNRESET',
      err === 'ECONNRESET' && probes.length > 0 && at === probes[0]!.t + 10 * MS, `${err} at ${fmtTime(at)}`);
    ck.eq('counter TcpExtTCPKeepAlive = 1 (not 9)', '计数器 TcpExtTCPKeepAlive = 1（而不是 9）', w.a.counters.TcpExtTCPKeepAlive, 1);
    return result(w, ck, c.connId);
  },
};

// ------------------------------------------------------------------ TIME-WAIT pile-up on a server

const SHORT = 10;

interface PileRun { w: World; twAt: number; tw: number; twClient: number; rows: string[] }

/** SHORT requests 100 ms apart, one connection each (server closes first) or all on one kept-alive connection (client closes). */
function pile(seed: number, keepAlive: boolean): PileRun {
  const w = makeWorld(seed);
  const now = (): number => w.sim.now();
  serve(w.b, 80, (t) => {
    t.user = {
      onReadable: () => {
        const req = t.receive(1 << 16, now()).length;
        for (let i = 0; i < req / 5; i++) t.send(bytes('200 OK\n'), now());
        // HTTP/1.0 style: the server closes after answering, so the TIME-WAIT is its own.
        if (!keepAlive) t.close(now());
      },
      onEnd: () => { t.close(now()); },
    };
  });
  const out: PileRun = { w, twAt: 0, tw: 0, twClient: 0, rows: [] };
  if (keepAlive) {
    const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
    let sent = 0, got = 0;
    c.user = {
      onEstablished: () => { for (let i = 0; i < SHORT; i++) w.sim.after(i * 100 * MS, () => { c.send(bytes('GET /'), now()); sent++; }); },
      onReadable: () => { got += c.receive(1 << 16, now()).length; if (sent === SHORT && got >= SHORT * 7) c.close(now()); },
    };
    c.openActive(now());
  } else {
    for (let i = 0; i < SHORT; i++) {
      w.sim.at(i * 100 * MS, () => {
        const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
        c.user = { onEstablished: () => { c.send(bytes('GET /'), now()); }, onReadable: () => { c.receive(1 << 16, now()); }, onEnd: () => { c.close(now()); } };
        c.openActive(now());
      });
    }
  }
  out.twAt = SHORT * 100 * MS + 500 * MS;
  w.sim.at(out.twAt, () => {
    out.tw = w.b.tcbs().filter((t) => t.state === 'TIME-WAIT').length;
    out.twClient = w.a.tcbs().filter((t) => t.state === 'TIME-WAIT').length;
    out.rows = w.b.connections().filter((r) => r.state === 'TIME-WAIT').map((r) => `${r.ssState} ${r.localAddr}:${r.localPort} ${r.peerAddr}:${r.peerPort}`);
  });
  w.sim.runUntilIdle();
  return out;
}

export const timeWaitPileup: Scenario = {
  name: 'time-wait-pileup',
  title: { en: 'A pile of TIME-WAIT on a server, and the remedies', zh: '服务器上堆积的 TIME-WAIT 及其对策' },
  explain: {
    en:
      'TIME-WAIT belongs to whoever closes first. A server that closes every connection after its answer (HTTP/1.0, ' +
      'or HTTP/1.1 with "Connection: close") keeps one TIME-WAIT entry per request for 60 s: at 1000 requests per ' +
      'second from few clients that is 60 000 entries in `ss -tan state time-wait`. Each costs a little kernel memory ' +
      'and, more importantly, pins its four-tuple: a client that comes back from the same port within the minute ' +
      'meets the old TIME-WAIT (Linux accepts such a SYN only if its sequence number or timestamp is newer). The ' +
      'entries are harmless bookkeeping, not open connections — nothing to kill.\n' +
      'The remedies change who closes or how often: keep connections alive and send many requests on one (here 10 ' +
      'requests leave 10 TIME-WAITs on the server, or none when they share a kept-alive connection that the client ' +
      'closes); let the client close first, so the TIME-WAIT sits with the side that has 28 000 ephemeral ports; on ' +
      'a client that still runs out of ports, tcp_tw_reuse (see time-wait-reuse) or more source addresses. ' +
      'Shortening TIME-WAIT itself (MSL) or tcp_tw_recycle (removed from Linux in 4.12: it broke clients behind NAT) ' +
      'trades the protection TIME-WAIT gives for nothing a well-built server needs.',
    zh:
      'TIME-WAIT 属于先关闭的一方。每次回答后都关闭连接的服务器（HTTP/1.0，或者带 “Connection: close” 的 HTTP/1.1）' +
      '会为每个请求保留一个 TIME-WAIT 条目，持续 60 秒：来自少数客户端的每秒 1000 个请求，就意味着 `ss -tan state time-wait` 里有 60000 个条目。' +
      '每个条目占用少量内核内存，更重要的是它占着自己的四元组：一分钟之内从同一端口回来的客户端会碰上旧的 TIME-WAIT' +
      '（Linux 只有在新 SYN 的序号或时间戳更新时才接受它）。这些条目只是无害的记录，并不是打开的连接——不需要去“杀掉”它们。\n' +
      '对策是改变由谁关闭、多久关闭一次：保持连接，在一条连接上发送多个请求（这里 10 个请求在服务器上留下 10 个 TIME-WAIT，' +
      '而当它们共用一条由客户端关闭的长连接时，服务器上一个也没有）；让客户端先关闭，使 TIME-WAIT 落在拥有 28000 个临时端口的一方；' +
      '如果客户端仍然耗尽端口，就用 tcp_tw_reuse（参见 time-wait-reuse）或增加源地址。缩短 TIME-WAIT 本身（MSL）或使用 tcp_tw_recycle' +
      '（Linux 4.12 已将其删除：它会破坏 NAT 后面的客户端），都是用 TIME-WAIT 提供的保护去换取一个设计良好的服务器并不需要的东西。',
  },
  run({ seed }): ScenarioResult {
    const ck = new Checks();
    const short = pile(seed, false);
    ck.eq(`${SHORT} short connections, the server closing first: ${SHORT} TIME-WAIT entries on the server`, `${SHORT} 条短连接，服务器先关闭：服务器上有 ${SHORT} 个 TIME-WAIT 条目`,
      short.tw, SHORT);
    ck.ok('each entry pins one four-tuple (server :80, a different client port each)', '每个条目占着一个四元组（服务器 :80，每个客户端端口各不相同）',
      new Set(short.rows.map((r) => r.split(' ')[2])).size === SHORT && short.rows.every((r) => r.includes(':80 ')), short.rows.join('; '));
    const ends = stateEvents(short.w.rec, short.w.b).filter((e) => e.from === 'TIME-WAIT' && e.to === 'CLOSED');
    ck.ok('they all expire 60 s (2·MSL) after they began: nothing else clears them', '它们都在开始 60 秒（2·MSL）后过期：没有别的办法清除它们',
      ends.length === SHORT && ends.every((e) => {
        const start = stateEvents(short.w.rec, short.w.b).find((x) => x.to === 'TIME-WAIT' && x.conn.remotePort === e.conn.remotePort);
        return start !== undefined && e.t - start.t === 60 * SEC;
      }), `${ends.length} expired`);
    const kept = pile(seed, true);
    ck.eq('remedy: the same 10 requests on one kept-alive connection that the client closes leave no TIME-WAIT on the server', '对策：同样 10 个请求放在一条由客户端关闭的长连接上，服务器上不留 TIME-WAIT',
      [kept.tw, kept.twClient], [0, 1]);
    return result(short.w, ck);
  },
};
