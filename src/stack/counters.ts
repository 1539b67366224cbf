// Per-stack counters in the spirit of `nstat` (names follow Linux's MIB counters).

export interface Counters {
  IpInReceives: number;
  IpInHdrErrors: number;      // malformed IPv4 header, bad checksum
  IpInAddrErrors: number;     // not addressed to us
  IpInUnknownProtos: number;
  IpReasmFails: number;       // fragments (refused: we do not reassemble)
  IpOutRequests: number;
  IcmpInMsgs: number;
  IcmpInEchos: number;
  IcmpOutEchoReps: number;
  IcmpInErrors: number;
  IcmpInDestUnreachs: number;
  IcmpInTimeExcds: number;
  IcmpInParmProbs: number;
  /** Protocol unreachable for a datagram of a protocol we lack (RFC 1122 §3.2.2.1). */
  IcmpOutDestUnreachs: number;
  /** ICMP errors not sent: the per-destination (icmp_ratelimit) or global (icmp_msgs_per_sec) limit. */
  IcmpOutRateLimitHost: number;
  IcmpOutRateLimitGlobal: number;
  /** UDP (RFC 768), Linux's Udp MIB names. */
  UdpInDatagrams: number;
  UdpNoPorts: number;
  UdpInErrors: number;
  UdpInCsumErrors: number;
  UdpRcvbufErrors: number;
  UdpOutDatagrams: number;
  UdpSndbufErrors: number;
  TcpActiveOpens: number;
  TcpPassiveOpens: number;
  TcpAttemptFails: number;
  TcpEstabResets: number;
  TcpCurrEstab: number;
  TcpInSegs: number;
  TcpOutSegs: number;
  TcpRetransSegs: number;
  TcpInErrs: number;          // malformed TCP
  TcpInCsumErrors: number;
  TcpOutRsts: number;
  TcpInRsts: number;
  TcpExtSyncookiesSent: number;
  TcpExtSyncookiesRecv: number;
  TcpExtSyncookiesFailed: number;
  TcpExtListenOverflows: number;
  TcpExtListenDrops: number;
  TcpExtTCPChallengeACK: number;
  TcpExtTCPSYNChallenge: number;
  TcpExtPAWSEstab: number;
  TcpExtTCPTimeouts: number;
  TcpExtTCPFastRetrans: number;
  TcpExtTCPLossProbes: number;
  TcpExtTCPKeepAlive: number;
  TcpExtTCPAbortOnData: number;
  TcpExtTCPAbortOnClose: number;
  TcpExtTCPAbortOnTimeout: number;
  TcpExtTCPAbortOnMemory: number;
  TcpExtTW: number;
  TcpExtTWRecycled: number;
  TcpExtDelayedACKs: number;
  TcpExtTCPSackRecovery: number;
  TcpExtTCPRenoRecovery: number;
  TcpExtTCPOFOQueue: number;
  TcpExtTCPZeroWindowProbes: number;
  /** Replies to out-of-window/PAWS-failing bare ACKs suppressed by tcp_invalid_ratelimit (Linux name). */
  TcpExtTCPACKSkippedSeq: number;
  /** Challenge ACKs suppressed by the per-connection tcp_invalid_ratelimit (Linux name). */
  TcpExtTCPACKSkippedChallenge: number;
  /** SYN-ACKs not resent for a duplicate SYN in SYN-RECEIVED (tcp_invalid_ratelimit; Linux TCPACKSkippedSynRecv). */
  TcpExtTCPACKSkippedSynRecv: number;
  /** ICMP errors whose quoted sequence number is outside SND.UNA..SND.MAX (RFC 5927 §4.1), ignored. */
  TcpExtOutOfWindowIcmps: number;
}

export function newCounters(): Counters {
  return {
    IpInReceives: 0, IpInHdrErrors: 0, IpInAddrErrors: 0, IpInUnknownProtos: 0, IpReasmFails: 0, IpOutRequests: 0,
    IcmpInMsgs: 0, IcmpInEchos: 0, IcmpOutEchoReps: 0, IcmpInErrors: 0,
    IcmpInDestUnreachs: 0, IcmpInTimeExcds: 0, IcmpInParmProbs: 0, IcmpOutDestUnreachs: 0,
    IcmpOutRateLimitHost: 0, IcmpOutRateLimitGlobal: 0,
    UdpInDatagrams: 0, UdpNoPorts: 0, UdpInErrors: 0, UdpInCsumErrors: 0, UdpRcvbufErrors: 0, UdpOutDatagrams: 0, UdpSndbufErrors: 0,
    TcpActiveOpens: 0, TcpPassiveOpens: 0, TcpAttemptFails: 0, TcpEstabResets: 0, TcpCurrEstab: 0,
    TcpInSegs: 0, TcpOutSegs: 0, TcpRetransSegs: 0, TcpInErrs: 0, TcpInCsumErrors: 0, TcpOutRsts: 0, TcpInRsts: 0,
    TcpExtSyncookiesSent: 0, TcpExtSyncookiesRecv: 0, TcpExtSyncookiesFailed: 0,
    TcpExtListenOverflows: 0, TcpExtListenDrops: 0, TcpExtTCPChallengeACK: 0, TcpExtTCPSYNChallenge: 0,
    TcpExtPAWSEstab: 0, TcpExtTCPTimeouts: 0, TcpExtTCPFastRetrans: 0, TcpExtTCPLossProbes: 0, TcpExtTCPKeepAlive: 0,
    TcpExtTCPAbortOnData: 0, TcpExtTCPAbortOnClose: 0, TcpExtTCPAbortOnTimeout: 0, TcpExtTCPAbortOnMemory: 0,
    TcpExtTW: 0, TcpExtTWRecycled: 0, TcpExtDelayedACKs: 0, TcpExtTCPSackRecovery: 0, TcpExtTCPRenoRecovery: 0,
    TcpExtTCPOFOQueue: 0, TcpExtTCPZeroWindowProbes: 0, TcpExtTCPACKSkippedSeq: 0, TcpExtTCPACKSkippedChallenge: 0, TcpExtTCPACKSkippedSynRecv: 0, TcpExtOutOfWindowIcmps: 0,
  };
}

/** Drops by reason ("bad-checksum", "no-socket", "paws", …): a counter per reason string. */
export class DropCounters {
  private readonly m = new Map<string, number>();
  add(reason: string): void { this.m.set(reason, (this.m.get(reason) ?? 0) + 1); }
  get(reason: string): number { return this.m.get(reason) ?? 0; }
  entries(): Array<[string, number]> { return [...this.m.entries()].sort((a, b) => a[0].localeCompare(b[0])); }
}
