// Works a Mesa de Control queue by keyboard alone on a running server (not run by the
// tests): logs in through /console/login (choosing a new password when the account has a
// one-time one), opens the desk of a process, and presses V for most supports and
// «1, Intro» (an invalidating inconsistency) for every tenth, until the queue ends or MAX
// decisions. Prints progress every 100 decisions and, at the end, one JSON line:
// decisions, with an inconsistency, retries (the desk's «Intentar de nuevo» when the next
// support did not arrive), seconds, decisions per minute, whether the queue ended;
// exits 1 if a decision failed or the page had an error.
//
//   node desk-load.mjs BASE_URL EMAIL PASSWORD PROCESS_ID [MAX]
//
// or with the environment: DESK_BASE_URL, DESK_EMAIL, DESK_PASSWORD, DESK_PROCESS,
// DESK_MAX; DESK_NEW_PASSWORD (the new password when a one-time one must be changed);
// CHROMIUM_PATH overrides /usr/bin/chromium. E.g., after `apoyo demo`:
//
//   node tests/browser/desk-load.mjs http://127.0.0.1:8080 revision@demo.apoyo.test \
//     "$(awk '/revision@/ {print $NF}' apoyo-data/demo-accounts.txt)" 1 2000
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const env = process.env;
const base = (args[0] || env.DESK_BASE_URL || '').replace(/\/$/, '');
const email = args[1] || env.DESK_EMAIL;
const password = args[2] || env.DESK_PASSWORD;
const processId = args[3] || env.DESK_PROCESS;
const max = Number(args[4] || env.DESK_MAX || 1_000_000);
if (!base || !email || !password || !processId || !(max > 0)) {
  console.error('usage: node desk-load.mjs BASE_URL EMAIL PASSWORD PROCESS_ID [MAX]');
  process.exit(2);
}
const T = 30000;
const EVERY = 10; // every tenth support gets an inconsistency

const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: 'es-MX' });
const errors = [];
page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
});

let decided = 0;
let marked = 0;
let retries = 0; // the desk's «Intentar de nuevo», pressed with Intro
let started = Date.now();
let failure = null;

function report() {
  const seconds = (Date.now() - started) / 1000;
  return {
    decisions: decided,
    with_inconsistency: marked,
    retries,
    seconds: Number(seconds.toFixed(1)),
    per_minute: seconds > 0 ? Math.round(decided / (seconds / 60)) : 0,
    queue_ended: false,
    failure,
    page_errors: errors,
  };
}

const ended = async () => /Cola terminada/.test(await page.locator('#desk-status').textContent());

try {
  await page.goto(`${base}/console/login?next=/console/review/${processId}`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => !url.pathname.startsWith('/console/login'), { timeout: T })
    .catch(async () => {
      const why = await page.locator('.form-error').textContent().catch(() => '');
      throw new Error(`login failed: ${why}`);
    });
  if (new URL(page.url()).pathname === '/console/password') {
    // A one-time password: the console asks for a new one before anything else.
    const chosen = env.DESK_NEW_PASSWORD;
    if (!chosen) throw new Error('the account has a one-time password: set DESK_NEW_PASSWORD to the new one');
    await page.locator('#current_password').fill(password);
    await page.locator('#new_password').fill(chosen);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname === '/console/', { timeout: T });
    console.log('password changed (DESK_NEW_PASSWORD is the password from now on)');
    await page.goto(`${base}/console/review/${processId}`);
  }
  if (!new URL(page.url()).pathname.endsWith(`/console/review/${processId}`)) {
    throw new Error(`expected the desk, got ${page.url()}`);
  }
  const title = page.locator('#task-title');
  await page.waitForFunction(() => document.getElementById('task-title')
    || /Cola terminada/.test(document.getElementById('desk-status').textContent), null, { timeout: T });
  console.log(`desk of process ${processId} open; working up to ${max} supports`);

  started = Date.now();
  while (decided < max && !(await ended())) {
    const folio = await title.textContent();
    if ((decided + 1) % EVERY === 0) {
      await page.keyboard.press('1');
      await page.keyboard.press('Enter');
      marked += 1;
    } else {
      await page.keyboard.press('v');
    }
    // The next support on screen, the queue done, the desk's offer to try again (the
    // decision was recorded but the next support did not arrive), or its error message.
    const wait = (before) => page.waitForFunction((shown) => {
      const t = document.getElementById('task-title');
      if (/Cola terminada/.test(document.getElementById('desk-status').textContent)) return 'next';
      if (t && t.textContent !== shown) return 'next';
      if (document.getElementById('desk-retry') === document.activeElement) return 'retry';
      const error = document.querySelector('.decision .form-error:not([hidden])');
      return error ? `error: ${error.textContent}` : false;
    }, before, { timeout: T }).then((h) => h.jsonValue());
    let what = await wait(folio);
    if (what === 'retry' || what === 'next') decided += 1;
    for (let tries = 0; what === 'retry' && tries < 5; tries += 1) {
      retries += 1;
      console.log(`after ${folio}: ${await page.locator('#desk').textContent()}; Intro to try again`);
      await page.keyboard.press('Enter');
      what = await wait(folio);
    }
    if (what !== 'next') throw new Error(`${folio}: ${what}`);
    if (decided % 100 === 0) {
      const r = report();
      console.log(`${decided} decisions in ${r.seconds} s (${r.per_minute} a minute)`);
    }
  }
  const final = { ...report(), queue_ended: await ended() };
  console.log(JSON.stringify(final));
  await browser.close();
  process.exit(errors.length ? 1 : 0);
} catch (error) {
  failure = String(error.message || error);
  console.log(JSON.stringify(report()));
  console.error('desk-load failed:', failure);
  await browser.close();
  process.exit(1);
}
