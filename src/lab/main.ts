// The synack lab page: the textbook scenarios on synack's core, in the browser. Plain
// TypeScript and DOM. Everything is computed here from the setup in the URL:
//   ?scenario=NAME&seed=N&step=K|end&lang=en|zh&drops=1,4&set=tcp_msl:0,tcp_syn_retries:2
//   &labels=textbook&isn=abs&whatif=msl0      (free setup: &delay=MS&loss=PCT&size=BYTES)
// A run is deterministic, so stepping back shows a prefix of the recorded events, and
// losing a segment re-runs the scenario from its seed with the segment on a drop list
// (src/scenarios/run.ts). The page uses the wall clock only to pace "play".
import { SCENARIOS, WHAT_IFS, findScenario } from '../scenarios/index.js';
import { runScenario, addDrop, LAB_SYSCTLS, type ScenarioRun, type HostSnapshot } from '../scenarios/run.js';
import { freeScenario } from '../scenarios/free.js';
import type { Scenario } from '../scenarios/types.js';
import { renderSvg } from '../viz/svg.js';
import { renderJson } from '../trace/json.js';
import { buildDiagram, formatTime, userCallText, timerText, type SegmentItem } from '../trace/diagram.js';
import { flagLetters } from '../trace/conn.js';
import { DEFAULT_STACK_OPTIONS, type StackOptions } from '../stack/options.js';
import { renderConnectionTable, type ConnRow } from '../stack/table.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { diagramTranslator, STATE_GLOSSARY, TERM_GLOSSARY } from '../viz/i18n.js';
import { textbookLabeller } from '../viz/textbook.js';
import { STRINGS, SYSCTL_HELP, fmt, type Lang } from './strings.js';
import type { RecordedEvent } from '../trace/recorder.js';

interface Setup {
  scenario: string;
  seed: number;
  lang: Lang;
  drops: number[];
  sysctls: Record<string, number>;
  labels: 'plain' | 'textbook';
  isn: 'rel' | 'abs';
  msl0: boolean;
  free: { delay: number; loss: number; size: number };
  /** Step index (into the step list), or 'end'. */
  step: number | 'end';
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

let setup: Setup = readUrl();
let run: ScenarioRun | null = null;
/** Indices into run.events that are steps: segments, state changes, timer expiries, user calls, drops. */
let steps: number[] = [];
let pos = 0;
let playing: ReturnType<typeof setInterval> | null = null;
let lastSvg = '';

// ------------------------------------------------------------------ URL

function readUrl(): Setup {
  const q = new URLSearchParams(location.search);
  const num = (k: string, d: number): number => { const v = Number(q.get(k)); return q.has(k) && Number.isFinite(v) ? v : d; };
  const sysctls: Setup['sysctls'] = {};
  for (const kv of (q.get('set') ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split(':');
    if (k !== undefined && k in DEFAULT_STACK_OPTIONS && v !== undefined && v !== '' && Number.isFinite(Number(v)) && Number(v) >= 0) sysctls[k] = Number(v);
  }
  const step = q.get('step');
  const lang = q.get('lang') === 'zh' ? 'zh' : q.get('lang') === 'en' ? 'en' : (navigator.language.startsWith('zh') ? 'zh' : 'en');
  return {
    scenario: q.get('scenario') ?? 'handshake',
    seed: Math.max(0, Math.floor(num('seed', 1))),
    lang,
    drops: (q.get('drops') ?? '').split(',').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n >= 0).sort((a, b) => a - b),
    sysctls,
    labels: q.get('labels') === 'textbook' ? 'textbook' : 'plain',
    isn: q.get('isn') === 'abs' ? 'abs' : 'rel',
    msl0: (q.get('whatif') ?? '').split(',').includes('msl0'),
    free: { delay: num('delay', 5), loss: num('loss', 0), size: num('size', 20000) },
    step: step === null || step === 'end' ? 'end' : Math.max(0, Math.floor(Number(step)) || 0),
  };
}

function urlOf(s: Setup): string {
  const q = new URLSearchParams();
  q.set('scenario', s.scenario);
  if (s.seed !== 1) q.set('seed', String(s.seed));
  q.set('step', s.step === 'end' ? 'end' : String(s.step));
  q.set('lang', s.lang);
  if (s.drops.length > 0) q.set('drops', s.drops.join(','));
  const set = Object.entries(s.sysctls).map(([k, v]) => `${k}:${v}`);
  if (set.length > 0) q.set('set', set.join(','));
  if (s.labels === 'textbook') q.set('labels', 'textbook');
  if (s.isn === 'abs') q.set('isn', 'abs');
  if (s.msl0) q.set('whatif', 'msl0');
  if (s.scenario === 'free') { q.set('delay', String(s.free.delay)); q.set('loss', String(s.free.loss)); q.set('size', String(s.free.size)); }
  return `${location.pathname}?${q.toString()}`;
}

function saveUrl(): void {
  setup.step = steps.length > 0 && pos >= steps.length - 1 ? 'end' : pos;
  history.replaceState(null, '', urlOf(setup));
  const a = $<HTMLAnchorElement>('share');
  a.href = location.href;
}

// ------------------------------------------------------------------ running

function scenarioOf(s: Setup): Scenario {
  if (s.scenario === 'free') return freeScenario({ delay: s.free.delay, loss: s.free.loss / 100, size: s.free.size });
  return findScenario(s.scenario) ?? SCENARIOS[0]!;
}

function rerun(keepAt?: number): void {
  stop();
  const sc = scenarioOf(setup);
  setup.scenario = sc.name;
  const sysctls = { ...setup.sysctls } as Partial<StackOptions>;
  if (setup.msl0) sysctls.tcp_msl = 0;
  $('error').hidden = true;
  try {
    run = runScenario(sc, { seed: setup.seed, sysctls, drops: setup.drops, snapshots: true });
  } catch (e) {
    run = null;
    steps = [];
    $('error').hidden = false;
    $('error').textContent = fmt(S().error, { msg: (e as Error).message });
    renderAll();
    return;
  }
  steps = [];
  run.events.forEach((e, i) => { if (e.type !== 'timer' || e.action === 'fire') steps.push(i); });
  if (keepAt !== undefined) {
    const i = steps.findIndex((k) => k >= keepAt);
    pos = i < 0 ? steps.length - 1 : i;
  } else pos = setup.step === 'end' ? steps.length - 1 : Math.min(setup.step, steps.length - 1);
  pos = Math.max(0, pos);
  renderAll();
}

// ------------------------------------------------------------------ rendering

const S = () => STRINGS[setup.lang];

function hostName(addr: string): string {
  const role = run?.hosts[addr];
  if (role === 'client') return S().client;
  if (role === 'server') return S().server;
  return role ?? addr;
}

function renderStatic(): void {
  const s = S();
  document.documentElement.lang = setup.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = s.title;
  const text: Record<string, string> = {
    title: s.title, tagline: s.tagline, lang: s.lang, 'l-scenario': s.scenario, 'l-seed': s.seed, 'l-delay': s.delay,
    'l-loss': s.loss, 'l-size': s.size, 'l-labels': s.labels, 'l-isn': s.isn, 'b-start': s.start, 'b-back': s.back,
    'b-forward': s.forward, 'b-end': s.end, 'click-hint': s.clickHint, 'l-export': s.export + ':', 'x-svg': s.exportSvg,
    'x-pcap': s.exportPcap, 'x-json': s.exportJson, share: s.share, 'h-explain': s.explain, 'h-tcb': s.tcb, 'h-ss': s.ss,
    'h-sysctls': s.sysctls, 'sysctl-hint': s.sysctlHint, 'sysctl-reset': s.reset, 'h-whatif': s.whatIf, 'whatif-hint': s.whatIfHint,
    'l-msl0': s.msl0, 'h-glossary': s.glossary,
  };
  for (const [id, t] of Object.entries(text)) $(id).textContent = t;
  const labels = $<HTMLSelectElement>('labels');
  labels.options[0]!.text = s.labelsPlain; labels.options[1]!.text = s.labelsTextbook; labels.value = setup.labels;
  const isn = $<HTMLSelectElement>('isn');
  isn.options[0]!.text = s.isnRel; isn.options[1]!.text = s.isnAbs; isn.value = setup.isn;
  const sel = $<HTMLSelectElement>('scenario');
  sel.innerHTML = '';
  for (const sc of SCENARIOS) sel.add(new Option(`${sc.name} — ${sc.title[setup.lang]}`, sc.name));
  sel.add(new Option(s.free, 'free'));
  const grp = document.createElement('optgroup');
  grp.label = s.whatIf;
  for (const sc of WHAT_IFS) grp.append(new Option(`${sc.name} — ${sc.title[setup.lang]}`, sc.name));
  sel.add(grp);
  const wbox = $('whatif-runs');
  wbox.innerHTML = '';
  for (const sc of WHAT_IFS) {
    const b = document.createElement('button');
    b.type = 'button'; b.className = 'whatif-run'; b.dataset.scenario = sc.name;
    b.textContent = sc.notTcp?.[setup.lang] ?? sc.name;
    b.addEventListener('click', () => { setup.scenario = sc.name; setup.drops = []; setup.step = 'end'; rerun(); });
    wbox.append(b);
  }
  sel.value = setup.scenario;
  $<HTMLInputElement>('seed').value = String(setup.seed);
  $<HTMLInputElement>('delay').value = String(setup.free.delay);
  $<HTMLInputElement>('loss').value = String(setup.free.loss);
  $<HTMLInputElement>('size').value = String(setup.free.size);
  $('free-opts').hidden = setup.scenario !== 'free';
  $<HTMLInputElement>('w-msl0').checked = setup.msl0;
  renderSysctls();
  renderGlossary();
}

function renderSysctls(): void {
  const box = $('sysctls');
  box.innerHTML = '';
  for (const name of LAB_SYSCTLS) {
    const def = DEFAULT_STACK_OPTIONS[name] as number;
    const label = document.createElement('label');
    label.textContent = name;
    label.htmlFor = `s-${name}`;
    label.title = SYSCTL_HELP[name]?.[setup.lang] ?? '';
    const input = document.createElement('input');
    input.type = 'number'; input.min = '0'; input.id = `s-${name}`; input.dataset.sysctl = name;
    const v = setup.sysctls[name];
    input.value = String(v ?? def);
    input.title = label.title;
    if (v !== undefined && v !== def) input.classList.add('changed');
    input.addEventListener('change', () => {
      const n = Number(input.value);
      if (input.value === '' || !Number.isFinite(n) || n < 0) { input.value = String(setup.sysctls[name] ?? def); return; }
      if (n === def) delete setup.sysctls[name]; else setup.sysctls[name] = n;
      input.classList.toggle('changed', n !== def);
      setup.drops = []; // ordinals belong to the run they were chosen in
      rerun();
    });
    box.append(label, input);
  }
}

function renderGlossary(): void {
  const s = S();
  const g = $<HTMLTableElement>('glossary');
  g.innerHTML = '';
  const head = g.createTHead().insertRow();
  for (const h of [s.gRfc, s.gSs, s.gNetstat, s.gZh, s.gMeaning]) { const th = document.createElement('th'); th.textContent = h; head.append(th); }
  const body = g.createTBody();
  for (const r of STATE_GLOSSARY) {
    const tr = body.insertRow();
    for (const c of [r.rfc, r.ss, r.netstat, r.zh, setup.lang === 'zh' ? r.zh : r.en]) tr.insertCell().textContent = c;
  }
  const t = $<HTMLTableElement>('terms');
  t.innerHTML = '';
  const th2 = t.createTHead().insertRow();
  for (const h of [s.gTerm, s.gMeaning, s.gTermZh]) { const th = document.createElement('th'); th.textContent = h; th2.append(th); }
  const b2 = t.createTBody();
  for (const r of TERM_GLOSSARY) { const tr = b2.insertRow(); for (const c of [r.term, r.en, r.zh]) tr.insertCell().textContent = c; }
}

function svgFor(events: readonly RecordedEvent[], full: boolean): string {
  if (run === null) return '';
  const r = run.result;
  const absolute = setup.isn === 'abs' || (r.absolute ?? false);
  const view = { names: Object.fromEntries(Object.entries(run.hosts).map(([a]) => [a, hostName(a)])), conn: r.conn, absolute };
  const translate = diagramTranslator(setup.lang);
  const title = full ? `${run.scenario.name}: ${run.scenario.title[setup.lang]}` : undefined;
  if (setup.labels === 'textbook') {
    // Symbols from the whole run, so x, y, u, v, w do not change while stepping.
    const whole = buildDiagram(run.events, view);
    const lab = textbookLabeller(whole, setup.lang);
    const byEv = new Map<number, SegmentItem>();
    for (const it of whole.items) if (it.kind === 'segment') byEv.set(it.ev, it);
    const tag = (seg: SegmentItem, tokens: string[]): string[] => {
      const w = byEv.get(seg.ev);
      return w === undefined ? tokens : lab.relabel(w, tokens);
    };
    return renderSvg(events, { ...view, translate, relabel: (seg, tokens) => tag(seg, tokens), title });
  }
  return renderSvg(events, { ...view, translate, title });
}

function renderDiagram(): void {
  const box = $('diagram');
  if (run === null || steps.length === 0) { box.innerHTML = ''; return; }
  const k = steps[pos]!;
  lastSvg = svgFor(run.events.slice(0, k + 1), false);
  box.innerHTML = lastSvg;
  // Wide invisible hit lines make the thin arrows easy to click.
  for (const g of Array.from(box.querySelectorAll<SVGGElement>('g.segment'))) {
    const line = g.querySelector('line.arrow');
    if (line !== null) {
      const hit = line.cloneNode() as SVGLineElement;
      hit.setAttribute('class', 'hit');
      hit.removeAttribute('marker-end');
      hit.removeAttribute('stroke-dasharray');
      g.append(hit);
    }
    if (Number(g.dataset.ev) === k) g.classList.add('current');
  }
  const sc = box.parentElement;
  const last = box.querySelector('g.segment.current, g.segment:last-of-type');
  if (playing !== null && last !== null && sc !== null) (last as Element).scrollIntoView({ block: 'nearest' });
  const r = run.result;
  const lab = setup.labels === 'textbook' ? textbookLabeller(buildDiagram(run.events, { conn: r.conn }), setup.lang) : null;
  $('isn-legend').textContent = lab !== null && lab.x !== null && lab.y !== null ? fmt(S().legendIsn, { x: lab.x, y: lab.y }) : '';
}

function onDiagramClick(ev: MouseEvent): void {
  if (run === null) return;
  const target = ev.target as Element;
  let i = -1;
  const g = target.closest('g.segment') as SVGGElement | null;
  if (g !== null) i = Number(g.dataset.ev);
  else {
    const label = target.closest('[data-seg]');
    if (label !== null) {
      const seg = $('diagram').querySelector(`g.segment[data-seg="${label.getAttribute('data-seg')}"]`) as SVGGElement | null;
      if (seg !== null) i = Number(seg.dataset.ev);
    }
  }
  const ord = i >= 0 ? run.ordinal[i] ?? -1 : -1;
  if (ord < 0) return;
  setup.drops = addDrop(setup.drops, ord);
  rerun(i);
}

function describe(e: RecordedEvent): string {
  const s = S();
  const host = hostName(formatIpv4Address(e.host));
  const t = `${formatTime(e.t) || '0'}  `;
  const tr = diagramTranslator(setup.lang);
  switch (e.type) {
    case 'segment': {
      const peer = hostName(formatIpv4Address(e.conn.remoteAddr));
      const flags = flagLetters(e.flags);
      if (e.dir === 'in') return t + fmt(s.evArrive, { to: host, from: peer, flags });
      const label = `${flags} seq=${e.seq >>> 0} ack=${e.ack >>> 0} win=${e.win} len=${e.len}${e.retransmit ? ' ' + tr('(retransmit)') : ''}`;
      return t + fmt(s.evSegment, { from: host, to: peer, label }) + (e.lost ? s.evLost : '');
    }
    case 'state': return t + fmt(s.evState, { host, from: e.from, to: e.to });
    case 'timer': return t + fmt(s.evTimer, { host, what: tr(timerText(e.timer)) });
    case 'user': return t + fmt(s.evUser, { host, what: userCallText(e.call, e.detail) });
    case 'drop': return t + fmt(s.evDrop, { host, what: e.reason });
    default: return t + (e as { type: string }).type;
  }
}

function seqShow(v: number, base: number): string {
  return setup.isn === 'abs' ? String(v >>> 0) : String((v - base) >>> 0);
}

function dur(us: number): string {
  return formatTime(Math.max(0, Math.round(us))) || '0';
}

function renderTcbs(): void {
  const box = $('tcbs'), ss = $('ss');
  box.innerHTML = ''; ss.innerHTML = '';
  if (run === null || steps.length === 0) return;
  const k = steps[pos]!;
  const now = run.events[k]!.t;
  const snaps: Record<string, HostSnapshot> = run.snapshotAt(k);
  const s = S();
  for (const addr of Object.keys(run.hosts)) {
    const snap = snaps[addr];
    const card = document.createElement('div');
    card.className = 'tcb';
    card.dataset.host = addr;
    const h = document.createElement('h4');
    h.textContent = `${hostName(addr)} ${addr}`;
    card.append(h);
    const tcbs = snap?.tcbs ?? [];
    if (tcbs.length === 0) { const p = document.createElement('div'); p.textContent = s.noConn; card.append(p); }
    for (const tcb of tcbs.slice(0, 4)) {
      const zh = STATE_GLOSSARY.find((g) => g.rfc === tcb.state)?.zh;
      const rows: Array<[string, string]> = [
        ['conn', tcb.conn],
        ['state', setup.lang === 'zh' && zh !== undefined ? `${tcb.state}（${zh}）` : tcb.state],
        ['ISS / IRS', setup.isn === 'abs' ? `${tcb.iss} / ${tcb.irs}` : '0 / 0'],
        ['SND.UNA / SND.NXT', `${seqShow(tcb.sndUna, tcb.iss)} / ${seqShow(tcb.sndNxt, tcb.iss)}`],
        ['SND.WND', String(tcb.sndWnd)],
        ['RCV.NXT / RCV.WND', `${seqShow(tcb.rcvNxt, tcb.irs)} / ${tcb.rcvWnd}`],
        ['cwnd / ssthresh', `${tcb.cwnd} (${Math.round(tcb.cwnd / Math.max(1, tcb.mss))}×MSS) / ${tcb.ssthresh === null ? '∞' : tcb.ssthresh}`],
        ['SRTT / RTO', `${tcb.rttValid ? dur(tcb.srtt) : '–'} / ${dur(tcb.rto)}`],
        [s.timers, tcb.timers.length === 0 ? s.noTimers : tcb.timers.map((x) => `${x.name} ${fmt(s.remaining, { t: dur(x.at - now) })}`).join(', ')],
      ];
      const table = document.createElement('table');
      for (const [a, b] of rows) {
        const tr = table.insertRow();
        tr.insertCell().textContent = a;
        const c = tr.insertCell();
        c.textContent = b;
        if (a === 'state') { c.className = 'state-name'; c.dataset.state = tcb.state; }
      }
      card.append(table);
    }
    if (tcbs.length > 4) { const more = document.createElement('div'); more.textContent = `+${tcbs.length - 4}`; card.append(more); }
    box.append(card);
    const pre = document.createElement('pre');
    pre.className = 'ss';
    const rows: ConnRow[] = (snap?.table ?? []).map((r) => (r.timer === null ? r : { ...r, timer: { ...r.timer, remaining: Math.max(0, r.timer.remaining + (snap!.t - now)) } }));
    pre.textContent = `${hostName(addr)} ${addr}\n${renderConnectionTable(rows)}`;
    ss.append(pre);
  }
}

function renderText(): void {
  const s = S();
  $('b-play').textContent = playing !== null ? s.pause : s.play;
  const cf = [run?.scenario.notTcp?.[setup.lang], setup.msl0 ? 'MSL = 0' : undefined].filter((x) => x !== undefined);
  $('not-tcp').hidden = cf.length === 0;
  $('not-tcp').textContent = `${s.notTcp}: ${cf.join('; ')}`;
  if (run === null) return;
  $('scenario-title').textContent = `${run.scenario.name}: ${run.scenario.title[setup.lang]}`;
  const ex = $('explain');
  ex.innerHTML = '';
  for (const para of run.scenario.explain[setup.lang].split('\n')) { const p = document.createElement('p'); p.textContent = para; ex.append(p); }
  const whatIf = setup.drops.length > 0 || Object.keys(setup.sysctls).length > 0 || setup.msl0;
  $('h-checks').textContent = whatIf ? s.checksWhatIf : s.checks;
  const ul = $('checks');
  ul.innerHTML = '';
  for (const c of run.result.checks) {
    const li = document.createElement('li');
    li.className = c.ok ? 'ok' : 'bad';
    li.textContent = setup.lang === 'zh' && c.zh !== undefined ? c.zh : c.what;
    if (c.detail !== undefined && c.detail !== '') { const d = document.createElement('div'); d.className = 'detail'; d.textContent = c.detail; li.append(d); }
    ul.append(li);
  }
  const drops = $('drops');
  drops.innerHTML = '';
  drops.append(`${s.lost}: `);
  if (setup.drops.length === 0) drops.append(s.none);
  for (const d of setup.drops) { const c = document.createElement('span'); c.className = 'chip'; c.textContent = `#${d}`; drops.append(c); }
  if (setup.drops.length > 0) {
    const b = document.createElement('button');
    b.type = 'button'; b.id = 'drops-clear'; b.textContent = s.clear;
    b.addEventListener('click', () => { setup.drops = []; rerun(); });
    drops.append(' ', b);
  }
}

function renderStep(): void {
  const s = S();
  const slider = $<HTMLInputElement>('slider');
  slider.max = String(Math.max(0, steps.length - 1));
  slider.value = String(pos);
  $('stepinfo').textContent = fmt(s.step, { k: steps.length === 0 ? 0 : pos + 1, n: steps.length });
  $('event').textContent = run !== null && steps.length > 0 ? describe(run.events[steps[pos]!]!) : '';
  document.body.dataset.step = String(pos);
  document.body.dataset.steps = String(steps.length);
  renderDiagram();
  renderTcbs();
  saveUrl();
}

function renderAll(): void {
  renderStatic();
  renderText();
  renderStep();
  document.body.dataset.ready = '1';
}

// ------------------------------------------------------------------ controls

function go(p: number): void {
  pos = Math.max(0, Math.min(steps.length - 1, p));
  renderStep();
}

function stop(): void {
  if (playing !== null) { clearInterval(playing); playing = null; }
}

function togglePlay(): void {
  if (playing !== null) { stop(); renderText(); return; }
  if (pos >= steps.length - 1) pos = 0;
  playing = setInterval(() => {
    if (pos >= steps.length - 1) { stop(); renderText(); return; }
    go(pos + 1);
  }, 350);
  renderText();
}

function download(name: string, data: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

function wire(): void {
  $('lang').addEventListener('click', () => { setup.lang = setup.lang === 'en' ? 'zh' : 'en'; renderAll(); });
  $('scenario').addEventListener('change', () => {
    setup.scenario = $<HTMLSelectElement>('scenario').value;
    setup.drops = []; setup.step = 'end';
    rerun();
  });
  const num = (id: string): number => Number($<HTMLInputElement>(id).value);
  $('seed').addEventListener('change', () => { setup.seed = Math.max(0, Math.floor(num('seed')) || 0); setup.drops = []; rerun(); });
  for (const id of ['delay', 'loss', 'size'] as const) {
    $(id).addEventListener('change', () => {
      const v = num(id);
      if (Number.isFinite(v) && v >= 0) setup.free[id] = id === 'loss' ? Math.min(90, v) : v;
      setup.drops = [];
      rerun();
    });
  }
  $('labels').addEventListener('change', () => { setup.labels = $<HTMLSelectElement>('labels').value === 'textbook' ? 'textbook' : 'plain'; renderStep(); });
  $('isn').addEventListener('change', () => { setup.isn = $<HTMLSelectElement>('isn').value === 'abs' ? 'abs' : 'rel'; renderStep(); });
  $('b-start').addEventListener('click', () => { stop(); go(0); renderText(); });
  $('b-back').addEventListener('click', () => { stop(); go(pos - 1); renderText(); });
  $('b-forward').addEventListener('click', () => { stop(); go(pos + 1); renderText(); });
  $('b-end').addEventListener('click', () => { stop(); go(steps.length - 1); renderText(); });
  $('b-play').addEventListener('click', togglePlay);
  $('slider').addEventListener('input', () => { stop(); go(Number($<HTMLInputElement>('slider').value)); });
  $('diagram').addEventListener('click', onDiagramClick);
  $('sysctl-reset').addEventListener('click', () => { setup.sysctls = {}; setup.drops = []; rerun(); });
  $('w-msl0').addEventListener('change', () => { setup.msl0 = $<HTMLInputElement>('w-msl0').checked; setup.drops = []; rerun(); });
  document.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT') return;
    if (e.key === 'ArrowRight') { stop(); go(pos + 1); }
    else if (e.key === 'ArrowLeft') { stop(); go(pos - 1); }
  });
  $('x-svg').addEventListener('click', () => { if (run !== null) download(`${run.scenario.name}.svg`, svgFor(run.events, true), 'image/svg+xml'); });
  $('x-pcap').addEventListener('click', () => { if (run !== null) download(`${run.scenario.name}.pcap`, run.result.recorder.pcap() as BlobPart, 'application/vnd.tcpdump.pcap'); });
  $('x-json').addEventListener('click', () => { if (run !== null) download(`${run.scenario.name}.json`, renderJson(run.events), 'application/json'); });
}

wire();
rerun();
// For tests and the curious: the current run and setup.
(globalThis as unknown as { synackLab: unknown }).synackLab = { get run() { return run; }, get setup() { return setup; }, get svg() { return lastSvg; } };
