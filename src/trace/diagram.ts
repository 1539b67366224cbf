// The sequence-diagram model shared by the ASCII, SVG and Mermaid renderers.
//
// A trace becomes two sides (left: the host that sent the first SYN, right: its peer; other
// hosts join the side opposite their peer), and a list of items in time order:
//   - state:   a connection's state change, on the side whose stack reported it;
//   - note:    a user call (close(), shutdown(SHUT_WR) …), a timer that fired, a drop;
//   - segment: one segment, from its 'out' event to the matching 'in' event on the peer
//              (tArrive), or lost on the link (the recorder marked the 'out' event), or seen
//              only arriving when the sender was not traced (a raw test host);
//   - arrive:  where in the stream that segment arrived (the SVG slants arrows to it).
// Sequence numbers are relative to each direction's ISN by default, like tcpdump: each side's
// SYN sets its base; acknowledgments and SACK edges are relative to the peer's base.
// Windows are shown scaled once both SYNs carried window scale (RFC 7323 §2.2–2.3).
import type { Instant } from '../time/instant.js';
import type { TcpState } from '../tcp/types.js';
import type { ConnId, SegmentEvent, TimerName, TraceEvent } from './events.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { flagLetters, rfcFrom, sameConn, timeOrdered, toConnId } from './conn.js';

export interface DiagramOptions {
  /** Show only this connection ("a.b.c.d:port-e.f.g.h:port", either orientation, or a ConnId). */
  conn?: string | ConnId;
  /** Absolute sequence and acknowledgment numbers instead of relative ones. */
  absolute?: boolean;
  /** Dotted IPv4 address → label for the lifeline ('client', 'server'). */
  names?: Record<string, string>;
}

export type SideIndex = 0 | 1;

export interface DiagramSide {
  index: SideIndex;
  /** Addresses on this side, in order of appearance. */
  hosts: number[];
  /** names[first host], if given. */
  name: string | null;
  /** "198.18.0.1:40000" for one endpoint, "198.18.0.1" for several ports, "198.18.0.1 +2" for several hosts. */
  endpoint: string;
  /** With a single connection: the state before its first transition on this side. */
  initial: TcpState | null;
}

export interface DiagramConn {
  /** "left:port-right:port". */
  key: string;
  left: { addr: number; port: number };
  right: { addr: number; port: number };
  /** Short tag distinguishing connections when a diagram shows several (":40001"); "" for one. */
  tag: string;
}

interface ItemBase { t: Instant; conn: DiagramConn }
export interface StateItem extends ItemBase { kind: 'state'; side: SideIndex; from: TcpState; to: TcpState; cause: string }
export interface NoteItem extends ItemBase { kind: 'note'; side: SideIndex; what: 'user' | 'timer' | 'drop'; text: string }
export interface SegmentItem extends ItemBase {
  kind: 'segment';
  tSend: Instant | null;
  tArrive: Instant | null;
  from: SideIndex;
  to: SideIndex;
  flags: string;
  /** Shown values (relative unless `absolute`). */
  seq: number;
  ack: number | null;
  /** Window in bytes (scaled when window scaling is in use). */
  win: number;
  len: number;
  urg: number | null;
  /** "<mss 1460,sackOK,TS,wscale 7>", "<sack 1449:2897>", or null. */
  options: string | null;
  lost: boolean;
  retransmit: boolean;
  /** Put on the wire by the scenario (an old duplicate), not by the sender's TCP. */
  injected: boolean;
  /** Label words: flags, seq=, ack=, win=, len=, options, (retransmit). */
  tokens: string[];
  /** Absolute sequence and acknowledgment numbers (for relabelling, e.g. the textbooks' x, y). */
  rawSeq: number;
  rawAck: number | null;
  /** Index of the event this segment was drawn from in the renderer's input (its 'out' event, or the 'in' one when the sender is not traced). */
  ev: number;
}
export interface ArriveItem extends ItemBase { kind: 'arrive'; seg: SegmentItem }
export type DiagramItem = StateItem | NoteItem | SegmentItem | ArriveItem;

export interface Diagram {
  sides: [DiagramSide, DiagramSide];
  conns: DiagramConn[];
  items: DiagramItem[];
  absolute: boolean;
}

type Ev = TraceEvent & { lost?: boolean };

const TIMER_TEXT: Record<TimerName, string> = {
  'rto': 'RTO timeout', 'syn': 'SYN timeout', 'synack': 'SYN-ACK timeout', 'persist': 'persist timeout',
  'delack': 'delayed-ACK timeout', 'keepalive': 'keepalive timeout', 'time-wait': '2MSL timeout',
  'fin-wait-2': 'FIN-WAIT-2 timeout', 'user-timeout': 'user timeout',
};

export function timerText(name: string): string {
  return (TIMER_TEXT as Record<string, string>)[name] ?? `${name} timeout`;
}

export function userCallText(call: string, detail: string | undefined): string {
  // A scenario's own annotation (a summary of traffic it generated): the text as is.
  if (call === 'note') return detail ?? '';
  if (call === 'abort') return detail === undefined || detail === 'user: abort' ? 'abort()' : `abort(): ${detail}`;
  return `${call}(${detail ?? ''})`;
}

interface ConnState {
  info: DiagramConn;
  base: [number | undefined, number | undefined];
  ws: [number | undefined, number | undefined];
  finished: boolean;
  /** This direction's SYN has been seen (its base and window scale are fixed). */
  synSeen: [boolean, boolean];
}

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, URG = 0x20;

export function buildDiagram(input: ReadonlyArray<Ev>, opts: DiagramOptions = {}): Diagram {
  const all = timeOrdered(input);
  const indexOf = new Map<Ev, number>();
  input.forEach((e, i) => indexOf.set(e, i));
  const traced = new Set<number>();
  for (const e of all) traced.add(e.host);

  // Drops the stack could not tie to a connection belong to the segment that just arrived.
  const lastIn = new Map<number, { t: number; conn: ConnId }>();
  const events: Array<{ e: Ev; conn: ConnId }> = [];
  for (const e of all) {
    let c = e.conn;
    if (e.type === 'segment' && e.dir === 'in') lastIn.set(e.host, { t: e.t, conn: e.conn });
    if (c === null) {
      const li = lastIn.get(e.host);
      if (li !== undefined && li.t === e.t) c = li.conn;
    }
    if (c !== null) events.push({ e, conn: c });
  }

  const filter = opts.conn === undefined ? null : toConnId(opts.conn);
  if (opts.conn !== undefined && filter === null) throw new TypeError(`not a connection name: ${String(opts.conn)}`);
  const kept = filter === null ? events : events.filter((x) => sameConn(x.conn, filter));

  // ---- sides: the first SYN's sender is on the left.
  const side = new Map<number, SideIndex>();
  const order: number[] = [];
  const assign = (a: number, s: SideIndex) => { if (!side.has(a)) { side.set(a, s); order.push(a); } };
  for (const { e } of kept) {
    if (e.type === 'segment' && (e.flags & (SYN | ACK)) === SYN) {
      const sender = e.dir === 'out' ? e.conn.localAddr : e.conn.remoteAddr;
      const receiver = e.dir === 'out' ? e.conn.remoteAddr : e.conn.localAddr;
      assign(sender, 0);
      assign(receiver, sender === receiver ? 0 : 1);
      break;
    }
  }
  for (const { conn } of kept) {
    const a = conn.localAddr, b = conn.remoteAddr;
    if (side.has(a) && !side.has(b)) assign(b, (1 - side.get(a)!) as SideIndex);
    else if (side.has(b) && !side.has(a)) assign(a, (1 - side.get(b)!) as SideIndex);
    else if (!side.has(a) && !side.has(b)) { assign(a, 0); assign(b, a === b ? 0 : 1); }
  }
  const sideOf = (a: number): SideIndex => side.get(a) ?? 0;

  // ---- connections, canonical with the left endpoint first.
  const conns = new Map<string, ConnState>();
  const connOf = (c: ConnId): ConnState => {
    let l = { addr: c.localAddr, port: c.localPort }, r = { addr: c.remoteAddr, port: c.remotePort };
    if (sideOf(l.addr) === 1 && sideOf(r.addr) === 0) [l, r] = [r, l];
    else if (sideOf(l.addr) === sideOf(r.addr) && (l.addr > r.addr || (l.addr === r.addr && l.port > r.port))) [l, r] = [r, l];
    const key = `${formatIpv4Address(l.addr)}:${l.port}-${formatIpv4Address(r.addr)}:${r.port}`;
    let st = conns.get(key);
    if (st === undefined) {
      st = { info: { key, left: l, right: r, tag: '' }, base: [undefined, undefined], ws: [undefined, undefined], finished: false, synSeen: [false, false] };
      conns.set(key, st);
    }
    return st;
  };
  // Which end of a canonical connection an endpoint is (handles both hosts on one side).
  const endOf = (st: ConnState, addr: number, port: number): SideIndex =>
    st.info.left.addr === addr && st.info.left.port === port ? 0 : 1;

  const absolute = opts.absolute === true;
  const items: DiagramItem[] = [];
  const pending = new Map<string, SegmentItem[]>();
  const initial: [TcpState | null, TcpState | null] = [null, null];
  const seenState: [boolean, boolean] = [false, false];

  const makeSegment = (st: ConnState, e: SegmentEvent & { lost?: boolean }, from: SideIndex, tSend: number | null, tArrive: number | null): SegmentItem => {
    const f = e.flags;
    const other = (1 - from) as SideIndex;
    if (f & SYN) {
      if (!(f & ACK) && st.finished && st.base[from] !== (e.seq >>> 0)) {
        // A new incarnation of the 4-tuple (e.g. TIME-WAIT reuse): forget the old ISNs.
        st.base = [undefined, undefined]; st.ws = [undefined, undefined]; st.finished = false; st.synSeen = [false, false];
      }
      // One base per connection and direction: a later SYN of the same incarnation (a
      // retransmission, a script's SYN in ESTABLISHED, a stale duplicate) does not renumber.
      if (!st.synSeen[from]) { st.base[from] = e.seq >>> 0; st.ws[from] = e.options.wscale; st.synSeen[from] = true; }
    }
    if (f & (FIN | RST)) st.finished = true;
    if (st.base[from] === undefined) st.base[from] = e.seq >>> 0;
    if ((f & ACK) && st.base[other] === undefined) st.base[other] = (e.ack - 1) >>> 0;
    const rel = (v: number, s: SideIndex) => absolute ? v >>> 0 : (v - (st.base[s] ?? 0)) >>> 0;
    const seq = rel(e.seq, from);
    const ack = f & ACK ? rel(e.ack, other) : null;
    const scaled = !(f & SYN) && st.ws[0] !== undefined && st.ws[1] !== undefined;
    const win = scaled ? e.win * 2 ** st.ws[from]! : e.win;
    const o = e.options;
    const parts: string[] = [];
    if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
    if (o.sackOK) parts.push('sackOK');
    if (o.ts !== undefined && (f & SYN)) parts.push(absolute ? `TS val ${o.ts.val >>> 0} ecr ${o.ts.ecr >>> 0}` : 'TS');
    if (o.wscale !== undefined) parts.push(`wscale ${o.wscale}`);
    if (o.sack !== undefined && o.sack.length > 0) parts.push('sack ' + o.sack.map(([l, r]) => `${rel(l, other)}:${rel(r, other)}`).join(' '));
    const options = parts.length > 0 ? `<${parts.join(',')}>` : null;
    const flags = flagLetters(f) || 'none';
    const urg = f & URG ? e.urg : null;
    const tokens = [flags, `seq=${seq}`];
    if (ack !== null) tokens.push(`ack=${ack}`);
    tokens.push(`win=${win}`);
    if (e.len > 0) tokens.push(`len=${e.len}`);
    if (urg !== null) tokens.push(`urg=${urg}`);
    if (options !== null) tokens.push(options);
    if (e.injected === true) tokens.push('(old duplicate)');
    else if (e.retransmit) tokens.push('(retransmit)');
    return {
      kind: 'segment', t: tSend ?? tArrive ?? e.t, conn: st.info, tSend, tArrive, from, to: other, flags, seq, ack, win, len: e.len, urg,
      options, lost: e.lost === true, retransmit: e.retransmit === true && e.injected !== true, injected: e.injected === true, tokens,
      rawSeq: e.seq >>> 0, rawAck: f & ACK ? e.ack >>> 0 : null, ev: indexOf.get(e) ?? -1,
    };
  };
  const segKey = (st: ConnState, from: SideIndex, e: SegmentEvent) => `${st.info.key}|${from}|${e.seq >>> 0}|${e.ack >>> 0}|${e.flags}|${e.len}`;

  for (const { e, conn } of kept) {
    const st = connOf(conn);
    const localEnd = endOf(st, conn.localAddr, conn.localPort);
    const hostSide = sideOf(e.host);
    switch (e.type) {
      case 'segment': {
        if (e.dir === 'out') {
          const seg = makeSegment(st, e, localEnd, e.t, null);
          items.push(seg);
          if (!seg.lost) {
            const k = segKey(st, localEnd, e);
            const q = pending.get(k);
            if (q === undefined) pending.set(k, [seg]); else q.push(seg);
          }
        } else {
          const from = (1 - localEnd) as SideIndex;
          const k = segKey(st, from, e);
          const q = pending.get(k);
          const seg = q?.shift();
          if (q !== undefined && q.length === 0) pending.delete(k);
          if (seg !== undefined) {
            seg.tArrive = e.t;
            items.push({ kind: 'arrive', t: e.t, conn: st.info, seg });
          } else if (!traced.has(conn.remoteAddr)) {
            // The sender is not traced (a raw host): the arrival is all we know.
            const s = makeSegment(st, e, from, null, e.t);
            items.push(s, { kind: 'arrive', t: e.t, conn: st.info, seg: s });
          }
        }
        break;
      }
      case 'state': {
        const from = rfcFrom(e.from, e.to);
        if (!seenState[hostSide]) { seenState[hostSide] = true; initial[hostSide] = from; }
        if (e.to === 'CLOSED') st.finished = true;
        items.push({ kind: 'state', t: e.t, conn: st.info, side: hostSide, from, to: e.to, cause: e.cause });
        break;
      }
      case 'timer':
        if (e.action === 'fire') items.push({ kind: 'note', t: e.t, conn: st.info, side: hostSide, what: 'timer', text: timerText(e.timer) });
        break;
      case 'user':
        items.push({ kind: 'note', t: e.t, conn: st.info, side: hostSide, what: 'user', text: userCallText(e.call, e.detail) });
        break;
      case 'drop':
        items.push({ kind: 'note', t: e.t, conn: st.info, side: hostSide, what: 'drop', text: `drop: ${e.reason}` });
        break;
    }
  }

  const connList = [...conns.values()].map((c) => c.info);
  if (connList.length > 1) tagConnections(connList);
  const mkSide = (i: SideIndex): DiagramSide => {
    const hosts = order.filter((a) => side.get(a) === i);
    const first = hosts[0];
    const ip = first === undefined ? '?' : formatIpv4Address(first);
    const ports = new Set<number>();
    for (const c of connList) {
      if (c.left.addr === first && i === 0) ports.add(c.left.port);
      if (c.right.addr === first && i === 1) ports.add(c.right.port);
    }
    let endpoint = ip;
    if (hosts.length > 1) endpoint = `${ip} +${hosts.length - 1}`;
    else if (ports.size === 1) endpoint = `${ip}:${[...ports][0]}`;
    let init: TcpState | null = null;
    if (connList.length === 1) init = initial[i] ?? (first !== undefined && traced.has(first) ? 'CLOSED' : null);
    // Several connections: a listening side still starts in LISTEN (where they all come from).
    else if (initial[i] === 'LISTEN') init = 'LISTEN';
    return { index: i, hosts, name: first === undefined ? null : opts.names?.[ip] ?? null, endpoint, initial: init };
  };
  return { sides: [mkSide(0), mkSide(1)], conns: connList, items, absolute };
}

/** Tags for several connections: the port (or endpoint) that tells them apart. */
function tagConnections(cs: DiagramConn[]): void {
  const same = (f: (c: DiagramConn) => string) => cs.every((c) => f(c) === f(cs[0]!));
  const ep = (x: { addr: number; port: number }) => `${formatIpv4Address(x.addr)}:${x.port}`;
  if (same((c) => ep(c.right)) && same((c) => String(c.left.addr))) for (const c of cs) c.tag = `:${c.left.port}`;
  else if (same((c) => ep(c.left)) && same((c) => String(c.right.addr))) for (const c of cs) c.tag = `:${c.right.port}`;
  else if (same((c) => ep(c.right))) for (const c of cs) c.tag = ep(c.left);
  else for (const c of cs) c.tag = `${ep(c.left)}>${ep(c.right)}`;
}

/** Virtual time for people: "0", "5ms", "10.25ms", "1.005s", "60.230s", "2h11m15s". */
export function formatTime(us: number): string {
  if (us === 0) return '0';
  const neg = us < 0 ? '-' : '';
  const a = Math.abs(us);
  const trim = (s: string) => s.replace(/\.?0+$/, '');
  if (a < 1_000_000) return neg + trim((a / 1000).toFixed(3)) + 'ms';
  // Seconds keep a fixed number of decimals so a column of times lines up.
  if (a < 1_000_000_000) return neg + (a / 1e6).toFixed(a % 1000 === 0 ? 3 : 6) + 's';
  const totalS = a / 1e6;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS - h * 3600) / 60);
  const s = totalS - h * 3600 - m * 60;
  const ss = trim(s.toFixed(3));
  return neg + (h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m`) + `${s < 10 ? '0' : ''}${ss === '' ? '0' : ss}s`;
}

