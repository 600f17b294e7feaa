// The connection: the socket and its frames, what the customer sends (text, files), and
// starting over. (Part 4 of 4 of /chat/static/widget.js.)
  var ws = null, delay = 500, resendTimer = null;

  // A refused message (busy, a rate limit, an outage) is kept and sent again: all that is
  // pending, once, after the busy frame's retry_after (about when the gateway has room) or
  // 2 s; more refusals meanwhile wait for that same resend, not one each.
  function resendLater(seconds) {
    if (resendTimer !== null) return;
    var ms = seconds > 0 ? Math.min(seconds, 60) * 1000 : 2000;
    resendTimer = setTimeout(function () {
      resendTimer = null;
      state.pending.forEach(transmit);
    }, ms);
  }

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
      if (continueToken) hello.resume = continueToken;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "welcome") {
        state.session = data.session; save();
        if (continueToken) {  // used: the link's conversation is this session's now
          continueToken = null;
          params.delete("hgw-continue");
          var rest = params.toString();
          history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
        }
        followUpState(data.follow_up || {});
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
        // Stored. "queued": its answer waits for others' (the desk is busy, not silent);
        // "busy" stays while another message is still refused.
        if (status.textContent === L.busy && state.pending.length) { /* still refused */ }
        else if (data.queued) status.textContent = L.queued;
        else if (status.textContent === L.busy) status.textContent = L.online;
      } else if (data.type === "message") {
        if (data.author !== "customer" && status.textContent === L.queued) {
          status.textContent = L.online;
        }
        showMessage(data);
      } else if (data.type === "read") {
        showRead(Number(data.upto) || 0);
      } else if (data.type === "transcript") {
        transcriptSent(!!data.sent);
      } else if (data.type === "follow_up") {
        followUpState(data);
      } else if (data.type === "typing") {
        showTyping(data.operator || "");
      } else if (data.type === "error" && data.retry) {
        if (data.busy) status.textContent = L.busy;  // kept, and sent again shortly
        resendLater(Number(data.retry_after) || 0);
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
    shown = {}; pendingNodes = {}; lastSeen = 0; firstReply = null; seenSent = 0;
    followUp = { offered: followUp.offered, address: null };
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
