import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg } from '../../src/viz/svg.js';
import { NAMES, requestResponse, synLost, finLost, twoConnections, simultaneous, refused } from './traces.js';
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
    assert.ok(words.includes('S seq=0 win=64240'), words.join('\n'));
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

  test('events at the same virtual time are level on both lifelines: simultaneous FINs cross in an X', () => {
    const root = parseXml(renderSvg(simultaneous().events, { names: NAMES }));
    // Both ends change state at the same instants (SYN-SENT … CLOSED): each pair is level.
    const states = all(root, (e) => e.name === 'g' && hasClass('state')(e) && e.attrs['data-t'] !== undefined).map((g) => {
      const c = all(g, (e) => e.name === 'circle')[0]!;
      return { t: Number(g.attrs['data-t']), name: textOf(g), x: Number(c.attrs['cx']), y: Number(c.attrs['cy']) };
    });
    let pairs = 0;
    for (const a of states) {
      for (const b of states) {
        if (a.x < b.x && a.t === b.t && a.name === b.name) {
          assert.equal(a.y, b.y, `${a.name} at t=${a.t}: left y=${a.y}, right y=${b.y}`);
          pairs++;
        }
      }
    }
    const names = new Set(states.map((s) => s.name));
    for (const n of ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'CLOSING', 'TIME-WAIT', 'CLOSED']) assert.ok(names.has(n), n);
    assert.ok(pairs >= 7, `${pairs} level pairs`);
    // The FINs (and the SYNs, SYN-ACKs, final ACKs) leave together and arrive together.
    const segs = arrowsOf(root);
    const byLabel = (w: string) => segs.filter((s) => s.label.startsWith(w + ' '));
    for (const w of ['S', 'SA', 'FA', 'A']) {
      const [l, r] = byLabel(w);
      assert.ok(l !== undefined && r !== undefined, w);
      assert.equal(l.tSend, r.tSend);
      assert.ok((l.x1 - l.x2) * (r.x1 - r.x2) < 0, `${w}: opposite directions`);
      assert.equal(l.y1, r.y1, `${w} leaves at the same height`);
      assert.equal(l.y2, r.y2, `${w} lands at the same height`);
      // The instant's time stands level with what happens in it (here the arrivals that
      // cause the SYN-ACKs, FINs and ACKs, or the SYNs leaving), never with one side only.
      const time = all(root, (e) => hasClass('time')(e) && Number(e.attrs['data-t']) === l.tSend)[0]!;
      const level = segs.filter((s) => (s.tSend === l.tSend && s.y1 === Number(time.attrs['y']) - 4) || (s.tArrive === l.tSend && s.y2 === Number(time.attrs['y']) - 4));
      assert.equal(level.length, 2, `${w}: the ${time.attrs['data-t']} µs time is level with both lifelines`);
    }
  });

  test('time maps to y the same way on both lifelines: a later event is never higher', () => {
    const traces = [requestResponse(), requestResponse({ response: 20000 }), simultaneous(), synLost(), finLost(), twoConnections(), refused()];
    for (const run of traces) {
      const root = parseXml(renderSvg(run.events, { names: NAMES }));
      const pts: Array<{ t: number; y: number; what: string }> = [];
      for (const g of all(root, (e) => e.name === 'g' && hasClass('state')(e) && e.attrs['data-t'] !== undefined)) {
        pts.push({ t: Number(g.attrs['data-t']), y: Number(all(g, (e) => e.name === 'circle')[0]!.attrs['cy']), what: textOf(g) });
      }
      for (const n of all(root, (e) => e.name === 'text' && hasClass('note')(e))) pts.push({ t: Number(n.attrs['data-t']), y: Number(n.attrs['y']) - 4, what: textOf(n) });
      for (const a of arrowsOf(root)) {
        if (a.tSend !== null) pts.push({ t: a.tSend, y: a.y1, what: `${a.label} leaves` });
        if (a.tArrive !== null) pts.push({ t: a.tArrive, y: a.y2, what: `${a.label} arrives` });
      }
      assert.ok(pts.length >= 5);
      pts.sort((p, q) => p.t - q.t || p.y - q.y);
      for (let i = 1; i < pts.length; i++) {
        const p = pts[i - 1]!, q = pts[i]!;
        if (p.t < q.t) assert.ok(p.y < q.y, `${p.what} (t=${p.t}, y=${p.y}) is not above ${q.what} (t=${q.t}, y=${q.y})`);
      }
      // Every arrow slants down by its delay (all are 5 ms here), more only where the rows of
      // crowded instants push its end further: in a plain exchange they are all parallel.
      const drops = arrowsOf(root).filter((a) => a.tSend !== null && a.tArrive !== null).map((a) => a.y2 - a.y1);
      const least = Math.min(...drops);
      assert.ok(least >= 40, `slant ${least}`);
      if (run === traces[0] || run === traces[2] || run === traces[6]) assert.deepEqual(new Set(drops), new Set([least]));
    }
  });

  test('a timer or a user call is level with the segment it sends', () => {
    const root = parseXml(renderSvg(finLost().events, { names: NAMES }));
    const notes = all(root, (e) => e.name === 'text' && hasClass('note')(e) && /RTO timeout|close\(\)/.test(textOf(e)));
    assert.ok(notes.length >= 3);
    const segs = arrowsOf(root);
    const lifelines = [...new Set(segs.map((s) => s.x1))].sort((a, b) => a - b);
    for (const n of notes) {
      const t = Number(n.attrs['data-t']);
      // The segment this side sends in that instant: a FIN after close(), a retransmission.
      const x = n.attrs['text-anchor'] === 'end' ? lifelines[0] : lifelines[1];
      const sent = segs.find((s) => s.tSend === t && s.x1 === x && (textOf(n) === 'RTO timeout' ? /\(retransmit\)/ : /^FA /).test(s.label));
      assert.ok(sent !== undefined, `a segment leaves at ${t} beside "${textOf(n)}"`);
      if (textOf(n) === 'RTO timeout') {
        assert.match(sent.label, /\(retransmit\)/);
        assert.equal(Number(n.attrs['y']) - 4, sent.y1, 'the retransmission leaves beside its timer');
      } else {
        assert.ok(Number(n.attrs['y']) - 4 < sent.y1, 'close() above the FIN it sends');
      }
    }
  });

  test('labels of crossing arrows stay on their sender\'s side of the crossing', () => {
    const root = parseXml(renderSvg(simultaneous().events, { names: NAMES }));
    const segs = arrowsOf(root);
    for (const w of ['S', 'SA', 'FA', 'A']) {
      const [l, r] = segs.filter((s) => s.label.startsWith(w + ' '));
      // Where the two shafts cross.
      const dl = (l!.y2 - l!.y1) / (l!.x2 - l!.x1), dr = (r!.y2 - r!.y1) / (r!.x2 - r!.x1);
      const xc = (r!.y1 - l!.y1 + dl * l!.x1 - dr * r!.x1) / (dl - dr);
      for (const s of [l!, r!]) {
        const [x0, x1] = s.labelSpan;
        if (s.x1 < s.x2) assert.ok(x1 < xc, `${s.label}: ends at ${x1}, the crossing is at ${xc}`);
        else assert.ok(x0 > xc, `${s.label}: starts at ${x0}, the crossing is at ${xc}`);
      }
    }
  });

  test('no label runs across another arrow or another label in the textbook cases', () => {
    for (const run of [requestResponse(), simultaneous(), synLost(), finLost(), twoConnections(), refused()]) {
      const root = parseXml(renderSvg(run.events, { names: NAMES }));
      const segs = arrowsOf(root);
      const boxes = all(root, (e) => e.name === 'text' && (hasClass('label')(e) || hasClass('options')(e))).map(labelBox);
      for (const b of boxes) {
        for (const s of segs) {
          if (s.id === b.seg) continue;
          assert.ok(!crosses(b, s), `"${b.text}" runs across the arrow of "${s.label}"`);
        }
        for (const o of boxes) if (o !== b) assert.ok(!overlapping(b, o), `"${b.text}" overlaps "${o.text}"`);
      }
    }
  });

  test('the window is shown when it changes (or always, on request)', () => {
    const ev = simultaneous().events;
    const words = (svg: string) => all(parseXml(svg), (e) => e.name === 'text' && hasClass('label')(e)).map((l) => unescape(textOf(l)));
    const changed = words(renderSvg(ev, { names: NAMES }));
    assert.ok(changed.includes('S seq=0 win=64240'), 'SYNs always carry their window');
    // Each side's first segment after the handshake shows its (scaled) window; the ACKs that
    // follow, with the same window, do not.
    assert.deepEqual(changed.filter((w) => w.startsWith('FA ')), ['FA seq=1 ack=1 win=65280', 'FA seq=1 ack=1 win=65280']);
    assert.deepEqual(changed.filter((w) => w.startsWith('A ')), ['A seq=2 ack=2', 'A seq=2 ack=2']);
    const every = words(renderSvg(ev, { names: NAMES, windows: 'all' }));
    assert.ok(every.every((w) => / win=\d+/.test(w)), every.join('\n'));
  });

  test('an empty trace is still a valid SVG', () => {
    const root = parseXml(renderSvg([]));
    assert.equal(root.children[0]!.name, 'svg');
  });
});

interface ArrowInfo { id: string; label: string; x1: number; y1: number; x2: number; y2: number; tSend: number | null; tArrive: number | null; labelSpan: [number, number] }

/** Each segment's arrow with its times and the label that names it (data-seg). */
function arrowsOf(root: El): ArrowInfo[] {
  const labels = new Map(all(root, (e) => e.name === 'text' && hasClass('label')(e)).map((l) => [l.attrs['data-seg']!, l]));
  return all(root, (e) => e.name === 'g' && hasClass('segment')(e)).map((g) => {
    const line = all(g, hasClass('arrow'))[0]!;
    const id = g.attrs['data-seg']!;
    const label = labels.get(id);
    assert.ok(label !== undefined, `segment ${id} has a label`);
    const box = labelBox(label);
    const xsOf = box.corners.map((c) => c[0]);
    const num = (k: string) => (g.attrs[k] === undefined ? null : Number(g.attrs[k]));
    return {
      id, label: unescape(textOf(label)),
      x1: Number(line.attrs['x1']), y1: Number(line.attrs['y1']), x2: Number(line.attrs['x2']), y2: Number(line.attrs['y2']),
      tSend: num('data-t-send'), tArrive: num('data-t-arrive'), labelSpan: [Math.min(...xsOf), Math.max(...xsOf)],
    };
  });
}

interface LabelBox { seg: string; text: string; corners: Array<[number, number]> }

/** The glyph box of a label (monospaced: 0.6 em a character), rotated as drawn. */
function labelBox(t: El): LabelBox {
  const text = unescape(textOf(t));
  const fs = Number(t.attrs['font-size']);
  const w = text.length * fs * 0.6;
  const x = Number(t.attrs['x']), y = Number(t.attrs['y']);
  const anchor = t.attrs['text-anchor'] ?? 'start';
  const x0 = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
  const rot = /rotate\(([-\d.]+) ([-\d.]+) ([-\d.]+)\)/.exec(t.attrs['transform'] ?? '');
  const [deg, cx, cy] = rot === null ? [0, 0, 0] : [Number(rot[1]), Number(rot[2]), Number(rot[3])];
  const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
  const turn = (px: number, py: number): [number, number] => [cx + (px - cx) * c - (py - cy) * s, cy + (px - cx) * s + (py - cy) * c];
  const top = y - 0.72 * fs, bottom = y + 0.2 * fs;
  return { seg: t.attrs['data-seg']!, text, corners: [turn(x0, top), turn(x0 + w, top), turn(x0 + w, bottom), turn(x0, bottom)] };
}

/** Separating axes: do two convex polygons (a segment is a two-point one) overlap? */
function polysOverlap(p: Array<[number, number]>, q: Array<[number, number]>): boolean {
  for (const poly of [p, q]) {
    for (let i = 0; i < poly.length; i++) {
      const u = poly[i]!, v = poly[(i + 1) % poly.length]!;
      const nx = v[1] - u[1], ny = u[0] - v[0];
      const proj = (ps: Array<[number, number]>) => ps.map((w) => w[0] * nx + w[1] * ny);
      const a = proj(p), b = proj(q);
      if (Math.max(...a) <= Math.min(...b) || Math.max(...b) <= Math.min(...a)) return false;
    }
  }
  return true;
}
const crosses = (b: LabelBox, s: ArrowInfo) => polysOverlap(b.corners, [[s.x1, s.y1], [s.x2, s.y2]]);
const overlapping = (a: LabelBox, b: LabelBox) => polysOverlap(a.corners, b.corners);
