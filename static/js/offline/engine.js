/* Terrain offline engine: the phone's outbox of changes (IndexedDB), sending it through
   POST /api/sync, downloading the user's offline data through GET /api/sync, the
   "to send" indicator and page, the forms that work offline, the logout guard and the
   wipe. Plain JS, no build step. It knows no domain: each domain's module
   (static/js/<domain>/offline.js, loaded after it) declares its op types and screens
   through window.TerrainOffline.register(); see "Domain modules" below.

   Rules it keeps:
   - Every change is first saved in the outbox, then sent. Nothing leaves the outbox
     before the server answered for it; a refused change ("rejected") or one made on a
     record somebody else changed ("conflict") stays until the user decides.
   - One op per user action: its id comes from the form (made once per action), the
     Save button is off while saving, and adding an op id twice changes nothing.
   - Everything is kept per user (the terrain-user meta tag), sent only with that
     user's session, and wiped at logout and for a user not seen for 14 days.
   Texts come from the page (#terrain-offline-texts, web/offline.py). Loaded only for
   the roles whose work is synced, the /sync page and the offline page (web/offline.py). */
(function () {
  "use strict";

  var DB_NAME = "terrain-offline";
  var DB_VERSION = 1;
  var PAGES_CACHE = "terrain-pages";
  var SYNC_URL = "/api/sync";
  var ME_URL = "/api/me";
  var SYNC_TAG = "terrain-outbox";
  var ZONE = "Europe/Brussels"; // the server reads datetime-local values as Brussels time
  var FORGET_AFTER_MS = 14 * 24 * 60 * 60 * 1000;
  var MAX_OPS = 200; // per request (the server's limit)
  var MAX_BYTES = 900 * 1024; // per request, under the server's 1 MiB
  var FIRST_DELAY_MS = 5000; // retry after a failure: 5 s, doubling up to 5 min
  var MAX_DELAY_MS = 5 * 60 * 1000;
  var PULL_EVERY_MS = 20000; // on page load, download changes at most this often
  var REQUEST_TIMEOUT_MS = 20000;
  // Sending waits longer: when a whole team comes back online together the server
  // queues the batches, and a phone that gave up would only queue its copy again.
  var SYNC_TIMEOUT_MS = 90000;
  var ONLINE_JITTER_MS = 2000; // spread the flushes of phones reconnecting together
  var MAX_PULL_PAGES = 20;

  var state = {
    user: null,
    texts: {},
    labels: null,
    ops: [],
    records: {}, // what the server sent, by type then id (the domains' pages read it)
    flushing: null,
    flushAgain: false,
    pulling: null,
    timer: null,
    delay: FIRST_DELAY_MS,
    batchSize: MAX_OPS,
    authLost: false,
    networkDown: false,
    sending: false,
    dbBroken: false,
    lastIndicator: null,
    loaded: false, // the outbox was read at least once on this page
    remembered: { pending: 0, problems: 0 }, // the counts seen last, until then
    channel: null
  };

  function noop() { /* nothing to do */ }

  // --- Small helpers --------------------------------------------------------------

  function meta(name) {
    var tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.getAttribute("content") : null;
  }

  function readJson(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function readTexts() {
    state.texts = readJson("terrain-offline-texts") || state.texts || {};
    state.labels = readJson("terrain-offline-labels") || state.labels;
  }

  function t(key, values) {
    var sentence = state.texts[key] || "";
    Object.keys(values || {}).forEach(function (name) {
      sentence = sentence.split("{" + name + "}").join(String(values[name]));
    });
    return sentence;
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i += 1) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // Build an element: el("p", {class: "x", text: "…"}, [children]).
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function locale() {
    return (document.documentElement.lang || "fr") + "-BE";
  }

  // A number as the page's language writes it ("1,3" in French and Dutch).
  function numberText(value, digits) {
    try {
      // English as the server writes it (Babel's "en": 7.5); fr-BE and nl-BE: 7,5.
      var tag = document.documentElement.lang === "en" ? "en" : locale();
      return new Intl.NumberFormat(tag, { maximumFractionDigits: digits }).format(value);
    } catch (e) {
      return String(value);
    }
  }

  // A duration in hours and minutes ("1 h 05", "25 min"), never "0.42".
  function durationText(minutes) {
    minutes = Math.max(0, Math.round(minutes));
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    if (!hours) { return t("minutes", { n: rest }); }
    return t("hours_minutes", { h: hours, m: (rest < 10 ? "0" : "") + rest });
  }

  function format(date, options) {
    try {
      return new Intl.DateTimeFormat(locale(), options).format(date);
    } catch (e) {
      return date.toLocaleString();
    }
  }

  // A moment (ISO with offset, or ms): shown in Brussels time.
  function showMoment(value, withDate) {
    var date = new Date(value);
    if (isNaN(date.getTime())) { return ""; }
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: ZONE };
    if (withDate) { options.day = "numeric"; options.month = "short"; }
    return format(date, options);
  }

  // A wall-clock time "YYYY-MM-DDTHH:MM…" (a datetime-local value, or the server's
  // Brussels time): shown as it reads, whatever the phone's own time zone.
  function showWallTime(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(value || "");
    if (!match) { return value || ""; }
    var date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]));
    return format(date, {
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      timeZone: "UTC"
    });
  }

  // Now, as a datetime-local value in Brussels time.
  function nowLocalValue() {
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-GB", {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23", timeZone: ZONE
      }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
    } catch (e) {
      var now = new Date();
      now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
      return now.toISOString().slice(0, 16);
    }
  }

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function storageSet(key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, value); }
    } catch (e) { /* private mode: only the indicator's first paint is affected */ }
  }

  // --- IndexedDB ------------------------------------------------------------------
  // ops:     one change to send, key = op id; {id, user, type, base_version, client_at,
  //          data, created, status: pending|conflict|rejected, errors, server_record}
  // records: what the server sent, key = "<user>|<type>|<id>"; {key, user, type, id, record}
  // users:   per user of this phone; {user, token, pulled_at, seen_at}

  var dbPromise = null;
  var STORES = ["ops", "records", "users"];

  function createStores(db) {
    if (!db.objectStoreNames.contains("ops")) {
      db.createObjectStore("ops", { keyPath: "id" }).createIndex("user", "user");
    }
    if (!db.objectStoreNames.contains("records")) {
      db.createObjectStore("records", { keyPath: "key" }).createIndex("user", "user");
    }
    if (!db.objectStoreNames.contains("users")) {
      db.createObjectStore("users", { keyPath: "user" });
    }
  }

  function openAt(version, resolve, reject) {
    var request;
    try {
      request = version ? window.indexedDB.open(DB_NAME, version) : window.indexedDB.open(DB_NAME);
    } catch (e) { reject(e); return; }
    request.onupgradeneeded = function () { createStores(request.result); };
    request.onsuccess = function () {
      var db = request.result;
      var missing = STORES.some(function (name) { return !db.objectStoreNames.contains(name); });
      if (missing) {
        // A database of that name without our stores (made by something else): add them.
        var next = db.version + 1;
        db.close();
        openAt(next, resolve, reject);
        return;
      }
      db.onversionchange = function () { db.close(); dbPromise = null; };
      resolve(db);
    };
    request.onerror = function () {
      if (request.error && request.error.name === "VersionError" && version) {
        openAt(0, resolve, reject); // a newer version made by a later script: take it as is
        return;
      }
      reject(request.error);
    };
    // "blocked": another tab holds an older version; it closes it (onversionchange).
  }

  function openDb() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("IndexedDB is not available")); return; }
      openAt(DB_VERSION, resolve, reject);
    });
    dbPromise.catch(function () { dbPromise = null; state.dbBroken = true; });
    return dbPromise;
  }

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // Run work(stores) in one transaction; resolves with its value once committed.
  function transact(names, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (name) { stores[name] = transaction.objectStore(name); });
        var value;
        Promise.resolve().then(function () { return work(stores); }).then(function (result) {
          value = result;
        }, function (error) {
          try { transaction.abort(); } catch (e) { /* already finished */ }
          reject(error);
        });
        transaction.oncomplete = function () { resolve(value); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error || new Error("aborted")); };
      });
    });
  }

  // add() that ignores a key already there (a second submit of the same action).
  function addOnce(store, value) {
    return new Promise(function (resolve, reject) {
      var request = store.add(value);
      request.onsuccess = function () { resolve(true); };
      request.onerror = function (event) {
        if (request.error && request.error.name === "ConstraintError") {
          event.preventDefault();
          event.stopPropagation();
          resolve(false);
        } else {
          reject(request.error);
        }
      };
    });
  }

  function byUser(store, user) {
    return done(store.index("user").getAll(window.IDBKeyRange.only(user)));
  }

  function sortOps(ops) {
    return ops.sort(function (a, b) {
      return (a.created - b.created) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
  }

  function userOps(user) {
    return transact(["ops"], "readonly", function (s) { return byUser(s.ops, user); }).then(sortOps);
  }

  function getOp(id) {
    return transact(["ops"], "readonly", function (s) { return done(s.ops.get(id)); });
  }

  // Save a new op; `replaces` (an op of the same user) goes in the same transaction.
  function saveOp(op, replaces) {
    return transact(["ops"], "readwrite", function (s) {
      return addOnce(s.ops, op).then(function () {
        if (!replaces || replaces === op.id) { return undefined; }
        return done(s.ops.get(replaces)).then(function (old) {
          if (old && old.user === op.user) { return done(s.ops.delete(replaces)); }
          return undefined;
        });
      });
    });
  }

  function deleteOp(id) {
    return transact(["ops"], "readwrite", function (s) { return done(s.ops.delete(id)); });
  }

  function recordKey(user, type, id) { return user + "|" + type + "|" + id; }

  // The record an op makes or changes: "<domain>.<thing>" of "<domain>.<thing>.<verb>".
  function recordType(opType) { return opType.split(".").slice(0, 2).join("."); }

  function putRecord(store, user, type, record) {
    return done(store.put({
      key: recordKey(user, type, record.id), user: user, type: type, id: String(record.id),
      record: record
    }));
  }

  function userRow(user) {
    return transact(["users"], "readonly", function (s) { return done(s.users.get(user)); });
  }

  // This user is here now; forget whoever was not seen for 14 days.
  function rememberUser(user) {
    var now = Date.now();
    return transact(["users", "ops", "records"], "readwrite", function (s) {
      return done(s.users.getAll()).then(function (rows) {
        var mine = null;
        var stale = [];
        rows.forEach(function (row) {
          if (row.user === user) { mine = row; } else if (!row.seen_at || now - row.seen_at > FORGET_AFTER_MS) { stale.push(row.user); }
        });
        var row = mine || { user: user, token: "", pulled_at: 0 };
        row.seen_at = now;
        return done(s.users.put(row)).then(function () {
          return Promise.all(stale.map(function (other) { return wipeIn(s, other); }));
        });
      });
    });
  }

  function deleteByUser(store, user) {
    return done(store.index("user").getAllKeys(window.IDBKeyRange.only(user))).then(function (keys) {
      return Promise.all(keys.map(function (key) { return done(store.delete(key)); }));
    });
  }

  function wipeIn(s, user) {
    return Promise.all([deleteByUser(s.ops, user), deleteByUser(s.records, user), done(s.users.delete(user))]);
  }

  function wipeUser(user) {
    storageSet("terrain.outbox." + user, null);
    return transact(["users", "ops", "records"], "readwrite", function (s) { return wipeIn(s, user); });
  }

  function wipePages() {
    if (!window.caches) { return Promise.resolve(); }
    return window.caches.delete(PAGES_CACHE).catch(noop);
  }

  // --- The state of the outbox, and telling the other tabs --------------------------

  function problems(ops) {
    return ops.filter(function (op) { return op.status === "conflict" || op.status === "rejected"; });
  }

  function pendingOps(ops) {
    return ops.filter(function (op) { return op.status === "pending"; });
  }

  function loadRecords() {
    return transact(["records", "users"], "readonly", function (s) {
      return Promise.all([byUser(s.records, state.user), done(s.users.get(state.user))]);
    })
      .then(function (both) {
        var rows = both[0];
        // When the records were last downloaded (the phone's clock): a page drawn by the
        // server before that may be redrawn from them (static/js/homecare/offline.js).
        state.pulledAt = (both[1] && both[1].pulled_at) || 0;
        var records = {};
        rows.forEach(function (row) {
          (records[row.type] = records[row.type] || {})[row.id] = row.record;
        });
        state.records = records;
        return rows;
      });
  }

  // Read the outbox again and show it everywhere on the page.
  function refresh() {
    if (!state.user || state.dbBroken) { renderIndicator(); return Promise.resolve(); }
    return Promise.all([userOps(state.user), loadRecords()]).then(function (result) {
      state.ops = result[0];
      state.loaded = true;
      renderAll();
    }).catch(function () { renderIndicator(); });
  }

  function tellOtherTabs() {
    if (state.channel) {
      try { state.channel.postMessage({ type: "changed", user: state.user }); } catch (e) { /* closed */ }
    }
  }

  // --- Online / offline -------------------------------------------------------------

  function isOffline() {
    return navigator.onLine === false || state.networkDown;
  }

  function markOffline() {
    state.networkDown = true;
    if (!storageGet("terrain.offlineSince")) { storageSet("terrain.offlineSince", String(Date.now())); }
    renderIndicator();
  }

  function markOnline() {
    state.networkDown = false;
    storageSet("terrain.offlineSince", null);
    renderIndicator();
  }

  function offlineSince() {
    var since = parseInt(storageGet("terrain.offlineSince") || "", 10);
    if (isNaN(since)) {
      since = Date.now();
      storageSet("terrain.offlineSince", String(since));
    }
    return showMoment(since, Date.now() - since > 12 * 60 * 60 * 1000);
  }

  // --- Talking to the server --------------------------------------------------------

  function csrfToken() { return meta("csrf-token") || ""; }

  // fetch() with a time limit; resolves {status, body, headers} or {status: 0} when the
  // network failed.
  function call(url, options) {
    var controller = window.AbortController ? new window.AbortController() : null;
    var limit = options && options.method === "POST" ? SYNC_TIMEOUT_MS : REQUEST_TIMEOUT_MS;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, limit) : null;
    var init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    init.headers = Object.assign({ Accept: "application/json" }, init.headers);
    if (controller) { init.signal = controller.signal; }
    return window.fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        return { status: response.status, body: body, headers: response.headers };
      });
    }, function () {
      return { status: 0, body: null, headers: null };
    }).then(function (answer) {
      if (timer) { window.clearTimeout(timer); }
      return answer;
    });
  }

  function loseAuth() {
    state.authLost = true;
    renderBanner();
  }

  // A fresh CSRF token from /api/me, for a page older than the session. Resolves "ok",
  // "auth" (no session, or somebody else's: never send this user's ops with it) or
  // "network".
  function freshToken() {
    return call(ME_URL).then(function (answer) {
      if (answer.status === 0) { markOffline(); return "network"; }
      if (answer.status === 401 || (answer.status === 200 && answer.body && String(answer.body.id) !== state.user)) {
        loseAuth();
        return "auth";
      }
      if (answer.status === 200 && answer.body && answer.body.csrf_token) {
        var tag = document.querySelector('meta[name="csrf-token"]');
        if (tag) { tag.setAttribute("content", answer.body.csrf_token); }
        return "ok";
      }
      return "error";
    });
  }

  function wire(op) {
    return { id: op.id, type: op.type, base_version: op.base_version, client_at: op.client_at, data: op.data };
  }

  function post(batch) {
    return call(SYNC_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      // The phone's clock at send time: the server measures its offset (docs/sync.md).
      body: JSON.stringify({ ops: batch.map(wire), client_time: new Date().toISOString() })
    }).then(function (answer) {
      var body = answer.body || {};
      if (answer.status === 0) { return { kind: "network" }; }
      if (answer.status === 200 && Array.isArray(body.results)) { return { kind: "ok", results: body.results }; }
      if (answer.status === 401) { return { kind: "auth" }; }
      if (answer.status === 400 && body.error === "csrf") { return { kind: "csrf" }; }
      if (answer.status === 413 || (answer.status === 422 && body.error === "too_many_ops")) {
        return { kind: "smaller" };
      }
      if (answer.status === 429) {
        var seconds = parseInt((answer.headers && answer.headers.get("Retry-After")) || body.retry_after || "60", 10);
        return { kind: "wait", ms: Math.max(1, isNaN(seconds) ? 60 : seconds) * 1000 };
      }
      return { kind: "error" };
    });
  }

  // The ops of one request: at most MAX_OPS (or fewer after a 413) and MAX_BYTES.
  function takeBatch(ops, start) {
    var batch = [];
    var bytes = 0;
    for (var i = start; i < ops.length && batch.length < state.batchSize; i += 1) {
      var size = JSON.stringify(wire(ops[i])).length * 2; // UTF-16 count: a safe upper bound
      if (batch.length && bytes + size > MAX_BYTES) { break; }
      batch.push(ops[i]);
      bytes += size;
    }
    return batch;
  }

  // Store the server's answers: sent ops leave the outbox (their record is kept),
  // conflicts and refusals stay for the user.
  function applyResults(batch, results) {
    var mine = {};
    batch.forEach(function (op) { mine[op.id] = op; });
    return transact(["ops", "records"], "readwrite", function (s) {
      return Promise.all(results.map(function (result) {
        var op = result && mine[result.id];
        if (!op) { return undefined; }
        var status = result.status === "duplicate" ? (result.original_status || "applied") : result.status;
        return done(s.ops.get(op.id)).then(function (stored) {
          if (status === "applied") {
            var jobs = [done(s.ops.delete(op.id))];
            if (result.record && result.record.id) {
              jobs.push(putRecord(s.records, op.user, recordType(op.type), result.record));
            }
            return Promise.all(jobs);
          }
          if (!stored) { return undefined; } // discarded meanwhile: stays discarded
          if (status === "conflict") {
            stored.status = "conflict";
            stored.server_record = result.record || null;
          } else if (status === "rejected") {
            stored.status = "rejected";
            stored.errors = result.errors || {};
          } else {
            return undefined;
          }
          return done(s.ops.put(stored));
        });
      }));
    });
  }

  function markTooLarge(op) {
    return transact(["ops"], "readwrite", function (s) {
      return done(s.ops.get(op.id)).then(function (stored) {
        if (!stored) { return undefined; }
        stored.status = "rejected";
        stored.errors = { op: { code: "too_large", message: t("too_large") } };
        return done(s.ops.put(stored));
      });
    });
  }

  function sendFrom(ops, index, csrfRetried) {
    if (index >= ops.length) { return Promise.resolve("done"); }
    var batch = takeBatch(ops, index);
    return post(batch).then(function (answer) {
      if (answer.kind === "ok") {
        markOnline();
        return applyResults(batch, answer.results).then(function () {
          return sendFrom(ops, index + batch.length, csrfRetried);
        });
      }
      if (answer.kind === "csrf") {
        if (csrfRetried) { return "error"; }
        return freshToken().then(function (outcome) {
          return outcome === "ok" ? sendFrom(ops, index, true) : outcome;
        });
      }
      if (answer.kind === "smaller") {
        if (batch.length === 1) {
          return markTooLarge(batch[0]).then(function () { return sendFrom(ops, index + 1, csrfRetried); });
        }
        state.batchSize = Math.max(1, Math.floor(batch.length / 2));
        return sendFrom(ops, index, csrfRetried);
      }
      if (answer.kind === "auth") { loseAuth(); return "auth"; }
      if (answer.kind === "wait") { state.waitMs = answer.ms; return "wait"; }
      if (answer.kind === "network") { markOffline(); return "network"; }
      return "error";
    });
  }

  function sendAll() {
    if (state.authLost) { return Promise.resolve("auth"); }
    return userOps(state.user).then(function (ops) {
      var waiting = pendingOps(ops);
      if (!waiting.length) { return "empty"; }
      setSending(true);
      return sendFrom(waiting, 0, false);
    }).then(function (outcome) {
      setSending(false);
      return outcome;
    }, function () {
      setSending(false);
      return "error";
    });
  }

  function clearTimer() {
    if (state.timer) { window.clearTimeout(state.timer); state.timer = null; }
  }

  // Try again later: after a failure, 5 s doubling to 5 min; after a 429, when told.
  function schedule(outcome) {
    clearTimer();
    var wait = null;
    if (outcome === "network" || outcome === "error") {
      wait = state.delay;
      state.delay = Math.min(state.delay * 2, MAX_DELAY_MS);
    } else if (outcome === "wait") {
      wait = state.waitMs || 60000;
    } else if (outcome === "done" || outcome === "empty") {
      state.delay = FIRST_DELAY_MS;
    }
    if (wait !== null) {
      state.timer = window.setTimeout(function () { state.timer = null; flush(); }, wait);
    }
  }

  function withLock(work) {
    if (navigator.locks && typeof navigator.locks.request === "function") {
      // One tab sends at a time; the others wait, then find nothing left to send.
      return navigator.locks.request("terrain-outbox-" + state.user, work);
    }
    return work();
  }

  // Send this user's waiting ops, in the order they were made. Single flight: a call
  // during a flight makes one more flight afterwards.
  function flush() {
    if (!state.user || state.dbBroken) { return Promise.resolve("empty"); }
    if (state.flushing) {
      state.flushAgain = true;
      return state.flushing;
    }
    clearTimer();
    var flight = withLock(sendAll).then(function (outcome) {
      return (outcome === "done" ? pull(true) : Promise.resolve()).then(function () {
        schedule(outcome);
        tellOtherTabs();
        return refresh().then(function () {
          // An op the server did not answer for (a short answer) is tried again later.
          if (outcome === "done" && pendingOps(state.ops).length && !state.timer) { schedule("error"); }
          if (outcome === "done") { refreshServerLists(); }
          return outcome;
        });
      });
    }).catch(function () {
      schedule("error");
      return "error";
    });
    state.flushing = flight.then(function (outcome) {
      state.flushing = null;
      if (state.flushAgain) {
        state.flushAgain = false;
        return flush();
      }
      return outcome;
    });
    return state.flushing;
  }

  // The lists the server draws (marked data-refresh-after-sync): fetched again after a
  // sync sent something, so what was just sent shows among the team's records.
  function refreshServerLists() {
    var sections = document.querySelectorAll("[data-refresh-after-sync][id]");
    if (!sections.length || navigator.onLine === false) { return Promise.resolve(); }
    var url = window.location.pathname + window.location.search;
    return window.fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new window.DOMParser().parseFromString(html, "text/html");
      sections.forEach(function (section) {
        var other = fresh.getElementById(section.id);
        if (!other) { return; }
        var nodes = Array.prototype.map.call(other.childNodes, function (node) {
          return document.importNode(node, true);
        });
        section.replaceChildren.apply(section, nodes);
      });
    }).catch(noop);
  }

  // Download what changed for this user since the last time (all of it after a reset).
  function pull(force) {
    if (!state.user || state.dbBroken || state.authLost || navigator.onLine === false) {
      return Promise.resolve();
    }
    if (state.pulling) { return state.pulling; }
    state.pulling = userRow(state.user).then(function (row) {
      if (!force && row && row.pulled_at && Date.now() - row.pulled_at < PULL_EVERY_MS) { return undefined; }
      return pullFrom((row && row.token) || "", 0);
    }).catch(noop).then(function () {
      state.pulling = null;
      return loadRecords().then(function () {
        enhanceOptions(document);
        // What was just downloaded shows on the open page.
        if (state.loaded) { each("render", document); }
      }).catch(noop);
    });
    return state.pulling;
  }

  function pullFrom(token, round) {
    var user = state.user;
    return call(SYNC_URL + "?since=" + encodeURIComponent(token)).then(function (answer) {
      if (answer.status === 0) { markOffline(); return undefined; }
      if (answer.status === 401) { loseAuth(); return undefined; }
      if (answer.status !== 200 || !answer.body || !Array.isArray(answer.body.changes)) { return undefined; }
      markOnline();
      var body = answer.body;
      return storeChanges(user, body).then(function () {
        if (body.more && round + 1 < MAX_PULL_PAGES) { return pullFrom(body.token, round + 1); }
        return undefined;
      });
    });
  }

  function storeChanges(user, body) {
    return transact(["records", "users"], "readwrite", function (s) {
      return (body.reset ? deleteByUser(s.records, user) : Promise.resolve()).then(function () {
        return Promise.all(body.changes.map(function (change) {
          if (!change || !change.type || change.id === undefined) { return undefined; }
          if (change.record) { return putRecord(s.records, user, change.type, change.record); }
          return done(s.records.delete(recordKey(user, change.type, change.id)));
        }));
      }).then(function () {
        return done(s.users.get(user));
      }).then(function (row) {
        row = row || { user: user, seen_at: Date.now() };
        row.token = body.token || "";
        row.pulled_at = Date.now();
        return done(s.users.put(row));
      });
    });
  }

  function askBackgroundSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync && typeof registration.sync.register === "function") {
        return registration.sync.register(SYNC_TAG);
      }
      return undefined;
    }).catch(noop);
  }

  function keepPagesReady() {
    var urls = state.texts.pages;
    if (!("serviceWorker" in navigator) || !Array.isArray(urls) || !urls.length || isOffline()) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) {
        registration.active.postMessage({ type: "keep-pages", urls: urls, user: state.user });
      }
    }).catch(noop);
  }

  // --- What an op is about, for people --------------------------------------------

  function labelOf(kind, code) {
    var choices = state.labels && state.labels.choices && state.labels.choices[kind];
    return (choices && choices[code]) || code;
  }

  function fieldName(name) {
    var fields = state.labels && state.labels.fields;
    return (fields && fields[name]) || "";
  }

  // --- Domain modules -------------------------------------------------------------
  // A domain's module (loaded after this file, before the page is set up) calls
  // TerrainOffline.register({...}) with, all optional:
  //   ops:        {"<op type>": spec}; a spec says what an op is about, for people:
  //               what(op), title(op), when(op), where(op) (short texts), page(op) (the
  //               form that corrects it, given #draft=<op id>; none: no "Correct"),
  //               versions(op) ([[field, mine, theirs]] shown side by side in a
  //               conflict), again (the type of "keep my version", e.g. a create sent
  //               again as an update);
  //   options:    {"<record type>": function (skipOpId) -> [{id, label}]}: the choices a
  //               select[data-offline-options="<record type>"] gains from the phone;
  //   page(root): read the page's own data (a boosted swap brought a new page);
  //   render(root): draw the module's screens from what the phone holds;
  //   click(target, event): a click on the page; true when it was the module's;
  //   and, for the forms of its op types (form[data-offline-op]): prepareForm(form)
  //   (before the outbox is read), formReady(form) (after), formData(form, data) (the
  //   op's data from the form, completed), check(form, errors) ({field: sentence},
  //   filled in before saving), change(form, control), afterReset(form, op) (after a
  //   save, the form emptied for the next one), next(form, op, url) (where a saved
  //   form goes on).

  var modules = [];

  function register(module) {
    modules.push(module);
  }

  function spec(type) {
    for (var i = 0; i < modules.length; i += 1) {
      var ops = modules[i].ops || {};
      if (Object.prototype.hasOwnProperty.call(ops, type)) { return ops[type]; }
    }
    return {};
  }

  function moduleOf(form) {
    var type = form.getAttribute("data-offline-op");
    for (var i = 0; i < modules.length; i += 1) {
      if (Object.prototype.hasOwnProperty.call(modules[i].ops || {}, type)) { return modules[i]; }
    }
    return {};
  }

  // Call `hook` of every module that has it.
  function each(hook) {
    var args = Array.prototype.slice.call(arguments, 1);
    modules.forEach(function (module) {
      if (typeof module[hook] === "function") { module[hook].apply(module, args); }
    });
  }

  // Call `hook` of the module whose op type the form makes; `fallback` without one.
  function formHook(form, hook, args, fallback) {
    var module = moduleOf(form);
    return typeof module[hook] === "function" ? module[hook].apply(module, args) : fallback;
  }

  function describe(op, part) {
    var about = spec(op.type)[part];
    return typeof about === "function" ? about(op) || "" : "";
  }

  function opWhat(op) { return describe(op, "what") || op.type; }

  function opTitle(op) { return describe(op, "title") || opWhat(op); }

  function draftPage(op) { return describe(op, "page") || null; }

  function statusText(op) {
    if (op.status === "rejected") { return t("rejected"); }
    if (op.status === "conflict") { return t("conflict"); }
    return t("waiting");
  }

  // --- The header indicator ---------------------------------------------------------

  function counts() {
    if (!state.loaded) { return state.remembered; }
    var waiting = pendingOps(state.ops).length;
    var wrong = problems(state.ops).length;
    return { pending: waiting, problems: wrong };
  }

  function indicatorSentence(numbers, offline) {
    var parts = [];
    if (numbers.problems) {
      parts.push(numbers.problems === 1 ? t("problems_one") : t("problems_many", { n: numbers.problems }));
    }
    if (numbers.pending) {
      parts.push(numbers.pending === 1 ? t("pending_one") : t("pending_many", { n: numbers.pending }));
    }
    if (offline) { parts.push(t("offline_since", { time: offlineSince() })); }
    return parts.length ? parts.join(" · ") : t("all_sent");
  }

  // The header's words, short enough for a 360 px phone: "Offline · 3 waiting".
  function headerSentence(numbers, offline) {
    var parts = [offline ? t("state_offline") : t("state_online")];
    if (numbers.problems) {
      parts.push(numbers.problems === 1 ? t("problems_one") : t("problems_many", { n: numbers.problems }));
    }
    if (numbers.pending) {
      parts.push(numbers.pending === 1 ? t("pending_one") : t("pending_many", { n: numbers.pending }));
    }
    if (!numbers.problems && !numbers.pending) { parts.push(t("all_sent_short")); }
    return parts.join(" · ");
  }

  function spriteUrl() {
    var use = document.querySelector("header use");
    var href = use ? (use.getAttribute("href") || "") : "";
    return href.split("#")[0];
  }

  function renderIndicator(numbers) {
    var link = document.querySelector("[data-sync-status]");
    if (!link || !state.user) { return; }
    numbers = numbers || counts();
    var offline = isOffline();
    var sentence = indicatorSentence(numbers, offline);
    var words = headerSentence(numbers, offline);
    var kind = numbers.problems ? "problems" : numbers.pending ? "pending" : offline ? "offline" : "ok";
    var key = kind + "|" + words + "|" + sentence + "|" + (state.sending ? "1" : "0");
    if (state.loaded) { storageSet("terrain.outbox." + state.user, JSON.stringify(numbers)); }
    if (link.getAttribute("data-rendered") === key) { return; }
    var badge = el("span", { class: "sync-badge", "aria-hidden": "true" });
    if (offline) {
      var sprite = spriteUrl();
      if (sprite) {
        var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("class", "icon");
        svg.setAttribute("focusable", "false");
        var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
        use.setAttribute("href", sprite + "#offline");
        svg.appendChild(use);
        badge.appendChild(svg);
      }
    }
    // The words are the link's name (what is seen is what is read); the title adds
    // since when the phone is offline.
    var parts = badge.childNodes.length ? [badge] : [];
    // Each part kept whole on its line ("Hors ligne" / "· 3 en attente").
    var pieces = words.split(" · ").map(function (piece, index) {
      return el("span", { class: "sync-part", text: (index ? "· " : "") + piece });
    });
    var text = el("span", { class: "sync-text" });
    pieces.forEach(function (piece, index) {
      if (index) { text.appendChild(document.createTextNode(" ")); }
      text.appendChild(piece);
    });
    parts.push(text);
    link.replaceChildren.apply(link, parts);
    link.setAttribute("data-state", kind);
    link.setAttribute("data-rendered", key);
    link.setAttribute("title", sentence);
    if (state.sending) { link.setAttribute("aria-busy", "true"); } else { link.removeAttribute("aria-busy"); }
    link.hidden = false;
    // Changes after the first paint are announced (politely) to screen readers.
    if (state.lastIndicator !== null && state.lastIndicator !== words) {
      link.setAttribute("aria-live", "polite");
    }
    state.lastIndicator = words;
  }

  // The first paint, before IndexedDB answers: the counts seen last on this phone.
  function rememberCounts() {
    try {
      var stored = JSON.parse(storageGet("terrain.outbox." + state.user) || "null");
      if (stored) { state.remembered = { pending: stored.pending | 0, problems: stored.problems | 0 }; }
    } catch (e) { /* nothing stored */ }
  }

  function setSending(sending) {
    state.sending = sending;
    renderIndicator();
    document.querySelectorAll("[data-sync-now]").forEach(function (button) {
      button.setAttribute("aria-busy", sending ? "true" : "false");
    });
  }

  // --- "Log in again" banner ----------------------------------------------------------

  function renderBanner() {
    var main = document.getElementById("main");
    var banner = document.querySelector("[data-sync-banner]");
    if (!state.authLost || !main) {
      if (banner) { banner.remove(); }
      return;
    }
    if (banner) { return; }
    var next = window.location.pathname + window.location.search;
    banner = el("div", { class: "alert sync-banner", role: "alert", "data-sync-banner": true }, [
      el("p", { text: t("login_again") }),
      el("a", { class: "button primary", href: "/login?next=" + encodeURIComponent(next), text: t("log_in") })
    ]);
    main.insertBefore(banner, main.firstChild);
  }

  // --- Lists: a page's ops not sent yet ([data-pending-list]) and the outbox page (/sync)

  function renderAll() {
    renderIndicator();
    renderBanner();
    if (!state.loaded) { return; }
    renderPendingLists();
    renderOutbox();
    each("render", document);
  }

  function renderPendingLists() {
    document.querySelectorAll("[data-pending-list]").forEach(function (list) {
      var prefix = list.getAttribute("data-pending-list") + ".";
      var ops = state.ops.filter(function (op) { return op.type.indexOf(prefix) === 0; });
      var items = ops.map(function (op) {
        var where = describe(op, "where");
        return el("li", { class: "record", "data-op-id": op.id, "data-op-status": op.status }, [
          el("a", { href: syncPage() + "#op-" + op.id }, [
            el("span", { class: "record-title", text: opTitle(op) }),
            el("span", { class: "record-meta", text: describe(op, "when") + (where ? " · " + where : "") }),
            el("span", { class: "record-meta" }, [
              el("span", { class: "badge " + op.status, text: statusText(op) })
            ])
          ])
        ]);
      });
      list.replaceChildren.apply(list, items);
      var section = list.closest("section");
      if (section) { section.hidden = items.length === 0; }
    });
  }

  function syncPage() {
    var link = document.querySelector("[data-sync-status]");
    return link ? link.getAttribute("href") : "/sync";
  }

  function summarySentence() {
    var numbers = counts();
    if (!numbers.pending && !numbers.problems) { return t("nothing_waiting"); }
    return indicatorSentence(numbers, false);
  }

  function renderOutbox() {
    var summary = document.querySelector("[data-sync-summary]");
    if (!summary) { return; }
    renderSummary(summary);
    var wrong = problems(state.ops);
    var waiting = pendingOps(state.ops);
    fillSection("problems", wrong.map(problemItem));
    fillSection("pending", waiting.map(pendingItem));
  }

  function fillSection(name, items) {
    var list = document.querySelector('[data-outbox-list="' + name + '"]');
    if (!list) { return; }
    // Keep the focus where it was when a list is drawn again.
    var focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    var focusKey = focused ? focused.getAttribute("data-action") + "|" + focused.getAttribute("data-op") : null;
    list.replaceChildren.apply(list, items);
    if (focusKey) {
      var again = list.querySelector('[data-action="' + focusKey.split("|")[0] + '"][data-op="' + focusKey.split("|")[1] + '"]');
      if (again) { again.focus(); }
    }
    var section = document.querySelector('[data-outbox-section="' + name + '"]');
    if (section) { section.hidden = items.length === 0; }
  }

  function itemHead(op) {
    return [
      el("h3", { class: "record-title", id: "op-title-" + op.id, text: opTitle(op) }),
      el("p", { class: "record-meta", text: [opWhat(op), describe(op, "when"), describe(op, "where")].filter(Boolean).join(" · ") }),
      el("p", { class: "record-meta", text: t("made_at", { time: showMoment(op.client_at || op.created, true) }) }),
      el("p", { class: "record-meta" }, [el("span", { class: "badge " + op.status, text: statusText(op) })])
    ];
  }

  function pendingItem(op) {
    return el("li", { class: "record outbox-item", id: "op-" + op.id, "data-op-id": op.id, "data-op-status": op.status }, itemHead(op));
  }

  function problemItem(op) {
    var children = itemHead(op);
    if (op.status === "rejected") {
      children.push(errorList(op));
      var actions = [];
      if (draftPage(op)) {
        actions.push(el("a", {
          class: "button", href: draftPage(op) + "#draft=" + op.id, "hx-boost": "false",
          "data-action": "correct", "data-op": op.id, "aria-describedby": "op-title-" + op.id, text: t("correct")
        }));
      }
      actions.push(el("button", {
        class: "button danger-outline", type: "button", "data-action": "discard", "data-op": op.id,
        "aria-describedby": "op-title-" + op.id, text: t("discard")
      }));
      children.push(el("div", { class: "actions" }, actions));
    } else {
      children.push(versions(op));
      children.push(el("div", { class: "actions" }, [
        el("button", {
          class: "button primary", type: "button", "data-action": "keep-mine", "data-op": op.id,
          "aria-describedby": "op-title-" + op.id, text: t("keep_mine")
        }),
        el("button", {
          class: "button", type: "button", "data-action": "keep-theirs", "data-op": op.id,
          "aria-describedby": "op-title-" + op.id, text: t("keep_theirs")
        })
      ]));
    }
    return el("li", { class: "record outbox-item problem", id: "op-" + op.id, "data-op-id": op.id, "data-op-status": op.status }, children);
  }

  function errorList(op) {
    var errors = op.errors || {};
    return el("ul", { class: "errors" }, Object.keys(errors).map(function (name) {
      var error = errors[name] || {};
      var label = fieldName(name);
      var message = error.message || error.code || "";
      return el("li", { class: "error", "data-field": name }, label ? [el("strong", { text: label }), " — " + message] : [message]);
    }));
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // Both versions side by side: what the user saved, what the server holds now (the
  // rows the op type's module gives, else every field of the change as it is).
  function versions(op) {
    var mine = op.data || {};
    var theirs = op.server_record || {};
    var rows = typeof spec(op.type).versions === "function" ? spec(op.type).versions(op) :
      Object.keys(mine).map(function (name) { return [name, shown(mine[name]), shown(theirs[name])]; });
    function column(title, index, side) {
      return el("div", { class: "version", "data-version": side }, [
        el("h4", { text: title }),
        el("dl", {}, rows.map(function (row) {
          var differs = row[1] !== row[2];
          return el("div", { class: differs ? "differs" : null, "data-field": row[0] }, [
            el("dt", { text: fieldName(row[0]) }),
            el("dd", { text: row[index] })
          ]);
        }))
      ]);
    }
    return el("div", { class: "versions" }, [
      column(t("your_version"), 1, "mine"),
      column(t("their_version"), 2, "theirs")
    ]);
  }

  // The summary (a live region): what the last action did, then what waits now.
  function renderSummary(summary) {
    var counts_ = summarySentence();
    var text = state.message ? state.message + " " + counts_ : counts_;
    if (summary.textContent !== text) { summary.textContent = text; }
  }

  function announce(sentence) {
    state.message = sentence;
    var summary = document.querySelector("[data-sync-summary]");
    if (summary) { renderSummary(summary); }
  }

  function focusSummary() {
    var summary = document.querySelector("[data-sync-summary]");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  function onOutboxAction(button) {
    var id = button.getAttribute("data-op");
    var action = button.getAttribute("data-action");
    var op = state.ops.filter(function (candidate) { return candidate.id === id; })[0];
    if (!op) { return; }
    if (action === "discard") {
      if (!window.confirm(t("discard_confirm"))) { return; }
      deleteOp(id).then(function () {
        tellOtherTabs();
        state.message = null;
        return refresh();
      }).then(function () {
        focusSummary();
      }).catch(noop);
    } else if (action === "keep-theirs") {
      transact(["ops", "records"], "readwrite", function (s) {
        var jobs = [done(s.ops.delete(id))];
        if (op.server_record && op.server_record.id) {
          jobs.push(putRecord(s.records, op.user, recordType(op.type), op.server_record));
        }
        return Promise.all(jobs);
      }).then(function () {
        tellOtherTabs();
        return refresh();
      }).then(function () {
        announce(t("kept_theirs"));
        focusSummary();
      }).catch(noop);
    } else if (action === "keep-mine") {
      // The same content again, as a change of the version now on the server.
      var again = {
        id: newId(),
        user: op.user,
        // A change of the server's version: a record made here is now an update.
        type: spec(op.type).again || op.type,
        base_version: op.server_record && typeof op.server_record.version === "number" ? op.server_record.version : op.base_version,
        client_at: new Date().toISOString(),
        data: op.data,
        created: Date.now(),
        status: "pending"
      };
      saveOp(again, op.id).then(function () {
        tellOtherTabs();
        return refresh();
      }).then(function () {
        announce(t("kept_mine"));
        focusSummary();
        return flush();
      }).catch(noop);
    }
  }

  function onSyncNow(button) {
    // aria-disabled, not disabled: the button keeps the focus of whoever pressed it.
    if (button.getAttribute("aria-disabled") === "true") { return; }
    button.setAttribute("aria-disabled", "true");
    announce(t("sending"));
    state.authLost = false; // a new login may have happened in another tab
    state.delay = FIRST_DELAY_MS;
    flush().then(function (outcome) {
      return pull(true).then(function () { return outcome; });
    }).then(function (outcome) {
      var numbers = counts();
      if (outcome === "auth") {
        announce(t("login_again"));
      } else if (!numbers.pending && !numbers.problems) {
        announce(t("sent_all"));
      } else if (numbers.pending) {
        announce(t("not_sent_yet"));
      } else {
        announce(t("problems_to_correct"));
      }
    }).catch(noop).then(function () { button.removeAttribute("aria-disabled"); });
  }

  // --- Forms that work offline --------------------------------------------------------

  function statusOf(form) {
    var scope = form.closest("main") || document;
    return scope.querySelector("[data-offline-status]");
  }

  function say(form, sentence, kind) {
    var status = statusOf(form);
    if (!status) { return; }
    status.textContent = sentence;
    status.setAttribute("data-kind", kind || "info");
  }

  function field(form, name) {
    return form.querySelector('[name="' + name + '"]');
  }

  function selectedOption(select) {
    return select && select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
  }

  function isNewChoice(form, name) {
    var option = selectedOption(field(form, name));
    return Boolean(option && option.hasAttribute("data-new"));
  }

  // The fields of a new record (e.g. a new person) show only when its "a new …"
  // choice (option[data-new]) is chosen.
  function toggleNewFields(form) {
    form.querySelectorAll("[data-shown-for]").forEach(function (block) {
      var name = block.getAttribute("data-shown-for");
      block.hidden = !isNewChoice(form, name);
    });
  }

  function freshIds(form, only) {
    form.querySelectorAll("[data-fresh-id]").forEach(function (node) {
      if (!only || node.getAttribute("name") === only) { node.value = newId(); }
    });
  }

  function setBusy(form, busy) {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
      button.disabled = busy;
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function isDraft(form) { return form.hasAttribute("data-replaces"); }

  function isCreate(form) {
    return form.getAttribute("data-offline-op").slice(-7) === ".create";
  }

  // The form as an op's data (the same shape the server's no-JS path builds).
  function opFromForm(form) {
    var multiple = {};
    form.querySelectorAll("input[type=checkbox][name]").forEach(function (box) {
      // A lone yes/no box (data-single) sends its value or nothing, as a form post does.
      if (!box.hasAttribute("data-single")) { multiple[box.name] = true; }
    });
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "op_id" || name === "base_version") { return; }
      if (multiple[name]) {
        (data[name] = data[name] || []).push(value);
      } else {
        data[name] = typeof value === "string" ? value : "";
      }
    });
    Object.keys(multiple).forEach(function (name) { data[name] = data[name] || []; });
    formHook(form, "formData", [form, data]);
    var version = field(form, "base_version");
    var base = version ? parseInt(version.value, 10) : NaN;
    return {
      id: field(form, "op_id").value,
      user: state.user,
      type: form.getAttribute("data-offline-op"),
      base_version: isNaN(base) ? null : base,
      client_at: new Date().toISOString(),
      data: data,
      created: Date.now(),
      status: "pending"
    };
  }

  // What the phone can tell at once (the server checks everything again).
  function checkForm(form) {
    var errors = {};
    formHook(form, "check", [form, errors]);
    return Object.keys(errors).length ? errors : null;
  }

  function clearErrors(form) {
    form.querySelectorAll("p.error").forEach(function (node) { node.remove(); });
    // The summary of a form the server sent back (the no-script path) goes too.
    var main = form.closest("main");
    if (main) {
      main.querySelectorAll(":scope > p.error[role=alert]").forEach(function (node) { node.remove(); });
    }
    form.querySelectorAll(".field-invalid").forEach(function (node) { node.classList.remove("field-invalid"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
      var described = (node.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && !/-error$/.test(id);
      });
      if (described.length) { node.setAttribute("aria-describedby", described.join(" ")); } else { node.removeAttribute("aria-describedby"); }
    });
  }

  // Errors next to their fields, as the server's form shows them; {field: sentence}.
  function showErrors(form, errors) {
    clearErrors(form);
    var loose = [];
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var control = field(form, name);
      if (!control || control.type === "hidden") { loose.push(errors[name]); return; }
      if (control.type === "checkbox") { control = control.closest("fieldset") || control; }
      var block = control.closest(".field") || control.parentNode;
      var id = name + "-error";
      var message = el("p", { class: "error", id: id, text: errors[name] });
      var anchor = block.querySelector(":scope > label, :scope > legend");
      var hint = block.querySelector(":scope > .hint");
      var after = hint || anchor;
      if (after && after.nextSibling) { block.insertBefore(message, after.nextSibling); } else if (after) { block.appendChild(message); } else { block.insertBefore(message, block.firstChild); }
      block.classList.add("field-invalid");
      var targets = control.tagName === "FIELDSET" ? control.querySelectorAll("input") : [control];
      Array.prototype.forEach.call(targets, function (target) {
        target.setAttribute("aria-invalid", "true");
        var described = (target.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        described.push(id);
        target.setAttribute("aria-describedby", described.join(" "));
      });
      if (!first) { first = targets[0]; }
      // A field in a hidden block (a new record's fields) must be seen.
      var shown = block.closest("[data-shown-for]");
      if (shown) { shown.hidden = false; }
    });
    say(form, [t("fix_fields")].concat(loose).join(" "), "error");
    if (first && typeof first.focus === "function") { first.focus(); }
  }

  function serverErrors(op) {
    var errors = {};
    Object.keys(op.errors || {}).forEach(function (name) {
      var error = op.errors[name] || {};
      errors[name] = error.message || error.code || "";
    });
    return errors;
  }

  function fillNow(form) {
    form.querySelectorAll("input[data-default-now]").forEach(function (input) {
      input.value = nowLocalValue();
    });
  }

  // The choices a select[data-offline-options="<record type>"] gains from the phone,
  // most recent first: the module of that record type says which.
  function optionsOf(type, skip) {
    for (var i = 0; i < modules.length; i += 1) {
      var provider = (modules[i].options || {})[type];
      if (typeof provider === "function") { return provider(skip) || []; }
    }
    return [];
  }

  // Add the records this phone knows and the cached page lacks (downloaded later, or
  // made offline in ops not sent yet).
  function enhanceOptions(root) {
    var selects = (root || document).querySelectorAll("select[data-offline-options]");
    if (!selects.length || !state.user) { return Promise.resolve(); }
    selects.forEach(function (select) {
      var form = select.form;
      var skip = form ? form.getAttribute("data-replaces") : null;
      var known = {};
      Array.prototype.forEach.call(select.options, function (option) { known[option.value] = true; });
      var entries = optionsOf(select.getAttribute("data-offline-options"), skip);
      var anchor = select.querySelector("option[data-new]");
      entries.forEach(function (entry) {
        if (!entry.id || known[entry.id] || !entry.label) { return; }
        known[entry.id] = true;
        var option = new Option(entry.label, entry.id);
        option.setAttribute("data-offline", "");
        if (anchor && anchor.parentNode === select) {
          select.insertBefore(option, anchor.nextSibling);
          anchor = option;
        } else {
          select.appendChild(option);
        }
      });
    });
    return Promise.resolve();
  }

  function choose(select, value, create) {
    if (!select) { return; }
    if (value === null || value === undefined) { value = ""; }
    var found = Array.prototype.some.call(select.options, function (option) { return option.value === value; });
    if (!found && value && create) {
      // A new record of the op: keep its id on the "a new …" choice.
      var fresh = select.querySelector("option[data-new]");
      if (fresh) {
        fresh.value = value;
        fresh.removeAttribute("data-fresh-id");
        found = true;
      }
    }
    if (found) { select.value = value; }
  }

  // Open a refused op in the form: its values, the server's messages, and on save a
  // new op that replaces it.
  function loadDraft(form) {
    var match = /(?:^#|&)draft=([0-9a-fA-F-]{36})/.exec(window.location.hash || "");
    if (!match || !state.user) { return Promise.resolve(); }
    var id = match[1];
    return getOp(id).then(function (op) {
      if (!op || op.user !== state.user) {
        say(form, t("draft_missing"), "error");
        return;
      }
      // A page of several forms (e.g. a start and an end): only the op's own form.
      if (document.querySelectorAll("form[data-offline-op]").length > 1 &&
          form.getAttribute("data-offline-op") !== op.type) { return; }
      form.setAttribute("data-replaces", op.id);
      form.setAttribute("data-offline-op", op.type);
      var heading = document.querySelector("main h1");
      if (heading) { heading.textContent = t("correct_title"); }
      var data = op.data || {};
      var idField = field(form, "id");
      if (idField) {
        idField.removeAttribute("data-fresh-id");
        idField.value = data.id || idField.value;
      }
      var version = field(form, "base_version");
      if (op.base_version !== null && op.base_version !== undefined) {
        if (!version) {
          version = el("input", { type: "hidden", name: "base_version" });
          form.insertBefore(version, form.firstChild);
        }
        version.value = String(op.base_version);
      } else if (version) {
        version.remove();
      }
      Array.prototype.forEach.call(form.elements, function (control) {
        var name = control.name;
        if (!name || name === "csrf_token" || name === "op_id" || name === "id" || name === "base_version") { return; }
        var value = data[name];
        if (control.type === "checkbox") {
          control.checked = Array.isArray(value) ? value.indexOf(control.value) !== -1 : value === control.value;
        } else if (control.tagName === "SELECT") {
          choose(control, value, control.hasAttribute("data-offline-options"));
        } else if (control.type !== "submit" && control.type !== "button") {
          control.value = value === null || value === undefined ? "" : String(value);
        }
      });
      toggleNewFields(form);
      if (op.status === "rejected") { showErrors(form, serverErrors(op)); }
    }).catch(noop);
  }

  // The outbox and records read once for all the forms a page sets up together (a
  // day of visits has three forms a visit), not once a form.
  var formsReading = null;
  function formsRead() {
    if (!formsReading) {
      formsReading = Promise.all([userOps(state.user), loadRecords()]);
      var done = function () { formsReading = null; };
      formsReading.then(done, done);
    }
    return formsReading;
  }

  function setupForm(form) {
    if (form.hasAttribute("data-offline-ready")) { return; }
    form.setAttribute("data-offline-ready", "");
    formHook(form, "prepareForm", [form]);
    // New ids for this view of the form: a page kept offline is shown many times with
    // the same HTML, and each time is a new action.
    freshIds(form);
    var drafted = /(?:^#|&)draft=/.test(window.location.hash || "");
    if ((isCreate(form) || form.hasAttribute("data-offline-leave")) && !drafted &&
        !form.querySelector("[aria-invalid]")) {
      // A page kept offline was made earlier: the time is now.
      fillNow(form);
    }
    toggleNewFields(form);
    if (!state.user || state.dbBroken) { return; }
    openDb().then(formsRead).then(function (result) {
      state.ops = result[0];
      return loadDraft(form);
    }).then(function () {
      return enhanceOptions(form);
    }).then(function () {
      formHook(form, "formReady", [form]);
    }).catch(noop);
  }

  function resetForm(form, op) {
    form.reset();
    form.removeAttribute("data-replaces");
    clearErrors(form);
    freshIds(form);
    fillNow(form);
    enhanceOptions(form).then(function () {
      formHook(form, "afterReset", [form, op]);
      toggleNewFields(form);
      each("render", form.closest("main") || document);
    });
    toggleNewFields(form);
  }

  function leave(url) {
    var target = new URL(url, window.location.href);
    if (target.hash && target.pathname === window.location.pathname &&
        target.search === window.location.search) {
      // Only the #part changes (e.g. a summary shown on the form's page): the browser
      // does not load the page again, so its status line is cleared here and the page
      // drawn again.
      document.querySelectorAll("[data-offline-status]").forEach(function (status) {
        status.textContent = "";
        status.removeAttribute("data-kind");
      });
      if (window.location.hash === target.hash) { each("render", document); } else { window.location.hash = target.hash; }
      return;
    }
    window.location.assign(url);
  }

  function afterSave(form, op, stored) {
    var draft = form.hasAttribute("data-replaces");
    if (stored && stored.status === "rejected") {
      // Shown at once: correct and save again (a new op replaces the refused one).
      form.setAttribute("data-replaces", op.id);
      freshIds(form, "op_id");
      showErrors(form, serverErrors(stored));
      return;
    }
    if (stored && stored.status === "conflict") {
      leave(syncPage() + "#op-" + op.id);
      return;
    }
    var sent = !stored;
    if (draft) {
      leave(syncPage());
      return;
    }
    if (!isCreate(form)) {
      // Forms marked data-offline-leave go on offline too: the next page is kept on the
      // phone.
      if (sent || form.hasAttribute("data-offline-leave")) {
        var next = form.getAttribute("data-offline-next") || "/";
        leave(formHook(form, "next", [form, op, next], next));
        return;
      }
      freshIds(form, "op_id");
      say(form, t("saved_offline"), "ok");
      window.scrollTo(0, 0);
      return;
    }
    resetForm(form, op);
    say(form, sent ? t("sent") : t("saved_offline"), "ok");
    // Back to the top: the message is there, and the next record starts there.
    window.scrollTo(0, 0);
  }

  // A double tap whose second tap lands after a quick save would submit the emptied
  // form and show "fields to correct": a submit of the untouched form within a second
  // of a save is that second tap, and is ignored.
  var SECOND_TAP_MS = 1000;

  function clearJustSaved(event) { event.currentTarget.removeAttribute("data-just-saved"); }

  function markJustSaved(form) {
    form.setAttribute("data-just-saved", String(Date.now()));
    form.addEventListener("input", clearJustSaved, { once: true });
    form.addEventListener("change", clearJustSaved, { once: true });
  }

  function secondTapAfterSave(form) {
    var at = Number(form.getAttribute("data-just-saved"));
    form.removeAttribute("data-just-saved");
    return Boolean(at) && Date.now() - at < SECOND_TAP_MS;
  }

  function onOfflineSubmit(event, form) {
    if (!state.user || state.dbBroken || !window.indexedDB) { return; } // the server takes the form
    event.preventDefault();
    if (form.hasAttribute("data-saving") || secondTapAfterSave(form)) { return; }
    var wrong = checkForm(form);
    if (wrong) { showErrors(form, wrong); return; }
    form.setAttribute("data-saving", "");
    var submitter = event.submitter || form.querySelector("button[type=submit]");
    setBusy(form, true);
    var op = opFromForm(form);
    var replaces = form.getAttribute("data-replaces");
    saveOp(op, replaces).then(function () {
      tellOtherTabs();
      say(form, t("sending"), "info");
      return refresh();
    }).then(function () {
      if (navigator.onLine === false) {
        markOffline();
        askBackgroundSync();
        return undefined;
      }
      return flush().then(function (outcome) {
        if (outcome !== "done" && outcome !== "empty") { askBackgroundSync(); }
      });
    }).then(function () {
      return getOp(op.id);
    }).then(function (stored) {
      form.removeAttribute("data-saving");
      setBusy(form, false);
      // The button lost the focus while it was off: give it back (errors take it next).
      if (submitter && (!document.activeElement || document.activeElement === document.body)) {
        submitter.focus({ preventScroll: true });
      }
      afterSave(form, op, stored);
      markJustSaved(form);
    }, function (error) {
      // The outbox failed (storage full, private mode): the server takes the form as
      // it is, with the same op id.
      if (window.console) { window.console.warn("Terrain: the outbox failed", error); }
      form.removeAttribute("data-saving");
      setBusy(form, false);
      state.dbBroken = true;
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  // --- Logout guard -------------------------------------------------------------------

  function logoutNow(form) {
    form.setAttribute("data-logging-out", "");
    var user = state.user;
    (user ? wipeUser(user) : Promise.resolve()).catch(noop).then(wipePages).then(function () {
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function logoutDialog(form) {
    var old = document.getElementById("logout-dialog");
    if (old) { old.remove(); }
    var status = el("p", { class: "status", role: "status", "data-dialog-status": true });
    var send = el("button", { class: "button primary wide", type: "button", text: t("send_now") });
    var discard = el("button", { class: "button danger wide", type: "button", text: t("discard_and_logout") });
    var cancel = el("button", { class: "button wide", type: "button", text: t("cancel") });
    var dialog = el("dialog", { class: "dialog", id: "logout-dialog", "aria-labelledby": "logout-dialog-text" }, [
      el("p", { id: "logout-dialog-text", text: t("logout_blocked") }),
      el("p", { class: "record-meta", text: indicatorSentence(counts(), false) }),
      status,
      el("div", { class: "actions stacked" }, [send, discard, cancel])
    ]);
    send.addEventListener("click", function () {
      if (send.getAttribute("aria-disabled") === "true") { return; }
      send.setAttribute("aria-disabled", "true");
      status.textContent = t("sending");
      state.authLost = false;
      flush().then(function (outcome) {
        return userOps(state.user).then(function (ops) {
          send.removeAttribute("aria-disabled");
          if (!ops.length) {
            dialog.close();
            logoutNow(form);
          } else if (outcome === "auth") {
            status.textContent = t("login_again");
          } else if (pendingOps(ops).length) {
            status.textContent = t("not_sent_yet");
          } else {
            status.textContent = t("problems_to_correct");
          }
        });
      }).catch(function () { send.removeAttribute("aria-disabled"); });
    });
    discard.addEventListener("click", function () {
      discard.disabled = true;
      dialog.close();
      logoutNow(form);
    });
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      var button = form.querySelector("button[type=submit]");
      if (button && !form.hasAttribute("data-logging-out")) { button.focus(); }
    });
    (document.getElementById("main") || document.body).appendChild(dialog);
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    send.focus();
  }

  function onLogoutSubmit(event, form) {
    if (!state.user || form.hasAttribute("data-logging-out")) { return; }
    event.preventDefault();
    if (state.dbBroken) { logoutNow(form); return; }
    userOps(state.user).then(function (ops) {
      state.ops = ops;
      if (ops.length) { logoutDialog(form); } else { logoutNow(form); }
    }, function () { logoutNow(form); });
  }

  // --- Wiring -----------------------------------------------------------------------

  function setupPage(root) {
    readTexts();
    each("page", root || document);
    (root || document).querySelectorAll("form[data-offline-op]").forEach(setupForm);
    renderAll();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    if (form.matches("form[data-offline-op]")) {
      onOfflineSubmit(event, form);
    } else if (form.matches("form[data-logout]")) {
      onLogoutSubmit(event, form);
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    for (var i = 0; i < modules.length; i += 1) {
      if (typeof modules[i].click === "function" && modules[i].click(target, event)) { return; }
    }
    var syncNow = target.closest("[data-sync-now]");
    if (syncNow) { onSyncNow(syncNow); return; }
    var action = target.closest("[data-outbox-list] [data-action]");
    if (action && action.tagName === "BUTTON") { onOutboxAction(action); }
  });

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control && control.form && control.form.matches("form[data-offline-op]")) {
      if (control instanceof HTMLSelectElement) { toggleNewFields(control.form); }
      formHook(control.form, "change", [control.form, control]);
    }
  });

  window.addEventListener("hashchange", function () {
    document.querySelectorAll("form[data-offline-op]").forEach(function (form) { loadDraft(form); });
    if (state.loaded) { each("render", document); }
  });

  window.addEventListener("online", function () {
    state.networkDown = false;
    storageSet("terrain.offlineSince", null); // a new outage starts a new "since"
    state.delay = FIRST_DELAY_MS;
    renderIndicator();
    window.setTimeout(function () {
      flush().then(function () { return pull(false); });
    }, Math.floor(Math.random() * ONLINE_JITTER_MS));
    keepPagesReady();
  });

  window.addEventListener("offline", markOffline);

  // Back to the app (a phone woken up, another tab left): look again, send what waits;
  // after a lost session, see whether a login happened meanwhile in another tab.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !state.user) { return; }
    var check = state.authLost && navigator.onLine !== false ? freshToken().then(function (outcome) {
      if (outcome === "ok") {
        state.authLost = false;
        renderBanner();
      }
    }) : Promise.resolve();
    check.then(refresh).then(function () {
      if (pendingOps(state.ops).length && navigator.onLine !== false) { flush(); }
    });
  });

  // A boosted navigation swapped the body: draw this page's parts again.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) {
      state.message = null;
      setupPage(document);
      refresh().then(function () { pull(false); });
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { refresh(); }
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "flush") { flush(); }
    });
  }

  // The offline page (the same for every user of the phone): the pages the worker keeps
  // for the user they belong to, and how many of that user's changes wait.
  function renderOfflineHome(home) {
    var texts = readJson("terrain-offline-page") || {};
    if (!window.caches || !window.indexedDB) { return; }
    window.caches.open(PAGES_CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (request) {
          return cache.match(request, { ignoreVary: true }).then(function (hit) {
            return { path: new URL(request.url).pathname, user: hit ? hit.headers.get("X-Terrain-User") : null };
          });
        }));
      });
    }).then(function (pages) {
      var kept = {};
      var user = null;
      pages.forEach(function (page) {
        if (page.user) { user = page.user; kept[page.path] = true; }
      });
      if (!user) { return undefined; }
      var shown = 0;
      home.querySelectorAll("[data-offline-entry]").forEach(function (item) {
        item.hidden = !kept[item.getAttribute("data-offline-entry")];
        if (!item.hidden) { shown += 1; }
      });
      home.hidden = shown === 0;
      return openDb().then(function () { return userOps(user); }).then(function (ops) {
        var waiting = pendingOps(ops).length + problems(ops).length;
        var line = home.querySelector("[data-offline-waiting]");
        var text = waiting === 1 ? texts.one : waiting ? String(texts.many || "").split("{n}").join(String(waiting)) : texts.none;
        if (line) { line.textContent = text || ""; }
      });
    }).catch(noop);
  }

  function start() {
    var home = document.querySelector("[data-offline-home]");
    if (home) { renderOfflineHome(home); return; }
    state.user = meta("terrain-user");
    readTexts();
    if (!state.user) { return; } // nobody logged in: nothing of anybody is shown
    rememberCounts();
    setupPage(document);
    if (window.BroadcastChannel) {
      state.channel = new window.BroadcastChannel("terrain-outbox");
      state.channel.onmessage = function (event) {
        if (event.data && event.data.user === state.user) { refresh(); }
      };
    }
    if (navigator.onLine === false) { markOffline(); }
    openDb().then(function () {
      return rememberUser(state.user);
    }).then(refresh).then(function () {
      if (navigator.onLine === false) { return undefined; }
      return flush().then(function (outcome) {
        return outcome === "done" ? undefined : pull(false);
      }).then(keepPagesReady);
    }).catch(function () {
      state.dbBroken = true;
      renderIndicator();
    });
  }

  // What the domain modules use: registering, and the engine's helpers.
  window.TerrainOffline = {
    register: register,
    // What the phone holds for this page's user.
    user: function () { return state.user; },
    ops: function () { return state.ops; },
    records: function (type) { return state.records[type] || {}; },
    pulledAt: function () { return state.pulledAt || 0; },
    loaded: function () { return state.loaded; },
    isOffline: isOffline,
    // Words and how things are written.
    t: t,
    labelOf: labelOf,
    fieldName: fieldName,
    numberText: numberText,
    durationText: durationText,
    showWallTime: showWallTime,
    showMoment: showMoment,
    // Pages and forms.
    el: el,
    newId: newId,
    // Forms a module drew on the page after it loaded: made ready like the page's own.
    setupForms: function (root) { root.querySelectorAll("form[data-offline-op]").forEach(setupForm); },
    readJson: readJson,
    field: field,
    say: say,
    choose: choose,
    selectedOption: selectedOption,
    isNewChoice: isNewChoice,
    toggleNewFields: toggleNewFields,
    isCreate: isCreate,
    isDraft: isDraft,
    noop: noop
  };

  // Once every script of the page ran (the modules registered; they load after this
  // file, deferred like it).
  var started = false;
  function startOnce() {
    if (started) { return; }
    started = true;
    start();
  }
  if (document.readyState === "complete") {
    window.setTimeout(startOnce, 0);
  } else {
    // Deferred scripts run before DOMContentLoaded ("load" if it passed already).
    document.addEventListener("DOMContentLoaded", startOnce);
    window.addEventListener("load", startOnce);
  }
})();
