#!/usr/bin/env python3
"""Send N TCP SYNs with made-up source addresses to DST:PORT, for the interop suite's SYN
cookie test. Run it only inside the suite's own network namespace: the sources are unused
addresses of the test prefix (198.18.0.0/15), so synack's SYN-ACKs go nowhere and its SYN
queue fills, as in a SYN flood (RFC 4987).

usage: interop-synflood.py DST PORT SRC_PREFIX FIRST COUNT
  e.g. interop-synflood.py 198.18.7.1 80 198.18.7 100 32   (sources .100 … .131)
"""
import random
import socket
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src: str, dst: str, sport: int, dport: int, seq: int) -> bytes:
    # MSS 1460, SACK permitted, timestamps, window scale 7: what Linux itself sends.
    opts = struct.pack("!BBH", 2, 4, 1460) + struct.pack("!BB", 4, 2) + struct.pack("!BBII", 8, 10, random.getrandbits(32), 0) + struct.pack("!BBBB", 1, 3, 3, 7)
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, off << 4, 0x02, 64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64, socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main() -> None:
    dst, port, prefix, first, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    for i in range(count):
        src = "%s.%d" % (prefix, first + i)
        s.sendto(syn(src, dst, random.randint(20000, 60000), port, random.getrandbits(32)), (dst, 0))
    print(count)


if __name__ == "__main__":
    main()
