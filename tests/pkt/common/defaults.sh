#!/bin/sh
# The sysctls synack's defaults (src/stack/options.ts) correspond to, so that a script sees
# the same configuration on synack and on Linux (`synack pkt --target linux` runs this inside
# the script's network namespace). Scripts call it first, as upstream packetdrill suites do:
#   `../common/defaults.sh`
# Only per-namespace sysctls are set (net.core.rmem_max/wmem_max are global: left alone).

# Buffers: [min, default, max] (synack: 4096 131072 6291456 / 4096 16384 4194304).
sysctl -q net.ipv4.tcp_rmem="4096 131072 $((6*1024*1024))"
sysctl -q net.ipv4.tcp_wmem="4096 16384 $((4*1024*1024))"

# Options: RFC 7323 window scaling and timestamps, RFC 2018 SACK.
sysctl -q net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 net.ipv4.tcp_window_scaling=1

# Retries and timeouts (Linux's defaults, which synack's are).
sysctl -q net.ipv4.tcp_syn_retries=6 net.ipv4.tcp_synack_retries=5 net.ipv4.tcp_retries2=15
sysctl -q net.ipv4.tcp_orphan_retries=0 net.ipv4.tcp_fin_timeout=60
sysctl -q net.ipv4.tcp_keepalive_time=7200 net.ipv4.tcp_keepalive_intvl=75 net.ipv4.tcp_keepalive_probes=9

# Listeners, cookies, TIME-WAIT, RFC 5961 challenge ACKs, the invalid-segment ACK rate.
sysctl -q net.ipv4.tcp_syncookies=1 net.ipv4.tcp_max_syn_backlog=1024 net.core.somaxconn=4096
sysctl -q net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_rfc1337=0
sysctl -q net.ipv4.tcp_challenge_ack_limit=1000 net.ipv4.tcp_invalid_ratelimit=500

sysctl -q net.ipv4.tcp_congestion_control=cubic
sysctl -q net.ipv4.ip_default_ttl=64
sysctl -q net.ipv4.ip_local_port_range="32768 60999"

# Linux features synack does not have: off, so that both targets answer alike.
sysctl -q net.ipv4.tcp_ecn=0 net.ipv4.tcp_fastopen=0 net.ipv4.tcp_autocorking=0
sysctl -q net.ipv4.tcp_mtu_probing=0 net.ipv4.tcp_no_metrics_save=1
# No RACK-TLP (RFC 8985 §7): synack has no tail loss probe; with it Linux sends a probe at
# min(2·SRTT + 200 ms, RTO) before the first RTO. No linear SYN timeouts (Linux 6.17+, 4 by
# default: the first SYN retransmissions 1 s apart): synack backs off from the first (RFC
# 6298 §5.5). -e: kernels without these names ignore them.
sysctl -q -e net.ipv4.tcp_early_retrans=0 net.ipv4.tcp_syn_linear_timeouts=0
