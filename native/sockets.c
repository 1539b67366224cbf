// synack pkt --target linux: the system calls a packetdrill script makes, on real kernel
// sockets, plus a TUN device to inject and capture the packets (packetdrill's own design).
//
// Everything is synchronous: the process that loads this addon runs one script inside its
// own network namespace (started with `ip netns exec`), so the sockets and the TUN device
// live in that namespace. Sockets are always non-blocking at the kernel level; the
// interpreter emulates a blocking call by retrying it (as it does on synack).
//
// Results are plain numbers: >= 0 on success, -errno on failure.
//   tunOpen(name)                         -> fd              IFF_TUN | IFF_NO_PI, O_NONBLOCK
//   tunRead(fd, timeoutMs)                -> Buffer | null   one packet, or null after the timeout
//   tunWrite(fd, Uint8Array)              -> bytes | -errno
//   socket(domain, type, protocol)        -> fd (O_NONBLOCK added)
//   bind(fd, addr, port) / connect(fd, addr, port)      addr: host-order u32
//   listen(fd, backlog), accept(fd) (accept4 SOCK_NONBLOCK), close(fd), shutdown(fd, how)
//   recv(fd, len, flags) / send(fd, len, flags)         MSG_DONTWAIT added (send: MSG_NOSIGNAL)
//   setsockopt(fd, level, name, int) / getsockopt(fd, level, name) -> [ret, value]
//   setLinger(fd, on, secs) / getLinger(fd) -> [ret, on, secs]
//   ioctl(fd, request) -> [ret, int value] ; ioctlSet(fd, request, int) -> ret
//   fcntl(fd, cmd, arg) -> ret
//   poll(fds[], events[]) -> revents[] (timeout 0)
//   getsockname(fd) -> [ret, addr, port]
//   tcpInfo(fd) -> { tcpi_state, … } | -errno
//   nowUs() -> CLOCK_MONOTONIC in µs (a double)
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 4

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "synack sockets addon: missing arguments");
    return -1;
  }
  return 0;
}

static int64_t i64(napi_env env, napi_value v) {
  int64_t out = 0;
  napi_get_value_int64(env, v, &out);
  return out;
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value ret(napi_env env, long r) { return num(env, r < 0 ? -errno : (double)r); }

static napi_value array(napi_env env, const double *v, size_t n) {
  napi_value a;
  napi_create_array_with_length(env, n, &a);
  for (size_t i = 0; i < n; i++) napi_set_element(env, a, (uint32_t)i, num(env, v[i]));
  return a;
}

static void sin_of(struct sockaddr_in *sa, int64_t addr, int64_t port) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_addr.s_addr = htonl((uint32_t)addr);
  sa->sin_port = htons((uint16_t)port);
}

// --------------------------------------------------------------------------- TUN

static napi_value tun_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args(env, info, 1, argv)) return NULL;
  char name[IFNAMSIZ] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return num(env, -errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
}

static napi_value tun_read(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (args(env, info, 2, argv)) return NULL;
  int fd = (int)i64(env, argv[0]);
  int timeout = (int)i64(env, argv[1]);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, timeout < 0 ? 0 : timeout);
  napi_value nul;
  napi_get_null(env, &nul);
  if (n <= 0) return nul;
  uint8_t buf[65536];
  ssize_t r = read(fd, buf, sizeof buf);
  if (r <= 0) return nul;
  napi_value out;
  void *data;
  napi_create_buffer_copy(env, (size_t)r, buf, &data, &out);
  return out;
}

static napi_value tun_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (args(env, info, 2, argv)) return NULL;
  int fd = (int)i64(env, argv[0]);
  void *data;
  size_t len;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &off) != napi_ok) {
    napi_throw_type_error(env, NULL, "tunWrite: expected a Uint8Array");
    return NULL;
  }
  return ret(env, write(fd, data, len));
}

// --------------------------------------------------------------------------- sockets

static napi_value s_socket(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  return ret(env, socket((int)i64(env, a[0]), (int)i64(env, a[1]) | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)i64(env, a[2])));
}

static napi_value s_bind(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  struct sockaddr_in sa;
  sin_of(&sa, i64(env, a[1]), i64(env, a[2]));
  return ret(env, bind((int)i64(env, a[0]), (struct sockaddr *)&sa, sizeof sa));
}

static napi_value s_connect(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  struct sockaddr_in sa;
  sin_of(&sa, i64(env, a[1]), i64(env, a[2]));
  return ret(env, connect((int)i64(env, a[0]), (struct sockaddr *)&sa, sizeof sa));
}

static napi_value s_listen(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (args(env, info, 2, a)) return NULL;
  return ret(env, listen((int)i64(env, a[0]), (int)i64(env, a[1])));
}

static napi_value s_accept(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (args(env, info, 1, a)) return NULL;
  return ret(env, accept4((int)i64(env, a[0]), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

static napi_value s_close(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (args(env, info, 1, a)) return NULL;
  return ret(env, close((int)i64(env, a[0])));
}

static napi_value s_shutdown(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (args(env, info, 2, a)) return NULL;
  return ret(env, shutdown((int)i64(env, a[0]), (int)i64(env, a[1])));
}

static napi_value s_recv(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  size_t len = (size_t)i64(env, a[1]);
  void *buf = malloc(len > 0 ? len : 1);
  if (buf == NULL) return num(env, -ENOMEM);
  ssize_t r = recv((int)i64(env, a[0]), buf, len, (int)i64(env, a[2]) | MSG_DONTWAIT);
  int e = errno;
  free(buf);
  return num(env, r < 0 ? -e : (double)r);
}

static napi_value s_send(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  size_t len = (size_t)i64(env, a[1]);
  void *buf = calloc(len > 0 ? len : 1, 1);
  if (buf == NULL) return num(env, -ENOMEM);
  ssize_t r = send((int)i64(env, a[0]), buf, len, (int)i64(env, a[2]) | MSG_DONTWAIT | MSG_NOSIGNAL);
  int e = errno;
  free(buf);
  return num(env, r < 0 ? -e : (double)r);
}

static napi_value s_setsockopt(napi_env env, napi_callback_info info) {
  napi_value a[4];
  if (args(env, info, 4, a)) return NULL;
  int v = (int)i64(env, a[3]);
  return ret(env, setsockopt((int)i64(env, a[0]), (int)i64(env, a[1]), (int)i64(env, a[2]), &v, sizeof v));
}

static napi_value s_getsockopt(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  int v = 0;
  socklen_t l = sizeof v;
  int r = getsockopt((int)i64(env, a[0]), (int)i64(env, a[1]), (int)i64(env, a[2]), &v, &l);
  double out[2] = {r < 0 ? -errno : r, v};
  return array(env, out, 2);
}

static napi_value s_set_linger(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  struct linger l = {.l_onoff = (int)i64(env, a[1]), .l_linger = (int)i64(env, a[2])};
  return ret(env, setsockopt((int)i64(env, a[0]), SOL_SOCKET, SO_LINGER, &l, sizeof l));
}

static napi_value s_get_linger(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (args(env, info, 1, a)) return NULL;
  struct linger l = {0, 0};
  socklen_t len = sizeof l;
  int r = getsockopt((int)i64(env, a[0]), SOL_SOCKET, SO_LINGER, &l, &len);
  double out[3] = {r < 0 ? -errno : r, l.l_onoff, l.l_linger};
  return array(env, out, 3);
}

static napi_value s_ioctl(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (args(env, info, 2, a)) return NULL;
  int v = 0;
  int r = ioctl((int)i64(env, a[0]), (unsigned long)i64(env, a[1]), &v);
  double out[2] = {r < 0 ? -errno : r, v};
  return array(env, out, 2);
}

static napi_value s_ioctl_set(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  int v = (int)i64(env, a[2]);
  return ret(env, ioctl((int)i64(env, a[0]), (unsigned long)i64(env, a[1]), &v));
}

static napi_value s_fcntl(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (args(env, info, 3, a)) return NULL;
  return ret(env, fcntl((int)i64(env, a[0]), (int)i64(env, a[1]), (long)i64(env, a[2])));
}

static napi_value s_poll(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (args(env, info, 2, a)) return NULL;
  uint32_t n = 0;
  napi_get_array_length(env, a[0], &n);
  if (n > 64) n = 64;
  struct pollfd p[64];
  for (uint32_t i = 0; i < n; i++) {
    napi_value fd, ev;
    napi_get_element(env, a[0], i, &fd);
    napi_get_element(env, a[1], i, &ev);
    p[i].fd = (int)i64(env, fd);
    p[i].events = (short)i64(env, ev);
    p[i].revents = 0;
  }
  int r = poll(p, n, 0);
  double out[65];
  out[0] = r < 0 ? -errno : r;
  for (uint32_t i = 0; i < n; i++) out[i + 1] = (uint16_t)p[i].revents;
  return array(env, out, n + 1);
}

static napi_value s_getsockname(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (args(env, info, 1, a)) return NULL;
  struct sockaddr_in sa;
  socklen_t l = sizeof sa;
  memset(&sa, 0, sizeof sa);
  int r = getsockname((int)i64(env, a[0]), (struct sockaddr *)&sa, &l);
  double out[3] = {r < 0 ? -errno : r, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
  return array(env, out, 3);
}

static void set(napi_env env, napi_value o, const char *k, double v) { napi_set_named_property(env, o, k, num(env, v)); }

static napi_value s_tcp_info(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (args(env, info, 1, a)) return NULL;
  struct tcp_info ti;
  socklen_t l = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt((int)i64(env, a[0]), IPPROTO_TCP, TCP_INFO, &ti, &l) < 0) return num(env, -errno);
  napi_value o;
  napi_create_object(env, &o);
  set(env, o, "tcpi_state", ti.tcpi_state);
  set(env, o, "tcpi_ca_state", ti.tcpi_ca_state);
  set(env, o, "tcpi_retransmits", ti.tcpi_retransmits);
  set(env, o, "tcpi_probes", ti.tcpi_probes);
  set(env, o, "tcpi_backoff", ti.tcpi_backoff);
  set(env, o, "tcpi_options", ti.tcpi_options);
  set(env, o, "tcpi_snd_wscale", ti.tcpi_snd_wscale);
  set(env, o, "tcpi_rcv_wscale", ti.tcpi_rcv_wscale);
  set(env, o, "tcpi_rto", ti.tcpi_rto);
  set(env, o, "tcpi_snd_mss", ti.tcpi_snd_mss);
  set(env, o, "tcpi_rcv_mss", ti.tcpi_rcv_mss);
  set(env, o, "tcpi_unacked", ti.tcpi_unacked);
  set(env, o, "tcpi_rtt", ti.tcpi_rtt);
  set(env, o, "tcpi_rttvar", ti.tcpi_rttvar);
  set(env, o, "tcpi_snd_ssthresh", ti.tcpi_snd_ssthresh);
  set(env, o, "tcpi_snd_cwnd", ti.tcpi_snd_cwnd);
  set(env, o, "tcpi_advmss", ti.tcpi_advmss);
  set(env, o, "tcpi_total_retrans", ti.tcpi_total_retrans);
  return o;
}

static napi_value s_now_us(napi_env env, napi_callback_info info) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return num(env, (double)ts.tv_sec * 1e6 + (double)(ts.tv_nsec / 1000));
}

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      FN("tunOpen", tun_open), FN("tunRead", tun_read), FN("tunWrite", tun_write),
      FN("socket", s_socket), FN("bind", s_bind), FN("connect", s_connect), FN("listen", s_listen),
      FN("accept", s_accept), FN("close", s_close), FN("shutdown", s_shutdown), FN("recv", s_recv),
      FN("send", s_send), FN("setsockopt", s_setsockopt), FN("getsockopt", s_getsockopt),
      FN("setLinger", s_set_linger), FN("getLinger", s_get_linger), FN("ioctl", s_ioctl),
      FN("ioctlSet", s_ioctl_set), FN("fcntl", s_fcntl), FN("poll", s_poll),
      FN("getsockname", s_getsockname), FN("tcpInfo", s_tcp_info), FN("nowUs", s_now_us),
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
