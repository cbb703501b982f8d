/* The reception desk: its queue refreshes itself every 30 s (hx-trigger on
   [data-desk-poll]); this pauses it while the page is hidden or while someone is
   choosing in one of its fields, and refreshes it as soon as the page shows again.
   Loaded on every page by shell.html (a boosted swap runs no page script); safe to
   load twice. */
(function () {
  "use strict";
  if (window.terrainDeskPolling) { return; }
  window.terrainDeskPolling = true;

  function busyIn(element) {
    var active = document.activeElement;
    return active && element.contains(active) && /^(SELECT|INPUT|TEXTAREA)$/.test(active.tagName);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (!element || !element.hasAttribute || !element.hasAttribute("data-desk-poll")) { return; }
    if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") { return; }
    if (document.hidden || busyIn(element)) { event.preventDefault(); }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) { return; }
    var queue = document.querySelector("[data-desk-poll]");
    if (queue) { window.htmx.trigger(queue, "desk:refresh"); }
  });
})();
