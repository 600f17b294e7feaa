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
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from knowledge_base.text import fold, stem, words

#: Unknown words shorter than this are left alone: too little to correct reliably.
_MIN_TYPO_LENGTH = 4
_TYPO_SCORE = 80.0
#: Compound splitting (Dutch and German write "wachtwoordherstel", "Zahlungserinnerung" as
#: one word): unknown words at least this long are tried as two KB words, each at least
#: _MIN_PART letters, with an optional linking "s", "e", "n" or "en" after the first.
_MIN_COMPOUND = 7
_MIN_PART = 3
_LINKS = ("", "s", "e", "n", "en")
COMPOUND_LANGUAGES = frozenset({"nl", "de"})
_ALPHA_RUN = re.compile(r"[^\W\d_]+")
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
        self._compounds: dict[str, str] = {}
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
        self._compounds = {}
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

    def split_compounds(self, text: str, lang: str) -> str:
        """Dutch and German compounds the KB never uses written as the KB's words:
        "wifiwachtwoord" -> "wifi wachtwoord", "aanmaningskosten" -> "aanmaning kosten"
        when the KB knows both parts. Why: such a word otherwise shares only character
        n-grams with the examples, is read as an unknown salient thing by the scope check
        and may be "corrected" into an unrelated KB word. Other languages, known words and
        words that do not split into two known ones are left as written."""
        if lang not in COMPOUND_LANGUAGES or not self._known:
            return text
        return _ALPHA_RUN.sub(lambda m: self._split(m.group()), text)

    def _split(self, written: str) -> str:
        word = fold(written)
        if len(word) < _MIN_COMPOUND or word in self._known or not word.isalpha():
            return written
        found = self._compounds.get(word)
        if found is None:
            found = self._best_split(word) or written
            if len(self._compounds) < _REMEMBERED_TYPOS:
                self._compounds[word] = found
        return found if found != word else written

    def _best_split(self, word: str) -> str | None:
        """The split whose shorter part is longest (the least likely to be a chance hit)."""
        best: tuple[int, str] | None = None
        for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
            head = word[cut:]
            if head not in self._known:
                continue
            for link in _LINKS:
                if link and not word[:cut].endswith(link):
                    continue
                modifier = word[:cut - len(link)] if link else word[:cut]
                if len(modifier) >= _MIN_PART and modifier in self._known:
                    shorter = min(len(modifier), len(head))
                    if best is None or shorter > best[0]:
                        best = (shorter, f"{modifier} {head}")
        return best[1] if best else None

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
