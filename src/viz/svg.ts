// The sequence diagram as an SVG figure for slides and textbooks: two lifelines under
// labelled heads, time running down, each segment an arrow slanted by its delay (it leaves
// where the sender sent it and lands where the receiver got it), labelled along its shaft;
// state changes in boxes beside their own lifeline; user calls and timer expiries as small
// italic notes; a segment lost on the link stops short in a red ×; long idle stretches are
// folded into a break marked with their length.
//
// Vertical scale: the distinct instants of the trace are spaced by their time difference
// (scaled so a typical one-way delay is ~40 px), clamped between a minimum that keeps labels
// apart and a maximum, so both a 5 ms handshake and a 60 s TIME-WAIT fit one figure.
//
// Elements carry classes for tests and styling: g.segment (+ .lost, .retransmit) holding
// line.arrow and text.label; g.state holding text.state; text.note; text.time; g.fold.
import type { ConnId, TraceEvent } from '../trace/events.js';
import { buildDiagram, formatTime, type DiagramItem, type SegmentItem, type SideIndex } from '../trace/diagram.js';

export interface SvgOptions {
  conn?: string | ConnId;
  absolute?: boolean;
  names?: Record<string, string>;
  /** Figure width in px (default 920). */
  width?: number;
  /** A title above the figure. */
  title?: string;
  calls?: boolean;
  timers?: boolean;
  drops?: boolean;
  /** Fold idle stretches at least this long (µs, default 500 ms; 0 = never). */
  foldGap?: number;
}

const FONT = "'Helvetica Neue', Helvetica, Arial, sans-serif";
const MONO = "'DejaVu Sans Mono', Menlo, Consolas, monospace";
const INK = '#1f2933';
const MUTED = '#6b7280';
const LIFELINE = '#9aa5b1';
const RIGHTWARD = '#1d4ed8';
const LEFTWARD = '#047857';
const LOST = '#c0392b';
const STATE_FILL = '#f1f5f9';
const STATE_STROKE = '#64748b';

const SAME_INSTANT = 17;
const ARRIVE_SAME_INSTANT = 17; // as departures, so the arrows of a burst stay parallel
const MIN_STEP = 22;
const MAX_STEP = 70;
const FOLD_STEP = 46;
const TYPICAL_DELAY_PX = 44;
/** Arrows steeper than this (degrees) get level labels. */
const STEEP = 14;

interface Slot { item: DiagramItem; y: number }

export function renderSvg(events: ReadonlyArray<TraceEvent & { lost?: boolean }>, opts: SvgOptions = {}): string {
  const d = buildDiagram(events, opts);
  const multi = d.conns.length > 1;
  const W = Math.max(480, opts.width ?? 920); // the figure grows when its content needs it
  const foldGap = opts.foldGap ?? 500_000;
  const want = (it: DiagramItem): boolean => {
    if (it.kind !== 'note') return true;
    if (it.what === 'user') return opts.calls !== false;
    if (it.what === 'timer') return opts.timers !== false;
    return opts.drops !== false;
  };
  const items = d.items.filter(want);

  // ---- horizontal layout: each side's margin fits its longest state box or note.
  const timeX = 58;
  const sideText: [number, number] = [0, 0];
  for (const s of d.sides) if (s.initial !== null) sideText[s.index] = textW(s.initial, 11.5, true) + 14;
  for (const it of items) {
    if (it.kind === 'state') sideText[it.side] = Math.max(sideText[it.side], textW(multi ? `${it.to} ${it.conn.tag}` : it.to, 11.5, true) + 14);
    else if (it.kind === 'note') sideText[it.side] = Math.max(sideText[it.side], textW(multi ? `${it.conn.tag} ${it.text}` : it.text, 11, false));
  }
  const sideL = Math.max(110, sideText[0] + 22);
  const sideR = Math.max(110, sideText[1] + 22);
  const xL = timeX + 12 + sideL;
  // The gap between the lifelines is what is left of the width, but never so narrow that
  // the labels must shrink much: then the figure grows instead.
  let longest = 0;
  for (const it of items) if (it.kind === 'segment') longest = Math.max(longest, textW((multi ? [it.conn.tag, ...it.tokens] : it.tokens).join(' '), 11.5, false, true));
  const gap = Math.max(W - xL - sideR - 10, Math.min(longest + 60, 620), 300);
  const xR = xL + gap;
  const width = Math.ceil(xR + sideR + 10);
  const xs: [number, number] = [xL, xR];

  // ---- vertical layout
  const delays: number[] = [];
  for (const it of items) if (it.kind === 'segment' && it.tSend !== null && it.tArrive !== null && it.tArrive > it.tSend) delays.push(it.tArrive - it.tSend);
  delays.sort((a, b) => a - b);
  const typical = delays.length > 0 ? delays[Math.floor(delays.length / 2)]! : 0;
  const k = typical > 0 ? TYPICAL_DELAY_PX / typical : 0;

  const titleH = opts.title ? 34 : 0;
  const headTop = 16 + titleH;
  const headH = 44;
  let y = headTop + headH + 22;
  const top = y;
  const slots: Slot[] = [];
  const folds: Array<{ y0: number; y1: number; dt: number }> = [];
  const initialY = y;
  const hasInitial = d.sides.some((s) => s.initial !== null);
  y += hasInitial ? 26 : 14;
  // A segment with no arrival (lost, or the receiver not traced) drops by this much:
  // where a typical segment would have been by then.
  const drop = typical > 0 ? TYPICAL_DELAY_PX : 30;
  let clearUntil = 0; // keep open-ended arrows out of folds and off the bottom
  let prev: DiagramItem | null = null;
  for (const it of items) {
    if (prev !== null) {
      const dt = it.t - prev.t;
      if (dt === 0) y += it.kind === 'arrive' ? ARRIVE_SAME_INSTANT : SAME_INSTANT;
      else if (foldGap > 0 && dt >= foldGap) {
        y = Math.max(y, clearUntil);
        folds.push({ y0: y + 8, y1: y + FOLD_STEP - 8, dt });
        y += FOLD_STEP;
      } else y += Math.min(MAX_STEP, Math.max(MIN_STEP, k * dt));
    }
    slots.push({ item: it, y });
    if (it.kind === 'segment' && (it.lost || it.tArrive === null)) clearUntil = Math.max(clearUntil, y + drop + 10);
    prev = it;
  }
  y = Math.max(y, clearUntil);
  const bottom = y + 34;
  const H = bottom + 30;

  // Where each segment leaves and lands.
  const sendY = new Map<SegmentItem, number>();
  const arriveY = new Map<SegmentItem, number>();
  for (const s of slots) {
    if (s.item.kind === 'segment') sendY.set(s.item, s.y);
    else if (s.item.kind === 'arrive') arriveY.set(s.item.seg, s.y);
  }

  // Segments sent in the same instant from the same side as another one: a burst.
  const burst = new Set<SegmentItem>();
  for (let i = 0; i < slots.length; i++) {
    const a = slots[i]!.item;
    if (a.kind !== 'segment') continue;
    for (let j = i + 1; j < slots.length && slots[j]!.item.t === a.t; j++) {
      const b = slots[j]!.item;
      if (b.kind === 'segment' && b.from === a.from) { burst.add(a); burst.add(b); }
    }
  }

  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(H)}" viewBox="0 0 ${width} ${Math.ceil(H)}" font-family="${esc(FONT)}">`);
  o.push('<defs>');
  for (const [id, color] of [['head-r', RIGHTWARD], ['head-l', LEFTWARD], ['head-x', LOST]] as const) {
    o.push(`<marker id="${id}" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="${color}"/></marker>`);
  }
  o.push('</defs>');
  o.push(`<rect class="background" x="0" y="0" width="${width}" height="${Math.ceil(H)}" fill="#ffffff"/>`);
  if (opts.title) o.push(`<text class="title" x="${(xL + xR) / 2}" y="${16 + 18}" text-anchor="middle" font-size="17" font-weight="600" fill="${INK}">${esc(opts.title)}</text>`);

  // ---- heads and lifelines
  for (const s of d.sides) {
    const x = xs[s.index];
    const name = s.name ?? s.endpoint;
    const sub = s.name !== null ? s.endpoint : '';
    const bw = Math.max(textW(name, 14, true), textW(sub, 11.5, false)) + 28;
    o.push(`<g class="head">`);
    o.push(`<rect x="${f(x - bw / 2)}" y="${headTop}" width="${f(bw)}" height="${headH}" rx="6" fill="#ffffff" stroke="${INK}" stroke-width="1.2"/>`);
    o.push(`<text x="${x}" y="${headTop + (sub ? 19 : 27)}" text-anchor="middle" font-size="14" font-weight="700" fill="${INK}">${esc(name)}</text>`);
    if (sub) o.push(`<text x="${x}" y="${headTop + 35}" text-anchor="middle" font-size="11.5" font-family="${esc(MONO)}" fill="${MUTED}">${esc(sub)}</text>`);
    o.push('</g>');
    // The lifeline, broken where idle time is folded.
    let y0 = headTop + headH;
    for (const fo of folds) {
      o.push(line(x, y0, x, fo.y0, LIFELINE, 1.4, 'lifeline'));
      y0 = fo.y1;
    }
    o.push(line(x, y0, x, bottom, LIFELINE, 1.4, 'lifeline'));
    o.push(`<rect x="${x - 5}" y="${bottom}" width="10" height="3" fill="${LIFELINE}"/>`);
  }
  for (const fo of folds) {
    o.push(`<g class="fold">`);
    for (const x of xs) {
      o.push(line(x - 7, fo.y0 + 3, x + 7, fo.y0 - 3, LIFELINE, 1.4));
      o.push(line(x - 7, fo.y1 + 3, x + 7, fo.y1 - 3, LIFELINE, 1.4));
    }
    o.push(`<text x="${(xL + xR) / 2}" y="${f((fo.y0 + fo.y1) / 2 + 4)}" text-anchor="middle" font-size="12" font-style="italic" fill="${MUTED}">${esc(formatTime(fo.dt))} later</text>`);
    o.push('</g>');
  }
  o.push(`<text class="time-head" x="${timeX}" y="${top - 8}" text-anchor="end" font-size="11" fill="${MUTED}">time</text>`);

  // ---- initial states
  if (hasInitial) for (const s of d.sides) if (s.initial !== null) o.push(stateBox(s.initial, xs[s.index], s.index, initialY));

  // ---- items
  let lastTime: number | null = null;
  for (const s of slots) {
    const it = s.item;
    if (it.kind !== 'arrive' && it.t !== lastTime) {
      o.push(`<text class="time" x="${timeX}" y="${f(s.y + 4)}" text-anchor="end" font-size="11" font-family="${esc(MONO)}" fill="${MUTED}">${esc(formatTime(it.t))}</text>`);
      lastTime = it.t;
    }
    if (it.kind === 'state') {
      o.push(stateBox(multi ? `${it.to} ${it.conn.tag}` : it.to, xs[it.side], it.side, s.y));
    } else if (it.kind === 'note') {
      // Outside the lifelines, where no arrow runs.
      const x = it.side === 0 ? xL - 12 : xR + 12;
      const text = multi ? `${it.conn.tag} ${it.text}` : it.text;
      o.push(`<text class="note ${it.what}" x="${x}" y="${f(s.y + 4)}" text-anchor="${it.side === 0 ? 'end' : 'start'}" font-size="11" font-style="italic" fill="${MUTED}">${esc(text)}</text>`);
    } else if (it.kind === 'segment') {
      o.push(segment(it, sendY.get(it) ?? null, arriveY.get(it) ?? null, xs, multi, drop, burst.has(it)));
    }
  }
  o.push('</svg>');
  return o.join('\n') + '\n';
}

function segment(seg: SegmentItem, y0: number | null, y1: number | null, xs: [number, number], multi: boolean, drop: number, steepAround: boolean): string {
  const xa = xs[seg.from], xb = xs[seg.to];
  // An end that was not seen (sender or receiver not traced) gets the typical slant.
  const ya = y0 ?? (y1 ?? 0) - drop;
  let yb = y1 ?? ya + drop;
  if (yb < ya) yb = ya;
  let xEnd = xb;
  if (seg.lost) {
    // Dropped on the link: the arrow stops two thirds of the way, in a ×.
    xEnd = xa + (xb - xa) * 0.66;
    yb = ya + drop * 0.66;
  }
  const color = seg.lost ? LOST : seg.from === 0 ? RIGHTWARD : LEFTWARD;
  const cls = ['segment', seg.lost ? 'lost' : '', seg.retransmit ? 'retransmit' : ''].filter(Boolean).join(' ');
  const out: string[] = [`<g class="${cls}">`];
  const dash = seg.retransmit ? ' stroke-dasharray="6 3"' : '';
  const marker = seg.lost ? '' : ` marker-end="url(#${seg.from === 0 ? 'head-r' : 'head-l'})"`;
  out.push(`<line class="arrow" x1="${f(xa)}" y1="${f(ya)}" x2="${f(xEnd)}" y2="${f(yb)}" stroke="${color}" stroke-width="1.5"${dash}${marker}/>`);
  if (seg.lost) {
    out.push(`<path class="cross" d="M${f(xEnd - 6)},${f(yb - 6)} L${f(xEnd + 6)},${f(yb + 6)} M${f(xEnd - 6)},${f(yb + 6)} L${f(xEnd + 6)},${f(yb - 6)}" stroke="${LOST}" stroke-width="2.2" stroke-linecap="round"/>`);
  }
  // The label rides on the shaft, reading left to right, starting near the sender: the
  // header fields above the shaft, the options (if any) in smaller type below it. Two arrows
  // that cross (a SYN each way, data against an ACK) so keep their labels apart, each at
  // the end where its own arrow is. A white halo keeps a crossing line off the letters.
  const [lx0, ly0, lx1, ly1] = xa < xEnd ? [xa, ya, xEnd, yb] : [xEnd, yb, xa, ya];
  const angle = (Math.atan2(ly1 - ly0, lx1 - lx0) * 180) / Math.PI;
  const tokens = multi ? [seg.conn.tag, ...seg.tokens] : seg.tokens;
  const main = tokens.filter((t) => t !== seg.options).join(' ');
  const span = Math.hypot(lx1 - lx0, ly1 - ly0);
  const fit = (text: string, fs: number) => Math.min(fs, (fs * (span - 28)) / Math.max(1, textW(text, fs, false, true)));
  const halo = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
  const place = (text: string, fs: number, dy: number, cls: string, fill: string, spans: string) => {
    const size = fit(text, fs);
    const tw = textW(text, size, false, true);
    // Centred on the shaft when it is short (lost), else 16 px in from the sender.
    const along = seg.lost ? span / 2 : Math.min(span / 2, 16 + tw / 2);
    const u = span > 0 ? along / span : 0;
    const mx = xa + (xEnd - xa) * u, my = ya + (yb - ya) * u;
    if (Math.abs(angle) <= STEEP && !(seg.lost && steepAround)) {
      out.push(`<text class="${cls}" x="${f(mx)}" y="${f(my + dy)}" transform="rotate(${f(angle)} ${f(mx)} ${f(my)})" text-anchor="middle" font-size="${f(size)}" font-family="${esc(MONO)}" fill="${fill}" ${halo}>${spans}</text>`);
    } else {
      // A steep arrow (a burst: many segments in flight at once) keeps its label level, in
      // the row where it leaves, like a table of the burst; rotated labels would collide.
      // A segment lost inside a burst does the same.
      const x = seg.from === 0 ? xa + 12 : xa - 12;
      out.push(`<text class="${cls}" x="${f(x)}" y="${f(ya + (dy < 0 ? -4 : 11))}" text-anchor="${seg.from === 0 ? 'start' : 'end'}" font-size="${f(Math.min(size, fs - 1))}" font-family="${esc(MONO)}" fill="${fill}" ${halo}>${spans}</text>`);
    }
  };
  place(main, 11.5, -5, 'label', seg.lost ? LOST : INK, labelSpans(seg, main));
  if (seg.options !== null) place(seg.options, 10, 12, 'options', seg.lost ? LOST : MUTED, esc(seg.options));
  out.push('</g>');
  return out.join('');
}

/** Flags in bold, the rest plain. */
function labelSpans(seg: SegmentItem, text: string): string {
  const i = text.indexOf(seg.flags);
  if (i < 0) return esc(text);
  return esc(text.slice(0, i)) + `<tspan font-weight="700">${esc(seg.flags)}</tspan>` + esc(text.slice(i + seg.flags.length));
}

function stateBox(name: string, x: number, side: SideIndex, y: number): string {
  const w = textW(name, 11.5, true) + 14;
  const h = 19;
  const bx = side === 0 ? x - 12 - w : x + 12;
  const tick = side === 0 ? line(x - 12, y, x, y, STATE_STROKE, 1.2) : line(x, y, x + 12, y, STATE_STROKE, 1.2);
  return `<g class="state">${tick}<rect x="${f(bx)}" y="${f(y - h / 2)}" width="${f(w)}" height="${h}" rx="4" fill="${STATE_FILL}" stroke="${STATE_STROKE}" stroke-width="1"/>`
    + `<text class="state" x="${f(bx + w / 2)}" y="${f(y + 4)}" text-anchor="middle" font-size="11.5" font-weight="700" fill="${INK}">${esc(name)}</text>`
    + `<circle cx="${x}" cy="${f(y)}" r="2.6" fill="${STATE_STROKE}"/></g>`;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string, w: number, cls?: string): string {
  return `<line${cls ? ` class="${cls}"` : ''} x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${color}" stroke-width="${w}"/>`;
}

/** Rough text width for layout (no font metrics without a browser). */
function textW(s: string, size: number, bold: boolean, mono = false): number {
  return s.length * size * (mono ? 0.61 : bold ? 0.64 : 0.56);
}

function f(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
