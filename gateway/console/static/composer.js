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

// Files with a reply: the chosen files are listed with their sizes, files dropped on the
// reply form join them, and a file over the limits is said at once (the server checks
// the same limits, and the type by content, whatever this script lets through).
(function () {
  "use strict";
  var box = document.querySelector(".reply-files");
  if (!box) return;
  var input = document.getElementById("reply-files");
  var list = document.getElementById("reply-file-list");
  var form = input.form;
  var text = document.getElementById("reply-text");
  var maxBytes = Number(box.dataset.maxBytes), totalBytes = Number(box.dataset.totalBytes);
  var maxFiles = Number(box.dataset.maxFiles);

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function problem(files) {
    var total = 0;
    if (files.length > maxFiles) {
      return window.hgwText("At most %(num)s files can be sent with one reply.", { num: maxFiles });
    }
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxBytes) {
        return window.hgwText("%(name)s is larger than %(size)s.",
                              { name: files[i].name, size: size(maxBytes) });
      }
      total += files[i].size;
    }
    return total > totalBytes
      ? window.hgwText("The files together are larger than %(size)s.", { size: size(totalBytes) })
      : "";
  }

  function show() {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + size(file.size) + ")";
      list.appendChild(item);
    });
    var wrong = problem(input.files);
    input.setCustomValidity(wrong);
    if (wrong) {
      var note = document.createElement("li");
      note.className = "error";
      note.setAttribute("role", "alert");
      note.textContent = wrong;
      list.appendChild(note);
    }
    text.required = input.files.length === 0;  // a reply may be files alone
  }

  input.addEventListener("change", show);
  form.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      box.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", function () { box.classList.remove("dropping"); });
  form.addEventListener("drop", function (event) {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    box.classList.remove("dropping");
    var merged = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { merged.items.add(file); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { merged.items.add(file); });
    input.files = merged.files;
    show();
  });
  show();
})();
