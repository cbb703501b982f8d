/* Rounds' part of the phone's offline app: the crew's taps during a round (start,
   arrival and departure at each stop with its outcome, an incident, the end with the
   kilometres) saved in the outbox and sent when the network is back. The times are the
   phone's, taken at the tap. "Ma tournée" itself is kept by the service worker
   (web/rounds/offline.py). */
(function () {
  "use strict";
  var O = window.TerrainOffline;
  if (!O) { return; }

  function op(key) {
    return { what: function () { return O.t(key); } };
  }

  // The page kept offline lists the stops of when it was drawn. Once the phone has
  // downloaded after that, a round it holds is the truth: a stop taken out of it (its
  // template's stop removed: the round comes again without it, the stop as a deletion)
  // leaves the page, unless a tap on it still waits to be sent; the round's hours are
  // its record's (its template's hours changed); a round the phone no longer holds was
  // cancelled (a deletion: e.g. its template's day changed): said, its buttons gone,
  // unless a tap on it still waits.
  function waiting(stopId) {
    return O.ops().some(function (op) {
      return op.status === "pending" && op.data && op.data.round_stop_id === stopId;
    });
  }

  function roundWaiting(section, roundId) {
    return O.ops().some(function (op) {
      return op.status === "pending" && op.data && op.data.round_id === roundId;
    }) || Array.prototype.some.call(section.querySelectorAll("li[data-stop]"), function (item) {
      return waiting(item.getAttribute("data-stop"));
    });
  }

  function today() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  function cancelled(section, roundId) {
    // A round of a day gone by leaves the feed with the day, not cancelled.
    if ((section.getAttribute("data-day") || "") < today()) { return; }
    if (section.getAttribute("data-status") === "cancelled" || roundWaiting(section, roundId)) {
      return;
    }
    section.setAttribute("data-status", "cancelled");
    section.querySelectorAll("form").forEach(function (form) { form.remove(); });
    var note = document.createElement("p");
    note.setAttribute("data-round-cancelled", "");
    note.setAttribute("role", "status");
    note.textContent = O.t("round_cancelled");
    var title = section.querySelector("h2");
    if (title) { title.insertAdjacentElement("afterend", note); } else { section.prepend(note); }
  }

  function render(root) {
    var page = (root || document).querySelector("[data-crew-rounds]");
    if (!page || !O.loaded()) { return; }
    var drawnAt = parseInt(page.getAttribute("data-drawn-at"), 10) || 0;
    if (!(O.pulledAt() > drawnAt)) { return; }
    var rounds = O.records("rounds.round");
    page.querySelectorAll("section[data-round]").forEach(function (section) {
      var roundId = section.getAttribute("data-round");
      var record = rounds[roundId];
      if (!record) { cancelled(section, roundId); return; }
      var hours = section.querySelector("[data-round-hours]");
      if (hours && record.starts && record.ends) {
        hours.textContent = record.starts + "–" + record.ends;
      }
      if (!Array.isArray(record.stops)) { return; }
      var kept = {};
      record.stops.forEach(function (stop) { kept[stop.id] = true; });
      section.querySelectorAll("li[data-stop]").forEach(function (item) {
        var id = item.getAttribute("data-stop");
        if (!kept[id] && !waiting(id)) { item.remove(); }
      });
    });
  }

  O.register({
    render: render,
    ops: {
      "rounds.round.start": op("round_start"),
      "rounds.round.incident": op("round_incident"),
      "rounds.round.finish": op("round_finish"),
      "rounds.stop.arrive": op("stop_arrive"),
      "rounds.stop.leave": op("stop_leave")
    },
    formData: function (form, data) {
      if (!form.hasAttribute("data-round-step")) { return; }
      // The tap's moment, by the phone's clock.
      if (!data.at) { data.at = new Date().toISOString(); }
      ["km_start", "km_end", "people_seen"].forEach(function (name) {
        if (data[name] === "" || data[name] === undefined) { delete data[name]; }
        else if (/^[0-9]+$/.test(data[name])) { data[name] = parseInt(data[name], 10); }
      });
      if (data.outcome === "") { delete data.outcome; }
    }
  });
})();
