/* A button marked [data-print] prints the page (the appointment slip). Loaded on every
   page by shell.html (a boosted swap runs no page script); safe to load twice. */
(function () {
  "use strict";
  if (window.terrainPrint) { return; }
  window.terrainPrint = true;
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) { window.print(); }
  });
})();
