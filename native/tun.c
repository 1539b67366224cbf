// synack's Linux TUN link: the few system calls Node cannot make itself.
//
// Node cannot wrap a TUN fd as a socket (libuv sees a character device as a file, so
// fs.read would go through the thread pool at ~34k packets/s). This addon opens the device
// non-blocking, watches it with a libuv poll handle on the main loop, drains it until EAGAIN
// into one buffer per wake-up and hands that buffer to JavaScript in a single call; writes
// are batched the same way (one call for many packets).
//
// Exports (all synchronous; errors are thrown as Error with .code/.errno/.syscall):
//   open(name)                              -> { fd, name }      IFF_TUN | IFF_NO_PI
//   configure(name, addr, prefixLen, mtu, txqlen) -> undefined  address (host order u32,
//                                                                0 = leave), MTU, transmit
//                                                                queue length (0 = leave), IFF_UP
//   startReading(fd, frame, maxBatch, cb)   -> handle           cb(err | null, batch)
//   stopReading(handle)                     -> undefined
//   writeBatch(fd, bytes, lengths, count)   -> packets written  (stops at the first error)
//   lastWriteErrno()                        -> errno of the last failed write (0 = none)
//   close(fd)                               -> undefined
//
// The batch passed to cb is one ArrayBuffer: [u32 count][u32 length × count][packets], the
// header padded to 8 bytes and every packet starting on a 4-byte boundary (so JavaScript's
// word-at-a-time checksum sees aligned views).
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return NULL;               \
  } while (0)

static int last_write_errno = 0;

// --------------------------------------------------------------------------- errors

static const char *errno_code(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EBADFD: return "EBADFD";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EFAULT: return "EFAULT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENOTTY: return "ENOTTY";
    default: return "EUNKNOWN";
  }
}

/** An Error like Node's system errors: message "syscall CODE (strerror)", code, errno (negative), syscall. */
static napi_value make_errno_error(napi_env env, int e, const char *syscall, const char *detail) {
  char msg[256];
  if (detail != NULL && detail[0] != '\0')
    snprintf(msg, sizeof msg, "%s %s %s (%s)", syscall, errno_code(e), detail, strerror(e));
  else
    snprintf(msg, sizeof msg, "%s %s (%s)", syscall, errno_code(e), strerror(e));
  napi_value m, code, err, num, sc;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &err);
  napi_create_int32(env, -e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, err, "syscall", sc);
  return err;
}

static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *detail) {
  napi_throw(env, make_errno_error(env, e, syscall, detail));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  return argc >= want;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_ifname(napi_env env, napi_value v, char name[IFNAMSIZ]) {
  size_t len = 0;
  memset(name, 0, IFNAMSIZ);
  if (napi_get_value_string_utf8(env, v, name, IFNAMSIZ, &len) != napi_ok) return 0;
  return len > 0 && len < IFNAMSIZ;
}

// --------------------------------------------------------------------------- open / configure / close

static napi_value tun_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[IFNAMSIZ];
  if (!get_args(env, info, 1, argv) || !get_ifname(env, argv[0], name))
    return throw_type(env, "open(name): name must be a non-empty string of at most 15 bytes");

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", "/dev/net/tun");

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "ioctl(TUNSETIFF)", name);
  }

  napi_value result, vfd, vname;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &vfd));
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &vname));
  CHECK(napi_set_named_property(env, result, "fd", vfd));
  CHECK(napi_set_named_property(env, result, "name", vname));
  return result;
}

static int set_in_addr(struct ifreq *ifr, uint32_t host_order) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order);
  memcpy(&ifr->ifr_addr, &sin, sizeof sin);
  return 0;
}

/** The kernel's side of the device: address/prefix (so it routes the prefix here), MTU, queue, up. */
static napi_value tun_configure(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char name[IFNAMSIZ];
  int32_t prefix = 0, mtu = 0, txqlen = 0;
  uint32_t addr = 0;
  if (!get_args(env, info, 5, argv) || !get_ifname(env, argv[0], name) ||
      napi_get_value_uint32(env, argv[1], &addr) != napi_ok || !get_i32(env, argv[2], &prefix) ||
      !get_i32(env, argv[3], &mtu) || !get_i32(env, argv[4], &txqlen) || prefix < 0 || prefix > 32 || txqlen < 0)
    return throw_type(env, "configure(name, addr, prefixLen, mtu, txqlen): bad arguments");

  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "socket", NULL);
  struct ifreq ifr;
  const char *step = NULL;

  if (mtu > 0) {
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) { step = "ioctl(SIOCSIFMTU)"; goto fail; }
  }
  if (txqlen > 0) {
    // The queue in front of the device (kernel → synack): packets wait here while synack's
    // event loop is busy; when it overflows the kernel drops them (TX dropped in ip -s link).
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    ifr.ifr_qlen = txqlen;
    if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0) { step = "ioctl(SIOCSIFTXQLEN)"; goto fail; }
  }
  if (addr != 0) {
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    set_in_addr(&ifr, addr);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0) { step = "ioctl(SIOCSIFADDR)"; goto fail; }
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    set_in_addr(&ifr, prefix == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - prefix)));
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) { step = "ioctl(SIOCSIFNETMASK)"; goto fail; }
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { step = "ioctl(SIOCGIFFLAGS)"; goto fail; }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { step = "ioctl(SIOCSIFFLAGS)"; goto fail; }
  close(s);
  return NULL;

fail: {
    int e = errno;
    close(s);
    return throw_errno(env, e, step, name);
  }
}

static napi_value tun_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_i32(env, argv[0], &fd)) return throw_type(env, "close(fd)");
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

// --------------------------------------------------------------------------- reading

typedef struct reader {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int fd;
  int stopped;
  uint32_t frame;     // bytes offered to each read(): the largest packet we accept
  uint32_t max_batch; // packets per wake-up before yielding to the rest of the loop
  uint8_t *buf;       // packets as read, 4-byte aligned
  uint32_t *lens;
} reader_t;

static void reader_free_cb(uv_handle_t *h) {
  reader_t *r = (reader_t *)h->data;
  free(r->buf);
  free(r->lens);
  free(r);
}

/** Stop polling and release JS references; the struct itself is freed when libuv is done with it. */
static void reader_stop(reader_t *r, int from_cleanup) {
  if (r->stopped) return;
  r->stopped = 1;
  uv_poll_stop(&r->poll);
  if (!from_cleanup) {
    if (r->cb != NULL) napi_delete_reference(r->env, r->cb);
    if (r->ctx != NULL) napi_async_destroy(r->env, r->ctx);
  }
  r->cb = NULL;
  r->ctx = NULL;
  uv_close((uv_handle_t *)&r->poll, reader_free_cb);
}

static void reader_cleanup_hook(void *arg) {
  // Environment teardown (a worker thread ending with the device still open): Node unloads
  // the addon before its loop runs the close callbacks, so reader_free_cb would be called in
  // unmapped code (a crash in uv__finish_close). Close without a callback, free the buffers
  // now, and leave the small struct to libuv, which still touches the handle while closing.
  reader_t *r = (reader_t *)arg;
  if (r->stopped) return;
  r->stopped = 1;
  uv_poll_stop(&r->poll);
  r->cb = NULL;
  r->ctx = NULL;
  free(r->buf);
  r->buf = NULL;
  free(r->lens);
  r->lens = NULL;
  uv_close((uv_handle_t *)&r->poll, NULL);
}

static void deliver(reader_t *r, napi_value err, napi_value batch) {
  napi_env env = r->env;
  napi_value cb, global, argv[2], result;
  if (r->cb == NULL || napi_get_reference_value(env, r->cb, &cb) != napi_ok || cb == NULL) return;
  // napi_make_callback needs an object receiver (undefined fails with napi_object_expected
  // and the callback silently never runs): use the global object.
  napi_get_global(env, &global);
  argv[0] = err;
  argv[1] = batch;
  napi_status st = napi_make_callback(env, r->ctx, global, cb, 2, argv, &result);
  if (st == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex); // becomes 'uncaughtException', as for any I/O callback
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  reader_t *r = (reader_t *)h->data;
  if (r->stopped) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value undef, nul;
  napi_get_undefined(env, &undef);
  napi_get_null(env, &nul);

  if (status < 0) {
    deliver(r, make_errno_error(env, -status, "poll", NULL), undef);
    napi_close_handle_scope(env, scope);
    return;
  }

  uint32_t count = 0;
  size_t off = 0;
  size_t cap = (size_t)r->frame * r->max_batch;
  int err = 0;
  while (count < r->max_batch && off + r->frame <= cap) {
    ssize_t n = read(r->fd, r->buf + off, r->frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) err = errno;
      break;
    }
    if (n == 0) break;
    r->lens[count++] = (uint32_t)n;
    off += ((size_t)n + 3) & ~(size_t)3;
  }

  if (count > 0) {
    size_t hdr = ((size_t)(1 + count) * 4 + 7) & ~(size_t)7;
    void *data = NULL;
    napi_value ab = NULL, nbuf;
    // A Node Buffer's memory is not zero-filled (napi_create_arraybuffer's is: a second
    // pass over up to megabytes per wake-up with TUN offloads); hand over its own
    // ArrayBuffer (Node gives a new Buffer of this size one of its own, at offset 0).
    napi_typedarray_type bt;
    size_t blen = 0, boff = 0;
    if (napi_create_buffer(env, hdr + off, &data, &nbuf) != napi_ok ||
        napi_get_typedarray_info(env, nbuf, &bt, &blen, &data, &ab, &boff) != napi_ok || boff != 0 || blen != hdr + off) {
      ab = NULL;
      if (napi_create_arraybuffer(env, hdr + off, &data, &ab) != napi_ok) ab = NULL;
    }
    if (ab != NULL) {
      uint32_t *u = (uint32_t *)data;
      u[0] = count;
      memcpy(u + 1, r->lens, (size_t)count * 4);
      memcpy((uint8_t *)data + hdr, r->buf, off);
      deliver(r, nul, ab);
    }
  }
  if (err != 0 && !r->stopped) deliver(r, make_errno_error(env, err, "read", NULL), undef);
  napi_close_handle_scope(env, scope);
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  // The JS handle was collected: nothing to do unless the reader is still running, in which
  // case it keeps running until stopReading or environment teardown (the cleanup hook).
  (void)env; (void)data; (void)hint;
}

static napi_value tun_start_reading(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, frame, max_batch;
  napi_valuetype t;
  if (!get_args(env, info, 4, argv) || !get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &frame) ||
      !get_i32(env, argv[2], &max_batch) || napi_typeof(env, argv[3], &t) != napi_ok || t != napi_function ||
      frame < 68 || frame > 65536 + 64 || max_batch < 1 || max_batch > 4096)
    return throw_type(env, "startReading(fd, frame 68..65600, maxBatch 1..4096, callback)");

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  reader_t *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  r->env = env;
  r->fd = fd;
  r->frame = ((uint32_t)frame + 3) & ~3u;
  r->max_batch = (uint32_t)max_batch;
  r->buf = malloc((size_t)r->frame * r->max_batch);
  r->lens = malloc((size_t)r->max_batch * 4);
  if (r->buf == NULL || r->lens == NULL) {
    free(r->buf); free(r->lens); free(r);
    return throw_errno(env, ENOMEM, "malloc", NULL);
  }
  int rc = uv_poll_init(loop, &r->poll, fd);
  if (rc < 0) {
    free(r->buf); free(r->lens); free(r);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  r->poll.data = r;
  napi_value resname;
  napi_create_string_utf8(env, "synack:tun", NAPI_AUTO_LENGTH, &resname);
  if (napi_create_reference(env, argv[3], 1, &r->cb) != napi_ok ||
      napi_async_init(env, NULL, resname, &r->ctx) != napi_ok) {
    reader_stop(r, 0);
    return throw_errno(env, EINVAL, "napi_async_init", NULL);
  }
  rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    reader_stop(r, 0);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  napi_add_env_cleanup_hook(env, reader_cleanup_hook, r);
  napi_value handle;
  CHECK(napi_create_external(env, r, reader_finalize, NULL, &handle));
  return handle;
}

static napi_value tun_stop_reading(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *p = NULL;
  if (!get_args(env, info, 1, argv) || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL)
    return throw_type(env, "stopReading(handle)");
  reader_t *r = (reader_t *)p;
  if (!r->stopped) {
    napi_remove_env_cleanup_hook(env, reader_cleanup_hook, r);
    reader_stop(r, 0);
  }
  return NULL;
}

/** Keep (1) or stop keeping (0) the event loop alive while reading. */
static napi_value tun_ref_reading(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *p = NULL;
  bool on = true;
  if (!get_args(env, info, 2, argv) || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL ||
      napi_get_value_bool(env, argv[1], &on) != napi_ok)
    return throw_type(env, "refReading(handle, on)");
  reader_t *r = (reader_t *)p;
  if (!r->stopped) {
    if (on) uv_ref((uv_handle_t *)&r->poll);
    else uv_unref((uv_handle_t *)&r->poll);
  }
  return NULL;
}

// --------------------------------------------------------------------------- writing

/** Packets laid end to end in `bytes`, sizes in `lengths[0..count)`: one write() each. */
static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, count;
  napi_typedarray_type bt, lt;
  size_t blen, llen;
  void *bdata, *ldata;
  if (!get_args(env, info, 4, argv) || !get_i32(env, argv[0], &fd) ||
      napi_get_typedarray_info(env, argv[1], &bt, &blen, &bdata, NULL, NULL) != napi_ok || bt != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[2], &lt, &llen, &ldata, NULL, NULL) != napi_ok || lt != napi_uint32_array ||
      !get_i32(env, argv[3], &count) || count < 0 || (size_t)count > llen)
    return throw_type(env, "writeBatch(fd, Uint8Array, Uint32Array, count)");
  const uint8_t *b = bdata;
  const uint32_t *lens = ldata;
  size_t off = 0;
  int32_t written = 0;
  last_write_errno = 0;
  for (int32_t i = 0; i < count; i++) {
    size_t n = lens[i];
    if (off + n > blen) { last_write_errno = EINVAL; break; }
    ssize_t w = write(fd, b + off, n);
    if (w < 0) {
      if (errno == EINTR) { i--; continue; }
      last_write_errno = errno;
      break;
    }
    off += n;
    written++;
  }
  napi_value res;
  CHECK(napi_create_int32(env, written, &res));
  return res;
}

static napi_value tun_last_write_errno(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value res;
  CHECK(napi_create_int32(env, last_write_errno, &res));
  return res;
}

// --------------------------------------------------------------------------- module

/** native/tun_vnet.c: IFF_VNET_HDR + TUNSETOFFLOAD (openVnet, setOffload, vnetHeaderSize). */
napi_value tun_vnet_init(napi_env env, napi_value exports);
/** native/tun_steer.c: TUNSETSTEERINGEBPF flow steering for sharded stacks (setSteering). */
napi_value tun_steer_init(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "configure", NULL, tun_configure, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, tun_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "startReading", NULL, tun_start_reading, NULL, NULL, NULL, napi_enumerable, NULL },
    { "stopReading", NULL, tun_stop_reading, NULL, NULL, NULL, napi_enumerable, NULL },
    { "refReading", NULL, tun_ref_reading, NULL, NULL, NULL, napi_enumerable, NULL },
    { "writeBatch", NULL, tun_write_batch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lastWriteErrno", NULL, tun_last_write_errno, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (tun_vnet_init(env, exports) == NULL) return NULL;
  return tun_steer_init(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
