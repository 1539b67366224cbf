// Regenerates the README's lab images (docs/img/*.png) from the built lab page, in Debian's
// Chromium via playwright-core, so that they show what the lab shows today (they went stale
// once: the initial windows changed and the images still showed win=65535).
// Usage: npm run build && node scripts/docs-images.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveLab, labDir } from '../dist/src/cli/cmd-lab.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGES = [
  { file: 'lab-syn-lost.png', query: 'scenario=syn-lost&step=5&lang=en', width: 1364, height: 1011 },
  { file: 'lab-close-zh.png', query: 'scenario=data-and-close&step=end&lang=zh&labels=textbook', width: 1364, height: 1310 },
];
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const server = await serveLab(labDir(), 0);
const profile = mkdtempSync(join(tmpdir(), 'synack-docs-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
try {
  const port = server.address().port;
  const page = ctx.pages()[0] ?? await ctx.newPage();
  for (const img of IMAGES) {
    await page.setViewportSize({ width: img.width, height: img.height });
    await page.goto(`http://127.0.0.1:${port}/?${img.query}`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.screenshot({ path: join(root, 'docs', 'img', img.file) });
    console.log(`docs/img/${img.file}: ${img.query}`);
  }
} finally {
  await ctx.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
