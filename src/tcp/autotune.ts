// Buffer autotuning, as Linux does it: the send buffer sized at establishment and grown for a
// blocked writer (tcp_sndbuf_expand), the receive window's rcv_ssthresh (tcp_grow_window) and
// the receive buffer grown from what the reader consumes per RTT (tcp_rcv_space_adjust).
// Functions of a Tcb; the Tcb calls them on establishment, send, arrival and read.
import type { Tcb } from './tcb.js';

/**
 * Send-buffer autotuning (Linux tcp_sndbuf_expand): a writer blocked on a full buffer while
 * the windows would allow more in flight gets a doubled buffer, up to tcp_wmem[2].
 */
export function growSendBuffer(tcb: Tcb): boolean {
  const sb = tcb.sndBuf;
  const max = tcb.host.options.tcp_wmem[2];
  if (sb.capacity >= max) return false;
  if (Math.min(tcb.cc.cwnd, Math.max(tcb.sndWnd, tcb.mssOur)) * 2 <= sb.capacity) return false;
  sb.capacity = Math.min(max, sb.capacity * 2);
  return true;
}

/**
 * Linux tcp_init_buffer_space → tcp_sndbuf_expand, when the connection is established: the
 * send buffer is sized for an initial window of 10 segments, each charged as Linux allocates
 * it — MSS + 576 (MAX_TCP_HEADER + skb_shared_info) rounded up to a power of two, + 256
 * (sk_buff) — at most tcp_wmem[2]. Measured on Linux 6.18 with `synack pkt --target linux`
 * (getsockopt SO_SNDBUF after accept, peer MSS 536/1000/1460/4000/8960 → 69120, 69120, 69120,
 * 253440, 499200): 30 charges, not the 2 × 10 the older source reads, so 69120 for MSS 1460
 * and 3,939,840 on loopback (MSS 65495) — which is why Node's first 64 KB write to a fresh
 * loopback socket returns true. Linux counts memory (truesize), this engine counts data;
 * with GSO-sized buffers they differ little.
 */
export function initSendBuffer(tcb: Tcb): void {
  const mss = Math.max(tcb.mssPeer, tcb.effMss);
  let pow2 = 1;
  while (pow2 < mss + 576) pow2 *= 2;
  const sndmem = 30 * (pow2 + 256);
  const max = tcb.host.options.tcp_wmem[2];
  if (tcb.sndBuf.capacity < sndmem) tcb.sndBuf.capacity = Math.min(sndmem, max);
}

/**
 * Linux tcp_grow_window, for `len` bytes of data that arrived (in order, or out of order on
 * a SACK connection, as tcp_data_queue_ofo): while the offer is below what the buffer holds,
 * rcv_ssthresh grows by max(2 × advmss, 2 × len), at most to that room — for segments of at
 * least 128 bytes (tcp_event_data_recv). Linux also stops growing when the skb's memory
 * overhead would not fit the buffer (truesize); this engine has no such overhead, so the
 * growth is bounded by the free buffer only, and after a few round trips the window is the
 * buffer (Linux settles near 60% of it on TUN, per its measured scaling ratio).
 */
export function growRcvWindow(tcb: Tcb, len: number): void {
  if (len < 128) return;
  const clamp = Math.min(tcb.rcvWndAvail, 65535 * 2 ** tcb.rcvWscale);
  const room = clamp - tcb.rcvSsthresh;
  if (room <= 0) return;
  tcb.rcvSsthresh += Math.min(room, Math.max(2 * tcb.mssOur, 2 * len));
}

/** Start measuring what the reader consumes (Linux tcp_init_buffer_space: space = min(rcv_wnd, 10 MSS)). */
export function initRcvSpace(tcb: Tcb): void {
  tcb.rcvqSpace = Math.min(tcb.rcvBuf.capacity, 10 * tcb.mssOur);
  tcb.rcvqCopied = tcb.bytesCopied;
  tcb.rcvqTime = tcb.now;
}

/**
 * Receive-buffer autotuning ("dynamic right-sizing", Linux tcp_rcv_space_adjust in
 * net/ipv4/tcp_input.c), called after each read. RFC 9293 §3.8.6 makes the window the
 * buffer space the receiver offers, so a fixed buffer caps throughput at buffer/RTT; RFC 7323
 * §2 (window scaling, our shift chosen from tcp_rmem[2]) lets the window follow a larger one.
 *
 * Once per RTT (the smoothed RTT, measured when this side sends anything, if only the
 * handshake) we look at the bytes the application copied. If it consumed more than in the
 * last measured RTT, the sender is limited by our window rather than by the reader, and the
 * buffer becomes 2 × copied + 16 MSS of slack, plus twice the relative growth to keep ahead
 * of a sender in slow start (Linux: rcvwin += 2 · rcvwin · (copied − space) / space). It
 * never shrinks, never exceeds tcp_rmem[2] nor what the scaled 16-bit window can announce.
 * The buffer is counted in payload bytes here (Linux scales by the skb overhead,
 * tcp_space_from_win; the 128 KiB default buffer is a 128 KiB window in this engine).
 *
 * Difference from Linux: Linux counts everything copied since the last measurement, however
 * long ago that was; we scale it to one RTT (copied · srtt / elapsed), so an application that
 * reads a lot rarely — its rate well below window/RTT — does not grow the buffer.
 *
 * The larger window reaches the peer through the normal window-update path
 * (maybeWindowUpdate, advertiseWindow); the right edge still never moves left.
 */
export function rcvSpaceAdjust(tcb: Tcb): void {
  if (tcb.rcvqTime < 0) return;
  const rtt = tcb.rtt.srtt;
  if (!tcb.rtt.hasSample || rtt <= 0) return;
  const elapsed = tcb.now - tcb.rcvqTime;
  if (elapsed < rtt) return;
  const copied = Math.floor((tcb.bytesCopied - tcb.rcvqCopied) * rtt / elapsed);
  if (copied > tcb.rcvqSpace) {
    if (tcb.rcvBufAuto) {
      const o = tcb.host.options;
      const space = Math.max(1, tcb.rcvqSpace);
      let rcvwin = 2 * copied + 16 * tcb.mssOur;
      rcvwin += 2 * Math.floor(rcvwin * (copied - space) / space);
      const limit = Math.min(o.tcp_rmem[2], 65535 * 2 ** tcb.rcvWscale);
      const target = Math.min(rcvwin, limit);
      if (target > tcb.rcvBuf.capacity) tcb.rcvBuf.capacity = target;
    }
    tcb.rcvqSpace = copied;
  }
  tcb.rcvqCopied = tcb.bytesCopied;
  tcb.rcvqTime = tcb.now;
}
