// The capture app: login, the list of supports, the capture flow and logout.
import { h, show, showScreen, announce, dateTimeEs, rfc3339Local, todayNumber, formatBytes } from './ui.js';
import { call, setToken, ApiError, Offline } from './api.js';
import * as vault from './vault.js';
import * as queue from './queue.js';
import { checkCredential, isBlocking, fieldsOf } from './checks.js';
import { photoTaker, signaturePad } from './media.js';

let session = null; // {token, user, aspirant}
let draft = null;
let camera = null;

// --- start -------------------------------------------------------------------------------

function netStatus() {
  const el = document.getElementById('net');
  el.textContent = navigator.onLine ? 'En línea' : 'Sin conexión: los apoyos se guardan en el teléfono';
  el.className = navigator.onLine ? 'bar-net online' : 'bar-net offline';
}

async function boot() {
  netStatus();
  window.addEventListener('online', netStatus);
  window.addEventListener('offline', netStatus);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js', { scope: '/app/' }).catch(() => {});
  }
  queue.onChange((what) => {
    if (what === 'auth') { loginScreen('Su sesión terminó. Entre de nuevo: sus apoyos guardados se conservan.'); return; }
    if (document.getElementById('home')) homeScreen({ refresh: true });
  });
  session = await vault.loadSession().catch(() => null);
  if (session && session.token) {
    setToken(session.token);
    homeScreen();
    queue.start();
  } else {
    loginScreen(session ? 'Su sesión terminó. Entre de nuevo: sus apoyos guardados se conservan.' : null);
  }
}

// --- session -----------------------------------------------------------------------------

function field(id, label, attrs = {}, hint = null) {
  const hintId = hint ? `${id}-hint` : null;
  return h('div', { class: 'field', id: `f-${id}` },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h(attrs.tag || 'input', { id, name: id, 'aria-describedby': [hintId, `${id}-err`].filter(Boolean).join(' '), ...attrs, tag: undefined }),
    h('p', { class: 'field-error', id: `${id}-err` }));
}

function alertBox(text, kind = 'error') {
  return h('p', { class: `alert ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

function loginScreen(notice) {
  stopCamera();
  setToken(null);
  const message = h('div', { id: 'login-message' }, notice ? alertBox(notice, 'info') : null);
  const form = h('form', { class: 'stack', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) { message.replaceChildren(alertBox('Escriba su correo y su contraseña.')); return; }
    button.disabled = true;
    try {
      const { data } = await call('POST', '/session', { json: { email, password } });
      await startSession(data, password, message);
    } catch (err) {
      message.replaceChildren(alertBox(err instanceof Offline
        ? 'Sin conexión: para entrar la primera vez hace falta internet.' : err.message));
    } finally { button.disabled = false; }
  } },
  field('email', 'Correo electrónico', { type: 'email', autocomplete: 'username', required: true, inputmode: 'email' }),
  field('password', 'Contraseña', { type: 'password', autocomplete: 'current-password', required: true }));
  const button = h('button', { type: 'submit', class: 'primary big' }, 'Entrar');
  form.append(button);
  show(h('h1', {}, 'Entrar como auxiliar'), message, form);
}

async function startSession(data, password, message) {
  const user = data.user;
  if (user.role !== 'collector') {
    setToken(data.token);
    await call('DELETE', '/session').catch(() => {});
    setToken(null);
    message.replaceChildren(alertBox('Esta aplicación es para auxiliares. Use la cuenta de auxiliar que le dio su aspirante.'));
    return;
  }
  const previous = await vault.loadSession().catch(() => null);
  if (previous && previous.user && previous.user.id !== user.id) {
    if (await queue.pendingCount() > 0) {
      setToken(data.token);
      await call('DELETE', '/session').catch(() => {});
      setToken(null);
      message.replaceChildren(alertBox(`Este teléfono tiene apoyos sin enviar de ${previous.user.email}. Entre con esa cuenta para enviarlos.`));
      return;
    }
    await vault.wipe();
  }
  setToken(data.token);
  session = { token: data.token, user, aspirant: previous?.aspirant || null };
  if (user.must_change_password) {
    passwordScreen(password);
    return;
  }
  await finishLogin();
}

async function finishLogin() {
  try {
    const { data } = await call('GET', `/aspirants/${session.user.aspirant_id}`);
    session.aspirant = { id: data.id, name: data.name };
  } catch { /* the header shows the collector alone */ }
  await vault.saveSession(session);
  // Ask the browser not to evict the queue under storage pressure (granted silently to
  // installed apps; a refusal changes nothing else).
  navigator.storage?.persist?.().catch(() => {});
  queue.resumeAfterLogin();
  homeScreen();
  queue.start();
  queue.sync({ force: true });
}

function passwordScreen(current) {
  const message = h('div');
  const form = h('form', { class: 'stack', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const next = form.new_password.value;
    if (next !== form.confirm_password.value) {
      message.replaceChildren(alertBox('Las dos contraseñas no son iguales.'));
      return;
    }
    try {
      await call('PUT', '/session/password', { json: { current_password: current, new_password: next } });
      session.user.must_change_password = false;
      announce('Contraseña cambiada.');
      await finishLogin();
    } catch (err) {
      message.replaceChildren(alertBox(err.message));
    }
  } },
  field('new_password', 'Contraseña nueva', { type: 'password', autocomplete: 'new-password', required: true },
    'Al menos 12 caracteres. Solo usted debe conocerla.'),
  field('confirm_password', 'Repita la contraseña nueva', { type: 'password', autocomplete: 'new-password', required: true }),
  h('button', { type: 'submit', class: 'primary big' }, 'Guardar contraseña'));
  show(h('h1', {}, 'Cambie su contraseña'),
    h('p', {}, 'Es su primera entrada: la contraseña que le dieron sirve una sola vez.'), message, form);
}

async function logout() {
  const unsent = await queue.pendingCount();
  const question = unsent > 0
    ? `Hay ${unsent} apoyo(s) sin enviar. Si cierra la sesión se borrarán de este teléfono y se perderán. ¿Cerrar sesión de todos modos?`
    : 'Se borrarán de este teléfono todos los datos de la aplicación. ¿Cerrar sesión?';
  if (!window.confirm(question)) return;
  queue.stop();
  await queue.idle();
  await call('DELETE', '/session', { timeoutMs: 5000 }).catch(() => {});
  setToken(null);
  session = null;
  await vault.wipe();
  loginScreen('Sesión cerrada. Los datos de este teléfono se borraron.');
}

// --- home --------------------------------------------------------------------------------

function statusOf(record, summary) {
  if (record.status === 'pending') {
    return h('p', { class: 'badge pending' }, record.attempts > 0
      ? `Pendiente de envío (intento ${record.attempts}; se reintentará solo)` : 'Pendiente de envío');
  }
  if (record.status === 'sent') {
    const r = record.receipt;
    return h('div', {},
      h('p', { class: 'badge sent' }, `Enviado · folio ${r.folio}`),
      h('p', { class: `outcome ${r.outcome === 'valid' ? 'good' : r.outcome ? 'bad' : ''}` },
        r.outcome ? `Resultado: ${r.outcome_label || r.outcome}` : 'En verificación…'));
  }
  return h('div', {},
    h('p', { class: 'badge failed' }, 'No se pudo enviar'),
    h('p', {}, record.error?.message || ''),
    h('p', {}, h('strong', {}, 'Qué hacer: '), record.error?.action || ''),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: () => queue.retry(record.client_id) }, 'Reintentar'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (window.confirm(`¿Descartar el apoyo de ${summary?.name || 'esta persona'}? Se borrará del teléfono.`)) {
          await queue.discard(record.client_id);
        }
      } }, 'Descartar')));
}

let homeRender = 0;
async function homeScreen({ refresh = false } = {}) {
  stopCamera();
  const ticket = ++homeRender;
  const records = (await vault.listSupports()).sort((a, b) => b.created_at.localeCompare(a.created_at));
  const items = [];
  for (const record of records) {
    const summary = record.summary ? await vault.decryptJson(record.summary).catch(() => null) : null;
    items.push(h('li', { class: `support ${record.status}`, 'data-client-id': record.client_id, 'data-status': record.status },
      h('p', { class: 'who' }, summary?.name || 'Apoyo'),
      h('p', { class: 'when' }, `Captado el ${dateTimeEs(record.created_at)}${summary?.section ? ` · sección ${summary.section}` : ''}`),
      statusOf(record, summary)));
  }
  if (ticket !== homeRender) return; // a newer render is on its way
  const count = (s) => records.filter((r) => r.status === s).length;
  const pending = count('pending');
  showScreen(!refresh, [
    h('section', { id: 'home', class: 'stack' },
      h('h1', {}, 'Mis apoyos'),
      h('p', { class: 'who-am-i' }, session?.user?.name || '',
        session?.aspirant?.name ? ` · auxiliar de ${session.aspirant.name}` : ''),
      h('button', { type: 'button', class: 'primary big', id: 'capture', onclick: startCapture }, 'Capturar un apoyo'),
      h('dl', { class: 'counts' },
        h('div', {}, h('dt', {}, 'Pendientes'), h('dd', { id: 'count-pending' }, String(pending))),
        h('div', {}, h('dt', {}, 'Enviados'), h('dd', { id: 'count-sent' }, String(count('sent')))),
        h('div', {}, h('dt', {}, 'Con problema'), h('dd', { id: 'count-failed' }, String(count('failed'))))),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', disabled: pending === 0 || !navigator.onLine,
          onclick: () => queue.sync({ force: true }) }, 'Enviar ahora'),
        h('button', { type: 'button', class: 'secondary', disabled: !navigator.onLine,
          onclick: () => queue.refreshOutcomes({ all: true }) }, 'Actualizar resultados')),
      items.length
        ? h('ul', { class: 'supports', 'aria-label': 'Apoyos capturados' }, items)
        : h('p', {}, 'Todavía no hay apoyos capturados en este teléfono.'),
      h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Cerrar sesión'))]);
}

// --- capture -----------------------------------------------------------------------------

const STEPS = [
  { id: 'front', title: 'Frente de la credencial' },
  { id: 'back', title: 'Reverso de la credencial' },
  { id: 'data', title: 'Datos de la credencial' },
  { id: 'live_photo', title: 'Fotografía de la persona' },
  { id: 'signature', title: 'Firma' },
  { id: 'privacy', title: 'Aviso de privacidad' },
  { id: 'review', title: 'Revisión' },
];

function stopCamera() {
  if (camera) { camera.stop(); camera = null; }
}

function startCapture() {
  draft = {
    client_id: crypto.randomUUID(),
    images: {},
    input: { model: 'H' },
    report: null,
    privacy: false,
    location: null,
  };
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(
      (p) => { if (draft) draft.location = { latitude: p.coords.latitude, longitude: p.coords.longitude }; },
      () => {}, { timeout: 15000, maximumAge: 300000 },
    );
  }
  step(0);
}

function cancelCapture() {
  if (window.confirm('¿Cancelar esta captura? Se perderá lo capturado.')) {
    stopCamera();
    draft = null;
    homeScreen();
  }
}

function frame(index, body, { next, nextLabel = 'Continuar', nextDisabled = false } = {}) {
  const s = STEPS[index];
  const nextButton = next ? h('button', { type: 'button', class: 'primary big', id: 'next', disabled: nextDisabled, onclick: next }, nextLabel) : null;
  show(
    h('p', { class: 'progress' }, `Paso ${index + 1} de ${STEPS.length}`),
    h('h1', {}, s.title),
    body,
    h('div', { class: 'nav' },
      nextButton,
      index > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => step(index - 1) }, 'Atrás') : null,
      h('button', { type: 'button', class: 'link', onclick: cancelCapture }, 'Cancelar captura')));
  return nextButton;
}

function step(index) {
  stopCamera();
  const id = STEPS[index].id;
  if (id === 'front' || id === 'back' || id === 'live_photo') photoStep(index, id);
  else if (id === 'data') dataStep(index);
  else if (id === 'signature') signatureStep(index);
  else if (id === 'privacy') privacyStep(index);
  else reviewStep(index);
}

function preview(blob, alt) {
  const url = URL.createObjectURL(blob);
  const img = h('img', { src: url, alt, class: 'preview' });
  img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
  return img;
}

function photoStep(index, kind) {
  const what = { front: 'el frente de la credencial', back: 'el reverso de la credencial', live_photo: 'la persona que da su apoyo' }[kind];
  const message = h('div');
  if (draft.images[kind]) {
    frame(index, h('div', { class: 'stack' },
      preview(draft.images[kind], `Foto de ${what}`),
      h('p', {}, `Revise que se lea bien (${formatBytes(draft.images[kind].size)}).`),
      h('button', { type: 'button', class: 'secondary', id: 'retake', onclick: () => { delete draft.images[kind]; step(index); } }, 'Tomar otra foto')),
    { next: () => step(index + 1) });
    return;
  }
  camera = photoTaker(kind, (blob) => {
    draft.images[kind] = blob;
    announce('Foto tomada.');
    step(index);
  }, (text) => message.replaceChildren(alertBox(text)));
  frame(index, h('div', { class: 'stack' }, h('p', {}, `Tome una foto de ${what}.`), message, camera.element));
}

const DATA_FIELDS = [
  ['cic', 'CIC (9 dígitos, al reverso)', { inputmode: 'numeric', maxlength: 9 }],
  ['citizen_id', 'Identificador del ciudadano (9 dígitos)', { inputmode: 'numeric', maxlength: 9 }],
  ['ocr', 'OCR (13 dígitos; opcional si hay identificador)', { inputmode: 'numeric', maxlength: 13 }],
  ['section', 'Sección', { inputmode: 'numeric', maxlength: 4 }],
  ['issue_number', 'Emisión (2 dígitos)', { inputmode: 'numeric', maxlength: 2 }],
  ['clave_elector', 'Clave de elector (18 caracteres)', { autocapitalize: 'characters', maxlength: 24 }],
  ['curp', 'CURP (18 caracteres)', { autocapitalize: 'characters', maxlength: 18 }],
  ['birth_date', 'Fecha de nacimiento (dd/mm/aaaa)', { inputmode: 'numeric', placeholder: 'dd/mm/aaaa', maxlength: 10 }],
  ['sex', 'Sexo', { tag: 'select' }],
  ['expiry_date', 'Vigencia (año)', { inputmode: 'numeric', maxlength: 10 }],
  ['paternal_surname', 'Primer apellido', { autocapitalize: 'characters' }],
  ['maternal_surname', 'Segundo apellido', { autocapitalize: 'characters' }],
  ['given_names', 'Nombre(s)', { autocapitalize: 'characters' }],
  ['mrz', 'Zona de lectura mecánica (opcional: los 3 renglones del reverso)', { tag: 'textarea', rows: 3, autocapitalize: 'characters', spellcheck: 'false' }],
];
const UPPER = new Set(['clave_elector', 'curp', 'mrz']);

/** The credential input (docs/credential-input.md) from the draft: blanks left out. */
function credentialInput() {
  const out = {};
  for (const [key, value] of Object.entries(draft.input)) {
    const v = String(value ?? '').trim();
    if (v) out[key] = UPPER.has(key) ? v.toUpperCase().replace(key === 'mrz' ? /[^\S\n]+/g : /\s+/g, '') : v;
  }
  return out;
}

async function runChecks() {
  draft.report = await checkCredential(credentialInput(), todayNumber());
  return draft.report;
}

const failed = (report) => (report?.checks || []).filter((c) => !c.ok);

function dataStep(index) {
  const summary = h('div', { id: 'check-summary', 'aria-live': 'polite' });
  const model = h('select', { id: 'model', name: 'model' },
    ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((m) => h('option', { value: m, selected: draft.input.model === m }, `Modelo ${m}`)));
  const form = h('form', { class: 'stack', novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'field', id: 'f-model' }, h('label', { for: 'model' }, 'Modelo de credencial'), model,
      h('p', { class: 'field-error', id: 'model-err' })),
    DATA_FIELDS.map(([key, label, attrs]) => field(key, label, attrs)));
  const sex = form.querySelector('#sex');
  sex.append(h('option', { value: '' }, 'Elija…'), h('option', { value: 'M' }, 'M (mujer)'), h('option', { value: 'H' }, 'H (hombre)'));
  for (const [key] of DATA_FIELDS) {
    const el = form.querySelector(`#${key}`);
    el.value = draft.input[key] || '';
  }
  let timer = null;
  const refresh = async () => {
    const report = await runChecks();
    const problems = failed(report);
    form.querySelectorAll('.field').forEach((f) => f.classList.remove('bad', 'warn'));
    form.querySelectorAll('.field-error').forEach((p) => { p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    for (const c of problems) {
      for (const key of fieldsOf(c.code)) {
        const box = form.querySelector(`#f-${key}`);
        if (!box) continue;
        box.classList.add(c.severity === 'error' ? 'bad' : 'warn');
        const input = box.querySelector('input, select, textarea');
        if (c.severity === 'error') input.setAttribute('aria-invalid', 'true');
        const p = box.querySelector('.field-error');
        if (!p.textContent.includes(c.message)) p.textContent = `${p.textContent} ${c.message}`.trim();
      }
    }
    const blocking = problems.filter((c) => isBlocking(c.code));
    const errors = problems.filter((c) => c.severity === 'error');
    next.disabled = blocking.length > 0;
    summary.replaceChildren(problems.length === 0
      ? alertBox('Los datos pasan todas las revisiones.', 'ok')
      : h('div', { class: `alert ${errors.length ? 'error' : 'warn'}` },
        h('p', {}, blocking.length
          ? 'Faltan datos o tienen otro formato: corríjalos para continuar.'
          : errors.length ? 'Hay datos que no cuadran: revíselos con la persona antes de continuar.'
            : 'Revise los avisos; puede continuar.'),
        h('ul', {}, problems.map((c) => h('li', { class: c.severity }, c.message)))));
  };
  form.addEventListener('input', (e) => {
    const t = e.target;
    if (t.name) draft.input[t.name] = t.value;
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener('change', (e) => {
    if (e.target.name) draft.input[e.target.name] = e.target.value;
    refresh();
  });
  const next = frame(index, h('div', { class: 'stack' },
    h('p', {}, 'Escriba los datos tal como están en la credencial. Se revisan aquí mismo, mientras la persona sigue presente.'),
    form, summary), {
    next: async () => {
      const report = await runChecks();
      const errors = failed(report).filter((c) => c.severity === 'error');
      if (errors.length && !window.confirm('Hay datos que no cuadran con las reglas de la credencial. ¿Continuar de todos modos?')) return;
      step(index + 1);
    },
  });
  refresh();
}

function signatureStep(index) {
  const pad = signaturePad();
  const message = h('div');
  const next = frame(index, h('div', { class: 'stack' },
    h('p', {}, 'Pida a la persona que firme con el dedo dentro del recuadro.'),
    pad.element,
    h('button', { type: 'button', class: 'secondary', onclick: () => { pad.clear(); next.disabled = true; } }, 'Borrar firma'),
    message), {
    nextDisabled: true,
    next: async () => {
      if (pad.isEmpty()) { message.replaceChildren(alertBox('Falta la firma.')); return; }
      draft.images.signature = await pad.toBlob();
      step(index + 1);
    },
  });
  pad.element.addEventListener('pointerup', () => { next.disabled = pad.isEmpty(); });
  if (draft.images.signature) message.replaceChildren(alertBox('Ya hay una firma guardada; firme de nuevo para reemplazarla o vuelva a firmar para continuar.', 'info'));
}

function privacyStep(index) {
  const box = h('input', { type: 'checkbox', id: 'privacy-ok', checked: draft.privacy });
  const next = frame(index, h('div', { class: 'stack' },
    h('div', { class: 'notice', tabindex: '0', role: 'region', 'aria-label': 'Texto del aviso de privacidad' },
      h('p', {}, 'Aviso de privacidad simplificado. El Organismo Público Local Electoral es responsable de los datos personales que se recaban: los datos de su credencial para votar, su fotografía y su firma.'),
      h('p', {}, 'Se usan solo para verificar su apoyo a la candidatura independiente en la Lista Nominal de Electores; no se comparten con el aspirante ni con terceros, salvo las excepciones de ley.'),
      h('p', {}, 'Puede ejercer sus derechos de acceso, rectificación, cancelación y oposición ante el Organismo. El aviso integral está en su portal de internet.')),
    h('div', { class: 'check' }, box,
      h('label', { for: 'privacy-ok' }, 'La persona leyó (o escuchó) el aviso de privacidad y lo acepta.'))), {
    nextDisabled: !draft.privacy,
    next: () => step(index + 1),
  });
  box.addEventListener('change', () => { draft.privacy = box.checked; next.disabled = !box.checked; });
}

async function reviewStep(index) {
  const report = await runChecks();
  const problems = failed(report);
  const input = credentialInput();
  const labels = Object.fromEntries([['model', 'Modelo'], ...DATA_FIELDS.map(([k, l]) => [k, l.replace(/ \(.*\)$/, '')])]);
  const bad = new Set(problems.flatMap((c) => fieldsOf(c.code)));
  const total = Object.values(draft.images).reduce((n, b) => n + b.size, 0);
  const message = h('div');
  const missing = ['front', 'back', 'live_photo', 'signature'].filter((k) => !draft.images[k]);
  frame(index, h('div', { class: 'stack' },
    problems.length
      ? h('div', { class: 'alert warn', role: 'status' }, h('p', {}, 'Revise lo marcado:'),
        h('ul', {}, problems.map((c) => h('li', { class: c.severity }, c.message))),
        h('button', { type: 'button', class: 'secondary', onclick: () => step(2) }, 'Corregir datos'))
      : alertBox('Los datos pasan todas las revisiones.', 'ok'),
    missing.length ? alertBox('Faltan fotos o la firma: vuelva a los pasos anteriores.') : null,
    h('div', { class: 'thumbs' }, ['front', 'back', 'live_photo', 'signature'].filter((k) => draft.images[k]).map((k) =>
      preview(draft.images[k], { front: 'Frente', back: 'Reverso', live_photo: 'Fotografía de la persona', signature: 'Firma' }[k]))),
    h('table', { class: 'review' },
      h('caption', {}, 'Datos capturados'),
      h('tbody', {}, ['model', ...DATA_FIELDS.map(([k]) => k)].filter((k) => input[k]).map((k) => [k, input[k]]).map(([k, v]) => h('tr', { class: bad.has(k) ? 'bad' : '', 'data-field': k },
        h('th', { scope: 'row' }, labels[k] || k), h('td', {}, v))))),
    h('p', {}, `Aviso de privacidad: ${draft.privacy ? 'aceptado' : 'NO aceptado'}. Tamaño del apoyo: ${formatBytes(total)}.`),
    message), {
    nextLabel: 'Guardar apoyo',
    nextDisabled: missing.length > 0 || !draft.privacy,
    next: async () => {
      try {
        await saveDraft(report);
      } catch (e) {
        message.replaceChildren(alertBox(`No se pudo guardar: ${e.message}`));
      }
    },
  });
}

async function saveDraft(report) {
  const input = credentialInput();
  const support = {
    client_id: draft.client_id,
    captured_at: rfc3339Local(new Date()),
    credential: input,
    precheck_failed: failed(report).map((c) => c.code),
  };
  if (draft.location) support.location = draft.location;
  const name = [input.given_names, input.paternal_surname, input.maternal_surname].filter(Boolean).join(' ');
  await queue.save(support, {
    front: draft.images.front, back: draft.images.back,
    live_photo: draft.images.live_photo, signature: draft.images.signature,
  }, { name: name || 'Sin nombre', section: input.section || report.fields?.section || '' });
  draft = null;
  await homeScreen();
  announce(navigator.onLine ? 'Apoyo guardado; se está enviando.' : 'Apoyo guardado en el teléfono; se enviará cuando haya conexión.');
  queue.sync({ force: true });
}

boot();
export { ApiError };
