/* Street outreach on the phone: the op types of the outbox (static/js/offline/engine.js)
   that record encounters, maraudes and places, and the screens of /outreach/ that read
   what the phone holds: the maraude under way, quick picks of people, the nearby places,
   a place's visits, the minor notice. Loaded after the engine, only for the roles that
   record street outreach (web/offline.py); it registers itself with the engine.
   Plain JS, no build step. */
(function () {
  "use strict";

  var O = window.TerrainOffline;
  if (!O) { return; }
  var t = O.t;
  var el = O.el;
  var field = O.field;
  var say = O.say;
  var choose = O.choose;
  var labelOf = O.labelOf;
  var numberText = O.numberText;
  var durationText = O.durationText;
  var showWallTime = O.showWallTime;
  var selectedOption = O.selectedOption;
  var isNewChoice = O.isNewChoice;
  var toggleNewFields = O.toggleNewFields;
  var isCreate = O.isCreate;
  var isDraft = O.isDraft;
  var noop = O.noop;

  var phone = null; // #outreach-phone: texts and data of the outreach pages
  var fix = null; // the phone's one position for the nearby places

  // What the server sent (downloaded through the sync feed), by id.
  function knownPeople() { return O.records("outreach.person"); }
  function knownPlaces() { return O.records("outreach.place"); }
  function downloadedMaraudes() { return O.records("outreach.maraude"); }
  function knownEncounters() { return O.records("outreach.encounter"); }

  // --- What an op is about, for people --------------------------------------------

  function personLabel(record) {
    var name = record.nickname || t("no_nickname");
    return record.description ? name + " — " + record.description : name;
  }

  // Who an op's encounter is with: the new person it names, a downloaded person, or
  // the new person of another op.
  function personOf(data) {
    if (!data) { return ""; }
    var known = knownPeople()[data.person_id];
    if (known) { return known.nickname || known.description || ""; }
    if (data.nickname || data.description) { return data.nickname || data.description; }
    var ops = O.ops();
    for (var i = 0; i < ops.length; i += 1) {
      var other = ops[i].data || {};
      if (other.person_id === data.person_id && (other.nickname || other.description)) {
        return other.nickname || other.description;
      }
    }
    return "";
  }

  function placeOf(data) {
    if (!data || !data.place_id) { return ""; }
    var known = knownPlaces()[data.place_id];
    if (known) { return known.name || ""; }
    if (data.place_name) { return data.place_name; }
    var ops = O.ops();
    for (var i = 0; i < ops.length; i += 1) {
      var other = ops[i].data || {};
      if (other.place_id === data.place_id && other.place_name) { return other.place_name; }
    }
    return "";
  }

  function list(kind, codes) {
    return (codes || []).map(function (code) { return labelOf(kind, code); }).join(", ") || "—";
  }

  // An encounter's fields side by side in a conflict: what the user saved, the server's.
  function encounterRows(op) {
    var mine = op.data || {};
    var theirs = op.server_record || {};
    return [
      ["occurred_at", showWallTime(mine.occurred_at), showWallTime(theirs.occurred_at)],
      ["person_id", personOf(mine) || "—", personOf(theirs) || "—"],
      ["place_id", placeOf(mine) || "—", placeOf(theirs) || "—"],
      ["contact_type", labelOf("contact_type", mine.contact_type), labelOf("contact_type", theirs.contact_type)],
      ["needs", list("needs", mine.needs), list("needs", theirs.needs)],
      ["given", list("given", mine.given), list("given", theirs.given)],
      ["note", mine.note || "—", theirs.note || "—"]
    ];
  }

  function placeRows(op) {
    var mine = op.data || {};
    var theirs = op.server_record || {};
    return [
      ["name", mine.name || "—", theirs.name || "—"],
      ["notes", mine.notes || "—", theirs.notes || "—"]
    ];
  }

  // An op type of this module: its name for people (a sentence of web/offline.py), and
  // the page whose form corrects it.
  function opType(what, page, more) {
    return Object.assign({
      what: function () { return t(what); },
      title: function (op) { return personOf(op.data) || t(what); },
      // When its change happened on the phone (an encounter's time, a maraude's start/end).
      when: function (op) {
        var data = op.data || {};
        return showWallTime(data.occurred_at || data.started_at || data.ended_at);
      },
      where: function (op) { return placeOf(op.data || {}); },
      page: function () { return page; },
      versions: encounterRows
    }, more || {});
  }

  var OPS = {
    "outreach.encounter.create": opType("new_encounter", "/outreach/encounters/new", {
      // "Keep my version" of an encounter made here: a change of the server's version.
      again: "outreach.encounter.update"
    }),
    "outreach.encounter.update": opType("change_encounter", "/outreach/encounters/new"),
    "outreach.maraude.start": opType("maraude_start", "/outreach/maraude"),
    "outreach.maraude.end": opType("maraude_end", "/outreach/maraude"),
    "outreach.place.update": opType("change_place", null, {
      title: function (op) { return (op.data && op.data.name) || t("change_place"); },
      page: function (op) { return op.data && op.data.id ? "/outreach/places/" + op.data.id : null; },
      versions: placeRows
    })
  };

  // --- The forms ----------------------------------------------------------------------

  // The op's data as the server's no-JS path builds it: numbers, no place as null.
  function formData(form, data) {
    ["latitude", "longitude"].forEach(function (name) {
      if (!(name in data)) { return; }
      var text = String(data[name]).trim().replace(",", ".");
      var number = Number(text);
      data[name] = text === "" ? null : (isFinite(number) ? number : data[name]);
    });
    if (data.place_id === "") { data.place_id = null; }
  }

  // What the phone can tell at once (the server checks everything again).
  function check(form, errors) {
    var when = field(form, "occurred_at");
    if (when && !when.value) { errors.occurred_at = t("required"); }
    if (isNewChoice(form, "person_id")) {
      var nickname = field(form, "nickname");
      var description = field(form, "description");
      if (!(nickname && nickname.value.trim()) && !(description && description.value.trim())) {
        errors.nickname = t("nickname_or_description");
      }
    }
    var placeName = form.getAttribute("data-offline-op") === "outreach.place.update" && field(form, "name");
    if (placeName && !placeName.value.trim()) { errors.name = t("required"); }
    if (isNewChoice(form, "place_id")) {
      var place = field(form, "place_name");
      if (place && !place.value.trim()) { errors.place_name = t("required"); }
    }
    // A minor while the team has nobody to tell: refused here, before the outbox (the
    // page, kept offline, carries the team's setting); everything typed stays.
    if (isCreate(form) && phone && phone.minor_path === false && isMinorChoice(form)) {
      errors.minor_path = phone.minor_refused || "";
    }
  }

  // The people and places the phone knows, most recent first, then those of the ops not
  // sent yet (`skip`: the op a form corrects).
  function knownOptions(type, skip) {
    var records = type === "outreach.person" ? knownPeople() : knownPlaces();
    var entries = Object.keys(records).map(function (id) {
      var record = records[id];
      return {
        id: id,
        label: type === "outreach.person" ? personLabel(record) : record.name,
        at: record.last_seen_at || record.last_visit_at || ""
      };
    });
    entries.sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; });
    O.ops().slice().reverse().forEach(function (op) {
      var data = op.data || {};
      if (op.id === skip) { return; }
      if (type === "outreach.person" && data.person_id && (data.nickname || data.description)) {
        entries.unshift({ id: data.person_id, label: personLabel(data) });
      } else if (type === "outreach.place" && data.place_id && data.place_name) {
        entries.unshift({ id: data.place_id, label: data.place_name });
      }
    });
    return entries;
  }

  // --- Geolocation -----------------------------------------------------------------

  function locate(button) {
    var form = button.form || button.closest("form");
    if (!form || !navigator.geolocation) { return; }
    button.disabled = true;
    say(form, t("locating"), "info");
    navigator.geolocation.getCurrentPosition(function (position) {
      var latitude = field(form, "latitude");
      var longitude = field(form, "longitude");
      if (latitude) { latitude.value = position.coords.latitude.toFixed(6); }
      if (longitude) { longitude.value = position.coords.longitude.toFixed(6); }
      renderPosition(form);
      button.disabled = false;
      say(form, t("located"), "ok");
    }, function () {
      button.disabled = false;
      say(form, t("locate_failed"), "error");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  // --- Street outreach on the phone: the maraude, quick picks, nearby places -----------
  // Pages of /outreach/ carry #outreach-phone (web/outreach/encounters.py): their texts and the
  // team's protective-path sentence. Everything here reads what the phone holds (the
  // downloaded records and the outbox), so it works offline.

  function tp(key, values) {
    var texts = (phone && phone.texts) || {};
    var sentence = texts[key] || "";
    Object.keys(values || {}).forEach(function (name) {
      sentence = sentence.split("{" + name + "}").join(String(values[name]));
    });
    return sentence;
  }

  // "YYYY-MM-DDTHH:MM": a datetime-local value, or the start of the server's Brussels
  // ISO time; both read as Brussels wall time, so they compare as text.
  function wall(value) { return String(value || "").slice(0, 16); }

  function wallMs(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(value || "");
    return match ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]) : NaN;
  }

  // Every maraude the phone knows: downloaded, then changed by the ops not sent yet.
  function knownMaraudes() {
    var all = {};
    Object.keys(downloadedMaraudes()).forEach(function (id) { all[id] = Object.assign({}, downloadedMaraudes()[id]); });
    O.ops().forEach(function (op) {
      var data = op.data || {};
      if (!data.id || op.type.indexOf("outreach.maraude.") !== 0) { return; }
      var maraude = all[data.id] || (all[data.id] = { id: data.id, member_ids: [] });
      maraude.waiting = true;
      if (op.type === "outreach.maraude.start") {
        maraude.started_at = data.started_at;
        maraude.area = data.area;
        // Whoever starts it is out (the server adds them too).
        maraude.member_ids = (data.member_ids || []).map(Number).concat([Number(op.user)]);
      } else {
        maraude.ended_at = data.ended_at;
        maraude.km = data.km;
      }
    });
    return all;
  }

  // The maraude under way with this user in it (the server's maraudes.current).
  function currentMaraude() {
    var me = Number(O.user());
    var all = knownMaraudes();
    var running = Object.keys(all).map(function (id) { return all[id]; }).filter(function (maraude) {
      return maraude.started_at && !maraude.ended_at &&
        (maraude.member_ids || []).map(Number).indexOf(me) !== -1;
    });
    running.sort(function (a, b) { return wall(a.started_at) < wall(b.started_at) ? 1 : -1; });
    return running[0] || null;
  }

  // The encounters of a maraude: downloaded, and in the outbox (each once).
  function maraudeEncounters(maraudeId) {
    var found = {};
    Object.keys(knownEncounters()).forEach(function (id) {
      var record = knownEncounters()[id];
      if (record.maraude_id === maraudeId) { found[id] = record; }
    });
    O.ops().forEach(function (op) {
      var data = op.data || {};
      if (op.type.indexOf("outreach.encounter.") !== 0 || !data.id) { return; }
      if (data.maraude_id === maraudeId) { found[data.id] = data; } else { delete found[data.id]; }
    });
    return Object.keys(found).map(function (id) { return found[id]; });
  }

  function renderBanners(root) {
    var running = currentMaraude();
    root.querySelectorAll("[data-maraude-link]").forEach(function (link) {
      var text = running ? tp("end_maraude") : tp("start_maraude");
      if (text && link.textContent !== text) { link.textContent = text; }
    });
    root.querySelectorAll("[data-maraude-banner]").forEach(function (banner) {
      banner.hidden = !running;
      var line = banner.querySelector("[data-maraude-banner-text]");
      if (running && line) {
        var text = tp("maraude_running", {
          time: wall(running.started_at).slice(11), n: maraudeEncounters(running.id).length
        });
        if (line.textContent !== text) { line.textContent = text; }
      }
    });
    return running;
  }

  function renderMaraudePage(root, running) {
    var sections = root.querySelectorAll("[data-maraude-when]");
    if (!sections.length) { return; }
    var match = /(?:^#|&)ended=([0-9a-fA-F-]{36})/.exec(window.location.hash || "");
    var box = root.querySelector("[data-maraude-summary]");
    // Just ended: the summary alone (a fresh "Start" form under it read as a failure).
    var summaryShown = box ? renderSummaryOf(box, match ? match[1] : null) : false;
    sections.forEach(function (section) {
      var form = section.querySelector("form");
      if (form && (isDraft(form) || form.querySelector("[aria-invalid]"))) { section.hidden = false; return; }
      section.hidden = summaryShown || section.getAttribute("data-maraude-when") !== (running ? "running" : "none");
    });
    // One "End the maraude" per screen: the end form is here, the banner's link goes.
    root.querySelectorAll("[data-maraude-banner] [data-banner-end]").forEach(function (link) {
      link.hidden = true;
    });
  }

  // The summary of a maraude ended on this phone: the server's when everything is sent
  // (the end's answer carries it), else counted here from what the phone holds.
  function renderSummaryOf(box, maraudeId) {
    var maraude = maraudeId ? knownMaraudes()[maraudeId] : null;
    if (!maraude || !maraude.ended_at) { box.hidden = true; return false; }
    var encounters = maraudeEncounters(maraudeId);
    var waiting = maraude.waiting || encounters.some(function (data) { return !knownEncounters()[data.id]; });
    var numbers = maraude.summary && !waiting ? maraude.summary : null;
    if (!numbers) {
      var people = {};
      var fresh = {};
      encounters.forEach(function (data) {
        people[data.person_id] = true;
        var known = knownPeople()[data.person_id];
        var isNew = known ? wall(known.first_seen_at) >= wall(maraude.started_at) : Boolean(data.nickname || data.description);
        if (isNew) { fresh[data.person_id] = true; }
      });
      numbers = {
        contacts: encounters.length, people: Object.keys(people).length,
        new_people: Object.keys(fresh).length
      };
    }
    // Hours out from the two times the phone holds (the server's figure is the same,
    // rounded); shown in hours and minutes.
    var minutes = (wallMs(maraude.ended_at) - wallMs(maraude.started_at)) / 60000;
    if (isNaN(minutes) && typeof numbers.hours === "number") { minutes = numbers.hours * 60; }
    var km = maraude.km === "" || maraude.km === null || maraude.km === undefined ? NaN :
      Number(String(maraude.km).replace(",", "."));
    var shown = {
      contacts: String(numbers.contacts), people: String(numbers.people),
      new_people: String(numbers.new_people),
      hours: isNaN(minutes) ? "—" : durationText(minutes),
      km: isNaN(km) ? "—" : t("km", { n: numberText(km, 1) })
    };
    Object.keys(shown).forEach(function (name) {
      var cell = box.querySelector('[data-summary="' + name + '"]');
      if (cell && cell.textContent !== shown[name]) { cell.textContent = shown[name]; }
    });
    var note = box.querySelector("[data-summary-note]");
    if (note) { note.textContent = waiting ? tp("summary_local") : ""; }
    var wasHidden = box.hidden;
    box.hidden = false;
    if (wasHidden) {
      var title = box.querySelector("h2");
      if (title) { title.focus(); }
      window.scrollTo(0, 0);
    }
    return true;
  }

  // The maraude an encounter (or the end) is about: the one under way on this phone.
  function applyMaraude(root, running) {
    root.querySelectorAll("form[data-offline-op] [data-current-maraude]").forEach(function (input) {
      if (isDraft(input.form) || input.form.querySelector("[aria-invalid]")) { return; }
      input.value = running ? running.id : "";
    });
  }

  function normalize(text) {
    var lower = String(text || "").toLowerCase();
    return lower.normalize ? lower.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : lower;
  }

  var QUICK_PEOPLE = 6;

  // The people whose nickname or description matches the search: one tap each.
  function renderQuickPeople(form) {
    var box = form.querySelector("[data-quick-search]");
    var select = field(form, "person_id");
    if (!box || !select) { return; }
    box.hidden = false;
    var input = box.querySelector("[data-person-search]");
    var list = box.querySelector("[data-quick-people]");
    var words = normalize(input ? input.value : "").split(/\s+/).filter(Boolean);
    var found = Array.prototype.filter.call(select.options, function (option) {
      if (option.hasAttribute("data-new")) { return false; }
      var text = normalize(option.text);
      return words.every(function (word) { return text.indexOf(word) !== -1; });
    }).slice(0, QUICK_PEOPLE);
    // Drawn again only when the list changes: a button replaced under a finger (the
    // search's change event on the tap) would lose the tap.
    var key = words.join(" ") + "|" + found.map(function (option) { return option.value + ":" + option.text; }).join(",");
    if (list.getAttribute("data-rendered") === key) {
      list.querySelectorAll("[data-pick-person]").forEach(function (button) {
        button.setAttribute("aria-pressed", button.getAttribute("data-pick-person") === select.value ? "true" : "false");
      });
      return;
    }
    list.setAttribute("data-rendered", key);
    var items = found.map(function (option) {
      return el("li", {}, [el("button", {
        class: "pick", type: "button", "data-pick-person": option.value,
        "aria-pressed": select.value === option.value ? "true" : "false", text: option.text
      })]);
    });
    if (!items.length && words.length) { items = [el("li", { class: "hint", text: tp("no_match") })]; }
    list.replaceChildren.apply(list, items);
  }

  function lastEthos(personId) {
    var latest = null;
    Object.keys(knownEncounters()).forEach(function (id) {
      var record = knownEncounters()[id];
      if (record.person_id === personId && (!latest || wall(record.occurred_at) > wall(latest.occurred_at))) { latest = record; }
    });
    return latest ? latest.ethos : null;
  }

  function pickPerson(button) {
    var form = button.form || button.closest("form");
    var select = form && field(form, "person_id");
    if (!select) { return; }
    var id = button.getAttribute("data-pick-person");
    select.value = id;
    // Where they were last seen living, unless the educator chose already.
    var ethos = field(form, "ethos");
    var known = lastEthos(id);
    if (ethos && known && ethos.value === "unknown") { ethos.value = known; }
    select.dispatchEvent(new Event("change", { bubbles: true }));
    renderQuickPeople(form);
    var again = form.querySelector('[data-pick-person="' + id + '"]');
    if (again) { again.focus({ preventScroll: true }); }
  }

  // The places with coordinates this phone knows: the page's, downloaded, made offline.
  function placesWithCoordinates(select) {
    var found = {};
    Array.prototype.forEach.call(select.options, function (option) {
      var lat = parseFloat(option.getAttribute("data-lat"));
      var lon = parseFloat(option.getAttribute("data-lon"));
      if (!isNaN(lat) && !isNaN(lon)) { found[option.value] = { id: option.value, name: option.text, lat: lat, lon: lon }; }
    });
    Object.keys(knownPlaces()).forEach(function (id) {
      var place = knownPlaces()[id];
      if (typeof place.latitude === "number" && typeof place.longitude === "number") {
        found[id] = { id: id, name: place.name, lat: place.latitude, lon: place.longitude };
      }
    });
    O.ops().forEach(function (op) {
      var data = op.data || {};
      if (data.place_id && data.place_name && typeof data.latitude === "number" && typeof data.longitude === "number" && !found[data.place_id]) {
        found[data.place_id] = { id: data.place_id, name: data.place_name, lat: data.latitude, lon: data.longitude };
      }
    });
    return Object.keys(found).map(function (id) { return found[id]; });
  }

  // Metres between two positions (haversine; plenty for a city's streets).
  function metres(a, b) {
    var rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad;
    var dLon = (b.lon - a.lon) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371000 * 2 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
  }

  function distanceText(m) {
    if (m < 1000) { return tp("distance_m", { n: Math.round(m / 10) * 10 }); }
    return tp("distance_km", { n: numberText(m / 1000, 1) });
  }

  var NEARBY = 3;
  var NEAREST_PRESELECT_M = 500; // closer than this, the nearest place is chosen already

  function nearbyPlaces(select) {
    if (!fix) { return []; }
    return placesWithCoordinates(select).map(function (place) {
      return { id: place.id, name: place.name, distance: metres(fix, place) };
    }).sort(function (a, b) { return a.distance - b.distance; });
  }

  function renderNearby(form) {
    var box = form.querySelector("[data-nearby]");
    var select = field(form, "place_id");
    if (!box || !select || !("geolocation" in navigator)) { return; }
    box.hidden = false;
    var list = box.querySelector("[data-nearby-list]");
    if (!fix) { list.replaceChildren(); list.removeAttribute("data-rendered"); return; }
    var places = nearbyPlaces(select).slice(0, NEARBY);
    var key = places.map(function (place) { return place.id + ":" + Math.round(place.distance); }).join(",");
    if (list.getAttribute("data-rendered") === key) {
      list.querySelectorAll("[data-pick-place]").forEach(function (button) {
        button.setAttribute("aria-pressed", button.getAttribute("data-pick-place") === select.value ? "true" : "false");
      });
      return;
    }
    list.setAttribute("data-rendered", key);
    var items = places.map(function (place) {
      return el("li", {}, [el("button", {
        class: "pick", type: "button", "data-pick-place": place.id,
        "aria-pressed": select.value === place.id ? "true" : "false"
      }, [place.name, el("span", { class: "pick-meta", text: " · " + distanceText(place.distance) })])]);
    });
    if (!items.length) { items = [el("li", { class: "hint", text: tp("nearby_none") })]; }
    list.replaceChildren.apply(list, items);
  }

  function fillCoordinates(form) {
    if (!fix || !isNewChoice(form, "place_id")) { return; }
    var latitude = field(form, "latitude");
    var longitude = field(form, "longitude");
    if (latitude && !latitude.value && longitude && !longitude.value) {
      latitude.value = fix.lat.toFixed(6);
      longitude.value = fix.lon.toFixed(6);
    }
    renderPosition(form);
  }

  // The new place's position as one line of words (the two boxes stay folded).
  function renderPosition(form) {
    var line = form.querySelector("[data-position-text]");
    if (!line) { return; }
    var lat = Number(String((field(form, "latitude") || {}).value || "").replace(",", "."));
    var lon = Number(String((field(form, "longitude") || {}).value || "").replace(",", "."));
    var empty = !String((field(form, "latitude") || {}).value || "").trim();
    var text = empty || !isFinite(lat) || !isFinite(lon) ? t("no_position") :
      t("position", { lat: numberText(lat, 5), lon: numberText(lon, 5) });
    if (line.textContent !== text) { line.textContent = text; }
  }

  // One position when the form opens (if the phone already allows it) or on request:
  // the nearest places, the nearest chosen when no place is, a new place's coordinates.
  function locateNearby(form, quiet) {
    if (!navigator.geolocation) { return; }
    if (!quiet) { say(form, t("locating"), "info"); }
    navigator.geolocation.getCurrentPosition(function (position) {
      fix = { lat: position.coords.latitude, lon: position.coords.longitude };
      var select = field(form, "place_id");
      var nearest = select ? nearbyPlaces(select)[0] : null;
      if (select && !select.value && nearest && nearest.distance <= NEAREST_PRESELECT_M) {
        choose(select, nearest.id, false);
        toggleNewFields(form);
      }
      fillCoordinates(form);
      renderNearby(form);
      if (!quiet) { say(form, t("located"), "ok"); }
    }, function () {
      if (!quiet) { say(form, t("locate_failed"), "error"); }
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  function pickPlace(button) {
    var form = button.form || button.closest("form");
    var select = form && field(form, "place_id");
    if (!select) { return; }
    choose(select, button.getAttribute("data-pick-place"), false);
    select.dispatchEvent(new Event("change", { bubbles: true }));
    renderNearby(form);
    var again = form.querySelector('[data-pick-place="' + button.getAttribute("data-pick-place") + '"]');
    if (again) { again.focus({ preventScroll: true }); }
  }

  // Whether the person chosen in the form is a minor (as the phone knows them).
  function isMinorChoice(form) {
    var option = selectedOption(field(form, "person_id"));
    if (!option) { return false; }
    var minor;
    if (option.hasAttribute("data-new")) {
      var band = field(form, "age_band");
      var flag = field(form, "minor");
      minor = Boolean((band && band.value === "under_18") || (flag && flag.checked));
    } else {
      var known = knownPeople()[option.value];
      minor = option.hasAttribute("data-minor") || Boolean(known && known.minor);
      if (!known) {
        // A person made offline: what their first encounter said.
        O.ops().forEach(function (op) {
          var data = op.data || {};
          if (data.person_id === option.value && (data.age_band === "under_18" || data.minor === "on")) { minor = true; }
        });
      }
    }
    return minor;
  }

  // "A minor: <who> will be told" while the person chosen is one.
  function renderMinor(form) {
    var notice = form.querySelector("[data-minor-notice]");
    if (!notice) { return; }
    notice.hidden = !isMinorChoice(form) && !form.querySelector("#minor_path-error");
    // "Under 18 all the same" means nothing once the age chosen is under 18.
    var band = field(form, "age_band");
    form.querySelectorAll("[data-minor-box]").forEach(function (box) {
      box.hidden = Boolean(band && band.value === "under_18");
    });
  }

  function setupPhone(form) {
    if (form.hasAttribute("data-phone-ready")) { return; }
    form.setAttribute("data-phone-ready", "");
    renderPhone(form.closest("main") || document);
    var box = form.querySelector("[data-nearby]");
    if (box && "geolocation" in navigator && !isDraft(form) && isCreate(form)) {
      if (navigator.permissions && typeof navigator.permissions.query === "function") {
        navigator.permissions.query({ name: "geolocation" }).then(function (status) {
          if (status.state === "granted") { locateNearby(form, true); }
        }).catch(noop);
      }
    }
  }

  // New places of the outbox on the places page, and a place's visits for #place=<id>.
  function renderPlacesPage(root) {
    var list = root.querySelector("[data-pending-places]");
    if (list) {
      var seen = {};
      var items = [];
      O.ops().forEach(function (op) {
        var data = op.data || {};
        if (!data.place_id || !data.place_name || seen[data.place_id] || knownPlaces()[data.place_id]) { return; }
        seen[data.place_id] = true;
        items.push(el("li", { class: "record", "data-record-id": data.place_id }, [
          el("a", { href: "#place=" + data.place_id, "data-place-link": data.place_id, "hx-boost": "false" }, [
            el("span", { class: "record-title", text: data.place_name }),
            el("span", { class: "record-meta", text: tp("last_visit", { time: showWallTime(data.occurred_at) }) })
          ])
        ]));
      });
      list.replaceChildren.apply(list, items);
      var section = list.closest("section");
      if (section) { section.hidden = !items.length; }
    }
    var detail = root.querySelector("[data-place-detail]");
    if (!detail) { return; }
    var match = /(?:^#|&)place=([0-9a-fA-F-]{36})/.exec(window.location.hash || "");
    if (!match) { detail.hidden = true; return; }
    renderPlaceDetail(root, detail, match[1]);
  }

  function nicknameOf(data) {
    var known = knownPeople()[data.person_id];
    if (known) { return known.nickname || t("no_nickname"); }
    for (var i = 0; i < O.ops().length; i += 1) {
      var other = O.ops()[i].data || {};
      if (other.person_id === data.person_id && other.nickname) { return other.nickname; }
    }
    return t("no_nickname");
  }

  function renderPlaceDetail(root, detail, placeId) {
    var link = root.querySelector('[data-place-link="' + placeId + '"] .record-title');
    var known = knownPlace(placeId);
    var name = known ? known.name : link ? link.textContent : placeOf({ place_id: placeId });
    var visits = {};
    Object.keys(knownEncounters()).forEach(function (id) {
      if (knownEncounters()[id].place_id === placeId) { visits[id] = knownEncounters()[id]; }
    });
    O.ops().forEach(function (op) {
      var data = op.data || {};
      if (op.type.indexOf("outreach.encounter.") !== 0 || !data.id) { return; }
      if (data.place_id === placeId) { visits[data.id] = Object.assign({ waiting: true }, data); } else { delete visits[data.id]; }
    });
    var rows = Object.keys(visits).map(function (id) { return visits[id]; });
    rows.sort(function (a, b) { return wall(a.occurred_at) < wall(b.occurred_at) ? 1 : -1; });
    detail.querySelector("[data-place-detail-name]").textContent = name || "";
    var notes = detail.querySelector("[data-place-detail-notes]");
    if (notes) {
      notes.textContent = (known && known.notes) || "";
      notes.hidden = !notes.textContent;
    }
    detail.querySelector("[data-place-detail-last]").textContent = rows.length ?
      tp("last_visit", { time: showWallTime(rows[0].occurred_at) }) : tp("never");
    var items = rows.map(function (data) {
      return el("li", { class: "record visit", "data-record-id": data.id }, [
        el("span", { class: "record-title", text: nicknameOf(data) }),
        el("span", { class: "record-meta", text: showWallTime(data.occurred_at) + " · " +
          labelOf("contact_type", data.contact_type) + (data.waiting ? " · " + tp("not_sent") : "") })
      ]);
    });
    var list = detail.querySelector("[data-place-detail-visits]");
    list.replaceChildren.apply(list, items);
    var wasHidden = detail.hidden;
    detail.hidden = false;
    if (wasHidden) { detail.querySelector("h2").focus(); }
  }

  // A place as the phone knows it: downloaded, then changed by its ops not sent yet
  // (`waiting`, and `base_version`: the version those changes were made from).
  function knownPlace(placeId) {
    var place = knownPlaces()[placeId] ? Object.assign({}, knownPlaces()[placeId]) : null;
    O.ops().forEach(function (op) {
      var data = op.data || {};
      if (op.type !== "outreach.place.update" || data.id !== placeId || op.status !== "pending") { return; }
      place = Object.assign(place || { id: placeId }, {
        name: data.name, notes: data.notes || "", waiting: true, base_version: op.base_version
      });
      if ("latitude" in data || "longitude" in data) {
        place.latitude = data.latitude;
        place.longitude = data.longitude;
      }
    });
    return place;
  }

  // Set a control to `value` unless the user changed what the page gave it.
  function offer(control, value) {
    if (!control || control.value !== control.defaultValue) { return; }
    var text = value === null || value === undefined ? "" : String(value);
    control.defaultValue = text;
    control.value = text;
  }

  // A place page (kept offline, so maybe older than what the phone holds): the name and
  // notes the phone knows, renamed places in the list, and the version the form changes.
  function renderPlacePage(root) {
    root.querySelectorAll("a[data-place-link] .record-title").forEach(function (title) {
      var known = knownPlace(title.parentNode.getAttribute("data-place-link"));
      if (known && known.waiting && known.name && title.textContent !== known.name) { title.textContent = known.name; }
    });
    var form = root.querySelector("form[data-place-form]");
    if (!form) { return; }
    var place = knownPlace(form.getAttribute("data-place-form"));
    if (!place) { return; }
    var heading = root.querySelector("h1[data-place-name]");
    if (heading && place.name && !isDraft(form)) { heading.textContent = place.name; }
    var notes = root.querySelector("[data-place-notes]");
    if (notes) {
      notes.textContent = place.notes || "";
      notes.hidden = !place.notes;
      var none = root.querySelector("[data-place-no-notes]");
      if (none) { none.hidden = Boolean(place.notes); }
    }
    var waiting = root.querySelector("[data-place-waiting]");
    if (waiting) { waiting.hidden = !place.waiting; }
    if (isDraft(form) || form.querySelector("[aria-invalid]") || form.hasAttribute("data-saving")) { return; }
    offer(field(form, "name"), place.name);
    offer(field(form, "notes"), place.notes);
    offer(field(form, "latitude"), place.latitude);
    offer(field(form, "longitude"), place.longitude);
    var version = field(form, "base_version");
    var base = place.waiting ? place.base_version : place.version;
    if (version && typeof base === "number" && (place.waiting || base > parseInt(version.value, 10))) {
      version.value = String(base);
    }
  }

  function renderPhone(root) {
    if (!phone || !O.loaded()) { return; }
    var running = renderBanners(root);
    renderMaraudePage(root, running);
    applyMaraude(root, running);
    renderPlacesPage(root);
    renderPlacePage(root);
    root.querySelectorAll("form[data-offline-op]").forEach(function (form) {
      renderQuickPeople(form);
      renderNearby(form);
      renderMinor(form);
    });
  }

  // --- Wiring -----------------------------------------------------------------------

  function click(target, event) {
    var locateButton = target.closest("[data-locate]");
    if (locateButton) { locate(locateButton); return true; }
    var person = target.closest("[data-pick-person]");
    if (person) { pickPerson(person); return true; }
    var placeButton = target.closest("[data-pick-place]");
    if (placeButton) { pickPlace(placeButton); return true; }
    var nearby = target.closest("[data-nearby-locate]");
    if (nearby && nearby.closest("form")) { locateNearby(nearby.closest("form"), false); return true; }
    var placeLink = target.closest("a[data-place-link]");
    if (placeLink && O.isOffline() && document.querySelector("[data-place-detail]")) {
      // Offline, a place page never opened is not on the phone: draw it here.
      event.preventDefault();
      window.location.hash = "place=" + placeLink.getAttribute("data-place-link");
      return true;
    }
    return false;
  }

  // Enter in the search of people filters; it never sends the encounter half-made.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target instanceof HTMLInputElement && target.hasAttribute("data-person-search")) {
      event.preventDefault();
    }
  });

  document.addEventListener("input", function (event) {
    var search = event.target;
    if (search instanceof HTMLInputElement && search.hasAttribute("data-person-search") && search.form) {
      renderQuickPeople(search.form);
    }
  });

  O.register({
    ops: OPS,
    options: {
      "outreach.person": function (skip) { return knownOptions("outreach.person", skip); },
      "outreach.place": function (skip) { return knownOptions("outreach.place", skip); }
    },
    page: function () { phone = O.readJson("outreach-phone") || phone; },
    render: renderPhone,
    click: click,
    prepareForm: function (form) {
      if ("geolocation" in navigator) {
        form.querySelectorAll("[data-locate]").forEach(function (button) { button.hidden = false; });
      }
    },
    formReady: setupPhone,
    formData: formData,
    check: check,
    change: function (form) {
      fillCoordinates(form);
      renderPosition(form);
      renderQuickPeople(form);
      renderNearby(form);
      renderMinor(form);
    },
    // The next encounter is often at the same place: it stays chosen.
    afterReset: function (form, op) {
      var keepPlace = op.data && op.data.place_id;
      if (keepPlace) { choose(field(form, "place_id"), keepPlace, false); }
    },
    // The end of a maraude goes on to its summary (#ended=<id>, drawn on the phone).
    next: function (form, op, url) {
      return form.hasAttribute("data-offline-summary") ? url + "#ended=" + op.data.id : url;
    }
  });
})();
