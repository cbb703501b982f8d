/* Terrain service worker, version {{ version }}.
   Caches the app shell under a versioned name and shows the offline page when a
   navigation fails. Never caches pages with personal data, API answers or htmx
   fragments. Served from / with Cache-Control: no-cache so updates are seen. */
"use strict";

const VERSION = "{{ version }}";
const SHELL_CACHE = "terrain-shell-" + VERSION;
const OFFLINE_URL = "{{ offline_url }}";
const SHELL = {{ shell | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.concat([OFFLINE_URL])))
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

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "refresh-offline-page") {
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.add(OFFLINE_URL)));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }

  if (request.mode === "navigate") {
    // Pages come from the network, always; when it fails, the offline page.
    event.respondWith(
      fetch(request).catch(() =>
        caches.open(SHELL_CACHE).then((cache) => cache.match(OFFLINE_URL))
      )
    );
    return;
  }

  if (SHELL.includes(url.pathname)) {
    // Shell files: from this version's cache, else the network.
    event.respondWith(
      caches.open(SHELL_CACHE).then((cache) =>
        cache.match(request).then((hit) => hit || fetch(request))
      )
    );
  }
});
