// @mentions in the internal note: typing "@" and a few letters offers the colleagues who
// may open this ticket (/console/tickets/N/mentionable, fetched once); choosing one writes
// "@login". The server decides who is mentioned; an unknown @name stays text.
(function () {
  "use strict";
  var box = document.getElementById("note-text");
  if (!box || !box.form) return;
  var url = box.form.getAttribute("action").replace(/\/note$/, "/mentionable");
  var list = document.createElement("ul");
  list.id = "mention-list";
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", window.hgwText("Colleagues to mention"));
  list.hidden = true;
  box.insertAdjacentElement("afterend", list);
  box.setAttribute("aria-controls", list.id);
  var people = null, shown = [], active = 0;

  function word() {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[^\w@])@([\w.\-]*)$/.exec(before);
    return match ? match[2] : null;
  }

  function close() { list.hidden = true; shown = []; }

  function render() {
    list.replaceChildren();
    shown.forEach(function (p, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = "mention-" + i;
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      item.dataset.username = p.username;
      item.textContent = p.name + " (@" + p.username + ")";
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(p);
      });
      list.appendChild(item);
    });
    list.hidden = !shown.length;
  }

  function choose(person) {
    var typed = word();
    if (typed === null) return;
    var end = box.selectionStart;
    box.setRangeText(person.username + " ", end - typed.length, end, "end");
    close();
    box.focus();
  }

  function offer() {
    var typed = word();
    if (typed === null) { close(); return; }
    if (people === null) {
      people = [];
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : { operators: [] }; })
        .then(function (data) { people = data.operators; offer(); })
        .catch(function () { /* no suggestions: typing the name still works */ });
      return;
    }
    var lower = typed.toLowerCase();
    shown = people.filter(function (p) {
      return p.username.toLowerCase().indexOf(lower) === 0 ||
        p.name.toLowerCase().indexOf(lower) === 0;
    }).slice(0, 8);
    active = 0;
    render();
  }

  box.addEventListener("input", offer);
  box.addEventListener("blur", close);
  box.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      if (event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      choose(shown[active]);
    } else if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
})();
