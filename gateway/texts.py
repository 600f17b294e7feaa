"""The bot's own sentences (not KB answers), in every supported language.

Kept in one table so a translator can review them together; `{placeholders}` are filled
with `str.format_map` from trusted values only (ticket numbers, article titles).
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping

from knowledge_base.model import LANGUAGES

TEXTS: Mapping[str, Mapping[str, str]] = {
    "greeting": {
        "en": "Hello! I am the {company} assistant. Ask me your question; if I cannot help,"
              " a colleague takes over here.",
        "fr": "Bonjour ! Je suis l'assistant de {company}. Posez-moi votre question ; si je ne"
              " peux pas vous aider, un collègue prend le relais ici.",
        "nl": "Hallo! Ik ben de assistent van {company}. Stel gerust uw vraag; kan ik u niet"
              " helpen, dan neemt een collega het hier over.",
        "de": "Hallo! Ich bin der Assistent von {company}. Stellen Sie Ihre Frage; kann ich"
              " nicht helfen, übernimmt hier ein Kollege.",
    },
    "hours_open": {
        "en": "We reply within {within}.",
        "fr": "Nous répondons dans un délai de {within}.",
        "nl": "We antwoorden binnen {within}.",
        "de": "Wir antworten innerhalb von {within}.",
    },
    "hours_closed": {
        "en": "We are closed; we open on {when}.",
        "fr": "Nous sommes fermés ; nous ouvrons le {when}.",
        "nl": "We zijn gesloten; we openen op {when}.",
        "de": "Wir haben geschlossen; wir öffnen am {when}.",
    },
    "smalltalk_greeting": {
        "en": "Hello! How can I help you?",
        "fr": "Bonjour ! Comment puis-je vous aider ?",
        "nl": "Hallo! Waarmee kan ik u helpen?",
        "de": "Hallo! Wie kann ich Ihnen helfen?",
    },
    "ask_what_needed": {
        "en": "How can I help you? Tell me in a few words what you need.",
        "fr": "Comment puis-je vous aider ? Dites-moi en quelques mots ce dont vous avez besoin.",
        "nl": "Waarmee kan ik u helpen? Zeg me in een paar woorden wat u nodig hebt.",
        "de": "Wie kann ich Ihnen helfen? Sagen Sie mir in ein paar Worten, was Sie brauchen.",
    },
    "smalltalk_thanks": {
        "en": "You're welcome! Anything else I can help with?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "nl": "Graag gedaan! Kan ik u nog ergens mee helpen?",
        "de": "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
    },
    "smalltalk_goodbye": {
        "en": "Goodbye, and have a nice day!",
        "fr": "Au revoir et bonne journée !",
        "nl": "Tot ziens en nog een fijne dag!",
        "de": "Auf Wiedersehen und einen schönen Tag!",
    },
    "handoff": {
        "en": "Thank you. I am passing your question to a colleague, who will get back to you"
              " here as soon as possible (ticket #{ticket}).",
        "fr": "Merci. Je transmets votre question à un collègue, qui vous répondra ici dès que"
              " possible (ticket n° {ticket}).",
        "nl": "Bedankt. Ik geef uw vraag door aan een collega, die u hier zo snel mogelijk"
              " antwoordt (ticket #{ticket}).",
        "de": "Danke. Ich leite Ihre Frage an einen Kollegen weiter, der Ihnen hier so bald wie"
              " möglich antwortet (Ticket #{ticket}).",
    },
    "handoff_displeased": {
        "en": "I am sorry for the trouble. I am passing your question to a colleague, who will"
              " get back to you here as soon as possible (ticket #{ticket}).",
        "fr": "Désolé pour ce désagrément. Je transmets votre question à un collègue, qui vous"
              " répondra ici dès que possible (ticket n° {ticket}).",
        "nl": "Sorry voor het ongemak. Ik geef uw vraag door aan een collega, die u hier zo snel"
              " mogelijk antwoordt (ticket #{ticket}).",
        "de": "Entschuldigen Sie die Unannehmlichkeiten. Ich leite Ihre Frage an einen Kollegen"
              " weiter, der Ihnen hier so bald wie möglich antwortet (Ticket #{ticket}).",
    },
    "handoff_upset": {
        "en": "I am sorry about this. I am passing your message to a colleague straight away,"
              " who will reply here (ticket #{ticket}).",
        "fr": "Je suis désolé. Je transmets tout de suite votre message à un collègue, qui vous"
              " répondra ici (ticket n° {ticket}).",
        "nl": "Het spijt me. Ik geef uw bericht meteen door aan een collega, die u hier"
              " antwoordt (ticket #{ticket}).",
        "de": "Das tut mir leid. Ich leite Ihre Nachricht sofort an einen Kollegen weiter, der"
              " Ihnen hier antwortet (Ticket #{ticket}).",
    },
    "callback_confirm": {
        "en": "Noted: we will call you back on {when} (until {until}). Ticket #{ticket}.",
        "fr": "C'est noté : nous vous rappelons le {when} (jusqu'à {until}). Ticket n° {ticket}.",
        "nl": "Genoteerd: we bellen u terug op {when} (tot {until}). Ticket #{ticket}.",
        "de": "Notiert: Wir rufen Sie am {when} zurück (bis {until}). Ticket #{ticket}.",
    },
    "handoff_human": {
        "en": "Of course. A colleague will take over this conversation and reply here"
              " (ticket #{ticket}).",
        "fr": "Bien sûr. Un collègue va reprendre cette conversation et vous répondra ici"
              " (ticket n° {ticket}).",
        "nl": "Natuurlijk. Een collega neemt dit gesprek over en antwoordt u hier"
              " (ticket #{ticket}).",
        "de": "Selbstverständlich. Ein Kollege übernimmt dieses Gespräch und antwortet Ihnen hier"
              " (Ticket #{ticket}).",
    },
    "handoff_rest": {
        "en": "I am passing your other question to a colleague, who will reply here as soon as"
              " possible (ticket #{ticket}).",
        "fr": "Je transmets votre autre question à un collègue, qui vous répondra ici dès que"
              " possible (ticket n° {ticket}).",
        "nl": "Uw andere vraag geef ik door aan een collega, die u hier zo snel mogelijk"
              " antwoordt (ticket #{ticket}).",
        "de": "Ihre andere Frage leite ich an einen Kollegen weiter, der Ihnen hier so bald wie"
              " möglich antwortet (Ticket #{ticket}).",
    },
    "handoff_sorry": {
        "en": "I am sorry that did not help. A colleague will look at your question and reply"
              " here (ticket #{ticket}).",
        "fr": "Désolé que cela ne vous ait pas aidé. Un collègue va examiner votre question et"
              " vous répondra ici (ticket n° {ticket}).",
        "nl": "Sorry dat dit niet hielp. Een collega bekijkt uw vraag en antwoordt u hier"
              " (ticket #{ticket}).",
        "de": "Es tut mir leid, dass das nicht geholfen hat. Ein Kollege sieht sich Ihre Frage an"
              " und antwortet Ihnen hier (Ticket #{ticket}).",
    },
    "status_taken": {
        "en": "{operator} is now handling your question (ticket #{ticket}).",
        "fr": "{operator} s'occupe maintenant de votre question (ticket n° {ticket}).",
        "nl": "{operator} behandelt nu uw vraag (ticket #{ticket}).",
        "de": "{operator} bearbeitet jetzt Ihre Anfrage (Ticket #{ticket}).",
    },
    "status_pending": {
        "en": "We are waiting for your reply to continue with your question (ticket #{ticket}).",
        "fr": "Nous attendons votre réponse pour poursuivre le traitement de votre question"
              " (ticket n° {ticket}).",
        "nl": "We wachten op uw antwoord om verder te gaan met uw vraag (ticket #{ticket}).",
        "de": "Wir warten auf Ihre Antwort, um Ihre Anfrage weiter zu bearbeiten"
              " (Ticket #{ticket}).",
    },
    "status_solved": {
        "en": "We consider your question answered (ticket #{ticket}). Simply reply if you need"
              " anything else.",
        "fr": "Nous considérons votre question comme résolue (ticket n° {ticket}). Répondez"
              " simplement si vous avez encore besoin d'aide.",
        "nl": "We beschouwen uw vraag als opgelost (ticket #{ticket}). Antwoord gewoon als u nog"
              " iets nodig hebt.",
        "de": "Wir betrachten Ihre Anfrage als erledigt (Ticket #{ticket}). Antworten Sie einfach,"
              " wenn Sie noch etwas brauchen.",
    },
    "clarify": {
        "en": "Do you mean:",
        "fr": "Voulez-vous dire :",
        "nl": "Bedoelt u:",
        "de": "Meinen Sie:",
    },
    "after_hours_ack": {
        "en": "Your message was added to ticket #{ticket}. We are closed now; we open on {when}.",
        "fr": "Votre message a été ajouté au ticket n° {ticket}. Nous sommes fermés pour le"
              " moment ; nous ouvrons le {when}.",
        "nl": "Uw bericht is toegevoegd aan ticket #{ticket}. We zijn nu gesloten; we openen op"
              " {when}.",
        "de": "Ihre Nachricht wurde zu Ticket #{ticket} hinzugefügt. Wir haben gerade"
              " geschlossen; wir öffnen am {when}.",
    },
    "status_report": {
        "en": "Your ticket #{ticket} is {status}. Your message has been added to it.",
        "fr": "Votre ticket n° {ticket} est {status}. Votre message y a été ajouté.",
        "nl": "Uw ticket #{ticket} is {status}. Uw bericht is eraan toegevoegd.",
        "de": "Ihr Ticket #{ticket} ist {status}. Ihre Nachricht wurde hinzugefügt.",
    },
    "status_waiting": {
        "en": "waiting for a colleague, who will reply here",
        "fr": "en attente d'un collègue, qui vous répondra ici",
        "nl": "in afwachting van een collega, die u hier antwoordt",
        "de": "in der Warteschlange; ein Kollege antwortet Ihnen hier",
    },
    "status_handled": {
        "en": "being handled by {operator}",
        "fr": "traité par {operator}",
        "nl": "in behandeling bij {operator}",
        "de": "in Bearbeitung bei {operator}",
    },
    "verify_ask": {
        "en": "I can help with that once I know it is you. Please send your customer number"
              " and postal code (for example: C-1042 9000).",
        "fr": "Je peux vous aider dès que je sais que c'est bien vous. Envoyez-moi votre numéro"
              " de client et votre code postal (par exemple : C-1042 9000).",
        "nl": "Ik help u graag zodra ik weet dat u het bent. Stuur uw klantnummer en postcode"
              " (bijvoorbeeld: C-1042 9000).",
        "de": "Gern helfe ich Ihnen, sobald ich weiß, dass Sie es sind. Bitte senden Sie Ihre"
              " Kundennummer und Postleitzahl (zum Beispiel: C-1042 9000).",
    },
    "verify_retry": {
        "en": "Those details do not match our records. Please check your customer number and"
              " postal code and send them again.",
        "fr": "Ces données ne correspondent pas à nos fichiers. Vérifiez votre numéro de client"
              " et votre code postal et renvoyez-les.",
        "nl": "Die gegevens komen niet overeen met ons klantenbestand. Controleer uw klantnummer"
              " en postcode en stuur ze opnieuw.",
        "de": "Diese Angaben stimmen nicht mit unseren Daten überein. Bitte prüfen Sie"
              " Kundennummer und Postleitzahl und senden Sie sie erneut.",
    },
    "verify_ok": {
        "en": "Thank you, you are verified.",
        "fr": "Merci, votre identité est vérifiée.",
        "nl": "Bedankt, uw identiteit is geverifieerd.",
        "de": "Danke, Ihre Identität ist bestätigt.",
    },
    "clarify_hint": {
        "en": "Reply with the number of your choice.",
        "fr": "Répondez avec le numéro de votre choix.",
        "nl": "Antwoord met het nummer van uw keuze.",
        "de": "Antworten Sie mit der Nummer Ihrer Wahl.",
    },
    "action_failed": {
        "en": "I am sorry, I cannot check this in our systems right now. I have passed your"
              " question to a colleague, who will reply here (ticket #{ticket}).",
        "fr": "Désolé, je ne peux pas vérifier cela dans nos systèmes pour le moment. J'ai"
              " transmis votre question à un collègue, qui vous répondra ici (ticket n° {ticket}).",
        "nl": "Sorry, ik kan dit nu niet nakijken in onze systemen. Ik heb uw vraag doorgegeven"
              " aan een collega, die u hier antwoordt (ticket #{ticket}).",
        "de": "Entschuldigung, ich kann das gerade nicht in unseren Systemen prüfen. Ich habe"
              " Ihre Frage an einen Kollegen weitergeleitet, der Ihnen hier antwortet"
              " (Ticket #{ticket}).",
    },
    "options_none": {
        "en": "I am sorry, I see nothing available right now. I have passed your question to a"
              " colleague, who will reply here (ticket #{ticket}).",
        "fr": "Désolé, je ne vois rien de disponible pour le moment. J'ai transmis votre"
              " question à un collègue, qui vous répondra ici (ticket n° {ticket}).",
        "nl": "Sorry, ik zie nu niets beschikbaars. Ik heb uw vraag doorgegeven aan een"
              " collega, die u hier antwoordt (ticket #{ticket}).",
        "de": "Entschuldigung, ich sehe gerade nichts Verfügbares. Ich habe Ihre Frage an einen"
              " Kollegen weitergeleitet, der Ihnen hier antwortet (Ticket #{ticket}).",
    },
    "slot_invalid": {
        "en": "Sorry, I could not read that.",
        "fr": "Désolé, je n'ai pas pu lire cela.",
        "nl": "Sorry, dat kon ik niet lezen.",
        "de": "Entschuldigung, das konnte ich nicht lesen.",
    },
    "confirm_hint": {
        "en": "Reply yes to confirm or no to cancel.",
        "fr": "Répondez oui pour confirmer ou non pour annuler.",
        "nl": "Antwoord ja om te bevestigen of nee om te annuleren.",
        "de": "Antworten Sie ja zum Bestätigen oder nein zum Abbrechen.",
    },
    "action_cancelled": {
        "en": "All right, nothing has been booked. Can I help you with anything else?",
        "fr": "D'accord, rien n'a été réservé. Puis-je vous aider pour autre chose ?",
        "nl": "Goed, er is niets geboekt. Kan ik u nog ergens mee helpen?",
        "de": "In Ordnung, es wurde nichts gebucht. Kann ich Ihnen sonst noch helfen?",
    },
    "none_of_these": {
        "en": "None of these",
        "fr": "Aucune de ces réponses",
        "nl": "Geen van deze",
        "de": "Nichts davon",
    },
    "csat_question": {
        "en": "Your ticket #{ticket} is solved. How satisfied are you with our help?",
        "fr": "Votre ticket n° {ticket} est résolu. Êtes-vous satisfait de notre aide ?",
        "nl": "Uw ticket #{ticket} is opgelost. Hoe tevreden bent u over onze hulp?",
        "de": "Ihr Ticket #{ticket} ist erledigt. Wie zufrieden sind Sie mit unserer Hilfe?",
    },
    "csat_low": {
        "en": "Very dissatisfied",
        "fr": "Très insatisfait",
        "nl": "Heel ontevreden",
        "de": "Sehr unzufrieden",
    },
    "csat_high": {
        "en": "Very satisfied",
        "fr": "Très satisfait",
        "nl": "Heel tevreden",
        "de": "Sehr zufrieden",
    },
    "csat_comment": {
        "en": "Anything you would like to add? (optional)",
        "fr": "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        "nl": "Wilt u nog iets toevoegen? (optioneel)",
        "de": "Möchten Sie noch etwas hinzufügen? (optional)",
    },
    "csat_send": {
        "en": "Send",
        "fr": "Envoyer",
        "nl": "Verzenden",
        "de": "Senden",
    },
    "csat_thanks": {
        "en": "Thank you for your feedback!",
        "fr": "Merci pour votre avis !",
        "nl": "Bedankt voor uw feedback!",
        "de": "Vielen Dank für Ihre Rückmeldung!",
    },
    "csat_used": {
        "en": "This survey has already been answered. Thank you!",
        "fr": "Ce questionnaire a déjà reçu une réponse. Merci !",
        "nl": "Deze enquête is al beantwoord. Bedankt!",
        "de": "Diese Umfrage wurde bereits beantwortet. Vielen Dank!",
    },
    "csat_expired": {
        "en": "This survey link has expired.",
        "fr": "Ce lien vers le questionnaire a expiré.",
        "nl": "Deze link naar de enquête is verlopen.",
        "de": "Dieser Umfragelink ist abgelaufen.",
    },
    "csat_invalid": {
        "en": "This survey link is not valid. Please use the link exactly as you received it.",
        "fr": "Ce lien vers le questionnaire n'est pas valide. Utilisez le lien tel que vous"
              " l'avez reçu.",
        "nl": "Deze link naar de enquête is ongeldig. Gebruik de link precies zoals u hem"
              " ontving.",
        "de": "Dieser Umfragelink ist ungültig. Bitte verwenden Sie den Link genau so, wie Sie"
              " ihn erhalten haben.",
    },
    "follow_up_subject": {
        "en": "Your chat with {company}: a reply for you",
        "fr": "Votre conversation avec {company} : une réponse pour vous",
        "nl": "Uw chat met {company}: een antwoord voor u",
        "de": "Ihr Chat mit {company}: eine Antwort für Sie",
    },
    "follow_up_intro": {
        "en": "You left our chat before you could read this reply from {company}:",
        "fr": "Vous aviez quitté le chat avant de pouvoir lire cette réponse de {company} :",
        "nl": "U had de chat al verlaten voor u dit antwoord van {company} kon lezen:",
        "de": "Sie hatten den Chat verlassen, bevor Sie diese Antwort von {company} lesen"
              " konnten:",
    },
    "transcript_subject": {
        "en": "Your conversation with {company}",
        "fr": "Votre conversation avec {company}",
        "nl": "Uw gesprek met {company}",
        "de": "Ihr Gespräch mit {company}",
    },
    "transcript_you": {"en": "You", "fr": "Vous", "nl": "U", "de": "Sie"},
    "follow_up_continue": {
        "en": "Continue the conversation in the chat: {link} (this link works for {days}"
              " days), or simply answer this e-mail.",
        "fr": "Poursuivez la conversation dans le chat : {link} (ce lien est valable {days}"
              " jours), ou répondez simplement à cet e-mail.",
        "nl": "Zet het gesprek voort in de chat: {link} (deze link werkt {days} dagen), of"
              " antwoord gewoon op deze e-mail.",
        "de": "Setzen Sie das Gespräch im Chat fort: {link} (dieser Link gilt {days} Tage),"
              " oder antworten Sie einfach auf diese E-Mail.",
    },
}


class Texts:
    """The bot's sentences: the defaults above, with the organisation's own wording over
    them (`[texts]` in the settings, checked by `problems` at start-up)."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        overrides = overrides or {}
        self._table = {name: {**variants, **overrides.get(name, {})}
                       for name, variants in TEXTS.items()}

    def __call__(self, name: str, language: str | None, **values: object) -> str:
        """The sentence `name` in `language`, English when that language has none."""
        variants = self._table[name]
        template = variants.get(language or "en", variants["en"])
        return template.format_map(values)


def problems(overrides: Mapping[str, Mapping[str, str]]) -> Iterator[tuple[str, str]]:
    """(settings key, what is wrong) for each override the bot could not use."""
    for name, variants in overrides.items():
        if name not in TEXTS:
            yield f"texts.{name}", f"no such text; the texts are: {', '.join(sorted(TEXTS))}"
            continue
        allowed = set().union(*(_fields(t) for t in TEXTS[name].values()))
        for language, template in variants.items():
            key = f"texts.{name}.{language}"
            if language not in LANGUAGES:
                yield key, f"language must be one of {', '.join(LANGUAGES)}"
                continue
            try:
                unknown = _fields(template) - allowed
            except ValueError as exc:
                yield key, f"not a valid template: {exc}"
                continue
            if unknown:
                yield key, (f"unknown placeholder {{{sorted(unknown)[0]}}}; this text has "
                            f"{', '.join('{' + f + '}' for f in sorted(allowed)) or 'none'}")



def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}
