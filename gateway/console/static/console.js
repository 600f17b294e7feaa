// helpdesk-gateway operator console: keep the open page current without reloading it, and
// offer the knowledge base's answers and the macros for the reply box (inserted at the cursor).
// /console/ws only says "something changed"; the page then fetches itself and swaps the
// regions marked data-live, so everything shown passes the same access checks as a load.
// Nothing here builds HTML from data: text goes in through textContent only.
(function () {
  "use strict";

  // The scripts' texts in the page's language (the body's data-messages, from
  // gateway/console/i18n.py SCRIPT_MESSAGES): the English text is the key and the fallback.
  var said = null;
  function messages() {
    if (said === null) {
      try { said = JSON.parse(document.body.dataset.messages || "{}"); } catch (e) { said = {}; }
    }
    return said;
  }
  function fill(text, values) {
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }
  window.hgwText = function (text, values) {
    var found = messages()[text];
    return fill(typeof found === "string" ? found : text, values);
  };
  window.hgwCount = function (singular, plural, n, values) {
    var forms = messages()[singular];
    var one = n === 1 || (n === 0 && document.documentElement.lang === "fr");
    var text = Array.isArray(forms) ? forms[one ? 0 : 1] : one ? singular : plural;
    return fill(text, Object.assign({ num: n }, values || {}));
  };
  var t = window.hgwText;

  // Ctrl+Enter (Cmd+Enter) in a text box submits its form.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form &&
        box.tagName === "TEXTAREA") {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });

  // Where the operator's cursor is in the reply box (a textarea keeps its selection while
  // another box has the focus); never touched: the end of the draft.
  var reply = document.getElementById("reply-text"), touched = false;
  if (reply) {
    ["focus", "keyup", "mouseup", "select"].forEach(function (name) {
      reply.addEventListener(name, function () { touched = true; });
    });
  }

  // Text for the reply (a canned answer, a macro's) goes in at the cursor, replacing only a
  // selection: the draft is kept. Whether there was a draft (null: no reply box).
  function insertReply(text) {
    if (!reply) return null;
    var draft = reply.value;
    var start = touched ? reply.selectionStart : draft.length;
    var end = touched ? reply.selectionEnd : draft.length;
    var before = draft.slice(0, start), after = draft.slice(end);
    reply.focus();
    reply.setRangeText((before && !/\n\s*$/.test(before) ? "\n\n" : "") + text +
      (after && !/^\s*\n/.test(after) ? "\n\n" : ""), start, end, "end");
    touched = true;
    return Boolean(draft.trim());
  }

  cannedAnswers();
  macros();

  var path = document.body.dataset.live;
  if (!path) return;
  var status = document.getElementById("live-status");
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var busy = false, again = false, delay = 500, gone = false;

  function show(text, on) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", on);
  }

  function swap(doc) {
    // Ticked boxes (data-keep: the list's selection for a bulk action) survive the swap.
    var ticked = Array.prototype.map.call(
      document.querySelectorAll("input[data-keep]:checked"),
      function (box) { return box.name + "=" + box.value; });
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var fresh = doc.getElementById(old.id);
      if (!fresh || fresh.innerHTML === old.innerHTML) return;
      if (old.hasAttribute("aria-live")) {
        // Keep a live region in place (screen readers announce changes to its content).
        old.replaceChildren.apply(old, Array.prototype.map.call(fresh.childNodes, function (n) {
          return document.importNode(n, true);
        }));
      } else {
        old.replaceWith(document.importNode(fresh, true));
      }
    });
    document.querySelectorAll("input[data-keep]").forEach(function (box) {
      if (ticked.indexOf(box.name + "=" + box.value) !== -1) box.checked = true;
    });
    document.dispatchEvent(new CustomEvent("hgw:swapped"));
  }

  // The ticket was taken out of our sight (e.g. transferred to another queue): show the
  // server's own 403/404 page content instead of a stale ticket.
  function lost(doc) {
    var main = document.getElementById("main"), fresh = doc.getElementById("main");
    if (!main || !fresh) return;
    gone = true;
    main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (n) {
      return document.importNode(n, true);
    }));
    document.title = doc.title;
    main.focus();
  }

  function refresh() {
    if (gone) return;
    if (busy) { again = true; return; }
    busy = true;
    // Marked as a live refresh: it must not count as the operator's activity (idle timeout).
    fetch(location.href, { credentials: "same-origin", cache: "no-store",
                           headers: { "X-Live-Refresh": "1" } })
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname === "/console/login") {
          location.assign(response.url); // the session ended: log in again
          return null;
        }
        if (response.status === 403 || response.status === 404) {
          return response.text().then(function (html) {
            lost(new DOMParser().parseFromString(html, "text/html"));
            return null;
          });
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) swap(new DOMParser().parseFromString(html, "text/html"));
      })
      .catch(function () { /* offline: the next signal or reconnect refreshes */ })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // A wave of signals (an SLA alarm wave, a bulk change) becomes one refresh: wait for a
  // quiet moment, but never more than a few seconds after the first signal.
  var quiet = null, first = 0, QUIET_MS = 400, MAX_WAIT_MS = 3000;
  function soon() {
    var now = Date.now();
    if (quiet === null) first = now;
    clearTimeout(quiet);
    var wait = Math.max(0, Math.min(QUIET_MS, first + MAX_WAIT_MS - now));
    quiet = setTimeout(function () { quiet = null; refresh(); }, wait);
  }

  var live = null; // the open socket, for the typing signal
  function connect() {
    if (gone) return;
    var ws = live = new WebSocket(url);
    ws.onopen = function () {
      delay = 500;
      show(t("live"), true);
      refresh(); // catch up on whatever changed while the socket was not there
    };
    ws.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "changed") soon();
      // Anything else is for the page's other scripts (viewers.js: who else is here).
      else document.dispatchEvent(new CustomEvent("hgw:message", { detail: data }));
    };
    ws.onclose = function () {
      show(gone ? t("offline") : t("reconnecting…"), false);
      refresh(); // a refused socket may mean the session ended: the fetch finds out
      if (!gone) setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  connect();

  // Writing a reply: the customer's open chat shows "<name> is typing…" and colleagues on the
  // ticket "<name> is replying" (a signal every 3 s).
  var typedAt = 0;
  document.addEventListener("input", function (event) {
    if (event.target.id !== "reply-text" || !live || live.readyState !== 1) return;
    if (Date.now() - typedAt < 3000) return;
    typedAt = Date.now();
    live.send(JSON.stringify({ type: "typing" }));
  });

  // Canned answers: fetch the KB's answers in the customer's language once, filter them as
  // the operator types, and put the chosen one in the reply box (to edit before sending).
  function cannedAnswers() {
    var box = document.getElementById("canned");
    if (!box) return;
    var filter = document.getElementById("canned-filter");
    var list = document.getElementById("canned-list");
    var note = document.getElementById("canned-status");
    var answers = [];

    function fold(text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    }

    function render() {
      var words = fold(filter.value).split(/\s+/).filter(Boolean);
      function all(text) {
        return words.every(function (w) { return text.indexOf(w) !== -1; });
      }
      // Everything that matches, best first: in the title, in the questions, anywhere.
      var shown = answers.filter(function (a) { return all(a.haystack); })
        .map(function (a, i) {
          return { a: a, i: i, rank: all(a.title_) ? 0 : all(a.questions_) ? 1 : 2 };
        })
        .sort(function (x, y) { return x.rank - y.rank || x.i - y.i; })
        .map(function (x) { return x.a; });
      list.replaceChildren();
      shown.forEach(function (a) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "canned-choice";
        button.dataset.articleId = a.id;
        button.textContent = a.title;
        if (a.language !== box.dataset.language) {
          var lang = document.createElement("span");
          lang.className = "muted";
          lang.textContent = " (" + a.language + ")";
          button.appendChild(lang);
        }
        button.addEventListener("click", function () { use(a); });
        item.appendChild(button);
        list.appendChild(item);
      });
      note.textContent = t(words.length ? "%(shown)s of %(total)s answers match"
                                        : "%(shown)s of %(total)s answers",
                           { shown: shown.length, total: answers.length });
    }

    function use(answer) {
      var kept = insertReply(answer.answer);
      if (kept === null) return;
      note.textContent = t(kept
        ? "Inserted “%(title)s” at the cursor; your draft is kept. Edit it, then send."
        : "Inserted “%(title)s” into the reply box. Edit it, then send.",
        { title: answer.title });
    }

    fetch(box.dataset.answers, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        box.dataset.language = data.language;
        answers = data.answers.map(function (a) {
          a.title_ = fold(a.title);
          a.questions_ = fold(a.questions.join(" "));
          a.haystack = fold([a.title, a.id, a.category, a.answer].concat(a.questions).join(" "));
          return a;
        });
        filter.addEventListener("input", render);
        // Enter in the search box picks the first match rather than submitting anything.
        filter.addEventListener("keydown", function (event) {
          if (event.key === "Enter") {
            event.preventDefault();
            var first = list.querySelector("button");
            if (first) first.click();
          }
        });
        render();
      })
      .catch(function () { note.textContent = t("The answers could not be loaded."); });
  }

  // Macros: the server applies the changes (status, priority, tags; audited), then the
  // macro's text goes into the reply box at the cursor, to edit before sending.
  function macros() {
    var box = document.getElementById("macros");
    if (!box) return;
    var note = document.getElementById("macro-status");
    box.querySelectorAll("button[data-macro]").forEach(function (button) {
      button.addEventListener("click", function () {
        var body = new URLSearchParams({ csrf: box.dataset.csrf, macro: button.dataset.macro });
        note.textContent = t("Applying “%(macro)s”…", { macro: button.dataset.macro });
        fetch(box.dataset.action, { method: "POST", credentials: "same-origin", body: body,
                                    headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.json();
          })
          .then(function (data) {
            var kept = data.text ? insertReply(data.text) : null;
            note.textContent = (data.applied.length
              ? t("Applied “%(macro)s”: %(changes)s.",
                  { macro: data.macro, changes: data.applied.join(", ") })
              : t("Applied “%(macro)s”.", { macro: data.macro })) +
              (kept === null ? "" : " " + (kept
                ? t("Its text is in the reply box; your draft is kept.")
                : t("Its text is in the reply box: edit it, then send.")));
          })
          .catch(function (error) {
            note.textContent = t("The macro could not be applied (%(error)s).",
                                 { error: error.message });
          });
      });
    });
  }

  // The ticket page's side actions (transfer, fields, follow-up, merge, wrap-up) fold away;
  // the ones an operator opens stay open on the next ticket (this browser only).
  var REMEMBER = "hgw.open-panels";
  var remembered = [];
  try { remembered = JSON.parse(window.localStorage.getItem(REMEMBER) || "[]"); } catch (e) {}
  document.querySelectorAll("details[data-remember]").forEach(function (panel) {
    if (remembered.indexOf(panel.id) >= 0) panel.open = true;
    panel.addEventListener("toggle", function () {
      var open = [];
      document.querySelectorAll("details[data-remember]").forEach(function (other) {
        if (other.open) open.push(other.id);
      });
      try { window.localStorage.setItem(REMEMBER, JSON.stringify(open)); } catch (e) {}
    });
  });
})();
