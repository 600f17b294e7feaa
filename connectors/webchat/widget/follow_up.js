// Offline follow-up: after a hand-off the customer may leave an e-mail address for replies
// they would miss; the widget tells the gateway what the customer has seen (only while the
// chat is open and the tab visible), and a mailed link continues the chat on this device.
// (Part 3 of 4 of /chat/static/widget.js.)
  var FU = {
    en: { ask: "Leaving before we reply? We can e-mail you the replies you miss.",
          email: "Your e-mail address", consent: "Use it only to send me replies to this conversation",
          save: "E-mail me", saved: "Replies you miss will be e-mailed to {address}.",
          invalid: "That does not look like an e-mail address.",
          transcript: "E-mail me this conversation", sent: "Sent to {address}.",
          unsent: "Not sent: nothing new since the last copy, or asked too often." },
    fr: { ask: "Vous partez avant notre réponse ? Nous pouvons vous envoyer par e-mail les réponses manquées.",
          email: "Votre adresse e-mail", consent: "À utiliser uniquement pour m'envoyer les réponses à cette conversation",
          save: "M'envoyer un e-mail", saved: "Les réponses manquées seront envoyées à {address}.",
          invalid: "Cette adresse e-mail ne semble pas valide.",
          transcript: "M'envoyer cette conversation", sent: "Envoyée à {address}.",
          unsent: "Pas envoyée : rien de nouveau depuis la dernière copie, ou trop de demandes." },
    nl: { ask: "Vertrekt u voor we antwoorden? We kunnen u de antwoorden die u mist mailen.",
          email: "Uw e-mailadres", consent: "Alleen gebruiken om mij antwoorden op dit gesprek te sturen",
          save: "Mail mij", saved: "Antwoorden die u mist, sturen we naar {address}.",
          invalid: "Dat lijkt geen e-mailadres.",
          transcript: "Mail mij dit gesprek", sent: "Verstuurd naar {address}.",
          unsent: "Niet verstuurd: niets nieuws sinds de vorige kopie, of te vaak gevraagd." },
    de: { ask: "Sie gehen, bevor wir antworten? Wir können Ihnen verpasste Antworten mailen.",
          email: "Ihre E-Mail-Adresse", consent: "Nur verwenden, um mir Antworten zu diesem Gespräch zu senden",
          save: "Per E-Mail senden", saved: "Verpasste Antworten senden wir an {address}.",
          invalid: "Das sieht nicht wie eine E-Mail-Adresse aus.",
          transcript: "Dieses Gespräch per E-Mail", sent: "Gesendet an {address}.",
          unsent: "Nicht gesendet: nichts Neues seit der letzten Kopie, oder zu oft angefragt." }
  };
  FU = FU[lang] || FU.en;
  var followUp = { offered: false, address: null };
  var params = new URLSearchParams(location.search);
  var continueToken = params.get("hgw-continue");  // a mailed link: sent once, in hello

  function followUpState(data) {
    if (data.error) {
      var form = log.querySelector(".hgw-follow-up form");
      var why = form && (form.querySelector(".hgw-error") || form.appendChild(el("p", "hgw-error")));
      if (why) { why.textContent = FU.invalid; why.setAttribute("role", "alert"); }
      return;
    }
    followUp = { offered: !!data.offered, address: data.address || null };
    var box = log.querySelector(".hgw-follow-up");
    if (box && followUp.address) showSaved(box);
  }

  // The address left: said, with the transcript button.
  function showSaved(box) {
    box.replaceChildren(el("p", null, FU.saved.replace("{address}", followUp.address)));
    var ask = el("button", "hgw-transcript", FU.transcript);
    ask.type = "button";
    ask.addEventListener("click", function () {
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "transcript" }));
    });
    var said = el("p", "hgw-transcript-status");
    said.setAttribute("role", "status");
    box.appendChild(ask); box.appendChild(said);
  }

  function transcriptSent(sent) {
    var said = log.querySelector(".hgw-transcript-status");
    if (said) said.textContent = sent ? FU.sent.replace("{address}", followUp.address || "") : FU.unsent;
  }

  function offerFollowUp() {
    if (!followUp.offered || log.querySelector(".hgw-follow-up")) return;
    var box = el("li", "hgw-msg hgw-bot hgw-follow-up");
    if (followUp.address) { showSaved(box); append(box, false); return; }
    var form = el("form");
    form.appendChild(el("p", null, FU.ask));
    var address = el("input");
    address.type = "email"; address.required = true; address.maxLength = 254;
    address.autocomplete = "email";
    address.setAttribute("aria-label", FU.email);
    address.placeholder = FU.email;
    var consent = el("input");
    consent.type = "checkbox"; consent.required = true; consent.id = "hgw-consent";
    var label = el("label", "hgw-consent", FU.consent);
    label.htmlFor = consent.id;
    var save = el("button", null, FU.save); save.type = "submit";
    var row = el("div", "hgw-consent-row"); row.appendChild(consent); row.appendChild(label);
    form.appendChild(address); form.appendChild(row); form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ws && ws.readyState === 1) {
        ws.send(JSON.stringify({ type: "contact", email: address.value.trim(), consent: consent.checked }));
      }
    });
    box.appendChild(form);
    append(box, false);
  }

  // What the customer has seen: the newest message shown while they look, at most every
  // 1.2 s (the gateway takes one a second), so a reply they read is never mailed.
  var seenSent = 0, seenTimer = null;
  function markSeen() {
    if (seenTimer || !isOpen() || document.visibilityState !== "visible") return;
    seenTimer = setTimeout(function () {
      seenTimer = null;
      if (lastSeen > seenSent && isOpen() && document.visibilityState === "visible" &&
          ws && ws.readyState === 1) {
        seenSent = lastSeen;
        ws.send(JSON.stringify({ type: "seen", upto: lastSeen }));
      }
    }, 1200);
  }
  document.addEventListener("visibilitychange", markSeen);
