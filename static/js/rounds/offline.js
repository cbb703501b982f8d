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

  O.register({
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
