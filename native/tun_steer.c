// Flow steering for a multi-queue TUN device (TUNSETSTEERINGEBPF, Linux ≥ 4.16): a small
// eBPF program that picks, for every packet the kernel sends into the device, the queue of
// the shard owning the packet's flow under synack's partition (src/shard/partition.ts), so
// that no packet arrives on the "wrong" queue and nothing needs forwarding between shards.
//
// Without it the kernel chooses queues by its own flow hash (tun_automq_select_queue) and
// the shards forward what lands on the wrong queue (src/shard/shardlink.ts); with it,
// tun_ebpf_select_queue() runs this program and takes its return value modulo the number
// of queues.
//
// The partition: owner = RETA[h & 127], RETA[i] = i mod N, where h is the Toeplitz hash of
// (src addr, dst addr, src port, dst port) with the symmetric key 0x6d5a… (hash.ts). With a
// key of period 16 bits, every input bit at position i contributes the key window W(i mod
// 16), so h is a linear function of F, the XOR of the input's six 16-bit words: bit b of h
// is the parity of F & M_b, with M_b built from the key windows below. The program
// computes F from the IPv4 and TCP/UDP headers (LD_ABS/LD_IND relative to the network
// header), then 7 parities (h & 127), then h mod N. Anything that is not a first fragment of
// TCP or UDP over IPv4 goes to queue 0 (the shards forward ICMP errors by the flow they quote).
//
// Export (added to the synack_tun addon by tun.c's init):
//   setSteering(fd, shards)  -> undefined   load the program for `shards` queues and attach
//                                            it to the device of `fd`; shards 0 detaches it
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TUNSETSTEERINGEBPF
#define TUNSETSTEERINGEBPF _IOR('T', 224, int)
#endif

static napi_value steer_throw(napi_env env, int e, const char *syscall, const char *detail) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s%s%s", syscall, strerror(e), detail && *detail ? ": " : "", detail ? detail : "");
  napi_value m, err, code, errnum, sc;
  const char *c = e == EPERM ? "EPERM" : e == EACCES ? "EACCES" : e == EINVAL ? "EINVAL" : e == EBADF ? "EBADF"
    : e == ENOSYS ? "ENOSYS" : e == ENOTTY ? "ENOTTY" : e == E2BIG ? "E2BIG" : "EUNKNOWN";
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

/* The symmetric RSS key, 0x6d5a repeated: bit k of it (k = 0 the MSB of byte 0). */
static int key_bit(int k) {
  static const uint8_t key[2] = { 0x6d, 0x5a };
  return (key[(k >> 3) & 1] >> (7 - (k & 7))) & 1;
}

/* W(m): the 32 key bits from bit m, as a number (the first key bit is its MSB). */
static uint32_t key_window(int m) {
  uint32_t w = 0;
  for (int i = 0; i < 32; i++) w = (w << 1) | (uint32_t)key_bit(m + i);
  return w;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU64_REG(op, d, s) INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LD_ABS(sz, k) INSN(BPF_LD | (sz) | BPF_ABS, 0, 0, 0, k)
#define LD_IND(sz, s, k) INSN(BPF_LD | (sz) | BPF_IND, 0, s, 0, k)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JSET_IMM(d, i, o) INSN(BPF_JMP | BPF_JSET | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define NET(off) (SKF_NET_OFF + (off))
#define MAX_INSNS 160

/* Build the program for `shards` queues; returns the number of instructions. */
static int build(struct bpf_insn *p, int shards) {
  int n = 0;
  p[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);         /* LD_ABS/IND need the skb in r6 */
  p[n++] = LD_ABS(BPF_B, NET(0));                    /* version | IHL */
  p[n++] = MOV64_REG(BPF_REG_7, BPF_REG_0);
  p[n++] = ALU64_IMM(BPF_AND, BPF_REG_7, 0x0f);
  p[n++] = ALU64_IMM(BPF_LSH, BPF_REG_7, 2);         /* r7 = header length */
  p[n++] = ALU64_IMM(BPF_RSH, BPF_REG_0, 4);
  int j_ver = n; p[n++] = JNE_IMM(BPF_REG_0, 4, 0);  /* not IPv4 → queue 0 */
  p[n++] = LD_ABS(BPF_H, NET(6));                    /* flags | fragment offset */
  int j_frag = n; p[n++] = JSET_IMM(BPF_REG_0, 0x1fff, 0);
  p[n++] = LD_ABS(BPF_B, NET(9));                    /* protocol */
  p[n++] = JEQ_IMM(BPF_REG_0, 6, 1);
  int j_proto = n; p[n++] = JNE_IMM(BPF_REG_0, 17, 0);
  /* r8 = F, the XOR of the six 16-bit words: addresses, then ports */
  p[n++] = LD_ABS(BPF_H, NET(12)); p[n++] = MOV64_REG(BPF_REG_8, BPF_REG_0);
  p[n++] = LD_ABS(BPF_H, NET(14)); p[n++] = ALU64_REG(BPF_XOR, BPF_REG_8, BPF_REG_0);
  p[n++] = LD_ABS(BPF_H, NET(16)); p[n++] = ALU64_REG(BPF_XOR, BPF_REG_8, BPF_REG_0);
  p[n++] = LD_ABS(BPF_H, NET(18)); p[n++] = ALU64_REG(BPF_XOR, BPF_REG_8, BPF_REG_0);
  p[n++] = LD_IND(BPF_H, BPF_REG_7, NET(0)); p[n++] = ALU64_REG(BPF_XOR, BPF_REG_8, BPF_REG_0);
  p[n++] = LD_IND(BPF_H, BPF_REG_7, NET(2)); p[n++] = ALU64_REG(BPF_XOR, BPF_REG_8, BPF_REG_0);
  /* r9 = h & 127: bit b is parity(F & M_b) */
  p[n++] = MOV64_IMM(BPF_REG_9, 0);
  for (int b = 0; b < 7; b++) {
    int32_t mask = 0;
    for (int m = 0; m < 16; m++) if ((key_window(m) >> b) & 1) mask |= 1 << (15 - m);
    p[n++] = MOV64_REG(BPF_REG_0, BPF_REG_8);
    p[n++] = ALU64_IMM(BPF_AND, BPF_REG_0, mask);
    for (int s = 8; s >= 1; s >>= 1) {
      p[n++] = MOV64_REG(BPF_REG_1, BPF_REG_0);
      p[n++] = ALU64_IMM(BPF_RSH, BPF_REG_1, s);
      p[n++] = ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_1);
    }
    p[n++] = ALU64_IMM(BPF_AND, BPF_REG_0, 1);
    if (b > 0) p[n++] = ALU64_IMM(BPF_LSH, BPF_REG_0, b);
    p[n++] = ALU64_REG(BPF_OR, BPF_REG_9, BPF_REG_0);
  }
  p[n++] = MOV64_REG(BPF_REG_0, BPF_REG_9);
  p[n++] = ALU64_IMM(BPF_MOD, BPF_REG_0, shards);    /* RETA[i] = i mod N */
  p[n++] = EXIT();
  int out = n;                                       /* queue 0 */
  p[n++] = MOV64_IMM(BPF_REG_0, 0);
  p[n++] = EXIT();
  p[j_ver].off = (int16_t)(out - j_ver - 1);
  p[j_frag].off = (int16_t)(out - j_frag - 1);
  p[j_proto].off = (int16_t)(out - j_proto - 1);
  return n;
}

static napi_value steer_set(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, shards;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &shards) != napi_ok ||
      shards < 0 || shards > 255) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setSteering(fd, shards): shards 0..255");
    return NULL;
  }
  int prog = -1;
  if (shards > 0) {
    struct bpf_insn insns[MAX_INSNS];
    int count = build(insns, shards);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = (uint32_t)count;
    a.license = (uint64_t)(uintptr_t)"GPL";
    prog = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a);
    if (prog < 0) {
      /* Load again with the verifier's log (its last lines say why), for the error message. */
      int e = errno;
      static char log[1 << 16];
      log[0] = '\0';
      a.log_buf = (uint64_t)(uintptr_t)log;
      a.log_size = sizeof log;
      a.log_level = 1;
      int again = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a);
      if (again >= 0) close(again);
      size_t len = strlen(log);
      return steer_throw(env, e, "bpf(BPF_PROG_LOAD)", len > 300 ? log + len - 300 : log);
    }
  }
  int rc = ioctl(fd, TUNSETSTEERINGEBPF, &prog);
  int e = errno;
  if (prog >= 0) close(prog); /* the device holds its own reference */
  if (rc < 0) return steer_throw(env, e, "ioctl(TUNSETSTEERINGEBPF)", NULL);
  return NULL;
}

napi_value tun_steer_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "setSteering", NULL, steer_set, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
