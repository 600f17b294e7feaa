// Keyboard shortcuts of the console (docs/console.md; "?" lists them): j/k move through the
// ticket list, Enter opens, x ticks for a bulk action, / searches, r reply, n note, t take.
// Keys typed into a form field, or with Ctrl/Alt/Cmd, are the field's: never a shortcut.
(function () {
  "use strict";
  var help = document.getElementById("shortcuts");
  var current = null; // the ticket number the list's cursor is on (rows are swapped live)

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#ticket-list tbody tr"));
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (row) { return row.dataset.ticketId === current; });
    var next = all[at === -1 ? (step > 0 ? 0 : all.length - 1)
                             : Math.min(all.length - 1, Math.max(0, at + step))];
    all.forEach(function (row) { row.classList.toggle("current", row === next); });
    current = next.dataset.ticketId;
    next.querySelector("td a").focus();
  }

  function press(selector) {
    var target = document.querySelector(selector);
    if (!target) return false;
    var panel = target.closest("[role=tabpanel]"); // the composer's other tab: show it first
    if (panel && panel.hidden) {
      document.querySelector("[role=tab][aria-controls='" + panel.id + "']").click();
    }
    if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") target.focus();
    else target.click();
    return true;
  }

  var keys = {
    j: function () { move(1); return true; },
    k: function () { move(-1); return true; },
    x: function () {
      var row = rows().find(function (r) { return r.dataset.ticketId === current; });
      var box = row && row.querySelector("input[name=ticket]");
      if (!box) return false;
      box.click(); // a click, so the bulk form hears the change
      return true;
    },
    "/": function () { return press("#search-q"); },
    r: function () { return press("#reply-text"); },
    n: function () { return press("#note-text"); },
    t: function () { return press("form[action$='/take'] button"); },
    "?": function () {
      if (!help) return false;
      help.showModal();
      return true;
    }
  };

  // A live refresh replaced the rows: the cursor stays on its ticket, and the focus too
  // when it was on the replaced row (it would fall back to the page otherwise).
  document.addEventListener("hgw:swapped", function () {
    rows().forEach(function (row) {
      var here = row.dataset.ticketId === current;
      row.classList.toggle("current", here);
      if (here && document.activeElement === document.body) row.querySelector("td a").focus();
    });
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Escape" && target.matches && target.matches("input, textarea, select")) {
      target.blur(); // back to the shortcuts
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog")) {
      return;
    }
    var action = keys[event.key];
    if (action && action()) event.preventDefault();
  });
})();
