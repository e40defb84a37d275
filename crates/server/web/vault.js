// Everything the app keeps on the device, encrypted with AES-GCM (WebCrypto).
//
// The key is a non-extractable CryptoKey: JavaScript (and so any script that reads the
// storage) can use it but never read its bytes. It lives in its own database
// ("apoyo-llave"), apart from the encrypted records ("apoyo-datos"). Logout deletes both.

const KEY_DB = 'apoyo-llave';
const DATA_DB = 'apoyo-datos';
const open = {};

function openDb(name) {
  if (!open[name]) {
    open[name] = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (name === KEY_DB) db.createObjectStore('keys');
        else {
          db.createObjectStore('meta');
          db.createObjectStore('supports', { keyPath: 'client_id' });
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab deleting the database (logout) must not be blocked by us.
        db.onversionchange = () => { db.close(); delete open[name]; };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
    });
  }
  return open[name];
}

async function tx(dbName, store, mode, fn) {
  const db = await openDb(dbName);
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    let result;
    Promise.resolve(fn(t.objectStore(store))).then((r) => { result = r; });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transacción abortada'));
  });
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let keyPromise = null;
function key() {
  if (!keyPromise) {
    keyPromise = (async () => {
      const existing = await tx(KEY_DB, 'keys', 'readonly', (s) => req(s.get('main')));
      if (existing) return existing;
      const created = await crypto.subtle.generateKey(
        { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
      );
      await tx(KEY_DB, 'keys', 'readwrite', (s) => req(s.put(created, 'main')));
      return created;
    })();
    keyPromise.catch(() => { keyPromise = null; });
  }
  return keyPromise;
}

export async function encrypt(bytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await key(), bytes);
  return { iv, data };
}

export async function decrypt(sealed) {
  return crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, await key(), sealed.data);
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const encryptJson = (value) => encrypt(enc.encode(JSON.stringify(value)));
export const decryptJson = async (sealed) => JSON.parse(dec.decode(await decrypt(sealed)));

/** One support's parts in one buffer: [u32 header length][header JSON][image bytes…]. */
export async function packSupport(support, images) {
  const list = [];
  const buffers = [];
  for (const [kind, blob] of Object.entries(images)) {
    const buf = new Uint8Array(await blob.arrayBuffer());
    list.push({ kind, type: blob.type, size: buf.length });
    buffers.push(buf);
  }
  const header = enc.encode(JSON.stringify({ support, images: list }));
  const total = 4 + header.length + buffers.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  let at = 4 + header.length;
  for (const b of buffers) { out.set(b, at); at += b.length; }
  return out;
}

export function unpackSupport(buffer) {
  const bytes = new Uint8Array(buffer);
  const len = new DataView(bytes.buffer).getUint32(0);
  const { support, images } = JSON.parse(dec.decode(bytes.subarray(4, 4 + len)));
  let at = 4 + len;
  const blobs = {};
  for (const img of images) {
    blobs[img.kind] = new Blob([bytes.slice(at, at + img.size)], { type: img.type });
    at += img.size;
  }
  return { support, images: blobs };
}

// --- session -----------------------------------------------------------------------------

export async function saveSession(session) {
  const sealed = await encryptJson(session);
  await tx(DATA_DB, 'meta', 'readwrite', (s) => req(s.put(sealed, 'session')));
}

export async function loadSession() {
  const sealed = await tx(DATA_DB, 'meta', 'readonly', (s) => req(s.get('session')));
  if (!sealed) return null;
  try { return await decryptJson(sealed); } catch { return null; }
}

export async function forgetSessionToken() {
  const session = await loadSession();
  if (session) { session.token = null; await saveSession(session); }
}

// --- supports ----------------------------------------------------------------------------

export const putSupport = (record) => tx(DATA_DB, 'supports', 'readwrite', (s) => req(s.put(record)));
export const getSupport = (id) => tx(DATA_DB, 'supports', 'readonly', (s) => req(s.get(id)));
export const deleteSupport = (id) => tx(DATA_DB, 'supports', 'readwrite', (s) => req(s.delete(id)));
export const listSupports = () => tx(DATA_DB, 'supports', 'readonly', (s) => req(s.getAll()));

/** Deletes every local record and the key (logout). */
export async function wipe() {
  for (const name of [DATA_DB, KEY_DB]) {
    if (open[name]) {
      (await open[name].catch(() => null))?.close();
      delete open[name];
    }
    await new Promise((resolve) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }
  keyPromise = null;
}
