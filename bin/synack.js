#!/usr/bin/env node
// The `synack` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the package's `prepare` script) or `npm run build`.
import('../dist/src/cli/main.js').then(
  (m) => m.main(process.argv.slice(2)).then((code) => { process.exitCode = code; }),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      console.error('synack: dist/ is missing; run `npm run build` first');
      process.exitCode = 1;
    } else {
      throw err;
    }
  },
);
