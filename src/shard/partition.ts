// Which shard owns a packet: the flow's symmetric Toeplitz hash (src/shard/hash.ts), its low
// bits indexing an indirection table (RSS's RETA) of shard numbers. Both directions of a
// flow, every segment of a connection (the SYN included) and the ICMP errors about it map
// to the same shard. Packets that belong to no flow (ICMP echo, anything unparseable) may
// be handled by whichever shard has them: ownerOfPacket returns ANY_SHARD.
import { ToeplitzHash, SYMMETRIC_RSS_KEY } from './hash.js';

/** ownerOfPacket: no flow; any shard may take the packet (and drop it, if it is malformed). */
export const ANY_SHARD = -1;

const IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
/** ICMP errors that quote the offending datagram (RFC 792): unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);

/** A TCP or UDP flow as seen in one packet (source first). */
export interface FlowTuple { protocol: number; src: number; dst: number; srcPort: number; dstPort: number }

function u32(p: Uint8Array, o: number): number { return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0; }
function u16(p: Uint8Array, o: number): number { return (p[o]! << 8) | p[o + 1]!; }

/**
 * The TCP/UDP flow an IPv4 packet belongs to: its own ports, or — for an ICMP error — the
 * flow of the datagram it quotes (RFC 792: IP header + first 8 bytes, which hold the ports).
 * Null for anything else (ICMP echo, other protocols, non-first fragments, short packets).
 */
export function flowOf(p: Uint8Array, out: FlowTuple = { protocol: 0, src: 0, dst: 0, srcPort: 0, dstPort: 0 }): FlowTuple | null {
  if (p.length < 20 || (p[0]! >> 4) !== 4) return null;
  const ihl = (p[0]! & 15) * 4;
  if (ihl < 20 || p.length < ihl + 4) return null;
  if ((u16(p, 6) & 0x1fff) !== 0) return null; // a non-first fragment carries no ports
  const proto = p[9]!;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    out.protocol = proto; out.src = u32(p, 12); out.dst = u32(p, 16); out.srcPort = u16(p, ihl); out.dstPort = u16(p, ihl + 2);
    return out;
  }
  if (proto !== IPPROTO_ICMP || !ICMP_ERRORS.has(p[ihl]!)) return null;
  const q = ihl + 8; // the quoted datagram
  if (p.length < q + 20 || (p[q]! >> 4) !== 4) return null;
  const qihl = (p[q]! & 15) * 4;
  const qp = p[q + 9]!;
  if (qihl < 20 || p.length < q + qihl + 4 || (qp !== IPPROTO_TCP && qp !== IPPROTO_UDP)) return null;
  out.protocol = qp; out.src = u32(p, q + 12); out.dst = u32(p, q + 16); out.srcPort = u16(p, q + qihl); out.dstPort = u16(p, q + qihl + 2);
  return out;
}

export interface ShardMapOptions {
  /** Indirection table entries (a power of two; default 128, as most NICs). */
  retaSize?: number;
  /** Toeplitz key (default: the symmetric 0x6d5a key). A non-symmetric key breaks the partition of a flow's two directions. */
  key?: Uint8Array;
}

/** The partition: flow → shard, for `shards` ≥ 1 shards. */
export class ShardMap {
  readonly shards: number;
  /** Indirection table: entry i serves hashes whose low bits are i (RSS RETA); i mod shards by default. */
  readonly reta: Uint8Array;
  private readonly mask: number;
  private readonly toeplitz: ToeplitzHash;
  private readonly scratch: FlowTuple = { protocol: 0, src: 0, dst: 0, srcPort: 0, dstPort: 0 };

  constructor(shards: number, opts: ShardMapOptions = {}) {
    if (!Number.isInteger(shards) || shards < 1 || shards > 255) throw Object.assign(new RangeError(`shards must be an integer 1..255, got ${shards}`), { code: 'ERR_OUT_OF_RANGE' });
    const size = opts.retaSize ?? 128;
    if (!Number.isInteger(size) || size < shards || (size & (size - 1)) !== 0) throw Object.assign(new RangeError(`retaSize must be a power of two ≥ shards, got ${size}`), { code: 'ERR_OUT_OF_RANGE' });
    this.shards = shards;
    this.mask = size - 1;
    this.reta = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.reta[i] = i % shards;
    this.toeplitz = new ToeplitzHash(opts.key ?? SYMMETRIC_RSS_KEY);
  }

  /** The flow hash (symmetric with the default key). */
  hash(a: number, aPort: number, b: number, bPort: number): number { return this.toeplitz.hash(a, b, aPort, bPort); }

  /** The shard owning the flow between (a, aPort) and (b, bPort), in either direction. */
  owner(a: number, aPort: number, b: number, bPort: number): number {
    return this.reta[this.toeplitz.hash(a, b, aPort, bPort) & this.mask]!;
  }

  /** The shard owning an IPv4 packet's flow, or ANY_SHARD when it belongs to none. */
  ownerOfPacket(p: Uint8Array): number {
    if (this.shards === 1) return 0;
    const f = flowOf(p, this.scratch);
    if (f === null) return ANY_SHARD;
    return this.owner(f.src, f.srcPort, f.dst, f.dstPort);
  }
}
