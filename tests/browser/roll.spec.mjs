// Browser test of the Lista Nominal page (/console/roll) in headless Chromium, driven by
// playwright-core. Started by crates/server/tests/roll_browser.rs, which runs the real
// server and checks its API afterwards:
//
//   node roll.spec.mjs <config.json>
//
// config: {base, chromium, result (path), admin: {email, password}, good_file, good_name,
// broken_file, broken_name}.
//
// The administrator logs in, uploads a good roll file with the page's form (the upload's
// progress, then the import's, then the result), then a file with a broken line (the
// Spanish error names the line); axe-core (WCAG 2 A/AA and best practices) checks the page
// before, with the result shown, with the error shown, and after a reload, and any finding
// fails. Writes `result`; exits 1 on the first failure.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const result = { axe: {}, done: null, error: null, labels: [], table: null };
const T = 60000;

function assert(cond, message) { if (!cond) throw new Error(`assertion failed: ${message}`); }

const browser = await chromium.launch({
  executablePath: config.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];

async function axe(page, name) {
  assert(!(name in result.axe), `page checked twice: ${name}`);
  // CDP evaluation is not subject to the page's CSP, so axe needs no inline script.
  await page.evaluate(axeSource);
  const report = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  result.axe[name] = report.violations.map((v) => `${v.impact}:${v.id}`);
  assert(report.violations.length === 0, `axe on «${name}»: ${report.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
}

let page;
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'es-MX', timezoneId: 'America/Mexico_City',
  });
  page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    // The browser logs the 401 of the first visit (to the login page) and the favicon's 404.
    if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`unexpected dialog: ${d.message()}`); d.dismiss(); });

  await page.goto(`${config.base}/console/roll`);
  await page.waitForURL(/\/console\/login\?next=/, { timeout: T });
  await page.locator('#email').fill(config.admin.email);
  await page.locator('#password').fill(config.admin.password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === '/console/roll', { timeout: T });
  await page.locator('h1').first().waitFor({ timeout: T });
  await axe(page, 'lista nominal');

  // Every label the progress panel shows, as it changes.
  await page.exposeFunction('recordLabel', (text) => { result.labels.push(text); });
  await page.evaluate(() => {
    const label = document.getElementById('roll-progress-label');
    new MutationObserver(() => window.recordLabel(label.textContent)).observe(label, { childList: true, characterData: true, subtree: true });
  });

  // A good file: upload, import, result.
  await page.locator('#roll-file').setInputFiles(config.good_file);
  await page.locator('#roll-name').fill(config.good_name);
  await page.locator('#roll-cut-date').fill('2025-01-31');
  await page.locator('#roll-activate').uncheck();
  await page.locator('#roll-import-form button[type="submit"]').click();
  await page.locator('#roll-import-done:not([hidden])').waitFor({ timeout: T });
  result.done = await page.locator('#roll-import-status').textContent();
  assert(/Se importó el corte/.test(result.done), `result: ${result.done}`);
  assert(await page.locator('#roll-progress-label').textContent() === 'Importación terminada', 'final label');
  await axe(page, 'importación terminada');

  // A broken line: the error names it, in the form's alert.
  await page.locator('#roll-file').setInputFiles(config.broken_file);
  await page.locator('#roll-name').fill(config.broken_name);
  await page.locator('#roll-import-form button[type="submit"]').click();
  const alert = page.locator('#roll-import-form .form-error:not([hidden])');
  await alert.waitFor({ timeout: T });
  result.error = await alert.textContent();
  assert(/Línea 5, columna sexo/.test(result.error), `error: ${result.error}`);
  await axe(page, 'importación fallida');

  // After a reload, both imports are in the table.
  await page.goto(`${config.base}/console/roll`);
  await page.locator('h1').first().waitFor({ timeout: T });
  result.table = await page.locator('section[aria-labelledby="importaciones"] table').textContent();
  assert(result.table.includes(config.good_name) && result.table.includes(config.broken_name), `table: ${result.table}`);
  await axe(page, 'lista nominal después');
  assert(problems.length === 0, problems.join('\n'));
} catch (error) {
  result.failure = String(error && error.stack ? error.stack : error);
  if (page) {
    try { await page.screenshot({ path: `${config.result}.png`, fullPage: true }); } catch { /* best effort */ }
  }
  console.error(result.failure);
  process.exitCode = 1;
} finally {
  result.problems = problems;
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  await browser.close();
}
