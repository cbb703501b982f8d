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

  // --- The list itself, from what the phone holds -------------------------------------
  // The page kept offline lists the visits and offers of when it was drawn. Once the
  // phone has downloaded after that, its records are the truth: a visit or offer that
  // came since is drawn from the page's <template> (every value set as text), one gone
  // (reassigned, cancelled, taken, withdrawn) is taken away, unless the aide has a tap
  // waiting to be sent on it or is writing in it (never lose what she entered).

  function fill(node, name, text) {
    var target = node.querySelector('[data-f="' + name + '"]');
    if (target) { target.textContent = text; }
    return target;
  }

  function fillTokens(node, values) {
    // The sentence's {tokens} in its text, replaced by text (never markup).
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    var text;
    while ((text = walker.nextNode())) {
      text.nodeValue = text.nodeValue.replace(/\{(\w+)\}/g, function (all, key) {
        return key in values ? String(values[key]) : all;
      });
    }
  }

  function keepPart(node, name, keep) {
    node.querySelectorAll('[data-part="' + name + '"]').forEach(function (part) {
      if (!keep) { part.remove(); }
    });
  }

  function link(href, text) { return O.el("a", { href: href, text: text }); }

  function spaced(target, nodes) {
    nodes.forEach(function (node) { target.appendChild(node); target.appendChild(document.createTextNode(" ")); });
  }

  function uniqueIds(card, id) {
    card.querySelectorAll("[data-id]").forEach(function (control) {
      control.id = control.getAttribute("data-id") + "-" + id;
      control.removeAttribute("data-id");
    });
    card.querySelectorAll("label[data-for]").forEach(function (label) {
      label.setAttribute("for", label.getAttribute("data-for") + "-" + id);
      label.removeAttribute("data-for");
    });
  }

  function visitCard(template, visit, household) {
    var card = template.content.firstElementChild.cloneNode(true);
    var start = visit.planned_start || visit.earliest_start;
    var proof = (visit.proof && visit.proof.mode) || "none";
    card.setAttribute("data-visit", visit.id);
    card.setAttribute("data-start", start);
    card.setAttribute("data-status", visit.status);
    card.setAttribute("data-proof", proof);
    card.setAttribute("data-duration", String(visit.duration_minutes));
    fill(card, "title", hhmm(start) + " · " + household.name);
    fillTokens(card.querySelector('[data-f="window"]'), {
      start: hhmm(start), latest: hhmm(visit.latest_start || start), minutes: visit.duration_minutes
    });
    var where = household.address + ", " + household.postcode + " " + household.city;
    var geo = card.querySelector("[data-geo]");
    geo.textContent = where;
    geo.setAttribute("href", "geo:" + (household.latitude || 0) + "," + (household.longitude || 0) +
      "?q=" + encodeURIComponent(where));
    keepPart(card, "entry", !!household.entry_instructions);
    fill(card, "entry", household.entry_instructions || "");
    var previous = visit.previous_note;
    keepPart(card, "previous", !!previous);
    if (previous) {
      fillTokens(card.querySelector('[data-f="previous-day"]'), { day: previous.day });
      fill(card, "previous", previous.note);
    }
    var book = household.life_book || {};
    keepPart(card, "life-book", Object.keys(book).length > 0);
    var list = card.querySelector('[data-f="life-book"]');
    if (list) {
      Object.keys(book).forEach(function (key) {
        list.appendChild(O.el("dt", { text: key }));
        list.appendChild(O.el("dd", { text: book[key] }));
      });
    }
    spaced(card.querySelector('[data-f="phones"]'), (household.phones || []).map(function (phone) {
      var a = link("tel:" + phone, phone);
      a.className = "button";
      return a;
    }));
    keepPart(card, "emergency", !!household.emergency_phone);
    if (household.emergency_phone) {
      fill(card, "emergency-name", household.emergency_name || "");
      var emergency = fill(card, "emergency", household.emergency_phone);
      emergency.setAttribute("href", "tel:" + household.emergency_phone);
    }
    var coordinators = household.coordinator_phones || [];
    keepPart(card, "coordinator", coordinators.length > 0);
    var theirs = card.querySelector('[data-f="coordinator"]');
    if (theirs) { spaced(theirs, coordinators.map(function (phone) { return link("tel:" + phone, phone); })); }
    keepPart(card, "proof-code", proof === "code");
    keepPart(card, "proof-gps", proof === "gps");
    keepPart(card, "done", visit.status === "done");
    keepPart(card, "fix", proof === "gps");
    keepPart(card, "scan", proof === "code");
    keepPart(card, "aide-reason", proof !== "none");
    var tasks = visit.tasks || [];
    keepPart(card, "tasks", tasks.length > 0);
    var boxes = card.querySelector('[data-f="tasks"]');
    if (boxes) {
      tasks.forEach(function (task) {
        boxes.appendChild(O.el("label", {}, [O.el("input", { type: "checkbox", name: "tasks_done", value: task }), " " + task]));
        boxes.appendChild(O.el("br"));
      });
    }
    card.querySelectorAll("form").forEach(function (form) {
      if (proof === "gps" && form.hasAttribute("data-visit-step")) { form.setAttribute("data-needs-fix", ""); }
      form.querySelector("input[name=op_id]").value = O.newId();
      form.querySelector("input[name=id]").value = visit.report_id || O.newId();
      form.querySelector("input[name=visit_id]").value = visit.id;
    });
    uniqueIds(card, visit.id);
    return card;
  }

  function offerCard(template, offer) {
    var card = template.content.firstElementChild.cloneNode(true);
    var services = {};
    try { services = JSON.parse(template.getAttribute("data-services") || "{}"); } catch (e) { services = {}; }
    card.setAttribute("data-offer", offer.id);
    card.setAttribute("data-start", offer.start);
    fill(card, "title", O.showMoment(offer.start, true));
    fill(card, "what", offer.duration_minutes + " min · " + (services[offer.service] || offer.service) +
      " · " + offer.address + ", " + offer.postcode + " " + offer.city);
    var tasks = fill(card, "tasks", (offer.tasks || []).join(", "));
    if (tasks && !(offer.tasks || []).length) { tasks.remove(); }
    var known = offer.travel_minutes !== null && offer.travel_minutes !== undefined;
    keepPart(card, "travel-unknown", !known);
    keepPart(card, "travel", known);
    if (known) { fillTokens(card.querySelector("[data-offer-travel]"), { minutes: offer.travel_minutes }); }
    var form = card.querySelector("form");
    form.setAttribute("action", form.getAttribute("action").replace("00000000-0000-0000-0000-000000000000", offer.id));
    form.querySelector("input[name=op_id]").value = O.newId();
    form.querySelector("input[name=offer_id]").value = offer.id;
    return card;
  }

  function busy(card, ids) {
    // A tap waiting to be sent on it, or the aide writing in it: it stays.
    if (card.contains(document.activeElement) && document.activeElement !== document.body) { return true; }
    return O.ops().some(function (op) {
      return op.status === "pending" && op.data && ids.indexOf(op.data.visit_id || op.data.offer_id) >= 0;
    });
  }

  function placeIn(container, card, selector) {
    // In order of start (ISO moments compare as dates).
    var when = new Date(card.getAttribute("data-start")).getTime();
    var after = null;
    container.querySelectorAll(selector).forEach(function (other) {
      if (!after && new Date(other.getAttribute("data-start")).getTime() > when) { after = other; }
    });
    if (after) { after.parentNode.insertBefore(card, after); } else { container.appendChild(card); }
  }

  function daySection(day, dayRoot) {
    var found = dayRoot.querySelector('section[data-day="' + day + '"]');
    if (found) { return found; }
    var section = O.el("section", { "data-day": day }, [O.el("h2", { text: day })]);
    var later = null;
    dayRoot.querySelectorAll("section[data-day]").forEach(function (other) {
      if (!later && other.getAttribute("data-day") > day) { later = other; }
    });
    var templates = dayRoot.querySelector("template[data-visit-template]");
    dayRoot.insertBefore(section, later || templates);
    return section;
  }

  function drawList(dayRoot) {
    var drawnAt = parseInt(dayRoot.getAttribute("data-drawn-at"), 10) || 0;
    if (!O.loaded() || !(O.pulledAt() > drawnAt)) { return; }
    var records = O.records("homecare.visit");
    var households = O.records("homecare.household");
    var visits = {};
    Object.keys(records).forEach(function (id) {
      var record = records[id];
      // Among the records: visits (with their household) and her reports (a visit_id).
      if (record && record.beneficiary_id && households[record.beneficiary_id]) { visits[id] = record; }
    });
    dayRoot.querySelectorAll("article[data-visit]").forEach(function (card) {
      var id = card.getAttribute("data-visit");
      if (!visits[id] && !busy(card, [id])) { card.remove(); }
    });
    var template = dayRoot.querySelector("template[data-visit-template]");
    var added = [];
    if (template) {
      Object.keys(visits).sort().forEach(function (id) {
        if (dayRoot.querySelector('article[data-visit="' + id + '"]')) { return; }
        var visit = visits[id];
        var card = visitCard(template, visit, households[visit.beneficiary_id]);
        placeIn(daySection(visit.day, dayRoot), card, "article[data-visit]");
        added.push(card);
      });
    }
    dayRoot.querySelectorAll("section[data-day]").forEach(function (section) {
      if (!section.querySelector("article[data-visit]")) { section.remove(); }
    });
    var empty = dayRoot.querySelector("[data-empty]");
    if (empty) { empty.hidden = !!dayRoot.querySelector("article[data-visit]"); }
    drawOffers(dayRoot, added);
    added.forEach(function (card) { O.setupForms(card); });
  }

  function drawOffers(dayRoot, added) {
    var section = dayRoot.querySelector("section[data-offers]");
    var template = dayRoot.querySelector("template[data-offer-template]");
    if (!section || !template) { return; }
    var offers = O.records("homecare.offer");
    section.querySelectorAll("article[data-offer]").forEach(function (card) {
      var id = card.getAttribute("data-offer");
      if (!offers[id] && !busy(card, [id])) { card.remove(); }
    });
    Object.keys(offers).sort().forEach(function (id) {
      var offer = offers[id];
      if (!offer || offer.status !== "open" || section.querySelector('article[data-offer="' + id + '"]')) { return; }
      var card = offerCard(template, offer);
      placeIn(section, card, "article[data-offer]");
      added.push(card);
    });
    section.hidden = !section.querySelector("article[data-offer]");
  }

  function render(root) {
    (root || document).querySelectorAll("[data-aide-day]").forEach(drawList);
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
