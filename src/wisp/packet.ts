// Wisp packet codec (browser-clean). Wisp multiplexes TCP and UDP streams over one
// WebSocket; the reference is the protocol as implemented by @mercuryworkshop/wisp-js
// (src/packet.mjs, extensions.mjs) and its spec (wisp-protocol, v1 and v2):
//
//   packet   = type u8 | stream_id u32le | payload
//   CONNECT  (0x01) = stream_type u8 (0x01 TCP, 0x02 UDP) | port u16le | hostname (UTF-8, rest)
//   DATA     (0x02) = bytes (rest)
//   CONTINUE (0x03) = buffer_remaining u32le   (server → client; flow control, in packets)
//   CLOSE    (0x04) = reason u8
//   INFO     (0x05) = major u8 | minor u8 | extensions (v2 only): { id u8 | len u32le | payload }*
//
// Flow control (spec "CONTINUE"): on connect the server sends CONTINUE on stream 0 with the
// number of DATA packets it buffers per stream; a client sends at most that many DATA packets
// on a TCP stream until the server sends a CONTINUE for that stream with a new remaining count.
// UDP streams are not flow-controlled. Wisp has no half-close: CLOSE ends both directions.

export const WISP_CONNECT = 0x01;
export const WISP_DATA = 0x02;
export const WISP_CONTINUE = 0x03;
export const WISP_CLOSE = 0x04;
export const WISP_INFO = 0x05;

export const WISP_STREAM_TCP = 0x01;
export const WISP_STREAM_UDP = 0x02;

/** Close reasons (wisp-protocol "CLOSE"). */
export const WispCloseReason = {
  Unknown: 0x01,
  Voluntary: 0x02,
  NetworkError: 0x03,
  IncompatibleExtensions: 0x04,
  InvalidInfo: 0x41,
  UnreachableHost: 0x42,
  NoResponse: 0x43,
  ConnRefused: 0x44,
  TransferTimeout: 0x47,
  HostBlocked: 0x48,
  ConnThrottled: 0x49,
  ClientError: 0x81,
} as const;

/** Wisp v2 extension ids. */
export const WISP_EXT_UDP = 0x01;
export const WISP_EXT_MOTD = 0x04;

export interface WispExtension { id: number; payload: Uint8Array }

export type WispPacket =
  | { type: typeof WISP_CONNECT; streamId: number; streamType: number; port: number; hostname: string }
  | { type: typeof WISP_DATA; streamId: number; data: Uint8Array }
  | { type: typeof WISP_CONTINUE; streamId: number; bufferRemaining: number }
  | { type: typeof WISP_CLOSE; streamId: number; reason: number }
  | { type: typeof WISP_INFO; streamId: number; major: number; minor: number; extensions: WispExtension[] };

/** A malformed Wisp packet (Node-style `code`). */
export class WispError extends Error {
  readonly code = 'ERR_WISP_PACKET';
  constructor(message: string) { super(message); this.name = 'WispError'; }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function header(type: number, streamId: number, payloadLen: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(5 + payloadLen);
  const dv = new DataView(buf.buffer);
  dv.setUint8(0, type);
  dv.setUint32(1, streamId >>> 0, true);
  return { buf, dv };
}

export function encodeConnect(streamId: number, streamType: number, port: number, hostname: string): Uint8Array {
  const h = enc.encode(hostname);
  const { buf, dv } = header(WISP_CONNECT, streamId, 3 + h.length);
  dv.setUint8(5, streamType);
  dv.setUint16(6, port, true);
  buf.set(h, 8);
  return buf;
}

export function encodeData(streamId: number, data: Uint8Array, off = 0, len = data.length - off): Uint8Array {
  const { buf } = header(WISP_DATA, streamId, len);
  buf.set(data.subarray(off, off + len), 5);
  return buf;
}

export function encodeContinue(streamId: number, bufferRemaining: number): Uint8Array {
  const { buf, dv } = header(WISP_CONTINUE, streamId, 4);
  dv.setUint32(5, bufferRemaining >>> 0, true);
  return buf;
}

export function encodeClose(streamId: number, reason: number): Uint8Array {
  const { buf, dv } = header(WISP_CLOSE, streamId, 1);
  dv.setUint8(5, reason);
  return buf;
}

export function encodeInfo(major: number, minor: number, extensions: WispExtension[]): Uint8Array {
  let n = 2;
  for (const e of extensions) n += 5 + e.payload.length;
  const { buf, dv } = header(WISP_INFO, 0, n);
  dv.setUint8(5, major);
  dv.setUint8(6, minor);
  let o = 7;
  for (const e of extensions) {
    dv.setUint8(o, e.id);
    dv.setUint32(o + 1, e.payload.length, true);
    buf.set(e.payload, o + 5);
    o += 5 + e.payload.length;
  }
  return buf;
}

/** Decode one Wisp packet (one WebSocket binary message). Throws WispError on malformed input. */
export function decodeWisp(b: Uint8Array): WispPacket {
  if (b.length < 5) throw new WispError(`packet too short (${b.length} bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = b[0]!;
  const streamId = dv.getUint32(1, true);
  const p = b.subarray(5);
  switch (type) {
    case WISP_CONNECT:
      if (p.length < 3) throw new WispError('CONNECT payload too short');
      return { type, streamId, streamType: p[0]!, port: dv.getUint16(6, true), hostname: dec.decode(p.subarray(3)) };
    case WISP_DATA:
      return { type, streamId, data: p };
    case WISP_CONTINUE:
      if (p.length < 4) throw new WispError('CONTINUE payload too short');
      return { type, streamId, bufferRemaining: dv.getUint32(5, true) };
    case WISP_CLOSE:
      if (p.length < 1) throw new WispError('CLOSE payload too short');
      return { type, streamId, reason: p[0]! };
    case WISP_INFO: {
      if (p.length < 2) throw new WispError('INFO payload too short');
      const extensions: WispExtension[] = [];
      let o = 2;
      while (o < p.length) {
        if (o + 5 > p.length) throw new WispError('INFO extension header truncated');
        const id = p[o]!;
        const len = dv.getUint32(5 + o + 1, true);
        if (o + 5 + len > p.length) throw new WispError('INFO extension payload truncated');
        extensions.push({ id, payload: p.subarray(o + 5, o + 5 + len) });
        o += 5 + len;
      }
      return { type, streamId, major: p[0]!, minor: p[1]!, extensions };
    }
    default:
      throw new WispError(`unknown packet type 0x${type.toString(16)}`);
  }
}
