// A synack peer for the interop suite that uses the engine directly (Stack + Tcb callbacks,
// no Node net layer): echo and discard services, active opens on request, and a JSON-lines
// control channel on stdin/stdout. Run inside the test's network namespace:
//   ip netns exec NS node dist/test/interop/rawpeer.js --tun t0 --addr 198.18.0.1/24 --echo 7 --discard 9
// Control: {"cmd":"table"} | {"cmd":"stats"} | {"cmd":"send","id":1,"host":"…","port":N,"bytes":N}
//   | {"cmd":"quit"}. Every reply is one JSON line with the request's id.
// RAWPEER_DUMP=/tmp/x saves what each active open received to /tmp/x.<port> (debugging).
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Tcb } from '../../src/tcp/tcb.js';
import type { Listener } from '../../src/tcp/listener.js';
import { TUN_OPTIONS, parseTunFlags, startTunHost, closeOnExit, hostTable, hostStats, describeStartError, patternBytes, type TunHost } from '../../src/cli/tunhost.js';


const { values } = parseArgs({ options: { ...TUN_OPTIONS, echo: { type: 'string' }, discard: { type: 'string' } }, allowPositionals: false });

function reply(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

let host: TunHost;
try {
  host = startTunHost(parseTunFlags(values));
} catch (e) {
  reply({ error: describeStartError(e), code: (e as { code?: string }).code });
  process.exit(1);
}
closeOnExit(host);
const { stack, driver } = host;
const now = (): number => driver.now();

function accepting(l: Listener, serve: (t: Tcb) => void): void {
  l.onAcceptable = () => {
    for (let t = l.accept(); t !== null; t = l.accept()) serve(t);
  };
}

/** Echo (RFC 862) with backpressure: read only while what we owe the peer fits the send buffer. */
function serveEcho(t: Tcb): void {
  let pending: Uint8Array | null = null;
  let off = 0;
  let eof = false;
  const pump = (): void => {
    for (;;) {
      if (pending !== null) {
        const n = t.send(pending, now(), off);
        if (n < 0) return;
        off += n;
        if (off < pending.length) return; // wait for onWritable
        pending = null;
      }
      if (t.readable === 0) break;
      pending = t.receive(t.sendSpace > 0 ? Math.max(t.sendSpace, 1460) : 65536, now());
      off = 0;
    }
    if (eof && pending === null && t.readable === 0) t.close(now());
  };
  t.user = { onReadable: pump, onWritable: pump, onEnd: () => { eof = true; pump(); } };
  pump();
}

/** Discard (RFC 863): read and drop; close when the peer does. */
function serveDiscard(t: Tcb): void {
  const drain = (): void => { while (t.readable > 0) t.receive(1 << 20, now()); };
  t.user = { onReadable: drain, onEnd: () => { drain(); t.close(now()); } };
}

if (values.echo) accepting(stack.listen({ port: Number(values.echo) }), serveEcho);
if (values.discard) accepting(stack.listen({ port: Number(values.discard) }), serveDiscard);

interface SendReq { id: number; host: string; port: number; bytes: number }

/** Active open: send `bytes` of the test pattern, half-close, and report what came back. */
function activeSend(req: SendReq): void {
  const t = stack.connect({ remoteAddr: req.host, remotePort: req.port });
  const data = patternBytes(req.bytes);
  const hash = createHash('sha256');
  const dump: Uint8Array[] = [];
  let got = 0, off = 0, done = false;
  const start = now();
  const finish = (o: Record<string, unknown>): void => {
    if (done) return;
    done = true;
    if (process.env.RAWPEER_DUMP) writeFileSync(`${process.env.RAWPEER_DUMP}.${req.port}`, Buffer.concat(dump));
    reply({ id: req.id, ...o, received: got, sha256: hash.digest('hex'), ms: (now() - start) / 1000 });
  };
  const pump = (): void => {
    while (off < data.length) {
      const n = t.send(data, now(), off);
      if (n <= 0) return;
      off += n;
    }
    if (!t.finQueued) t.close(now(), false); // shutdown(SHUT_WR)
  };
  t.user = {
    onEstablished: pump,
    onWritable: pump,
    onReadable: () => drain(),
    // The peer's FIN: everything it will send has arrived (our FIN went out before). Report
    // now; the connection itself lingers in TIME-WAIT, since we closed first.
    onEnd: () => { drain(); t.close(now()); finish({ ok: true, state: t.state }); },
    onClosed: (err) => finish(err === null ? { ok: true, state: 'CLOSED' } : { ok: false, error: err }),
  };
  function drain(): void { while (t.readable > 0) { const d = t.receive(1 << 20, now()); got += d.length; hash.update(d); if (process.env.RAWPEER_DUMP) dump.push(d); } }
  t.openActive(now());
}

reply({ ready: true, tun: host.tun.name, pid: process.pid });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let m: { cmd: string; id?: number } & Partial<SendReq>;
  try { m = JSON.parse(line); } catch { reply({ error: 'bad json' }); return; }
  switch (m.cmd) {
    case 'table': reply({ id: m.id, table: hostTable(host) }); break;
    case 'stats': reply({ id: m.id, stats: hostStats(host) }); break;
    case 'send': activeSend(m as SendReq); break;
    case 'quit': host.close(); reply({ id: m.id, bye: true }); process.exit(0);
    // falls through (unreachable)
    default: reply({ id: m.id, error: `unknown command ${m.cmd}` });
  }
});
rl.on('close', () => { host.close(); process.exit(0); });
