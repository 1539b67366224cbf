// Test helpers for link tests: minimal IPv4-looking packets (no checksum needed here).

/** dotted quad -> uint32 */
export function ip(s: string): number {
  const [a, b, c, d] = s.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** A `size`-byte packet: version 4 / IHL 5, total length, dst at 16..19, `tag` at byte 20+. */
export function packet(size: number, tag = 0, dst = ip('10.0.0.2'), src = ip('10.0.0.1')): Uint8Array {
  const p = new Uint8Array(Math.max(size, 24));
  p[0] = 0x45;
  p[2] = size >>> 8;
  p[3] = size & 0xff;
  p[8] = 64;
  p[9] = 6;
  new DataView(p.buffer).setUint32(12, src);
  new DataView(p.buffer).setUint32(16, dst);
  new DataView(p.buffer).setUint32(20, tag);
  return size < 24 ? p.subarray(0, size) : p;
}

export function tagOf(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(20);
}
