// Browser tests of the capture app, in headless Chromium (Debian's `chromium`) driven by
// playwright-core. Started by crates/server/tests/browser.rs, which runs the real server
// and checks its database afterwards:
//
//   node capture.spec.mjs <config.json>
//
// config: {base, chromium, video (y4m), profile_dir, result (path), collector: {email,
// password, new_password (only when the password is one-time)}, citizens: [{model,
// input}] (four)}. Prints progress; writes `result` (client ids, number of sendings,
// axe findings); exits 1 on the first failure. It also runs against the demo.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const result = { supports: [], posts: 0, lost_answers: 0, axe: {}, screens: [] };
const T = 30000;

function log(...args) { console.log('[browser]', ...args); }
function assert(cond, message) { if (!cond) throw new Error(`assertion failed: ${message}`); }

const context = await chromium.launchPersistentContext(config.profile_dir, {
  executablePath: config.chromium,
  headless: true,
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'es-MX',
  timezoneId: 'America/Monterrey',
  permissions: ['camera'],
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${config.video}`,
  ],
});
const problems = [];
let page;

function watch(p) {
  p.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_INTERNET_DISCONNECTED/.test(text)) {
      problems.push(`console error: ${text}`);
    }
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('dialog', (d) => d.accept());
  p.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/v1/supports')) result.posts += 1;
  });
}

async function axe(name) {
  // CDP evaluation is not subject to the page's CSP, so axe needs no inline script.
  await page.evaluate(axeSource);
  const report = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const bad = report.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  result.axe[name] = report.violations.map((v) => `${v.impact}:${v.id}`);
  result.screens.push(name);
  if (process.env.APOYO_BROWSER_SCREENSHOTS) {
    await page.screenshot({ path: path.join(process.env.APOYO_BROWSER_SCREENSHOTS, `${result.screens.length}.png`), fullPage: true });
  }
  assert(bad.length === 0, `axe on «${name}»: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
}

const heading = (text) => page.locator('h1', { hasText: text }).waitFor({ timeout: T });
const click = (name) => page.getByRole('button', { name, exact: true }).click({ timeout: T });
const text = async (sel) => (await page.locator(sel).textContent({ timeout: T })).trim();

async function waitFor(fn, what, timeout = 60000) {
  const until = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(250);
  }
}

async function takePhoto(title, axeName) {
  await heading(title);
  await page.locator('.viewfinder:not([hidden]) video').waitFor({ timeout: T });
  if (axeName) await axe(axeName);
  await click('Tomar foto');
  await page.locator('img.preview').waitFor({ timeout: T });
  if (axeName) await axe(`${axeName} (vista previa)`);
  await click('Continuar');
}

async function capture(citizen, { audit = false, typo = false } = {}) {
  await click('Capturar un apoyo');
  await takePhoto('Frente de la credencial', audit && 'frente');
  await takePhoto('Reverso de la credencial', audit && 'reverso');
  await heading('Datos de la credencial');
  await page.selectOption('#model', citizen.model);
  for (const [key, value] of Object.entries(citizen.input)) {
    const el = page.locator(`#${key}`);
    if (key === 'sex') await el.selectOption(value);
    else await el.fill(value);
  }
  if (typo) {
    // A digit typed wrong in the OCR: caught on the device, while the citizen is there.
    const wrong = `${citizen.input.ocr.slice(0, 12)}${(Number(citizen.input.ocr[12]) + 1) % 10}`;
    await page.locator('#ocr').fill(wrong);
    await page.locator('#f-ocr.bad').waitFor({ timeout: T });
    const message = await text('#ocr-err');
    assert(message.length > 0, 'the OCR typo is explained next to the field');
    assert(await page.locator('#ocr').getAttribute('aria-invalid') === 'true', 'aria-invalid on the OCR');
    if (audit) await axe('datos con error');
    await page.locator('#ocr').fill(citizen.input.ocr);
  }
  await page.locator('#check-summary .alert').waitFor({ timeout: T });
  await waitFor(async () => (await page.locator('.field.bad').count()) === 0, 'no field in error');
  if (audit) await axe('datos');
  await click('Continuar');
  await takePhoto('Fotografía de la persona', audit && 'fotografía viva');
  await heading('Firma');
  if (audit) await axe('firma');
  const pad = await page.locator('canvas.signature').boundingBox();
  await page.mouse.move(pad.x + 30, pad.y + 120);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) await page.mouse.move(pad.x + 30 + i * 20, pad.y + 120 - Math.sin(i) * 50);
  await page.mouse.up();
  await click('Continuar');
  await heading('Aviso de privacidad');
  if (audit) await axe('aviso de privacidad');
  assert(await page.getByRole('button', { name: 'Continuar' }).isDisabled(), 'privacy must be accepted first');
  await page.locator('#privacy-ok').check();
  await click('Continuar');
  await heading('Revisión');
  assert((await page.locator('.thumbs img').count()) === 4, 'review shows the four images');
  for (const key of ['cic', 'citizen_id', 'clave_elector', 'birth_date']) {
    const shown = await text(`tr[data-field="${key}"] td`);
    assert(shown === citizen.input[key], `review shows ${key}: ${shown}`);
  }
  if (audit) await axe('revisión');
  await click('Guardar apoyo');
  await page.locator('#home').waitFor({ timeout: T });
}

const counts = async () => ({
  pending: Number(await text('#count-pending')),
  sent: Number(await text('#count-sent')),
  failed: Number(await text('#count-failed')),
});

try {
  page = context.pages()[0] || await context.newPage();
  watch(page);
  const [c0, c1, c2, c3] = config.citizens;

  log('login with the one-time password, then the new password');
  await page.goto(`${config.base}/app/`);
  await heading('Entrar como auxiliar');
  await axe('entrar');
  await page.fill('#email', config.collector.email);
  await page.fill('#password', 'no-es-la-clave');
  await click('Entrar');
  await page.locator('.alert.error').waitFor({ timeout: T });
  await axe('entrar (error)');
  await page.fill('#password', config.collector.password);
  await click('Entrar');
  if (config.collector.new_password) {
    await heading('Cambie su contraseña');
    await axe('cambio de contraseña');
    await page.fill('#new_password', config.collector.new_password);
    await page.fill('#confirm_password', config.collector.new_password);
    await click('Guardar contraseña');
  }
  await heading('Mis apoyos');
  await axe('inicio vacío');
  await page.evaluate(() => navigator.serviceWorker.ready);

  log('one support online, with a typo caught on the device; its first answer is lost');
  // The server receives the first sending but the app never hears back: it must retry
  // with the same client_id and get the same receipt, not a second support.
  await page.route('**/api/v1/supports', async (route) => {
    if (result.lost_answers > 0 || route.request().method() !== 'POST') { await route.fallback(); return; }
    const response = await route.fetch();
    assert(response.status() === 201, `first sending received: ${response.status()} ${await response.text()}`);
    result.lost_answers += 1;
    await route.abort('connectionreset');
  });
  await capture(c0, { audit: true, typo: true });
  await page.locator('.support[data-status="pending"]', { hasText: 'intento 1' }).waitFor({ timeout: T });
  await page.locator('.support[data-status="sent"]').first().waitFor({ timeout: T });
  await page.unroute('**/api/v1/supports');
  // Verified by the server's worker; the label is the domain's (RollOutcome::label_es).
  await page.locator('.support .outcome', { hasText: 'Resultado: En Lista Nominal' }).first().waitFor({ timeout: 60000 });
  await axe('inicio con resultado');

  log('three supports offline, reload, online again');
  await context.setOffline(true);
  await page.locator('#net.offline').waitFor({ timeout: T });
  for (const c of [c1, c2, c3]) await capture(c);
  assert((await counts()).pending === 3, `3 pending offline: ${JSON.stringify(await counts())}`);
  await axe('inicio sin conexión');
  const stored = await page.evaluate(async () => {
    const db = await new Promise((ok, ko) => { const r = indexedDB.open('apoyo-datos'); r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
    const all = await new Promise((ok) => { const r = db.transaction('supports').objectStore('supports').getAll(); r.onsuccess = () => ok(r.result); });
    db.close();
    return all.map((r) => ({ status: r.status, payload: r.payload ? new TextDecoder('latin1').decode(r.payload.data) : '', summary: r.summary ? new TextDecoder('latin1').decode(r.summary.data) : '' }));
  });
  for (const c of [c1, c2, c3]) {
    const needle = c.input.paternal_surname;
    assert(stored.every((r) => !r.payload.includes(needle) && !r.summary.includes(needle) && !r.payload.includes(c.input.cic)),
      'the stored supports are encrypted (no name or CIC in clear)');
  }
  await page.reload();
  await heading('Mis apoyos');
  assert((await counts()).pending === 3, 'still 3 pending after reload, offline');
  await context.setOffline(false);
  await waitFor(async () => { const n = await counts(); return n.pending === 0 && n.sent === 4; }, '4 sent after going online');
  await page.locator('.support .outcome', { hasText: 'En verificación' }).first()
    .waitFor({ state: 'detached', timeout: 60000 }).catch(() => {});

  result.supports = await page.locator('.support').evaluateAll((els) => els.map((e) => ({
    client_id: e.dataset.clientId, status: e.dataset.status, text: e.textContent,
  })));
  const folios = result.supports.map((s) => (s.text.match(/folio (\d+-\d{8})/) || [])[1]);
  assert(folios.every(Boolean) && new Set(folios).size === 4, `four distinct folios: ${folios}`);

  log('a support the server refuses is shown as failed, with the reason and what to do');
  await page.route('**/api/v1/supports', (route) => route.fulfill({
    status: 422, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'unprocessable', message: 'Fuera del periodo de captación (prueba).' } }),
  }));
  await capture(c0);
  const refused = page.locator('.support[data-status="failed"]');
  await refused.waitFor({ timeout: T });
  const refusedText = await refused.textContent();
  assert(refusedText.includes('Fuera del periodo de captación (prueba).') && refusedText.includes('Qué hacer'), refusedText);
  assert((await counts()).failed === 1, 'one failed');
  await axe('inicio con un apoyo rechazado');
  await page.unroute('**/api/v1/supports');
  await refused.getByRole('button', { name: 'Descartar' }).click();
  await refused.waitFor({ state: 'detached', timeout: T });

  log('logout wipes IndexedDB');
  await click('Cerrar sesión');
  await heading('Entrar como auxiliar');
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert(!dbs.some((n) => n.startsWith('apoyo')), `no apoyo database after logout: ${dbs}`);
  await axe('sesión cerrada');

  log('the shell works offline after logout too');
  await context.setOffline(true);
  await page.reload();
  await heading('Entrar como auxiliar');
  await context.setOffline(false);

  assert(problems.length === 0, problems.join('\n'));
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
  log('ok');
  await context.close();
} catch (e) {
  console.error('[browser] FAILED:', e.stack || e.message);
  if (problems.length) console.error('[browser] also:', problems.join('\n'));
  try {
    if (page) {
      await page.screenshot({ path: path.join(path.dirname(config.result), 'failure.png'), fullPage: true });
      console.error('[browser] page text:', (await page.locator('main').innerText()).slice(0, 2000));
    }
  } catch { /* the page may be gone */ }
  fs.writeFileSync(config.result, JSON.stringify({ ...result, error: String(e.message) }, null, 2));
  await context.close().catch(() => {});
  process.exit(1);
}
