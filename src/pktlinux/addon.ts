// The native addon for `synack pkt --target linux` (native/sockets.c): real kernel sockets
// and a TUN device, synchronous calls, -errno results.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SocketsAddon {
  tunOpen(name: string): number;
  tunRead(fd: number, timeoutMs: number): Buffer | null;
  tunWrite(fd: number, pkt: Uint8Array): number;
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: number, port: number): number;
  connect(fd: number, addr: number, port: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number): number;
  close(fd: number): number;
  shutdown(fd: number, how: number): number;
  recv(fd: number, len: number, flags: number): number;
  send(fd: number, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  getsockopt(fd: number, level: number, name: number): [number, number];
  setLinger(fd: number, on: number, secs: number): number;
  getLinger(fd: number): [number, number, number];
  ioctl(fd: number, req: number): [number, number];
  ioctlSet(fd: number, req: number, value: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  poll(fds: number[], events: number[]): number[];
  getsockname(fd: number): [number, number, number];
  tcpInfo(fd: number): Record<string, number> | number;
  nowUs(): number;
}

const FILE = fileURLToPath(new URL('../../../native/build/Release/synack_sockets.node', import.meta.url));

let addon: SocketsAddon | null = null;

/** Load the addon; throws an Error saying what is missing. */
export function loadSocketsAddon(): SocketsAddon {
  if (addon !== null) return addon;
  if (process.platform !== 'linux') throw new Error('--target linux needs Linux');
  if (!existsSync(FILE)) throw new Error(`--target linux: the native addon is not built (${FILE}); run: node scripts/build-addon.mjs --verbose`);
  addon = createRequire(import.meta.url)(FILE) as SocketsAddon;
  return addon;
}
