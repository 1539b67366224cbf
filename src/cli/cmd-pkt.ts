// `synack pkt [--trace] [--quiet] [--name=value …] FILE...`: run packetdrill-dialect
// scripts against synack in virtual time. One line per script (`ok FILE` or
// `FAIL FILE:LINE: …`, then notes about what was ignored), then `N passed, N failed`;
// exit status 1 when any failed.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runScript, type RunResult } from '../pkt/interpreter.js';
import { TraceRecorder } from '../trace/recorder.js';
import { renderAscii } from '../viz/ascii.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { DEFAULT_CONFIG } from '../pkt/config.js';
import { runLinuxTarget } from './pkt-linux.js';

export const summary = 'run packetdrill-dialect scripts in virtual time (FILE..., --trace)';

const HELP = `usage: synack pkt [options] FILE...

Runs packetdrill-dialect scripts against synack in virtual time.

options:
  --trace                 print each run as an ASCII sequence diagram
  --quiet                 do not print notes (ignored shell commands, options, python blocks)
  --tolerance_usecs=N     timing tolerance (default 4000; at least 12.5% of the gap)
  --strict_segments       do not merge consecutive outbound data segments
  --ignore-win            do not compare outbound windows
  --ignore-options        do not compare TCP options (kinds, order, values)
  --ignore-psh            ignore the PSH flag
  --fail_extra_packets    fail on outbound packets sent after the script's last line
                          (packetdrill ignores them; so does synack pkt by default)
  --target linux          run each script on this machine's kernel too (root; a network
                          namespace and TUN device per script, real time) and compare
  --jobs N                linux scripts run at once (default 4)
  --max_duration S        skip on linux scripts longer than S s of script time (default 30)
  --baseline FILE         scripts known to fail on linux (one path a line): reported as
                          'known', not failures
  --define NAME[=VALUE]   define NAME for #ifdef blocks and expressions (also --define=…,
  -D NAME[=VALUE]         -D NAME, -DNAME); 'Linux' is always defined
  --name=value            any other packetdrill option, as if on the script's first line
`;

export async function run(argv: string[]): Promise<number> {
  const files: string[] = [];
  const options: Array<{ name: string; value: string }> = [];
  let trace = false;
  let quiet = false;
  let target = 'synack';
  let jobs = 4;
  let maxDurationS = 30;
  let baselineFile: string | null = null;
  const defines = new Map<string, string>();
  const define = (d: string | undefined): boolean => {
    if (d === undefined || !/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/.test(d)) return false;
    const eq = d.indexOf('=');
    if (eq < 0) defines.set(d, '1'); else defines.set(d.slice(0, eq), d.slice(eq + 1));
    return true;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') { process.stdout.write(HELP); return 0; }
    if (a === '--define' || a === '-D' || a.startsWith('--define=') || (a.startsWith('-D') && a.length > 2)) {
      const d = a === '--define' || a === '-D' ? argv[++i] : a.startsWith('-D') ? a.slice(2) : a.slice('--define='.length);
      if (!define(d)) {
        process.stderr.write(`synack pkt: ${a} needs NAME[=VALUE], got '${d ?? ''}'\n` + HELP);
        return 2;
      }
      continue;
    }
    if (a === '--trace') { trace = true; continue; }
    if (a === '--baseline' || a.startsWith('--baseline=')) {
      baselineFile = a.startsWith('--baseline=') ? a.slice('--baseline='.length) : argv[++i] ?? '';
      continue;
    }
    if (a === '--target' || a.startsWith('--target=') || a === '--jobs' || a.startsWith('--jobs=') || a === '--max_duration' || a.startsWith('--max_duration=')) {
      const eq = a.indexOf('=');
      const v = eq < 0 ? argv[++i] : a.slice(eq + 1);
      const key = eq < 0 ? a : a.slice(0, eq);
      if (key === '--target') {
        if (v !== 'linux' && v !== 'synack') { process.stderr.write(`synack pkt: --target is synack or linux, got '${v ?? ''}'\n` + HELP); return 2; }
        target = v;
      } else {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) { process.stderr.write(`synack pkt: ${key} needs a positive number, got '${v ?? ''}'\n` + HELP); return 2; }
        if (key === '--jobs') jobs = Math.floor(n); else maxDurationS = n;
      }
      continue;
    }
    if (a === '--quiet' || a === '-q') { quiet = true; continue; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      options.push(eq < 0 ? { name: a.slice(2), value: '' } : { name: a.slice(2, eq), value: a.slice(eq + 1) });
      continue;
    }
    files.push(a);
  }
  if (files.length === 0) {
    process.stderr.write('synack pkt: no script given\n' + HELP);
    return 2;
  }
  // A file that cannot be read is a usage error (exit 2), as for packetdrill, before anything runs.
  const texts: string[] = [];
  for (const file of files) {
    try {
      texts.push(readFileSync(file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      process.stderr.write(`synack pkt: cannot read ${file}: ${why}\n` + HELP);
      return 2;
    }
  }
  if (target === 'linux') {
    let baseline: Set<string> | null = null;
    if (baselineFile !== null) {
      try {
        baseline = new Set(readFileSync(baselineFile, 'utf8').split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== ''));
      } catch (e) {
        process.stderr.write(`synack pkt: cannot read ${baselineFile}: ${(e as Error).message}\n`);
        return 2;
      }
    }
    return runLinuxTarget({ files, texts, options, defines, quiet, jobs, maxDurationS, baseline });
  }
  let passed = 0;
  let failed = 0;
  for (const [k, file] of files.entries()) {
    const text = texts[k]!;
    const dir = dirname(resolve(file));
    const readFile = (p: string): string | null => {
      try { return readFileSync(resolve(dir, p), 'utf8'); } catch { return null; }
    };
    const rec = trace ? new TraceRecorder() : null;
    const r: RunResult = runScript(text, { options, defines, readFile, onStack: rec === null ? undefined : (s) => { rec.attach(s); } });
    if (r.ok) {
      passed++;
      process.stdout.write(`ok ${file}\n`);
    } else {
      failed++;
      const f = r.failure!;
      process.stdout.write(`FAIL ${file}:${f.line}: ${f.message}\n`);
      for (const d of f.details) process.stdout.write(`    ${d}\n`);
    }
    if (!quiet) for (const n of r.notes) process.stdout.write(`    note: ${n}\n`);
    if (rec !== null) {
      const names: Record<string, string> = {
        [formatIpv4Address(DEFAULT_CONFIG.localAddr)]: 'synack',
        [formatIpv4Address(DEFAULT_CONFIG.remoteAddr)]: 'script',
      };
      process.stdout.write(renderAscii(rec.events, { names }) + '\n');
      rec.detach();
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}
