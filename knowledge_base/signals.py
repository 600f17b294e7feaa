"""Small multilingual detectors the pipeline runs on every customer message.

Phrase lists, not models: they must be predictable and explainable to an operator.
Matching is on folded words, typo-tolerant through rapidfuzz, and on whole phrases, so
"what does a travel agent do" is not a request for a human while "talk to an agnet" is.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy
from rapidfuzz import fuzz, process

from knowledge_base import text as _text

#: Signals read at most this much of a message: a request for a person, anger or urgency
#: shows in the first lines, and an e-mail can be megabytes long (the scans are fuzzy).
MAX_SIGNAL_CHARS = 8_000
#: ... and at most this many of its words (about a page): the phrase scans cost grows with
#: the words, and what a customer asks for is said before the page ends.
MAX_SIGNAL_WORDS = 500

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
    "een persoon spreken", "wil een medewerker", "wil nu een medewerker",
    "iemand aan de lijn", "iemand aan de telefoon",
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
    "disgrace", "appalling", "disappointed",
    "inacceptable", "scandaleux", "honteux", "ridicule", "en colere", "arnaque", "nul",
    "furieux", "furieuse", "inadmissible", "intolerable", "une honte", "decu", "decue",
    "schandalig", "belachelijk", "onaanvaardbaar", "waardeloos", "oplichting", "boos",
    "woedend", "razend", "kwaad", "schande", "ontgoocheld", "teleurgesteld", "ontoelaatbaar",
    "inakzeptabel", "unverschamt", "frechheit", "skandal", "betrug", "wutend", "lacherlich",
    "enttauscht", "zumutung", "unzumutbar", "sauer",  # "schande" is German too
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

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_LONG_PHRASE_SCORE = 88.0
_SHORT_PHRASE_SCORE = 93.0
_WORD_SCORE = 80.0


class _Phrases:
    """Phrase lists indexed by their words, so that a message is read once for all of them.

    A phrase occurs when consecutive words score close enough to it, allowing small typos.
    Only windows holding at least one word of the phrase exactly are scored: a typo leaves
    the other words intact ("talk to an agnet"). The index turns each such word of the
    message into its windows with array arithmetic, drops the windows whose length alone
    rules the phrase out, and rapidfuzz scores the rest in one call.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(dict.fromkeys(phrases))
        self._choices = numpy.array(self.phrases, dtype=object)
        self._cutoffs = numpy.array([_LONG_PHRASE_SCORE if len(p) >= 14 else _SHORT_PHRASE_SCORE
                                     for p in self.phrases])
        self._chars = numpy.array([len(phrase) for phrase in self.phrases])
        self._word_ids: dict[str, int] = {}
        #: For each word, the windows around it worth scoring: (phrase, size, word's place).
        windows: list[list[tuple[int, int, int]]] = []
        for number, phrase in enumerate(self.phrases):
            parts = phrase.split()
            sizes = sorted({len(parts) - 1, len(parts), len(parts) + 1} - {0})
            for word in dict.fromkeys(parts):
                if word not in self._word_ids:
                    self._word_ids[word] = len(windows)
                    windows.append([])
                windows[self._word_ids[word]].extend(
                    (number, size, place) for size in sizes for place in range(size))
        self._per_word = numpy.array([len(group) for group in windows])
        self._first_of_word = numpy.cumsum(self._per_word) - self._per_word
        self._windows = numpy.array([row for group in windows for row in group])
        self._max_size = int(self._windows[:, 1].max()) + 1

    def found(self, tokens: Sequence[str]) -> frozenset[str]:
        """The phrases that occur in `tokens`."""
        anchors = [at for at, token in enumerate(tokens) if token in self._word_ids]
        if not anchors:
            return frozenset()
        count = len(tokens)
        word = numpy.array([self._word_ids[tokens[at]] for at in anchors])
        per = self._per_word[word]
        rows = (numpy.repeat(self._first_of_word[word] - (numpy.cumsum(per) - per), per)
                + numpy.arange(int(per.sum())))
        number, size, place = self._windows[rows].T
        start = numpy.repeat(numpy.array(anchors), per) - place
        keep = (start >= 0) & (start + size <= count)
        number, size, start = number[keep], size[keep], start[keep]
        # Where each word begins in the words joined by spaces (one past the end: count).
        begins = numpy.zeros(count + 1, dtype=numpy.int64)
        numpy.cumsum([len(token) + 1 for token in tokens], out=begins[1:])
        chars = begins[start + size] - begins[start] - 1
        # A ratio counts insertions and deletions: at most 1 - (length gap) / (both lengths).
        cutoffs, wanted = self._cutoffs[number], self._chars[number]
        keep = numpy.abs(chars - wanted) * 100 <= (100 - cutoffs) * (chars + wanted)
        if not keep.any():
            return frozenset()
        pairs = numpy.unique((number[keep] * (count + 1) + start[keep]) * self._max_size
                             + size[keep])
        number, rest = numpy.divmod(pairs, (count + 1) * self._max_size)
        joined = " ".join(tokens)
        windows, which = numpy.unique(rest, return_inverse=True)
        texts = numpy.array([joined[begins[w // self._max_size]:
                                    begins[w // self._max_size + w % self._max_size] - 1]
                             for w in windows.tolist()], dtype=object)
        scores = process.cpdist(texts[which], self._choices[number], scorer=fuzz.ratio,
                                dtype=numpy.float64, score_cutoff=_LONG_PHRASE_SCORE)
        return frozenset(self._choices[number[scores >= self._cutoffs[number]]].tolist())


_PHRASES = _Phrases(_HUMAN_PHRASES + _NEGATIVE_PHRASES + _STATUS_PHRASES + _ANGER_PHRASES
                    + _URGENT_PHRASES)


@functools.lru_cache(maxsize=256)
def _read(prefix: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The words of a message prefix and the phrases found in them, once per message: the
    pipeline asks several detectors about the same message."""
    # Plain ASCII folds to its lower case: the same words as `text.words`, sooner.
    found = _ASCII_WORD.findall(prefix.lower()) if prefix.isascii() else _text.words(prefix)
    tokens = tuple(found[:MAX_SIGNAL_WORDS])
    return tokens, _PHRASES.found(tokens)


def words(text: str) -> tuple[str, ...]:
    """The first `MAX_SIGNAL_WORDS` folded words of the first `MAX_SIGNAL_CHARS` of `text`."""
    return _read(text[:MAX_SIGNAL_CHARS])[0]


def _phrases(text: str) -> frozenset[str]:
    return _read(text[:MAX_SIGNAL_CHARS])[1]


class _Vocabulary:
    """Words matched whole or with a typo past their first letter: a typed word rarely
    starts wrong, and a town answered to a question ("Ghent") is no "agent"."""

    def __init__(self, vocabulary: tuple[str, ...]) -> None:
        self._words = frozenset(vocabulary)
        by_letter: dict[str, list[str]] = {}
        for word in vocabulary:
            by_letter.setdefault(word[0], []).append(word)
        self._by_letter = {letter: tuple(group) for letter, group in by_letter.items()}

    def like(self, token: str) -> bool:
        """`token` is one of the words, or (past 4 letters) one with a typo."""
        if len(token) <= 4:  # too short for typo tolerance: "no" vs "on", "mens" vs "mes"
            return token in self._words
        same_start = self._by_letter.get(token[0])
        return same_start is not None and process.extractOne(
            token, same_start, scorer=fuzz.ratio, score_cutoff=_WORD_SCORE) is not None

    def only(self, tokens: Sequence[str]) -> bool:
        """Is the message a single one of the words, politeness aside?"""
        content = [t for t in tokens if t not in _FILLER]
        return len(content) == 1 and self.like(content[0])


_HUMAN = frozenset(_HUMAN_PHRASES)
_HUMAN_WORD = _Vocabulary(_HUMAN_WORDS)
_NEGATIVE = frozenset(_NEGATIVE_PHRASES)
_NEGATIVE_WORD = _Vocabulary(_NEGATIVE_WORDS)
_STATUS = frozenset(_STATUS_PHRASES)
_ANGER_PHRASE = frozenset(_ANGER_PHRASES)
_ANGER_WORD = _Vocabulary(_ANGER_WORDS)
_URGENT_PHRASE = frozenset(_URGENT_PHRASES)
_URGENT_WORD = _Vocabulary(_URGENT_WORDS)
_INSULT_WORDS = frozenset(_INSULTS)


def wants_human(text: str) -> bool:
    """The customer asks for a person: "agent", "talk to a human", "medewerker aub"…"""
    return _HUMAN_WORD.only(words(text)) or not _HUMAN.isdisjoint(_phrases(text))


def negative_feedback(text: str) -> bool:
    """The customer says the last answer did not help: "no", "dat helpt niet", "falsch"…"""
    tokens = words(text)
    return ((len(tokens) <= 3 and _NEGATIVE_WORD.only(tokens))
            or not _NEGATIVE.isdisjoint(_phrases(text)))


def asks_for_status(text: str) -> bool:
    """The customer asks how their request is going: "any news?", "stand van zaken"…"""
    return not _STATUS.isdisjoint(_phrases(text))


def frustration(text: str) -> float:
    """0 (calm) .. 1 (angry): angry words, insults, shouting in capitals, "!!!"."""
    counts = Counter(words(text))
    angry_words = sum(n for token, n in counts.items() if _ANGER_WORD.like(token))
    angry_phrases = len(_ANGER_PHRASE & _phrases(text))
    score = 0.45 * (angry_words + angry_phrases)
    score += 0.6 * sum(n for token, n in counts.items() if token in _INSULT_WORDS)
    prefix = text[:MAX_SIGNAL_CHARS]
    letters = list(filter(str.isalpha, prefix))
    if len(letters) >= 8 and sum(map(str.isupper, letters)) / len(letters) >= 0.7:
        score += 0.35
    if re.search(r"[!?]{3,}|!{2,}", prefix):
        score += 0.25
    return min(1.0, score)


def urgency(text: str) -> bool:
    """The customer needs it fast: "urgent", "asap", "dringend", "zo snel mogelijk"…"""
    return (any(_URGENT_WORD.like(t) for t in dict.fromkeys(words(text)))
            or not _URGENT_PHRASE.isdisjoint(_phrases(text)))
