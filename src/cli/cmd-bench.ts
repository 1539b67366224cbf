// `synack bench [--json] [--only NAME[,NAME]] [--quick] [--runs N]`: the benchmark suite.
// Speed is measured here, never asserted in tests. Each case runs at least 5 times; the
// table shows the median and min–max.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CASES, type BenchCase, type Sample } from './bench/suite.js';

export const summary = 'run the benchmark suite (--json, --only NAME, --quick)';

interface Result { name: string; unit: string; median: number; min: number; max: number; runs: number; extra?: Record<string, number> }

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

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const c = CASES.find((x) => x.name === argv[1])!;
    process.stdout.write(JSON.stringify(await c.run(argv[2] === '1')) + '\n');
    return 0;
  }
  let json = false, quick = false, runs = 5;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--quick') quick = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',');
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a === '--runs') runs = Math.max(1, Number(argv[++i]));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: synack bench [--json] [--only NAME[,NAME]] [--quick] [--runs N]\n\ncases:\n${CASES.map((c) => `  ${c.name.padEnd(24)} ${c.describe}`).join('\n')}\n`);
      return 0;
    } else { process.stderr.write(`synack bench: unknown option ${a}\n`); return 2; }
  }
  const cases = CASES.filter((c) => (only === null || only.includes(c.name)) && (c.available?.() ?? true));
  if (only !== null && cases.length === 0) { process.stderr.write(`synack bench: no case named ${only.join(',')}\n`); return 2; }
  const tty = process.stderr.isTTY && !json;
  const results: Result[] = [];
  for (const c of cases) {
    const samples: Sample[] = [];
    const n = c.name === 'loss-mathis' ? 1 : runs;
    for (let i = 0; i < n; i++) {
      if (tty) process.stderr.write(`\r${c.name} run ${i + 1}/${n}…   `);
      samples.push(c.isolated ? await runIsolated(c, quick) : await c.run(quick));
    }
    const vals = samples.map((s) => s.value);
    const extra: Record<string, number> = {};
    for (const k of Object.keys(samples[0]?.extra ?? {})) extra[k] = median(samples.map((s) => s.extra![k]!));
    results.push({ name: c.name, unit: c.unit, median: median(vals), min: Math.min(...vals), max: Math.max(...vals), runs: n, ...(Object.keys(extra).length ? { extra } : {}) });
  }
  if (tty) process.stderr.write('\r' + ' '.repeat(60) + '\r');
  if (json) {
    process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
    return 0;
  }
  const rows = results.map((r) => [r.name, `${fmt(r.median)} ${r.unit}`, `${fmt(r.min)}–${fmt(r.max)}`, String(r.runs),
    r.extra ? Object.entries(r.extra).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') : '']);
  const head = ['case', 'median', 'min–max', 'runs', 'also'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 1 || i === 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  process.stdout.write(line(head) + '\n' + w.map((x) => '-'.repeat(x)).join('  ') + '\n' + rows.map(line).join('\n') + '\n');
  return 0;
}

if (process.argv[2] === '--child' && import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((c) => { process.exitCode = c; });
}
