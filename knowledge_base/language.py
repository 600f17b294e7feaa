"""Which of the supported languages a customer message is written in.

lingua restricted to the four languages the gateway serves is accurate even on short
sentences; for a few letters or a near tie the caller's default (usually the
conversation's language so far) is the safer guess.
"""

from __future__ import annotations

import functools

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

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


@functools.cache
def _detector() -> LanguageDetector:
    """Built once, on first use: loading the models takes a moment and some memory."""
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).build()


def detect_language(text: str, default: str = "en") -> str:
    """en / fr / nl / de, or `default` when the text is too short or ambiguous to tell."""
    text = _prefix(text)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return default
    values = {_LANGUAGES[v.language]: v.value
              for v in _detector().compute_language_confidence_values(text)}
    if not values:
        return default
    best = max(values, key=values.__getitem__)
    if best == default:
        return best
    if values[best] - values.get(default, 0.0) < MIN_LEAD:
        return default
    if len(text.split()) == 1 and values[best] < MIN_SINGLE_WORD:
        return default
    return best


def _prefix(text: str) -> str:
    """The first `MAX_CHARS` characters, cut at a word boundary where there is one."""
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space > MAX_CHARS // 2 else cut
