// Entry point run inside a script's network namespace (`ip netns exec NS node child.js
// JSON`): runs one script against the kernel and prints the result as one JSON line.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runScriptLinux } from './runner.js';

interface ChildArgs {
  file: string;
  options: Array<{ name: string; value: string }>;
  defines: Array<[string, string]>;
  localAddr: number;
  remoteAddr: number;
}

const a = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const file = resolve(a.file);
const r = runScriptLinux(readFileSync(file, 'utf8'), {
  options: a.options, defines: new Map(a.defines), dir: dirname(file), tun: 'tun12p',
  localAddr: a.localAddr, remoteAddr: a.remoteAddr,
});
process.stdout.write(JSON.stringify(r) + '\n');
