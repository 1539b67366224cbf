// The JSON trace: a stable, documented contract (docs/trace-json.md). One JSON array of
// events in time order. Every event has
//   t     virtual time in integer microseconds
//   host  the dotted IPv4 address of the stack that reported it
//   conn  "local:port-peer:port" from that host's side (null only for a drop that belongs to
//         no connection, e.g. a packet with a bad checksum)
//   type  "segment" | "state" | "timer" | "user" | "drop" | "arp" | "neigh" | "dhcp"
// Segment events carry every TCP header field the stack saw or sent; sequence numbers are
// absolute (renderers make them relative). Field names never change meaning; new fields may
// be added.
import type { TraceEvent, SegmentTraceOptions } from './events.js';
import type { TcpState } from '../tcp/types.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { flagLetters, formatConnId, rfcFrom, timeOrdered } from './conn.js';

export type JsonTcpOption =
  | { kind: 'mss'; value: number }
  | { kind: 'sackOK' }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'wscale'; value: number }
  | { kind: 'sack'; blocks: Array<[number, number]> };

interface JsonBase { t: number; host: string; conn: string | null }

export interface JsonSegmentEvent extends JsonBase {
  type: 'segment';
  conn: string;
  dir: 'in' | 'out';
  /** Letters from FSRPAUEC in that order, e.g. "S", "SA", "PA", "FA", "R", "RA". */
  flags: string;
  seq: number;
  ack: number;
  /** Payload bytes. */
  len: number;
  /** The raw 16-bit window field (not scaled). */
  win: number;
  /** Urgent pointer field. */
  urg: number;
  /** In the order Linux lays them out: mss, sackOK, ts, wscale; sack blocks on non-SYN segments. */
  options: JsonTcpOption[];
  /** The sender's stack marked it as a retransmission. */
  retransmit?: true;
  /** An outgoing segment the link dropped (it never arrived). */
  lost?: true;
  /** Not sent by the host's TCP: a scenario put it on the wire as if from this host (an old duplicate). */
  injected?: true;
}

export interface JsonStateEvent extends JsonBase {
  type: 'state';
  conn: string;
  /** RFC 9293 state names: CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT. */
  from: TcpState;
  to: TcpState;
  /** Why: "user: connect", "rcv SYN", "rcv ACK of FIN", "timeout", … */
  cause: string;
}

export interface JsonTimerEvent extends JsonBase {
  type: 'timer';
  conn: string;
  /** rto | syn | synack | persist | delack | keepalive | time-wait | fin-wait-2 | user-timeout */
  timer: string;
  action: 'set' | 'cancel' | 'fire';
  /** For "set": when it will fire (µs). */
  at?: number;
}

export interface JsonUserEvent extends JsonBase {
  type: 'user';
  conn: string;
  /** connect | close | shutdown | abort | … */
  call: string;
  detail?: string;
}

export interface JsonDropEvent extends JsonBase {
  type: 'drop';
  reason: string;
}

/** An ARP packet on an Ethernet interface (conn is null). */
export interface JsonArpEvent extends JsonBase {
  type: 'arp';
  conn: null;
  ifname: string;
  dir: 'in' | 'out';
  op: 'request' | 'reply';
  /** Sender and target hardware (MAC) and protocol (IPv4) addresses, RFC 826 names. */
  sha: string; spa: string; tha: string; tpa: string;
  /** The frame's Ethernet destination. */
  dst: string;
  lost?: true;
}

/** A neighbour-cache entry changed state: INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED, PERMANENT, NONE. */
export interface JsonNeighEvent extends JsonBase {
  type: 'neigh';
  conn: null;
  ifname: string;
  addr: string;
  mac: string | null;
  from: string;
  to: string;
  cause: string;
}

/** DHCP (issue 13): a message (kind 'message': dir, msg, xid), a client state change ('state': from, to), a server lease event ('lease'). */
export interface JsonDhcpEvent extends JsonBase {
  type: 'dhcp';
  conn: null;
  role: 'client' | 'server';
  kind: 'message' | 'state' | 'lease';
  dir?: 'in' | 'out';
  msg?: string;
  xid?: number;
  from?: string;
  to?: string;
  detail: string;
}

export type JsonTraceEvent = JsonSegmentEvent | JsonStateEvent | JsonTimerEvent | JsonUserEvent | JsonDropEvent | JsonArpEvent | JsonNeighEvent | JsonDhcpEvent;

export function jsonOptions(o: SegmentTraceOptions): JsonTcpOption[] {
  const out: JsonTcpOption[] = [];
  if (o.mss !== undefined) out.push({ kind: 'mss', value: o.mss });
  if (o.sackOK) out.push({ kind: 'sackOK' });
  if (o.ts !== undefined) out.push({ kind: 'ts', val: o.ts.val >>> 0, ecr: o.ts.ecr >>> 0 });
  if (o.wscale !== undefined) out.push({ kind: 'wscale', value: o.wscale });
  if (o.sack !== undefined && o.sack.length > 0) out.push({ kind: 'sack', blocks: o.sack.map(([l, r]) => [l >>> 0, r >>> 0]) });
  return out;
}

/**
 * Convert recorded trace events to the JSON contract. Drops that the stack could not tie to
 * a connection take the connection of the segment that arrived on that host at the same
 * instant (the drop is that segment's fate), else conn is null.
 */
export function toJsonTrace(events: ReadonlyArray<TraceEvent & { lost?: boolean }>): JsonTraceEvent[] {
  const out: JsonTraceEvent[] = [];
  const lastIn = new Map<number, { t: number; conn: string }>();
  for (const e of timeOrdered(events)) {
    const host = formatIpv4Address(e.host);
    switch (e.type) {
      case 'segment': {
        const conn = formatConnId(e.conn);
        const j: JsonSegmentEvent = {
          t: e.t, host, conn, type: 'segment', dir: e.dir, flags: flagLetters(e.flags),
          seq: e.seq >>> 0, ack: e.ack >>> 0, len: e.len, win: e.win, urg: e.urg, options: jsonOptions(e.options),
        };
        if (e.retransmit) j.retransmit = true;
        if (e.lost) j.lost = true;
        if (e.injected === true) j.injected = true;
        if (e.dir === 'in') lastIn.set(e.host, { t: e.t, conn });
        out.push(j);
        break;
      }
      case 'state':
        out.push({ t: e.t, host, conn: formatConnId(e.conn), type: 'state', from: rfcFrom(e.from, e.to), to: e.to, cause: e.cause });
        break;
      case 'timer': {
        const j: JsonTimerEvent = { t: e.t, host, conn: formatConnId(e.conn), type: 'timer', timer: e.timer, action: e.action };
        if (e.at !== undefined && Number.isFinite(e.at)) j.at = e.at;
        out.push(j);
        break;
      }
      case 'user': {
        const j: JsonUserEvent = { t: e.t, host, conn: formatConnId(e.conn), type: 'user', call: e.call };
        if (e.detail !== undefined) j.detail = e.detail;
        out.push(j);
        break;
      }
      case 'drop': {
        let conn: string | null = e.conn === null ? null : formatConnId(e.conn);
        if (conn === null) {
          const li = lastIn.get(e.host);
          if (li !== undefined && li.t === e.t) conn = li.conn;
        }
        out.push({ t: e.t, host, conn, type: 'drop', reason: e.reason });
        break;
      }
      case 'arp': {
        const j: JsonArpEvent = {
          t: e.t, host, conn: null, type: 'arp', ifname: e.ifname, dir: e.dir, op: e.op, sha: e.sha, spa: formatIpv4Address(e.spa),
          tha: e.tha, tpa: formatIpv4Address(e.tpa), dst: e.dst,
        };
        if (e.lost) j.lost = true;
        out.push(j);
        break;
      }
      case 'neigh':
        out.push({ t: e.t, host, conn: null, type: 'neigh', ifname: e.ifname, addr: formatIpv4Address(e.addr), mac: e.mac, from: e.from, to: e.to, cause: e.cause });
        break;
      case 'dhcp': {
        const j: JsonDhcpEvent = { t: e.t, host, conn: null, type: 'dhcp', role: e.role, kind: e.kind, detail: e.detail };
        if (e.dir !== undefined) j.dir = e.dir;
        if (e.msg !== undefined) j.msg = e.msg;
        if (e.xid !== undefined) j.xid = e.xid;
        if (e.from !== undefined) j.from = e.from;
        if (e.to !== undefined) j.to = e.to;
        out.push(j);
        break;
      }
    }
  }
  return out;
}

/** The JSON trace as text: one array, one event per line (diff-friendly, still valid JSON). */
export function renderJson(events: ReadonlyArray<TraceEvent & { lost?: boolean }>): string {
  const arr = toJsonTrace(events);
  if (arr.length === 0) return '[]\n';
  return '[\n' + arr.map((e) => '  ' + JSON.stringify(e)).join(',\n') + '\n]\n';
}
