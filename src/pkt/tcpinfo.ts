// Linux struct tcp_info (include/uapi/linux/tcp.h) for a synack connection, by field name,
// for `%{ assert tcpi_… }%` blocks (src/pkt/python.ts). Units as Linux reports them:
// times in µs, windows and thresholds in segments.
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/types.js';
import type { TcpInfo } from './python.js';

/** Linux's state numbers (net/tcp_states.h). */
export const LINUX_STATE: Readonly<Record<TcpState, number>> = {
  'ESTABLISHED': 1, 'SYN-SENT': 2, 'SYN-RECEIVED': 3, 'FIN-WAIT-1': 4, 'FIN-WAIT-2': 5, 'TIME-WAIT': 6,
  'CLOSED': 7, 'CLOSE-WAIT': 8, 'LAST-ACK': 9, 'LISTEN': 10, 'CLOSING': 11,
};

/** Linux TCP_INFINITE_SSTHRESH. */
const INFINITE_SSTHRESH = 0x7fffffff;

export function tcpInfoOf(t: Tcb): TcpInfo {
  const mss = Math.max(1, t.effMss);
  const ssthresh = t.cc.ssthresh >= 0x3fffffff ? INFINITE_SSTHRESH : Math.floor(t.cc.ssthresh / mss);
  return {
    tcpi_state: LINUX_STATE[t.state],
    // Open, Recovery (fast recovery), Loss (after an RTO, until new data is acked).
    tcpi_ca_state: t.inRecovery ? 3 : t.retransmits > 0 ? 4 : 0,
    tcpi_retransmits: t.retransmits,
    tcpi_backoff: t.retransmits,
    tcpi_probes: t.persistBackoff,
    tcpi_options: (t.tsOk ? 1 : 0) | (t.sackOk ? 2 : 0) | (t.wsOk ? 4 : 0),
    tcpi_snd_wscale: t.wsOk ? t.sndWscale : 0,
    tcpi_rcv_wscale: t.wsOk ? t.rcvWscale : 0,
    tcpi_rto: t.rtt.rto,
    tcpi_snd_mss: t.effMss,
    tcpi_rcv_mss: t.rcvMss,
    tcpi_unacked: Math.ceil(t.inFlight / mss),
    tcpi_rtt: t.rtt.srtt,
    tcpi_rttvar: t.rtt.rttvar,
    tcpi_snd_ssthresh: ssthresh,
    tcpi_snd_cwnd: Math.floor(t.cc.cwnd / mss),
    tcpi_advmss: t.mssOur,
    tcpi_total_retrans: t.retransmittedSegs,
    tcpi_bytes_acked: t.bytesAcked,
    tcpi_bytes_received: t.bytesReceived,
    tcpi_segs_in: t.segsIn,
    tcpi_segs_out: t.segsOut,
    tcpi_snd_wnd: t.sndWnd,
    tcpi_notsent_bytes: t.unsentBytes,
  };
}
