// The setup module scripts/shard-threads.mjs gives each shard: the bench's sink (the tree's
// src/cli/bench/shard-sink.ts), plus {cmd:'tid'}: this worker's thread id, from /proc/thread-self.
import { readlinkSync } from 'node:fs';
export default async function (ctx) {
  const tree = ctx.data.tree;
  const mod = await import(tree + '/dist/src/cli/bench/shard-sink.js');
  let h = null;
  const proxy = Object.create(ctx, { onRequest: { value: (fn) => { h = fn; } } });
  mod.default(proxy);
  ctx.onRequest((m) => m && m.cmd === 'tid' ? readlinkSync('/proc/thread-self').split('/').pop() : h(m));
}
