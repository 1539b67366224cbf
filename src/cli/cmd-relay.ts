// `synack relay --listen 127.0.0.1:PORT [--allow HOST:PORT …]`: a Wisp server with
// deny-by-default destination rules (src/wisp/node/relay.ts, src/gateway/policy.ts).
import { parseArgs } from 'node:util';
import { Policy, RuleError } from '../gateway/policy.js';
import { startRelay } from '../wisp/node/relay.js';

export const summary = 'a Wisp (WebSocket) server that opens allow-listed TCP/UDP connections';

const HELP = `usage: synack relay --listen HOST:PORT [--allow RULE …] [--buffer N] [-q]

Serves Wisp (the WebSocket multiplexing protocol of v86 and browser proxies) on HOST:PORT;
each stream a client opens becomes a TCP connection or UDP flow from this host, if a rule
allows it. Nothing is allowed by default.

  --listen HOST:PORT  address to listen on (e.g. 127.0.0.1:5001; port 0 picks one)
  --allow RULE        [tcp:|udp:]HOST:PORT, repeatable. HOST: *, an IPv4 address, A.B.C.D/N,
                      a name or *.suffix; PORT: *, N or LO-HI. Example: --allow 127.0.0.1:8080
  --buffer N          DATA packets buffered per stream (the CONTINUE credit; default 128)
  -q, --quiet         no log lines on stderr
  -h, --help          this text
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: {
      listen: { type: 'string' }, allow: { type: 'string', multiple: true }, buffer: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e) {
    process.stderr.write(`synack relay: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  const m = /^(.+):(\d+)$/.exec(values.listen ?? '');
  if (!m) { process.stderr.write(`synack relay: --listen HOST:PORT is required\n${HELP}`); return 2; }
  let policy: Policy;
  try { policy = new Policy(values.allow ?? []); } catch (e) {
    if (e instanceof RuleError) { process.stderr.write(`synack relay: ${e.message}\n`); return 2; }
    throw e;
  }
  const log = (s: string): void => { if (!values.quiet) process.stderr.write(`synack relay: ${s}\n`); };
  const bufferPackets = values.buffer === undefined ? 128 : Number(values.buffer);
  if (!Number.isInteger(bufferPackets) || bufferPackets < 2) { process.stderr.write('synack relay: --buffer must be an integer ≥ 2\n'); return 2; }
  let r;
  try { r = await startRelay(m[1]!, Number(m[2]), { policy, bufferPackets, log }); } catch (e) {
    process.stderr.write(`synack relay: listen ${values.listen}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  log(`listening on ws://${m[1]}:${r.port}/ (${policy.rules.length === 0 ? 'no rules: everything is refused' : policy.rules.map((x) => x.text).join(', ')})`);
  // The port line on stdout lets scripts (and tests) find a port chosen with :0.
  process.stdout.write(`${r.port}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { void r.close().then(resolve); };
    process.once('SIGINT', stop); process.once('SIGTERM', stop);
  });
  const c = r.relay.counters;
  log(`closed: ${c.streamsOpened} streams opened, ${c.streamsRefused} refused, ${c.streamsFailed} failed`);
  return 0;
}
