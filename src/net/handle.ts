// `socket._handle`: what Node's net.Socket keeps as its libuv TCP wrap. Node code outside
// net looks at it — http's client asks `_handle.getAsyncId()` when a response ends, http's
// server consumes a socket whose `_handle.isStreamBase` is set, tls and http2 wrap a socket
// whose handle is a StreamBase directly — so synack's sockets have one exactly when Node's
// have one (from connect() until destroy, and for accepted sockets), and it offers what a
// TCP wrap offers to JavaScript without a file descriptor: the `reading` flag with
// readStart()/readStop(), an async id, the byte counters and the socket names. It is not a
// StreamBase (no isStreamBase), so http, tls and http2 use the stream interface instead.
import { AsyncResource } from 'node:async_hooks';

export interface HandleOps {
  reading(): boolean;
  setReading(v: boolean): void;
  readStart(): void;
  readStop(): void;
  bytesRead(): number;
  bytesWritten(): number;
  sockname(): { address: string; family: string; port: number } | null;
  peername(): { address: string; family: string; port: number } | null;
}

export class TCPHandle {
  /** There is no file descriptor underneath (Node's handles without one report -1 too). */
  readonly fd = -1;
  readonly #ops: HandleOps;
  readonly #resource = new AsyncResource('TCPWRAP');

  constructor(ops: HandleOps) { this.#ops = ops; }

  get reading(): boolean { return this.#ops.reading(); }
  set reading(v: boolean) { this.#ops.setReading(Boolean(v)); }
  get bytesRead(): number { return this.#ops.bytesRead(); }
  get bytesWritten(): number { return this.#ops.bytesWritten(); }

  /** 0 on success, as the wrap returns. */
  readStart(): number { this.#ops.readStart(); return 0; }
  readStop(): number { this.#ops.readStop(); return 0; }

  getAsyncId(): number { return this.#resource.asyncId(); }

  /** Fills `out` like the wrap: 0, or a negative errno (ENOTCONN) when there is no name. */
  getsockname(out: Record<string, unknown>): number { return fill(out, this.#ops.sockname()); }
  getpeername(out: Record<string, unknown>): number { return fill(out, this.#ops.peername()); }

  /** Called when the socket lets go of its handle (async_hooks sees the wrap destroyed). */
  close(): void { this.#resource.emitDestroy(); }
}

function fill(out: Record<string, unknown>, name: { address: string; family: string; port: number } | null): number {
  if (name === null) return -107; // ENOTCONN
  Object.assign(out, name);
  return 0;
}
