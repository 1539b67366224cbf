import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseEthernet, EthernetView, emitEthernetHeader, buildEthernetFrame, parseMac, formatMac, localMac, isGroupMac, isBroadcastMac,
  ETHERTYPE_IPV4, ETHERTYPE_ARP, BROADCAST_MAC,
} from '../../src/wire/ethernet.js';
import { parseArp, emitArp, ARPOP_REQUEST, ARPOP_REPLY } from '../../src/wire/arp.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));

describe('Ethernet II', () => {
  test('golden: an ARP request frame as tcpdump -xx shows it', () => {
    // ff:ff:ff:ff:ff:ff <- 02:00:00:00:00:01, ARP who-has 198.18.0.2 tell 198.18.0.1, padded to 60.
    const arp = new Uint8Array(28);
    emitArp({ op: ARPOP_REQUEST, sha: localMac(1), spa: 0xc6120001, tha: new Uint8Array(6), tpa: 0xc6120002 }, arp, 0);
    const f = buildEthernetFrame({ dst: BROADCAST_MAC, src: localMac(1), etherType: ETHERTYPE_ARP }, arp);
    assert.equal(f.length, 60);
    assert.deepEqual(f.subarray(0, 42), hex(`
      ffffffffffff 020000000001 0806
      0001 0800 06 04 0001 020000000001 c6120001 000000000000 c6120002`));
    assert.ok(f.subarray(42).every((b) => b === 0));
    const r = parseEthernet(f);
    assert.ok(r.ok);
    assert.equal(r.value.etherType, ETHERTYPE_ARP);
    assert.deepEqual(r.value.vlan, []);
    const a = parseArp(r.value.payload);
    assert.ok(a.ok);
    assert.equal(a.value.op, ARPOP_REQUEST);
    assert.equal(a.value.spa, 0xc6120001);
    assert.equal(a.value.tpa, 0xc6120002);
    assert.equal(formatMac(a.value.sha), '02:00:00:00:00:01');
  });

  test('VLAN tags are recognised, never taken for the payload', () => {
    const f = new Uint8Array(14 + 8 + 20);
    emitEthernetHeader({ dst: localMac(2), src: localMac(1), etherType: ETHERTYPE_IPV4, vlan: [0x2005, 0x0064] }, f, 0);
    f[22] = 0x45;
    const r = parseEthernet(f);
    assert.ok(r.ok);
    assert.deepEqual(r.value.vlan, [0x2005, 0x0064]);
    assert.equal(r.value.etherType, ETHERTYPE_IPV4);
    assert.equal(r.value.headerLength, 22);
    assert.equal(r.value.payload[0], 0x45);
    const v = new EthernetView();
    assert.equal(v.reset(f), null);
    assert.equal(v.tags, 2);
    assert.equal(v.etherType, ETHERTYPE_IPV4);
    // Three tags: unsupported; a tag cut short: truncated.
    const three = new Uint8Array(40);
    emitEthernetHeader({ dst: localMac(2), src: localMac(1), etherType: ETHERTYPE_IPV4, vlan: [1, 2, 3] }, three, 0);
    assert.equal(parseEthernet(three).ok, false);
    assert.equal(v.reset(three)?.kind, 'unsupported');
    assert.equal(parseEthernet(f.subarray(0, 17)).ok, false);
    assert.equal(v.reset(f.subarray(0, 17))?.kind, 'truncated');
  });

  test('802.3 length fields and short frames are errors', () => {
    const f = new Uint8Array(60);
    f[12] = 0x00; f[13] = 0x2e; // length 46: an LLC frame
    const r = parseEthernet(f);
    assert.ok(!r.ok && r.error.kind === 'unsupported');
    f[12] = 0x05; f[13] = 0xff; // 1535: neither
    const r2 = parseEthernet(f);
    assert.ok(!r2.ok && r2.error.kind === 'bad-length');
    const r3 = parseEthernet(new Uint8Array(13));
    assert.ok(!r3.ok && r3.error.kind === 'truncated');
  });

  test('MAC helpers', () => {
    assert.deepEqual(parseMac('02:00:5E:10:00:01'), Uint8Array.of(2, 0, 0x5e, 0x10, 0, 1));
    assert.deepEqual(parseMac('02-00-5e-10-00-01'), Uint8Array.of(2, 0, 0x5e, 0x10, 0, 1));
    assert.equal(parseMac('02:00:5e:10:00'), null);
    assert.equal(parseMac('02:00:5e:10:00:0g'), null);
    assert.equal(formatMac(localMac(0xc6120001)), '02:00:c6:12:00:01');
    assert.ok(isGroupMac(BROADCAST_MAC) && isBroadcastMac(BROADCAST_MAC));
    assert.ok(isGroupMac(Uint8Array.of(1, 0, 0x5e, 0, 0, 1)) && !isBroadcastMac(Uint8Array.of(1, 0, 0x5e, 0, 0, 1)));
    assert.ok(!isGroupMac(localMac(1)));
  });
});

describe('ARP (RFC 826)', () => {
  test('emit/parse round trip; padding ignored', () => {
    const b = new Uint8Array(46);
    emitArp({ op: ARPOP_REPLY, sha: localMac(7), spa: 0x0a000001, tha: localMac(8), tpa: 0x0a000002 }, b, 0);
    const r = parseArp(b);
    assert.ok(r.ok);
    assert.equal(r.value.op, ARPOP_REPLY);
    assert.deepEqual([formatMac(r.value.sha), r.value.spa, formatMac(r.value.tha), r.value.tpa], ['02:00:00:00:00:07', 0x0a000001, '02:00:00:00:00:08', 0x0a000002]);
  });

  test('other hardware/protocol types, lengths and opcodes are refused', () => {
    const b = new Uint8Array(28);
    emitArp({ op: ARPOP_REQUEST, sha: localMac(7), spa: 1, tha: localMac(8), tpa: 2 }, b, 0);
    const bad = (i: number, v: number): string => { const c = b.slice(); c[i] = v; const r = parseArp(c); return r.ok ? 'ok' : r.error.kind; };
    assert.equal(bad(1, 6), 'unsupported'); // IEEE 802 hardware
    assert.equal(bad(2, 0x86), 'unsupported'); // protocol 0x86dd-ish
    assert.equal(bad(4, 8), 'bad-length');
    assert.equal(bad(5, 16), 'bad-length');
    assert.equal(bad(7, 3), 'unsupported'); // RARP
    const t = parseArp(b.subarray(0, 27));
    assert.ok(!t.ok && t.error.kind === 'truncated');
  });
});
