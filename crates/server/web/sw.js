// Service worker of the capture app: keeps the app shell for offline use.
// The API is never intercepted: supports are queued by the page (IndexedDB), not here.
const VERSION = '__APOYO_SHELL_VERSION__';
const CACHE = `apoyo-shell-${VERSION}`;
const SHELL = [
  './', 'index.html', 'app.css', 'app.js', 'ui.js', 'api.js', 'vault.js', 'queue.js',
  'media.js', 'checks.js', 'checks.wasm', 'manifest.webmanifest', 'icon.svg',
  'icon-192.png', 'icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((p) => new Request(p, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('apoyo-shell-') && k !== CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith('/app/')) return;
  // Cache first: the shell is versioned as a whole, a new service worker brings a new one.
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const key = event.request.mode === 'navigate' ? 'index.html' : event.request;
      const hit = await cache.match(key, { ignoreSearch: true });
      if (hit) return hit;
      return fetch(event.request);
    }),
  );
});
