// Bulk actions on the ticket list: "select all", the count of ticked tickets, and only the
// fields of the chosen action shown. The form works without this script too (all fields).
(function () {
  "use strict";
  var form = document.getElementById("bulk");
  if (!form) return;
  var action = document.getElementById("bulk-action");
  var count = document.getElementById("bulk-count");
  var button = form.querySelector("button[type=submit]");

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[name=ticket][form=bulk]"));
  }

  function update() {
    var ticked = boxes().filter(function (box) { return box.checked; }).length;
    count.textContent = ticked
      ? window.hgwCount("%(num)s ticket selected", "%(num)s tickets selected", ticked)
      : window.hgwText("Tick tickets to change several at once.");
    button.disabled = ticked === 0;
    var all = document.getElementById("select-all");
    if (all) all.checked = ticked > 0 && ticked === boxes().length;
  }

  function fields() {
    form.querySelectorAll("[data-for]").forEach(function (part) {
      part.hidden = part.dataset.for.split(" ").indexOf(action.value) === -1;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.id === "select-all" || event.target.name === "ticket") update();
  });
  document.addEventListener("hgw:swapped", update);
  action.addEventListener("change", fields);
  fields();
  update();
})();
