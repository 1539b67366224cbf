// Fuzzes the Ethernet II and ARP parsers like fuzz.test.ts does the others: 100,000 random
// and mutated frames; nothing may throw, errors are typed ParseErrors, the view and the
// record agree, and a stack's Ethernet interface takes every frame (counting and dropping
// the bad ones) without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParseErrorKind, ParseResult } from '../../src/wire/errors.js';
import { parseEthernet, EthernetView, buildEthernetFrame, localMac, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../src/wire/ethernet.js';
import { parseArp, emitArp, ARPOP_REQUEST, ARPOP_REPLY } from '../../src/wire/arp.js';
import { emitIpv4Header, IPPROTO_ICMP } from '../../src/wire/ipv4.js';
import { emitIcmpEcho, icmpEchoLength } from '../../src/wire/icmp.js';
import { Stack } from '../../src/stack/stack.js';
import { ManualClock } from '../../src/time/clock.js';
import { mulberry32 } from './prng.js';

const KINDS: ReadonlySet<ParseErrorKind> = new Set<ParseErrorKind>([
  'truncated', 'bad-version', 'bad-ihl', 'bad-length', 'bad-checksum', 'bad-data-offset', 'bad-option', 'fragment', 'unsupported',
]);
const SEED = Number(process.env.SYNACK_FUZZ_SEED ?? 0x13a);
const BUFFERS = 100_000;
const A = 0xc6120001, B = 0xc6120002;

function check<T>(r: ParseResult<T>, where: string): r is Extract<ParseResult<T>, { ok: true }> {
  if (r.ok) return true;
  assert.ok(KINDS.has(r.error.kind), `${where}: unknown error kind ${String(r.error.kind)}`);
  assert.ok(r.error.reason.length > 0, `${where}: empty reason`);
  return false;
}

function seeds(): Uint8Array[] {
  const arp = (op: 1 | 2, sha: Uint8Array, spa: number, tpa: number): Uint8Array => {
    const p = new Uint8Array(28);
    emitArp({ op, sha, spa, tha: op === 1 ? new Uint8Array(6) : localMac(1), tpa }, p, 0);
    return p;
  };
  const echo = new Uint8Array(20 + icmpEchoLength(16));
  emitIcmpEcho(8, 1, 1, new Uint8Array(16), echo, 20);
  emitIpv4Header({ ttl: 64, protocol: IPPROTO_ICMP, src: B, dst: A }, icmpEchoLength(16), echo, 0);
  return [
    buildEthernetFrame({ dst: BROADCAST_MAC, src: localMac(2), etherType: ETHERTYPE_ARP }, arp(ARPOP_REQUEST, localMac(2), B, A)),
    buildEthernetFrame({ dst: localMac(1), src: localMac(2), etherType: ETHERTYPE_ARP }, arp(ARPOP_REPLY, localMac(2), B, A)),
    buildEthernetFrame({ dst: BROADCAST_MAC, src: localMac(2), etherType: ETHERTYPE_ARP }, arp(ARPOP_REQUEST, localMac(2), 0, A)),
    buildEthernetFrame({ dst: localMac(1), src: localMac(2), etherType: ETHERTYPE_IPV4 }, echo),
    buildEthernetFrame({ dst: localMac(1), src: localMac(2), etherType: ETHERTYPE_IPV4, vlan: [5] }, echo),
    buildEthernetFrame({ dst: localMac(1), src: localMac(2), etherType: ETHERTYPE_ARP, vlan: [0x2001, 7] }, arp(ARPOP_REQUEST, localMac(2), B, A)),
  ];
}

const HOT = [0, 6, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 28, 31, 32, 38, 41];

test(`fuzz: ${BUFFERS} random and mutated Ethernet/ARP frames (seed ${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pool = seeds();
  for (const s of pool) assert.ok(parseEthernet(s).ok);
  const clock = new ManualClock(0);
  const stack = new Stack({ clock, random: (n) => new Uint8Array(n).map(() => int(256)) });
  let out = 0;
  const eth = stack.addEthernetInterface({ link: { mtu: 1500, send: () => { out++; }, setReceiver: () => {} }, mac: localMac(1), addr: A, prefixLen: 24 });
  const view = new EthernetView();
  const stats = { ethOk: 0, arpOk: 0, tagged: 0 };
  const errs = new Map<string, number>();
  for (let n = 0; n < BUFFERS; n++) {
    let b: Uint8Array;
    if (rnd() < 0.1) b = Uint8Array.from({ length: int(80) }, () => int(256));
    else {
      b = pool[int(pool.length)]!.slice();
      for (let k = 1 + int(4); k > 0; k--) {
        const m = int(6);
        if (m === 0 && b.length > 0) b[int(b.length)] = int(256);
        else if (m === 1) { const at = HOT[int(HOT.length)]!; if (at < b.length) b[at] = [0, 1, 0x06, 0x08, 0x81, 0x88, 0xa8, 0x91, 0xff][int(9)]!; }
        else if (m === 2) b = b.slice(0, int(b.length + 1));
        else if (m === 3) { const e = new Uint8Array(b.length + 1 + int(8)); e.set(b); b = e; }
        else if (m === 4 && b.length >= 16) { b[12] = 0x81; b[13] = 0x00; } // make it tagged
        else if (b.length > 0) b[int(b.length)]! ^= 1 << int(8);
      }
    }
    const where = `#${n} ${Array.from(b.subarray(0, 48), (x) => x.toString(16).padStart(2, '0')).join('')}`;
    try {
      const r = parseEthernet(b);
      const v = view.reset(b);
      if (check(r, where)) {
        stats.ethOk++;
        assert.equal(v, null, where);
        assert.equal(view.etherType, r.value.etherType, where);
        assert.equal(view.tags, r.value.vlan.length, where);
        assert.equal(view.headerLength, r.value.headerLength, where);
        assert.equal(r.value.payload.length, b.length - r.value.headerLength, where);
        if (r.value.vlan.length > 0) stats.tagged++;
        const a = parseArp(r.value.payload);
        if (check(a, where)) stats.arpOk++;
        else errs.set(a.error.kind, (errs.get(a.error.kind) ?? 0) + 1);
      } else {
        assert.ok(v !== null && v.kind === r.error.kind, where);
      }
      check(parseArp(b), `${where} raw`);
      eth.onFrame(b);
      clock.set(clock.now() + 1000);
      stack.poll(clock.now());
    } catch (e) {
      throw new Error(`fuzz frame ${where} (seed ${SEED}): ${(e as Error).stack ?? String(e)}`);
    }
  }
  assert.ok(stats.ethOk > BUFFERS / 2, JSON.stringify(stats));
  assert.ok(stats.arpOk > BUFFERS / 10, JSON.stringify(stats));
  assert.ok(stats.tagged > BUFFERS / 20, JSON.stringify(stats));
  // The interface counted what it dropped, and answered some requests.
  const c = eth.eth;
  assert.equal(c.rxFrames, BUFFERS);
  assert.ok(c.rxVlan > 0 && c.rxErrors > 0 && c.arpInErrors > 0 && c.rxOtherHost > 0 && c.arpOutReplies > 0, JSON.stringify(c));
  assert.ok(out > 0);
  assert.ok(eth.neighbours.size <= eth.neighbours.params.gc_thresh3);
  if (process.env.SYNACK_FUZZ_STATS) console.log(JSON.stringify(stats), JSON.stringify([...errs]), JSON.stringify(c));
});
