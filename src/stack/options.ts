// Stack options, named after the Linux sysctls people know (net.ipv4.*), with Linux's
// defaults where the RFCs leave the choice (SPEC "Defaults"). Units follow the sysctl:
// seconds where Linux uses seconds, milliseconds where Linux uses ms (noted per field).

export interface StackOptions {
  /** SYN retransmissions before connect() fails with ETIMEDOUT (1+2+…+64 s ≈ 127 s). */
  tcp_syn_retries: number;
  /** SYN-ACK retransmissions before a half-open passive connection is dropped. */
  tcp_synack_retries: number;
  /** Data retransmissions before an established connection is aborted (RFC 1122 R2). */
  tcp_retries2: number;
  /** FIN retransmissions for orphaned connections; 0 means Linux's 8. */
  tcp_orphan_retries: number;
  /** FIN-WAIT-2 lifetime of an orphaned connection, seconds. */
  tcp_fin_timeout: number;
  /** Keepalive idle time, interval, probes (seconds, seconds, count). RFC 1122 §4.2.3.6. */
  tcp_keepalive_time: number;
  tcp_keepalive_intvl: number;
  tcp_keepalive_probes: number;
  /** Orphaned connections (closed by the user, not yet CLOSED) above which new orphans are reset. */
  tcp_max_orphans: number;
  /** Half-open (SYN-RECEIVED) connections a listener holds before dropping or using cookies. */
  tcp_max_syn_backlog: number;
  /** Upper bound on a listen() backlog. */
  somaxconn: number;
  /** 0: never; 1: send SYN cookies when the SYN queue overflows; 2: always. RFC 4987 §3.6. */
  tcp_syncookies: number;
  /** 1: reuse a TIME-WAIT 4-tuple for a new outgoing connection when timestamps make it safe (RFC 6191). */
  tcp_tw_reuse: number;
  /** 1: a RST received in TIME-WAIT is ignored (RFC 1337 §3 "TIME-WAIT assassination" fix); Linux default 0. */
  tcp_rfc1337: number;
  /** Ephemeral port range, inclusive. */
  ip_local_port_range: [number, number];
  /** Receive / send buffer sizes in bytes: [min, default, max]. */
  tcp_rmem: [number, number, number];
  tcp_wmem: [number, number, number];
  /** 'cubic' (Linux's default) or 'newreno'. */
  tcp_congestion_control: string;
  tcp_sack: number;
  tcp_timestamps: number;
  tcp_window_scaling: number;
  /** Maximum segment lifetime, seconds; TIME-WAIT lasts 2·MSL (Linux: fixed 60 s). */
  tcp_msl: number;
  /** Initial, minimum and maximum retransmission timeout, ms (RFC 6298 §2, Linux TCP_RTO_MIN/MAX). */
  tcp_rto_initial: number;
  tcp_rto_min: number;
  tcp_rto_max: number;
  /** Delayed-ACK timeout, ms (Linux TCP_ATO_MIN 40 ms; RFC 1122 §4.2.3.2 caps it at 500 ms). */
  tcp_delack_min: number;
  /** Segments acknowledged at once at connection start ("quick ack" mode, Linux). */
  tcp_quickack_segments: number;
  /** Challenge ACKs per second, stack-wide (RFC 5961 §7). */
  tcp_challenge_ack_limit: number;
  /** Minimum interval between ACKs sent for out-of-window segments, per connection, ms. */
  tcp_invalid_ratelimit: number;
  /** IPv4 TTL for outgoing packets. */
  ip_default_ttl: number;
  /** Answer ICMP echo requests. */
  icmp_echo_enable: number;
  /** Minimum ms between ICMP errors to one destination (burst 6); 0 turns the per-destination limit off. Linux net.ipv4.icmp_ratelimit. */
  icmp_ratelimit: number;
  /** ICMP errors per second and burst, stack-wide (Linux icmp_msgs_per_sec / icmp_msgs_burst). */
  icmp_msgs_per_sec: number;
  icmp_msgs_burst: number;
  /** Default and maximum SO_RCVBUF / SO_SNDBUF of UDP sockets, bytes (Linux net.core.rmem_default/rmem_max, wmem_*). */
  rmem_default: number;
  rmem_max: number;
  wmem_default: number;
  wmem_max: number;
}

export const DEFAULT_STACK_OPTIONS: Readonly<StackOptions> = Object.freeze({
  tcp_syn_retries: 6,
  tcp_synack_retries: 5,
  tcp_retries2: 15,
  tcp_orphan_retries: 0,
  tcp_fin_timeout: 60,
  tcp_keepalive_time: 7200,
  tcp_keepalive_intvl: 75,
  tcp_keepalive_probes: 9,
  tcp_max_orphans: 65536,
  tcp_max_syn_backlog: 1024,
  somaxconn: 4096,
  tcp_syncookies: 1,
  tcp_tw_reuse: 1,
  tcp_rfc1337: 0,
  ip_local_port_range: [32768, 60999] as [number, number],
  tcp_rmem: [4096, 131072, 6291456] as [number, number, number],
  tcp_wmem: [4096, 16384, 4194304] as [number, number, number],
  tcp_congestion_control: 'cubic',
  tcp_sack: 1,
  tcp_timestamps: 1,
  tcp_window_scaling: 1,
  tcp_msl: 30,
  tcp_rto_initial: 1000,
  tcp_rto_min: 200,
  tcp_rto_max: 120000,
  tcp_delack_min: 40,
  tcp_quickack_segments: 16,
  tcp_challenge_ack_limit: 1000,
  tcp_invalid_ratelimit: 500,
  ip_default_ttl: 64,
  icmp_echo_enable: 1,
  icmp_ratelimit: 1000,
  icmp_msgs_per_sec: 1000,
  icmp_msgs_burst: 50,
  rmem_default: 212992,
  rmem_max: 212992,
  wmem_default: 212992,
  wmem_max: 212992,
});

export function resolveOptions(partial?: Partial<StackOptions>): StackOptions {
  const o: StackOptions = { ...DEFAULT_STACK_OPTIONS, ...(partial ?? {}) } as StackOptions;
  o.ip_local_port_range = [...o.ip_local_port_range] as [number, number];
  o.tcp_rmem = [...o.tcp_rmem] as [number, number, number];
  o.tcp_wmem = [...o.tcp_wmem] as [number, number, number];
  validateOptions(o);
  return o;
}

function bad(name: string, why: string): never {
  const e = new RangeError(`invalid stack option ${name}: ${why}`) as RangeError & { code: string };
  e.code = 'ERR_OUT_OF_RANGE';
  throw e;
}

export function validateOptions(o: StackOptions): void {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) bad(k, `must be a finite number >= 0, got ${v}`);
  }
  const [lo, hi] = o.ip_local_port_range;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi <= 65535 && lo <= hi)) bad('ip_local_port_range', `${lo}-${hi}`);
  if (o.tcp_rto_min > o.tcp_rto_max) bad('tcp_rto_min', 'greater than tcp_rto_max');
  if (o.tcp_rmem[1] < 1 || o.tcp_wmem[1] < 1) bad('tcp_rmem/tcp_wmem', 'default must be >= 1');
}

/** Window scale shift for a receive buffer of `bytes` (RFC 7323 §2.3: at most 14). Linux picks it from tcp_rmem[2]. */
export function windowScaleFor(bytes: number): number {
  // Every connection of a stack asks with the same buffer size: one remembered answer (issue 16).
  if (bytes === wsLastBytes) return wsLast;
  let ws = 0;
  while (ws < 14 && (65535 * 2 ** ws) < bytes) ws++;
  wsLastBytes = bytes; wsLast = ws;
  return ws;
}
let wsLastBytes = -1, wsLast = 0;

/**
 * The window scale a connection announces, as Linux's tcp_select_initial_window computes it
 * (RFC 7323 §2.3 leaves the choice to the receiver: enough for the largest window it may
 * offer). The space is the largest the receive buffer may grow to, max(its size,
 * tcp_rmem[2], net.core.rmem_max) — a buffer fixed with SO_RCVBUF (`locked`) is its own
 * limit (Linux's window clamp, tcp_openreq_init_rwin / tcp_connect_init) — and the shift
 * is ilog2(space) − 15, within 0..14. (windowScaleFor rounds up instead: a space between
 * 65535·2^k and 65536·2^k gets k + 1 there, k here.)
 */
export function initialWindowScale(o: Pick<StackOptions, 'tcp_rmem' | 'rmem_max'>, space: number, locked: boolean): number {
  let s = locked ? space : Math.max(space, o.tcp_rmem[2], o.rmem_max);
  s = Math.min(s, 65535 * 2 ** 14, 0xffffffff);
  if (s < 1) return 0;
  const ilog2 = 31 - Math.clz32(s >>> 0);
  return Math.min(14, Math.max(0, ilog2 - 15));
}
