// The conversation log: scrolling, presence (times, initials, typing) and each message.
// (Part 2 of 4 of /chat/static/widget.js.)
  var shown = {};      // message id -> true
  var pendingNodes = {}; // client_id -> node

  // Scrolling: follow new messages while the customer is at the bottom (or where the widget
  // last put them), but never past the start of the first reply since their own last
  // message: a reply taller than the log is read from its start, not its end.
  // While closed nothing is read: the first reply then is where opening the chat shows.
  var firstReply = null, autoTop = -1;
  function append(node, mine) {
    var atBottom = isOpen() && log.scrollTop >= log.scrollHeight - log.clientHeight - 24;
    var follow = mine || atBottom || Math.abs(log.scrollTop - autoTop) < 2;
    if (mine || atBottom) firstReply = null; // read to the end: nothing above to keep in view
    log.appendChild(node);
    if (!mine && !firstReply) firstReply = node;
    if (follow) reveal();
  }
  function reveal() {
    var bottom = log.scrollHeight - log.clientHeight;
    log.scrollTop = firstReply ? Math.min(bottom, firstReply.offsetTop - 8) : bottom;
    autoTop = log.scrollTop;
  }

  // Presence: when each message was written, who wrote it (an operator's initials), and
  // "Sam is typing…" while an operator writes a reply (cleared by it, or after 6 s).
  function stamp(node, iso) {
    var at = iso ? new Date(iso) : new Date();
    var time = node.querySelector("time") || node.appendChild(el("time", "hgw-time"));
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString(navigator.language || lang,  // en-GB 14:05
                                             { hour: "2-digit", minute: "2-digit" });
  }
  function initials(name) {
    var words = name.trim().split(/\s+/);
    var first = words[0] || "", last = words.length > 1 ? words[words.length - 1] : "";
    return (first.charAt(0) + last.charAt(0)).toUpperCase();
  }
  var typingTimer = null;
  function showTyping(name) {
    clearTimeout(typingTimer);
    typing.textContent = name ? L.typing.replace("{name}", name) : "";
    if (name) typingTimer = setTimeout(function () { showTyping(""); }, 6000);
  }

  function customerBubble(text, pending, files) {
    var node = el("li", "hgw-msg hgw-customer" + (pending ? " hgw-pending" : ""));
    if (text) node.appendChild(el("div", "hgw-body", text));
    (files || []).forEach(function (f) { node.appendChild(el("div", "hgw-file", f.name)); });
    return node;
  }

  // Files an operator sent: one button each; the file is fetched with the session in the
  // form body (never in a URL) and saved under its name.
  function size(bytes) {
    return bytes < 1048576 ? Math.max(1, Math.round(bytes / 1024)) + " KB"
      : (bytes / 1048576).toFixed(1) + " MB";
  }
  function fileLinks(files) {
    var list = el("ul", "hgw-files");
    files.forEach(function (f) {
      var item = el("li");
      var b = el("button", "hgw-file", f.name + " (" + size(f.size) + ")");
      b.type = "button";
      b.addEventListener("click", function () { download(f, item); });
      item.appendChild(b);
      list.appendChild(item);
    });
    return list;
  }
  function download(f, item) {
    var data = new FormData();
    data.append("session", state.session || "");
    var old = item.querySelector(".hgw-error");
    if (old) old.remove();
    fetch(base.origin + "/chat/files/" + f.id, { method: "POST", body: data }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob), a = document.createElement("a");
      a.href = url; a.download = f.name; a.hidden = true;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }).catch(function () {
      var why = el("div", "hgw-error", L.offline);
      why.setAttribute("role", "alert");
      item.appendChild(why);
    });
  }

  function showCustomer(clientId, text, pending) {
    var node = customerBubble(text, pending);
    stamp(node, null);
    node.dataset.clientId = clientId;
    append(node, true);
    pendingNodes[clientId] = node;
  }

  function showMessage(m) {
    if (shown[m.id]) return;
    shown[m.id] = true;
    if (m.id > lastSeen) lastSeen = m.id;
    if (isOpen()) { state.seen = Math.max(state.seen || 0, m.id); save(); markSeen(); }
    else if (m.author !== "customer" && m.id > (state.seen || 0)) { unread += 1; showUnread(); }
    if (m.author === "customer") {
      var own = log.querySelector('[data-message-id="' + m.id + '"]');
      if (!own && m.client_id && pendingNodes[m.client_id]) {
        // our own message, stored though its ack was lost: that bubble, moved into its place
        acknowledged(m.client_id, m.id);
        own = pendingNodes[m.client_id];
        stamp(own, m.created_at);
        append(own, true);
      }
      if (!own) {
        var n = customerBubble(m.text, false, m.attachments);
        n.dataset.messageId = m.id;
        stamp(n, m.created_at);
        append(n, true);
      }
      return;
    }
    var node = el("li", "hgw-msg hgw-" + m.author);
    node.dataset.messageId = m.id;
    node.dataset.kind = m.kind || "";
    var who = el("span", "hgw-who");
    if (m.author === "operator") {
      var name = m.operator || "Operator";
      var avatar = el("span", "hgw-avatar", initials(name));
      avatar.setAttribute("aria-hidden", "true");
      who.appendChild(avatar);
      who.appendChild(document.createTextNode(name));
      showTyping("");
    } else {
      who.textContent = L.bot;
    }
    node.appendChild(who);
    var body = el("div", "hgw-body");
    if (m.html) { body.innerHTML = m.html; } else { body.textContent = m.text; }
    node.appendChild(body);
    if (m.files && m.files.length) node.appendChild(fileLinks(m.files));
    if (m.choices && m.choices.length) {
      var choices = el("div", "hgw-actions");
      m.choices.forEach(function (label, i) {
        var b = el("button", null, label);
        b.type = "button";
        b.addEventListener("click", function () { post(String(i + 1)); });
        choices.appendChild(b);
      });
      node.appendChild(choices);
    }
    if (m.feedback) {
      var fb = el("div", "hgw-actions hgw-feedback");
      fb.setAttribute("aria-label", L.helped);
      var yes = el("button", null, L.yes); yes.type = "button";
      var no = el("button", null, L.no); no.type = "button";
      yes.addEventListener("click", function () { post(L.yes, "helpful"); fb.remove(); });
      no.addEventListener("click", function () { post(L.no, "not_helpful"); fb.remove(); });
      fb.appendChild(yes); fb.appendChild(no);
      node.appendChild(fb);
    }
    if (m.survey) node.appendChild(surveyForm(m.survey));
    if (m.kind === "handoff") {
      // a person takes over: "Did this help?" under earlier answers has nothing left to ask
      log.querySelectorAll(".hgw-feedback").forEach(function (f) { f.remove(); });
    }
    stamp(node, m.created_at);
    append(node, false);
    if (m.kind === "handoff") offerFollowUp();  // after the hand-off's own words
  }

  // The satisfaction survey: a score 1-5, then an optional comment and Send. The answer
  // goes over HTTP as a form post (no preflight when the widget is on another site).
  function surveyForm(sv) {
    var box = el("div", "hgw-survey");
    state.surveys = state.surveys || {};
    if (state.surveys[sv.token]) { box.appendChild(el("p", "hgw-survey-done", sv.thanks)); return box; }
    var scores = el("div", "hgw-actions hgw-scores");
    scores.setAttribute("role", "group");
    scores.setAttribute("aria-label", "1 = " + sv.low + ", " + sv.scale + " = " + sv.high);
    var chosen = 0;
    var more = el("div", "hgw-survey-more");
    more.hidden = true;
    var comment = el("textarea", "hgw-survey-comment");
    comment.setAttribute("aria-label", sv.comment);
    comment.placeholder = sv.comment;
    comment.maxLength = 2000;
    var send = el("button", null, sv.send); send.type = "button";
    for (var n = 1; n <= sv.scale; n++) {
      (function (score) {
        var b = el("button", null, String(score));
        b.type = "button";
        b.setAttribute("aria-pressed", "false");
        if (score === 1) b.title = sv.low;
        if (score === sv.scale) b.title = sv.high;
        b.addEventListener("click", function () {
          chosen = score;
          scores.querySelectorAll("button").forEach(function (o) {
            o.setAttribute("aria-pressed", o === b ? "true" : "false");
          });
          more.hidden = false;
          comment.focus();
        });
        scores.appendChild(b);
      })(n);
    }
    function done(text) {
      box.textContent = "";
      var p = el("p", "hgw-survey-done", text);
      p.setAttribute("role", "status");
      box.appendChild(p);
    }
    send.addEventListener("click", function () {
      if (!chosen) return;
      send.disabled = true;
      var form = new URLSearchParams();
      form.append("score", String(chosen));
      form.append("comment", comment.value);
      fetch(base.origin + "/surveys/" + encodeURIComponent(sv.token), {
        method: "POST", body: form, headers: { "Accept": "application/json" }
      }).then(function (r) {
        return r.json().then(function (body) {
          if (r.ok || r.status === 409) {
            state.surveys[sv.token] = true; save();
            done(r.ok ? body.text || sv.thanks : sv.used);
          } else { send.disabled = false; done(body.error || String(r.status)); }
        });
      }).catch(function () { send.disabled = false; });
    });
    more.appendChild(comment);
    more.appendChild(send);
    box.appendChild(scores);
    box.appendChild(more);
    return box;
  }

  // "Seen" under the customer's newest message the desk has had on screen (one mark).
  function showRead(upto) {
    var mine = Array.prototype.filter.call(log.querySelectorAll(".hgw-customer[data-message-id]"),
      function (li) { return Number(li.dataset.messageId) <= upto; });
    var last = mine[mine.length - 1];
    if (!last || last.querySelector(".hgw-read")) return;
    log.querySelectorAll(".hgw-read").forEach(function (n) { n.remove(); });
    last.appendChild(el("span", "hgw-read", L.seen));
  }

  // An acknowledged bubble goes in its place: before the first message stored after it (its
  // reply can arrive before its ack), else at the end (kept across a reload above the history).
  function place(node, messageId) {
    var later = Array.prototype.find.call(log.children, function (li) {
      return li !== node && Number(li.dataset.messageId) > messageId;
    });
    if (later) log.insertBefore(node, later); else append(node, true);
  }

  function acknowledged(clientId, messageId) {
    state.pending = state.pending.filter(function (p) { return p.client_id !== clientId; });
    save();
    var node = pendingNodes[clientId];
    if (node) {
      node.classList.remove("hgw-pending");
      node.dataset.messageId = messageId;
    }
    shown[messageId] = true;
  }
