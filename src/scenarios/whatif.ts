// What-ifs for the classic interview questions: counterfactual runs that break TCP on
// purpose to show what its rules prevent. They are NOT TCP and say so (Scenario.notTcp); they
// are not in SCENARIOS (`synack scenario check` runs real TCP only) but in WHAT_IFS.
import type { Tcb } from '../tcp/tcb.js';
import type { SegmentOut } from '../tcp/types.js';
import type { Scenario } from './types.js';
import { newOutOptions } from '../tcp/types.js';
import { seqAdd } from '../tcp/seq.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../wire/tcp.js';
import { serializeSegment } from '../stack/tcpout.js';
import {
  Checks, MS, SEC, SERVER_ADDR, CLIENT_ADDR, makeWorld, result, serve, segments, bytes, text, pktInfo, injectFrom, note, isRst, fmtTime, stateEvents,
} from './common.js';

const seg = (o: Partial<SegmentOut>): SegmentOut => ({ seq: 0, ack: 0, flags: 0, window: 64240, urgentPointer: 0, opts: newOutOptions(), payload: null, retransmit: false, ...o });

export const whatIfNoTimeWait: Scenario = {
  name: 'whatif-no-time-wait',
  notTcp: { en: 'no TIME-WAIT (MSL = 0) and ISNs that do not advance', zh: '没有 TIME-WAIT（MSL = 0），ISN 也不随时间增长' },
  title: { en: 'What if there were no TIME-WAIT? An old segment lands in the new connection', zh: '假如没有 TIME-WAIT？旧报文段落入新连接' },
  explain: {
    en:
      'NOT TCP. Two rules are switched off: the client keeps no TIME-WAIT (MSL = 0), and both sides pick the same ' +
      'initial sequence numbers again (real ISNs come from a clock, RFC 6528, so a new incarnation starts elsewhere ' +
      'in the sequence space). The client fetches /a, closes first and forgets the connection at once; a copy of the ' +
      'server\'s answer is still delayed in the network. One second later the client connects again from the same ' +
      'port and asks for /b. The old copy arrives first — and its sequence numbers are exactly what the new ' +
      'connection expects, so TCP accepts the stale bytes as the answer to /b and drops the real answer as a ' +
      'duplicate. The application reads the wrong data, and nothing anywhere reports an error.\n' +
      'This is the second reason for TIME-WAIT: 2·MSL lets every old segment of a four-tuple die before the ' +
      'four-tuple can be used again (RFC 9293 §3.4.1; with clock-driven ISNs and timestamps/PAWS as further guards).',
    zh:
      '这不是 TCP。这里关掉了两条规则：客户端不保留 TIME-WAIT（MSL = 0），双方再次选用相同的初始序号' +
      '（真实的 ISN 来自一个时钟，RFC 6528，所以新的连接实例会从序号空间的别处开始）。客户端请求 /a，先关闭并立即忘掉这条连接；' +
      '而服务器回答的一个副本还滞留在网络中。一秒钟后，客户端从同一个端口再次连接，请求 /b。旧副本先到达——它的序号恰好是新连接所期望的，' +
      '于是 TCP 把这些过时的字节当作 /b 的回答接收下来，而把真正的回答当作重复报文丢弃。应用程序读到了错误的数据，却没有任何地方报错。\n' +
      '这正是 TIME-WAIT 的第二个理由：2·MSL 让一个四元组的所有旧报文段先在网络中消亡，然后这个四元组才能再次使用' +
      '（RFC 9293 §3.4.1；基于时钟的 ISN 以及时间戳/PAWS 是更多的防线）。',
  },
  run({ seed }) {
    const w = makeWorld(seed, { optionsA: { tcp_msl: 0, tcp_timestamps: 0 }, optionsB: { tcp_timestamps: 0 } });
    const ck = new Checks();
    const now = (): number => w.sim.now();
    const SERVER_ISN = 1_000_000, CLIENT_ISN = 5_000_000, PORT = 40000;
    // Counterfactual: the server's ISN does not advance with time.
    w.b.isnOverride = () => SERVER_ISN;
    const answers: Record<string, string> = { 'GET /a': 'AAAA', 'GET /b': 'BBBB' };
    serve(w.b, 80, (t) => {
      t.user = {
        onReadable: () => {
          const req = text(t.receive(1 << 16, now()));
          // /b is slow: its answer leaves 300 ms later.
          w.sim.after(req === 'GET /b' ? 300 * MS : 0, () => t.send(bytes(answers[req] ?? '?'), now()));
        },
        onEnd: () => { t.close(now()); },
      };
    });
    let dup: Uint8Array | null = null;
    w.faultB.dropWhen((p) => { if (dup === null && (pktInfo(p)?.len ?? 0) > 0) dup = p.slice(); return false; });
    const got: string[] = ['', ''];
    const open = (k: number, path: string): Tcb => {
      const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80, localPort: PORT, iss: CLIENT_ISN });
      c.user = {
        onEstablished: () => { c.send(bytes(`GET ${path}`), now()); },
        onReadable: () => { got[k] += text(c.receive(1 << 16, now())); if (got[k]!.length >= 4) c.close(now()); },
      };
      c.openActive(now());
      return c;
    };
    const c1 = open(0, '/a');
    let c2: Tcb | null = null;
    w.sim.at(1 * SEC, () => { c2 = open(1, '/b'); });
    w.sim.at(1 * SEC + 100 * MS, () => {
      if (dup !== null && c2 !== null) {
        note(w, w.b, { localAddr: w.b.traceHost, localPort: 80, remoteAddr: w.a.traceHost, remotePort: PORT }, 'old copy of the answer to /a, delayed 1.1 s');
        injectFrom(w, w.b, dup);
      }
    });
    w.sim.runUntilIdle();

    const reconnect = segments(w.rec, w.a, 'out').filter((x) => (x.flags & TCP_SYN) !== 0);
    ck.ok('without TIME-WAIT the client reuses the same four-tuple at once, with the same ISN', '没有 TIME-WAIT，客户端立即以相同的 ISN 重用同一个四元组',
      reconnect.length === 2 && reconnect.every((x) => x.conn.localPort === PORT && x.seq === CLIENT_ISN) && c1.localPort === PORT,
      reconnect.map((x) => `SYN :${x.conn.localPort} seq=${x.seq} at ${fmtTime(x.t)}`).join('; '));
    ck.eq('the application asked for /b and read the old answer to /a', '应用程序请求 /b，却读到了 /a 的旧回答', got[1], 'AAAA');
    const real = segments(w.rec, w.b, 'out').filter((x) => x.len > 0 && x.t > 1 * SEC && x.injected !== true);
    ck.ok('the real answer (BBBB) arrived later and was dropped as a duplicate', '真正的回答（BBBB）后来才到，被当作重复报文丢弃',
      real.length >= 1 && real[0]!.seq === seqAdd(SERVER_ISN, 1), real.length > 0 ? `real answer seq=${real[0]!.seq} at ${fmtTime(real[0]!.t)}` : 'none');
    return { ...result(w, ck), absolute: true };
  },
};

export const whatIfTwoWayHandshake: Scenario = {
  name: 'whatif-two-way-handshake',
  notTcp: { en: 'a two-way handshake: the server counts the connection as open on the SYN', zh: '两次握手：服务器一收到 SYN 就认为连接已建立' },
  title: { en: 'What if the handshake had two steps? A stale SYN opens a connection nobody wanted', zh: '假如只有两次握手？一个过时的 SYN 打开了没人要的连接' },
  explain: {
    en:
      'NOT TCP. The server here follows a two-way handshake: SYN, SYN-ACK, done — it counts the connection as open ' +
      'as soon as it has answered, and its application starts talking (an SMTP-style greeting). The SYN that arrives ' +
      'is an old duplicate from an earlier connection of this client, long delayed in the network; the client wants ' +
      'no connection now. The server commits resources and sends data into the void. The client\'s TCP, which has ' +
      'no such connection, answers each segment with a reset, and only that tells the server its "connection" never ' +
      'existed.\n' +
      'With the real three-way handshake (see old-duplicate-syn) the server waits in SYN-RECEIVED: nothing is ' +
      'delivered to the application and nothing is sent until the client\'s ACK proves that a live client wants this ' +
      'connection with this ISN — which a stale SYN can never provide.',
    zh:
      '这不是 TCP。这里的服务器采用两次握手：SYN、SYN-ACK，结束——它一回答就认为连接已建立，应用程序随即开始说话（像 SMTP 那样发送欢迎信息）。' +
      '到达的 SYN 是这个客户端早先某条连接的旧的重复报文，在网络中滞留了很久；客户端现在根本不想建立连接。服务器却投入了资源，并把数据发进了虚空。' +
      '客户端的 TCP 并没有这条连接，它对每个报文段都回复复位报文段，服务器这才知道它的“连接”从来就不存在。\n' +
      '真正的三次握手（参见 old-duplicate-syn）中，服务器在 SYN-RECEIVED 中等待：在客户端的 ACK 证明一个活着的客户端确实想要这个 ISN 的这条连接之前，' +
      '什么都不会交给应用程序，也不会发送任何数据——而过时的 SYN 永远给不出这个证明。',
  },
  run({ seed }) {
    const w = makeWorld(seed);
    const ck = new Checks();
    let opened = 0, accepted = 0;
    serve(w.b, 80, () => { accepted++; });
    const STALE = 777_777, PORT = 40123;
    const fromServer = { localAddr: w.b.traceHost, localPort: 80, remoteAddr: w.a.traceHost, remotePort: PORT };
    // Counterfactual: when the server has sent its SYN-ACK it considers the connection open
    // and its application sends its greeting at once.
    const off = w.b.addTraceListener((e) => {
      if (e.type !== 'segment' || e.dir !== 'out' || (e.flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK) || e.conn.remotePort !== PORT) return;
      off();
      const synackSeq = e.seq;
      w.sim.after(0, () => {
        note(w, w.b, fromServer, 'two-way: connection open, greeting sent');
        const greet = seg({ seq: seqAdd(synackSeq, 1), ack: seqAdd(STALE, 1), flags: TCP_ACK | TCP_PSH, payload: bytes('220 hello\r\n') });
        // Drawn as the (two-way) server's own segment: in this world its TCP sent it.
        injectFrom(w, w.b, serializeSegment(greet, w.b.traceHost, 80, w.a.traceHost, PORT, 64, 2), { injected: false });
        opened++;
      });
    });
    // The stale SYN: from the client's address and an old port, long delayed.
    w.sim.at(100 * MS, () => {
      const syn = seg({ seq: STALE, flags: TCP_SYN });
      syn.opts.mss = 1460;
      injectFrom(w, w.a, serializeSegment(syn, w.a.traceHost, PORT, w.b.traceHost, 80, 64, 1));
    });
    w.sim.runUntilIdle();

    const greet = segments(w.rec, w.b, 'out', PORT).find((x) => x.len > 0);
    ck.ok('the two-way server opened a connection nobody asked for and sent data into it', '两次握手的服务器打开了一条没人请求的连接，并向其中发送数据',
      greet !== undefined && opened === 1, greet ? `${greet.len} bytes at ${fmtTime(greet.t)}` : 'no data');
    const rsts = segments(w.rec, w.a, 'out', PORT).filter(isRst);
    ck.ok('the client, which has no such connection, resets it', '客户端并没有这条连接，于是把它复位',
      rsts.length >= 1 && w.a.connectionCount === 0, `${rsts.length} RST from ${CLIENT_ADDR}:${PORT}`);
    ck.eq('synack\'s real TCP underneath never left SYN-RECEIVED and accepted nothing: the three-way handshake is what protects it', '底下 synack 真正的 TCP 从未离开 SYN-RECEIVED，也没有接受任何连接：保护它的正是三次握手',
      [stateEvents(w.rec, w.b, PORT).map((x) => x.to).join(' '), accepted], ['SYN-RECEIVED CLOSED', 0]);
    return result(w, ck);
  },
};

export const WHAT_IFS: Scenario[] = [whatIfTwoWayHandshake, whatIfNoTimeWait];
