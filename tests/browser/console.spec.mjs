// Browser tests of the back office (/console/) in headless Chromium (Debian's
// `chromium`) driven by playwright-core. Started by crates/server/tests/console_browser.rs,
// which prepares the data, runs the real server and checks its database afterwards:
//
//   node console.spec.mjs <config.json>
//
// config: {base, chromium, result (path), process, aspirant_a, aspirant_b, b_support,
// admin|reviewer|aspirant: {email, password}}. A reviewer works the whole queue with the
// keyboard alone; the aspirant contests a rejection and sees it resolved; an aspirant
// cannot open another aspirant's pages nor staff pages; the administrator creates an
// account with the console's form; axe-core checks every page. Writes `result`
// (decisions by key, axe findings, pages checked); exits 1 on the first failure.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const result = { decided: [], objection: null, axe: {}, refused: {}, account: null };
const T = 30000;

function log(...args) { console.log('[console]', ...args); }
function assert(cond, message) { if (!cond) throw new Error(`assertion failed: ${message}`); }

const browser = await chromium.launch({
  executablePath: config.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];

async function session(who) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'es-MX', timezoneId: 'America/Mexico_City',
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`${who}: CSP: ${text}`);
    // 403/404 pages are asked for on purpose below.
    if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`${who}: console error: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  return page;
}

async function axe(page, name) {
  // CDP evaluation is not subject to the page's CSP, so axe needs no inline script.
  await page.evaluate(axeSource);
  const report = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  result.axe[name] = report.violations.map((v) => `${v.impact}:${v.id}`);
  const bad = report.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert(bad.length === 0, `axe on «${name}»: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
}

async function visit(page, path, name) {
  const response = await page.goto(config.base + path);
  assert(response.status() === 200, `${path}: ${response.status()}`);
  await page.locator('h1').first().waitFor({ timeout: T });
  await axe(page, name);
}

async function login(page, who, account) {
  await page.goto(`${config.base}/console/login`);
  await page.locator('#email').fill(account.email);
  await page.locator('#password').fill(account.password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/console/login'), { timeout: T });
  log(who, 'logged in at', new URL(page.url()).pathname);
}

try {
  // ---- The login page, and a wrong password said in Spanish.
  const reviewer = await session('reviewer');
  await reviewer.goto(`${config.base}/console/review/${config.process}`);
  await reviewer.waitForURL(/\/console\/login\?next=/, { timeout: T });
  await axe(reviewer, 'entrar');
  await reviewer.locator('#email').fill(config.reviewer.email);
  await reviewer.locator('#password').fill('no-es-la-contraseña');
  await reviewer.keyboard.press('Enter');
  await reviewer.locator('.form-error:not([hidden])').waitFor({ timeout: T });
  await axe(reviewer, 'entrar (error)');
  await reviewer.locator('#password').fill(config.reviewer.password);
  await reviewer.keyboard.press('Enter');
  // Back to the page asked for: the desk of the process.
  await reviewer.waitForURL(new RegExp(`/console/review/${config.process}$`), { timeout: T });

  // ---- The desk, with the keyboard alone.
  const title = reviewer.locator('#task-title');
  await title.waitFor({ timeout: T });
  await axe(reviewer, 'mesa de control');
  // Image tools: next image, zoom in twice, rotate.
  await reviewer.keyboard.press('ArrowRight');
  await reviewer.keyboard.press('+');
  await reviewer.keyboard.press('+');
  await reviewer.keyboard.press('r');
  const transform = await reviewer.locator('#big').evaluate((img) => img.style.transform);
  assert(transform.includes('scale(1.5)') && transform.includes('rotate(90deg)'), `transform: ${transform}`);
  assert((await reviewer.locator('#big').getAttribute('alt')).startsWith('Reverso'), 'the second image is the back');
  const status = reviewer.locator('#desk-status');
  for (let i = 0; ; i += 1) {
    assert(i < 200, 'the queue does not end');
    const folio = (await title.textContent()).replace('Apoyo ', '');
    let key;
    if (i === 2) {
      // A note, then an inconsistency, then record.
      await reviewer.keyboard.press('n');
      await reviewer.keyboard.type('Firma distinta a la de la credencial.');
      await reviewer.keyboard.press('Escape');
      await reviewer.keyboard.press('2');
      await reviewer.keyboard.press('Enter');
      key = 'N+2+Intro';
    } else if (i % 5 === 1) {
      await reviewer.keyboard.press('1');
      await reviewer.keyboard.press('Enter');
      key = '1+Intro';
    } else {
      await reviewer.keyboard.press('v');
      key = 'V';
    }
    result.decided.push({ folio, key });
    // The next support is on screen, or the queue is done.
    await reviewer.waitForFunction((before) => {
      const t = document.getElementById('task-title');
      const s = document.getElementById('desk-status');
      return (t && t.textContent !== `Apoyo ${before}`) || /Cola terminada/.test(s.textContent);
    }, folio, { timeout: T });
    if (/Cola terminada/.test(await status.textContent())) break;
  }
  log('reviewer decided', result.decided.length, 'supports');
  await axe(reviewer, 'mesa de control (cola terminada)');
  // Enter with nothing marked says what to do instead of recording.
  await visit(reviewer, '/console/objections', 'objeciones (Mesa de Control)');

  // ---- The aspirant: progress, supports, a rejected one, the objection.
  const aspirant = await session('aspirant');
  await login(aspirant, 'aspirant', config.aspirant);
  assert(new URL(aspirant.url()).pathname === `/console/aspirants/${config.aspirant_a}`, aspirant.url());
  await axe(aspirant, 'avance de la persona aspirante');
  await visit(aspirant, `/console/aspirants/${config.aspirant_a}/supports?filter=rejected`, 'apoyos no válidos');
  const rejectedRow = aspirant.locator('tr', { hasText: 'Con inconsistencias (Mesa de Control)' }).first();
  await rejectedRow.waitFor({ timeout: T });
  await rejectedRow.locator('a').first().click();
  await aspirant.locator('h1', { hasText: 'Apoyo' }).waitFor({ timeout: T });
  const supportUrl = aspirant.url();
  const loaded = await aspirant.locator('.images img').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
  assert(loaded === 4, `the aspirant sees the four images during the hearing: ${loaded}`);
  await axe(aspirant, 'apoyo rechazado (audiencia)');
  await aspirant.locator('#argument').fill('La credencial es física y vigente; la fotografía se tomó con poca luz y la firma coincide.');
  await aspirant.locator('form[data-api$="/objections"] button[type="submit"]').click();
  const hearingSection = aspirant.locator('section[aria-labelledby="audiencia"]');
  await hearingSection.locator('a', { hasText: 'Objeción' }).waitFor({ timeout: T });
  assert(/En trámite/.test(await hearingSection.textContent()), 'the objection is in progress');
  await axe(aspirant, 'apoyo con objeción en trámite');
  await visit(aspirant, '/console/objections', 'garantía de audiencia (aspirante)');

  // ---- The reviewer resolves it.
  await reviewer.goto(`${config.base}/console/objections?status=open`);
  await reviewer.locator('td a', { hasText: 'Objeción' }).first().click();
  await reviewer.locator('h1', { hasText: 'Objeción' }).waitFor({ timeout: T });
  await axe(reviewer, 'objeción (resolver)');
  await reviewer.locator('#granted-yes').check();
  await reviewer.locator('#note').fill('Procede: la firma coincide con la de la credencial; se retiran las inconsistencias.');
  await reviewer.locator('form[data-api$="/resolution"] button[type="submit"]').click();
  await reviewer.locator('dd', { hasText: 'Procedente' }).waitFor({ timeout: T });
  await axe(reviewer, 'objeción resuelta');

  // ---- The aspirant sees the resolution and the whole history.
  await aspirant.goto(supportUrl);
  const hearing = aspirant.locator('section[aria-labelledby="audiencia"]');
  await hearing.waitFor({ timeout: T });
  const hearingText = await hearing.textContent();
  assert(/Procedente/.test(hearingText) && /firma coincide/.test(hearingText), `hearing: ${hearingText}`);
  const decisions = await aspirant.locator('section[aria-labelledby="decisiones"]').textContent();
  assert(/Resolución de objeción/.test(decisions), `decisions: ${decisions}`);
  result.objection = { support: supportUrl, hearing: hearingText.trim() };
  await axe(aspirant, 'apoyo con objeción resuelta');

  // ---- What an aspirant cannot reach.
  for (const [path, expected] of [
    [`/console/aspirants/${config.aspirant_b}`, 404],
    [`/console/aspirants/${config.aspirant_b}/supports`, 404],
    [`/console/supports/${config.b_support}`, 404],
    [`/console/review/${config.process}`, 403],
    [`/console/processes/${config.process}`, 403],
    ['/console/audit', 403],
    ['/console/catalog', 403],
    ['/console/reviewers', 403],
  ]) {
    const response = await aspirant.goto(config.base + path);
    result.refused[path] = response.status();
    assert(response.status() === expected, `${path}: ${response.status()} (expected ${expected})`);
  }
  await axe(aspirant, 'página no encontrada');

  // ---- The administrator's pages, and an account created with the form.
  const admin = await session('admin');
  await login(admin, 'admin', config.admin);
  await axe(admin, 'procesos');
  await visit(admin, `/console/processes/${config.process}`, 'proceso');
  await visit(admin, '/console/catalog', 'catálogo de inconsistencias');
  await visit(admin, '/console/audit', 'bitácora');
  await visit(admin, `/console/aspirants/${config.aspirant_b}`, 'avance (administración)');
  await visit(admin, '/console/reviewers', 'personal y productividad');
  await admin.locator('summary', { hasText: 'Nueva cuenta' }).click();
  await admin.locator('#staff-name').fill('Revisora Nueva (prueba)');
  await admin.locator('#staff-email').fill(config.new_reviewer_email);
  await admin.locator('#staff-role').selectOption('reviewer');
  await admin.locator('form[data-api="/api/v1/users"] button[type="submit"]').click();
  const created = admin.locator('[role="status"] code');
  await created.waitFor({ timeout: T });
  result.account = { email: config.new_reviewer_email, password: await created.textContent() };
  assert(result.account.password.length === 16, `one-time password: ${result.account.password}`);
  await axe(admin, 'cuenta creada');

  assert(problems.length === 0, problems.join('\n'));
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  log('ok:', Object.keys(result.axe).length, 'pages checked with axe');
  await browser.close();
} catch (error) {
  result.error = String(error && error.stack || error);
  result.problems = problems;
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  console.error(error);
  await browser.close();
  process.exit(1);
}
