// Memory for outgoing packets: slabs carved into packets, recycled when the receiver gives
// every packet of a slab back (issue 16). No `node:` imports: core code.

/**
 * Packets are carved from 256 KiB slabs (as Node's Buffer pool does): a view costs a small
 * object, a fresh ArrayBuffer per packet costs far more. Each packet starts 8-byte aligned so
 * the TCP header (at +20) is 4-byte aligned for the 32-bit checksum.
 *
 * Slabs are recycled when every packet carved from one was given back (issue 16): fresh
 * memory costs ~75–130 ns per KiB on this machine (zeroing and first-touch page faults),
 * ~0.15 µs per 1500-byte packet — a sixth of the ceiling's whole per-segment budget. A
 * receiver that is done with a packet and kept no reference to it says so
 * (releasePacket: the in-memory link does, when the stack's TCP fast path took the packet
 * and nobody observes the link); a packet somebody may hold (an observer saw it:
 * retainPacket) keeps its slab out of reuse for good. A slab with packets never given back
 * (dropped, captured, or received by anything else) is simply forgotten and left to the GC,
 * as before. Every byte of a packet is written when it is built (serializeSegment), so a
 * recycled slab never leaks old bytes.
 */
const SLAB = 256 * 1024;
/**
 * Sealed slabs still waiting for packets to come back, oldest first; older ones are
 * forgotten (left to the GC). 64 slabs (16 MiB) cover a 4 MiB window of 1500-byte packets
 * in flight, with the ACKs between them.
 */
const RECENT_MAX = 64;
/** Slabs ready for reuse (4 MiB). */
const FREE_MAX = 16;

interface Slab {
  readonly buf: ArrayBuffer;
  /** Packets carved and not given back. */
  live: number;
  /** Someone may hold one of its packets: never reuse. */
  poisoned: boolean;
}

/** Slabs allocated fresh and taken from the free list, since the process started. */
export const packetMemStats = { slabsNew: 0, slabsReused: 0 };

function newSlab(): Slab { packetMemStats.slabsNew++; return { buf: new ArrayBuffer(SLAB), live: 0, poisoned: false }; }

let cur: Slab = newSlab();
let slabOff = 0;
const recent: Slab[] = [];
const freeSlabs: Slab[] = [];

function nextSlab(): void {
  const old = cur;
  if (!old.poisoned) {
    if (old.live === 0) { if (freeSlabs.length < FREE_MAX) freeSlabs.push(old); }
    else { recent.push(old); if (recent.length > RECENT_MAX) recent.shift(); }
  }
  const reuse = freeSlabs.pop();
  if (reuse !== undefined) packetMemStats.slabsReused++;
  cur = reuse ?? newSlab();
  cur.live = 0;
  cur.poisoned = false;
  slabOff = 0;
}

export function allocPacket(len: number): Uint8Array {
  if (len > SLAB >>> 2) return new Uint8Array(len);
  if (slabOff + len > SLAB) nextSlab();
  const p = new Uint8Array(cur.buf, slabOff, len);
  slabOff = (slabOff + len + 7) & ~7;
  cur.live++;
  return p;
}

/** The tracked slab `p` was carved from, or null (not ours, or forgotten). */
function slabOf(p: Uint8Array): Slab | null {
  const b = p.buffer;
  if (b === cur.buf) return cur;
  // Links deliver in order: a packet given back is most often from the oldest slab.
  for (let k = 0; k < recent.length; k++) if (recent[k]!.buf === b) return recent[k]!;
  return null;
}

/**
 * The receiver is done with `p` (a packet from allocPacket, or anything else: ignored) and
 * holds no reference to it: its memory may be reused. Call at most once per packet.
 */
export function releasePacket(p: Uint8Array): void {
  const s = slabOf(p);
  if (s === null) return;
  s.live--;
  if (s === cur || s.live !== 0 || s.poisoned) return;
  const k = recent.indexOf(s);
  recent.splice(k, 1);
  if (freeSlabs.length < FREE_MAX) freeSlabs.push(s);
}

/** Someone other than the receiver may keep `p`: its slab is never reused. */
export function retainPacket(p: Uint8Array): void {
  const s = slabOf(p);
  if (s !== null) s.poisoned = true;
}

/** The packet the receiver last said it is done with (markConsumed), for the link. */
let consumed: Uint8Array | null = null;

/** The receiver is done with `p` and keeps no reference to it (Stack.input's TCP fast path). */
export function markConsumed(p: Uint8Array): void {
  consumed = p;
}

/** Whether the receiver marked `p` consumed since the last call; resets the mark. */
export function takeConsumed(p: Uint8Array): boolean {
  const r = consumed === p;
  consumed = null;
  return r;
}
