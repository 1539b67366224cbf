// Labels in the textbooks' terms: the ISNs as x (client) and y (server), the close as
// u (first FIN's seq), v (the peer's seq when it acknowledges that FIN), w (the peer's FIN's
// seq), and the segments tagged 第一次/第二次/第三次握手 and 第一~四次挥手 ("handshake 1/3",
// "close 1/4" in English). Works on the diagram model, for the SVG renderer's `relabel`.
//
// The textbook picture and real TCP differ in ways the labels keep visible: the FIN carries
// ACK (flags "FA", ack=…), a close can take three segments (the second and third combined
// into one FIN+ACK), and retransmissions repeat a tag.
import type { Diagram, SegmentItem } from '../trace/diagram.js';

export interface TextbookLabeller {
  /** Replace seq=/ack= values by symbols and prefix the tag, for SvgOptions.relabel. */
  relabel(seg: SegmentItem, tokens: string[]): string[];
  /** The ISNs the symbols stand for (absolute), null when the run has none. */
  x: number | null;
  y: number | null;
}

const SYN = 'S', ACKF = 'A', FIN = 'F';
const has = (s: SegmentItem, f: string): boolean => s.flags.includes(f);

const TAGS = {
  en: { h: ['handshake 1/3', 'handshake 2/3', 'handshake 3/3'], c: ['close 1/4', 'close 2/4', 'close 3/4', 'close 4/4'], c23: 'close 2+3/4 (combined)' },
  zh: { h: ['第一次握手', '第二次握手', '第三次握手'], c: ['第一次挥手', '第二次挥手', '第三次挥手', '第四次挥手'], c23: '第二、三次挥手（合并）' },
} as const;

export function textbookLabeller(d: Diagram, lang: 'en' | 'zh'): TextbookLabeller {
  const T = TAGS[lang];
  const segs = d.items.filter((it): it is SegmentItem => it.kind === 'segment');
  const conn = d.conns[0]?.key;
  const mine = segs.filter((s) => s.conn.key === conn);
  const tag = new Map<SegmentItem, string>();
  const sym = new Map<number, string>();
  const closeSym = new Map<number, string>();
  let firstFinAt = Infinity;

  const syn = mine.find((s) => has(s, SYN) && !has(s, ACKF));
  const x = syn?.rawSeq ?? null;
  const client = syn?.from ?? 0;
  const peerSyn = mine.find((s) => s.from !== client && has(s, SYN));
  const y = peerSyn?.rawSeq ?? null;
  if (x !== null) { sym.set(x, 'x'); sym.set((x + 1) >>> 0, 'x+1'); }
  if (y !== null) { sym.set(y, 'y'); sym.set((y + 1) >>> 0, 'y+1'); }
  for (const s of mine) {
    if (x !== null && s.from === client && has(s, SYN) && !has(s, ACKF) && s.rawSeq === x) tag.set(s, T.h[0]);
    else if (y !== null && s.from !== client && has(s, SYN) && has(s, ACKF) && s.rawSeq === y) tag.set(s, T.h[1]);
  }
  const third = y === null ? undefined : mine.find((s) => s.from === client && !has(s, SYN) && s.rawAck === ((y + 1) >>> 0) && [...tag.values()].includes(T.h[1]));
  if (third !== undefined) tag.set(third, T.h[2]);

  // The close: whoever sends the first FIN closes first.
  const fin1 = mine.find((s) => has(s, FIN));
  if (fin1 !== undefined) {
    firstFinAt = mine.indexOf(fin1);
    const a = fin1.from;
    const u = fin1.rawSeq;
    closeSym.set(u, 'u'); closeSym.set((u + 1) >>> 0, 'u+1');
    for (const s of mine) if (s.from === a && has(s, FIN) && s.rawSeq === u) tag.set(s, T.c[0]);
    const ackOfFin = mine.find((s, i) => i > firstFinAt && s.from !== a && s.rawAck === ((u + 1) >>> 0));
    const finB = mine.find((s, i) => i > firstFinAt && s.from !== a && has(s, FIN));
    if (ackOfFin !== undefined) {
      if (ackOfFin === finB) {
        closeSym.set(ackOfFin.rawSeq, 'w');
        closeSym.set((ackOfFin.rawSeq + 1) >>> 0, 'w+1');
        for (const s of mine) if (s.from !== a && has(s, FIN) && s.rawSeq === ackOfFin.rawSeq) tag.set(s, T.c23);
      } else {
        closeSym.set(ackOfFin.rawSeq, 'v');
        tag.set(ackOfFin, T.c[1]);
      }
    }
    if (finB !== undefined && finB !== ackOfFin) {
      if (!closeSym.has(finB.rawSeq)) closeSym.set(finB.rawSeq, 'w');
      closeSym.set((finB.rawSeq + 1) >>> 0, 'w+1');
      for (const s of mine) if (s.from !== a && has(s, FIN) && s.rawSeq === finB.rawSeq) tag.set(s, T.c[2]);
    }
    if (finB !== undefined) {
      const w1 = (finB.rawSeq + 1) >>> 0;
      for (const s of mine) if (mine.indexOf(s) > mine.indexOf(finB) && s.from === a && !has(s, FIN) && s.rawAck === w1) tag.set(s, T.c[3]);
    }
  }

  return {
    x, y,
    relabel(seg, tokens) {
      if (seg.conn.key !== conn) return tokens;
      const inClose = mine.indexOf(seg) >= firstFinAt;
      const name = (v: number | null): string | undefined => {
        if (v === null) return undefined;
        return (inClose ? closeSym.get(v) : undefined) ?? sym.get(v) ?? (inClose ? undefined : closeSym.get(v));
      };
      const out = tokens.map((t) => {
        if (t.startsWith('seq=')) { const n = name(seg.rawSeq); return n === undefined ? t : `seq=${n}`; }
        if (t.startsWith('ack=')) { const n = name(seg.rawAck); return n === undefined ? t : `ack=${n}`; }
        return t;
      });
      const tg = tag.get(seg);
      return tg === undefined ? out : [`[${tg}]`, ...out];
    },
  };
}
