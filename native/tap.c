// synack's Linux TAP device opener: the two system calls a TAP link needs that the TUN
// addon (tun.c) does not make. A TAP device carries Ethernet frames (IFF_TAP | IFF_NO_PI);
// once open, its fd is read and written with the TUN addon's startReading/writeBatch/close
// and configured (address, MTU, up) with its configure(), which work on any such device.
//
// Exports (synchronous; errors thrown as Error with .code/.errno/.syscall, like tun.c):
//   open(name)     -> { fd, name }   IFF_TAP | IFF_NO_PI, non-blocking
//   hwaddr(name)   -> Uint8Array(6)  the kernel side's MAC address (SIOCGIFHWADDR)
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *code_of(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *detail) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s %s (%s)", syscall, code_of(e), detail ? detail : "", strerror(e));
  napi_value m, code, err, num, sc;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code_of(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &err);
  napi_create_int32(env, -e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, err, "syscall", sc);
  napi_throw(env, err);
  return NULL;
}

static int get_ifname(napi_env env, napi_callback_info info, char name[IFNAMSIZ]) {
  size_t argc = 1, len = 0;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return 0;
  memset(name, 0, IFNAMSIZ);
  if (napi_get_value_string_utf8(env, argv[0], name, IFNAMSIZ, &len) != napi_ok) return 0;
  return len > 0 && len < IFNAMSIZ;
}

static napi_value tap_open(napi_env env, napi_callback_info info) {
  char name[IFNAMSIZ];
  if (!get_ifname(env, info, name)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(name): name must be a non-empty string of at most 15 bytes");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "ioctl(TUNSETIFF)", name);
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

static napi_value tap_hwaddr(napi_env env, napi_callback_info info) {
  char name[IFNAMSIZ];
  if (!get_ifname(env, info, name)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "hwaddr(name): name must be a non-empty string of at most 15 bytes");
    return NULL;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "socket", NULL);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
    int e = errno;
    close(s);
    return throw_errno(env, e, "ioctl(SIOCGIFHWADDR)", name);
  }
  close(s);
  void *data;
  napi_value ab, arr;
  if (napi_create_arraybuffer(env, 6, &data, &ab) != napi_ok) return NULL;
  memcpy(data, ifr.ifr_hwaddr.sa_data, 6);
  if (napi_create_typedarray(env, napi_uint8_array, 6, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, tap_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "hwaddr", NULL, tap_hwaddr, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
