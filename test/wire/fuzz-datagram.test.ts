// Fuzzes the datagram-world parsers (UDP, DNS, DHCP) like fuzz.test.ts does the others:
// 100,000 random and mutated buffers each; nothing may throw, errors are typed ParseErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParseErrorKind, ParseResult } from '../../src/wire/errors.js';
import { parseUdp, buildUdp } from '../../src/wire/udp.js';
import { mulberry32 } from './prng.js';

const KINDS: ReadonlySet<ParseErrorKind> = new Set<ParseErrorKind>([
  'truncated', 'bad-version', 'bad-ihl', 'bad-length', 'bad-checksum', 'bad-data-offset', 'bad-option', 'fragment', 'unsupported',
]);
const SEED = Number(process.env.SYNACK_FUZZ_SEED ?? 0x13b);
export const BUFFERS = 100_000;

export function check<T>(r: ParseResult<T>, where: string): r is Extract<ParseResult<T>, { ok: true }> {
  if (r.ok) return true;
  assert.ok(KINDS.has(r.error.kind), `${where}: unknown error kind ${String(r.error.kind)}`);
  assert.ok(typeof r.error.reason === 'string' && r.error.reason.length > 0, `${where}: empty reason`);
  return false;
}

/** Mutate a copy of `seed`: flip bytes, truncate, extend, or random bytes; deterministic from rnd. */
export function mutate(seed: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const k = int(5);
  if (k === 0) return Uint8Array.from({ length: int(600) }, () => int(256));
  let b = seed.slice();
  if (k === 1) b = b.subarray(0, int(b.length + 1));
  if (k === 2) { const e = new Uint8Array(b.length + int(64)); e.set(b); for (let i = b.length; i < e.length; i++) e[i] = int(256); b = e; }
  const flips = 1 + int(8);
  for (let i = 0; i < flips && b.length > 0; i++) b[int(b.length)] = rnd() < 0.3 ? [0, 1, 0x3f, 0x40, 0xc0, 0xff][int(6)]! : int(256);
  return b;
}

test(`UDP parser: ${BUFFERS} fuzzed buffers, typed errors only`, () => {
  const rnd = mulberry32(SEED);
  const seeds = [buildUdp(68, 67, new Uint8Array(300), 0, 0xffffffff), buildUdp(5353, 53, new Uint8Array(12), 1, 2), new Uint8Array(8)];
  let oks = 0;
  for (let i = 0; i < BUFFERS; i++) {
    const b = mutate(seeds[i % seeds.length]!, rnd);
    const r = parseUdp(b, i & 1 ? { src: 1, dst: 2 } : undefined);
    if (check(r, `udp #${i}`)) {
      oks++;
      assert.ok(r.value.length >= 8 && r.value.length <= b.length && r.value.payload.length === r.value.length - 8);
    }
  }
  assert.ok(oks > 1000, `some buffers parse (${oks})`);
});

test(`DNS parser: ${BUFFERS} fuzzed buffers, typed errors only; what parses re-emits and re-parses`, async () => {
  const { parseDns, emitDns, buildQuery, newFlags, TYPE_A, TYPE_CNAME, TYPE_SOA, TYPE_PTR, CLASS_IN } = await import('../../src/dns/wire.js');
  const rnd = mulberry32(SEED ^ 0xd45);
  const answer = emitDns({
    id: 1, flags: newFlags({ qr: true, aa: true }), questions: [{ name: 'www.example.test', type: TYPE_A, class: CLASS_IN }],
    answers: [
      { name: 'www.example.test', type: TYPE_CNAME, class: CLASS_IN, ttl: 5, target: 'web.example.test' },
      { name: 'web.example.test', type: TYPE_A, class: CLASS_IN, ttl: 5, address: 0xc6120002 },
      { name: '2.0.18.198.in-addr.arpa', type: TYPE_PTR, class: CLASS_IN, ttl: 5, target: 'web.example.test' },
    ],
    authority: [{ name: 'example.test', type: TYPE_SOA, class: CLASS_IN, ttl: 60, soa: { mname: 'ns.example.test', rname: 'h.example.test', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } }],
    additional: [],
  });
  const seeds = [answer, buildQuery(7, 'a.b.c.example'), new Uint8Array(12)];
  let oks = 0;
  for (let i = 0; i < BUFFERS; i++) {
    const b = mutate(seeds[i % seeds.length]!, rnd);
    const r = parseDns(b);
    if (!check(r, `dns #${i}`)) continue;
    oks++;
    // Whatever parses must serialize again (names escaped in presentation form) and parse to the same records.
    let again: Uint8Array;
    try { again = emitDns(r.value); } catch (e) { assert.ok(e instanceof RangeError, `dns #${i}: emit threw ${String(e)}`); continue; }
    const r2 = parseDns(again);
    assert.ok(r2.ok, `dns #${i}: re-parse failed`);
    assert.deepEqual(r2.value.questions, r.value.questions, `dns #${i}`);
    assert.equal(r2.value.answers.length, r.value.answers.length);
  }
  assert.ok(oks > 1000, `some buffers parse (${oks})`);
});
