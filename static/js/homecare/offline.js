/* Home care's part of the phone's offline app (issue 18): the aide's taps at a visit
   (arrival, departure, report) saved in the outbox and sent when the network is back,
   with the proof the service asks for (the household card's code, scanned with the
   camera through the vendored jsQR or typed; or one GPS fix per tap, never more).
   "Ma journée" is kept by the service worker (web/homecare/offline.py) and drawn again
   from what the phone holds: each visit shows what was tapped and whether it is sent
   or waits, and what the server said changed since the last download. The times are
   the phone's, taken at the tap; the engine sends the phone's clock with each batch. */
(function () {
  "use strict";
  var O = window.TerrainOffline;
  if (!O) { return; }
  var FIX_TIMEOUT_MS = 15000;
  var VARIANCE_MINUTES = 15; // homecare/models.py VARIANCE_MINUTES

  function visitOp(key) {
    return { what: function () { return O.t(key); } };
  }

  // --- What the phone holds, drawn on each visit's card -----------------------------

  function hhmm(value) { return value ? O.showMoment(value) : ""; }

  function localState(visitId) {
    var found = { arrived: "", left: "", report: false, waiting: false, sent: false };
    // Sent: the server's answers are kept among the records (a report has a visit_id).
    var records = O.records("homecare.visit");
    Object.keys(records).forEach(function (id) {
      var record = records[id];
      if (record && record.visit_id === visitId) {
        found.arrived = record.arrived_at || found.arrived;
        found.left = record.left_at || found.left;
        found.report = found.report || !!record.submitted;
        found.sent = true;
      }
    });
    // Waiting: the ops still in the outbox, oldest first.
    O.ops().forEach(function (op) {
      if (!op.data || op.data.visit_id !== visitId || op.type.indexOf("homecare.visit.") !== 0) { return; }
      if (op.status !== "pending") { return; }
      found.waiting = true;
      if (op.type === "homecare.visit.checkin") { found.arrived = op.data.at; }
      if (op.type === "homecare.visit.checkout") { found.left = op.data.at; }
      if (op.type === "homecare.visit.report") {
        found.report = true;
        found.arrived = op.data.arrived_at || found.arrived;
        found.left = op.data.left_at || found.left;
      }
    });
    return found;
  }

  function drawCard(card) {
    var id = card.getAttribute("data-visit");
    var state = localState(id);
    var line = card.querySelector("[data-local-state]");
    if (line && (state.arrived || state.left || state.report)) {
      var parts = [];
      if (state.arrived) { parts.push(O.t("arrived_local", { time: hhmm(state.arrived) })); }
      if (state.left) { parts.push(O.t("left_local", { time: hhmm(state.left) })); }
      if (state.report) { parts.push(O.t("report_local")); }
      parts.push(state.waiting ? O.t("waiting") : O.t("sent"));
      line.textContent = parts.join(" · ");
      card.setAttribute("data-local", state.waiting ? "waiting" : "sent");
    }
    // Over- or under-run of 15 minutes or more: the reason is asked (the server keeps
    // the report without it, marked "reason missing"). Shown while the times are unknown.
    var variance = card.querySelector("[data-variance]");
    if (variance) {
      var planned = parseInt(card.getAttribute("data-duration"), 10);
      var minutes = state.arrived && state.left ?
        (new Date(state.left) - new Date(state.arrived)) / 60000 : NaN;
      var off = !isNaN(minutes) && !isNaN(planned) && Math.abs(minutes - planned) >= VARIANCE_MINUTES;
      variance.hidden = !isNaN(minutes) && !off;
      variance.classList.toggle("hc-asked", off);
    }
    var record = O.records("homecare.visit")[id];
    var household = record ? O.records("homecare.household")[record.beneficiary_id] : null;
    var changed = !!((record && record.changed) || (household && household.changed));
    var note = card.querySelector("[data-changed-note]");
    card.classList.toggle("hc-changed", changed);
    if (note) {
      note.hidden = !changed;
      note.textContent = changed ? O.t("changed") : "";
    }
  }

  function render(root) {
    (root || document).querySelectorAll("[data-aide-day] [data-visit]").forEach(drawCard);
    (root || document).querySelectorAll("[data-scan]").forEach(function (button) {
      button.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    });
  }

  // --- The household card: scanned with the camera (jsQR, vendored) ----------------

  var scanning = null;

  function loadDecoder(button) {
    if (window.jsQR) { return Promise.resolve(window.jsQR); }
    var src = button.closest("[data-aide-day]").getAttribute("data-decoder");
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { return window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function stopScan() {
    if (!scanning) { return; }
    scanning.stream.getTracks().forEach(function (track) { track.stop(); });
    scanning.video.remove();
    scanning.button.textContent = O.t("scan_start");
    scanning = null;
  }

  function startScan(button) {
    if (scanning) { stopScan(); return; }
    var area = button.closest("[data-scan-area]");
    var input = area.querySelector("input[name=code]");
    var form = button.closest("form");
    Promise.all([
      loadDecoder(button),
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
    ]).then(function (both) {
      var decode = both[0];
      var video = document.createElement("video");
      video.setAttribute("playsinline", "");
      video.setAttribute("aria-hidden", "true");
      video.muted = true;
      video.srcObject = both[1];
      area.appendChild(video);
      scanning = { stream: both[1], video: video, button: button };
      button.textContent = O.t("scan_stop");
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      function frame() {
        if (!scanning || scanning.video !== video) { return; }
        if (video.readyState >= 2 && video.videoWidth) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var code = decode(image.data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
          if (code && code.data) {
            input.value = code.data.trim().toUpperCase();
            stopScan();
            O.say(form, O.t("scan_found", { code: input.value }));
            return;
          }
        }
        window.requestAnimationFrame(frame);
      }
      video.play().then(frame, frame);
    }).catch(function () {
      stopScan();
      O.say(form, O.t("scan_failed"));
      input.focus();
    });
  }

  // --- One GPS fix at the tap (the service asks for it), then the form goes on -------

  function withFix(button, event) {
    var form = button.form;
    if (!form || !form.hasAttribute("data-needs-fix") || form.hasAttribute("data-fix-tried")) { return false; }
    event.preventDefault();
    form.setAttribute("data-fix-tried", "");
    function go() {
      if (typeof form.requestSubmit === "function") { form.requestSubmit(button); } else { form.submit(); }
      form.removeAttribute("data-fix-tried");
    }
    if (!navigator.geolocation) { O.say(form, O.t("fix_failed")); go(); return true; }
    O.say(form, O.t("fix_wait"));
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("input[name=latitude]").value = String(position.coords.latitude);
      form.querySelector("input[name=longitude]").value = String(position.coords.longitude);
      O.say(form, "");
      go();
    }, function () {
      O.say(form, O.t("fix_failed"));
      go();
    }, { enableHighAccuracy: true, timeout: FIX_TIMEOUT_MS, maximumAge: 60000 });
    return true;
  }

  O.register({
    ops: {
      "homecare.visit.checkin": visitOp("visit_checkin"),
      "homecare.visit.checkout": visitOp("visit_checkout"),
      "homecare.visit.report": visitOp("visit_report"),
      "homecare.visit.accept_offer": visitOp("offer_accept")
    },
    render: render,
    click: function (target, event) {
      var scan = target.closest("[data-scan]");
      if (scan) { startScan(scan); return true; }
      var submit = target.closest("form[data-needs-fix] button[type=submit]");
      if (submit) { return withFix(submit, event); }
      return false;
    },
    formData: function (form, data) {
      // The tap's moment, by the phone's clock.
      if (form.hasAttribute("data-visit-step") && !data.at) { data.at = new Date().toISOString(); }
      if (data.at === "") { data.at = new Date().toISOString(); }
      ["latitude", "longitude"].forEach(function (name) {
        if (name in data) { data[name] = data[name] === "" ? null : Number(data[name]); }
      });
      if (data.code === "") { delete data.code; }
      ["unverified_reason", "variance_reason", "proof_code"].forEach(function (name) {
        if (data[name] === "") { delete data[name]; }
      });
      if (form.hasAttribute("data-visit-report")) {
        // The report carries the times tapped on this phone (arrival, departure).
        var state = localState(data.visit_id);
        if (state.arrived && !data.arrived_at) { data.arrived_at = state.arrived; }
        if (state.left && !data.left_at) { data.left_at = state.left; }
      }
    }
  });
})();
