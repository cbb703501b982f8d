/* Home-care records: the GPS fix form of a household's file shows its "Use my position"
   button when the device can locate; offline.js takes the fix when it is pressed. */
(function () {
  "use strict";

  function show(root) {
    if (!("geolocation" in navigator)) { return; }
    (root || document).querySelectorAll("form.locate-fix [data-locate]").forEach(function (button) {
      button.hidden = false;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { show(document); });
  } else {
    show(document);
  }
  document.addEventListener("htmx:load", function (event) { show(event.target); });
})();
