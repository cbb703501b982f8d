/* Home-care records: one GPS fix taken at a household's door (the file's "Use my
   position"). It fills the form's latitude and longitude and says so; the coordinator
   then saves it. No map, no address lookup. Texts come from the form's data-* attributes
   (translated by the server). Plain JS, no build step. */
(function () {
  "use strict";

  function show(root) {
    if (!("geolocation" in navigator)) { return; }
    (root || document).querySelectorAll("form.locate-fix [data-hc-locate]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(form, text) {
    var status = form.querySelector("[data-hc-status]");
    if (status) { status.textContent = text; }
  }

  function locate(button) {
    var form = button.form;
    if (!form || !navigator.geolocation) { return; }
    button.disabled = true;
    say(form, form.getAttribute("data-locating") || "");
    navigator.geolocation.getCurrentPosition(function (position) {
      var latitude = position.coords.latitude.toFixed(6);
      var longitude = position.coords.longitude.toFixed(6);
      form.querySelector("[name=latitude]").value = latitude;
      form.querySelector("[name=longitude]").value = longitude;
      button.disabled = false;
      say(form, (form.getAttribute("data-located") || "")
        .replace("{lat}", latitude).replace("{lon}", longitude));
    }, function () {
      button.disabled = false;
      say(form, form.getAttribute("data-failed") || "");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("form.locate-fix [data-hc-locate]");
    if (button) { locate(button); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { show(document); });
  } else {
    show(document);
  }
  document.addEventListener("htmx:load", function (event) { show(event.target); });
})();
