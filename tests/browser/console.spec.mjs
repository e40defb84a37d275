// Browser tests of the back office (/console/) in headless Chromium (Debian's
// `chromium`) driven by playwright-core. Started by crates/server/tests/console_browser.rs,
// which prepares the data, runs the real server and checks its database and API afterwards:
//
//   node console.spec.mjs <config.json>
//
// config: {base, chromium, result (path), process, aspirant_a, aspirant_b, b_support,
// queued (supports in the review queue), admin|reviewer|aspirant: {email, password},
// new_reviewer: {email, new_password}}.
//
// A reviewer logs in with the login form and works the whole queue of the Mesa de
// Control with the keyboard alone (V; digits and Intro; N, a note, Esc, a digit and
// Intro), while the claim of the next support fails twice on the way (an answer lost
// after the server gave a support out; then no answer at all, twice: the desk offers to
// try again, and Intro does); the aspirant opens a support rejected at the desk, sees its images and reason
// and contests it with the page's form; the reviewer resolves the objection as
// procedente; the aspirant sees the resolution and the whole history; an aspirant cannot
// open another aspirant's pages nor staff pages; the administrator creates an account,
// whose first login asks for a new password. axe-core (WCAG 2 A/AA and best practices)
// checks every page each role visits, and any finding fails. Writes `result` (decisions
// by key, pages checked, refusals, the new account); exits 1 on the first failure.
// APOYO_BROWSER_SCREENSHOTS=<dir>: a full-page screenshot of every page axe checks.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const result = {
  decided: [], desk_seconds: 0, objection: null, axe: {}, refused: {}, account: null,
};
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
const pages = [];

async function session(who) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'es-MX', timezoneId: 'America/Mexico_City',
  });
  const page = await context.newPage();
  page.who = who;
  pages.push(page);
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`${who}: CSP: ${text}`);
    // 403/404 pages are asked for on purpose below; the browser logs them.
    if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`${who}: console error: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`${who}: unexpected dialog: ${d.message()}`); d.dismiss(); });
  return page;
}

/** axe-core on the page as it is now; any violation, whatever its impact, fails. */
async function axe(page, name) {
  const key = `${page.who}: ${name}`;
  assert(!(key in result.axe), `page checked twice: ${key}`);
  // CDP evaluation is not subject to the page's CSP, so axe needs no inline script.
  await page.evaluate(axeSource);
  const report = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  result.axe[key] = {
    path: new URL(page.url()).pathname,
    violations: report.violations.map((v) => `${v.impact}:${v.id}`),
    // What axe could not decide alone (e.g. contrast over an image): printed, not failed.
    incomplete: report.incomplete.flatMap((v) => v.nodes.map((n) => `${v.id} ${n.target.join(' ')}: ${(n.any[0] || n.all[0] || n.none[0] || {}).message || ''}`)),
  };
  if (process.env.APOYO_BROWSER_SCREENSHOTS) {
    const file = `${String(Object.keys(result.axe).length).padStart(2, '0')}-${key.replace(/[^\p{L}\p{N}]+/gu, '-')}.png`;
    await page.screenshot({ path: path.join(process.env.APOYO_BROWSER_SCREENSHOTS, file), fullPage: true });
  }
  assert(report.violations.length === 0, `axe on «${key}» (${page.url()}): ${report.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
}

/** Opens a console page (200 expected), waits for its heading and checks it with axe. */
async function visit(page, urlPath, name) {
  const response = await page.goto(config.base + urlPath);
  assert(response.status() === 200, `${page.who}: ${urlPath}: ${response.status()}`);
  await page.locator('h1').first().waitFor({ timeout: T });
  await axe(page, name);
}

/** The login page's form, with the mouse-free path a person would take. */
async function login(page, account) {
  await page.goto(`${config.base}/console/login`);
  await page.locator('#email').fill(account.email);
  await page.locator('#password').fill(account.password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/console/login'), { timeout: T });
  log(page.who, 'logged in at', new URL(page.url()).pathname);
}

const deskState = (page) => page.evaluate(() => ({
  title: document.getElementById('task-title')?.textContent ?? null,
  status: document.getElementById('desk-status').textContent,
  desk: document.getElementById('desk').textContent,
}));

try {
  // ---- The login page, and a wrong password said in Spanish.
  const reviewer = await session('revisión');
  await reviewer.goto(`${config.base}/console/review/${config.process}`);
  await reviewer.waitForURL(/\/console\/login\?next=/, { timeout: T });
  await axe(reviewer, 'iniciar sesión');
  await reviewer.locator('#email').fill(config.reviewer.email);
  await reviewer.locator('#password').fill('no-es-la-contraseña');
  await reviewer.keyboard.press('Enter');
  const loginError = reviewer.locator('#login-form .form-error:not([hidden])');
  await loginError.waitFor({ timeout: T });
  assert((await loginError.textContent()).trim().length > 0, 'the login error says why');
  await axe(reviewer, 'iniciar sesión (error)');
  await reviewer.locator('#password').fill(config.reviewer.password);
  await reviewer.keyboard.press('Enter');
  // Back to the page asked for: the desk of the process.
  await reviewer.waitForURL(new RegExp(`/console/review/${config.process}$`), { timeout: T });

  // ---- The desk, with the keyboard alone.
  const title = reviewer.locator('#task-title');
  await title.waitFor({ timeout: T });
  await reviewer.locator('#big[src]').waitFor({ timeout: T });
  await axe(reviewer, 'mesa de control (apoyo cargado)');
  // Image tools: next image, zoom in twice, rotate; back to the first image resets them.
  await reviewer.keyboard.press('ArrowRight');
  await reviewer.keyboard.press('+');
  await reviewer.keyboard.press('+');
  await reviewer.keyboard.press('r');
  const big = reviewer.locator('#big');
  const transform = await big.evaluate((img) => img.style.transform);
  assert(transform.includes('scale(1.5)') && transform.includes('rotate(90deg)'), `transform: ${transform}`);
  assert((await big.getAttribute('alt')).startsWith('Reverso'), 'the second image is the back');
  await reviewer.keyboard.press('-');
  await reviewer.keyboard.press('ArrowLeft');
  assert((await big.getAttribute('alt')).startsWith('Anverso'), 'back to the front');
  assert(/scale\(1\) rotate\(0deg\)/.test(await big.evaluate((img) => img.style.transform)), 'a new image starts unzoomed');
  // Intro with nothing marked records nothing and says what to do.
  await reviewer.keyboard.press('Enter');
  const deskError = reviewer.locator('.decision .form-error:not([hidden])');
  await deskError.waitFor({ timeout: T });
  assert(/Marque al menos una inconsistencia/.test(await deskError.textContent()), await deskError.textContent());
  await axe(reviewer, 'mesa de control (Intro sin marcar)');

  const started = Date.now();
  for (let i = 0; ; i += 1) {
    assert(i <= config.queued, `the queue does not end after ${i} decisions`);
    const folio = (await title.textContent()).replace('Apoyo ', '');
    const label = (n) => reviewer.locator(`label[for="inc-${n}"]`).textContent().then((t) => t.replace(/^\s*\d\s*/, '').trim());
    let key;
    let marked = [];
    if (i === 4) {
      // The answer to the next prefetch (made when support 5 appears) is lost after the
      // server gave it out: deciding support 5 must still bring a support, not wedge.
      await reviewer.route('**/review/next', async (route) => {
        await route.fetch();
        await route.abort('connectionreset');
      }, { times: 1 });
    } else if (i === 8) {
      // The next prefetch and the desk's second try both fail: after deciding support 9
      // the desk offers to try again, and Intro on that button does.
      await reviewer.route('**/review/next', (route) => route.abort('connectionreset'), { times: 2 });
    }
    if (i === 2) {
      // A note, Esc back to the desk's keys, an inconsistency, then record.
      await reviewer.keyboard.press('n');
      assert(await reviewer.evaluate(() => document.activeElement.id === 'decision-note'), 'N focuses the note');
      await reviewer.keyboard.type('Firma distinta a la de la credencial.');
      await reviewer.keyboard.press('Escape');
      assert(await reviewer.evaluate(() => document.activeElement.id !== 'decision-note'), 'Esc leaves the note');
      await reviewer.keyboard.press('2');
      assert(await reviewer.locator('#inc-1').isChecked(), '2 marks the second inconsistency');
      await reviewer.keyboard.press('Enter');
      key = 'N+2+Intro';
      marked = [await label(1)];
    } else if (i % 5 === 1) {
      // Marked twice is unmarked: 1, 3, 3 leaves only the first one.
      await reviewer.keyboard.press('1');
      await reviewer.keyboard.press('3');
      await reviewer.keyboard.press('3');
      assert(await reviewer.locator('#inc-0').isChecked() && !(await reviewer.locator('#inc-2').isChecked()), 'digits toggle');
      await reviewer.keyboard.press('Enter');
      key = '1+Intro';
      marked = [await label(0)];
    } else {
      await reviewer.keyboard.press('v');
      key = 'V';
    }
    result.decided.push({ folio, key, marked });
    if (i === 9) {
      const retry = reviewer.locator('#desk-retry');
      await retry.waitFor({ timeout: T });
      assert(await retry.evaluate((b) => b === document.activeElement), 'the retry button has the focus');
      assert(/No se pudo cargar el siguiente apoyo/.test(await reviewer.locator('#desk').textContent()), 'the desk says what failed');
      await axe(reviewer, 'mesa de control (sin conexión)');
      await reviewer.keyboard.press('Enter');
    }
    // The next support is on screen, or the queue is done.
    await reviewer.waitForFunction((before) => {
      const t = document.getElementById('task-title');
      const s = document.getElementById('desk-status');
      return (t && t.textContent !== `Apoyo ${before}`) || /Cola terminada/.test(s.textContent);
    }, folio, { timeout: T });
    if (/Cola terminada/.test(await reviewer.locator('#desk-status').textContent())) break;
  }
  result.desk_seconds = (Date.now() - started) / 1000;
  const done = await deskState(reviewer);
  assert(done.title === null, `no support left on screen: ${done.title}`);
  assert(/No hay apoyos pendientes/.test(done.desk), `desk: ${done.desk}`);
  assert(done.status.includes(`Cola terminada. Decisiones en esta sesión: ${result.decided.length}.`), `status: ${done.status}`);
  const folios = new Set(result.decided.map((d) => d.folio));
  assert(folios.size === result.decided.length, 'no support came twice');
  assert(result.decided.length === config.queued, `decided ${result.decided.length} of ${config.queued} queued`);
  log('reviewer decided', result.decided.length, 'supports by keyboard in', result.desk_seconds.toFixed(1), 's');
  await axe(reviewer, 'mesa de control (cola terminada)');
  // Opened again, the desk has nothing to give.
  await reviewer.reload();
  await reviewer.locator('#desk-status', { hasText: 'Cola terminada' }).waitFor({ timeout: T });

  // ---- The reviewer's other pages.
  await visit(reviewer, '/console/', 'inicio (Mesa de Control)');
  await visit(reviewer, `/console/processes/${config.process}`, 'proceso');
  await visit(reviewer, `/console/aspirants/${config.aspirant_a}`, 'avance de aspirante');
  await visit(reviewer, `/console/aspirants/${config.aspirant_a}/supports`, 'apoyos de aspirante');
  const firstSupport = await reviewer.locator('tbody tr td a').first().getAttribute('href');
  await visit(reviewer, firstSupport, 'apoyo');
  await visit(reviewer, '/console/objections', 'objeciones (vacía)');

  // ---- The aspirant: progress, supports, a support rejected at the desk, the objection.
  const aspirant = await session('aspirante');
  await login(aspirant, config.aspirant);
  assert(new URL(aspirant.url()).pathname === `/console/aspirants/${config.aspirant_a}`, aspirant.url());
  await aspirant.locator('h1').waitFor({ timeout: T });
  await axe(aspirant, 'mi avance');
  await visit(aspirant, `/console/aspirants/${config.aspirant_a}/supports`, 'mis apoyos');
  await visit(aspirant, `/console/aspirants/${config.aspirant_a}/supports?filter=rejected`, 'mis apoyos no válidos');
  const rejectedRows = aspirant.locator('tbody tr');
  const rejectedText = await rejectedRows.allTextContents();
  assert(rejectedText.some((t) => t.includes('No encontrado')), `not found among the rejected: ${rejectedText}`);
  const rejectedRow = aspirant.locator('tbody tr', { hasText: 'Con inconsistencias (Mesa de Control)' }).first();
  await rejectedRow.waitFor({ timeout: T });
  const rejectedFolio = (await rejectedRow.locator('a').first().textContent()).trim();
  const decision = result.decided.find((d) => d.folio === rejectedFolio);
  assert(decision && decision.key !== 'V', `the rejected support was marked at the desk: ${rejectedFolio}`);
  await rejectedRow.locator('a').first().click();
  await aspirant.locator('h1', { hasText: `Apoyo ${rejectedFolio}` }).waitFor({ timeout: T });
  const supportPath = new URL(aspirant.url()).pathname;
  await aspirant.waitForFunction(() => [...document.querySelectorAll('.images img')].every((i) => i.complete), null, { timeout: T });
  const loaded = await aspirant.locator('.images img').evaluateAll((imgs) => imgs.filter((i) => i.naturalWidth > 0).length);
  assert(loaded === 4, `the aspirant sees the four images during the hearing: ${loaded}`);
  const objectionForm = aspirant.locator('form[data-api$="/objections"]');
  const reason = await objectionForm.textContent();
  assert(reason.includes('Motivo del rechazo: Con inconsistencias (Mesa de Control)'), `reason: ${reason}`);
  const deskDecisions = await aspirant.locator('section[aria-labelledby="decisiones"]').textContent();
  assert(decision.marked.every((m) => deskDecisions.includes(m)), `the inconsistencies shown: ${deskDecisions}`);
  assert(!deskDecisions.includes(config.reviewer.email), 'the reviewer is not named to the aspirant');
  await axe(aspirant, 'apoyo rechazado (audiencia abierta)');
  const argument = 'La credencial es física y vigente; la fotografía se tomó con poca luz y la firma coincide.';
  await aspirant.locator('#argument').fill(argument);
  await objectionForm.locator('button[type="submit"]').click();
  const hearingSection = aspirant.locator('section[aria-labelledby="audiencia"]');
  await hearingSection.locator('a', { hasText: 'Objeción' }).waitFor({ timeout: T });
  assert(/En trámite/.test(await hearingSection.textContent()), 'the objection is in progress');
  assert(await aspirant.locator('#argument').count() === 0, 'no second objection while one is open');
  await axe(aspirant, 'apoyo con objeción en trámite');
  await visit(aspirant, '/console/objections', 'garantía de audiencia');
  await aspirant.locator('td a', { hasText: 'Objeción' }).first().click();
  await aspirant.locator('h1', { hasText: 'Objeción' }).waitFor({ timeout: T });
  assert((await aspirant.locator('dl.facts').textContent()).includes(argument), 'the objection shows the argument');
  assert(await aspirant.locator('#granted-yes').count() === 0, 'the aspirant cannot resolve');
  await axe(aspirant, 'objeción en trámite');

  // ---- The reviewer resolves it.
  await visit(reviewer, '/console/objections?status=open', 'objeciones en trámite');
  await reviewer.locator('td a', { hasText: 'Objeción' }).first().click();
  await reviewer.locator('h1', { hasText: 'Objeción' }).waitFor({ timeout: T });
  assert((await reviewer.locator('dl.facts').textContent()).includes(rejectedFolio), 'the objection names the support');
  await axe(reviewer, 'objeción (resolver)');
  await reviewer.locator('#granted-yes').check();
  await reviewer.locator('#note').fill('Procede: la firma coincide con la de la credencial; se retiran las inconsistencias.');
  await reviewer.locator('form[data-api$="/resolution"] button[type="submit"]').click();
  await reviewer.locator('dd', { hasText: 'Procedente' }).waitFor({ timeout: T });
  await axe(reviewer, 'objeción resuelta');

  // ---- The aspirant sees the resolution and the whole history.
  await aspirant.goto(config.base + supportPath);
  const hearing = aspirant.locator('section[aria-labelledby="audiencia"]');
  await hearing.waitFor({ timeout: T });
  const hearingText = await hearing.textContent();
  assert(/Procedente/.test(hearingText) && /firma coincide/.test(hearingText), `hearing: ${hearingText}`);
  const history = await aspirant.locator('section[aria-labelledby="decisiones"] tbody tr').allTextContents();
  assert(history.length === 2 && /Revisión/.test(history[0]) && /Resolución de objeción/.test(history[1]),
    `the decisions, first to last: ${history.join(' | ')}`);
  const situation = await aspirant.locator('dl.facts').first().textContent();
  assert(!/Con inconsistencias/.test(situation), `the support counts again: ${situation}`);
  result.objection = { support: supportPath, folio: rejectedFolio, hearing: hearingText.trim(), history };
  await axe(aspirant, 'apoyo con objeción resuelta');

  // ---- What an aspirant cannot reach (pages.rs: other aspirants' pages are «not found»,
  // staff pages «without permission»).
  for (const [urlPath, expected, name] of [
    [`/console/aspirants/${config.aspirant_b}`, 404, 'no encontrado'],
    [`/console/aspirants/${config.aspirant_b}/supports`, 404, null],
    [`/console/supports/${config.b_support}`, 404, null],
    [`/console/review/${config.process}`, 403, 'sin permiso'],
    [`/console/processes/${config.process}`, 403, null],
    ['/console/audit', 403, null],
    ['/console/catalog', 403, null],
    ['/console/reviewers', 403, null],
  ]) {
    const response = await aspirant.goto(config.base + urlPath);
    result.refused[urlPath] = response.status();
    assert(response.status() === expected, `${urlPath}: ${response.status()} (expected ${expected})`);
    const body = await aspirant.locator('main').textContent();
    assert(!body.includes(config.b_name), `${urlPath} says nothing of the other aspirant`);
    if (name) await axe(aspirant, name);
  }
  // Nor decide or claim through the API behind the desk.
  const claim = await aspirant.evaluate(async (processId) => {
    // The error page has no layout header: the token comes from the session.
    const token = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const reply = await fetch(`/api/v1/processes/${processId}/review/next`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: '{"exclude":[]}',
    });
    return reply.status;
  }, config.process);
  assert(claim === 403, `an aspirant cannot claim from the queue: ${claim}`);

  // ---- The administrator's pages, and an account created with the form.
  const admin = await session('administración');
  await login(admin, config.admin);
  await admin.locator('h1').waitFor({ timeout: T });
  await axe(admin, 'procesos');
  await visit(admin, `/console/processes/${config.process}`, 'proceso');
  await visit(admin, '/console/catalog', 'catálogo de inconsistencias');
  await visit(admin, '/console/audit', 'bitácora');
  await visit(admin, '/console/audit?entity=support&action=support.review', 'bitácora filtrada');
  assert(await admin.locator('tbody tr').count() > 0, 'the decisions are in the audit log');
  await visit(admin, '/console/objections', 'objeciones');
  await visit(admin, `/console/aspirants/${config.aspirant_b}`, 'avance de aspirante');
  await visit(admin, `/console/aspirants/${config.aspirant_b}/supports`, 'apoyos de aspirante');
  await visit(admin, `/console/supports/${config.b_support}`, 'apoyo (con nueva revisión)');
  await visit(admin, '/console/reviewers', 'personal y productividad');
  await admin.locator('summary', { hasText: 'Nueva cuenta' }).click();
  await axe(admin, 'personal (nueva cuenta abierta)');
  await admin.locator('#staff-name').fill('Revisora Nueva (prueba)');
  await admin.locator('#staff-email').fill(config.new_reviewer.email);
  await admin.locator('#staff-role').selectOption('reviewer');
  await admin.locator('form[data-api="/api/v1/users"] button[type="submit"]').click();
  const created = admin.locator('[role="status"] code');
  await created.waitFor({ timeout: T });
  const oneTime = (await created.textContent()).trim();
  assert(oneTime.length === 16, `one-time password: ${oneTime}`);
  await axe(admin, 'cuenta creada');

  // ---- The new account's first login asks for a new password.
  const newcomer = await session('revisora nueva');
  await login(newcomer, { email: config.new_reviewer.email, password: oneTime });
  assert(new URL(newcomer.url()).pathname === '/console/password', newcomer.url());
  await newcomer.locator('h1').waitFor({ timeout: T });
  await axe(newcomer, 'cambio de contraseña');
  await newcomer.locator('#current_password').fill(oneTime);
  await newcomer.locator('#new_password').fill(config.new_reviewer.new_password);
  await newcomer.locator('form[data-api="/api/v1/session/password"] button[type="submit"]').click();
  await newcomer.waitForURL((url) => url.pathname === '/console/', { timeout: T });
  await newcomer.locator('h1', { hasText: 'Mesa de Control' }).waitFor({ timeout: T });
  await axe(newcomer, 'inicio tras el cambio de contraseña');
  result.account = { email: config.new_reviewer.email, one_time: oneTime, password: config.new_reviewer.new_password };

  assert(problems.length === 0, problems.join('\n'));
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  log('ok:', Object.keys(result.axe).length, 'pages checked with axe, no finding');
  await browser.close();
} catch (error) {
  result.error = String((error && error.stack) || error);
  result.problems = problems;
  console.error('[console] FAILED:', error.stack || error.message);
  if (problems.length) console.error('[console] also:', problems.join('\n'));
  for (const page of pages) {
    try {
      const shot = path.join(path.dirname(config.result), `failure-${pages.indexOf(page)}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.error(`[console] ${page.who} at ${page.url()} (${shot}):`, (await page.locator('main').innerText()).slice(0, 1500));
    } catch { /* the page may be gone */ }
  }
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  await browser.close();
  process.exit(1);
}
