// SPDX-License-Identifier: MIT
//
// Open one viewer page in headless Chromium, wait until it has loaded a
// trace, take a screenshot, and print one JSON line describing what the page
// saw.  Driven by tests/lib/viewers.py; playwright-core comes from the
// node_modules that viewers.py installs under build/ (NODE_PATH).
//
//   node drive.js --chromium /usr/bin/chromium --mode catapult|speedscope|page \
//        --url http://127.0.0.1:PORT/... --screenshot out.png [--timeout 60] \
//        [--select SUBSTRING]   (speedscope: the profile to leave on screen)
//        [--wait-text TEXT]     (page: loaded once the page's text has TEXT)
//
// Mode page is any other web viewer (e.g. `go tool pprof -http`): its
// report is {ok, text: the page's visible text}.
//
// Output: {"ok": bool, "error": str|null, "result": {...page's own report},
//          "console": [{type, text}], "pageErrors": [str], "dialogs": [str]}
'use strict';

const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const a = { timeout: 60 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    a[k] = argv[i + 1];
  }
  a.timeout = Number(a.timeout) * 1000;
  return a;
}

// The page's own report: catapult.html sets window.gotraceResult; for
// speedscope we read what its UI shows once a profile is loaded.
async function waitCatapult(page, timeout) {
  await page.waitForFunction(() => window.gotraceResult !== undefined, null, { timeout });
  return page.evaluate(() => window.gotraceResult);
}

// The toolbar's middle line: "<profile name> (i/n)".
function speedscopeTitle(page) {
  return page.evaluate(() => {
    const m = /^(.*) \((\d+)\/(\d+)\)$/m.exec(document.body.innerText);
    return m ? { name: m[1], index: Number(m[2]), count: Number(m[3]) } : null;
  });
}

async function waitSpeedscope(page, timeout, select) {
  // Loaded: the landing page's "Browse" button is gone and a canvas is
  // drawn; failed: speedscope shows its error view or raises an alert.
  await page.waitForFunction(() => {
    const text = document.body ? document.body.innerText : '';
    if (/Something went wrong|Unrecognized format|Failed to load/.test(text))
      return true;
    return document.querySelector('canvas') !== null && !/Browse/.test(text);
  }, null, { timeout });
  await page.waitForTimeout(500);
  const res = {
    ok: !/Something went wrong|Unrecognized format|Failed to load/.test(
      await page.evaluate(() => document.body.innerText)),
    profiles: [],
  };
  // Walk every profile (one per thread) with speedscope's "n" key, then
  // come back to the first whose name contains `select`.
  let t = await speedscopeTitle(page);
  if (res.ok && !t) {
    // One profile (e.g. folded stacks): the toolbar shows its name alone,
    // with no "(i/n)".
    const text = await page.evaluate(() => document.body.innerText);
    await page.waitForTimeout(1000);
    return Object.assign(res, { profiles: [text], shown: text, text: text });
  }
  if (!res.ok)
    return Object.assign(res, { text: await page.evaluate(() => document.body.innerText) });
  for (let i = 0; i < t.count; i++) {
    res.profiles.push(t.name);
    if (i + 1 < t.count) {
      await page.keyboard.press('n');
      await page.waitForFunction(j => document.body.innerText.includes('(' + j + '/'), i + 2, { timeout: 5000 });
      t = await speedscopeTitle(page);
    }
  }
  const want = select ? res.profiles.findIndex(n => n.includes(select)) : 0;
  for (let i = res.profiles.length - 1; i > Math.max(want, 0); i--)
    await page.keyboard.press('p');
  await page.waitForTimeout(1000);	// let the flame chart draw
  res.shown = (await speedscopeTitle(page) || {}).name;
  return res;
}

async function waitPage(page, timeout, text) {
  // An SVG document has no body: its text is the root element's.
  const pageText = () => document.body ? document.body.innerText
                                       : (document.documentElement || {}).textContent || '';
  await page.waitForFunction(`(${pageText})().includes(${JSON.stringify(text || '')})`, null,
                             { timeout });
  await page.waitForTimeout(1000);	// let it draw
  return { ok: true, text: await page.evaluate(pageText) };
}

async function main() {
  const args = parseArgs(process.argv);
  const out = { ok: false, error: null, result: null, console: [], pageErrors: [], dialogs: [] };
  let browser;

  try {
    browser = await chromium.launch({
      executablePath: args.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run',
             '--disable-quic', '--disable-dev-shm-usage',
             // speedscope draws with WebGL: software rendering, without the
             // console warning about falling back to it
             '--enable-unsafe-swiftshader'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('console', m => out.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', e => out.pageErrors.push(String(e && e.stack || e)));
    page.on('dialog', async d => { out.dialogs.push(d.message()); await d.dismiss(); });
    await page.goto(args.url, { waitUntil: 'load', timeout: args.timeout });
    if (args.mode === 'speedscope')
      out.result = await waitSpeedscope(page, args.timeout, args.select);
    else if (args.mode === 'page')
      out.result = await waitPage(page, args.timeout, args['wait-text']);
    else
      out.result = await waitCatapult(page, args.timeout);
    if (args.screenshot)
      await page.screenshot({ path: args.screenshot });
    out.ok = true;
  } catch (e) {
    out.error = String(e && e.message || e);
  } finally {
    if (browser)
      await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
