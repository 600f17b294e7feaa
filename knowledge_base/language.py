"""Which of the supported languages a customer message is written in.

lingua restricted to the four languages the gateway serves, its confidences multiplied by
a small lexical prior (the likelihood of the message's words under each language's most
frequent words, data/language_words.yaml: naive Bayes over 160-190 words a language,
0.5 MB, 6 µs a message), which settles the short questions trigrams alone misread ("how
do I reset my password" read as German); for a few letters or a near tie the caller's default
(usually the conversation's language so far) is the safer guess.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from importlib import resources

import yaml
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from knowledge_base.text import words

_LANGUAGES = {Language.ENGLISH: "en", Language.FRENCH: "fr", Language.DUTCH: "nl",
              Language.GERMAN: "de"}
#: Below this many letters detection is mostly noise ("ok", "merci", "?").
MIN_LETTERS = 4
#: The best language must beat the default by this much confidence to overrule it.
MIN_LEAD = 0.2
#: A single word ("merci", "danke", a product name) must be this clear to overrule it.
MIN_SINGLE_WORD = 0.8
#: Only this much of the text is read: a few sentences tell the language, and lingua's time
#: grows with the square of a token's length (one 320 KB token: 85 s).
MAX_CHARS = 2000
#: The lexical prior (`_with_lexical_prior`): a word of rank r in data/language_words.yaml
#: has the frequency ZIPF / r in its language, a word not listed there UNLISTED (about the
#: frequency of a language's 700th word); FLOOR is the least confidence a lingua value
#: counts as, so that a few clear words can overrule trigrams that ruled a language out.
ZIPF = 0.07
UNLISTED = 1e-4
FLOOR = 1e-4
#: Whether the prior is used (benchmarks/language_detection.py --no-prior turns it off).
LEXICAL = True


#: Greetings and courtesy words that make up a whole message on their own, with every
#: language they are normal in. Statistics guess on them ("hallo" read as English 0.6,
#: "bedankt" as German, "merci" as French though Flemish customers say it too); a message
#: made only of these is in their common language, or, when that is still ambiguous
#: ("hallo": Dutch or German), in the caller's default (the conversation's language so
#: far, else the desk's) when it is one of them, else in the first one listed: "hallo" on an
#: English desk is Dutch, not English.
_SHORT_WORDS: dict[str, tuple[str, ...]] = {
    phrase: tuple(langs.split()) for phrase, langs in {
        "hallo": "nl de", "hello": "en", "hi": "en", "hey": "en nl de", "hoi": "nl",
        "dag": "nl", "goeiedag": "nl", "goedendag": "nl", "goedemorgen": "nl",
        "goeiemorgen": "nl", "goedemiddag": "nl", "goeiemiddag": "nl", "goedenavond": "nl",
        "bonjour": "fr", "bonsoir": "fr", "salut": "fr", "coucou": "fr", "allo": "fr",
        "moin": "de", "servus": "de", "guten tag": "de", "guten morgen": "de",
        "guten abend": "de", "good morning": "en", "good afternoon": "en",
        "good evening": "en", "thanks": "en", "thank you": "en", "cheers": "en",
        "merci": "fr nl", "merci beaucoup": "fr", "danke": "de", "danke schon": "de",
        "vielen dank": "de", "dank u": "nl", "dank je": "nl", "dankjewel": "nl",
        "dankuwel": "nl", "bedankt": "nl", "yes": "en", "no": "en", "oui": "fr",
        "non": "fr", "ja": "nl de", "nee": "nl", "neen": "nl", "nein": "de",
        "ok": "en fr nl de", "okay": "en fr nl de", "oke": "nl", "super": "en fr nl de",
        "bye": "en", "au revoir": "fr", "tot ziens": "nl", "doei": "nl",
        "tschuss": "de", "auf wiedersehen": "de",
    }.items()}


#: The languages the detector chooses among and whether it reads all of lingua's n-gram
#: models; set once per process by `configure` (the gateway: its `[languages]` settings).
_configured: tuple[tuple[str, ...], bool] = (tuple(_LANGUAGES.values()), True)


def configure(languages: Iterable[str], accurate: bool = True) -> None:
    """Detect only among `languages` (the desk's supported ones), and with `accurate`
    False read lingua's trigram models only.

    The models are most of the gateway's memory: 128 MB resident for the four languages
    with every n-gram model, about 14 MB with trigrams only (benchmarks/language_detection.py);
    with the lexical prior light is 0.1 points behind on the KB's questions and 1.3-1.6 on
    the held-out customer messages (docs/benchmarks.md#memory). Fewer languages
    load fewer models, and a message cannot be read as a language the desk does not serve.
    """
    global _configured
    codes = tuple(code for code in _LANGUAGES.values() if code in set(languages))
    _configured = (codes or tuple(_LANGUAGES.values()), accurate)


def _detector() -> LanguageDetector:
    return _build(*_configured)


@functools.cache
def _build(codes: tuple[str, ...], accurate: bool) -> LanguageDetector:
    """Built once per configuration, models loaded up front: loading them takes seconds and
    memory, which must not fall on the first message (it would stall the event loop)."""
    builder = LanguageDetectorBuilder.from_languages(
        *(language for language, code in _LANGUAGES.items() if code in codes))
    if not accurate:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


def load_models() -> None:
    """Load the language models now (the KB calls this when it loads, off the loop)."""
    if len(_configured[0]) > 1:
        _detector()


def detect_language(text: str, default: str = "en") -> str:
    """en / fr / nl / de, or `default` when the text is too short or ambiguous to tell."""
    if len(_configured[0]) == 1:  # a desk of one language: nothing to tell apart
        return _configured[0][0]
    text = _prefix(text)
    short = _short_message(text)
    if short is not None:
        if default in short or len(short) == len(_LANGUAGES):  # "ok": any language
            return default
        return short[0]
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return default
    values = {_LANGUAGES[v.language]: v.value
              for v in _detector().compute_language_confidence_values(text)}
    if not values:
        return default
    if LEXICAL:
        values = _with_lexical_prior(values, words(text))
    best = max(values, key=values.__getitem__)
    if best == default:
        return best
    if values[best] - values.get(default, 0.0) < MIN_LEAD:
        return default
    if len(text.split()) == 1 and values[best] < MIN_SINGLE_WORD:
        return default
    return best


def _with_lexical_prior(values: dict[str, float], tokens: list[str]) -> dict[str, float]:
    """lingua's confidences times each language's likelihood of the message's words under
    `_lexical`'s frequencies, normalised again (naive Bayes: lingua's character n-grams and
    the words as independent evidence)."""
    table = _lexical()
    scores = {}
    for code, value in values.items():
        ranks = table.get(code, {})
        scores[code] = math.log(max(value, FLOOR)) + sum(
            ranks.get(token, 0.0) for token in tokens)
    top = max(scores.values())
    odds = {code: math.exp(score - top) for code, score in scores.items()}
    total = sum(odds.values())
    return {code: value / total for code, value in odds.items()}


@functools.cache
def _lexical() -> dict[str, dict[str, float]]:
    """Per language, each listed word's log of its frequency over UNLISTED's (words listed in
    no language weigh nothing); data/language_words.yaml, most frequent first."""
    text = resources.files("knowledge_base").joinpath("data/language_words.yaml").read_text(
        "utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    table: dict[str, dict[str, float]] = {}
    for code, line in data.items():
        ranks: dict[str, float] = {}
        for word in line.split():
            ranks.setdefault(word, math.log(max(ZIPF / (len(ranks) + 1), UNLISTED) / UNLISTED))
        table[code] = ranks
    return table


def _short_message(text: str) -> tuple[str, ...] | None:
    """The languages a message made only of greetings and courtesy words can be in, in the
    first word's order (none in common: all four), or None for any other message."""
    tokens = words(text)
    if not tokens or len(tokens) > 4:
        return None
    every = tuple(_LANGUAGES.values())
    langs: tuple[str, ...] | None = None
    start = 0
    while start < len(tokens):
        for size in (3, 2, 1):
            found = _SHORT_WORDS.get(" ".join(tokens[start:start + size]))
            if found is not None and start + size <= len(tokens):
                langs = found if langs is None else tuple(x for x in langs if x in found)
                start += size
                break
        else:
            return None
    return langs or every


def _prefix(text: str) -> str:
    """The first `MAX_CHARS` characters, cut at a word boundary where there is one."""
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space > MAX_CHARS // 2 else cut
