// The sequence diagram as an SVG figure for slides and textbooks: two lifelines under
// labelled heads, time running down, each segment an arrow slanted by its delay (it leaves
// where the sender sent it and lands where the receiver got it), labelled along its shaft;
// state changes in boxes beside their own lifeline; user calls and timer expiries as small
// italic notes; a segment lost on the link stops short in a red ×; long idle stretches are
// folded into a break marked with their length.
//
// Vertical scale: time maps to y the same way on both lifelines — events of one instant are
// level, so two FINs sent at once cross in a symmetric X. The distinct instants are spaced
// by their time difference (scaled so a typical one-way delay is ~66 px), clamped between
// a minimum that keeps labels apart and a maximum, so both a 5 ms handshake and a 60 s
// TIME-WAIT fit one figure; an instant with several rows on one lifeline (a note above a
// state change, a burst) pushes both lifelines down.
//
// Labels: each goes near its sender's end of the arrow, before any arrow it crosses; the
// layout tries positions along the shaft and above/below it and keeps the one that runs
// across the fewest other arrows and labels. The window is shown when it changes.
//
// Elements carry classes for tests and styling: g.segment (+ .lost, .retransmit) holding
// line.arrow; g.labels holding text.label and text.options (drawn above every arrow, each
// with data-seg naming its g.segment); g.state holding text.state; text.note; text.time;
// g.fold. Virtual times (µs) ride along for tools: data-t on states, notes and times,
// data-t-send / data-t-arrive on segments.
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
  /** 'changed' (default): a label shows win= only when the window differs from the
   *  sender's previous segment on that connection; 'all': on every segment. */
  windows?: 'changed' | 'all';
  /** Words of the figure in another language: notes, "(retransmit)", "… later", "time", the legend. Identity by default. */
  translate?: (english: string) => string;
  /** Replace a segment's label words (e.g. the textbooks' seq=x, ack=x+1, or a "1st handshake" tag). */
  relabel?: (seg: SegmentItem, tokens: string[]) => string[];
  /** A legend under the figure: numbering, lost ×, dashed retransmissions (default true). */
  legend?: boolean;
}

// CJK-capable fallbacks after the Latin faces, so Chinese labels render wherever the figure
// is opened (macOS, Windows, Linux with Noto/WenQuanYi).
const CJK = "'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei'";
const FONT = `'Helvetica Neue', Helvetica, Arial, ${CJK}, sans-serif`;
const MONO = `'DejaVu Sans Mono', Menlo, Consolas, ${CJK}, monospace`;
const INK = '#1f2933';
const MUTED = '#6b7280';
const LIFELINE = '#9aa5b1';
const RIGHTWARD = '#1d4ed8';
const LEFTWARD = '#047857';
const LOST = '#c0392b';
const STATE_FILL = '#f1f5f9';
const STATE_STROKE = '#64748b';

/** Rows of one instant on one lifeline (a burst, a note above a state change). */
const ROW = 17;
/** However crowded, an arrow lands at least this far below where it left. */
const MIN_SLANT = 17;
const MIN_STEP = 22;
const MAX_STEP = 90;
const FOLD_STEP = 46;
const TYPICAL_DELAY_PX = 66;
/** Arrows steeper than this (degrees) get level labels. */
const STEEP = 14;

interface Slot { item: DiagramItem; y: number }

/**
 * One row on one lifeline: at most one thing outside the lifelines (a state box or a note)
 * and one arrow end inside (a segment leaving or arriving) — they do not collide, so a
 * state change sits level with the segment that caused it or that it sends.
 */
interface Row { side: SideIndex; out: DiagramItem | null; end: DiagramItem | null; off: number; y: number; initial?: boolean }
/** The items of one instant: both lifelines' rows hang from the same y. */
interface Group { t: number; items: DiagramItem[]; rows: [Row[], Row[]]; y: number }
interface Layout { rowOf: Map<DiagramItem, Row>; groups: Group[]; folds: Array<{ y0: number; y1: number; dt: number }>; end: number }

export function renderSvg(events: ReadonlyArray<TraceEvent & { lost?: boolean }>, opts: SvgOptions = {}): string {
  const d = buildDiagram(events, opts);
  const tr = opts.translate ?? ((x: string) => x);
  if (opts.translate !== undefined || opts.relabel !== undefined) {
    for (const it of d.items) {
      if (it.kind === 'note') it.text = tr(it.text);
      else if (it.kind === 'segment') {
        const words = it.tokens.map((w) => (w === '(retransmit)' || w === '(old duplicate)' ? tr(w) : w));
        it.tokens = opts.relabel !== undefined ? opts.relabel(it, words) : words;
      }
    }
  }
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
  const top = headTop + headH + 22;
  const initialY = top;
  const hasInitial = d.sides.some((s) => s.initial !== null);
  // A segment with no arrival (lost, or the receiver not traced) drops by this much:
  // where a typical segment would have been by then.
  const drop = typical > 0 ? TYPICAL_DELAY_PX : 30;
  const lay = layoutRows(items, k, foldGap, drop, initialY, [d.sides[0].initial !== null, d.sides[1].initial !== null]);
  const { folds, groups } = lay;
  const bottom = lay.end + 34;
  const legend = opts.legend === false ? [] : legendItems(d, items, tr);
  const H = bottom + 30 + (legend.length > 0 ? 26 : 0);

  // Where each segment leaves and lands.
  const sendY = new Map<SegmentItem, number>();
  const arriveY = new Map<SegmentItem, number>();
  for (const [it, r] of lay.rowOf) {
    if (it.kind === 'segment') sendY.set(it, r.y);
    else if (it.kind === 'arrive') arriveY.set(it.seg, r.y);
  }
  const slots: Slot[] = items.map((it) => ({ item: it, y: lay.rowOf.get(it)?.y ?? NaN }));

  // ---- arrows, then their labels (placed knowing every arrow)
  const arrows: Arrow[] = [];
  const shown = labelTokens(items, opts.windows === 'all');
  for (const it of items) {
    if (it.kind !== 'segment') continue;
    const tokens = shown.get(it) ?? it.tokens;
    arrows.push(arrowOf(arrows.length, it, sendY.get(it) ?? null, arriveY.get(it) ?? null, xs, drop, multi ? [it.conn.tag, ...tokens] : tokens));
  }
  markLevel(arrows);
  const labels = placeLabels(arrows);

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
    o.push(`<text x="${(xL + xR) / 2}" y="${f((fo.y0 + fo.y1) / 2 + 4)}" text-anchor="middle" font-size="12" font-style="italic" fill="${MUTED}">${esc(tr('{t} later').replace('{t}', formatTime(fo.dt)))}</text>`);
    o.push('</g>');
  }
  o.push(`<text class="time-head" x="${timeX}" y="${top - 8}" text-anchor="end" font-size="11" fill="${MUTED}">${esc(tr('time'))}</text>`);

  // ---- initial states
  if (hasInitial) for (const s of d.sides) if (s.initial !== null) o.push(stateBox(s.initial, xs[s.index], s.index, initialY));

  // ---- items
  // One time per instant, level with the row where both lifelines' events of that instant
  // line up.
  for (const g of groups) {
    o.push(`<text class="time" data-t="${g.t}" x="${timeX}" y="${f(g.y + 4)}" text-anchor="end" font-size="11" font-family="${esc(MONO)}" fill="${MUTED}">${esc(formatTime(g.t))}</text>`);
  }
  for (const s of slots) {
    const it = s.item;
    if (it.kind === 'state') {
      o.push(stateBox(multi ? `${it.to} ${it.conn.tag}` : it.to, xs[it.side], it.side, s.y, it.t));
    } else if (it.kind === 'note') {
      // Outside the lifelines, where no arrow runs.
      const x = it.side === 0 ? xL - 12 : xR + 12;
      const text = multi ? `${it.conn.tag} ${it.text}` : it.text;
      o.push(`<text class="note ${it.what}" data-t="${it.t}" x="${x}" y="${f(s.y + 4)}" text-anchor="${it.side === 0 ? 'end' : 'start'}" font-size="11" font-style="italic" fill="${MUTED}">${esc(text)}</text>`);
    }
  }
  for (const a of arrows) o.push(arrowSvg(a));
  o.push('<g class="labels">');
  for (const l of labels) o.push(l);
  o.push('</g>');
  if (legend.length > 0) o.push(legendSvg(legend, timeX, bottom + 30));
  o.push('</svg>');
  return o.join('\n') + '\n';
}

/** Which lifeline an item is drawn on, and whether beside it (state, note) or at an arrow end. */
function rowSlot(it: DiagramItem): { side: SideIndex; out: boolean } | null {
  switch (it.kind) {
    case 'state': case 'note': return { side: it.side, out: true };
    case 'segment': return it.tSend === null ? null : { side: it.from, out: false }; // sender not traced
    case 'arrive': return { side: it.seg.to, out: false };
  }
}

/** Distance between two consecutive rows on one lifeline: state boxes need more than text. */
function rowStep(a: Row | null, b: Row): number {
  if (a === null) return 12;
  if (a.initial === true) return 26;
  if (a.out?.kind === 'state' && b.out?.kind === 'state') return 23;
  if (a.out?.kind === 'state' && b.out !== null) return 20;
  return ROW;
}

/**
 * Time runs down the same way on both lifelines: the items of one instant form a group whose
 * rows on each lifeline hang from one y (the group's), so events at equal times are level —
 * two FINs sent at once leave at the same height and cross in an X. Within a group each
 * lifeline stacks its own rows (a note above the state change it causes, a burst of
 * segments); the anchor row, level with the instant, is the first that is not only a note.
 * Between groups y advances with time (clamped), and further when a lifeline's rows of an
 * earlier instant or an arrow's slant need the room — always for both lifelines at once.
 */
function layoutRows(items: DiagramItem[], k: number, foldGap: number, drop: number, initialY: number, initial: [boolean, boolean]): Layout {
  const groups: Group[] = [];
  for (const it of items) {
    const g = groups[groups.length - 1];
    if (g !== undefined && g.t === it.t) g.items.push(it);
    else groups.push({ t: it.t, items: [it], rows: [[], []], y: 0 });
  }
  const rowOf = new Map<DiagramItem, Row>();
  const folds: Layout['folds'] = [];
  // The last row drawn on each lifeline (the initial state counts as one).
  const pseudo = (side: SideIndex): Row => ({ side, out: null, end: null, off: 0, y: initialY, initial: true });
  const last: [Row | null, Row | null] = [initial[0] ? pseudo(0) : null, initial[1] ? pseudo(1) : null];
  const lastY: [number, number] = [initialY - 4, initialY - 4];
  let low = initialY;
  let clearUntil = 0; // keep open-ended arrows out of folds and off the bottom
  let prev: Group | null = null;
  for (const g of groups) {
    // Pack each lifeline's rows: an item shares the previous row when its place there is
    // free. A state change or a drop belongs to what came before it (the arrival that caused
    // it), a user call or a timer to what comes after (the segment it sends): those start a
    // row of their own.
    for (const it of g.items) {
      const slot = rowSlot(it);
      if (slot === null) continue;
      const rows = g.rows[slot.side];
      let r = rows[rows.length - 1];
      const leads = it.kind === 'note' && it.what !== 'drop';
      if (r === undefined || (slot.out ? r.out !== null || (leads && r.end !== null) : r.end !== null)) {
        r = { side: slot.side, out: null, end: null, off: 0, y: 0 };
        rows.push(r);
      }
      if (slot.out) r.out = it; else r.end = it;
      rowOf.set(it, r);
    }
    for (const rows of g.rows) {
      if (rows.length === 0) continue;
      let a = rows.findIndex((r) => r.end !== null || r.out?.kind === 'state');
      if (a < 0) a = 0;
      for (let i = a + 1; i < rows.length; i++) rows[i]!.off = rows[i - 1]!.off + rowStep(rows[i - 1]!, rows[i]!);
      for (let i = a - 1; i >= 0; i--) rows[i]!.off = rows[i + 1]!.off - rowStep(rows[i]!, rows[i + 1]!);
    }
    // A segment that arrives in the instant it left (no link delay) still slants down.
    for (const it of g.items) {
      if (it.kind !== 'arrive' || it.seg.tSend !== g.t) continue;
      const dep = rowOf.get(it.seg), arr = rowOf.get(it);
      if (dep === undefined || arr === undefined) continue;
      const need = dep.off + MIN_SLANT - arr.off;
      if (need <= 0) continue;
      const rows = g.rows[arr.side];
      for (let i = rows.indexOf(arr); i < rows.length; i++) rows[i]!.off += need;
    }

    let y = -Infinity;
    if (prev !== null) {
      const dt = g.t - prev.t;
      if (foldGap > 0 && dt >= foldGap) {
        const y0 = Math.max(low, clearUntil);
        folds.push({ y0: y0 + 8, y1: y0 + FOLD_STEP - 8, dt });
        last[0] = last[1] = null;
        lastY[0] = lastY[1] = y0 + FOLD_STEP - 8;
      } else y = prev.y + Math.min(MAX_STEP, Math.max(MIN_STEP, k * dt));
    }
    for (const rows of g.rows) {
      const r0 = rows[0];
      if (r0 === undefined) continue;
      // Below this lifeline's last row, and below every row of earlier instants on either
      // lifeline: a y is one time on both.
      y = Math.max(y, lastY[r0.side] + rowStep(last[r0.side], r0) - r0.off, low + ROW - r0.off);
    }
    // An arrow drops by its delay on the time scale, even when it left low in its instant's
    // rows (after a note and a state change): same delay, same slant.
    for (const it of g.items) {
      if (it.kind !== 'arrive' || it.seg.tSend === null || it.seg.tSend === g.t) continue;
      const dep = rowOf.get(it.seg), arr = rowOf.get(it);
      if (dep === undefined || arr === undefined) continue;
      y = Math.max(y, dep.y + Math.max(MIN_SLANT, Math.min(MAX_STEP, k * (g.t - it.seg.tSend))) - arr.off);
    }
    if (y === -Infinity) y = low + MIN_STEP;
    g.y = y;
    for (const rows of g.rows) {
      for (const r of rows) r.y = y + r.off;
      const rl = rows[rows.length - 1];
      if (rl !== undefined) { last[rl.side] = rl; lastY[rl.side] = rl.y; low = Math.max(low, rl.y); }
    }
    for (const it of g.items) {
      const r = rowOf.get(it);
      if (it.kind === 'segment' && r !== undefined && (it.lost || it.tArrive === null)) clearUntil = Math.max(clearUntil, r.y + drop + 10);
    }
    prev = g;
  }
  return { rowOf, groups, folds, end: Math.max(low, clearUntil) };
}

/** A segment's arrow as drawn: from (xa, ya) at the sender to (xe, ye) (the × if lost). */
interface Arrow {
  seg: SegmentItem;
  id: number;
  xa: number; ya: number; xe: number; ye: number;
  /** Header fields (flags first), and the options line or null. */
  main: string;
  opt: string | null;
  /** Labels level in the row where it leaves (steep arrows, bursts), not along the shaft. */
  level: boolean;
}

/** The label words without win= where the sender's window did not change (except SYNs). */
function labelTokens(items: DiagramItem[], all: boolean): Map<SegmentItem, string[]> {
  const out = new Map<SegmentItem, string[]>();
  const lastWin = new Map<string, number>();
  for (const it of items) {
    if (it.kind !== 'segment') continue;
    const key = `${it.conn.key}|${it.from}`;
    const prev = lastWin.get(key);
    lastWin.set(key, it.win);
    if (all || prev !== it.win || it.flags.includes('S')) continue;
    out.set(it, it.tokens.filter((t) => !t.startsWith('win=')));
  }
  return out;
}

function arrowOf(id: number, seg: SegmentItem, y0: number | null, y1: number | null, xs: [number, number], drop: number, tokens: string[]): Arrow {
  const xa = xs[seg.from], xb = xs[seg.to];
  // An end that was not seen (sender or receiver not traced) gets the typical slant.
  const ya = y0 ?? (y1 ?? 0) - drop;
  let ye = y1 ?? ya + drop;
  if (ye < ya) ye = ya;
  let xe = xb;
  if (seg.lost) {
    // Dropped on the link: the arrow stops two thirds of the way, in a ×.
    xe = xa + (xb - xa) * 0.66;
    ye = ya + drop * 0.66;
  }
  const main = tokens.filter((t) => t !== seg.options).join(' ');
  return { seg, id, xa, ya, xe, ye, main, opt: seg.options, level: false };
}

const steepness = (a: Arrow) => (Math.atan2(Math.abs(a.ye - a.ya), Math.abs(a.xe - a.xa)) * 180) / Math.PI;

/**
 * Steep arrows get level labels in the row where they leave: rotated text at a steep angle
 * is hard to read. A burst (segments sent in one instant from one side) is labelled one way
 * throughout, like a table of the burst, when any of its arrows is steep or it has three or
 * more: their rows are too close for labels along the shafts.
 */
function markLevel(arrows: Arrow[]): void {
  for (let i = 0; i < arrows.length;) {
    const a = arrows[i]!;
    let j = i + 1;
    while (j < arrows.length && arrows[j]!.seg.t === a.seg.t) j++;
    for (const from of [0, 1] as const) {
      const burst = arrows.slice(i, j).filter((b) => b.seg.from === from && b.seg.tSend !== null);
      const steep = burst.length >= 3 || burst.some((b) => steepness(b) > STEEP);
      for (const b of burst) b.level = steep;
    }
    for (const b of arrows.slice(i, j)) if (steepness(b) > STEEP) b.level = true;
    i = j;
  }
}

function arrowSvg(a: Arrow): string {
  const seg = a.seg;
  const color = seg.lost ? LOST : seg.from === 0 ? RIGHTWARD : LEFTWARD;
  const cls = ['segment', seg.lost ? 'lost' : '', seg.retransmit ? 'retransmit' : '', seg.injected ? 'injected' : ''].filter(Boolean).join(' ');
  const dash = seg.injected ? ' stroke-dasharray="2 3"' : seg.retransmit ? ' stroke-dasharray="6 3"' : '';
  const marker = seg.lost ? '' : ` marker-end="url(#${seg.from === 0 ? 'head-r' : 'head-l'})"`;
  const times = (seg.tSend !== null ? ` data-t-send="${seg.tSend}"` : '') + (seg.tArrive !== null ? ` data-t-arrive="${seg.tArrive}"` : '');
  let s = `<g class="${cls}" data-seg="${a.id}" data-ev="${seg.ev}"${times}><line class="arrow" x1="${f(a.xa)}" y1="${f(a.ya)}" x2="${f(a.xe)}" y2="${f(a.ye)}" stroke="${color}" stroke-width="1.5"${dash}${marker}/>`;
  if (seg.lost) {
    const x = a.xe, y = a.ye;
    s += `<path class="cross" d="M${f(x - 6)},${f(y - 6)} L${f(x + 6)},${f(y + 6)} M${f(x - 6)},${f(y + 6)} L${f(x + 6)},${f(y - 6)}" stroke="${LOST}" stroke-width="2.2" stroke-linecap="round"/>`;
  }
  return s + '</g>';
}

// ---- label placement

type Pt = readonly [number, number];
type Poly = Pt[];
interface Candidate { texts: string[]; boxes: Poly[]; penalty: number }

// Costs of a label position: crossing another arrow (labels are drawn above the arrows in a
// white halo, so a crossed label stays readable, but it is not clean), overlapping another
// label (never readable), each step away from the sender's end. In a burst's table the
// rows are too close for any position to avoid every arrow: there crossing costs little,
// so the table stays aligned.
const LINE_COST = 10;
const TABLE_LINE_COST = 3;
const LABEL_COST = 40;
const STEP_COST = 0.8;
const MAIN_FS = 11.5;
const OPT_FS = 10;
const HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
/** Where a label may start, measured along the shaft from the sender's end. */
const ALONG = [16, 34, 56, 84, 120, 160, 210, 270, 340, 420];
/** Baselines across the shaft (negative: above) for the main line and the options line. */
const SIDES: Array<{ main: number; opt: number; penalty: number }> = [
  { main: -5, opt: 12, penalty: 0 }, // fields above, options below: the usual
  { main: -5, opt: -17, penalty: 2.5 }, // both above
  { main: 14, opt: 26, penalty: 4 }, // both below
];

/**
 * Places every label greedily in time order: of its candidates (positions along the shaft,
 * sides of it; level rows for steep arrows), the first one that runs across no other arrow
 * and no label already placed, else the one that crosses the fewest.
 */
function placeLabels(arrows: Arrow[]): string[] {
  const obstacles: Array<{ id: number; poly: Poly }> = [];
  for (const a of arrows) {
    obstacles.push({ id: a.id, poly: [[a.xa, a.ya], [a.xe, a.ye]] });
    if (a.seg.lost) obstacles.push({ id: a.id, poly: rect(a.xe - 7, a.ye - 7, a.xe + 7, a.ye + 7) });
  }
  const placed: Poly[] = [];
  const out: string[] = [];
  for (const a of arrows) {
    let best: Candidate | null = null;
    let bestCost = Infinity;
    for (const c of a.level ? levelCandidates(a) : shaftCandidates(a)) {
      if (c.penalty >= bestCost) continue;
      let cost = c.penalty;
      for (const box of c.boxes) {
        for (const o of obstacles) if (o.id !== a.id && overlaps(box, o.poly)) cost += a.level ? TABLE_LINE_COST : LINE_COST;
        for (const p of placed) if (overlaps(box, p)) cost += LABEL_COST;
      }
      if (cost < bestCost) { best = c; bestCost = cost; }
    }
    if (best === null) continue;
    placed.push(...best.boxes);
    out.push(...best.texts);
  }
  return out;
}

function shaftCandidates(a: Arrow): Candidate[] {
  const seg = a.seg;
  const senderLeft = a.xa <= a.xe;
  const [lx, ly, rx, ry] = senderLeft ? [a.xa, a.ya, a.xe, a.ye] : [a.xe, a.ye, a.xa, a.ya];
  const span = Math.hypot(rx - lx, ry - ly);
  if (span < 1) return levelCandidates(a);
  const ux = (rx - lx) / span, uy = (ry - ly) / span;
  const angle = (Math.atan2(uy, ux) * 180) / Math.PI;
  // Short shafts (a lost segment) shrink their text rather than run past the arrow.
  const fit = (text: string, fs: number) => Math.min(fs, (fs * (span - 28)) / Math.max(1, textW(text, fs, false, true)));
  const mainFs = fit(a.main, MAIN_FS), mainW = textW(a.main, mainFs, false, true);
  const optFs = a.opt === null ? 0 : fit(a.opt, OPT_FS), optW = a.opt === null ? 0 : textW(a.opt, optFs, false, true);
  const widest = Math.max(mainW, optW);
  // Labels stay on their sender's half of the arrow, so each reads as its sender's.
  const starts = ALONG.filter((s, i) => i === 0 || (s + widest <= span - 14 && s + widest / 2 <= span / 2));
  // A lost segment's short shaft: its label is centred first.
  if (seg.lost) starts.unshift(Math.max(0, (span - widest) / 2));
  const fill = seg.lost ? LOST : INK;
  const out: Candidate[] = [];
  starts.forEach((s, i) => {
    for (const side of SIDES) {
      const texts: string[] = [];
      const boxes: Poly[] = [];
      const put = (text: string, spans: string, fs: number, w: number, dy: number, cls: string, color: string) => {
        // Aligned at the sender's end: left-aligned on a rightward arrow, right on a leftward.
        const start = senderLeft ? s : span - s - w;
        const c = start + w / 2;
        const mx = lx + ux * c, my = ly + uy * c;
        texts.push(`<text class="${cls}" data-seg="${a.id}" x="${f(mx)}" y="${f(my + dy)}" transform="rotate(${f(angle)} ${f(mx)} ${f(my)})" text-anchor="middle" font-size="${f(fs)}" font-family="${esc(MONO)}" fill="${color}" ${HALO}>${spans}</text>`);
        const at = (al: number, pe: number): Pt => [lx + ux * al - uy * pe, ly + uy * al + ux * pe];
        const a0 = start - 2, a1 = start + w + 2, p0 = dy - 0.76 * fs, p1 = dy + 0.22 * fs;
        boxes.push([at(a0, p0), at(a1, p0), at(a1, p1), at(a0, p1)]);
      };
      put(a.main, labelSpans(seg, a.main), mainFs, mainW, side.main, 'label', fill);
      if (a.opt !== null) put(a.opt, esc(a.opt), optFs, optW, side.opt, 'options', seg.lost ? LOST : MUTED);
      out.push({ texts, boxes, penalty: side.penalty + i * STEP_COST });
    }
  });
  return out;
}

/** Level labels in the row where the arrow leaves, beside the sender's lifeline. */
function levelCandidates(a: Arrow): Candidate[] {
  const seg = a.seg;
  const right = a.xa <= a.xe;
  const mainFs = MAIN_FS - 1, optFs = OPT_FS - 0.5;
  const mainW = textW(a.main, mainFs, false, true), optW = a.opt === null ? 0 : textW(a.opt, optFs, false, true);
  const fill = seg.lost ? LOST : INK;
  const out: Candidate[] = [];
  [12, 30].forEach((dx, i) => {
    for (const side of [{ main: -4, opt: 10, penalty: 0 }, { main: -4, opt: -15, penalty: 2.5 }]) {
      const texts: string[] = [];
      const boxes: Poly[] = [];
      const put = (spans: string, fs: number, w: number, dy: number, cls: string, color: string) => {
        const x = right ? a.xa + dx : a.xa - dx;
        texts.push(`<text class="${cls}" data-seg="${a.id}" x="${f(x)}" y="${f(a.ya + dy)}" text-anchor="${right ? 'start' : 'end'}" font-size="${f(fs)}" font-family="${esc(MONO)}" fill="${color}" ${HALO}>${spans}</text>`);
        const x0 = right ? x : x - w;
        boxes.push(rect(x0 - 2, a.ya + dy - 0.76 * fs, x0 + w + 2, a.ya + dy + 0.22 * fs));
      };
      put(labelSpans(seg, a.main), mainFs, mainW, side.main, 'label', fill);
      if (a.opt !== null) put(esc(a.opt), optFs, optW, side.opt, 'options', seg.lost ? LOST : MUTED);
      out.push({ texts, boxes, penalty: side.penalty + i * STEP_COST });
    }
  });
  return out;
}

function rect(x0: number, y0: number, x1: number, y1: number): Poly {
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/** Separating-axis test for convex polygons (a segment is a two-point polygon). */
function overlaps(p: Poly, q: Poly): boolean {
  for (const poly of [p, q]) {
    for (let i = 0; i < poly.length; i++) {
      const u = poly[i]!, v = poly[(i + 1) % poly.length]!;
      const nx = v[1] - u[1], ny = u[0] - v[0];
      if (nx === 0 && ny === 0) continue;
      let pMin = Infinity, pMax = -Infinity, qMin = Infinity, qMax = -Infinity;
      for (const w of p) { const d = w[0] * nx + w[1] * ny; pMin = Math.min(pMin, d); pMax = Math.max(pMax, d); }
      for (const w of q) { const d = w[0] * nx + w[1] * ny; qMin = Math.min(qMin, d); qMax = Math.max(qMax, d); }
      if (pMax <= qMin || qMax <= pMin) return false;
    }
  }
  return true;
}

/** Flags in bold, the rest plain. */
function labelSpans(seg: SegmentItem, text: string): string {
  const i = text.indexOf(seg.flags);
  if (i < 0) return esc(text);
  return esc(text.slice(0, i)) + `<tspan font-weight="700">${esc(seg.flags)}</tspan>` + esc(text.slice(i + seg.flags.length));
}

function stateBox(name: string, x: number, side: SideIndex, y: number, t?: number): string {
  const w = textW(name, 11.5, true) + 14;
  const h = 19;
  const bx = side === 0 ? x - 12 - w : x + 12;
  const tick = side === 0 ? line(x - 12, y, x, y, STATE_STROKE, 1.2) : line(x, y, x + 12, y, STATE_STROKE, 1.2);
  return `<g class="state"${t === undefined ? '' : ` data-t="${t}"`}>${tick}<rect x="${f(bx)}" y="${f(y - h / 2)}" width="${f(w)}" height="${h}" rx="4" fill="${STATE_FILL}" stroke="${STATE_STROKE}" stroke-width="1"/>`
    + `<text class="state" x="${f(bx + w / 2)}" y="${f(y + 4)}" text-anchor="middle" font-size="11.5" font-weight="700" fill="${INK}">${esc(name)}</text>`
    + `<circle cx="${x}" cy="${f(y)}" r="2.6" fill="${STATE_STROKE}"/></g>`;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string, w: number, cls?: string): string {
  return `<line${cls ? ` class="${cls}"` : ''} x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${color}" stroke-width="${w}"/>`;
}

/** Rough text width for layout (no font metrics without a browser); CJK characters are square. */
function textW(s: string, size: number, bold: boolean, mono = false): number {
  let n = 0, wide = 0;
  for (const ch of s) { n++; if (/[\u2e80-\u9fff\uff00-\uffef]/.test(ch)) wide++; }
  return (n - wide) * size * (mono ? 0.61 : bold ? 0.64 : 0.56) + wide * size * 1.02;
}

type LegendItem = { kind: 'text' | 'lost' | 'rtx' | 'dup'; text: string };

/** What a reader needs to read the figure: the numbering, and the marks actually used. */
function legendItems(d: ReturnType<typeof buildDiagram>, items: DiagramItem[], tr: (s: string) => string): LegendItem[] {
  const out: LegendItem[] = [{ kind: 'text', text: tr(d.absolute ? 'seq/ack: absolute numbers' : 'seq/ack relative to each side\'s ISN') }];
  if (items.some((it) => it.kind === 'segment' && it.lost)) out.push({ kind: 'lost', text: tr('lost on the link') });
  if (items.some((it) => it.kind === 'segment' && it.retransmit)) out.push({ kind: 'rtx', text: tr('retransmission') });
  if (items.some((it) => it.kind === 'segment' && it.injected)) out.push({ kind: 'dup', text: tr('old duplicate, put on the wire by the scenario') });
  return out;
}

function legendSvg(items: LegendItem[], x0: number, y: number): string {
  const o: string[] = ['<g class="legend">'];
  let x = x0 - 40;
  for (const it of items) {
    if (it.kind === 'lost') {
      o.push(`<path d="M${f(x + 2)},${f(y - 8)} L${f(x + 12)},${f(y + 2)} M${f(x + 2)},${f(y + 2)} L${f(x + 12)},${f(y - 8)}" stroke="${LOST}" stroke-width="2" stroke-linecap="round"/>`);
      x += 18;
    } else if (it.kind === 'rtx' || it.kind === 'dup') {
      o.push(`<line x1="${f(x)}" y1="${f(y - 3)}" x2="${f(x + 26)}" y2="${f(y - 3)}" stroke="${INK}" stroke-width="1.5" stroke-dasharray="${it.kind === 'dup' ? '2 3' : '6 3'}"/>`);
      x += 32;
    }
    o.push(`<text x="${f(x)}" y="${f(y + 1)}" font-size="11" fill="${MUTED}">${esc(it.text)}</text>`);
    x += textW(it.text, 11, false) + 24;
  }
  o.push('</g>');
  return o.join('');
}

function f(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
