// `synack scenario`: the textbook cases of SPEC "The textbook scenarios". `list` names them,
// `run NAME` plays one in virtual time and prints its title, the sequence diagram drawn from
// the stacks' own trace, the explanation and the checks (✔/✘), or writes the trace as SVG,
// Mermaid, JSON or pcap; `check` runs them all. Exit code 1 when a check fails.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SCENARIOS, WHAT_IFS, findScenario, runScenario, parseSysctl } from '../scenarios/index.js';
import type { StackOptions } from '../stack/options.js';
import { flagLetters } from '../trace/conn.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { formatTime } from '../trace/diagram.js';
import { joinNegativeValues } from './args.js';
import { diagramTranslator } from '../viz/i18n.js';
import type { Lang, Scenario, ScenarioResult } from '../scenarios/types.js';
import { renderAscii } from '../viz/ascii.js';
import { renderSvg } from '../viz/svg.js';
import { renderMermaid } from '../viz/mermaid.js';
import { renderJson } from '../trace/json.js';

export const summary = 'the textbook TCP cases, run and checked: list | run NAME | check';

const HELP = `usage: synack scenario list [--lang en|zh]
       synack scenario run NAME [--format ascii|svg|mermaid|json|pcap] [--out FILE] [--seed N] [--lang en|zh]
                               [--set SYSCTL=VALUE ...] [--drop N ...] [--segments]
       synack scenario check [--seed N] [--lang en|zh]

Each scenario plays one textbook case of TCP connection management between two simulated
hosts (198.18.0.1 client, 198.18.0.2 server, 5 ms apart) in virtual time, checks that the
stack behaved as the RFCs say, and explains why the protocol behaves so.

  list             the scenarios and their titles
  run NAME         run one: title, sequence diagram, explanation, checks (ascii), or the
                   trace in another format
  check            run every scenario, one line each

options:
  --format F       ascii (default), svg, mermaid, json (the trace events) or pcap
  --out FILE       write the output to FILE (the checks are still printed)
  --seed N         simulation seed: ISNs, ports, timestamps (default 1)
  --lang L         en (default) or zh: title, explanation and checks in Chinese
  --width N        widest diagram line for ascii (default 100)
  --absolute       absolute sequence numbers in the diagram
  --set S=V        what-if: run with a stack option (sysctl) changed on both hosts, e.g.
                   --set tcp_syn_retries=2 --set tcp_msl=0 (repeatable)
  --drop N         what-if: lose the N-th segment sent (0-based, see --segments) and let
                   TCP recover; repeatable, each N counted in the run with the earlier drops
  --segments       list the segments sent, numbered as --drop counts them
  -h, --help       this text
`;

export type Format = 'ascii' | 'svg' | 'mermaid' | 'json' | 'pcap';
const FORMATS: readonly Format[] = ['ascii', 'svg', 'mermaid', 'json', 'pcap'];

export interface ReportOptions {
  format?: Format;
  seed?: number;
  lang?: Lang;
  width?: number;
  absolute?: boolean;
  /** What-if: sysctl overrides for both hosts. */
  sysctls?: Partial<StackOptions>;
  /** What-if: ordinals of sent segments to lose. */
  drops?: number[];
  /** Append the numbered list of sent segments (ascii). */
  segments?: boolean;
}

export interface Report {
  /** All checks passed. */
  ok: boolean;
  /** The chosen format's output (the full text report for ascii; bytes for pcap). */
  output: string | Uint8Array;
  /** Title and checks: what goes to the terminal when the output goes elsewhere. */
  brief: string;
  result: ScenarioResult;
  /** Run with --set/--drop: the checks describe the default run, failing ones are expected. */
  whatIf: boolean;
}

const WORDS = {
  en: {
    why: 'Why:', checks: (seed: number) => `Checks (seed ${seed}):`, passed: 'passed', failed: 'failed',
    whatIf: (seed: number, what: string) => `What-if run (seed ${seed}; ${what}). The checks were written for the default run; a ✘ shows what changed:`,
    segments: 'Segments sent (numbered for --drop):',
  },
  zh: {
    why: '为什么：', checks: (seed: number) => `检查（种子 ${seed}）：`, passed: '通过', failed: '失败',
    whatIf: (seed: number, what: string) => `假设运行（种子 ${seed}；${what}）。这些检查针对默认运行编写；✘ 表示发生了变化：`,
    segments: '发出的报文段（按 --drop 的编号）：',
  },
} as const;

/** Run `sc` and render it. */
export function scenarioReport(sc: Scenario, o: ReportOptions = {}): Report {
  const lang = o.lang ?? 'en';
  const seed = o.seed ?? 1;
  const format = o.format ?? 'ascii';
  const whatIf = Object.keys(o.sysctls ?? {}).length > 0 || (o.drops ?? []).length > 0;
  const run = runScenario(sc, { seed, sysctls: o.sysctls, drops: o.drops });
  const r = run.result;
  const ok = r.checks.every((c) => c.ok);
  const title = sc.title[lang];
  const checks = checkLines(r, lang);
  const w = WORDS[lang];
  const head = `${sc.name}: ${title}`;
  const changed = [...Object.entries(o.sysctls ?? {}).map(([k, v]) => `${k}=${String(v)}`), ...(o.drops ?? []).map((d) => `drop #${d}`)].join(', ');
  const checksHead = whatIf ? w.whatIf(seed, changed) : w.checks(seed);
  const brief = [head, checksHead, ...checks, ''].join('\n');
  const view = { conn: r.conn, names: r.hosts, absolute: o.absolute ?? r.absolute ?? false, translate: diagramTranslator(lang) };
  let output: string | Uint8Array;
  switch (format) {
    case 'ascii': {
      const diagram = renderAscii(r.recorder.events, { ...view, width: o.width ?? 100 });
      output = [
        head, '='.repeat(Math.min(displayWidth(head), 100)), '', diagram.replace(/\n+$/, ''), '',
        w.why, ...sc.explain[lang].split('\n').flatMap((p) => [...wrap(p, 88).map((l) => '  ' + l), '']),
        checksHead, ...checks, '',
        ...(o.segments === true ? [w.segments, ...segmentList(run.events, r.hosts), ''] : []),
      ].join('\n');
      break;
    }
    case 'svg': output = renderSvg(r.recorder.events, { ...view, title: `${sc.name}: ${title}` }); break;
    case 'mermaid': output = renderMermaid(r.recorder.events, view); break;
    case 'json': output = renderJson(r.recorder.events); break;
    case 'pcap': output = r.recorder.pcap(); break;
  }
  return { ok, output, brief, result: r, whatIf };
}

/** The sent segments, numbered as --drop counts them. */
function segmentList(events: ReturnType<typeof runScenario>['events'], hosts: Record<string, string>): string[] {
  const out: string[] = [];
  let n = 0;
  for (const e of events) {
    if (e.type !== 'segment' || e.dir !== 'out') continue;
    const from = formatIpv4Address(e.host);
    const who = hosts[from] ?? from;
    out.push(`  #${String(n++).padEnd(4)} ${formatTime(e.t).padStart(10)}  ${who.padEnd(7)} ${flagLetters(e.flags).padEnd(3)} seq=${e.seq >>> 0} ack=${e.ack >>> 0} len=${e.len}${e.lost ? ' (lost)' : ''}${e.retransmit ? ' (retransmit)' : ''}`);
  }
  return out;
}

function checkLines(r: ScenarioResult, lang: Lang): string[] {
  return r.checks.map((c) => {
    const what = lang === 'zh' && c.zh !== undefined ? c.zh : c.what;
    return `  ${c.ok ? '✔' : '✘'} ${what}${c.detail !== undefined && c.detail !== '' ? `  [${c.detail.replace(/\s*\n\s*/g, ' ')}]` : ''}`;
  });
}

// ------------------------------------------------------------------ text wrapping (CJK-aware)

const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/;
/** Characters that must not start a line (closing punctuation). */
const NO_START = /^[，。、；：？！）」』》〉,.;:?!)\]]/;

function charWidth(ch: string): number { return WIDE.test(ch) ? 2 : 1; }

export function displayWidth(s: string): number {
  let n = 0;
  for (const ch of s) n += charWidth(ch);
  return n;
}

/** Wrap a paragraph at `width` columns: Latin text at spaces, CJK text between characters. */
export function wrap(text: string, width: number): string[] {
  const tokens = text.match(/\s+|[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[^\s\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]+/g) ?? [];
  const lines: string[] = [];
  let line = '';
  let w = 0;
  for (const tok of tokens) {
    if (/^\s+$/.test(tok)) {
      if (line !== '') { line += ' '; w += 1; }
      continue;
    }
    const tw = displayWidth(tok);
    if (w + tw > width && line.trim() !== '' && !NO_START.test(tok)) {
      lines.push(line.trimEnd());
      line = '';
      w = 0;
    }
    line += tok;
    w += tw;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  return lines;
}

// ------------------------------------------------------------------ command line

function fail(msg: string): number {
  process.stderr.write(`synack scenario: ${msg}\n`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, ['--seed', '--width', '--drop']),
      allowPositionals: true,
      options: {
        set: { type: 'string', multiple: true },
        drop: { type: 'string', multiple: true },
        segments: { type: 'boolean' },
        format: { type: 'string', short: 'f' },
        out: { type: 'string', short: 'o' },
        seed: { type: 'string' },
        lang: { type: 'string' },
        width: { type: 'string' },
        absolute: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return fail(`${(e as Error).message}\n${HELP}`);
  }
  const { values: v, positionals } = parsed;
  const [sub, name, ...extra] = positionals;
  if (v.help === true || sub === undefined || sub === 'help') {
    process.stdout.write(HELP);
    return sub === undefined && v.help !== true ? 2 : 0;
  }
  const lang = (v.lang ?? 'en') as Lang;
  if (lang !== 'en' && lang !== 'zh') return fail(`--lang must be en or zh, got '${v.lang}'`);
  let seed = 1;
  if (v.seed !== undefined) {
    seed = Number(v.seed);
    if (!Number.isSafeInteger(seed)) return fail(`--seed must be an integer, got '${v.seed}'`);
  }
  let width: number | undefined;
  if (v.width !== undefined) {
    width = Number(v.width);
    if (!Number.isInteger(width) || width < 40) return fail(`--width must be an integer >= 40, got '${v.width}'`);
  }
  const format = (v.format ?? 'ascii') as Format;
  if (!FORMATS.includes(format)) return fail(`--format must be one of ${FORMATS.join(', ')}, got '${v.format}'`);
  if (extra.length > 0) return fail(`unexpected argument '${extra[0]}'`);
  const sysctls: Partial<StackOptions> = {};
  for (const x of v.set ?? []) {
    try {
      const [k, val] = parseSysctl(x);
      (sysctls as Record<string, number>)[k] = val;
    } catch (e) { return fail((e as Error).message); }
  }
  const drops: number[] = [];
  for (const x of v.drop ?? []) {
    const n = Number(x);
    if (!Number.isSafeInteger(n) || n < 0) return fail(`--drop takes a segment number >= 0 (see --segments), got '${x}'`);
    drops.push(n);
  }

  switch (sub) {
    case 'list': {
      const wide = Math.max(...[...SCENARIOS, ...WHAT_IFS].map((s) => s.name.length));
      process.stdout.write(SCENARIOS.map((s) => `${s.name.padEnd(wide)}  ${s.title[lang]}`).join('\n') + '\n');
      // The counterfactual runs, set apart: they break TCP on purpose.
      process.stdout.write(`\n${lang === 'zh' ? '假设（不是 TCP）：' : 'what-ifs (NOT TCP):'}\n` + WHAT_IFS.map((s) => `${s.name.padEnd(wide)}  ${s.title[lang]}`).join('\n') + '\n');
      return 0;
    }
    case 'check': {
      let failed = 0;
      for (const sc of SCENARIOS) {
        const r = sc.run({ seed });
        const bad = r.checks.filter((c) => !c.ok);
        if (bad.length > 0) failed++;
        process.stdout.write(`${bad.length === 0 ? '✔' : '✘'} ${sc.name.padEnd(24)} ${r.checks.length - bad.length}/${r.checks.length}  ${sc.title[lang]}\n`);
        for (const line of checkLines({ ...r, checks: bad }, lang)) process.stdout.write(`    ${line}\n`);
      }
      const w = WORDS[lang];
      process.stdout.write(`${SCENARIOS.length - failed} ${w.passed}${lang === 'zh' ? '，' : ', '}${failed} ${w.failed}\n`);
      return failed === 0 ? 0 : 1;
    }
    case 'run': {
      if (name === undefined) return fail('run: which scenario? (synack scenario list)');
      const sc = findScenario(name);
      if (sc === undefined) return fail(`no scenario '${name}'; try: synack scenario list`);
      let rep: Report;
      try {
        rep = scenarioReport(sc, { format, seed, lang, width, absolute: v.absolute, sysctls, drops, segments: v.segments === true });
      } catch (e) {
        // A sysctl value the stack refuses (RangeError, code ERR_OUT_OF_RANGE).
        return fail((e as Error).message);
      }
      if (v.out !== undefined) {
        writeFileSync(v.out, rep.output);
        process.stdout.write(rep.brief);
        process.stdout.write(`wrote ${v.out} (${format}, ${rep.output.length} ${typeof rep.output === 'string' ? 'characters' : 'bytes'})\n`);
      } else if (typeof rep.output === 'string') {
        process.stdout.write(rep.output.endsWith('\n') ? rep.output : rep.output + '\n');
        if (format !== 'ascii') process.stderr.write(rep.brief);
      } else {
        if (process.stdout.isTTY) return fail('pcap output is binary: use --out FILE or redirect stdout');
        process.stdout.write(rep.output);
        process.stderr.write(rep.brief);
      }
      return rep.ok || rep.whatIf ? 0 : 1;
    }
    default:
      return fail(`unknown subcommand '${sub}'\n${HELP}`);
  }
}
