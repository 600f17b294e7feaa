// Collision detection on a ticket page: who else has the ticket open, and who is writing a
// reply to it, from the announcements the live socket passes on (gateway/console/viewers.py;
// console.js sends our own typing signal). Text goes in as textContent only.
(function () {
  "use strict";
  var line = document.getElementById("viewers");
  if (!line) return;
  // Forgotten after a few missed heartbeats (10 s each); "replying" holds 6 s after typing.
  var EXPIRY_MS = 35000, HOLD_MS = 6000;
  var others = {};

  document.addEventListener("hgw:message", function (event) {
    var message = event.detail;
    if (message.type !== "viewer" || !message.id) return;
    if (message.state === "left") {
      delete others[message.id];
    } else {
      var known = others[message.id];
      others[message.id] = {
        name: String(message.name),
        at: Date.now(),
        replyingAt: message.state === "replying" ? Date.now() : known ? known.replyingAt : 0
      };
    }
    render();
  });

  function render() {
    var now = Date.now(), people = {};
    Object.keys(others).forEach(function (id) {
      var other = others[id];
      if (now - other.at > EXPIRY_MS) { delete others[id]; return; }
      // One operator in two tabs counts once; replying in either wins.
      people[other.name] = people[other.name] || now - other.replyingAt < HOLD_MS;
    });
    var names = Object.keys(people).sort();
    line.replaceChildren();
    line.hidden = names.length === 0;
    if (!names.length) return;
    line.append(window.hgwText("Also on this ticket: "));
    names.forEach(function (name, i) {
      var who = document.createElement("span");
      who.className = people[name] ? "replying" : "viewing";
      who.textContent = window.hgwText(people[name] ? "%(name)s is replying"
                                                    : "%(name)s is viewing", { name: name });
      if (i) line.append(" · ");
      line.append(who);
    });
  }
  setInterval(render, 1000); // expiry, and "replying" turning back into "viewing"
})();
