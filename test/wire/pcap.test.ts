import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PcapWriter, readPcap, LINKTYPE_RAW, type PcapRecord } from '../../src/wire/pcap.js';
import type { ParseResult } from '../../src/wire/errors.js';

function must<T>(r: ParseResult<T>): T {
  if (!r.ok) assert.fail(`${r.error.kind}: ${r.error.reason}`);
  return r.value;
}

// Classic pcap, little-endian, microseconds (wiki.wireshark.org/Development/LibpcapFileFormat).
const GOLDEN_FILE = Uint8Array.of(
  0xd4, 0xc3, 0xb2, 0xa1, // magic 0xa1b2c3d4 written little-endian
  0x02, 0x00, 0x04, 0x00, // version 2.4
  0x00, 0x00, 0x00, 0x00, // thiszone 0
  0x00, 0x00, 0x00, 0x00, // sigfigs 0
  0xff, 0xff, 0x00, 0x00, // snaplen 65535
  0x65, 0x00, 0x00, 0x00, // network 101 = LINKTYPE_RAW
  // record 1: t = 1.000002 s
  0x01, 0x00, 0x00, 0x00, // ts_sec 1
  0x02, 0x00, 0x00, 0x00, // ts_usec 2
  0x03, 0x00, 0x00, 0x00, // incl_len 3
  0x03, 0x00, 0x00, 0x00, // orig_len 3
  0xaa, 0xbb, 0xcc, // data
  // record 2: t = 4294.967295 s, empty packet
  0x0e, 0x11, 0x00, 0x00, // ts_sec 4366
  0x3f, 0x42, 0x0f, 0x00, // ts_usec 999999
  0x00, 0x00, 0x00, 0x00, // incl_len 0
  0x00, 0x00, 0x00, 0x00, // orig_len 0
);

/** Re-encode GOLDEN_FILE big-endian (every 32/16-bit field swapped), optionally with nanoseconds. */
function bigEndianFile(nanos: boolean): Uint8Array {
  const f = new Uint8Array(GOLDEN_FILE.length);
  const v = new DataView(f.buffer);
  v.setUint32(0, nanos ? 0xa1b23c4d : 0xa1b2c3d4);
  v.setUint16(4, 2); v.setUint16(6, 4); v.setUint32(16, 65535); v.setUint32(20, 101);
  v.setUint32(24, 1); v.setUint32(28, nanos ? 2999 : 2); v.setUint32(32, 3); v.setUint32(36, 3);
  f.set([0xaa, 0xbb, 0xcc], 40);
  v.setUint32(43, 4366); v.setUint32(47, nanos ? 999_999_999 : 999_999); v.setUint32(51, 0); v.setUint32(55, 0);
  return f;
}

function simple(r: { linktype: number; snaplen: number; records: PcapRecord[] }): unknown {
  return { linktype: r.linktype, snaplen: r.snaplen, records: r.records.map((x) => ({ t: x.tUs, o: x.origLen, d: [...x.data] })) };
}

const EXPECTED = {
  linktype: LINKTYPE_RAW, snaplen: 65535,
  records: [{ t: 1_000_002, o: 3, d: [0xaa, 0xbb, 0xcc] }, { t: 4_366_999_999, o: 0, d: [] }],
};

describe('pcap: golden file', () => {
  test('writer produces the golden bytes', () => {
    const w = new PcapWriter();
    w.writePacket(1_000_002, Uint8Array.of(0xaa, 0xbb, 0xcc));
    w.writePacket(4_366_999_999.7, new Uint8Array(0)); // fractional µs are floored
    assert.equal(w.packetCount, 2);
    assert.deepEqual(w.bytes(), GOLDEN_FILE);
  });
  test('reader: little-endian µs, big-endian µs, big-endian ns', () => {
    assert.deepEqual(simple(must(readPcap(GOLDEN_FILE))), EXPECTED);
    assert.deepEqual(simple(must(readPcap(bigEndianFile(false)))), EXPECTED);
    assert.deepEqual(simple(must(readPcap(bigEndianFile(true)))), EXPECTED);
  });
  test('record data are views into the file', () => {
    const r = must(readPcap(GOLDEN_FILE));
    assert.equal(r.records[0]!.data.buffer, GOLDEN_FILE.buffer);
  });
  test('empty capture: header only', () => {
    const r = must(readPcap(new PcapWriter({ snaplen: 1500, linktype: 1 }).bytes()));
    assert.deepEqual(r, { linktype: 1, snaplen: 1500, records: [] });
  });
});

describe('pcap: writer', () => {
  test('snaplen cuts data but keeps orig_len', () => {
    const w = new PcapWriter({ snaplen: 4 });
    w.writePacket(0, Uint8Array.of(1, 2, 3, 4, 5, 6));
    const r = must(readPcap(w.bytes()));
    assert.equal(r.snaplen, 4);
    assert.deepEqual(simple(r), { linktype: 101, snaplen: 4, records: [{ t: 0, o: 6, d: [1, 2, 3, 4] }] });
  });
  test('many packets across chunk boundaries (and one larger than a chunk) round trip', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(2 ** 40), fc.nat(3000)), { minLength: 0, maxLength: 120 }), (pkts) => {
      const w = new PcapWriter({ snaplen: 262144 });
      const sent: { t: number; d: Uint8Array }[] = [];
      pkts.forEach(([t, n], i) => {
        const d = new Uint8Array(i === 60 ? 100_000 : n).map((_, k) => (k * 31 + i) & 0xff);
        w.writePacket(t, d);
        sent.push({ t, d });
      });
      const bytes = w.bytes();
      assert.deepEqual(w.bytes(), bytes); // repeatable
      const r = must(readPcap(bytes));
      assert.equal(r.records.length, pkts.length);
      assert.equal(w.packetCount, pkts.length);
      r.records.forEach((rec, i) => {
        assert.equal(rec.tUs, sent[i]!.t);
        assert.equal(rec.origLen, sent[i]!.d.length);
        assert.deepEqual(rec.data, sent[i]!.d);
      });
    }), { numRuns: 60 });
  });
  test('writing continues after bytes()', () => {
    const w = new PcapWriter();
    w.writePacket(1, Uint8Array.of(1));
    const first = w.bytes();
    w.writePacket(2, Uint8Array.of(2));
    assert.equal(must(readPcap(first)).records.length, 1);
    assert.equal(must(readPcap(w.bytes())).records.length, 2);
  });
  test('bad timestamps and snaplen are caller bugs', () => {
    const w = new PcapWriter();
    assert.throws(() => w.writePacket(-1, new Uint8Array(1)), RangeError);
    assert.throws(() => w.writePacket(NaN, new Uint8Array(1)), RangeError);
    assert.throws(() => w.writePacket(2 ** 32 * 1e6, new Uint8Array(1)), RangeError);
    assert.throws(() => new PcapWriter({ snaplen: 0 }), RangeError);
  });
});

describe('pcap: malformed files', () => {
  const kind = (b: Uint8Array): string => { const r = readPcap(b); return r.ok ? 'ok' : r.error.kind; };
  test('truncated global header', () => {
    for (let n = 0; n < 24; n++) assert.equal(kind(GOLDEN_FILE.subarray(0, n)), 'truncated');
  });
  test('every cut inside a record is truncated; cuts at record ends are fine', () => {
    for (let n = 24; n <= GOLDEN_FILE.length; n++) {
      assert.equal(kind(GOLDEN_FILE.subarray(0, n)), n === 24 || n === 43 || n === 59 ? 'ok' : 'truncated', `n=${n}`);
    }
  });
  test('unknown magic (pcapng, garbage) is unsupported; wrong major version is bad-version', () => {
    const ng = GOLDEN_FILE.slice();
    ng.set([0x0a, 0x0d, 0x0d, 0x0a], 0);
    assert.equal(kind(ng), 'unsupported');
    const v = GOLDEN_FILE.slice();
    v[4] = 3;
    assert.equal(kind(v), 'bad-version');
  });
  test('absurd record length is bad-length', () => {
    const b = GOLDEN_FILE.slice();
    b.set([0xff, 0xff, 0xff, 0xff], 32);
    assert.equal(kind(b), 'bad-length');
  });
  test('fuzz: 20k random files never throw', () => {
    const header = GOLDEN_FILE.subarray(0, 24);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (body, withHeader) => {
      const f = withHeader ? new Uint8Array([...header, ...body]) : body;
      const r = readPcap(f);
      if (r.ok) for (const rec of r.value.records) assert.ok(rec.data.length <= f.length);
    }), { numRuns: 20000 });
  });
  test('fuzz: 20k mutations of a valid file never throw', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(GOLDEN_FILE.length - 1), fc.nat(255)), { maxLength: 4 }), fc.nat(GOLDEN_FILE.length),
      (muts, cut) => {
        const b = GOLDEN_FILE.slice(0, cut);
        for (const [i, v] of muts) if (i < b.length) b[i] = v;
        readPcap(b);
      }), { numRuns: 20000 });
  });
});
