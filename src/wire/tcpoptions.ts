// TCP options: RFC 9293 §3.1 ("Options") and §3.2 (EOL, NOP, MSS), RFC 7323 §2.2 (Window
// Scale) and §3.2 (Timestamps), RFC 2018 §2 (SACK-Permitted) and §3 (SACK).
//
// Two readers share one validity check (`optionError`) so they always agree:
// - parseTcpOptions: a list of records (tests, printing, the packetdrill dialect);
// - scanTcpOptions: the engine's hot path, fills a caller-owned summary, no allocation.
//
// An End of Option List byte ends the list; everything after it is header padding
// (RFC 9293 §3.1: "The content of the header beyond the End of Option List Option MUST be
// header padding of zeros"). The parsed list therefore never contains 'eol': emit pads with
// EOL, and parse(emit(x)) gives x back. Padding contents are not checked (be liberal in what
// you accept). An 'eol' given to writeTcpOptions is written as one 0 byte, so any options after
// it are unreadable by design.

import type { ParseError, ParseResult } from './errors.js';
import { ok } from './errors.js';

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'unknown'; type: number; data: Uint8Array };

/** Most SACK blocks that fit the 40-byte option space (RFC 2018 §3: 8*4+2 = 34 bytes). */
const MAX_SUMMARY_SACK_BLOCKS = 4;

function u32(buf: Uint8Array, i: number): number {
  return ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
}

function putU32(out: Uint8Array, i: number, v: number): void {
  out[i] = v >>> 24;
  out[i + 1] = (v >>> 16) & 0xff;
  out[i + 2] = (v >>> 8) & 0xff;
  out[i + 3] = v & 0xff;
}

function badOption(reason: string): ParseError {
  return { kind: 'bad-option', reason };
}

function rangeError(buf: Uint8Array, off: number, len: number): ParseError | null {
  if (Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length) {
    return null;
  }
  return { kind: 'truncated', reason: `option area off=${off} len=${len} lies outside a ${buf.length}-byte buffer` };
}

/** Fixed total length for the kinds we interpret, or -1 (SACK and unknown kinds are variable). */
function fixedLength(kind: number): number {
  switch (kind) {
    case TCPOPT_MSS: return 4; // RFC 9293 §3.2
    case TCPOPT_WSCALE: return 3; // RFC 7323 §2.2
    case TCPOPT_SACK_PERMITTED: return 2; // RFC 2018 §2
    case TCPOPT_TIMESTAMP: return 10; // RFC 7323 §3.2
    default: return -1;
  }
}

/**
 * Checks the option starting at buf[i] (kind not EOL/NOP) against the area ending at `end`.
 * Returns null when it is well formed; its length is then buf[i + 1]. `base` is the start of
 * the option area, used only to give byte positions in the reason.
 */
function optionError(buf: Uint8Array, i: number, end: number, base: number): ParseError | null {
  const kind = buf[i]!;
  const at = i - base;
  if (i + 1 >= end) return badOption(`option kind ${kind} at byte ${at} has no length byte`);
  const len = buf[i + 1]!;
  // RFC 9293 §3.1 MUST-7: be prepared for an illegal option length (e.g. zero).
  if (len < 2) return badOption(`option kind ${kind} at byte ${at} has illegal length ${len}`);
  if (i + len > end) {
    return badOption(`option kind ${kind} at byte ${at} with length ${len} overruns the option area by ${i + len - end}`);
  }
  const fixed = fixedLength(kind);
  if (fixed >= 0 && len !== fixed) {
    return badOption(`option kind ${kind} at byte ${at} has length ${len}, expected ${fixed}`);
  }
  // RFC 2018 §3: a SACK option that specifies n blocks has length 8*n+2; n >= 1.
  if (kind === TCPOPT_SACK && (len < 10 || (len - 2) % 8 !== 0)) {
    return badOption(`SACK option at byte ${at} has length ${len}, expected 2+8n with n >= 1`);
  }
  return null;
}

/**
 * Parses buf[off..off+len) as a TCP option list. EOL ends the list (not included in the
 * result); unknown kinds are kept as 'unknown' and skipped by their length (RFC 9293 §3.1
 * MUST-6). Malformed lengths give 'bad-option'; an area outside `buf` gives 'truncated'.
 */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number): ParseResult<TcpOption[]> {
  const range = rangeError(buf, off, len);
  if (range !== null) return { ok: false, error: range };
  const end = off + len;
  const opts: TcpOption[] = [];
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      opts.push({ kind: 'nop' });
      i++;
      continue;
    }
    const err = optionError(buf, i, end, off);
    if (err !== null) return { ok: false, error: err };
    const n = buf[i + 1]!;
    switch (kind) {
      case TCPOPT_MSS:
        opts.push({ kind: 'mss', value: (buf[i + 2]! << 8) | buf[i + 3]! });
        break;
      case TCPOPT_WSCALE:
        opts.push({ kind: 'wscale', shift: buf[i + 2]! });
        break;
      case TCPOPT_SACK_PERMITTED:
        opts.push({ kind: 'sackOK' });
        break;
      case TCPOPT_SACK: {
        const blocks: Array<[number, number]> = [];
        for (let j = i + 2; j < i + n; j += 8) blocks.push([u32(buf, j), u32(buf, j + 4)]);
        opts.push({ kind: 'sack', blocks });
        break;
      }
      case TCPOPT_TIMESTAMP:
        opts.push({ kind: 'ts', val: u32(buf, i + 2), ecr: u32(buf, i + 6) });
        break;
      default:
        // A copy, so the record does not alias a packet buffer that will be reused.
        opts.push({ kind: 'unknown', type: kind, data: buf.slice(i + 2, i + n) });
    }
    i += n;
  }
  return ok(opts);
}

/** Encoded length of one option in bytes. */
function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop': return 1;
    case 'mss': return 4;
    case 'wscale': return 3;
    case 'sackOK': return 2;
    case 'sack': return 2 + 8 * o.blocks.length;
    case 'ts': return 10;
    case 'unknown': return 2 + o.data.length;
  }
}

/** Unpadded byte length of an option list. */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  return n;
}

function check16(name: string, v: number): void {
  if ((v & 0xffff) !== v) throw new RangeError(`${name} ${v} is not a 16-bit unsigned integer`);
}

function check8(name: string, v: number): void {
  if ((v & 0xff) !== v) throw new RangeError(`${name} ${v} is not an 8-bit unsigned integer`);
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new RangeError(`${name} ${v} is not a 32-bit integer`);
  }
}

/**
 * Writes the options at out[off..] and pads with EOL (0) to a multiple of 4 bytes
 * (RFC 9293 §3.1: the header is a multiple of 32 bits). Returns the padded length.
 * Throws RangeError for values that cannot be encoded or when `out` is too small
 * (caller bugs, not input errors). Sequence-valued fields accept int32 or uint32.
 */
export function writeTcpOptions(opts: readonly TcpOption[], out: Uint8Array, off: number): number {
  const raw = tcpOptionsLength(opts);
  const padded = (raw + 3) & ~3;
  if (!Number.isInteger(off) || off < 0 || off + padded > out.length) {
    throw new RangeError(`${padded} option bytes at offset ${off} do not fit a ${out.length}-byte buffer`);
  }
  let i = off;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol': out[i++] = TCPOPT_EOL; break;
      case 'nop': out[i++] = TCPOPT_NOP; break;
      case 'mss':
        check16('MSS', o.value);
        out[i] = TCPOPT_MSS; out[i + 1] = 4; out[i + 2] = o.value >>> 8; out[i + 3] = o.value & 0xff;
        i += 4;
        break;
      case 'wscale':
        check8('window scale shift', o.shift);
        out[i] = TCPOPT_WSCALE; out[i + 1] = 3; out[i + 2] = o.shift;
        i += 3;
        break;
      case 'sackOK':
        out[i] = TCPOPT_SACK_PERMITTED; out[i + 1] = 2;
        i += 2;
        break;
      case 'sack': {
        const len = 2 + 8 * o.blocks.length;
        if (len > 255) throw new RangeError(`${o.blocks.length} SACK blocks do not fit one option`);
        out[i] = TCPOPT_SACK; out[i + 1] = len;
        i += 2;
        for (const [left, right] of o.blocks) {
          checkU32('SACK edge', left);
          checkU32('SACK edge', right);
          putU32(out, i, left);
          putU32(out, i + 4, right);
          i += 8;
        }
        break;
      }
      case 'ts':
        checkU32('TSval', o.val);
        checkU32('TSecr', o.ecr);
        out[i] = TCPOPT_TIMESTAMP; out[i + 1] = 10;
        putU32(out, i + 2, o.val);
        putU32(out, i + 6, o.ecr);
        i += 10;
        break;
      case 'unknown': {
        check8('option kind', o.type);
        const len = 2 + o.data.length;
        if (len > 255) throw new RangeError(`option kind ${o.type} with ${o.data.length} data bytes is too long`);
        out[i] = o.type; out[i + 1] = len;
        out.set(o.data, i + 2);
        i += len;
        break;
      }
    }
  }
  // RFC 9293 §3.1 MUST-69: the header beyond the option list is zero padding (EOL bytes).
  out.fill(TCPOPT_EOL, i, off + padded);
  return padded;
}

/** What the engine needs from the options of one segment, filled without allocating. */
export interface TcpOptionSummary {
  /** MSS option value (RFC 9293 §3.2), or -1 when absent. */
  mss: number;
  /** Raw window scale shift.cnt (RFC 7323 §2.2), or -1 when absent; clamping to 14 is the engine's job. */
  wscale: number;
  /** SACK-Permitted seen (RFC 2018 §2). */
  sackPermitted: boolean;
  /** Timestamps option seen (RFC 7323 §3.2); tsVal/tsEcr are 0 when absent. */
  tsPresent: boolean;
  tsVal: number;
  tsEcr: number;
  /** Number of SACK blocks in sackBlocks, 0..4 (RFC 2018 §3). */
  sackCount: number;
  /** left0, right0, left1, right1, ... (length 8). */
  sackBlocks: Uint32Array;
}

export function newTcpOptionSummary(): TcpOptionSummary {
  return {
    mss: -1, wscale: -1, sackPermitted: false, tsPresent: false, tsVal: 0, tsEcr: 0,
    sackCount: 0, sackBlocks: new Uint32Array(2 * MAX_SUMMARY_SACK_BLOCKS),
  };
}

/**
 * Fast path: resets `out`, then fills it from the options in buf[off..off+len). Returns
 * null, or the same error parseTcpOptions would give (the contents of `out` are then
 * partial and must not be used). When an option appears twice the last one wins (Linux
 * tcp_parse_options behaves the same); only the first 4 blocks of a SACK option are kept.
 */
export function scanTcpOptions(buf: Uint8Array, off: number, len: number, out: TcpOptionSummary): ParseError | null {
  out.mss = -1;
  out.wscale = -1;
  out.sackPermitted = false;
  out.tsPresent = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.sackCount = 0;
  const range = rangeError(buf, off, len);
  if (range !== null) return range;
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    const err = optionError(buf, i, end, off);
    if (err !== null) return err;
    const n = buf[i + 1]!;
    switch (kind) {
      case TCPOPT_MSS:
        out.mss = (buf[i + 2]! << 8) | buf[i + 3]!;
        break;
      case TCPOPT_WSCALE:
        out.wscale = buf[i + 2]!;
        break;
      case TCPOPT_SACK_PERMITTED:
        out.sackPermitted = true;
        break;
      case TCPOPT_SACK: {
        let count = 0;
        for (let j = i + 2; j < i + n && count < MAX_SUMMARY_SACK_BLOCKS; j += 8, count++) {
          out.sackBlocks[2 * count] = u32(buf, j);
          out.sackBlocks[2 * count + 1] = u32(buf, j + 4);
        }
        out.sackCount = count;
        break;
      }
      case TCPOPT_TIMESTAMP:
        out.tsPresent = true;
        out.tsVal = u32(buf, i + 2);
        out.tsEcr = u32(buf, i + 6);
        break;
      default:
        break; // RFC 9293 §3.1 MUST-6: ignore options we do not implement.
    }
    i += n;
  }
  return null;
}

/** Builds a summary from a parsed list with the same rules as scanTcpOptions (tests, tools). */
export function summarizeTcpOptions(opts: readonly TcpOption[], out: TcpOptionSummary = newTcpOptionSummary()): TcpOptionSummary {
  out.mss = -1;
  out.wscale = -1;
  out.sackPermitted = false;
  out.tsPresent = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.sackCount = 0;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol': return out; // ends the list, as on the wire
      case 'mss': out.mss = o.value; break;
      case 'wscale': out.wscale = o.shift; break;
      case 'sackOK': out.sackPermitted = true; break;
      case 'ts': out.tsPresent = true; out.tsVal = o.val >>> 0; out.tsEcr = o.ecr >>> 0; break;
      case 'sack': {
        const count = Math.min(o.blocks.length, MAX_SUMMARY_SACK_BLOCKS);
        for (let k = 0; k < count; k++) {
          out.sackBlocks[2 * k] = o.blocks[k]![0];
          out.sackBlocks[2 * k + 1] = o.blocks[k]![1];
        }
        out.sackCount = count;
        break;
      }
      default: break;
    }
  }
  return out;
}
