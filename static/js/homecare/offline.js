/* Home care's part of the phone's offline app: the aide's taps at a visit (arrival,
   departure, report) saved in the outbox and sent when the network is back. The times
   are the phone's, taken at the tap. "Ma journée" itself is kept by the service worker
   (web/homecare/offline.py). */
(function () {
  "use strict";
  var O = window.TerrainOffline;
  if (!O) { return; }

  function visitOp(key) {
    return { what: function () { return O.t(key); } };
  }

  O.register({
    ops: {
      "homecare.visit.checkin": visitOp("visit_checkin"),
      "homecare.visit.checkout": visitOp("visit_checkout"),
      "homecare.visit.report": visitOp("visit_report"),
      "homecare.visit.accept_offer": visitOp("offer_accept")
    },
    formData: function (form, data) {
      // The tap's moment, by the phone's clock (the server measures no offset yet).
      if (form.hasAttribute("data-visit-step") && !data.at) { data.at = new Date().toISOString(); }
      if (data.at === "") { data.at = new Date().toISOString(); }
    }
  });
})();
