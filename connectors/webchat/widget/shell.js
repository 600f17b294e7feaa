// The widget's shell: where it comes from, who the visitor is, its labels in four
// languages, the launcher and the dialog, open or closed with the unread count.
// (Part 1 of 4 of /chat/static/widget.js, joined in one function scope by assets.py.)
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
          restart: "New conversation", attach: "Attach a photo or PDF", seen: "Seen",
          busy: "busy, retrying…", queued: "received, answer on its way…" },
    fr: { title: "Support", send: "Envoyer", placeholder: "Posez votre question…", online: "en ligne",
          offline: "reconnexion…", yes: "Oui, merci", no: "Non, parler à quelqu'un", you: "Vous",
          bot: "Assistant", helped: "Cela vous a-t-il aidé ?", open: "Ouvrir le chat",
          close: "Fermer le chat", unread: "nouveaux messages", typing: "{name} écrit…",
          restart: "Nouvelle conversation", attach: "Joindre une photo ou un PDF", seen: "Vu",
          busy: "occupé, nouvel essai…", queued: "reçu, réponse en route…" },
    nl: { title: "Klantendienst", send: "Verstuur", placeholder: "Stel uw vraag…", online: "online",
          offline: "opnieuw verbinden…", yes: "Ja, bedankt", no: "Nee, met iemand praten", you: "U",
          bot: "Assistent", helped: "Heeft dit geholpen?", open: "Chat openen",
          close: "Chat sluiten", unread: "nieuwe berichten", typing: "{name} typt…",
          restart: "Nieuw gesprek", attach: "Foto of pdf bijvoegen", seen: "Gezien",
          busy: "druk, we proberen opnieuw…", queued: "ontvangen, antwoord onderweg…" },
    de: { title: "Kundendienst", send: "Senden", placeholder: "Ihre Frage…", online: "online",
          offline: "verbinde neu…", yes: "Ja, danke", no: "Nein, mit einem Menschen sprechen",
          you: "Sie", bot: "Assistent", helped: "Hat das geholfen?", open: "Chat öffnen",
          close: "Chat schließen", unread: "neue Nachrichten", typing: "{name} schreibt…",
          restart: "Neues Gespräch", attach: "Foto oder PDF anhängen", seen: "Gesehen",
          busy: "ausgelastet, neuer Versuch…", queued: "erhalten, Antwort unterwegs…" }
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
    if (open) { unread = 0; state.seen = Math.max(state.seen || 0, lastSeen); reveal(); markSeen(); }
    if (open && byCustomer) input.focus();
    save();
    showUnread();
  }
  function close() { setOpen(false); launcher.focus(); }
  launcher.addEventListener("click", function () { setOpen(!isOpen(), true); });
  closer.addEventListener("click", close);
  root.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
