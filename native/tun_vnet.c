// TUN with the virtio-net header (IFF_VNET_HDR) and offloads (TUNSETOFFLOAD): the kernel
// hands synack TCP super-segments of up to 64 KB with partial checksums (TSO/GSO on the
// kernel's transmit side), and takes super-segments from synack that it splits itself (GSO).
// Per-packet costs are then paid per 64 KB. See src/link/tun.ts (offload mode).
//
// Exports (added to the synack_tun addon by tun.c's init):
//   openVnet(name, multiQueue)  -> { fd, name }  IFF_TUN | IFF_NO_PI | IFF_VNET_HDR
//                                                 [| IFF_MULTI_QUEUE]; vnet header 12 bytes
//                                                 (struct virtio_net_hdr_mrg_rxbuf), so the
//                                                 IP packet after it stays 4-byte aligned
//   setOffload(fd, flags)       -> undefined     TUNSETOFFLOAD (TUN_F_CSUM = 1, TUN_F_TSO4 = 2, …)
//   vnetHeaderSize()            -> 12
//
// Reading and writing use tun.c's startReading/writeBatch unchanged: every packet simply
// begins with the 12-byte header (linux/virtio_net.h: flags, gso_type, hdr_len, gso_size,
// csum_start, csum_offset, num_buffers; little-endian).
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VNET_HDR_LEN 12

static napi_value vnet_throw(napi_env env, int e, const char *syscall, const char *name) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s (%s)", syscall, name ? name : "", strerror(e));
  napi_value m, err, code, errnum, sc;
  const char *c = e == EPERM ? "EPERM" : e == EACCES ? "EACCES" : e == EBUSY ? "EBUSY" : e == EINVAL ? "EINVAL"
    : e == ENOENT ? "ENOENT" : e == ENODEV ? "ENODEV" : e == EBADF ? "EBADF" : "EUNKNOWN";
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, -e, &errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, err, "code", code);
  napi_set_named_property(env, err, "errno", errnum);
  napi_set_named_property(env, err, "syscall", sc);
  napi_throw(env, err);
  return NULL;
}

static napi_value vnet_type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static napi_value vnet_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char name[IFNAMSIZ];
  size_t len = 0;
  bool mq = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 || len >= IFNAMSIZ ||
      napi_get_value_bool(env, argv[1], &mq) != napi_ok)
    return vnet_type_error(env, "openVnet(name, multiQueue): name must be a non-empty string of at most 15 bytes");

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return vnet_throw(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | (mq ? IFF_MULTI_QUEUE : 0);
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return vnet_throw(env, e, "ioctl(TUNSETIFF)", name);
  }
  int hdr = VNET_HDR_LEN;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
    int e = errno;
    close(fd);
    return vnet_throw(env, e, "ioctl(TUNSETVNETHDRSZ)", name);
  }
  napi_value result, vfd, vname;
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  if (napi_create_object(env, &result) != napi_ok || napi_create_int32(env, fd, &vfd) != napi_ok ||
      napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &vname) != napi_ok ||
      napi_set_named_property(env, result, "fd", vfd) != napi_ok || napi_set_named_property(env, result, "name", vname) != napi_ok) {
    close(fd);
    return NULL;
  }
  return result;
}

static napi_value vnet_set_offload(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, flags;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &flags) != napi_ok || flags < 0)
    return vnet_type_error(env, "setOffload(fd, flags)");
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0) return vnet_throw(env, errno, "ioctl(TUNSETOFFLOAD)", NULL);
  return NULL;
}

static napi_value vnet_header_size(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, VNET_HDR_LEN, &v);
  return v;
}

napi_value tun_vnet_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "openVnet", NULL, vnet_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setOffload", NULL, vnet_set_offload, NULL, NULL, NULL, napi_enumerable, NULL },
    { "vnetHeaderSize", NULL, vnet_header_size, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
