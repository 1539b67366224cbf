// Typed trace events. Emitted by the stack and the TCP engine only when somebody listens
// (callers check `tracer !== null` before building an event), so tracing costs nothing
// when it is off.
import type { Instant } from '../time/instant.js';
import type { TcpState } from '../tcp/types.js';

export interface ConnId {
  localAddr: number; localPort: number; remoteAddr: number; remotePort: number;
}

export interface SegmentTraceOptions {
  mss?: number; wscale?: number; sackOK?: boolean; ts?: { val: number; ecr: number }; sack?: Array<[number, number]>;
}

export interface SegmentEvent {
  type: 'segment'; t: Instant; host: number; conn: ConnId; dir: 'in' | 'out';
  seq: number; ack: number; flags: number; win: number; len: number; urg: number;
  options: SegmentTraceOptions; retransmit?: boolean;
  /** Put on the wire by a scenario or test as if this host had sent it (an old duplicate), not by its TCP. */
  injected?: boolean;
}
export interface StateEvent { type: 'state'; t: Instant; host: number; conn: ConnId; from: TcpState; to: TcpState; cause: string }
export interface TimerEvent { type: 'timer'; t: Instant; host: number; conn: ConnId; timer: TimerName; action: 'set' | 'cancel' | 'fire'; at?: Instant }
export interface UserEvent { type: 'user'; t: Instant; host: number; conn: ConnId; call: string; detail?: string }
export interface DropEvent { type: 'drop'; t: Instant; host: number; conn: ConnId | null; reason: string }

/** An ARP packet sent or received on an Ethernet interface (MACs as "02:00:…" strings). */
export interface ArpEvent {
  type: 'arp'; t: Instant; host: number; conn: null; ifname: string; dir: 'in' | 'out'; op: 'request' | 'reply';
  sha: string; spa: number; tha: string; tpa: number; /** Ethernet destination of the frame. */ dst: string;
}
/** A neighbour-cache entry changed state (Linux NUD states; 'NONE': no entry). */
export interface NeighEvent {
  type: 'neigh'; t: Instant; host: number; conn: null; ifname: string; addr: number; mac: string | null; from: string; to: string; cause: string;
}

/**
 * DHCP (src/dhcp): a message sent or received ('message', with `msg` DISCOVER/OFFER/…), a
 * client state change ('state', RFC 2131 §4.4 names in `from`/`to`), or a lease event on the
 * server ('lease'). `role` says which side reported it; diagrams put clients left.
 */
export interface DhcpEvent {
  type: 'dhcp'; t: Instant; host: number; conn: null; role: 'client' | 'server'; kind: 'message' | 'state' | 'lease';
  dir?: 'in' | 'out'; msg?: string; xid?: number; from?: string; to?: string; detail: string;
}

export type TraceEvent = SegmentEvent | StateEvent | TimerEvent | UserEvent | DropEvent | ArpEvent | NeighEvent | DhcpEvent;
export type TimerName = 'rto' | 'syn' | 'synack' | 'persist' | 'delack' | 'keepalive' | 'time-wait' | 'fin-wait-2' | 'user-timeout';
export type TraceSink = (ev: TraceEvent) => void;
