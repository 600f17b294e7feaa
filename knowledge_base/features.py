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
import functools
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rapidfuzz import fuzz, process

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
#: Separable verbs: in a Dutch or German main clause the particle stands apart at the end
#: ("ik geef mijn meterstand door", "ich hole die Medikamente ab") where examples write the
#: infinitive ("doorgeven", "abholen"). A clause-final particle is joined back to a word of
#: its clause when the joined form has the stem of a KB word (`Featurizer.join_particles`).
#: Folded, as the words are compared. "zurück" ("zuruck") is left out: joined, it made
#: "ich schicke das Paket an meine Oma zurück" an answer of the return article.
_PARTICLES = {
    "nl": frozenset("aan af bij binnen buiten door in langs mee na om op over terug thuis "
                    "toe uit vast voor weg".split()),
    "de": frozenset("ab an auf aus bei durch ein fest her herunter hin los mit nach um vor "
                    "vorbei weg weiter zu zusammen".split()),
}
#: How many words before its particle the verb may stand ("ik geef mijn meterstand morgen
#: pas door": 5).
_PARTICLE_REACH = 8
_CLAUSE_END = re.compile(r"[,.;:!?()\n]|\s-\s")
#: Corrections kept per fitted KB (unknown words customers keep typing).
_REMEMBERED_TYPOS = 10_000
#: New typo searches (about 0.2-0.4 ms each) one message may cost: an 8,000-character
#: message of unknown words took 190 ms; its words past the budget are read as written.
MAX_TYPO_SEARCHES = 24


SparseVector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
Floats = npt.NDArray[np.float64]


def word_grams(text: str, sizes: tuple[int, int]) -> list[str]:
    """The space-separated tokens' n-grams, in scikit-learn's `TfidfVectorizer` order
    (unigrams, then bigrams...), so its columns and vectors are the ones it would give.
    Written here because importing scikit-learn costs the serving process ~65 MB resident:
    it only trains, in `knowledge_base.trainer`'s child process."""
    tokens = text.split()
    low, high = sizes
    grams: list[str] = []
    for n in range(low, min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_grams(text: str, sizes: tuple[int, int]) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space, as
    `TfidfVectorizer(analyzer="char_wb")` reads them (a word shorter than n counts once)."""
    low, high = sizes
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams.extend(padded[i:i + n] for i in range(max(len(padded) - n, 0) + 1))
            if len(padded) <= n:
                break
    return grams


def _joined_form(particle: str, verb: str, stems: frozenset[str], lang: str) -> str | None:
    """`particle` + `verb` as a word whose stem the KB has, trying the verb's endings of
    other persons ("geeft" -> "geef", "kommt" -> "kommen", "hole" -> "holen"), or None."""
    forms = [verb]
    if verb.endswith("t") and len(verb) > 3:
        forms += [verb[:-1], verb[:-1] + "en"]
    if verb.endswith("e"):
        forms.append(verb + "n")
    forms.append(verb + "en")
    for form in forms:
        word = particle + form
        if stem(word, lang) in stems:
            return word
    return None


def normalize(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm (empty rows stay empty)."""
    rows = sp.csr_matrix(rows, dtype=float, copy=True)
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    rows.data /= np.repeat(norms, np.diff(rows.indptr))
    return rows


class _Row:
    """One example text as the featurizer reads it: its words, and the columns and counts
    of its word and character n-grams (columns sorted)."""

    __slots__ = ("char_count", "char_index", "tokens", "word_count", "word_index")

    def __init__(self, tokens: tuple[str, ...], word: Counter[int], char: Counter[int]) -> None:
        self.tokens = tokens
        self.word_index, self.word_count = _sorted(word)
        self.char_index, self.char_count = _sorted(char)


class _Space:
    """The n-gram columns of a KB's successive featurizers, and its example texts' rows.

    Append only: a hot reload extends the columns of the featurizer it replaces, so every
    unchanged example keeps its row and only new or edited texts are read again (tokens,
    stems, n-grams). The featurizer being replaced keeps serving meanwhile: it reads only
    the columns it had (a dict read during another thread's insert is safe). Columns that
    an edit left unused get an IDF of 0 and weigh nothing; a full rebuild starts a compact
    space again.
    """

    def __init__(self, word_analyzer: Callable[[str], list[str]],
                 char_analyzer: Callable[[str], list[str]]) -> None:
        self.words: dict[str, int] = {}
        self.chars: dict[str, int] = {}
        self._word_analyzer = word_analyzer
        self._char_analyzer = char_analyzer
        self._rows: dict[tuple[str, str], _Row] = {}
        self._lock = threading.Lock()

    def rows(self, texts: Sequence[str], langs: Sequence[str]) -> list[_Row]:
        """The rows of `texts`, read again only for texts not seen in the previous call."""
        with self._lock:  # one build extends a space at a time
            known, fresh = self._rows, dict[tuple[str, str], _Row]()
            for key in zip(texts, langs, strict=True):
                row = known.get(key) or fresh.get(key)
                fresh[key] = row if row is not None else self._read(*key)
            self._rows = fresh  # forget texts the KB no longer has
            return [fresh[key] for key in zip(texts, langs, strict=True)]

    def _read(self, text: str, lang: str) -> _Row:
        tokens = words(text)
        stemmed = " ".join(stem(w, lang) for w in tokens)
        word = Counter(_column(self.words, g) for g in self._word_analyzer(stemmed))
        char = Counter(_column(self.chars, g) for g in self._char_analyzer(" ".join(tokens)))
        return _Row(tuple(tokens), word, char)


class Featurizer:
    """Fitted once on the example questions; immutable afterwards but for its memo of
    corrections (safe across threads).

    TF-IDF as scikit-learn's `TfidfVectorizer(sublinear_tf=True)` computes it (smooth IDF,
    L2 rows), over columns that `extending` featurizers share (`_Space`), so a hot reload
    reads only the texts that changed while every IDF is computed again, exactly, from the
    examples' document frequencies.
    """

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5), typo_correction: bool = True,
                 extending: Featurizer | None = None) -> None:
        self.ngrams = (word_ngrams, char_ngrams)
        self._typo_correction = typo_correction
        self._space: _Space
        if extending is not None and extending.ngrams == self.ngrams:
            self._space = extending._space
        else:
            self._space = _Space(functools.partial(word_grams, sizes=word_ngrams),
                                 functools.partial(char_grams, sizes=char_ngrams))
        self._word_idf: Floats = np.zeros(0)
        self._char_idf: Floats = np.zeros(0)
        self._vocabulary: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._typos: dict[str, str] = {}
        self._compounds: dict[str, str] = {}
        self._known_stems: dict[str, frozenset[str]] = {}
        self._budget = threading.local()  # searches left for the message being matched

    def fit_transform(self, texts: Sequence[str], langs: Sequence[str]) -> sp.csr_matrix:
        rows = self._space.rows(texts, langs)
        self._known = frozenset(w for row in rows for w in row.tokens)
        self._known_stems = {}
        self._vocabulary = sorted(self._known)
        word_view, self._word_idf = _view([r.word_index for r in rows],
                                          [r.word_count for r in rows], len(self._space.words))
        char_view, self._char_idf = _view([r.char_index for r in rows],
                                          [r.char_count for r in rows], len(self._space.chars))
        self._typos = {}  # remembered per fitted KB: customers repeat their typos
        self._compounds = {}
        return _join(word_view, char_view)

    @property
    def columns(self) -> tuple[int, int]:
        """Word and character columns: a query's character columns follow its word ones."""
        return self._word_idf.size, self._char_idf.size

    @property
    def size(self) -> int:
        """Number of features (columns of the vectors)."""
        return self._word_idf.size + self._char_idf.size

    def query(self, text: str, lang: str) -> SparseVector:
        """One message as (feature indices, weights): the hot path, free of sklearn overhead.

        Gives the same vector as the fitted vectorizers would, in a fraction of the time.
        """
        tokens = words(text)
        stemmed = " ".join(stem(self.correct(w), lang) for w in tokens)
        space = self._space
        word_index, word_weight = _tfidf(space._word_analyzer(stemmed), space.words,
                                         self._word_idf)
        char_index, char_weight = _tfidf(space._char_analyzer(" ".join(tokens)), space.chars,
                                         self._char_idf)
        index = np.concatenate([word_index, char_index + self._word_idf.size])
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

    def join_particles(self, text: str, lang: str) -> str:
        """Dutch and German separable verbs joined as the KB writes them: "ik haal mijn
        medicijnen morgen op" -> "ik ophalen mijn medicijnen morgen" when the KB has
        "ophalen". Only a particle that ends its clause is joined, to the first word before
        it (at most `_PARTICLE_REACH` words) whose joined form, as written or with the verb
        ending changed ("kommt an" -> "ankommen", "geeft door" -> "doorgeef"), has the stem
        of a KB word; a particle with no such word, other languages and prepositions inside
        a clause ("wachten op mijn fiets") are left as written."""
        particles = _PARTICLES.get(lang)
        if particles is None or not self._known:
            return text
        stems = self._known_stems.get(lang)
        if stems is None:
            stems = self._known_stems[lang] = frozenset(stem(w, lang) for w in self._known)
        pieces = _CLAUSE_END.split(text)
        ends = _CLAUSE_END.findall(text)
        joined = [self._join_clause(piece, particles, stems, lang) for piece in pieces]
        return "".join(piece + (ends[i] if i < len(ends) else "")
                       for i, piece in enumerate(joined))

    def _join_clause(self, clause: str, particles: frozenset[str], stems: frozenset[str],
                     lang: str) -> str:
        runs = list(_ALPHA_RUN.finditer(clause))
        for at in range(len(runs) - 1, 0, -1):
            particle = fold(runs[at].group())
            if particle not in particles:
                continue
            for run in runs[max(0, at - _PARTICLE_REACH):at]:
                verb = fold(run.group())
                if verb in particles or len(verb) < 2:
                    continue
                form = _joined_form(particle, verb, stems, lang)
                if form is not None:
                    return clause[:run.end()] + " " + form + clause[run.end():]
        return clause

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


def _tfidf(ngrams: Iterable[str], columns: dict[str, int], idf: Floats) -> SparseVector:
    """Sublinear TF-IDF, L2-normalised, of the n-grams the fitted KB uses (a column of the
    shared space beyond this featurizer's, or one its KB no longer uses, is not one)."""
    counts = Counter(ngrams)
    index = np.fromiter((columns.get(g, -1) for g in counts), dtype=np.int64, count=len(counts))
    count = np.fromiter(counts.values(), dtype=float, count=len(counts))
    known = (index >= 0) & (index < idf.size)
    known[known] = idf[index[known]] > 0
    index, count = index[known], count[known]
    if not index.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    weight = (1 + np.log(count)) * idf[index]
    return index, weight / np.linalg.norm(weight)


def _column(columns: dict[str, int], ngram: str) -> int:
    found = columns.get(ngram)
    if found is None:
        found = columns[ngram] = len(columns)
    return found


def _sorted(counts: Counter[int]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    index = np.fromiter(counts, dtype=np.int32, count=len(counts))
    count = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    order = np.argsort(index)
    return index[order], count[order]


def _view(indices: list[npt.NDArray[np.int32]], counts: list[npt.NDArray[np.float32]],
          size: int) -> tuple[sp.csr_matrix, Floats]:
    """Rows of sublinear TF-IDF (L2) and the IDF, `TfidfVectorizer`'s smooth formula:
    ln((1 + n) / (1 + df)) + 1, and 0 for columns no row has."""
    n = len(indices)
    pointers = np.zeros(n + 1, dtype=np.int64)
    pointers[1:] = np.cumsum([i.size for i in indices])
    index = np.concatenate(indices) if n else np.zeros(0, dtype=np.int32)
    count = np.concatenate(counts).astype(float) if n else np.zeros(0)
    df = np.bincount(index, minlength=size)
    idf = np.where(df > 0, np.log((1 + n) / (1 + np.maximum(df, 1))) + 1, 0.0)
    data = (1 + np.log(count)) * idf[index]
    return normalize(sp.csr_matrix((data, index, pointers), shape=(n, size))), idf


def _join(*views: sp.csr_matrix) -> sp.csr_matrix:
    return normalize(sp.hstack([normalize(v) for v in views]).tocsr())
