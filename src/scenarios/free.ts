// The lab's free two-host setup: a client sends `size` bytes to a server over a link with
// the chosen one-way delay and random loss (seeded), the server answers "ok" and both
// close. Not a textbook case with fixed expectations: its checks are what must hold on any
// link TCP can use at all.
import type { Scenario } from './types.js';
import type { TcpErrorCode } from '../tcp/types.js';
import { Checks, MS, SERVER_ADDR, makeWorld, result, serve, bytes, fmtTime } from './common.js';

export interface FreeSetup {
  /** One-way delay, ms (default 5). */
  delay?: number;
  /** Loss probability per packet and direction, [0, 1) (default 0). */
  loss?: number;
  /** Bytes the client sends (default 20 000). */
  size?: number;
}

export function freeScenario(o: FreeSetup = {}): Scenario {
  const delay = Math.max(0, o.delay ?? 5);
  const loss = Math.min(0.9, Math.max(0, o.loss ?? 0));
  const size = Math.max(0, Math.min(10_000_000, Math.floor(o.size ?? 20_000)));
  return {
    name: 'free',
    title: { en: `Free setup: ${size} bytes over a ${delay} ms link, ${(loss * 100).toFixed(1)}% loss`, zh: `自由设置：${size} 字节，链路单向时延 ${delay} ms，丢包率 ${(loss * 100).toFixed(1)}%` },
    explain: {
      en: 'A client connects, sends its data, and closes; the server reads everything, answers "ok" and closes too. ' +
        'Change the delay, the loss rate and the seed, lose segments by clicking them, and watch how TCP keeps the ' +
        'byte stream intact: retransmission timeouts, fast retransmit on duplicate ACKs, SACK, the congestion window.',
      zh: '客户端建立连接、发送数据后关闭；服务器读完全部数据，回复“ok”后也关闭。改变时延、丢包率和种子，点击报文段让它丢失，' +
        '观察 TCP 如何保持字节流完整：超时重传、重复确认触发的快速重传、SACK、拥塞窗口。',
    },
    run({ seed }) {
      const w = makeWorld(seed, { delay: Math.round(delay * MS) });
      if (loss > 0) { w.faultA.configure({ loss }); w.faultB.configure({ loss }); }
      const ck = new Checks();
      let received = 0;
      serve(w.b, 80, (t) => {
        t.user = {
          onReadable: () => { received += t.receive(1 << 20, w.sim.now()).length; },
          onEnd: () => { t.send(bytes('ok'), w.sim.now()); t.close(w.sim.now()); },
        };
      });
      const c = w.a.connect({ remoteAddr: SERVER_ADDR, remotePort: 80 });
      const data = new Uint8Array(size).fill(0x61);
      let off = 0, err: TcpErrorCode | null = null, closed = false;
      const pump = (): void => {
        while (off < data.length) {
          const n = c.send(data.subarray(off, Math.min(data.length, off + 65536)), w.sim.now());
          if (n <= 0) return;
          off += n;
        }
        if (!closed) { closed = true; c.close(w.sim.now()); }
      };
      c.user = {
        onEstablished: pump, onWritable: pump,
        onReadable: () => { c.receive(1 << 16, w.sim.now()); },
        onClosed: (e) => { err = e; },
      };
      c.openActive(w.sim.now());
      w.sim.runUntilIdle({ maxTime: 3600 * 1_000_000 });
      ck.eq('every byte arrived, in order', '每个字节都按序到达', received, size);
      ck.ok('the connection closed without error', '连接正常关闭，没有错误', err === null && c.state === 'CLOSED', `${String(err)}, ${c.state} at ${fmtTime(w.sim.now())}`);
      return result(w, ck, c.connId);
    },
  };
}
