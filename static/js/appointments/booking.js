/* The public booking pages: "Use my position" (progressive enhancement). Without this
   script, or without geolocation, the button stays hidden and the postcode form works.
   The position is posted once (rounded on the server) and never leaves for anyone else. */
(function () {
  "use strict";

  function setUp(form) {
    if (!("geolocation" in navigator) || form.dataset.ready) { return; }
    form.dataset.ready = "1";
    form.hidden = false;
    var status = form.querySelector("[data-geolocate-status]");
    form.addEventListener("submit", function (event) {
      if (form.elements.lat.value && form.elements.lon.value) { return; }
      event.preventDefault();
      if (status) { status.textContent = form.dataset.waiting || ""; }
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(4);
        form.elements.lon.value = position.coords.longitude.toFixed(4);
        form.submit();
      }, function () {
        if (status) { status.textContent = form.dataset.refused || ""; }
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }

  function init(root) {
    (root && root.querySelectorAll ? root : document)
      .querySelectorAll("form[data-geolocate]").forEach(setUp);
  }

  // Loaded on every page by shell.html: also set up forms a boosted swap brings in.
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
}());
