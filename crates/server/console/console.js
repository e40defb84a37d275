// The back office's only script: sends the console's forms to the JSON API (with the
// session's CSRF token), and runs the Mesa de Control review desk with the keyboard.

const jsonHeaders = { 'content-type': 'application/json', accept: 'application/json' };

async function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) return meta.content;
  // Pages without the layout's header (password change) ask the session.
  const reply = await fetch('/api/v1/session', { headers: { accept: 'application/json' } });
  if (!reply.ok) return '';
  return (await reply.json()).csrf_token || '';
}

async function api(method, path, body) {
  const headers = { ...jsonHeaders, 'x-csrf-token': await csrfToken() };
  let reply;
  try {
    reply = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin',
    });
  } catch {
    // fetch fails only when no answer arrived (connection lost, server down): say so in Spanish.
    throw new Error('No hubo respuesta del servidor. Revise la conexión e intente de nuevo.');
  }
  let data = null;
  if (reply.status !== 204) {
    try { data = await reply.json(); } catch { data = null; }
  }
  if (!reply.ok) {
    const message = data && data.error ? data.error.message : `Error ${reply.status}. Intente de nuevo.`;
    const error = new Error(message);
    error.status = reply.status;
    throw error;
  }
  return { status: reply.status, data };
}

function showError(form, message) {
  const slot = form.querySelector('.form-error');
  if (!slot) { alert(message); return; }
  slot.textContent = message;
  slot.hidden = false;
  slot.tabIndex = -1;
  slot.focus();
}

/** The JSON body of a console form: inputs by name, typed by data-type. */
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const type = el.dataset.type;
    if (type === 'list') {
      body[el.name] = body[el.name] || [];
      if (el.checked) body[el.name].push(el.value);
    } else if (el.type === 'radio') {
      if (el.checked) body[el.name] = type === 'bool' ? el.value === 'true' : el.value;
    } else if (el.type === 'checkbox') {
      body[el.name] = el.checked;
    } else if (type === 'bool') {
      body[el.name] = el.value === 'true';
    } else if (type === 'number') {
      body[el.name] = Number(el.value);
    } else if (type === 'optional-number') {
      body[el.name] = el.value === '' ? null : Number(el.value);
    } else if (type === 'numbers') {
      // "101, 102" → [101, 102]; empty → null (the API's default).
      const items = el.value.split(',').map((v) => v.trim()).filter(Boolean);
      body[el.name] = items.length ? items.map(Number) : null;
    } else if (type === 'pairs') {
      // "10-12, 10-30" → [[10, 12], [10, 30]].
      body[el.name] = el.value.split(',').map((v) => v.trim()).filter(Boolean)
        .map((pair) => pair.split('-').map((n) => Number(n.trim())));
    } else if (type === 'date') {
      body[el.name] = el.value === '' ? null : el.value;
    } else {
      body[el.name] = el.value;
    }
  }
  if (body.note === '') body.note = null;
  return body;
}

/** A new account's one-time password, shown once in place of the form that made it. */
function showAccount(form, account) {
  const panel = document.createElement('div');
  panel.className = 'card notice';
  panel.setAttribute('role', 'status');
  panel.tabIndex = -1;
  const title = document.createElement('h3');
  title.textContent = 'Cuenta creada';
  const text = document.createElement('p');
  text.textContent = `Correo: ${account.email}. Contraseña de un solo uso: `;
  const password = document.createElement('code');
  password.textContent = account.initial_password;
  text.append(password);
  const advice = document.createElement('p');
  advice.textContent = 'Entréguela por un medio seguro: no se volverá a mostrar, y se pedirá cambiarla en el primer acceso.';
  const next = document.createElement('button');
  next.type = 'button';
  next.textContent = 'Continuar';
  next.addEventListener('click', () => location.reload());
  panel.append(title, text, advice, next);
  form.replaceWith(panel);
  panel.focus();
}

function wireForms() {
  for (const form of document.querySelectorAll('form[data-api]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        const { data } = await api(form.dataset.method || 'POST', form.dataset.api, formBody(form));
        if ('showsAccount' in form.dataset && data && data.account) showAccount(form, data.account);
        else if (form.dataset.next) location.assign(form.dataset.next);
        else location.reload();
      } catch (error) {
        showError(form, error.message);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }
  const login = document.getElementById('login-form');
  if (login) {
    login.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const { data } = await api('POST', '/api/v1/session', {
          email: login.elements.email.value, password: login.elements.password.value,
        });
        if (data.user && data.user.must_change_password) location.assign('/console/password');
        else location.assign(login.dataset.next || '/console/');
      } catch (error) {
        showError(login, error.message);
      }
    });
  }
  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async () => {
      try { await api('DELETE', '/api/v1/session'); } finally { location.assign('/console/login'); }
    });
  }
}

// ---------------------------------------------------------------------------------------
// Importing a roll snapshot (/console/roll)
// ---------------------------------------------------------------------------------------

/** "1.5 MB", as the page shows sizes. */
function readableSize(bytes) {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toLocaleString('es-MX', { maximumFractionDigits: 1 })} ${units[unit]}`;
}

/** POSTs a file as the raw body with XMLHttpRequest, whose upload reports its progress. */
function uploadFile(path, file, onProgress) {
  return csrfToken().then((token) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('x-csrf-token', token);
    xhr.setRequestHeader('content-type', 'text/csv');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new Error(data && data.error ? data.error.message : `Error ${xhr.status}. Intente de nuevo.`));
    });
    xhr.addEventListener('error', () => reject(new Error('Se perdió la conexión mientras se enviaba el archivo; no se importó nada. Intente de nuevo.')));
    xhr.addEventListener('abort', () => reject(new Error('El envío del archivo se canceló; no se importó nada.')));
    xhr.send(file);
  }));
}

/** The upload form of the Lista Nominal page: upload with progress, then the import's. */
function wireRollImport(form) {
  const panel = document.getElementById('roll-import-progress');
  const label = document.getElementById('roll-progress-label');
  const bar = document.getElementById('roll-progress');
  const text = document.getElementById('roll-progress-text');
  const status = document.getElementById('roll-import-status');
  const done = document.getElementById('roll-import-done');
  const button = form.querySelector('button[type="submit"]');
  const slot = form.querySelector('.form-error');
  let announced = -1; // the last tenth of the upload told to screen readers

  const wait = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  async function follow(id) {
    let lastTold = 0;
    let unanswered = 0;
    for (;;) {
      let data;
      try {
        ({ data } = await api('GET', `/api/v1/roll/imports/${id}`));
        unanswered = 0;
      } catch (error) {
        // No answer (connection lost): the import goes on in the server; ask again.
        if (error.status || unanswered >= 30) {
          throw new Error(error.status ? error.message : 'Se perdió la conexión con el servidor; la importación sigue allá. Recargue la página para ver su resultado.');
        }
        unanswered += 1;
        status.textContent = 'Sin respuesta del servidor; se vuelve a preguntar por la importación.';
        await wait(2000);
        continue;
      }
      const rows = Number(data.rows_read || 0).toLocaleString('es-MX');
      if (data.status === 'done') {
        label.textContent = 'Importación terminada';
        bar.max = 1; bar.value = 1;
        const message = `Se importó el corte «${data.snapshot_name || data.name}» con ${rows} registros${data.activate ? '; ahora es el corte vigente' : ''}.`;
        text.textContent = message;
        status.textContent = message;
        done.hidden = false;
        return;
      }
      if (data.status === 'failed') {
        label.textContent = 'La importación falló';
        bar.max = 1; bar.value = 0;
        text.textContent = '';
        status.textContent = 'La importación falló; no se importó nada.';
        throw new Error(data.error || 'La importación falló; no se importó nada.');
      }
      label.textContent = data.status === 'queued' ? 'En espera de otra importación' : 'Importando los registros';
      bar.removeAttribute('value'); // indeterminate: the rows of the file are not known ahead
      text.textContent = `Registros importados: ${rows}`;
      if (Date.now() - lastTold >= 10000) {
        status.textContent = `Importando: ${rows} registros.`;
        lastTold = Date.now();
      }
      await wait(1000);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    slot.hidden = true;
    const file = form.elements.namedItem('file').files[0];
    if (!file) { showError(form, 'Elija el archivo de la Lista Nominal.'); return; }
    const params = new URLSearchParams({
      cut_date: form.elements.namedItem('cut_date').value,
      name: form.elements.namedItem('name').value.trim(),
      activate: String(form.elements.namedItem('activate').checked),
    });
    button.disabled = true;
    panel.hidden = false;
    done.hidden = true;
    label.textContent = 'Enviando el archivo';
    bar.max = 100; bar.value = 0;
    text.textContent = `0 % de ${readableSize(file.size)}`;
    status.textContent = `Enviando ${file.name} (${readableSize(file.size)}).`;
    announced = 0;
    try {
      const created = await uploadFile(`/api/v1/roll/imports?${params}`, file, (loaded, total) => {
        const percent = Math.floor((loaded / total) * 100);
        bar.value = percent;
        text.textContent = `${percent} %: ${readableSize(loaded)} de ${readableSize(total)}`;
        const tenth = Math.floor(percent / 10);
        if (tenth > announced) { announced = tenth; status.textContent = `Enviado el ${tenth * 10} % del archivo.`; }
      });
      status.textContent = 'Archivo recibido. Importando los registros.';
      await follow(created.id);
    } catch (error) {
      if (panel && label.textContent === 'Enviando el archivo') panel.hidden = true;
      showError(form, error.message);
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------
// The review desk
// ---------------------------------------------------------------------------------------

const KINDS = [
  ['front', 'Anverso'], ['back', 'Reverso'], ['live_photo', 'Fotografía viva'], ['signature', 'Firma'],
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function fullName(c) {
  return [c.given_names, c.paternal_surname, c.maternal_surname].filter(Boolean).join(' ');
}

function startDesk(root) {
  const process = root.dataset.process;
  const catalog = JSON.parse(document.getElementById('catalog').textContent);
  const desk = document.getElementById('desk');
  const status = document.getElementById('desk-status');
  let current = null;
  let upcoming = null; // Promise of the next task (already claimed and its images loading)
  let image = 0;
  let zoom = 1;
  let rotation = 0;
  let decided = 0;
  let busy = false;
  const started = Date.now();

  async function claim(exclude) {
    const { status: code, data } = await api('POST', `/api/v1/processes/${process}/review/next`, { exclude });
    if (code === 204) return null;
    for (const [kind] of KINDS) {
      if (data.image_urls[kind]) new Image().src = data.image_urls[kind];
    }
    return data;
  }

  function rate() {
    const hours = (Date.now() - started) / 3600000;
    return hours > 0 ? Math.round(decided / hours) : 0;
  }

  function say(text) { status.textContent = text; }

  function applyView() {
    const big = document.getElementById('big');
    if (big) big.style.transform = `scale(${zoom}) rotate(${rotation}deg)`;
  }

  function selectImage(index) {
    if (!current) return;
    const kinds = KINDS.filter(([kind]) => current.image_urls[kind]);
    if (kinds.length === 0) return;
    image = (index + kinds.length) % kinds.length;
    zoom = 1; rotation = 0;
    const [kind, label] = kinds[image];
    const big = document.getElementById('big');
    big.src = current.image_urls[kind];
    big.alt = `${label} del apoyo ${current.folio}`;
    applyView();
    for (const button of desk.querySelectorAll('.thumbs button')) {
      button.setAttribute('aria-pressed', String(button.dataset.kind === kind));
    }
  }

  function compareRows(task) {
    const c = task.captured || {};
    const r = task.roll || {};
    const rows = [
      ['Nombre', fullName(c), r.name],
      ['Sección', c.section, r.section === undefined ? undefined : String(r.section).padStart(4, '0')],
      ['CIC', c.cic, r.cic],
      ['Modelo', c.model, r.model],
      ['Emisión', c.issue_number, r.issue_number === undefined ? undefined : String(r.issue_number).padStart(2, '0')],
      ['Sexo', c.sex, r.sex],
      ['Fecha de nacimiento', c.birth_date, r.birth_date],
    ];
    const body = el('tbody');
    for (const [label, captured, roll] of rows) {
      if (captured === undefined && roll === undefined) continue;
      const differs = captured !== undefined && roll !== undefined
        && String(captured).replace(/^0+/, '').toUpperCase() !== String(roll).replace(/^0+/, '').toUpperCase();
      body.append(el('tr', {},
        el('th', { scope: 'row', text: label }),
        el('td', { text: captured ?? '—' }),
        el('td', { text: roll ?? '—', class: differs ? 'differs' : null }, differs ? el('span', { class: 'sr', text: ' (no coincide)' }) : null)));
    }
    return el('table', { class: 'compare' },
      el('caption', { text: 'Datos capturados y datos de la Lista Nominal' }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Dato' }), el('th', { scope: 'col', text: 'Capturado' }), el('th', { scope: 'col', text: 'Lista Nominal' }))),
      body);
  }

  function render(task) {
    current = task;
    desk.replaceChildren();
    if (!task) {
      desk.hidden = false;
      desk.append(el('p', { text: 'No hay apoyos pendientes en la cola de este proceso.' }));
      say(`Cola terminada. Decisiones en esta sesión: ${decided}.`);
      return;
    }
    const viewer = el('div', {},
      el('div', { class: 'viewer' }, el('img', { id: 'big', alt: '' })),
      el('div', { class: 'thumbs', role: 'group', 'aria-label': 'Imágenes del apoyo' },
        ...KINDS.filter(([kind]) => task.image_urls[kind]).map(([kind, label], i) => {
          const button = el('button', { type: 'button', 'data-kind': kind, 'aria-pressed': 'false', title: label },
            el('img', { src: task.image_urls[kind], alt: label }));
          button.addEventListener('click', () => selectImage(i));
          return button;
        })));
    const checks = catalog.map((item, i) => el('div', { class: 'check' },
      el('input', { type: 'checkbox', id: `inc-${i}`, value: item.code }),
      el('label', { for: `inc-${i}` }, i < 9 ? el('kbd', { text: String(i + 1) }) : null, document.createTextNode(` ${item.label}`))));
    const note = el('textarea', { id: 'decision-note', rows: '2', maxlength: '2000' });
    const valid = el('button', { type: 'button', id: 'decide-valid' }, document.createTextNode('Válido '), el('kbd', { text: 'V' }));
    const record = el('button', { type: 'submit', id: 'decide-inconsistent' }, document.createTextNode('Registrar inconsistencias '), el('kbd', { text: 'Intro' }));
    const form = el('form', { class: 'decision', 'aria-labelledby': 'decision-title' },
      el('h3', { id: 'decision-title', text: 'Decisión' }),
      el('fieldset', {}, el('legend', { text: 'Inconsistencias' }), ...checks),
      el('label', { for: 'decision-note', text: 'Nota (opcional)' }), note,
      el('p', { class: 'form-error', role: 'alert', hidden: true }),
      valid, document.createTextNode(' '), record);
    form.addEventListener('submit', (event) => { event.preventDefault(); decideSelected(); });
    valid.addEventListener('click', () => decide([]));
    const check = task.image_check
      ? el('p', { class: 'notice', text: `Lectura del reverso: ${task.image_check.label}` }) : null;
    const info = el('div', {},
      el('h2', { id: 'task-title', tabindex: '-1', text: `Apoyo ${task.folio}` }),
      el('p', { text: `${task.aspirant_name} · recibido ${new Date(task.received_at).toLocaleString('es-MX')}${task.paper ? ' · en papel' : ''} · ${task.outcome_label || 'en verificación'}` }),
      compareRows(task), check, form);
    desk.append(viewer, info);
    desk.hidden = false;
    selectImage(0);
    document.getElementById('task-title').focus();
    say(`Apoyo ${task.folio}. Decisiones en esta sesión: ${decided} (${rate()} por hora).`);
  }

  function selectedCodes() {
    return [...desk.querySelectorAll('.decision input[type="checkbox"]:checked')].map((c) => c.value);
  }

  function decideSelected() {
    const codes = selectedCodes();
    if (codes.length === 0) {
      const form = desk.querySelector('.decision');
      showError(form, 'Marque al menos una inconsistencia, o pulse V si el apoyo es válido.');
      return;
    }
    decide(codes);
  }

  /** Claims, ahead of time, the support to show after `shown`. */
  function prefetch(shown) {
    const next = claim([shown]);
    next.catch(() => {}); // a failure is dealt with when it is awaited (showNext)
    return next;
  }

  /**
   * Shows the support claimed ahead of time. If that claim failed it claims again (when
   * only the answer was lost, the server gives the same support back); if that fails
   * too, the desk says so and offers to try again: a decided support never stays on
   * screen, where a key could send it twice.
   */
  async function showNext() {
    let next;
    try {
      next = upcoming ? await upcoming.catch(() => claim([])) : await claim([]);
    } catch (error) {
      upcoming = null;
      current = null;
      const retry = el('button', { type: 'button', id: 'desk-retry' }, document.createTextNode('Intentar de nuevo'));
      retry.addEventListener('click', () => { retry.disabled = true; showNext(); });
      desk.replaceChildren(el('div', {},
        el('p', { class: 'form-error', text: `No se pudo cargar el siguiente apoyo. ${error.message}` }), retry));
      desk.hidden = false;
      say(`No se pudo cargar el siguiente apoyo. Decisiones en esta sesión: ${decided}.`);
      retry.focus();
      return;
    }
    render(next);
    upcoming = next ? prefetch(next.support_id) : null;
  }

  async function decide(codes) {
    if (!current || busy) return;
    busy = true;
    try {
      const note = document.getElementById('decision-note');
      try {
        await api('POST', `/api/v1/supports/${current.support_id}/review`, {
          inconsistencies: codes, note: note && note.value.trim() ? note.value.trim() : null,
        });
      } catch (error) {
        showError(desk.querySelector('.decision'), error.message);
        return;
      }
      decided += 1;
      current = null; // recorded: no key may send it again
      await showNext();
    } finally {
      busy = false;
    }
  }

  document.addEventListener('keydown', (event) => {
    if (!current || event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target instanceof HTMLTextAreaElement
      || (event.target instanceof HTMLInputElement && event.target.type !== 'checkbox');
    if (typing) {
      if (event.key === 'Escape') event.target.blur();
      return;
    }
    const key = event.key;
    if (key === 'v' || key === 'V') { event.preventDefault(); decide([]); }
    else if (/^[1-9]$/.test(key)) {
      const box = document.getElementById(`inc-${Number(key) - 1}`);
      if (box) { event.preventDefault(); box.checked = !box.checked; say(`${box.checked ? 'Marcada' : 'Desmarcada'}: ${box.nextElementSibling.textContent.trim()}`); }
    } else if (key === 'Enter' && !(event.target instanceof HTMLButtonElement)) { event.preventDefault(); decideSelected(); }
    else if (key === 'n' || key === 'N') { event.preventDefault(); document.getElementById('decision-note').focus(); }
    else if (key === 'ArrowRight') { event.preventDefault(); selectImage(image + 1); }
    else if (key === 'ArrowLeft') { event.preventDefault(); selectImage(image - 1); }
    else if (key === '+' || key === '=') { zoom = Math.min(4, zoom + 0.25); applyView(); }
    else if (key === '-') { zoom = Math.max(0.5, zoom - 0.25); applyView(); }
    else if (key === 'r' || key === 'R') { rotation = (rotation + 90) % 360; applyView(); }
  });

  // Leaving the desk gives back what it holds, so other reviewers get it at once.
  window.addEventListener('pagehide', async () => {
    const token = await csrfToken();
    const next = upcoming ? await upcoming.catch(() => null) : null;
    const held = [current && current.support_id, next && next.support_id];
    for (const id of held.filter(Boolean)) {
      fetch(`/api/v1/supports/${id}/review/claim`, { method: 'DELETE', keepalive: true, headers: { 'x-csrf-token': token } });
    }
  });

  showNext();
}

wireForms();
const rollForm = document.getElementById('roll-import-form');
if (rollForm) wireRollImport(rollForm);
const deskRoot = document.getElementById('review-desk');
if (deskRoot) startDesk(deskRoot);
