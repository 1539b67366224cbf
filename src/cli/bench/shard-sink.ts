// The shard benchmark's code inside each worker (a ShardedStack setup module):
//  - an engine-level sink on port 9 — accept, read everything into one buffer (like recv(2)
//    into a user buffer), close when the peer has sent FIN — so the figures measure the
//    stack, not Node streams; {cmd:'bytes'} reports what it read;
//  - {cmd:'local-bulk'|'local-connrate'}: a peer stack in the same worker, on a second
//    interface of the shard's stack (an in-thread memory link), runs a transfer or connect
//    + close loop against the sink. Nothing crosses threads: this is the bound the sharded
//    design can reach on this machine, each shard with the clients of the flows it owns.
import type { ShardContext } from '../../shard/sharded.js';
import type { Tcb } from '../../tcp/tcb.js';
import { Stack } from '../../stack/stack.js';
import { createLinkPair } from '../../sim/memlink.js';

export default function setup(ctx: ShardContext): void {
  const { stack, driver } = ctx;
  const l = stack.listen({ port: 9, backlog: 4096 });
  const sink = new Uint8Array(1 << 20);
  let bytes = 0, accepted = 0;
  l.onAcceptable = () => {
    for (let s = l.accept(); s !== null; s = l.accept()) {
      const t: Tcb = s;
      accepted++;
      t.user = {
        onReadable: () => { let n; while ((n = t.receiveInto(sink, 0, sink.length, driver.now())) > 0) bytes += n; },
        onEnd: () => { let n; while ((n = t.receiveInto(sink, 0, sink.length, driver.now())) > 0) bytes += n; t.close(driver.now()); },
      };
    }
  };

  let peer: Stack | null = null;
  const server = `198.19.${ctx.shard}.1`;
  const localPeer = (): Stack => {
    if (peer !== null) return peer;
    const [a, b] = createLinkPair(driver, { mtu: 1500 });
    stack.addInterface({ addr: server, prefixLen: 24, link: b, name: 'bench' });
    peer = new Stack({ clock: driver.clock, name: `peer${ctx.shard}`, options: { tcp_wmem: [4096, 1 << 20, 4 << 20], tcp_tw_reuse: 1 } });
    peer.addInterface({ addr: `198.19.${ctx.shard}.2`, prefixLen: 24, link: a });
    driver.addStack(peer);
    return peer;
  };

  const localBulk = (conns: number, total: number): Promise<unknown> => {
    const p = localPeer();
    const per = Math.floor(total / conns);
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
    const b0 = bytes;
    return new Promise((resolve) => {
      let ended = 0;
      for (let i = 0; i < conns; i++) {
        const c = p.connect({ remoteAddr: server, remotePort: 9 });
        let sent = 0;
        const pump = (): void => {
          while (sent < per) {
            const n = c.send(chunk, driver.now(), 0, Math.min(chunk.length, per - sent));
            if (n <= 0) return;
            sent += n;
          }
          if (c.state === 'ESTABLISHED') c.close(driver.now());
        };
        c.user = { onEstablished: pump, onWritable: pump, onEnd: () => { if (++ended === conns) resolve({ bytes: bytes - b0 }); } };
        c.openActive(driver.now());
      }
      driver.kick();
    });
  };

  const localConnRate = (count: number, parallel: number): Promise<unknown> => {
    const p = localPeer();
    let started = 0, done = 0;
    return new Promise((resolve, reject) => {
      const start = (): void => {
        started++;
        const c = p.connect({ remoteAddr: server, remotePort: 9 });
        c.user = {
          onEstablished: () => c.close(driver.now()),
          onEnd: () => { done++; if (done === count) resolve({ done }); else if (started < count) start(); },
          onClosed: (err) => { if (err !== null) reject(new Error(`connection failed: ${err}`)); },
        };
        c.openActive(driver.now());
      };
      for (let i = 0; i < parallel && started < count; i++) start();
      driver.kick();
    });
  };

  ctx.onRequest((m) => {
    const r = m as { cmd?: string; conns?: number; bytes?: number; count?: number; parallel?: number };
    if (r.cmd === 'bytes') return { bytes, accepted };
    if (r.cmd === 'local-bulk') return localBulk(r.conns!, r.bytes!);
    if (r.cmd === 'local-connrate') return localConnRate(r.count!, r.parallel!);
    throw new Error(`unknown request ${String(r.cmd)}`);
  });
}
