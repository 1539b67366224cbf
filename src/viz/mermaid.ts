// The sequence diagram as Mermaid text (https://mermaid.js.org/syntax/sequenceDiagram.html),
// for Markdown pages that render it (GitHub, GitLab, many wikis):
//
//   sequenceDiagram
//       participant client as client 198.18.0.1:40000
//       participant server as server 198.18.0.2:80
//       Note left of client: SYN-SENT
//       client->>server: S seq=0 win=65535 #lt;mss 1460,sackOK,TS,wscale 7#gt;
//       Note right of server: SYN-RECEIVED
//       client-xserver: FA seq=19 ack=1 win=131072 (lost)
//
// Arrows: ->> a segment, -x a segment lost on the link. State changes are
// notes beside their side ("left of" the left participant, "right of" the right one); user
// calls and timer expiries are notes over their participant. Characters Mermaid would take
// as syntax (<, >, ;, #) are written as its entity codes.
import type { ConnId, TraceEvent } from '../trace/events.js';
import { buildDiagram, formatTime } from '../trace/diagram.js';

export interface MermaidOptions {
  conn?: string | ConnId;
  absolute?: boolean;
  names?: Record<string, string>;
  calls?: boolean;
  timers?: boolean;
  drops?: boolean;
  /** Add the virtual time to each state note (default true). */
  times?: boolean;
}

export function renderMermaid(events: ReadonlyArray<TraceEvent & { lost?: boolean }>, opts: MermaidOptions = {}): string {
  const d = buildDiagram(events, opts);
  const multi = d.conns.length > 1;
  const ids = d.sides.map((s, i) => participantId(s.name, i)) as [string, string];
  if (ids[0] === ids[1]) ids[1] += '2';
  const out: string[] = ['sequenceDiagram'];
  for (const s of d.sides) {
    const label = s.name !== null ? `${s.name} ${s.endpoint}` : s.endpoint;
    out.push(`    participant ${ids[s.index]} as ${text(label)}`);
  }
  const where = (side: 0 | 1) => (side === 0 ? `left of ${ids[0]}` : `right of ${ids[1]}`);
  for (const s of d.sides) if (s.initial !== null) out.push(`    Note ${where(s.index)}: ${text(s.initial)}`);
  const showTime = opts.times !== false;
  for (const it of d.items) {
    switch (it.kind) {
      case 'state': {
        const tag = multi ? ` ${it.conn.tag}` : '';
        out.push(`    Note ${where(it.side)}: ${text(it.to + tag + (showTime ? ` (${formatTime(it.t)})` : ''))}`);
        break;
      }
      case 'note': {
        if (it.what === 'user' && opts.calls === false) break;
        if (it.what === 'timer' && opts.timers === false) break;
        if (it.what === 'drop' && opts.drops === false) break;
        const tag = multi ? `${it.conn.tag} ` : '';
        out.push(`    Note over ${ids[it.side]}: ${text(tag + it.text)}`);
        break;
      }
      case 'segment': {
        const tokens = multi ? [it.conn.tag, ...it.tokens] : [...it.tokens];
        if (it.lost) tokens.push('(lost)');
        const arrow = it.lost ? '-x' : '->>';
        out.push(`    ${ids[it.from]}${arrow}${ids[it.to]}: ${text(tokens.join(' '))}`);
        break;
      }
      case 'arrive':
        break;
    }
  }
  return out.join('\n') + '\n';
}

function participantId(name: string | null, i: number): string {
  const clean = (name ?? '').replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+|_+$/g, '');
  if (clean === '' || /^\d/.test(clean) || RESERVED.has(clean.toLowerCase())) return i === 0 ? 'A' : 'B';
  return clean;
}

const RESERVED = new Set(['end', 'note', 'participant', 'actor', 'loop', 'alt', 'else', 'opt', 'par', 'and', 'rect', 'critical', 'break', 'box', 'activate', 'deactivate', 'autonumber', 'title', 'over', 'left', 'right', 'of', 'as']);

const ENTITY: Record<string, string> = { '#': '#35;', ';': '#59;', '<': '#lt;', '>': '#gt;' };

/** Message text: Mermaid entity codes for the characters its grammar reserves. */
function text(s: string): string {
  return s.replace(/[#;<>]/g, (c) => ENTITY[c]!).replace(/[\r\n]+/g, ' ');
}
