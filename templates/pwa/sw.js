/* Terrain service worker, version {{ version }}.
   Caches the app shell under a versioned name and shows the offline page when a
   navigation fails. Pages come from the network first; the few the server marks as
   a user's offline views (header X-Terrain-Offline: page) are also kept in a pages
   cache of this phone, shown when the network fails, and wiped at logout by the
   page's script. Never caches other pages, API answers or htmx fragments.
   The shell is what every role's pages use; the static files an offline view loads
   (its role's scripts: the offline engine's domain modules) are cached with the view,
   from the page's own <script> and <link> list, and again when a new version installs.
   The outbox of changes lives in IndexedDB (static/js/offline/engine.js), never here:
   a new worker version changes nothing to it, and sends nothing itself.
   Served from / with Cache-Control: no-cache so updates are seen. */
"use strict";

const VERSION = "{{ version }}";
const SHELL_CACHE = "terrain-shell-" + VERSION;
// Not versioned: the offline views survive an update of the worker.
const PAGES_CACHE = "terrain-pages";
const OFFLINE_URL = "{{ offline_url }}";
const LOGOUT_URL = "{{ logout_url }}";
const SHELL = {{ shell | tojson }};
const STATIC_PREFIX = "{{ static_prefix }}";
const OFFLINE_HEADER = "X-Terrain-Offline";
const USER_HEADER = "X-Terrain-User";
// Offline views older than this are fetched again when a page asks to keep them ready.
const PAGE_REFRESH_MS = 30 * 60 * 1000;
const SYNC_TAG = "terrain-outbox";

// The static files a page loads (scripts, style sheets, icons), as paths.
const ASSET = /<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g;

function assetsOf(html) {
  const found = new Set();
  for (const match of html.matchAll(ASSET)) {
    const url = new URL(match[1].replace(/&amp;/g, "&"), self.location.origin);
    if (url.origin === self.location.origin && url.pathname.startsWith(STATIC_PREFIX)) {
      found.add(url.pathname);
    }
  }
  return Array.from(found);
}

// Cache the files of `paths` this version's shell lacks (one missing is no failure).
function keepAssets(paths) {
  return caches.open(SHELL_CACHE).then((cache) => Promise.all(paths.map((path) =>
    cache.match(path).then((hit) => hit || cache.add(path)).catch(() => undefined)
  )));
}

// What the kept offline views load: cached again by a new version of the worker.
function keptAssets() {
  return caches.has(PAGES_CACHE).then((exists) => {
    if (!exists) { return []; }
    return caches.open(PAGES_CACHE).then((cache) => cache.keys().then((keys) =>
      Promise.all(keys.map((key) => cache.match(key, { ignoreVary: true })
        .then((hit) => (hit ? hit.text().then(assetsOf) : []))))
    )).then((lists) => Array.from(new Set([].concat(...lists))));
  });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.concat([OFFLINE_URL])))
      .then(() => keptAssets().catch(() => []))
      .then(keepAssets)
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("terrain-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

// --- The pages cache: one user's offline views at a time ---------------------------

function pageKey(url) {
  const parsed = new URL(url, self.location.origin);
  parsed.hash = "";
  return parsed.href;
}

function isOfflineView(response) {
  return Boolean(response) && response.ok && response.type === "basic" &&
    response.headers.get(OFFLINE_HEADER) === "page";
}

// Changes to the pages cache, one after the other (a put never meets a sweep).
let pagesQueue = Promise.resolve();
function serially(work) {
  pagesQueue = pagesQueue.then(work, work);
  return pagesQueue;
}

// Drop the kept pages of anybody but `user` (a page of `user` just went through).
function sweepOthers(user) {
  return caches.has(PAGES_CACHE).then((exists) => {
    if (!exists) { return undefined; }
    return caches.open(PAGES_CACHE).then((cache) => cache.keys().then((keys) =>
      Promise.all(keys.map((key) => cache.match(key, { ignoreVary: true }).then((hit) => {
        if (hit && hit.headers.get(USER_HEADER) !== user) { return cache.delete(key); }
        return undefined;
      })))
    ));
  });
}

function forgetOthers(user) {
  if (!user) { return Promise.resolve(); }
  return serially(() => sweepOthers(user));
}

// Keep an offline view, and the static files it loads (its role's scripts).
function keepPage(url, response) {
  const user = response.headers.get(USER_HEADER);
  if (!user) { return Promise.resolve(); }
  const page = response.clone();
  return serially(() => sweepOthers(user)
    .then(() => caches.open(PAGES_CACHE))
    .then((cache) => cache.put(pageKey(url), response)))
    .then(() => page.text())
    .then((html) => keepAssets(assetsOf(html)));
}

function keptPage(url) {
  return pagesQueue.catch(() => undefined)
    .then(() => caches.open(PAGES_CACHE))
    .then((cache) => cache.match(pageKey(url), { ignoreVary: true }));
}

function offlinePage() {
  return caches.open(SHELL_CACHE).then((cache) => cache.match(OFFLINE_URL));
}

// After the network answered a page: keep it if it is an offline view, and drop the
// pages of another user whoever's page it is.
function afterPage(url, response) {
  if (isOfflineView(response)) {
    return keepPage(url, response.clone());
  }
  return forgetOthers(response.headers.get(USER_HEADER));
}

// --- Messages from the pages --------------------------------------------------------

const fetching = new Set(); // offline views being fetched for keeping

function keepPagesReady(urls, user) {
  return caches.open(PAGES_CACHE).then((cache) => Promise.all(urls.map((url) =>
    cache.match(pageKey(url), { ignoreVary: true })
      .then((hit) => {
        const date = hit ? Date.parse(hit.headers.get("Date") || "") : NaN;
        const fresh = hit && hit.headers.get(USER_HEADER) === user &&
          !isNaN(date) && Date.now() - date < PAGE_REFRESH_MS;
        if (fresh || fetching.has(url)) { return undefined; }
        fetching.add(url);
        return fetch(url, { credentials: "same-origin", redirect: "manual" })
          .then((response) => (isOfflineView(response) &&
            response.headers.get(USER_HEADER) === user ? keepPage(url, response) : undefined))
          .catch(() => undefined)
          .then(() => { fetching.delete(url); });
      })
  )));
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "refresh-offline-page") {
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.add(OFFLINE_URL)));
  } else if (data.type === "keep-pages" && Array.isArray(data.urls) && data.user) {
    event.waitUntil(keepPagesReady(data.urls.filter((url) => typeof url === "string" &&
      url.startsWith("/") && !url.startsWith("//")), String(data.user)));
  }
});

// Background Sync, where the browser has it: ask the open pages to send their outbox
// (never relied upon: the pages also send on load, on "online" and on a timer).
self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) { return; }
  event.waitUntil(
    self.clients.matchAll({ type: "window" })
      .then((windows) => windows.forEach((client) => client.postMessage({ type: "flush" })))
  );
});

// --- Fetches ------------------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === LOGOUT_URL) {
    // Logging out (with or without the page's script): no kept page outlives it.
    event.waitUntil(serially(() => caches.delete(PAGES_CACHE)));
    return;
  }
  if (request.method !== "GET") { return; }

  if (request.mode === "navigate") {
    // Pages come from the network first; when it fails, the kept offline view of that
    // address, else the offline page.
    event.respondWith(
      fetch(request).then((response) => {
        event.waitUntil(afterPage(request.url, response).catch(() => undefined));
        return response;
      }).catch(() =>
        keptPage(request.url).then((hit) => hit || offlinePage())
      )
    );
    return;
  }

  if (request.headers.get("HX-Boosted") === "true" && request.headers.get("HX-Request") === "true") {
    // A boosted link loads a whole page through htmx: keep it like a navigation (a
    // failure is left to htmx, and app.js then navigates to the page for real).
    // Other htmx requests (fragments) are never kept.
    event.respondWith(
      fetch(request).then((response) => {
        event.waitUntil(afterPage(request.url, response).catch(() => undefined));
        return response;
      })
    );
    return;
  }

  if (SHELL.includes(url.pathname) || url.pathname.startsWith(STATIC_PREFIX)) {
    // Static files: from this version's cache (the shell, and what the kept offline
    // views load), else the network.
    event.respondWith(
      caches.open(SHELL_CACHE).then((cache) =>
        cache.match(request).then((hit) => hit || fetch(request))
      )
    );
  }
});
