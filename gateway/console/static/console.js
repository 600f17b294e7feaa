// helpdesk-gateway operator console: keep the open page current without reloading it.
// /console/ws only says "something changed"; the page then fetches itself and swaps the
// regions marked data-live, so everything shown passes the same access checks as a load.
(function () {
  "use strict";

  // Ctrl+Enter (Cmd+Enter) in a text box submits its form.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form &&
        box.tagName === "TEXTAREA") {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });

  var path = document.body.dataset.live;
  if (!path) return;
  var status = document.getElementById("live-status");
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var busy = false, again = false, delay = 500;

  function show(text, on) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", on);
  }

  function swap(doc) {
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var fresh = doc.getElementById(old.id);
      if (fresh && fresh.innerHTML !== old.innerHTML) {
        old.replaceWith(document.importNode(fresh, true));
      }
    });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname === "/console/login") {
          location.assign(response.url); // the session ended: log in again
          return null;
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

  function connect() {
    var ws = new WebSocket(url);
    ws.onopen = function () {
      delay = 500;
      show("live", true);
      refresh(); // catch up on whatever changed while the socket was not there
    };
    ws.onmessage = function (event) {
      if (JSON.parse(event.data).type === "changed") refresh();
    };
    ws.onclose = function () {
      show("reconnecting…", false);
      refresh(); // a refused socket may mean the session ended: the fetch finds out
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  connect();
})();
