/* The coordinator's rounds live (/tournees/suivi): its section polls itself every 30 s
   with htmx (hx-trigger="every 30s"). This script pauses the polling while the tab is
   hidden (a hidden tab's poll is cancelled before it leaves) and refreshes at once when
   the tab shows again, as homecare/live.js does for the live day (the CSP forbids the
   eval of htmx's trigger filters). Loaded on every page by shell.html; does nothing
   without [data-rounds-live]; safe to load twice. */
(function () {
  "use strict";
  if (window.terrainRoundsLive) { return; }
  window.terrainRoundsLive = true;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute && source.hasAttribute("data-rounds-live") && document.hidden) {
      event.preventDefault();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) { return; }
    var live = document.querySelector("[data-rounds-live]");
    if (live) { window.htmx.trigger(live, "rounds-live-refresh"); }
  });
})();
