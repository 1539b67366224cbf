// `synack bench [--json] [--only NAME[,NAME]] [--quick] [--runs N]`: the benchmark suite.
// Speed is measured here, never asserted in tests. Each case runs 5 times by default; the
// table shows the median and min–max. Bulk figures are also given as a percentage of the
// `ceiling` case (the minimal pipeline), each bulk run paired with a ceiling run taken just
// before it in the same process, so the ratio holds on a noisy machine where the absolute
// figure does not.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CASES, type BenchCase, type Sample } from './bench/suite.js';
import { ceiling } from './bench/ceiling.js';

export const summary = 'run the benchmark suite (--json, --only NAME, --quick, --runs N)';

interface Result {
  name: string; unit: string; median: number; min: number; max: number; runs: number;
  /** Median of (this run / the ceiling run just before it) × 100; bulk cases only. */
  pctOfCeiling?: number;
  extra?: Record<string, number>;
}

export interface Machine { cpu: string; cores: number; node: string; platform: string; kernel: string; memGiB: number; loadavg: number[]; date: string }

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length, node: process.version, platform: process.platform, kernel: release(),
    memGiB: +(totalmem() / 2 ** 30).toFixed(1), loadavg: loadavg().map((x) => +x.toFixed(2)), date: new Date().toISOString(),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function runIsolated(c: BenchCase, quick: boolean): Promise<Sample> {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', self, '--child', c.name, quick ? '1' : '0'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${c.name} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Sample;
}

function fmt(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 10 ? 1 : 2);
}

const USAGE = 'usage: synack bench [--json] [--only NAME[,NAME]] [--quick] [--runs N]';

class UsageError extends Error {}

interface Args { json: boolean; quick: boolean; runs: number; only: string[] | null }

function parse(argv: string[]): Args | 'help' {
  const a: Args = { json: false, quick: false, runs: 5, only: null };
  const value = (flag: string, v: string | undefined): string => {
    if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === '--json' && inline === undefined) a.json = true;
    else if (flag === '--quick' && inline === undefined) a.quick = true;
    else if (flag === '--only') {
      const v = value('--only', inline ?? argv[++i]);
      const names = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
      if (names.length === 0) throw new UsageError('--only needs at least one case name');
      if (unknown.length > 0) throw new UsageError(`no case named ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
      a.only = names;
    } else if (flag === '--runs') {
      const v = value('--runs', inline ?? argv[++i]);
      if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 1000) throw new UsageError(`--runs takes an integer from 1 to 1000, got '${v}'`);
      a.runs = Number(v);
    } else if (arg === '--help' || arg === '-h') return 'help';
    else throw new UsageError(`unknown option ${arg}`);
  }
  return a;
}

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const c = CASES.find((x) => x.name === argv[1]);
    if (c === undefined) { process.stderr.write(`synack bench: no case ${argv[1]}\n`); return 2; }
    process.stdout.write(JSON.stringify(await c.run(argv[2] === '1')) + '\n');
    return 0;
  }
  let args: Args;
  try {
    const p = parse(argv);
    if (p === 'help') {
      process.stdout.write(`${USAGE}\n\n  --runs N   runs per case (default 5; the table shows median and min–max)\n  --only A,B only these cases\n  --quick    smaller transfers\n  --json     machine-readable, with the machine and load average\n\ncases:\n${CASES.map((c) => `  ${c.name.padEnd(24)} ${c.describe}`).join('\n')}\n`);
      return 0;
    }
    args = p;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`synack bench: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const { json, quick, runs, only } = args;
  const m = machine();
  const cases: BenchCase[] = [];
  for (const c of CASES) {
    if (only !== null && !only.includes(c.name)) continue;
    const why = c.unavailable?.() ?? null;
    if (why !== null) {
      // Asked for by name: an error. In the full suite: skipped, and said so.
      if (only !== null) { process.stderr.write(`synack bench: ${c.name} cannot run here: ${why}\n`); return 1; }
      process.stderr.write(`bench: ${c.name} skipped: ${why}\n`);
      continue;
    }
    cases.push(c);
  }
  const tty = process.stderr.isTTY === true;
  process.stderr.write(`bench: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load average ${m.loadavg.join(' ')}; ${cases.length} case(s), ${runs} run(s) each${quick ? ', quick' : ''}\n`);
  const results: Result[] = [];
  // A case that fails is reported (here, in the table and in --json) and the others still run; exit code 1.
  const failed: Array<{ name: string; error: string }> = [];
  const ceilingRuns: number[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    const samples: Sample[] = [];
    const ratios: number[] = [];
    const n = c.once ? 1 : runs;
    try {
      if (c.runAll !== undefined) {
        if (tty) process.stderr.write(`\r${c.name}: ${n} run(s)…   `);
        samples.push(...(await c.runAll(quick, n)));
      } else {
        for (let i = 0; i < n; i++) {
          if (tty) process.stderr.write(`\r${c.name} run ${i + 1}/${n}…   `);
          // Pair each bulk run with a ceiling run at the same MSS, just before it.
          const ceil = c.ceilingMss !== undefined ? ceiling(quick ? 50 : 100, c.ceilingMss).value : 0;
          const s = c.isolated ? await runIsolated(c, quick) : await c.run(quick);
          samples.push(s);
          if (ceil > 0) ratios.push(s.value / ceil);
          if (c.name === 'ceiling') ceilingRuns.push(s.value);
        }
      }
    } catch (e) {
      if (tty) process.stderr.write('\r' + ' '.repeat(60) + '\r');
      const error = (e as Error).message;
      process.stderr.write(`synack bench: ${c.name} failed: ${error}\n`);
      failed.push({ name: c.name, error });
      continue;
    }
    // Batch cases (TUN): compared with the ceiling runs of this invocation (run some if none).
    if (c.runAll !== undefined && c.ceilingMss !== undefined) {
      if (ceilingRuns.length === 0) for (let i = 0; i < 3; i++) ceilingRuns.push(ceiling(quick ? 50 : 100, c.ceilingMss).value);
      const ref = median(ceilingRuns);
      for (const s of samples) ratios.push(s.value / ref);
    }
    const vals = samples.map((s) => s.value);
    const extra: Record<string, number> = {};
    for (const k of Object.keys(samples[0]?.extra ?? {})) extra[k] = median(samples.map((s) => s.extra![k]!));
    const r: Result = { name: c.name, unit: c.unit, median: median(vals), min: Math.min(...vals), max: Math.max(...vals), runs: samples.length };
    if (ratios.length > 0) r.pctOfCeiling = +(median(ratios) * 100).toFixed(1);
    if (Object.keys(extra).length) r.extra = extra;
    results.push(r);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`${tty ? '\r' : ''}bench: ${c.name}: ${fmt(r.median)} ${r.unit} median of ${r.runs} (${fmt(r.min)}–${fmt(r.max)})` +
      `${r.pctOfCeiling !== undefined ? `, ${r.pctOfCeiling}% of ceiling` : ''}; ${secs} s\n`);
  }
  if (json) {
    process.stdout.write(JSON.stringify({ machine: m, quick, results, failed }, null, 2) + '\n');
    return failed.length > 0 ? 1 : 0;
  }
  const rows = [...results.map((r) => [r.name, `${fmt(r.median)} ${r.unit}`, `${fmt(r.min)}–${fmt(r.max)}`, String(r.runs),
    r.pctOfCeiling !== undefined ? `${r.pctOfCeiling}%` : '',
    r.extra ? Object.entries(r.extra).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') : '']),
    ...failed.map((f) => [f.name, 'FAILED', '', '', '', f.error.split('\n')[0]!.slice(0, 120)])];
  const head = ['case', 'median', 'min–max', 'runs', 'of ceiling', 'also'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 1 || i === 2 || i === 4 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  process.stdout.write(`machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.loadavg.join(' ')}\n`);
  process.stdout.write(line(head) + '\n' + w.map((x) => '-'.repeat(x)).join('  ') + '\n' + rows.map(line).join('\n') + '\n');
  if (results.some((r) => r.pctOfCeiling !== undefined)) {
    process.stdout.write('"of ceiling": median over runs of (the run / a ceiling run at the same MSS taken just before it).\n');
  }
  if (failed.length > 0) process.stdout.write(`${failed.length} case(s) failed: ${failed.map((f) => f.name).join(', ')}\n`);
  return failed.length > 0 ? 1 : 0;
}

if (process.argv[2] === '--child' && import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((c) => { process.exitCode = c; });
}
