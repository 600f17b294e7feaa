// helpdesk-gateway web chat widget: one WebSocket, reconnect with backoff, nothing lost.
// Unacknowledged messages live in localStorage and are resent after a reconnect; the
// gateway deduplicates them by client_id. Customer text is always rendered as text.
// The session is the gateway's: hello offers the stored one, welcome says which one to keep
// (a new one when the gateway does not know the stored one). A site that knows its customer
// passes data-customer-id and data-customer-hash (HMAC-SHA256 of the id, computed by the
// site's server) on the script tag: each signed customer keeps a conversation of their own.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href) : new URL(location.href);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/chat/ws";
  var store = window.localStorage;
  var embed = script ? script.dataset : {};
  var signed = embed.customerId && embed.customerHash
    ? { id: embed.customerId, hash: embed.customerHash } : null;
  var KEY = "hgw-chat:" + base.host + (signed ? ":" + signed.id : "");
  var state = JSON.parse(store.getItem(KEY) || "{}");
  state.pending = state.pending || [];
  var lastSeen = 0; // a fresh page asks for the whole conversation; a reconnect for what it missed
  var lang = (navigator.language || "en").slice(0, 2);
  var L = {
    en: { title: "Support", send: "Send", placeholder: "Type your question…", online: "online",
          offline: "reconnecting…", yes: "Yes, thanks", no: "No, talk to a person", you: "You",
          bot: "Assistant", helped: "Did this help?", open: "Open chat", close: "Close chat",
          unread: "new messages", typing: "{name} is typing…",
          restart: "New conversation", attach: "Attach a photo or PDF" },
    fr: { title: "Support", send: "Envoyer", placeholder: "Posez votre question…", online: "en ligne",
          offline: "reconnexion…", yes: "Oui, merci", no: "Non, parler à quelqu'un", you: "Vous",
          bot: "Assistant", helped: "Cela vous a-t-il aidé ?", open: "Ouvrir le chat",
          close: "Fermer le chat", unread: "nouveaux messages", typing: "{name} écrit…",
          restart: "Nouvelle conversation", attach: "Joindre une photo ou un PDF" },
    nl: { title: "Klantendienst", send: "Verstuur", placeholder: "Stel uw vraag…", online: "online",
          offline: "opnieuw verbinden…", yes: "Ja, bedankt", no: "Nee, met iemand praten", you: "U",
          bot: "Assistent", helped: "Heeft dit geholpen?", open: "Chat openen",
          close: "Chat sluiten", unread: "nieuwe berichten", typing: "{name} typt…",
          restart: "Nieuw gesprek", attach: "Foto of pdf bijvoegen" },
    de: { title: "Kundendienst", send: "Senden", placeholder: "Ihre Frage…", online: "online",
          offline: "verbinde neu…", yes: "Ja, danke", no: "Nein, mit einem Menschen sprechen",
          you: "Sie", bot: "Assistent", helped: "Hat das geholfen?", open: "Chat öffnen",
          close: "Chat schließen", unread: "neue Nachrichten", typing: "{name} schreibt…",
          restart: "Neues Gespräch", attach: "Foto oder PDF anhängen" }
  };
  L = L[lang] || L.en;

  function save() { store.setItem(KEY, JSON.stringify(state)); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Embedders add only the script: it brings its styles, then the desk's colours and side.
  ["/chat/static/widget.css", "/chat/theme.css"].forEach(function (path) {
    if (document.querySelector('link[href$="' + path + '"]')) return;
    var sheet = el("link");
    sheet.rel = "stylesheet";
    sheet.href = base.origin + path;
    document.head.appendChild(sheet);
  });
  var ICON = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
    '<path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6' +
    'a2 2 0 0 1 2-2z"/></svg>';
  var CROSS = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
    '<path stroke="currentColor" stroke-width="2.5" stroke-linecap="round" d="M6 6l12 12M18 6 6 18"/>' +
    '</svg>';

  var RESTART = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">' +
    '<path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" ' +
    'd="M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4"/></svg>';
  var CLIP = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
    '<path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M20 11.5 ' +
    '12.2 19.3a5 5 0 0 1-7.1-7.1l8.1-8.1a3.3 3.3 0 0 1 4.7 4.7l-8.1 8.1a1.7 1.7 0 0 1-2.4-2.4' +
    'L14.8 7"/></svg>';
  var launcher = el("button", "hgw-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "hgw-chat");
  launcher.innerHTML = ICON;  // a constant: no text from outside reaches innerHTML here
  var badge = el("span", "hgw-badge");
  badge.setAttribute("aria-hidden", "true");
  launcher.appendChild(badge);

  var root = el("section", "hgw-chat");
  root.id = "hgw-chat";
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-labelledby", "hgw-title");
  var header = el("header");
  var titles = el("div", "hgw-titles");
  var heading = el("h2", null, L.title);
  heading.id = "hgw-title";
  var hours = el("p", "hgw-hours");  // when people reply, or when they open (from welcome)
  titles.appendChild(heading); titles.appendChild(hours);
  header.appendChild(titles);
  var status = el("span", "hgw-status", L.offline);
  status.setAttribute("role", "status");
  header.appendChild(status);
  var restart = el("button", "hgw-restart");
  restart.type = "button";
  restart.setAttribute("aria-label", L.restart);
  restart.title = L.restart;
  restart.innerHTML = RESTART;
  header.appendChild(restart);
  var closer = el("button", "hgw-close");
  closer.type = "button";
  closer.setAttribute("aria-label", L.close);
  closer.innerHTML = CROSS;
  header.appendChild(closer);
  var log = el("ol", "hgw-log");
  log.setAttribute("aria-live", "polite");
  var typing = el("p", "hgw-typing");
  typing.setAttribute("aria-live", "polite");
  var form = el("form", "hgw-form");
  var input = el("textarea");
  input.placeholder = L.placeholder;
  input.setAttribute("aria-label", L.placeholder);
  input.maxLength = 4000;
  var send = el("button", "hgw-send", L.send);
  send.type = "submit";
  var attach = el("button", "hgw-attach");
  attach.type = "button";
  attach.setAttribute("aria-label", L.attach);
  attach.title = L.attach;
  attach.innerHTML = CLIP;
  var picker = el("input");  // image/*: phones offer the camera too
  picker.type = "file";
  picker.accept = "image/*,application/pdf";
  picker.hidden = true;
  picker.setAttribute("aria-label", L.attach);
  form.appendChild(attach); form.appendChild(picker);
  form.appendChild(input); form.appendChild(send);
  root.appendChild(header); root.appendChild(log); root.appendChild(typing);
  root.appendChild(form);
  document.body.appendChild(root);
  document.body.appendChild(launcher);

  // Open or closed is remembered per site; replies that arrive while closed are counted on
  // the launcher and in the tab's title until the customer opens the chat.
  var unread = 0;
  function isOpen() { return !root.hidden; }
  function showUnread() {
    badge.textContent = unread ? String(unread) : "";
    launcher.setAttribute("aria-label", isOpen() ? L.close
      : L.open + (unread ? " (" + unread + " " + L.unread + ")" : ""));
    var title = document.title.replace(/^\(\d+\) /, "");
    document.title = unread ? "(" + unread + ") " + title : title;
  }
  function setOpen(open, byCustomer) {
    root.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.classList.toggle("hgw-open", open);
    launcher.innerHTML = open ? CROSS : ICON;
    launcher.appendChild(badge);
    state.open = open;
    if (open) { unread = 0; state.seen = Math.max(state.seen || 0, lastSeen); reveal(); }
    if (open && byCustomer) input.focus();
    save();
    showUnread();
  }
  function close() { setOpen(false); launcher.focus(); }
  launcher.addEventListener("click", function () { setOpen(!isOpen(), true); });
  closer.addEventListener("click", close);
  root.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });

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
    if (isOpen()) { state.seen = Math.max(state.seen || 0, m.id); save(); }
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
    if (m.kind === "handoff") {
      // a person takes over: "Did this help?" under earlier answers has nothing left to ask
      log.querySelectorAll(".hgw-feedback").forEach(function (f) { f.remove(); });
    }
    stamp(node, m.created_at);
    append(node, false);
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

  var ws = null, delay = 500;

  function transmit(p) {
    if (ws && ws.readyState === 1 && state.session) {
      var frame = { type: "message", client_id: p.client_id, text: p.text };
      if (p.action) frame.action = p.action;
      ws.send(JSON.stringify(frame));
    }
  }

  function newId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // Attachments go over HTTP (a form post: no preflight across origins); the gateway checks
  // the type by content and the size, and answers with the stored message's id or why not.
  function sendFile(file) {
    if (!file || !state.session) return;
    var id = newId();
    var node = customerBubble("", true, [file]);
    stamp(node, null);
    node.dataset.clientId = id;
    append(node, true);
    pendingNodes[id] = node;
    var data = new FormData();
    data.append("session", state.session);
    data.append("client_id", id);
    if (signed) { data.append("customer_id", signed.id); data.append("customer_hash", signed.hash); }
    data.append("file", file, file.name);
    function failed(reason) {
      node.classList.remove("hgw-pending");
      node.classList.add("hgw-failed");
      var why = el("div", "hgw-error", reason);
      why.setAttribute("role", "alert");
      node.appendChild(why);
    }
    fetch(base.origin + "/chat/upload", { method: "POST", body: data }).then(function (r) {
      return r.json().then(function (body) {
        if (r.ok) acknowledged(id, body.message_id); else failed(body.error || String(r.status));
      });
    }).catch(function () { failed(L.offline); });
  }
  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () { sendFile(picker.files[0]); picker.value = ""; });
  root.addEventListener("dragover", function (event) { event.preventDefault(); });
  root.addEventListener("drop", function (event) {
    event.preventDefault();
    sendFile(event.dataTransfer && event.dataTransfer.files[0]);
  });

  function post(text, action) {
    text = (text || "").trim();
    if (!text) return;
    var id = newId();
    var p = { client_id: id, text: text };
    if (action) p.action = action;
    state.pending.push(p); save();
    showCustomer(id, text, true);
    transmit(p);
  }

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () {
      delay = 500;
      var hello = { type: "hello", session: state.session || null, after: lastSeen, lang: lang };
      if (signed) { hello.identity = signed; hello.name = embed.customerName || ""; }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "welcome") {
        state.session = data.session; save();
        status.textContent = L.online;
        hours.textContent = data.hours || "";
        if (data.title) heading.textContent = data.title;
        if (data.greeting && !log.querySelector(".hgw-greeting")) {
          // shown, not stored: the organisation's hello before the first question
          log.insertBefore(el("li", "hgw-msg hgw-bot hgw-greeting", data.greeting), log.firstChild);
        }
        state.pending.forEach(transmit);
      } else if (data.type === "ack") {
        var node = pendingNodes[data.client_id];
        if (node && node.classList.contains("hgw-pending")) place(node, data.message_id);
        acknowledged(data.client_id, data.message_id);
      } else if (data.type === "message") {
        showMessage(data);
      } else if (data.type === "typing") {
        showTyping(data.operator || "");
      } else if (data.type === "error" && data.retry) {
        setTimeout(function () { state.pending.forEach(transmit); }, 2000);
      } else if (data.type === "error" && window.console) {
        console.error("helpdesk-gateway chat: " + data.error);  // e.g. a refused identity
      }
    };
    ws.onclose = function () {
      status.textContent = L.offline;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  // Start over: forget this conversation here (it stays with the desk) and open a new one.
  restart.addEventListener("click", function () {
    var old = ws;
    old.onclose = old.onmessage = null;
    old.close();
    state = { open: true, pending: [] }; save();
    shown = {}; pendingNodes = {}; lastSeen = 0; firstReply = null;
    log.textContent = "";
    showTyping("");
    status.textContent = L.offline;
    connect();
    input.focus();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    post(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  setOpen(!!state.open);
  state.pending.forEach(function (p) { showCustomer(p.client_id, p.text, true); });
  connect();
})();
