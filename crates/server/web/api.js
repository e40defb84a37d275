// The server's JSON API under /api/v1, with the session's bearer token.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Network failure or timeout: worth retrying later. */
export class Offline extends Error {}

let token = null;
export function setToken(value) { token = value; }

export async function call(method, path, { json, form, timeoutMs = 30000 } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, body, signal: abort.signal, credentials: 'omit', cache: 'no-store',
    });
  } catch (e) {
    throw new Offline(abort.signal.aborted ? 'Tiempo de espera agotado' : 'Sin conexión');
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text().catch(() => '');
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(response.status, err.code || 'http', err.message
      || `El servidor respondió ${response.status}.`);
  }
  return { status: response.status, data };
}
