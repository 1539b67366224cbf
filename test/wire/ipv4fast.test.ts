// The IPv4 fast paths (src/wire/ipv4fast.ts) against the general codec (src/wire/ipv4.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPlainIpv4, readU32, writePlainIpv4 } from '../../src/wire/ipv4fast.js';
import { emitIpv4Header, parseIpv4, IPPROTO_TCP } from '../../src/wire/ipv4.js';

test('writePlainIpv4 writes the bytes emitIpv4Header writes for a DF, option-less header', () => {
  fc.assert(fc.property(
    fc.integer({ min: 40, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 63 }),
    fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
    (total, id, dscp, ttl, src, dst) => {
      const a = new Uint8Array(total), b = new Uint8Array(total);
      writePlainIpv4(a, total, id, dscp, ttl, IPPROTO_TCP, src, dst);
      emitIpv4Header({ ttl, protocol: IPPROTO_TCP, src, dst, dontFragment: true, identification: id, dscp }, total - 20, b, 0);
      assert.deepEqual(a.subarray(0, 20), b.subarray(0, 20));
      assert.ok(isPlainIpv4(a, IPPROTO_TCP));
      const r = parseIpv4(a);
      assert.ok(r.ok);
      assert.equal(readU32(a, 12), src);
      assert.equal(readU32(a, 16), dst);
    }), { numRuns: 300 });
});

test('isPlainIpv4 refuses a wrong checksum, a fragment, options and a short buffer', () => {
  const p = new Uint8Array(60);
  writePlainIpv4(p, 60, 7, 0, 64, IPPROTO_TCP, 0xc6120001, 0xc6120002);
  assert.ok(isPlainIpv4(p, IPPROTO_TCP));
  assert.ok(!isPlainIpv4(p, 17));
  const bad = p.slice(); bad[11] ^= 1; assert.ok(!isPlainIpv4(bad, IPPROTO_TCP));
  const frag = p.slice(); frag[6] = 0x20; assert.ok(!isPlainIpv4(frag, IPPROTO_TCP));
  const opts = p.slice(); opts[0] = 0x46; assert.ok(!isPlainIpv4(opts, IPPROTO_TCP));
  assert.ok(!isPlainIpv4(p.subarray(0, 50), IPPROTO_TCP));
});
