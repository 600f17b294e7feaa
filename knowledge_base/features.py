"""Turning a question into the sparse vector the matcher scores.

Two views of the same text, each L2-normalised then joined:
- words: folded, snowball-stemmed per language, uni- and bi-grams (topic words, phrasing);
- characters: n-grams of 2-5 inside word boundaries on the folded text (typos, compounds
  such as "Lieferzeit", product names), language-independent so an English example still
  helps a Dutch question about the "Velora Bakfiets".
Both use sublinear TF-IDF learned from the KB's own example questions.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from knowledge_base.text import stem, words

#: Unknown words shorter than this are left alone: too little to correct reliably.
_MIN_TYPO_LENGTH = 4
_TYPO_SCORE = 80.0
#: Corrections kept per fitted KB (unknown words customers keep typing).
_REMEMBERED_TYPOS = 10_000
#: New typo searches (about 0.2-0.4 ms each) one message may cost: an 8,000-character
#: message of unknown words took 190 ms; its words past the budget are read as written.
MAX_TYPO_SEARCHES = 24


SparseVector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def _identity(text: str) -> str:
    return text


def _no_ngrams(text: str) -> list[str]:
    return []


class Featurizer:
    """Fitted once on the example questions; immutable afterwards but for its memo of
    corrections (safe across threads)."""

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5), typo_correction: bool = True) -> None:
        self._words = TfidfVectorizer(ngram_range=word_ngrams, sublinear_tf=True,
                                      preprocessor=_identity, token_pattern=r"\S+",
                                      lowercase=False, dtype=np.float64)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams,
                                      sublinear_tf=True, preprocessor=_identity,
                                      lowercase=False, dtype=np.float64)
        self._typo_correction = typo_correction
        self._vocabulary: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._word_ngrams: Callable[[str], list[str]] = _no_ngrams
        self._char_ngrams: Callable[[str], list[str]] = _no_ngrams
        self._typos: dict[str, str] = {}
        self._budget = threading.local()  # searches left for the message being matched

    def fit_transform(self, texts: Sequence[str], langs: Sequence[str]) -> sp.csr_matrix:
        tokens = [words(text) for text in texts]
        self._known = frozenset(w for ws in tokens for w in ws)
        self._vocabulary = sorted(self._known)
        word_view = self._words.fit_transform(_stemmed(tokens, langs))
        char_view = self._chars.fit_transform([" ".join(ws) for ws in tokens])
        self._word_ngrams = self._words.build_analyzer()
        self._char_ngrams = self._chars.build_analyzer()
        self._typos = {}  # remembered per fitted KB: customers repeat their typos
        return _join(word_view, char_view)

    @property
    def size(self) -> int:
        """Number of features (columns of the vectors)."""
        return len(self._words.vocabulary_) + len(self._chars.vocabulary_)

    def query(self, text: str, lang: str) -> SparseVector:
        """One message as (feature indices, weights): the hot path, free of sklearn overhead.

        Gives the same vector as the fitted vectorizers would, in a fraction of the time.
        """
        tokens = words(text)
        stemmed = " ".join(stem(self.correct(w), lang) for w in tokens)
        word_index, word_weight = _tfidf(self._word_ngrams(stemmed), self._words)
        char_index, char_weight = _tfidf(self._char_ngrams(" ".join(tokens)), self._chars)
        index = np.concatenate([word_index, char_index + len(self._words.vocabulary_)])
        weight = np.concatenate([word_weight, char_weight])
        norm = float(np.linalg.norm(weight))
        return index, weight / norm if norm else weight

    def correct(self, word: str) -> str:
        """A word the KB never uses, replaced by the closest one it does ("livraision")."""
        if (not self._typo_correction or word in self._known or len(word) < _MIN_TYPO_LENGTH
                or word.isdigit()):
            return word
        found = self._typos.get(word)
        if found is not None:
            return found
        left: int | None = getattr(self._budget, "left", None)
        if left is not None:
            if left <= 0:
                return word
            self._budget.left = left - 1
        found = self._search(word)
        if len(self._typos) < _REMEMBERED_TYPOS:  # a dict write is atomic across threads
            self._typos[word] = found
        return found

    @contextlib.contextmanager
    def budget(self, searches: int = MAX_TYPO_SEARCHES) -> Iterator[None]:
        """Bounded work per message: within this block (in this thread), at most `searches`
        words not seen before are looked up; the others are read as written. A block inside
        another shares the outer one's budget (the parts of a message are the message)."""
        if getattr(self._budget, "left", None) is not None:
            yield
            return
        self._budget.left = searches
        try:
            yield
        finally:
            self._budget.left = None

    def _search(self, word: str) -> str:
        best = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio,
                                  score_cutoff=_TYPO_SCORE)
        return str(best[0]) if best else word


def _tfidf(ngrams: Iterable[str], vectorizer: TfidfVectorizer) -> SparseVector:
    """Sublinear TF-IDF, L2-normalised, of n-grams known to a fitted vectorizer."""
    counts = Counter(g for g in ngrams if g in vectorizer.vocabulary_)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    index = np.fromiter((vectorizer.vocabulary_[g] for g in counts), dtype=np.int64)
    weight = (1 + np.log(np.fromiter(counts.values(), dtype=float))) * vectorizer.idf_[index]
    return index, weight / np.linalg.norm(weight)


def _stemmed(tokens: Sequence[list[str]], langs: Sequence[str]) -> list[str]:
    return [" ".join(stem(w, lang) for w in ws) for ws, lang in zip(tokens, langs, strict=True)]


def _join(*views: sp.csr_matrix) -> sp.csr_matrix:
    return normalize(sp.hstack([normalize(v) for v in views]).tocsr())
