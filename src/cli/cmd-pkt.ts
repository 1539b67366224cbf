// `synack pkt [--trace] [--quiet] [--name=value …] FILE...`: run packetdrill-dialect
// scripts against synack in virtual time. One line per script (`ok FILE` or
// `FAIL FILE:LINE: …`, then notes about what was ignored), then `N passed, N failed`;
// exit status 1 when any failed.
import { readFileSync } from 'node:fs';
import { runScript, type RunResult } from '../pkt/interpreter.js';
import { TraceRecorder } from '../trace/recorder.js';
import { renderAscii } from '../viz/ascii.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import { DEFAULT_CONFIG } from '../pkt/config.js';

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
  --ignore_extra_packets  do not fail on outbound packets the script does not expect
  --name=value            any other packetdrill option, as if on the script's first line
`;

export async function run(argv: string[]): Promise<number> {
  const files: string[] = [];
  const options: Array<{ name: string; value: string }> = [];
  let trace = false;
  let quiet = false;
  for (const a of argv) {
    if (a === '--help' || a === '-h') { process.stdout.write(HELP); return 0; }
    if (a === '--trace') { trace = true; continue; }
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
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stdout.write(`FAIL ${file}: cannot read: ${(e as Error).message}\n`);
      failed++;
      continue;
    }
    const rec = trace ? new TraceRecorder() : null;
    const r: RunResult = runScript(text, { options, onStack: rec === null ? undefined : (s) => { rec.attach(s); } });
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
