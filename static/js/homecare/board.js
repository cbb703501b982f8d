/* The home-care planning board: drag a visit onto an aide's day to open its change
   form with that aide and day filled in and the warnings of the change shown before
   anything is saved. Progressive enhancement: every visit is a link to the same form,
   which works without this script. Loaded on every page by shell.html (a boosted swap
   runs no page script); does nothing without [data-hc-board]; safe to load twice. */
(function () {
  "use strict";
  if (window.terrainHomecareBoard) { return; }
  window.terrainHomecareBoard = true;

  function cellOf(target) {
    return target && target.closest ? target.closest("[data-drop-aide]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var visit = event.target.closest && event.target.closest("[data-visit]");
    if (!visit || !visit.closest("main")) { return; }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", visit.getAttribute("href"));
    document.documentElement.setAttribute("data-hc-dragging", visit.getAttribute("data-visit-time") || "");
  });

  document.addEventListener("dragend", function () {
    document.documentElement.removeAttribute("data-hc-dragging");
    document.querySelectorAll(".hc-drop-over").forEach(function (cell) { cell.classList.remove("hc-drop-over"); });
  });

  document.addEventListener("dragover", function (event) {
    var cell = cellOf(event.target);
    if (!cell || !document.documentElement.hasAttribute("data-hc-dragging")) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("hc-drop-over");
  });

  document.addEventListener("dragleave", function (event) {
    var cell = cellOf(event.target);
    if (cell && !cell.contains(event.relatedTarget)) { cell.classList.remove("hc-drop-over"); }
  });

  document.addEventListener("drop", function (event) {
    var cell = cellOf(event.target);
    var href = event.dataTransfer.getData("text/plain");
    if (!cell || !href || href.charAt(0) !== "/") { return; }
    event.preventDefault();
    var time = document.documentElement.getAttribute("data-hc-dragging") || "";
    var url = href + "?aide=" + encodeURIComponent(cell.getAttribute("data-drop-aide")) +
      "&day=" + encodeURIComponent(cell.getAttribute("data-drop-day")) +
      "&time=" + encodeURIComponent(time);
    document.documentElement.removeAttribute("data-hc-dragging");
    window.location.assign(url);
  });
})();
