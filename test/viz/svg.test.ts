import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg } from '../../src/viz/svg.js';
import { NAMES, requestResponse, synLost, finLost, twoConnections } from './traces.js';
import type { RecordedEvent } from '../../src/trace/recorder.js';

interface El { name: string; attrs: Record<string, string>; children: El[]; text: string }

/** A small XML parser: enough to check that the SVG is well formed and to walk it. */
function parseXml(src: string): El {
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  const re = /<!--[\s\S]*?-->|<\/([A-Za-z][\w:-]*)\s*>|<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(src)) !== null) {
    assert.equal(m.index, pos, `unparsable XML at ${pos}: ${src.slice(pos, pos + 40)}`);
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) {
      assert.equal(top.name, m[1], `</${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of m[3]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        assert.ok(!(a[1]! in attrs), `duplicate attribute ${a[1]}`);
        attrs[a[1]!] = a[2]!;
      }
      const el: El = { name: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (m[4] !== '/') stack.push(el);
    } else if (m[5] !== undefined) {
      assert.doesNotMatch(m[5], /&(?!amp;|lt;|gt;|quot;|#\d+;)/, 'raw & in text');
      top.text += m[5];
      top.children.push({ name: '#text', attrs: {}, children: [], text: m[5] });
    }
  }
  assert.equal(pos, src.length);
  assert.equal(stack.length, 1, `unclosed <${stack[stack.length - 1]!.name}>`);
  return root;
}

function all(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}
const hasClass = (c: string) => (e: El) => (e.attrs['class'] ?? '').split(' ').includes(c);
const textOf = (e: El): string => (e.name === '#text' ? e.text : e.children.map(textOf).join(''));
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

function outSegments(ev: RecordedEvent[]) {
  return ev.filter((e) => e.type === 'segment' && e.dir === 'out');
}

describe('SVG sequence diagrams', () => {
  test('well formed, one arrow and one label per segment, states in boxes', () => {
    const ev = requestResponse().events;
    const svg = renderSvg(ev, { names: NAMES, title: 'Request and response' });
    const doc = parseXml(svg);
    const root = doc.children[0]!;
    assert.equal(root.name, 'svg');
    assert.equal(root.attrs['xmlns'], 'http://www.w3.org/2000/svg');
    const segs = all(root, hasClass('segment'));
    assert.equal(segs.length, outSegments(ev).length);
    const arrows = all(root, (e) => e.name === 'line' && hasClass('arrow')(e));
    const labels = all(root, (e) => e.name === 'text' && hasClass('label')(e));
    assert.equal(arrows.length, segs.length);
    assert.equal(labels.length, segs.length);
    // Labels carry the same words as the ASCII diagram: header fields above the shaft,
    // options (SYN and SYN-ACK here) below it.
    const words = labels.map((l) => unescape(textOf(l)));
    assert.ok(words.includes('S seq=0 win=65535'), words.join('\n'));
    assert.ok(words.some((w) => w.startsWith('SA seq=0 ack=1 ')));
    const options = all(root, (e) => e.name === 'text' && hasClass('options')(e)).map((l) => unescape(textOf(l)));
    assert.deepEqual(options, ['<mss 1460,sackOK,TS,wscale 7>', '<mss 1460,sackOK,TS,wscale 7>']);
    // States: the initial ones plus every transition.
    const states = all(root, (e) => e.name === 'g' && hasClass('state')(e));
    const transitions = ev.filter((e) => e.type === 'state').length;
    assert.equal(states.length, transitions + 2);
    const names = states.map((s) => textOf(s));
    for (const n of ['LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'TIME-WAIT', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']) assert.ok(names.includes(n), n);
    // The title and both heads.
    assert.equal(all(root, hasClass('title')).length, 1);
    const heads = all(root, hasClass('head')).map(textOf).join(' ');
    assert.match(heads.replace(/\s+/g, " "), /client 198\.18\.0\.1:40000 .*server 198\.18\.0\.2:80/);
  });

  test('arrows slant by the delay: they land below where they leave, and point the right way', () => {
    const svg = renderSvg(requestResponse().events, { names: NAMES });
    const arrows = all(parseXml(svg), (e) => e.name === 'line' && hasClass('arrow')(e));
    const xs = new Set<number>();
    for (const a of arrows) {
      const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((k) => Number(a.attrs[k]));
      assert.ok(y2! > y1!, `arrow ${x1},${y1} → ${x2},${y2} should go down`);
      assert.notEqual(x1, x2);
      xs.add(x1!);
      assert.match(a.attrs['marker-end'] ?? '', /url\(#head-[rl]\)/);
    }
    assert.equal(xs.size, 2, 'arrows leave from the two lifelines');
  });

  test('a lost segment stops short in a ×, retransmissions are dashed', () => {
    const ev = synLost().events;
    const root = parseXml(renderSvg(ev, { names: NAMES }));
    const lost = all(root, (e) => e.name === 'g' && hasClass('lost')(e));
    assert.equal(lost.length, ev.filter((e) => e.type === 'segment' && e.lost).length);
    assert.equal(lost.length, 1);
    assert.equal(all(lost[0]!, hasClass('cross')).length, 1);
    const line = all(lost[0]!, hasClass('arrow'))[0]!;
    assert.equal(line.attrs['marker-end'], undefined);
    const rex = all(root, (e) => e.name === 'g' && hasClass('retransmit')(e));
    assert.equal(rex.length, ev.filter((e) => e.type === 'segment' && e.dir === 'out' && e.retransmit).length);
    for (const r of rex) assert.ok(all(r, hasClass('arrow'))[0]!.attrs['stroke-dasharray']);
  });

  test('idle stretches are folded and labelled with their length', () => {
    const root = parseXml(renderSvg(finLost().events, { names: NAMES }));
    const folds = all(root, hasClass('fold'));
    assert.equal(folds.length, 1);
    assert.match(textOf(folds[0]!), /59\.995s later/);
    assert.equal(all(parseXml(renderSvg(finLost().events, { foldGap: 0 })), hasClass('fold')).length, 0);
  });

  test('filtering to one connection', () => {
    const ev = twoConnections().events;
    const root = parseXml(renderSvg(ev, { conn: '198.18.0.1:40001-198.18.0.2:80' }));
    const n = ev.filter((e) => e.type === 'segment' && e.dir === 'out' && (e.conn.localPort === 40001 || e.conn.remotePort === 40001)).length;
    assert.equal(all(root, hasClass('segment')).length, n);
  });

  test('an empty trace is still a valid SVG', () => {
    const root = parseXml(renderSvg([]));
    assert.equal(root.children[0]!.name, 'svg');
  });
});
