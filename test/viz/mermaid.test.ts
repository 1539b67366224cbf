import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderMermaid } from '../../src/viz/mermaid.js';
import { NAMES, requestResponse, synLost, twoConnections } from './traces.js';

interface Msg { from: string; to: string; arrow: string; text: string }
interface Note { where: string; who: string; text: string }
interface Parsed { participants: Map<string, string>; messages: Msg[]; notes: Note[] }

/**
 * A small parser for the sequenceDiagram subset we emit. It rejects anything else, and
 * characters Mermaid's grammar would misread in message text (; # < > outside entity codes).
 */
function parseMermaid(src: string): Parsed {
  const lines = src.split('\n');
  assert.equal(lines[0], 'sequenceDiagram');
  assert.equal(lines[lines.length - 1], '', 'ends with a newline');
  const p: Parsed = { participants: new Map(), messages: [], notes: [] };
  const known = (id: string) => assert.ok(p.participants.has(id), `undeclared participant ${id}`);
  const decode = (s: string) => {
    assert.doesNotMatch(s.replace(/#(lt|gt|\d+);/g, ''), /[;#<>]/, `unescaped syntax character in "${s}"`);
    return s.replace(/#lt;/g, '<').replace(/#gt;/g, '>').replace(/#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  };
  for (const line of lines.slice(1, -1)) {
    let m: RegExpExecArray | null;
    if ((m = /^ {4}participant ([A-Za-z_][A-Za-z0-9_]*) as (.+)$/.exec(line))) {
      assert.ok(p.messages.length === 0 && p.notes.length === 0, 'participants come first');
      p.participants.set(m[1]!, decode(m[2]!));
    } else if ((m = /^ {4}([A-Za-z_][A-Za-z0-9_]*)(->>|-x)([A-Za-z_][A-Za-z0-9_]*): (.+)$/.exec(line))) {
      known(m[1]!); known(m[3]!);
      assert.notEqual(m[1], m[3]);
      p.messages.push({ from: m[1]!, arrow: m[2]!, to: m[3]!, text: decode(m[4]!) });
    } else if ((m = /^ {4}Note (left of|right of|over) ([A-Za-z_][A-Za-z0-9_]*): (.+)$/.exec(line))) {
      known(m[2]!);
      p.notes.push({ where: m[1]!, who: m[2]!, text: decode(m[3]!) });
    } else {
      assert.fail(`not a sequenceDiagram line we emit: ${JSON.stringify(line)}`);
    }
  }
  return p;
}

describe('Mermaid sequence diagrams', () => {
  test('participants, one message per segment, states as notes beside their side', () => {
    const ev = requestResponse().events;
    const p = parseMermaid(renderMermaid(ev, { names: NAMES }));
    assert.deepEqual([...p.participants.entries()], [['client', 'client 198.18.0.1:40000'], ['server', 'server 198.18.0.2:80']]);
    const segs = ev.filter((e) => e.type === 'segment' && e.dir === 'out');
    assert.equal(p.messages.length, segs.length);
    assert.equal(p.messages[0]!.text, 'S seq=0 win=64240 <mss 1460,sackOK,TS,wscale 7>');
    assert.deepEqual([p.messages[0]!.from, p.messages[0]!.to], ['client', 'server']);
    assert.deepEqual([p.messages[1]!.from, p.messages[1]!.to], ['server', 'client']);
    const stateNotes = p.notes.filter((n) => n.where !== 'over');
    assert.equal(stateNotes.length, ev.filter((e) => e.type === 'state').length + 2);
    assert.equal(stateNotes[0]!.text, 'CLOSED');
    assert.equal(stateNotes[1]!.text, 'LISTEN');
    for (const n of stateNotes) assert.equal(n.where === 'left of' ? 'client' : 'server', n.who);
    assert.ok(stateNotes.some((n) => n.who === 'server' && n.text.startsWith('SYN-RECEIVED')));
    assert.ok(p.notes.some((n) => n.where === 'over' && n.text === 'close()'));
  });

  test('a lost segment is a -x arrow', () => {
    const ev = synLost().events;
    const p = parseMermaid(renderMermaid(ev, { names: NAMES }));
    const lost = p.messages.filter((m) => m.arrow === '-x');
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.text, /^S seq=0 .*\(lost\)$/);
    assert.ok(p.messages.some((m) => m.arrow === '->>' && m.text.includes('(retransmit)')));
  });

  test('without names the ids are A and B, and the times can be left out', () => {
    const p = parseMermaid(renderMermaid(synLost().events, { times: false, calls: false, timers: false }));
    assert.deepEqual([...p.participants.keys()], ['A', 'B']);
    assert.ok(p.notes.every((n) => n.where !== 'over'));
    assert.ok(p.notes.every((n) => !n.text.includes('(')));
  });

  test('connection tags and filtering', () => {
    const ev = twoConnections().events;
    const all = parseMermaid(renderMermaid(ev, { names: NAMES }));
    assert.ok(all.messages.some((m) => m.text.startsWith(':40001 ')));
    assert.ok(all.messages.some((m) => m.text.startsWith(':40002 ')));
    const one = parseMermaid(renderMermaid(ev, { names: NAMES, conn: '198.18.0.1:40002-198.18.0.2:80' }));
    assert.ok(one.messages.length > 0 && one.messages.every((m) => !m.text.startsWith(':')));
    assert.equal(one.participants.get('client'), 'client 198.18.0.1:40002');
  });
});
