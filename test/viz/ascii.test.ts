import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderAscii } from '../../src/viz/ascii.js';
import { assertGolden } from './golden.js';
import { NAMES, requestResponse, synLost, finLost, refused, simultaneous, twoConnections } from './traces.js';

const LOST = '\u00d7';

function widest(s: string): number {
  return Math.max(...s.split('\n').map((l) => [...l].length));
}

describe('ASCII sequence diagrams (golden)', () => {
  test('handshake, request, response, four-way close, TIME-WAIT', () => {
    const out = renderAscii(requestResponse().events, { names: NAMES });
    assertGolden('request-response', out);
    assert.ok(widest(out) <= 100);
    assert.match(out, /SYN-SENT \| connect\(\)/);
    assert.match(out, /\|-+ S seq=0 win=64240 <mss 1460,sackOK,TS,wscale 7> -+>\|/);
    assert.match(out, /\| SYN-RECEIVED/);
    assert.match(out, /TIME-WAIT/);
    assert.match(out, /~ 59\.995s ~/);
  });

  test('lost SYN: × on the link, SYN timeout, retransmission', () => {
    const out = renderAscii(synLost().events, { names: NAMES });
    assertGolden('syn-lost', out);
    const lostLines = out.split('\n').filter((l) => l.includes(LOST + '    |'));
    assert.equal(lostLines.length, 1);
    assert.match(lostLines[0]!, /S seq=0/);
    assert.match(out, /SYN timeout/);
    assert.match(out, /\(retransmit\)/);
  });

  test('lost FIN-ACK from the server: arrow ends in × on the right-to-left side', () => {
    const out = renderAscii(finLost().events, { names: NAMES });
    assertGolden('fin-lost', out);
    assert.match(out, new RegExp(`\\|    ${LOST}-+ FA seq=121 ack=29`));
  });

  test('connection refused: RST answers the SYN', () => {
    const out = renderAscii(refused().events, { names: NAMES });
    assertGolden('refused', out);
    assert.match(out, /<-+ RA seq=0 ack=1 win=0 -+\|/);
    assert.match(out, /drop: tcp: no socket/);
  });

  test('simultaneous open and simultaneous close (CLOSING)', () => {
    const out = renderAscii(simultaneous().events, { names: NAMES });
    assertGolden('simultaneous', out);
    assert.equal(out.match(/CLOSING/g)?.length, 2);
  });

  test('two connections are told apart by their port tags', () => {
    const out = renderAscii(twoConnections().events, { names: NAMES });
    assertGolden('two-connections', out);
    assert.match(out, /:40001 SYN-SENT/);
    assert.match(out, /:40002 SYN-SENT/);
  });

  test('filtering to one connection, either orientation', () => {
    const ev = twoConnections().events;
    const a = renderAscii(ev, { names: NAMES, conn: '198.18.0.1:40002-198.18.0.2:80' });
    const b = renderAscii(ev, { names: NAMES, conn: '198.18.0.2:80-198.18.0.1:40002' });
    assert.equal(a, b);
    assertGolden('filtered', a);
    assert.ok(!a.includes('40001'));
    assert.match(a, /198\.18\.0\.1:40002/);
  });

  test('absolute sequence numbers on request', () => {
    const run = requestResponse();
    const out = renderAscii(run.events, { names: NAMES, absolute: true });
    assertGolden('absolute', out);
    const syn = run.events.find((e) => e.type === 'segment' && e.dir === 'out' && e.flags === 0x02)!;
    assert.ok(syn.type === 'segment');
    assert.ok(out.includes(`S seq=${syn.seq >>> 0} `));
    assert.match(out, /seq\/ack absolute/);
  });

  test('an 80-column terminal: labels wrap under their arrow, no line is wider', () => {
    const out = renderAscii(synLost().events, { names: NAMES, width: 80 });
    assertGolden('syn-lost-80', out);
    assert.ok(widest(out) <= 80, `widest line ${widest(out)}`);
  });

  test('without names the lifelines are headed by the endpoints', () => {
    const out = renderAscii(refused().events);
    assert.match(out.split('\n')[0]!, /198\.18\.0\.1:40001 \|/);
    assert.match(out.split('\n')[0]!, /\| 198\.18\.0\.2:81/);
  });

  test('an empty trace renders without throwing', () => {
    assert.equal(typeof renderAscii([]), 'string');
  });

  test('a bad connection name is a TypeError', () => {
    assert.throws(() => renderAscii([], { conn: 'nonsense' }), TypeError);
  });
});

describe('ASCII diagrams of random lossy runs (property)', () => {
  test('one arrow row per segment sent, × per lost one, no line wider than asked', async () => {
    const fc = (await import('fast-check')).default;
    // An arrow row: |--- … -->|, |<-- … ---|, |--- … ×    | or |    ×--- … ---|.
    const arrowRow = /\|(?:-[^|]*>|<[^|]*-|-[^|]*\u00d7 {4}| {4}\u00d7[^|]*-)\|/;
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.integer({ min: 72, max: 120 }), (seed, loss, width) => {
      const ev = requestResponse({ seed, loss, response: 3000 }).events;
      const out = renderAscii(ev, { names: NAMES, width });
      const rows = out.split('\n').filter((l) => arrowRow.test(l));
      const sent = ev.filter((e) => e.type === 'segment' && e.dir === 'out');
      assert.equal(rows.length, sent.length);
      assert.equal(rows.filter((l) => l.includes(LOST)).length, sent.filter((e) => e.type === 'segment' && e.lost).length);
      assert.ok(widest(out) <= width, `widest ${widest(out)} > ${width}`);
    }), { numRuns: 25 });
  });
});
