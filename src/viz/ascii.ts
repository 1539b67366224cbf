// The sequence diagram for terminals: one lifeline per end, time running down the left,
// each segment an arrow labelled with flags, seq/ack (relative to each side's ISN unless
// `absolute`), window, length and the main options; each end's state changes written beside
// its own lifeline; user calls, timer expiries and drops as notes along the lifeline; a
// segment lost on the link ends in ×; long idle stretches folded into one ':' row.
//
//              client |                                                            | server
//    198.18.0.1:40000 |                                                            | 198.18.0.2:80
//   time       CLOSED |                                                            | LISTEN
//      0     SYN-SENT | connect()                                                  |
//                     |----- S seq=0 win=65535 <mss 1460,sackOK,TS,wscale 7> ----->|
//    5ms              |<-- SA seq=0 ack=1 win=65535 <mss 1460,sackOK,TS,wscale 7> -| SYN-RECEIVED
//   10ms  ESTABLISHED |------------ PA seq=1 ack=1 win=131072 len=27 ------------->|
//
// Rows are events in time order; an arrow is drawn in the row of its sending, and the
// receiver's state change shows in the row of its arrival. A row shows its time once.
// Only ASCII is used, except × for a lost segment.
import type { ConnId, TraceEvent } from '../trace/events.js';
import { buildDiagram, formatTime, type Diagram, type DiagramItem, type SegmentItem, type SideIndex } from '../trace/diagram.js';

export interface AsciiOptions {
  /** Show one connection only ("198.18.0.1:40000-198.18.0.2:80", either orientation). */
  conn?: string | ConnId;
  /** Absolute sequence numbers (default: relative to each side's ISN, like tcpdump). */
  absolute?: boolean;
  /** Dotted IPv4 address → lifeline label, e.g. { '198.18.0.1': 'client' }. */
  names?: Record<string, string>;
  /** Widest line in columns (default 100; about 72 is the least that works); long labels wrap below their arrow. */
  width?: number;
  /** Show user calls (default true). */
  calls?: boolean;
  /** Show timer expiries (default true). */
  timers?: boolean;
  /** Show drops reported by the stacks (default true). */
  drops?: boolean;
  /** Fold idle stretches at least this long into one row (µs, default 500 ms; 0 = never). */
  foldGap?: number;
  /** Print the legend line under the diagram (default true). */
  legend?: boolean;
  /** Annotations (notes, "(retransmit)", the legend) in another language; see viz/i18n.ts. */
  translate?: (english: string) => string;
}

const LOST = '\u00d7';
const MIN_GAP = 22;

interface Row {
  t: number;
  labels: [string, string];
  mid: { kind: 'arrow'; seg: SegmentItem; tokens: string[] } | { kind: 'note'; side: SideIndex; text: string } | null;
  closed: boolean;
}

export function renderAscii(events: ReadonlyArray<TraceEvent & { lost?: boolean }>, opts: AsciiOptions = {}): string {
  const d = buildDiagram(events, opts);
  const tr = opts.translate;
  if (tr !== undefined) {
    for (const it of d.items) {
      if (it.kind === 'note') it.text = tr(it.text);
      else if (it.kind === 'segment') it.tokens = it.tokens.map((w) => (w === '(retransmit)' || w === '(old duplicate)' ? tr(w) : w));
    }
  }
  return layout(d, opts);
}

function stateLabel(to: string, tag: string, side: SideIndex): string {
  if (tag === '') return to;
  return side === 0 ? `${tag} ${to}` : `${to} ${tag}`;
}

function wanted(it: DiagramItem, o: AsciiOptions): boolean {
  if (it.kind === 'arrive') return false;
  if (it.kind !== 'note') return true;
  if (it.what === 'user') return o.calls !== false;
  if (it.what === 'timer') return o.timers !== false;
  return o.drops !== false;
}

function layout(d: Diagram, o: AsciiOptions): string {
  const width = Math.max(60, o.width ?? 100);
  const foldGap = o.foldGap ?? 500_000;
  const multi = d.conns.length > 1;

  // ---- rows: a row holds at most one label per side and one thing between the lifelines.
  const rows: Row[] = [];
  let cur: Row | null = null;
  const open = (t: number): Row => {
    if (cur !== null && !cur.closed && cur.t === t) return cur;
    cur = { t, labels: ['', ''], mid: null, closed: false };
    rows.push(cur);
    return cur;
  };
  for (const it of d.items) {
    if (!wanted(it, o)) continue;
    if (it.kind === 'state') {
      const text = stateLabel(it.to, multi ? it.conn.tag : '', it.side);
      let r = open(it.t);
      if (r.labels[it.side] !== '') { r.closed = true; r = open(it.t); }
      r.labels[it.side] = text;
    } else if (it.kind === 'note') {
      let r = open(it.t);
      if (r.mid !== null) { r.closed = true; r = open(it.t); }
      r.mid = { kind: 'note', side: it.side, text: multi ? `${it.conn.tag} ${it.text}` : it.text };
    } else if (it.kind === 'segment') {
      let r = open(it.t);
      if (r.mid !== null) { r.closed = true; r = open(it.t); }
      const tokens = multi ? [it.conn.tag, ...it.tokens] : it.tokens;
      r.mid = { kind: 'arrow', seg: it, tokens };
      r.closed = true;
    }
  }

  // ---- column widths.
  const times = rows.map((r) => formatTime(r.t));
  const timeW = Math.max(4, ...times.map((s) => s.length));
  const [s0, s1] = d.sides;
  // Header lines (name, address) may reach into the time column, which is blank there.
  const leftW = Math.max(8, (s0.initial ?? '').length, ...rows.map((r) => r.labels[0].length),
    (s0.name ?? '').length - timeW - 2, s0.endpoint.length - timeW - 2);
  const rightW = Math.max(8, (s1.initial ?? '').length, (s1.name ?? '').length, s1.endpoint.length, ...rows.map((r) => r.labels[1].length));
  const fixed = timeW + 2 + leftW + 1 + 1 + 1 + 1 + rightW;
  let longest = 0;
  for (const r of rows) {
    if (r.mid === null) continue;
    longest = Math.max(longest, r.mid.kind === 'arrow' ? r.mid.tokens.join(' ').length + (r.mid.seg.lost ? 10 : 6) : r.mid.text.length + 2);
  }
  const gap = Math.max(MIN_GAP, Math.min(Math.max(longest, 40), width - fixed));

  // ---- drawing.
  const out: string[] = [];
  const line = (time: string, l: string, mid: string, r: string, ll: string = '|', rl: string = '|') => {
    const left = time === '' ? l.padStart(timeW + 2 + leftW) : time.padStart(timeW) + '  ' + l.padStart(leftW);
    out.push((left + ' ' + ll + mid + rl + ' ' + r).replace(/\s+$/, ''));
  };
  const blank = ' '.repeat(gap);
  if (s0.name !== null || s1.name !== null) line('', s0.name ?? '', blank, s1.name ?? '');
  line('', s0.endpoint, blank, s1.endpoint);
  line('time', s0.initial ?? '', blank, s1.initial ?? '');

  let prevT: number | null = null;
  rows.forEach((r, i) => {
    if (prevT !== null && foldGap > 0 && r.t - prevT >= foldGap) {
      line('', '', center(`~ ${formatTime(r.t - prevT)} ~`, gap), '', ':', ':');
    }
    prevT = r.t;
    // A time is printed once; the rows under it happened at the same instant.
    const time = i > 0 && rows[i - 1]!.t === r.t ? '' : times[i]!;
    if (r.mid === null) { line(time, r.labels[0], blank, r.labels[1]); return; }
    if (r.mid.kind === 'note') {
      const text = clip(r.mid.text, gap - 2);
      // Wide (CJK) characters take two columns: pad by display width.
      const pad = ' '.repeat(Math.max(0, gap - 1 - cols(text)));
      const mid = r.mid.side === 0 ? ' ' + text + pad : pad + text + ' ';
      line(time, r.labels[0], mid, r.labels[1]);
      return;
    }
    const seg = r.mid.seg;
    const avail = gap - (seg.lost ? 10 : 6);
    const [first, ...rest] = wrap(r.mid.tokens, avail, gap - 2);
    line(time, r.labels[0], arrow(first!, gap, seg.from === 0, seg.lost), r.labels[1]);
    for (const more of rest) line('', '', center(more, gap), '');
  });
  if (o.legend !== false) {
    const notes: string[] = [];
    const tr = o.translate ?? ((x: string) => x);
    notes.push(tr(d.absolute ? 'seq/ack absolute' : "seq/ack relative to each side's ISN"));
    notes.push(tr('win in bytes (scaled)'));
    if (d.items.some((it) => it.kind === 'segment' && it.lost)) notes.push(tr(`${LOST} lost on the link`));
    out.push('');
    const indent = ' '.repeat(timeW + 2);
    let l = '';
    for (const n of notes) {
      if (l !== '' && indent.length + l.length + 2 + n.length > width) { out.push(indent + l + ';'); l = n; } else l = l === '' ? n : `${l}; ${n}`;
    }
    out.push(indent + l);
  }
  return out.join('\n') + '\n';
}

/** An arrow `gap` columns wide between the lifelines, with `label` centred on its shaft. */
function arrow(label: string, gap: number, rightward: boolean, lost: boolean): string {
  // A lost segment stops short of the far lifeline: "|---- label ----×    |".
  const len = lost ? gap - 4 : gap;
  const shaft = len - 1; // one column for the head (> < or ×)
  const text = ` ${label} `;
  const free = Math.max(0, shaft - text.length);
  const a = Math.floor(free / 2), b = free - a;
  const body = rightward ? '-'.repeat(Math.max(1, a)) + text + '-'.repeat(Math.max(1, b)) : '-'.repeat(Math.max(1, b)) + text + '-'.repeat(Math.max(1, a));
  const fit = body.length > shaft ? body.slice(0, shaft) : body;
  if (rightward) return fit + (lost ? LOST + '    ' : '>');
  return (lost ? '    ' + LOST : '<') + fit;
}

function center(s: string, w: number): string {
  const t = clip(s, w);
  const a = Math.floor((w - t.length) / 2);
  return ' '.repeat(a) + t + ' '.repeat(w - t.length - a);
}

function clip(s: string, w: number): string {
  if (cols(s) <= w) return s;
  let out = '';
  for (const ch of s) { if (cols(out + ch) > w - 1) break; out += ch; }
  return out + '~';
}

/** Greedy wrap of label tokens; an option list "<a,b,c>" too long for a line breaks after a comma. */
function wrap(tokens: string[], first: number, rest: number): string[] {
  const BREAK = '\n';
  const words: string[] = [];
  for (const tok of tokens) {
    if (tok.length > rest && tok.includes(',')) {
      // An option list longer than a line starts on a line of its own.
      const parts = tok.split(',');
      words.push(BREAK);
      parts.forEach((p, i) => words.push(i < parts.length - 1 ? p + ',' : p));
    } else {
      words.push(tok);
    }
  }
  const lines: string[] = [];
  let cur = '';
  for (const wd of words) {
    if (wd === BREAK) { if (cur !== '') lines.push(cur); cur = ''; continue; }
    const sep = cur === '' || cur.endsWith(',') ? '' : ' ';
    const w = lines.length === 0 ? first : rest;
    if (cur !== '' && cur.length + sep.length + wd.length > w) { lines.push(cur); cur = wd; } else cur += sep + wd;
  }
  if (cur !== '') lines.push(cur);
  return lines.length > 0 ? lines : [''];
}

/** Columns a string takes in a terminal: CJK and full-width characters count two. */
function cols(s: string): number {
  let n = 0;
  for (const ch of s) n += /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return n;
}
