"""The phrase signals as they scanned before issue 21: window by window, phrase by phrase.

The scanning code of knowledge_base/signals.py at e9d8f79, over today's phrase lists, kept as
the same-run baseline of benchmarks/signals_scan.py and as the reference the indexed scan is
checked against (tests/kb/test_kb_signals.py): on messages shorter than `MAX_SIGNAL_WORDS`
words both must say the same. Not used by the gateway.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from knowledge_base import text as _text
from knowledge_base.signals import (
    _ANGER_PHRASES,
    _ANGER_WORDS,
    _FILLER,
    _HUMAN_PHRASES,
    _HUMAN_WORDS,
    _INSULTS,
    _LONG_PHRASE_SCORE,
    _NEGATIVE_PHRASES,
    _NEGATIVE_WORDS,
    _SHORT_PHRASE_SCORE,
    _STATUS_PHRASES,
    _URGENT_PHRASES,
    _URGENT_WORDS,
    _WORD_SCORE,
    MAX_SIGNAL_CHARS,
)


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
