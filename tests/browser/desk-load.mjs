// Works a Mesa de Control queue by keyboard alone on a running server (not run by the
// tests): logs in through /console/login, opens the desk of a process, and presses V for
// most supports and «1, Intro» (an invalidating inconsistency) for every tenth, until
// the queue ends or MAX decisions. Prints progress and, at the end, decisions, seconds
// and decisions per minute.
//
//   node desk-load.mjs BASE_URL EMAIL PASSWORD PROCESS_ID [MAX]
//   e.g. (after `apoyo demo`): node desk-load.mjs http://127.0.0.1:8080 \
//          revision@demo.apoyo.test <password> 1 2000
//
// CHROMIUM_PATH overrides /usr/bin/chromium.
import { chromium } from 'playwright-core';

const [base, email, password, processId, maxArg] = process.argv.slice(2);
if (!base || !email || !password || !processId) {
  console.error('usage: node desk-load.mjs BASE_URL EMAIL PASSWORD PROCESS_ID [MAX]');
  process.exit(2);
}
const max = Number(maxArg || 100000);
const T = 30000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: 'es-MX' });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));

await page.goto(`${base}/console/login?next=/console/review/${processId}`);
await page.locator('#email').fill(email);
await page.locator('#password').fill(password);
await page.keyboard.press('Enter');
await page.waitForURL(new RegExp(`/console/review/${processId}$`), { timeout: T });
const title = page.locator('#task-title');
const status = page.locator('#desk-status');
await page.waitForFunction(() => document.getElementById('task-title')
  || /Cola terminada/.test(document.getElementById('desk-status').textContent), null, { timeout: T });

const started = Date.now();
let decided = 0;
let marked = 0;
while (decided < max && !/Cola terminada/.test(await status.textContent())) {
  const folio = await title.textContent();
  if ((decided + 1) % 10 === 0) {
    await page.keyboard.press('1');
    await page.keyboard.press('Enter');
    marked += 1;
  } else {
    await page.keyboard.press('v');
  }
  decided += 1;
  await page.waitForFunction((before) => {
    const t = document.getElementById('task-title');
    return (t && t.textContent !== before)
      || /Cola terminada/.test(document.getElementById('desk-status').textContent);
  }, folio, { timeout: T });
  if (decided % 100 === 0) {
    const seconds = (Date.now() - started) / 1000;
    console.log(`${decided} decisions in ${seconds.toFixed(1)} s`);
  }
}
const seconds = (Date.now() - started) / 1000;
const ended = /Cola terminada/.test(await status.textContent());
console.log(JSON.stringify({
  decisions: decided, with_inconsistency: marked, seconds: Number(seconds.toFixed(1)),
  per_minute: Math.round(decided / (seconds / 60)), queue_ended: ended, page_errors: errors,
}));
await browser.close();
process.exit(errors.length ? 1 : 0);
