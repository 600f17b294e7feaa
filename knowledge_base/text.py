"""Text normalisation shared by the matcher and the signal detectors.

Customers type without accents, in any case, with stray punctuation; folding all of that
away makes "Livraision a Liège" and "livraison à liege" the same words.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+")
_LONG_VOWEL = re.compile(r"([aeou])\1")
_STEMMER_NAMES = {"en": "english", "fr": "french", "nl": "dutch", "de": "german"}


def fold(text: str) -> str:
    """Lowercase and strip accents ("Élève" -> "eleve"); ß and æ-style letters expanded."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded alphanumeric words; apostrophes and hyphens split ("l'aide" -> l, aide)."""
    return _WORD.findall(fold(text))


@functools.cache
def _stemmer(lang: str) -> snowballstemmer.Stemmer | None:
    name = _STEMMER_NAMES.get(lang)
    return snowballstemmer.stemmer(name) if name else None


@functools.lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """Snowball stem of a folded word in `lang` (the word itself for unknown languages)."""
    stemmer = _stemmer(lang)
    if stemmer is None:
        return word
    stemmed = stemmer.stemWord(word)
    if lang == "nl":
        # Snowball leaves Dutch verb forms apart: "levert"/"leveren"/"geleverd" -> "levert",
        # "leveer", "lever"; "laadt"/"laden" -> "laadt", "laad". Without the -t ending and
        # with long vowels single they meet: "lever", "lad".
        if len(stemmed) > 4 and stemmed[-1] == "t":
            stemmed = stemmed[:-1]
        stemmed = _LONG_VOWEL.sub(r"\1", stemmed)
    return stemmed
