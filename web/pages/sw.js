// The tablet app's service worker: it keeps the app shell in a cache so that
// the app opens without a connection. Data (the day's worklist, residents,
// the outbox of unsent entries) lives in IndexedDB, handled by the page; the
// API is never answered from this cache, so nothing stale can pass for an
// answer of the server. The server puts the build's version below, so a new
// build installs a new worker, which drops the old cache.
const VERSION = '{{BUILD}}';
const CACHE = 'healthrec-tablet-' + VERSION;
const SHELL = [
  '/tablet/',
  '/tablet/manifest.webmanifest',
  '/static/app.css?v=' + VERSION,
  '/static/js/tablet.js?v=' + VERSION,
  '/static/js/api.js',
  '/static/js/dom.js',
  '/static/js/labels.js',
  '/static/js/forms.js',
  '/static/js/keypop.js',
  '/static/js/tablet-keypop.js',
  '/static/js/shell.js',
  '/static/js/store.js',
  '/static/js/outbox.js',
  '/static/img/icon.svg',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('healthrec-tablet-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // the page handles offline data itself

  if (req.mode === 'navigate') {
    // The shell: the network first (to pick up a new build), the cache when
    // offline or when the network is too slow to wait for in a village.
    event.respondWith((async () => {
      try {
        const res = await Promise.race([fetch(req), new Promise((_, reject) => setTimeout(() => reject(new Error('slow')), 4000))]);
        if (res.ok) (await caches.open(CACHE)).put('/tablet/', res.clone());
        return res;
      } catch (e) {
        const hit = await caches.match('/tablet/', { cacheName: CACHE });
        return hit || new Response('离线且尚未缓存应用，请联网后打开一次。', {
          status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        });
      }
    })());
    return;
  }
  if (url.pathname.startsWith('/static/') || url.pathname.startsWith('/tablet/')) {
    // Assets: from the cache of this build, else the network.
    event.respondWith((async () => {
      const hit = await caches.match(req, { cacheName: CACHE });
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok) (await caches.open(CACHE)).put(req, res.clone());
      return res;
    })());
  }
});
