/* The coordinator's live day (/aide-a-domicile/aujourdhui): its section polls itself
   every 30 s with htmx (hx-trigger="every 30s"). This script pauses the polling while
   the tab is hidden (a hidden tab's poll is cancelled before it leaves) and refreshes
   at once when the tab shows again. The CSP forbids eval, so htmx's trigger filters
   ([document.visibilityState=='visible']) cannot be used; this listens to htmx's own
   events instead. Loaded on every page by shell.html; does nothing without
   [data-hc-live]; safe to load twice. */
(function () {
  "use strict";
  if (window.terrainHomecareLive) { return; }
  window.terrainHomecareLive = true;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute && source.hasAttribute("data-hc-live") && document.hidden) {
      event.preventDefault();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) { return; }
    var live = document.querySelector("[data-hc-live]");
    if (live) { window.htmx.trigger(live, "hc-live-refresh"); }
  });
})();
