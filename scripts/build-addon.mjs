#!/usr/bin/env node
// Builds synack's TUN addon (native/tun.c -> native/build/Release/synack_tun.node) with
// node-gyp. Run by `npm install`; it never fails the install: where there is no compiler,
// no Linux, or no node headers, it prints one line and exits 0, and everything in synack
// except the TUN link keeps working (src/link/tun.ts loads the addon lazily and explains
// what is missing when it is asked for).
//
// Usage: node scripts/build-addon.mjs [--verbose]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');
const verbose = process.argv.includes('--verbose');

function warn(why) {
  console.warn(`synack: TUN addon not built (${why}); everything but \`--tun\` works. Retry: node scripts/build-addon.mjs --verbose`);
  process.exit(0);
}

if (process.env.SYNACK_SKIP_ADDON) process.exit(0);
if (process.platform !== 'linux') process.exit(0); // TUN support is Linux-only: nothing to build, nothing to say
if (!existsSync(join(native, 'binding.gyp'))) process.exit(0); // installed without the native/ sources

/** node-gyp: the one npm runs scripts with, else the one bundled with this node's npm, else PATH. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const prefix = join(dirname(process.execPath), '..');
  for (const p of [
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]) {
    if (existsSync(p)) return [process.execPath, p];
  }
  return ['node-gyp'];
}

const [cmd, ...pre] = findNodeGyp();
const args = [...pre, 'rebuild', `--directory=${native}`];
// Build offline against the headers that came with this node when npm has not said where
// they are (npm passes its `nodedir` setting as npm_config_nodedir).
if (!process.env.npm_config_nodedir) {
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}

const r = spawnSync(cmd, args, { cwd: native, stdio: verbose ? 'inherit' : 'pipe', encoding: 'utf8', timeout: 300_000 });
if (r.error) warn(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  let why = `node-gyp exited with ${r.status ?? r.signal}`;
  if (/not found: (make|cc|gcc|g\+\+)|No such file or directory.*(cc|g\+\+)|gyp ERR! stack Error: not found: make/i.test(out)) why = 'no C compiler or make';
  else if (/find Python|python/i.test(out) && /gyp ERR! find Python/.test(out)) why = 'no python3 for node-gyp';
  else if (/node_api\.h|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(out)) why = 'node headers missing and not downloadable';
  warn(why);
}
if (verbose) console.log(`synack: built ${join(native, 'build', 'Release', 'synack_tun.node')}`);
