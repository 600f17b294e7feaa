// Notifications for the logged-in operator: the live socket (console.js) says "notify", and
// this asks /console/notifications/unread for the operator's own unread notifications, shows
// the new ones as toasts, puts the unread count in the tab title and the header, and, once
// the operator has switched them on with a click, as desktop notifications while the tab is
// not in front (in front the toast says it; both would tell the operator twice).
// Text goes in through textContent only.
(function () {
  "use strict";
  var count = document.getElementById("notify-count");
  if (!count) return; // not logged in
  var toasts = document.getElementById("toasts");
  var desktop = document.getElementById("desktop-notify");
  var title = document.title;
  var offText = desktop ? desktop.textContent : "", onText = desktop ? desktop.dataset.on : "";
  var KEY = "hgw-notify-last", TOAST_MS = 12000;
  // The newest notification this tab has seen (kept across its pages); none yet: the first
  // look only takes note of what is there.
  var seen = sessionStorage.getItem(KEY), last = Number(seen || 0), started = seen !== null;

  function showCount(unread) {
    count.textContent = unread ? String(unread) : "";
    count.hidden = !unread;
    count.setAttribute("aria-label", window.hgwCount(
      "%(num)s unread notification", "%(num)s unread notifications", unread));
    document.title = (unread ? "(" + unread + ") " : "") + title;
  }

  function desktopOn() {
    return "Notification" in window && Notification.permission === "granted" &&
      localStorage.getItem("hgw-desktop") === "on";
  }

  function toast(item) {
    if (!toasts) return;
    var box = document.createElement("div");
    box.className = "toast toast-" + item.kind;
    box.dataset.notification = String(item.id);
    var head = document.createElement("strong");
    head.textContent = item.title;
    var body = document.createElement("p");
    body.textContent = item.text;
    var open = document.createElement("a");
    open.href = item.url;
    open.textContent = toasts.dataset.open || "Open";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link small";
    close.textContent = toasts.dataset.dismiss || "Dismiss";
    close.addEventListener("click", function () { box.remove(); });
    box.append(head, body, open, " ", close);
    toasts.appendChild(box);
    setTimeout(function () { box.remove(); }, TOAST_MS);
    if (desktopOn() && document.visibilityState === "hidden") {
      var note = new Notification(item.title, { body: item.text, tag: "hgw-" + item.id });
      note.onclick = function () { window.focus(); location.assign(item.url); };
    }
  }

  var busy = false, again = false;
  function check() {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/console/notifications/unread?after=" + last,
          { credentials: "same-origin", cache: "no-store", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        showCount(data.unread);
        var fresh = data.items.slice().reverse(); // oldest first
        if (started) fresh.forEach(toast);
        fresh.forEach(function (item) { last = Math.max(last, item.id); });
        started = true;
        sessionStorage.setItem(KEY, String(last));
      })
      .catch(function () { /* offline: the next signal asks again */ })
      .finally(function () {
        busy = false;
        if (again) { again = false; check(); }
      });
  }

  document.addEventListener("hgw:message", function (event) {
    if (event.detail && event.detail.type === "notify") check();
  });

  // Desktop notifications are asked for only after a click on the control.
  function showControl() {
    if (!desktop || !("Notification" in window)) return;
    var on = desktopOn();
    desktop.hidden = Notification.permission === "denied";
    desktop.textContent = on ? onText : offText;
    desktop.setAttribute("aria-pressed", on ? "true" : "false");
  }
  if (desktop) {
    desktop.addEventListener("click", function () {
      if (desktopOn()) {
        localStorage.setItem("hgw-desktop", "off");
        showControl();
        return;
      }
      Notification.requestPermission().then(function (permission) {
        localStorage.setItem("hgw-desktop", permission === "granted" ? "on" : "off");
        showControl();
      });
    });
  }
  showControl();

  // A ticket page read is its notifications read (the toast's "Open" comes here too).
  var onTicket = /^\/console\/tickets\/(\d+)$/.exec(location.pathname);
  var csrf = document.querySelector("input[name=csrf]");
  if (onTicket && csrf) {
    fetch("/console/notifications/read", {
      method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
      body: new URLSearchParams({ csrf: csrf.value, ticket: onTicket[1] })
    }).catch(function () {}).finally(check);
  } else {
    check();
  }
})();
