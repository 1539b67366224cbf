// The flow hash that partitions connections over shards, as receive-side scaling (RSS) does
// it in a NIC: a Toeplitz hash over (source address, destination address, source port,
// destination port) — the order and bit layout of Microsoft's RSS specification
// ("Verifying the RSS Hash Calculation", IPv4 with TCP) — whose low bits index an
// indirection table of shard numbers.
//
// Symmetric: with a key that repeats every 16 bits (0x6d5a…, Woo & Park, "Scalable TCP
// Session Monitoring with Symmetric Receive-side Scaling", 2012), swapping the two addresses
// (a shift of 32 bits) and the two ports (16 bits) moves every input bit to a position whose
// key window is the same, so both directions of a flow hash alike and land on one shard.
// (Such a key makes the hash a function of the XOR of the input's 16-bit words; it spreads
// the ports of one client evenly, which is what the partition needs. A NIC uses it for the
// same reason; Linux's own symmetric flow hash, __skb_get_hash_symmetric, is jhash of the
// sorted endpoints with a per-boot random seed, so userspace cannot reproduce it.)
//
// Node-only folder (src/shard), though this file itself is plain code.

/** 40 bytes: 0x6d5a repeated, the symmetric RSS key. */
export const SYMMETRIC_RSS_KEY: Uint8Array = (() => {
  const k = new Uint8Array(40);
  for (let i = 0; i < 40; i += 2) { k[i] = 0x6d; k[i + 1] = 0x5a; }
  return k;
})();

/** The key of Microsoft's RSS verification suite (not symmetric; tests only). */
export const MICROSOFT_RSS_KEY: Uint8Array = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
  0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
  0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

/** The 32 key bits starting at bit `bit` (bit 0 = the most significant bit of key[0]). */
function keyWindow(key: Uint8Array, bit: number): number {
  let w = 0;
  for (let i = 0; i < 32; i++) {
    const b = bit + i;
    const v = (key[b >> 3]! >> (7 - (b & 7))) & 1;
    w = (w << 1) | v;
  }
  return w >>> 0;
}

/**
 * A Toeplitz hash over 12 input bytes (src addr, dst addr, src port, dst port), with one
 * 256-entry table per input byte: hashing is 12 lookups and XORs.
 */
export class ToeplitzHash {
  private readonly tables: Uint32Array;

  constructor(key: Uint8Array = SYMMETRIC_RSS_KEY) {
    if (key.length < 16) throw new RangeError('a Toeplitz key for 12 input bytes needs at least 16 bytes');
    this.tables = new Uint32Array(12 * 256);
    for (let byte = 0; byte < 12; byte++) {
      for (let v = 0; v < 256; v++) {
        let h = 0;
        for (let bit = 0; bit < 8; bit++) if ((v >> (7 - bit)) & 1) h ^= keyWindow(key, byte * 8 + bit);
        this.tables[byte * 256 + v] = h >>> 0;
      }
    }
  }

  /** The hash of a TCP/UDP over IPv4 flow, as seen in one packet (source first). */
  hash(srcAddr: number, dstAddr: number, srcPort: number, dstPort: number): number {
    const t = this.tables;
    const h = t[(srcAddr >>> 24) & 255]! ^ t[256 + ((srcAddr >>> 16) & 255)]! ^ t[512 + ((srcAddr >>> 8) & 255)]! ^ t[768 + (srcAddr & 255)]!
      ^ t[1024 + ((dstAddr >>> 24) & 255)]! ^ t[1280 + ((dstAddr >>> 16) & 255)]! ^ t[1536 + ((dstAddr >>> 8) & 255)]! ^ t[1792 + (dstAddr & 255)]!
      ^ t[2048 + ((srcPort >>> 8) & 255)]! ^ t[2304 + (srcPort & 255)]! ^ t[2560 + ((dstPort >>> 8) & 255)]! ^ t[2816 + (dstPort & 255)]!;
    return h >>> 0;
  }

  /** Addresses only (the RSS "IPv4" hash type): used for datagrams without ports. */
  hashAddrs(srcAddr: number, dstAddr: number): number {
    const t = this.tables;
    const h = t[(srcAddr >>> 24) & 255]! ^ t[256 + ((srcAddr >>> 16) & 255)]! ^ t[512 + ((srcAddr >>> 8) & 255)]! ^ t[768 + (srcAddr & 255)]!
      ^ t[1024 + ((dstAddr >>> 24) & 255)]! ^ t[1280 + ((dstAddr >>> 16) & 255)]! ^ t[1536 + ((dstAddr >>> 8) & 255)]! ^ t[1792 + (dstAddr & 255)]!;
    return h >>> 0;
  }
}
