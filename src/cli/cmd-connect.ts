// `synack connect HOST PORT --tun …`: netcat over synack. stdin → socket → stdout; at the end
// of stdin synack half-closes (sends FIN) and keeps reading until the peer closes too.
import { parseArgs } from 'node:util';
import { parseIpv4Address } from '../wire/ipv4addr.js';
import type { Socket } from '../net/socket.js';
import { TUN_OPTIONS, TUN_HELP, UsageError, parseTunFlags, startTunHost, closeOnExit, describeStartError, settle, type TunHost } from './tunhost.js';

export const summary = 'netcat over synack on a Linux TUN device (stdin → TCP → stdout)';

const HELP = `usage: synack connect HOST PORT --tun NAME --addr A/P [options]

Opens a TCP connection from synack (address A, on the new TUN device NAME) to HOST:PORT on
the kernel's side, copies stdin to it and what comes back to stdout. At the end of stdin
synack half-closes the connection (FIN) and keeps printing until the peer closes.
HOST is an IPv4 address in A/P (by default the kernel is the first usable address of the
prefix that is not synack's, e.g. 198.18.0.2 for --addr 198.18.0.1/24).

  -q, --quiet      no connection messages on stderr
  -h, --help       this text

${TUN_HELP}
exit status: 0 when the connection closed cleanly, 1 on a connection error (the message
names it: ECONNREFUSED, ECONNRESET, ETIMEDOUT, …), 2 on bad usage.
`;

export async function run(argv: string[]): Promise<number> {
  let values, positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: { ...TUN_OPTIONS, quiet: { type: 'boolean', short: 'q' } }, allowPositionals: true }));
  } catch (e) {
    process.stderr.write(`synack connect: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  const log = (s: string): void => { if (!values.quiet) process.stderr.write(`synack connect: ${s}\n`); };

  let host: TunHost;
  let remote: string, port: number;
  try {
    if (positionals.length !== 2) throw new UsageError('need HOST and PORT');
    remote = positionals[0]!;
    port = Number(positionals[1]);
    if (parseIpv4Address(remote) === null) throw new UsageError(`HOST must be an IPv4 address, got '${remote}'`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`PORT must be 1..65535, got '${positionals[1]}'`);
    host = startTunHost(parseTunFlags(values));
  } catch (e) {
    process.stderr.write(`synack connect: ${describeStartError(e)}\n`);
    if (e instanceof UsageError) process.stderr.write('(synack connect --help for usage)\n');
    return e instanceof UsageError ? 2 : 1;
  }
  closeOnExit(host);

  const code = await new Promise<number>((resolve) => {
    const sock: Socket = host.net.connect({ host: remote, port, allowHalfOpen: true });
    let failed = false;
    sock.on('connect', () => {
      log(`connected ${sock.localAddress}:${sock.localPort} → ${remote}:${port}`);
      // pipe() ends the socket at the end of stdin: shutdown(SHUT_WR), a FIN, reading goes on.
      process.stdin.pipe(sock);
    });
    sock.pipe(process.stdout, { end: false });
    sock.on('end', () => {
      // The peer half-closed: nothing more will come. If we have finished sending too,
      // the connection is done; otherwise keep sending (its stdin may still have data).
      if (sock.writableEnded) return;
      log('peer closed its side; still sending');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      failed = true;
      process.stderr.write(`synack connect: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}\n`);
    });
    sock.on('close', () => {
      process.stdin.unpipe(sock);
      process.stdin.pause();
      resolve(failed ? 1 : 0);
    });
  });
  // Let the last ACK/FIN of the close reach the kernel before the device goes away.
  await settle(host);
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  host.close();
  process.stdin.destroy();
  return code;
}
