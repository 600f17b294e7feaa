"""The matcher: which articles a customer message is about, and how sure we are.

A linear SVM (one-vs-rest, one class per article) is trained on every example question
and title of every translation at load time, over word and character n-grams plus a dense
vector of what the words mean (shipped word vectors; sentence embeddings with the extra).
Its scores become probabilities through a softmax whose temperature is fitted on held-out
folds of the examples, so `confidence` reads as "how often an answer this sure is right"
rather than as a raw score.
See docs/knowledge-base.md for what was measured and why this design.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knowledge_base import calibration, evidence, trainer
from knowledge_base.encoders import Encoder, covering
from knowledge_base.examples import Examples, from_articles, with_background
from knowledge_base.features import Featurizer
from knowledge_base.language import detect_language
from knowledge_base.model import Article
from knowledge_base.reading import Reading as _Reading
from knowledge_base.scope import Meaning, Scope
from knowledge_base.text import fold, stem, words
from knowledge_base.wordvectors import WordVectors

MAX_CANDIDATES = 5
_FOLLOW_UP = re.compile(
    r"^(and|what about|how about|also|same|et|et pour|et si|aussi|en|en voor|en als|ook|"
    r"und|und fur|und wenn|auch|was ist mit)\b")
#: Messages with at most this many words are read as follow-ups when there is context...
_SHORT_FOLLOW_UP = 4
#: ...unless, without a follow-up word ("and", "what about"), they are this sure of an
#: article on their own: "Where is my order?" after the opening hours is a new question.
_SURE_ALONE = 0.9

#: Words of a message the matcher reads, half from its start and half from its end: a
#: message of 8,000 characters of unknown words took 190 ms, this many 15 ms at most.
MAX_WORDS = 300

#: Held-out examples that are plenty to fit the one temperature parameter.
CALIBRATION_EXAMPLES = 2000
#: From this many example questions on, `held_out_confusions` uses five folds, not ten.
LARGE_KB = 5000
#: A rebuild that changes more articles than this retrains every article's model
#: (`Matcher.build(previous=...)`): each changed one costs about a tenth of a second.
MAX_UPDATED_ARTICLES = 20

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MatcherSettings:
    #: SVM regularisation: higher fits the examples more tightly.
    c: float = 1.0
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    #: Replace words the KB never uses by the closest one it does (rapidfuzz).
    typo_correction: bool = True
    #: Held-out folds used to fit the confidence temperature (0 disables: fixed 0.1).
    calibration_folds: int = 5
    #: Add the shipped word vectors (what words mean) to the features.
    word_vectors: bool = True
    #: Length of the word-vector part of a question's vector (word+character part: 1).
    word_vector_weight: float = 1.5
    #: Add sentence embeddings to the features (needs helpdesk-gateway[semantic]).
    semantic: bool = False
    #: Length of the sentence-embedding part of a question's vector.
    semantic_weight: float = 2.0
    #: Add multilingual sentence embeddings, EN/FR/NL/DE (needs helpdesk-gateway[multilingual]).
    multilingual: bool = False
    #: Length of the multilingual part of a question's vector.
    multilingual_weight: float = 2.0
    #: Open-set confidence: "none of these" classes from the shipped background questions
    #: and evidence against an answer (docs/knowledge-base.md#open-set-confidence).
    open_set: bool = False
    #: Training weight of each group of background questions, in articles' worth of examples.
    background_weight: float = 1.0
    #: Share of out-of-scope questions assumed when fitting the confidence (see calibration).
    out_of_scope_share: float = 0.6
    #: Lower the confidence of articles that leave a foreign thing of the question ("gmail",
    #: "barbecue") or most of its words unexplained (knowledge_base/scope.py).
    scope_check: bool = True


@dataclass(frozen=True)
class Candidate:
    article_id: str
    confidence: float
    matched_question: str | None = None


@dataclass(frozen=True)
class Match:
    language: str
    candidates: list[Candidate]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Matcher:
    """Immutable once built: share one instance between threads and requests.

    With word vectors or sentence embeddings (English models), English questions are read
    by a model that also weighs what the words mean; when the KB has other languages, those
    get a second model over words and characters only, which does better for them than a
    model that learned to expect a meaning vector they cannot have.
    """

    def __init__(self, articles: list[Article], settings: MatcherSettings,
                 featurizer: Featurizer, examples: Examples, vectors: sp.csr_matrix,
                 readings: dict[str | None, _Reading] | None = None,
                 meaning: Meaning | None = None) -> None:
        self.articles = articles
        self.settings = settings
        self._featurizer = self.featurizer = featurizer  # public: reports cluster with it
        self._examples = examples
        #: by language; the None entry reads every language without its own
        self._readings = readings or {}
        self._ids = [a.id for a in articles]
        self._position = {a.id: i for i, a in enumerate(articles)}
        # Hot-path layout: one row per feature, so a query gathers only its own features.
        self._by_feature = sp.csr_matrix(vectors.T) if vectors.shape[0] else vectors
        # examples are grouped by article: article i owns rows _rows[i]:_rows[i + 1]
        self._rows = np.searchsorted(examples.labels, np.arange(len(articles) + 1))
        self._scope = (Scope(articles, featurizer.correct, meaning)
                       if settings.scope_check and self._readings else None)
        self._evidence = (evidence.Evidence(examples.keys(), examples.labels,
                                            int(examples.labels.max()) + 1, examples.none)
                          if settings.open_set and self._readings else None)
        #: Articles retrained by an update of a previous matcher (`build(previous=...)`);
        #: None when every model and the calibration saw this very KB's examples (a full
        #: build, or an update after edits that changed no example: answers, queues).
        self.updated: tuple[str, ...] | None = None

    @classmethod
    def build(cls, articles: Iterable[Article], settings: MatcherSettings | None = None,
              previous: Matcher | None = None) -> Matcher:
        """Train on `articles`. With `previous` (the matcher serving now), an edit of a few
        articles is an update (`_update`): only their texts are read and their models
        trained, in well under a second for a 15,000-question KB instead of 20 s.

        An update is not what a full build would give: every other article's model keeps
        the weights it learned before the edit (the edited article's old examples among
        its negatives) and the confidence keeps its fitted temperature. The features and
        their IDF are exact. Callers that want the full build's answers rebuild in the
        background (`updated` says whether a matcher is an update).
        """
        settings = settings or MatcherSettings()
        articles = sorted(articles, key=lambda a: a.id)
        if previous is not None:
            updated = cls._update(previous, articles, settings)
            if updated is not None:
                return updated
        examples = from_articles(articles)
        featurizer = Featurizer(settings.word_ngrams, settings.char_ngrams,
                                settings.typo_correction)
        if not examples.texts:
            return cls(articles, settings, featurizer, examples, sp.csr_matrix((0, 0)))
        if len(articles) < 2:
            vectors = featurizer.fit_transform(examples.texts, examples.langs)
            return cls(articles, settings, featurizer, examples, vectors)
        examples, vectors = with_background(examples, featurizer, settings.open_set,
                                             settings.background_weight, len(articles))
        encoders = _encoders(settings, featurizer)
        # each language is read by a model over the encoders that cover it
        languages = sorted(set(examples.langs).union(*(e.languages for e in encoders)))
        groups: dict[tuple[Encoder, ...], list[str]] = {}
        for lang in languages:
            groups.setdefault(covering(encoders, lang), []).append(lang)
        # the fewest encoders read languages nobody covers; `kb lint` uses that model's examples
        general = min(groups, key=len)
        readings: dict[str | None, _Reading] = {}
        for group, langs in groups.items():
            reading = _Reading.fit(vectors, examples, settings, group)
            if group != general:
                reading = dataclasses.replace(reading, training=None)  # memory
            readings.update(dict.fromkeys(langs, reading))
            if group == general:
                readings[None] = reading
        return cls(articles, settings, featurizer, examples, vectors, readings,
                   _meaning(articles, settings))

    @classmethod
    def _update(cls, previous: Matcher, articles: list[Article],
                settings: MatcherSettings) -> Matcher | None:
        """`previous` with the changed articles' models retrained (None: build in full).

        The featurizer extends the previous one's columns, so unchanged examples keep their
        rows and the models their weights; IDF and rows are computed again for all.
        Open-set matchers (background classes, evidence) are always built in full.
        """
        before = {a.id: _examples_of(a) for a in previous.articles}
        changed = [i for i, a in enumerate(articles) if before.get(a.id) != _examples_of(a)]
        if (settings != previous.settings or settings.open_set or len(articles) < 3
                or len(previous.articles) < 3 or not previous._readings
                or len(changed) > MAX_UPDATED_ARTICLES):
            return None
        examples = from_articles(articles)
        featurizer = Featurizer(settings.word_ngrams, settings.char_ngrams,
                                settings.typo_correction, extending=previous.featurizer)
        vectors = featurizer.fit_transform(examples.texts, examples.langs)
        encoders = _encoders(settings, featurizer)
        languages = sorted(set(examples.langs).union(*(e.languages for e in encoders)))
        if set(previous._readings) != {None, *languages}:
            return None  # a language came or went: the readings themselves change
        kept = {i: previous._position[a.id] for i, a in enumerate(articles)
                if i not in set(changed)}
        readings: dict[str | None, _Reading] = {}
        done: dict[int, _Reading] = {}  # one update per reading shared by languages
        for lang in [None, *languages]:
            old = previous._readings[lang]
            if id(old) not in done:
                group = covering(encoders, lang) if lang is not None else min(
                    (covering(encoders, x) for x in languages), key=len)
                done[id(old)] = old.updated(vectors, examples, settings, group, kept, changed,
                                            previous.featurizer.columns, featurizer.columns)
            readings[lang] = done[id(old)]
        matcher = cls(articles, settings, featurizer, examples, vectors, readings,
                      _meaning(articles, settings))
        # no example changed (an answer was edited): the models are the full build's
        matcher.updated = tuple(articles[i].id for i in changed) if changed else None
        return matcher

    @property
    def encodes_sentences(self) -> bool:
        """Whether a match runs a sentence encoder (milliseconds of CPU: callers on an event
        loop should match in a worker thread)."""
        return self.settings.semantic or self.settings.multilingual

    def match(self, text: str, lang: str | None = None,
              previous_article_id: str | None = None) -> Match:
        """Ranked candidates (best first, at most 5) for one customer message."""
        spaced = text.split()
        if len(spaced) > MAX_WORDS:  # bounded work: a long e-mail asks at its start or end
            text = " ".join(spaced[:MAX_WORDS // 2] + spaced[-(MAX_WORDS // 2):])
        with self.bounded():
            return self._match(text, lang, previous_article_id)

    def bounded(self) -> contextlib.AbstractContextManager[None]:
        """The matches within this block share one budget of typo searches (bounded work
        per message, `features.MAX_TYPO_SEARCHES`)."""
        return self._featurizer.budget()

    def _match(self, text: str, lang: str | None,
               previous_article_id: str | None) -> Match:
        language = lang or detect_language(text)
        if not self.articles or not text.strip():
            return Match(language, [])
        text = self._featurizer.split_compounds(
            self._featurizer.join_particles(text, language), language)
        query, follow_up = self._with_context(text, language, previous_article_id)
        if query != text and not follow_up:  # merely short: is it a new question?
            alone = self.match(text, language)
            if alone.best is not None and alone.best.confidence >= _SURE_ALONE:
                return alone
        index, weight = self._featurizer.query(query, language)
        if index.size == 0:  # not a single known word or character sequence
            return Match(language, [])
        similarities = self._by_feature[index].T @ weight  # to every example question
        probabilities = self._probabilities(query, language, index, weight, similarities)
        probabilities = probabilities[:len(self._ids)]  # without "none of these"
        if self._scope is not None:
            probabilities = self._in_scope(query, language, probabilities)
        order = np.argsort(-probabilities, kind="stable")[:MAX_CANDIDATES]
        return Match(language, [
            Candidate(self._ids[i], round(float(probabilities[i]), 4),
                      self._nearest_question(similarities, int(i)))
            for i in order if probabilities[i] > 0.0])

    def held_out_confusions(self, folds: int | None = None) -> list[tuple[str, str, str]]:
        """(question, its article, article it went to) for examples the matcher gets wrong
        when trained without them: the articles an admin should tell apart better.

        Ten folds by default, five from 5,000 examples on: each fold's model then still
        sees thousands of examples, and `kb lint` on a big KB takes half the time.
        """
        none = len(self._ids)  # background questions are not the admin's to fix
        return [(text, self._ids[truth], self._ids[guess])
                for text, truth, guess in self._held_out_guesses(folds)
                if guess != truth and max(guess, truth) < none]

    def background_hits(self, folds: int | None = None) -> list[tuple[str, str]]:
        """(background question, article it went to) for out-of-scope questions an article
        claims when the matcher is trained without them (`open_set` only): what `kb lint`
        shows an admin as likely wrong answers. Same folds as `held_out_confusions`."""
        none = len(self._ids)
        return [(text, self._ids[guess]) for text, truth, guess in self._held_out_guesses(folds)
                if truth >= none > guess]

    def _held_out_guesses(self, folds: int | None) -> list[tuple[str, int, int]]:
        """(question, its class, class predicted without it), computed once per matcher."""
        folds = folds or (10 if len(self._examples.texts) < LARGE_KB else 5)
        cached = self.__dict__.get("_guesses")
        if cached is not None and cached[0] == folds:
            return list(cached[1])
        if not self._readings or len(self._examples.texts) < folds:
            return []
        labels = self._examples.labels
        training = self._readings[None].training
        assert training is not None  # the reading for every language keeps its examples
        scores, rows, _ = trainer.run(calibration.held_out, training, labels,
                                      self.settings.c, folds, None, self._examples.weights)
        guesses = [(self._examples.texts[row], int(labels[row]), int(guess))
                   for row, guess in zip(rows, scores.argmax(axis=1), strict=True)]
        self.__dict__["_guesses"] = (folds, guesses)
        return list(guesses)

    def _with_context(self, text: str, language: str,
                      previous: str | None) -> tuple[str, bool]:
        """Read a follow-up ("and for Dutch customers?") together with the last answer's topic:
        (the text to match, whether it starts with a follow-up word).

        The previous article's title is prepended, so the classifier keeps that topic unless
        the new words clearly point elsewhere.
        """
        if previous not in self._position:
            return text, False
        folded = " ".join(re.findall(r"[a-z0-9]+", fold(text)))
        follow_up = bool(_FOLLOW_UP.match(folded))
        if not (follow_up or len(folded.split()) <= _SHORT_FOLLOW_UP):
            return text, False
        _, translation = self.articles[self._position[previous]].translation(language)
        return f"{translation.title} {text}", follow_up

    def _probabilities(self, query: str, language: str, index: npt.NDArray[np.int64],
                       weight: Floats, similarities: Floats) -> Floats:
        if not self._readings:  # a single article: how close is the nearest example?
            return np.array([float(similarities.max())])
        reading = self._readings.get(language) or self._readings[None]
        against = None
        if self._evidence is not None:
            pairs = [(w, stem(w, language))
                     for w in map(self._featurizer.correct, words(query))]
            against = evidence.penalties(self._evidence, [pairs], self._examples.none)[0]
        return reading.probabilities(query, language, index, weight, against)

    def _in_scope(self, query: str, language: str, probabilities: Floats) -> Floats:
        """The likeliest articles' probabilities times the scope check's factor (the others
        are too unlikely to matter): P(the article is the one) becomes P(it answers)."""
        assert self._scope is not None
        result = probabilities.copy()
        likeliest = [int(i) for i in np.argsort(-probabilities, kind="stable")[:MAX_CANDIDATES]]
        for i, check in zip(likeliest, self._scope.checks(query, language, likeliest),
                            strict=True):
            result[i] *= check.factor
        return result

    def _nearest_question(self, similarities: Floats, article: int) -> str | None:
        start, end = self._rows[article], self._rows[article + 1]
        if start == end:
            return None
        return self._examples.texts[start + int(np.argmax(similarities[start:end]))]


def _examples_of(article: Article) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """What the matcher learns of an article: its titles and questions per language."""
    return tuple((lang, t.title, t.questions) for lang, t in article.translations.items())


def _meaning(articles: list[Article], settings: MatcherSettings) -> Meaning | None:
    """Which articles' words mean a listed thing, across languages (multilingual only)."""
    if not (settings.multilingual and settings.scope_check):
        return None
    from knowledge_base.multilingual import WordMeanings  # optional extra, heavy

    return WordMeanings(articles)


def _encoders(settings: MatcherSettings, featurizer: Featurizer) -> tuple[Encoder, ...]:
    encoders: list[Encoder] = []
    if settings.word_vectors:
        encoders.append(WordVectors(settings.word_vector_weight, featurizer.correct))
    if settings.semantic:
        from knowledge_base.semantic import load_embedder  # optional extra, heavy

        encoders.append(load_embedder(settings.semantic_weight))
    if settings.multilingual:
        from knowledge_base.multilingual import load_encoder  # optional extra, heavy

        encoders.append(load_encoder(settings.multilingual_weight))
    return tuple(encoders)
