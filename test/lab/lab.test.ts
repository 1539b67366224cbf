// The lab page in a real browser: Debian's Chromium driven by playwright-core (never a
// downloaded browser). Loads dist/lab from `synack lab`'s file server on 127.0.0.1, runs
// every scenario to its end with no console errors, steps back and forth, loses a segment
// and sees the retransmission, changes a sysctl and sees the effect, switches to Chinese,
// and compares a few screenshots with stored images (pixel difference with a tolerance,
// computed in the browser's own canvas). UPDATE_SCREENSHOTS=1 rewrites the stored images.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { serveLab, labDir } from '../../src/cli/cmd-lab.js';
import { SCENARIOS } from '../../src/scenarios/index.js';

const CHROMIUM = '/usr/bin/chromium';
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const shots = join(root, 'test', 'lab', 'screenshots');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : !existsSync(join(labDir(), 'index.html')) ? 'dist/lab is not built' : null;
// In CI the browser must be there (.ci/run installs it): a missing one fails instead of skipping.
const skip = missing !== null && process.env.CI !== 'true' ? missing : false;

type Page = import('playwright-core').Page;
type Context = import('playwright-core').BrowserContext;
let server: Server | null = null;
let ctx: Context | null = null;
let page: Page;
let base = '';
let profile = '';
const errors: string[] = [];

before(async () => {
  if (skip !== false) return;
  if (missing !== null) throw new Error(missing);
  server = await serveLab(labDir(), 0);
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`;
  const { chromium } = await import('playwright-core');
  profile = mkdtempSync(join(tmpdir(), 'synack-15-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 1000 } });
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
});

after(async () => {
  await ctx?.close();
  if (server !== null) await new Promise((r) => server!.close(r));
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
});

async function open(query: string): Promise<void> {
  await page.goto(`${base}?${query}`);
  await page.waitForSelector('body[data-ready="1"]');
}

const count = (sel: string): Promise<number> => page.locator(sel).count();
const step = async (): Promise<number> => Number(await page.getAttribute('body', 'data-step'));

test('every scenario runs to its end in the page, all checks green, no console errors', { skip }, async () => {
  for (const sc of SCENARIOS) {
    await open(`scenario=${sc.name}&step=end&lang=en`);
    assert.equal(await count('#checks li.bad'), 0, `${sc.name}: ${await page.locator('#checks li.bad').allInnerTexts()}`);
    assert.ok(await count('#checks li.ok') > 0, sc.name);
    assert.ok(await count('#diagram svg g.segment') > 0, sc.name);
    assert.equal(Number(await page.getAttribute('body', 'data-step')) + 1, Number(await page.getAttribute('body', 'data-steps')), sc.name);
  }
  assert.deepEqual(errors, []);
});

test('stepping back and forth grows and shrinks the diagram; the TCB panels follow', { skip }, async () => {
  await open('scenario=handshake&step=end&lang=en');
  const end = await step();
  const segsAtEnd = await count('#diagram g.segment');
  assert.equal(segsAtEnd, 3);
  await page.click('#b-start');
  assert.equal(await step(), 0);
  assert.ok(await count('#diagram g.segment') < segsAtEnd);
  // Forward until the SYN is on the wire: the client is SYN-SENT with its SYN timer armed.
  while (await count('#diagram g.segment') === 0) await page.click('#b-forward');
  assert.match(await page.locator('#tcbs .tcb[data-host="198.18.0.1"]').innerText(), /SYN-SENT[\s\S]*syn in 1\.000s/);
  await page.click('#b-end');
  assert.equal(await step(), end);
  assert.match(await page.locator('#tcbs .tcb[data-host="198.18.0.2"]').innerText(), /ESTABLISHED/);
  assert.match(await page.locator('#ss').innerText(), /LISTEN[\s\S]*ESTAB/);
  await page.click('#b-back');
  assert.equal(await step(), end - 1);
  assert.match(page.url(), new RegExp(`step=${end - 1}`));
  assert.deepEqual(errors, []);
});

test('"lose this one": clicking the SYN-ACK drops it and the server retransmits it', { skip }, async () => {
  await open('scenario=handshake&step=end&lang=en');
  await page.locator('#diagram g.segment').nth(1).locator('line.hit').click({ force: true });
  await page.waitForSelector('#drops .chip');
  assert.equal(await page.locator('#drops .chip').innerText(), '#1');
  assert.match(page.url(), /drops=1/);
  await page.click('#b-end');
  assert.equal(await count('#diagram g.segment.lost'), 1);
  assert.ok(await count('#diagram g.segment.retransmit') >= 1);
  assert.ok(await count('#checks li.bad') > 0, 'the default run\'s checks show what changed');
  assert.deepEqual(errors, []);
});

test('changing a sysctl re-runs the scenario: tcp_syn_retries=2 gives 3 SYNs', { skip }, async () => {
  await open('scenario=connect-timeout&step=end&lang=en');
  assert.equal(await count('#diagram g.segment'), 7);
  await page.fill('#s-tcp_syn_retries', '2');
  await page.press('#s-tcp_syn_retries', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#diagram g.segment').length === 3);
  assert.match(page.url(), /set=tcp_syn_retries%3A2/);
  assert.match(await page.locator('#checks').innerText(), /got 0 1 3/);
  assert.deepEqual(errors, []);
});

test('switching to Chinese translates the page and the diagram annotations', { skip }, async () => {
  await open('scenario=syn-lost&step=end&lang=en');
  assert.match(await page.locator('#diagram svg').innerHTML(), /SYN timeout/);
  await page.click('#lang');
  assert.equal(await page.locator('#h-explain').innerText(), '为什么');
  assert.match(await page.locator('#scenario-title').innerText(), /SYN 丢失|丢失/);
  const svg = await page.locator('#diagram svg').innerHTML();
  assert.match(svg, /SYN 重传定时器到期/);
  assert.match(svg, /（重传）/);
  assert.doesNotMatch(svg, /SYN timeout|\(retransmit\)/);
  assert.match(page.url(), /lang=zh/);
  await page.selectOption('#labels', 'textbook');
  assert.match(await page.locator('#diagram svg').innerHTML(), /第一次握手[\s\S]*第二次握手[\s\S]*第三次握手/);
  assert.deepEqual(errors, []);
});

test('what-ifs run as counterfactuals, marked NOT TCP', { skip }, async () => {
  await open('scenario=handshake&step=end&lang=en');
  assert.equal(await page.locator('#not-tcp').isVisible(), false);
  await page.click('button.whatif-run[data-scenario="whatif-no-time-wait"]');
  await page.waitForFunction(() => document.getElementById('scenario-title')!.textContent!.startsWith('whatif-no-time-wait'));
  assert.match(await page.locator('#not-tcp').innerText(), /NOT TCP.*no TIME-WAIT/);
  assert.equal(await count('#checks li.bad'), 0);
  assert.match(await page.locator('#diagram svg').innerHTML(), /old duplicate/);
  await open('scenario=time-wait-2msl&step=end&lang=zh&whatif=msl0');
  assert.match(await page.locator('#not-tcp').innerText(), /不是 TCP.*MSL = 0/);
  assert.ok(await count('#checks li.bad') > 0, 'MSL = 0 changes what the TIME-WAIT checks see');
  assert.deepEqual(errors, []);
});

test('exports: SVG, pcap and JSON of the current run', { skip }, async () => {
  await open('scenario=syn-lost&step=end&lang=en');
  const get = async (id: string): Promise<{ name: string; body: Buffer }> => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(id)]);
    const file = join(profile, dl.suggestedFilename());
    await dl.saveAs(file);
    return { name: dl.suggestedFilename(), body: readFileSync(file) };
  };
  const svg = await get('#x-svg');
  assert.equal(svg.name, 'syn-lost.svg');
  assert.match(svg.body.toString(), /^<svg [\s\S]*class="legend"[\s\S]*<\/svg>\n$/);
  const pcap = await get('#x-pcap');
  assert.equal(pcap.body.readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
  const json = JSON.parse((await get('#x-json')).body.toString()) as Array<{ type: string; lost?: boolean }>;
  assert.equal(json.filter((e) => e.type === 'segment' && e.lost === true).length, 2);
  assert.deepEqual(errors, []);
});

/** Fraction of pixels differing by more than `tol` in any channel, computed in the page. */
async function pixelDiff(a: Buffer, b: Buffer, tol = 40): Promise<number> {
  return page.evaluate(async ([x, y, t]) => {
    const load = async (b64: string) => { const img = new Image(); img.src = `data:image/png;base64,${b64}`; await img.decode(); return img; };
    const [ia, ib] = await Promise.all([load(x as string), load(y as string)]);
    if (ia.width !== ib.width || ia.height !== ib.height) return 1;
    const px = (img: HTMLImageElement) => { const c = document.createElement('canvas'); c.width = img.width; c.height = img.height; const g = c.getContext('2d')!; g.drawImage(img, 0, 0); return g.getImageData(0, 0, img.width, img.height).data; };
    const da = px(ia), db = px(ib);
    let diff = 0;
    for (let i = 0; i < da.length; i += 4) {
      if (Math.abs(da[i]! - db[i]!) > (t as number) || Math.abs(da[i + 1]! - db[i + 1]!) > (t as number) || Math.abs(da[i + 2]! - db[i + 2]!) > (t as number)) diff++;
    }
    return diff / (da.length / 4);
  }, [a.toString('base64'), b.toString('base64'), tol] as const);
}

const SHOTS: Array<{ name: string; query: string }> = [
  { name: 'handshake-en', query: 'scenario=handshake&step=end&lang=en' },
  { name: 'data-and-close-textbook-zh', query: 'scenario=data-and-close&step=end&lang=zh&labels=textbook' },
  { name: 'syn-lost-step5-en', query: 'scenario=syn-lost&step=5&lang=en' },
];

test('screenshots match the stored images (at most 1.5% of pixels differ)', { skip }, async () => {
  mkdirSync(shots, { recursive: true });
  for (const s of SHOTS) {
    await open(s.query);
    // The diagram and the TCB panels: the state of the run (the explanation text may be edited freely).
    for (const part of ['diagram', 'tcbs'] as const) {
    const png = await page.locator(`#${part}`).screenshot();
    const file = join(shots, `${s.name}-${part}.png`);
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(file)) {
      if (process.env.CI === 'true' && !existsSync(file)) assert.fail(`${file} missing`);
      writeFileSync(file, png);
      continue;
    }
    const d = await pixelDiff(readFileSync(file), png);
    if (d > 0.015) writeFileSync(join(tmpdir(), `synack-lab-${s.name}-${part}.actual.png`), png);
    assert.ok(d <= 0.015, `${s.name}-${part}: ${(d * 100).toFixed(2)}% of pixels differ (actual in ${tmpdir()})`);
    }
  }
  assert.deepEqual(errors, []);
});
