// One composer on a ticket page: Reply and Internal note as two tabs over the same place
// (without this script both forms are simply shown one above the other). A draft in the
// hidden tab is kept; "r" and "n" (shortcuts.js) switch to their tab.
(function () {
  "use strict";
  var tabs = document.querySelector(".composer-tabs");
  if (!tabs) return;
  var buttons = Array.prototype.slice.call(tabs.querySelectorAll("[role=tab]"));

  function choose(chosen) {
    buttons.forEach(function (tab) {
      var on = tab === chosen;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    });
  }

  buttons.forEach(function (tab) {
    tab.addEventListener("click", function () { choose(tab); });
    tab.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      var next = buttons[(buttons.indexOf(tab) + 1) % buttons.length];
      next.focus();
      choose(next);
    });
  });
  tabs.hidden = false;
  choose(buttons[0]);
})();
