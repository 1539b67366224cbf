// Shared TCP engine types: states, segments in and out, user-visible errors.
import type { TcpOptionSummary } from '../wire/tcpoptions.js';

/** RFC 9293 §3.3.2: the eleven states, by their RFC names (never ordered numbers). */
export type TcpState =
  | 'CLOSED' | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED'
  | 'FIN-WAIT-1' | 'FIN-WAIT-2' | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT';

export const TCP_STATES: readonly TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED',
  'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
];

/** States in which both SYNs have been exchanged (RFC 9293 §3.10.7.4 "synchronized states"). */
export function isSynchronized(s: TcpState): boolean {
  return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN-SENT' && s !== 'SYN-RECEIVED';
}

/** A parsed segment handed to the engine. Addresses/ports are the stack's business. */
export interface SegmentIn {
  seq: number;
  ack: number;
  flags: number;
  /** Raw window field, not yet scaled. */
  window: number;
  urgentPointer: number;
  payload: Uint8Array;
  opts: TcpOptionSummary;
}

/** Options the engine wants on an outgoing segment. The stack lays them out as Linux does. */
export interface OutOptions {
  mss: number;          // -1: absent
  wscale: number;       // -1: absent
  sackPermitted: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks as absolute sequence numbers [left, right) pairs, flat. */
  sack: number[];
}

/** A segment the engine asks the stack to send. Reused by the engine: consume synchronously. */
export interface SegmentOut {
  seq: number;
  ack: number;
  flags: number;
  /** Raw 16-bit window field (already shifted by our window scale). */
  window: number;
  urgentPointer: number;
  opts: OutOptions;
  payload: Uint8Array | null;
  /** True for a retransmission (for counters and traces). */
  retransmit: boolean;
}

export function newOutOptions(): OutOptions {
  return { mss: -1, wscale: -1, sackPermitted: false, ts: false, tsVal: 0, tsEcr: 0, sack: [] };
}

/** Errors a connection reports to its user, with the errno names Node uses. */
export type TcpErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'ECONNABORTED' | 'EPIPE' | 'EHOSTUNREACH' | 'ENETUNREACH'
  // From ICMP errors, as Linux maps them (icmp_err_convert, tcp_v4_err): see tcp/icmp.ts.
  | 'ENOPROTOOPT' | 'EPROTO' | 'EMSGSIZE' | 'EHOSTDOWN' | 'EOPNOTSUPP' | 'ENONET';

/** Why a connection went to CLOSED, for traces and the user. */
export type CloseCause =
  | 'normal' | 'reset' | 'refused' | 'timeout' | 'user-timeout' | 'keepalive-timeout'
  | 'abort' | 'time-wait-done' | 'orphan-limit' | 'fin-wait-2-timeout' | 'syn-ack-retries' | 'listener-closed'
  | 'reuse' | 'unreachable';
