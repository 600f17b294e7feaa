"""Evidence against an answer: the question's words that nothing in an article explains.

"Where can I buy a gas barbecue" shares "gas" with a gas-leak article, but "barbecue" and
"buy" appear in none of its examples or titles. For each article, the share of the
question's word weight (IDF over the KB and background questions: rare words such as
"barbecue", "gmail" or "Blutdruckmessgerät" weigh most, function words little) that the
article's examples do not contain is a penalty the calibration learns how much to trust.
A word counts as explained by its folded form or its stem, in any of the article's languages.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources

import numpy as np
import numpy.typing as npt
import yaml

from knowledge_base.text import stem, words

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@functools.cache
def function_words(lang: str | None = None) -> frozenset[str]:
    """Words that say nothing about a topic (data/function_words.yaml), in `lang` or in any
    of the four languages."""
    text = resources.files("knowledge_base").joinpath("data/function_words.yaml").read_text(
        "utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return frozenset(w for key, line in data.items() if lang in (None, key)
                     for w in line.split())


def content(word: str, lang: str | None = None) -> bool:
    """Whether a folded word can be evidence: not a function word (of `lang`, or of any
    language), a number or a letter."""
    return len(word) > 1 and not word.isdigit() and word not in function_words(lang)


def keys(text: str, lang: str) -> list[tuple[str, str]]:
    """(folded word, stem) for each word of a text."""
    return [(w, stem(w, lang)) for w in words(text)]


class Evidence:
    """Built from example questions (their keys and classes); immutable afterwards."""

    def __init__(self, examples: Sequence[list[tuple[str, str]]], labels: Ints,
                 classes: int, none: int | None) -> None:
        self._classes = classes
        owners: dict[str, set[int]] = {}
        frequency: dict[str, int] = {}
        for pairs, label in zip(examples, labels, strict=True):
            for key in {k for pair in pairs for k in pair}:
                frequency[key] = frequency.get(key, 0) + 1
                if none is None or label < none:
                    owners.setdefault(key, set()).add(int(label))
        self._owners = {k: np.fromiter(v, dtype=np.int64) for k, v in owners.items()}
        self._count = len(examples)
        self._frequency = frequency

    def _weight(self, word: str) -> float:
        return float(np.log((self._count + 1) / (self._frequency.get(word, 0) + 1)) + 1)

    def against(self, pairs: list[tuple[str, str]]) -> Floats:
        """Per class, the share of the question's word weight it does not explain (0-1).

        The "none" class explains everything (0), like a class without examples does not.
        """
        result = np.zeros(self._classes)
        if not pairs:
            return result
        explained = np.zeros(self._classes)
        total = 0.0
        for word, stemmed in dict.fromkeys(pairs):
            if not content(word):
                continue
            weight = self._weight(word)
            total += weight
            hit = np.zeros(self._classes, dtype=bool)
            for key in (word, stemmed):
                owners = self._owners.get(key)
                if owners is not None:
                    hit[owners] = True
            explained += weight * hit
        if total:
            result = 1.0 - explained / total
        return result


def penalties(evidence: Evidence, queries: Sequence[list[tuple[str, str]]],
              none: int | None) -> Floats:
    """`Evidence.against` for many questions, the "none" columns set to 0."""
    rows = np.vstack([evidence.against(q) for q in queries]) if queries else np.zeros((0, 0))
    if none is not None and rows.size:
        rows[:, none:] = 0.0
    return rows
