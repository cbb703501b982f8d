/* Terrain's page script: CSRF for htmx, keeping <head> facts in step after boosted
   swaps, and the service worker. Plain JS, no build step. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the token the server checks (Flask-WTF reads X-CSRFToken).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // A boosted swap replaces <body> only: bring the new page's token and language along.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr && typeof xhr.responseText === "string" ? xhr.responseText : "";
    var token = /<meta name="csrf-token" content="([^"]+)"/.exec(text);
    if (token) {
      document.querySelector('meta[name="csrf-token"]').setAttribute("content", token[1]);
    }
    var lang = /<html lang="([a-z]{2})"/.exec(text);
    if (lang) {
      document.documentElement.lang = lang[1];
    }
  });

  // After a boosted navigation, move focus to the new page's content for screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.boosted) {
      var main = document.getElementById("main");
      if (main) { main.focus({ preventScroll: true }); }
    }
  });

  // Without a network a boosted link gets no answer and the tap would do nothing: load
  // that page the ordinary way instead, so the service worker shows the offline page.
  document.addEventListener("htmx:sendError", function (event) {
    var detail = event.detail;
    var verb = detail.requestConfig && detail.requestConfig.verb;
    if (detail.boosted && verb && verb.toLowerCase() === "get" && detail.pathInfo) {
      window.location.assign(detail.pathInfo.finalRequestPath || detail.pathInfo.requestPath);
    }
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
        // The offline page is stored in one language: refresh it when the language changes.
        var lang = document.documentElement.lang;
        var stored = null;
        try { stored = localStorage.getItem("terrain.offlineLang"); } catch (e) { /* private mode */ }
        if (stored !== lang) {
          navigator.serviceWorker.ready.then(function (registration) {
            if (registration.active) {
              registration.active.postMessage({ type: "refresh-offline-page" });
              try { localStorage.setItem("terrain.offlineLang", lang); } catch (e) { /* ignore */ }
            }
          });
        }
      }).catch(function () { /* the site works without it */ });
    });
  }
})();
