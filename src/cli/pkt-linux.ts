// `synack pkt --target linux FILE...`: each script runs on synack (virtual time) and on this
// machine's kernel (real time, in its own network namespace, src/pktlinux/), and the two
// are compared. A script agrees when both targets pass it (or, for a deliberately wrong
// script with an `// expect:` line, both fail it). A script that fails on Linux must declare
// why: a `// linux-differs: <what Linux does>, <RFC § synack follows>` line. Scripts that
// would take longer than --max_duration seconds of real time are skipped on Linux.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runScript } from '../pkt/interpreter.js';
import { linuxTargetUnavailable, runInNamespace, type LinuxOutcome } from '../pktlinux/netns.js';

export interface LinuxTargetArgs {
  files: string[];
  texts: string[];
  options: Array<{ name: string; value: string }>;
  defines: ReadonlyMap<string, string>;
  quiet: boolean;
  jobs: number;
  maxDurationS: number;
  /** Scripts known to fail on Linux without a declaration yet (one path a line): reported, not failing the run. */
  baseline: Set<string> | null;
}

interface Row {
  file: string;
  synack: ReturnType<typeof runScript>;
  linux: LinuxOutcome | null;
  skipped: string | null;
  declared: string[];
  expectFail: boolean;
  /** Passed on this run (2, 3) after failing before. */
  retried?: number;
}

/**
 * The host's net.core.rmem_max and wmem_max: global, so a script's network namespace sees the
 * machine's values and cannot change them; the synack side runs with the same (they choose
 * the window scale, as Linux's tcp_select_initial_window does, and cap SO_RCVBUF/SO_SNDBUF).
 */
function hostCoreSysctls(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of ['rmem_max', 'wmem_max']) {
    try { out.push([`net.core.${name}`, readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim()]); } catch { /* not Linux: defaults */ }
  }
  return out;
}

function failText(f: { line: number; message: string } | null): string {
  return f === null ? '' : `${f.line}: ${f.message}`;
}

export async function runLinuxTarget(a: LinuxTargetArgs): Promise<number> {
  const why = linuxTargetUnavailable();
  if (why !== null) {
    process.stderr.write(`synack pkt --target linux: ${why}\n`);
    return 2;
  }
  const rows: Row[] = a.files.map((file, k) => {
    const text = a.texts[k]!;
    const dir = dirname(resolve(file));
    const readFile = (p: string): string | null => { try { return readFileSync(resolve(dir, p), 'utf8'); } catch { return null; } };
    const synack = runScript(text, { options: a.options, defines: a.defines, readFile, sysctls: hostCoreSysctls() });
    const declared = [...text.matchAll(/^\s*\/\/\s*linux-differs:\s*(.*)$/gm)].map((m) => m[1]!.trim());
    const expectFail = /^\/\/ expect: \d+: /m.test(text);
    const long = synack.endTime > a.maxDurationS * 1e6;
    return { file, synack, linux: null, declared, expectFail, skipped: long ? `runs ${(synack.endTime / 1e6).toFixed(1)} s of script time (over --max_duration=${a.maxDurationS})` : null };
  });
  // Run the Linux side with a few scripts at once (they mostly wait).
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const r = rows[next++]!;
      if (r.skipped !== null) continue;
      const budget = Math.max(r.synack.endTime / 1000, 1000) + 20_000;
      r.linux = await runInNamespace(resolve(r.file), a.options, a.defines, budget);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, a.jobs) }, worker));
  // Real time on a shared machine: a script that fails on Linux unexpectedly is run again
  // before it counts (packetdrill's own run_all.py retries failures the same way) — up to
  // twice, one script at a time once the parallel runs are over, so that our own load does
  // not delay the kernel's timers or our reads of the TUN device.
  for (const r of rows) {
    const budget = Math.max(r.synack.endTime / 1000, 1000) + 20_000;
    for (let run = 2; run <= 3; run++) {
      const unexpected = r.linux !== null && r.linux.ok !== !r.expectFail && r.declared.length === 0 && a.baseline?.has(r.file) !== true;
      if (!unexpected) break;
      const again = await runInNamespace(resolve(r.file), a.options, a.defines, budget);
      if (again.ok === !r.expectFail) { r.linux = again; r.retried = run; }
    }
  }

  let agree = 0; let ran = 0; let bad = 0; let declaredFails = 0; let stale = 0; let known = 0;
  for (const r of rows) {
    const s = r.synack;
    if (r.linux === null) {
      process.stdout.write(`skip ${r.file}: ${r.skipped}\n`);
      continue;
    }
    ran++;
    const l = r.linux;
    const both = r.expectFail ? !s.ok && !l.ok : s.ok && l.ok;
    if (both) agree++;
    if (l.ok === !r.expectFail) {
      process.stdout.write(`ok ${r.file}${r.retried !== undefined ? ` (on run ${r.retried})` : ''}${r.expectFail ? ` (fails as expected: ${failText(l.failure)})` : ''}${s.ok === !r.expectFail ? '' : ' (synack disagrees: ' + (failText(s.failure) || 'passes') + ')'}\n`);
      if (r.declared.length > 0 && !r.expectFail) { stale++; process.stdout.write(`    note: declares linux-differs but passes on Linux\n`); }
    } else if (r.declared.length > 0) {
      declaredFails++;
      process.stdout.write(`differs ${r.file}:${failText(l.failure)}\n    linux-differs: ${r.declared.join('; ')}\n`);
    } else if (a.baseline?.has(r.file) === true) {
      known++;
      process.stdout.write(`known ${r.file}:${l.failure === null ? '0: passes on Linux, expected to fail' : failText(l.failure)}\n`);
    } else {
      bad++;
      process.stdout.write(`FAIL ${r.file}:${l.failure === null ? '0: passes on Linux, expected to fail' : failText(l.failure)}\n`);
      if (l.failure !== null) for (const d of l.failure.details) process.stdout.write(`    ${d}\n`);
    }
    if (!a.quiet) for (const n of new Set(l.notes)) process.stdout.write(`    note: ${n}\n`);
  }
  const skipped = rows.length - ran;
  const fixed = a.baseline === null ? [] : rows.filter((r) => a.baseline!.has(r.file) && r.linux !== null && r.linux.ok === !r.expectFail);
  for (const r of fixed) process.stdout.write(`note: ${r.file} is in the baseline but now passes on Linux: remove it from the baseline\n`);
  process.stdout.write(`synack vs linux: ${agree} of ${ran} scripts agree; ${declaredFails} declared linux-differs; ${known} known differences (baseline, not yet declared or fixed); ${bad} new failures on Linux; ${skipped} skipped (too long for real time)${stale > 0 ? `; ${stale} declared but passing` : ''}\n`);
  process.stdout.write(`${ran - bad - declaredFails - known} passed, ${bad} failed\n`);
  return bad > 0 ? 1 : 0;
}
