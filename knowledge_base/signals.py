"""Small multilingual detectors the pipeline runs on every customer message.

Phrase lists, not models: they must be predictable and explainable to an operator.
Matching is on folded words, typo-tolerant through rapidfuzz, and on whole phrases, so
"what does a travel agent do" is not a request for a human while "talk to an agnet" is.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from knowledge_base import text as _text

#: Signals read at most this much of a message: a request for a person, anger or urgency
#: shows in the first lines, and an e-mail can be megabytes long (the scans are fuzzy).
MAX_SIGNAL_CHARS = 8_000

#: Phrases that ask for a person anywhere in a message (folded, no punctuation).
_HUMAN_PHRASES = (
    "talk to a human", "speak to a human", "talk to a person", "speak to a person",
    "talk to someone", "speak to someone", "talk to an agent", "speak to an agent",
    "talk to a real person", "a real person", "a real human", "human agent", "live agent",
    "customer service agent", "connect me to an agent", "transfer me to an agent",
    "parler a un humain", "parler a quelqu un", "parler a une personne", "une vraie personne",
    "un conseiller humain", "parler a un conseiller", "un agent humain", "un vrai humain",
    "met een mens", "een echte persoon", "een echt persoon", "een medewerker spreken",
    "met een medewerker", "iemand spreken", "met iemand praten", "een mens spreken",
    "een persoon spreken",
    "mit einem menschen sprechen", "mit einem menschen", "einen mitarbeiter sprechen",
    "mit einem mitarbeiter", "mit jemandem sprechen", "echte person",
)
#: Single words that ask for a person only when they are (nearly) the whole message.
_HUMAN_WORDS = ("agent", "human", "person", "operator", "humain", "conseiller", "personne",
                "mens", "medewerker", "mensch", "mitarbeiter", "representative", "someone")
#: Politeness and filler allowed around a single-word request ("agent please").
_FILLER = frozenset(
    "a an the please pls plz now i want need un une le la svp stp je veux een graag aub "
    "alstublieft ik wil bitte einen eine ich will möchte mochte".split())

_NEGATIVE_PHRASES = (
    "that didn t help", "that did not help", "this didn t help", "doesn t help", "not helpful",
    "didn t answer my question", "not what i asked", "not what i meant", "wrong answer",
    "that s wrong", "that s not it", "useless answer", "does not help",
    "ca n aide pas", "ca ne m aide pas", "ca ne aide pas", "pas utile", "mauvaise reponse",
    "ce n est pas ma question", "ca ne repond pas", "pas ce que j ai demande",
    "dat helpt niet", "helpt me niet", "heb ik niets aan", "heb ik niks aan",
    "verkeerd antwoord", "niet nuttig", "dat is niet mijn vraag", "geen antwoord op mijn vraag",
    "das hilft nicht", "hilft mir nicht", "falsche antwort", "nicht hilfreich",
    "das war nicht meine frage", "beantwortet meine frage nicht",
)
_NEGATIVE_WORDS = ("no", "nope", "wrong", "non", "faux", "nee", "neen", "fout", "nein",
                   "falsch", "useless", "inutile", "nutteloos", "nutzlos")

_ANGER = (
    "unacceptable", "ridiculous", "outrageous", "disgusting", "terrible service", "worst",
    "furious", "fed up", "sick of", "scam", "rip off", "pathetic", "never again", "lawyer",
    "inacceptable", "scandaleux", "honteux", "ridicule", "en colere", "arnaque", "nul",
    "schandalig", "belachelijk", "onaanvaardbaar", "waardeloos", "oplichting", "boos",
    "inakzeptabel", "unverschamt", "frechheit", "skandal", "betrug", "wutend", "lacherlich",
)
_ANGER_WORDS = tuple(p for p in _ANGER if " " not in p)
_ANGER_PHRASES = tuple(p for p in _ANGER if " " in p)
_INSULTS = ("idiot", "idiots", "stupid", "incompetent", "morons", "shit", "crap", "damn",
            "wtf", "merde", "putain", "connard", "debiles", "kut", "klote", "stom", "idioten",
            "scheisse", "scheiss", "verdammt", "dumm", "bloody")

_URGENT = (
    "urgent", "urgently", "asap", "as soon as possible", "emergency", "right now", "immediately",
    "urgence", "tout de suite", "immediatement", "au plus vite", "des que possible",
    "dringend", "spoed", "zo snel mogelijk", "onmiddellijk", "meteen", "nu meteen",
    "sofort", "so schnell wie moglich", "umgehend", "eilig", "notfall",
)

_URGENT_WORDS = tuple(p for p in _URGENT if " " not in p)
_URGENT_PHRASES = tuple(p for p in _URGENT if " " in p)

#: Phrases that ask how a request is going ("any news?"), folded, no punctuation.
_STATUS_PHRASES = (
    "any news", "any update", "any updates", "status of my ticket", "status of my request",
    "how is my ticket", "is there news", "still waiting", "what is the status",
    "what s the status", "where are we with",
    "des nouvelles", "du nouveau", "ou en est mon ticket", "ou en est ma demande",
    "quel est le statut", "toujours en attente", "j attends toujours",
    "nog nieuws", "al nieuws", "stand van zaken", "hoe staat het met", "wat is de status",
    "nog steeds geen antwoord", "ik wacht nog steeds",
    "gibt es neuigkeiten", "schon neuigkeiten", "was ist der stand", "wie ist der stand",
    "warte immer noch", "stand meiner anfrage",
)

_LONG_PHRASE_SCORE = 88.0
_SHORT_PHRASE_SCORE = 93.0
_WORD_SCORE = 80.0


def words(text: str) -> list[str]:
    """The folded words of the first `MAX_SIGNAL_CHARS` of `text`."""
    return _text.words(text[:MAX_SIGNAL_CHARS])


def _phrase_in(tokens: list[str], phrase: str) -> bool:
    """Does `phrase` occur as consecutive words in `tokens`, allowing small typos?

    Only windows holding at least one word of the phrase exactly are scored: a typo
    leaves the other words intact ("talk to an agnet"), and the fuzzy scoring then runs
    on a handful of windows instead of every one.
    """
    parts = phrase.split()
    wanted = set(parts)
    anchors = [i for i, token in enumerate(tokens) if token in wanted]
    if not anchors:
        return False
    cutoff = _LONG_PHRASE_SCORE if len(phrase) >= 14 else _SHORT_PHRASE_SCORE
    for size in {len(parts) - 1, len(parts), len(parts) + 1} - {0}:
        starts = {s for a in anchors for s in range(a - size + 1, a + 1)
                  if 0 <= s <= len(tokens) - size}
        for start in sorted(starts):
            window = " ".join(tokens[start:start + size])
            if fuzz.ratio(window, phrase) >= cutoff:
                return True
    return False


def _any_phrase(tokens: list[str], phrases: tuple[str, ...]) -> bool:
    return any(_phrase_in(tokens, phrase) for phrase in phrases)


def _word_like(token: str, vocabulary: tuple[str, ...]) -> bool:
    """`token` is a word of `vocabulary`, or one with a typo past its first letter: a
    typed word rarely starts wrong, and a town answered to a question ("Ghent") is no
    "agent"."""
    if len(token) <= 4:  # too short for typo tolerance: "no" vs "on", "mens" vs "mes"
        return token in vocabulary
    return any(token[0] == word[0] and fuzz.ratio(token, word) >= _WORD_SCORE
               for word in vocabulary)


def _only(tokens: list[str], vocabulary: tuple[str, ...]) -> bool:
    """Is the message a single word from `vocabulary`, politeness aside?"""
    content = [t for t in tokens if t not in _FILLER]
    return len(content) == 1 and _word_like(content[0], vocabulary)


def wants_human(text: str) -> bool:
    """The customer asks for a person: "agent", "talk to a human", "medewerker aub"…"""
    tokens = words(text)
    return _only(tokens, _HUMAN_WORDS) or _any_phrase(tokens, _HUMAN_PHRASES)


def negative_feedback(text: str) -> bool:
    """The customer says the last answer did not help: "no", "dat helpt niet", "falsch"…"""
    tokens = words(text)
    return (len(tokens) <= 3 and _only(tokens, _NEGATIVE_WORDS)) or _any_phrase(
        tokens, _NEGATIVE_PHRASES)


def asks_for_status(text: str) -> bool:
    """The customer asks how their request is going: "any news?", "stand van zaken"…"""
    return _any_phrase(words(text), _STATUS_PHRASES)


def frustration(text: str) -> float:
    """0 (calm) .. 1 (angry): angry words, insults, shouting in capitals, "!!!"."""
    tokens = words(text)
    angry_words = sum(_word_like(t, _ANGER_WORDS) for t in tokens)
    angry_phrases = sum(_phrase_in(tokens, p) for p in _ANGER_PHRASES)
    score = 0.45 * (angry_words + angry_phrases)
    score += 0.6 * sum(t in _INSULTS for t in tokens)
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) >= 0.7:
        score += 0.35
    if re.search(r"[!?]{3,}|!{2,}", text):
        score += 0.25
    return min(1.0, score)


def urgency(text: str) -> bool:
    """The customer needs it fast: "urgent", "asap", "dringend", "zo snel mogelijk"…"""
    tokens = words(text)
    return (any(_word_like(t, _URGENT_WORDS) for t in tokens)
            or any(_phrase_in(tokens, p) for p in _URGENT_PHRASES))
