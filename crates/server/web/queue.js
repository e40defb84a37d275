// The offline queue: supports saved encrypted on the device, sent when a connection
// appears (retries with backoff, idempotent by client_id), removed only after the
// server's receipt; then their verification outcome is followed.
import * as vault from './vault.js';
import { call, ApiError } from './api.js';
import { outcomeLabel } from './checks.js';

const listeners = new Set();
export const onChange = (fn) => listeners.add(fn);
const changed = (what) => listeners.forEach((fn) => fn(what));

/** Seconds to wait after `attempts` failed tries: 5 s, 10 s, 20 s… up to 5 min, ±25 %. */
export function backoffSeconds(attempts) {
  const base = Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
  return base * (0.75 + Math.random() * 0.5);
}

/** Saves a new support (encrypted) as pending; `summary` is what the list shows. */
export async function save(support, images, summary) {
  const packed = await vault.packSupport(support, images);
  const record = {
    client_id: support.client_id,
    status: 'pending',
    created_at: new Date().toISOString(),
    attempts: 0,
    next_at: 0,
    bytes: packed.length,
    summary: await vault.encryptJson(summary),
    payload: await vault.encrypt(packed),
  };
  await vault.putSupport(record);
  changed('saved');
  return record;
}

/** What went wrong, for the collector, and what to do about it. */
function refusal(error) {
  const what = {
    400: 'Corrija los datos con el ciudadano y capture el apoyo de nuevo; después descarte este.',
    403: 'Su cuenta no puede enviar apoyos (¿está desactivada?). Hable con su aspirante.',
    409: 'El servidor ya tiene otro apoyo con este identificador. Descártelo y capture de nuevo.',
    413: 'Las fotos son demasiado grandes. Capture el apoyo de nuevo y descarte este.',
    422: 'Capture el apoyo de nuevo si el problema es una foto; si es el periodo, descártelo.',
  }[error.status] || 'Descarte este apoyo o consulte a la Mesa de Control.';
  return { message: error.message, action: what, status: error.status };
}

let running = null;
let authLost = false;
export const needsLogin = () => authLost;
export function resumeAfterLogin() { authLost = false; }

/** Sends every pending support whose time has come; one run at a time. */
export function sync({ force = false } = {}) {
  if (!running) {
    running = run(force).finally(() => { running = null; });
  }
  return running;
}

async function run(force) {
  if (!active || !navigator.onLine || authLost) return;
  const now = Date.now();
  const due = (await vault.listSupports())
    .filter((r) => r.status === 'pending' && (force || r.next_at <= now))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  for (const record of due) {
    if (!active || !navigator.onLine || authLost) break;
    await sendOne(record);
  }
  await refreshOutcomes();
  if (active) await scheduleWake();
}

let wake = null;
/** Wakes up for the next retry that is due, or in 3 s while a support sent in the last
 *  two minutes awaits its outcome (the worker usually needs well under a second). */
async function scheduleWake() {
  const now = Date.now();
  const all = await vault.listSupports();
  const waits = all.filter((r) => r.status === 'pending').map((r) => r.next_at - now);
  if (all.some((r) => r.status === 'sent' && !r.receipt?.outcome
    && Date.parse(r.receipt?.received_at) > now - 120000)) waits.push(3000);
  clearTimeout(wake);
  if (waits.length) wake = setTimeout(() => sync(), Math.max(500, Math.min(...waits)));
}

async function sendOne(record) {
  let unpacked;
  try {
    unpacked = vault.unpackSupport(await vault.decrypt(record.payload));
  } catch {
    record.status = 'failed';
    record.error = { message: 'El apoyo guardado no se pudo descifrar.', action: 'Descártelo y captúrelo de nuevo.' };
    await vault.putSupport(record);
    changed('failed');
    return;
  }
  const form = new FormData();
  form.append('support', new Blob([JSON.stringify(unpacked.support)], { type: 'application/json' }));
  for (const [kind, blob] of Object.entries(unpacked.images)) {
    form.append(kind, blob, `${kind}.${blob.type === 'image/png' ? 'png' : 'jpg'}`);
  }
  try {
    const { data } = await call('POST', '/supports', { form, timeoutMs: 120000 });
    // Received (201) or already received (200): the same receipt either way.
    record.status = 'sent';
    record.receipt = {
      support_id: data.support_id, folio: data.folio, received_at: data.received_at,
      outcome: data.outcome, verified_at: data.verified_at, duplicate_of: data.duplicate_of,
      // A resend may find the support already verified.
      outcome_label: data.outcome ? await outcomeLabel(data.outcome) : null,
    };
    record.payload = null; // the server has it: nothing personal stays but the summary
    record.error = null;
    await vault.putSupport(record);
    changed('sent');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      authLost = true;
      changed('auth');
      return;
    }
    if (e instanceof ApiError && [400, 403, 409, 413, 422].includes(e.status)) {
      record.status = 'failed';
      record.error = refusal(e);
    } else {
      // Offline, timeout, 5xx, 429: try again later with the same client_id.
      record.attempts += 1;
      record.next_at = Date.now() + backoffSeconds(record.attempts) * 1000;
      record.error = { message: e.message, action: 'Se reintentará solo.' };
    }
    await vault.putSupport(record);
    changed('retry');
  }
}

/** Asks the server for the outcome of every sent support that has none yet (or all). */
export async function refreshOutcomes({ all = false } = {}) {
  if (!active || !navigator.onLine || authLost) return;
  const sent = (await vault.listSupports())
    .filter((r) => r.status === 'sent' && r.receipt && (all || !r.receipt.outcome));
  let any = false;
  for (const record of sent) {
    try {
      const { data } = await call('GET', `/supports/${record.receipt.support_id}/receipt`);
      if (data.outcome !== record.receipt.outcome || data.verified_at !== record.receipt.verified_at) {
        record.receipt.outcome = data.outcome;
        record.receipt.verified_at = data.verified_at;
        record.receipt.duplicate_of = data.duplicate_of;
        record.receipt.outcome_label = data.outcome ? await outcomeLabel(data.outcome) : null;
        await vault.putSupport(record);
        any = true;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { authLost = true; changed('auth'); return; }
      break; // offline or server trouble: next round
    }
  }
  if (any) changed('outcome');
}

/** A failed support goes back to the queue (after the collector fixed the cause). */
export async function retry(clientId) {
  const record = await vault.getSupport(clientId);
  if (!record || record.status !== 'failed' || !record.payload) return;
  Object.assign(record, { status: 'pending', attempts: 0, next_at: 0, error: null });
  await vault.putSupport(record);
  changed('retry');
  sync();
}

export async function discard(clientId) {
  const record = await vault.getSupport(clientId);
  if (!record) return;
  await vault.deleteSupport(clientId);
  changed('discarded');
}

export async function pendingCount() {
  return (await vault.listSupports()).filter((r) => r.status === 'pending' || r.status === 'failed').length;
}

let timer = null;
let active = false;
const online = () => sync({ force: true });
/** Sends on start, when the connection comes back, and every 10 s while the app is open. */
export function start() {
  active = true;
  if (!timer) {
    window.addEventListener('online', online);
    timer = setInterval(() => { if (document.visibilityState === 'visible') sync(); }, 10000);
  }
  sync({ force: true });
}

/** Resolves when no run is in progress. */
export const idle = () => (running || Promise.resolve()).catch(() => {});

/** Logout: nothing may touch the (deleted) databases any more. */
export function stop() {
  active = false;
  window.removeEventListener('online', online);
  clearInterval(timer);
  clearTimeout(wake);
  timer = null;
}
