"""From SVM scores to an open-set confidence: P(this article answers this question).

The scores of a linear SVM (one class per article, plus "none of these" learned from the
background questions) become probabilities through a softmax with a temperature and a bias
on the "none" class. Both are fitted on questions the models never saw, of two kinds:

- in scope: example questions held out of the training folds (their article is right);
- out of scope: background questions held out likewise, and the questions of whole
  articles left out of training (the keyword-sharing out-of-scope questions every KB
  yields for free: "annual bill too high" against a KB without that article but with one
  on monthly payments). Only "none" is right for them.

Each kind weighs half of the log-loss, so a confidence of 0.9 means about nine answers in
ten are right whether customers ask in-scope questions or not.

The training functions run in `knowledge_base.trainer`'s child process, the only one that
imports scikit-learn and scipy.optimize (imported inside them for that reason); the serving
process uses `Calibration` and `softmax` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knowledge_base.evidence import Evidence, penalties

if TYPE_CHECKING:
    from sklearn.svm import LinearSVC

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
#: Held-out questions that are plenty to fit the two parameters.
CALIBRATION_EXAMPLES = 2000
DEFAULT_TEMPERATURE = 0.1


@dataclass(frozen=True)
class Calibration:
    temperature: float = DEFAULT_TEMPERATURE
    #: Added to the "none of these" scores (the columns from `none` on) before the softmax.
    none_bias: float = 0.0
    #: Times the share of the question's words an article does not explain, subtracted
    #: from that article's score (knowledge_base.evidence).
    evidence: float = 0.0

    def probabilities(self, scores: Floats, none: int | None,
                      against: Floats | None = None) -> Floats:
        scores = scores.copy()
        if none is not None:
            scores[:, none:] += self.none_bias
        if against is not None and self.evidence:
            scores -= self.evidence * against
        return softmax(scores, self.temperature)


def fit_reading(vectors: sp.csr_matrix, labels: Ints, c: float, weights: Floats | None,
                folds: int, none: int | None, out_of_scope_share: float,
                keys: Keys | None) -> tuple[npt.NDArray[np.float32], Floats, Calibration]:
    """One reading's model as (features x articles) weights and bias, and its calibration.

    liblinear releases the GIL: the model and its calibration train side by side, which
    nearly halves a large KB's build on two cores (CLINC150 full: 26 s -> 18 s)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        model = pool.submit(fit, vectors, labels, c, weights)
        fitted = pool.submit(calibrate, vectors, labels, c, folds, none, weights,
                             out_of_scope_share, keys)
        return (*linear(model.result()), fitted.result())


def fit_articles(vectors: sp.csr_matrix, labels: Ints, articles: Sequence[int],
                 c: float) -> tuple[npt.NDArray[np.float32], Floats]:
    """The one-vs-rest models of `articles` alone, trained on every example (the full fit
    trains each so): weights (features x len(articles)) and bias."""
    weights = np.zeros((vectors.shape[1], len(articles)), dtype=np.float32)
    bias = np.zeros(len(articles))
    for column, article in enumerate(articles):
        model = fit(vectors, labels == article, c)
        weights[:, column] = model.coef_[0]
        bias[column] = model.intercept_[0]
    return weights, bias


def fit(vectors: sp.csr_matrix, labels: Ints, c: float,
        weights: Floats | None = None) -> LinearSVC:
    from sklearn.svm import LinearSVC
    return LinearSVC(C=c).fit(vectors, labels, sample_weight=weights)


def linear(model: LinearSVC) -> tuple[npt.NDArray[np.float32], Floats]:
    """The model as (features x articles) weights and a bias, two-class models included."""
    weights = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=float)
    if weights.shape[0] == 1:
        weights, bias = np.vstack([-weights, weights]), np.concatenate([-bias, bias])
    return np.ascontiguousarray(weights.T), bias


def decision(model: LinearSVC, vectors: sp.csr_matrix) -> Floats:
    """One score per class and row, also for a two-class model (which returns one column)."""
    scores = np.asarray(model.decision_function(vectors), dtype=float)
    if scores.ndim == 1:
        scores = np.column_stack([-scores, scores])
    return scores


def softmax(scores: Floats, temperature: float) -> Floats:
    scaled = scores / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    result: Floats = exp / exp.sum(axis=1, keepdims=True)
    return result


Split = tuple[Ints, Ints]


Keys = Sequence[list[tuple[str, str]]]


def held_out(vectors: sp.csr_matrix, labels: Ints, c: float, folds: int,
             enough: int | None = None, weights: Floats | None = None,
             splits: list[Split] | None = None, keys: Keys | None = None,
             none: int | None = None) -> tuple[Floats, Ints, Floats]:
    """Scores of questions by a model trained without them: (scores, rows, evidence).

    `evidence` is `evidence.penalties` of the rows against the training folds' examples
    (zeros without `keys`).

    Rows whose class no training fold has keep -inf there; with `splits` (article folds)
    the caller decides what is right for them. With `enough`, only the first folds that
    hold that many rows are used (a large KB needs one fold, not five). Folds train two at
    a time (liblinear releases the GIL).
    """
    from sklearn.model_selection import KFold
    n_classes = int(labels.max()) + 1
    if splits is None:
        splits = [(train, held) for train, held in
                  KFold(folds, shuffle=True, random_state=0).split(labels)
                  if np.unique(labels[train]).size >= 2]
        keep_unseen = False
    else:
        keep_unseen = True
    if enough is not None and splits:
        sizes = np.cumsum([held.size for _, held in splits])
        splits = splits[:int(np.searchsorted(sizes, enough)) + 1]

    def score(split: Split) -> tuple[Floats, Ints, Floats]:
        train, held = split
        model = fit(vectors[train], labels[train], c, None if weights is None
                    else weights[train])
        if not keep_unseen:
            held = held[np.isin(labels[held], model.classes_)]
        scores = np.full((held.size, n_classes), -np.inf)
        scores[:, model.classes_] = decision(model, vectors[held])
        against = np.zeros_like(scores)
        if keys is not None and held.size:
            known = Evidence([keys[i] for i in train], labels[train], n_classes, none)
            against = penalties(known, [keys[i] for i in held], none)
        return scores, held, against

    if not splits:
        empty = np.zeros((0, n_classes))
        return empty, np.zeros(0, dtype=np.int64), empty
    with ThreadPoolExecutor(max_workers=2) as pool:
        held_scores, held_rows, held_against = zip(*pool.map(score, splits), strict=True)
    return np.vstack(held_scores), np.concatenate(held_rows), np.vstack(held_against)


def article_splits(labels: Ints, none: int | None, folds: int) -> list[Split]:
    """Folds that leave whole articles out (the background always stays in training)."""
    from sklearn.model_selection import GroupKFold
    articles = labels if none is None else np.where(labels >= none, -1, labels)
    kb_rows = np.flatnonzero(articles >= 0)
    n_articles = np.unique(articles[kb_rows]).size
    if n_articles < 3:
        return []
    splits = []
    groups = articles[kb_rows]
    for _, held in GroupKFold(min(folds, n_articles)).split(kb_rows, groups=groups):
        rest = np.setdiff1d(np.arange(labels.size), kb_rows[held])
        splits.append((rest, kb_rows[held]))
    return splits


def calibrate(vectors: sp.csr_matrix, labels: Ints, c: float, folds: int,
              none: int | None, weights: Floats | None = None,
              out_of_scope_share: float = 0.5, keys: Keys | None = None) -> Calibration:
    """Temperature, "none" bias and evidence weight with the lowest held-out log-loss."""
    if folds < 2 or labels.size < 2 * folds:
        return Calibration()
    scores, rows, against = held_out(vectors, labels, c, folds, CALIBRATION_EXAMPLES, weights,
                                     keys=keys, none=none)
    truth = labels[rows]
    if none is not None:
        a_scores, a_rows, a_against = held_out(
            vectors, labels, c, folds, CALIBRATION_EXAMPLES, weights,
            article_splits(labels, none, folds), keys, none)
        scores = np.vstack([scores, a_scores])
        against = np.vstack([against, a_against])
        truth = np.concatenate([truth, np.full(a_rows.size, none)])
        truth = np.minimum(truth, none)  # every "none" class is as right as another
    if truth.size == 0:
        return Calibration()
    out = truth == none if none is not None else np.zeros(truth.size, dtype=bool)
    row_weight = np.where(out, out_of_scope_share / max(out.sum(), 1),
                          (1 - out_of_scope_share) / max((~out).sum(), 1))
    if not out.any() or out.all():
        row_weight = np.full(truth.size, 1 / truth.size)
    has_none = none is not None
    index = np.arange(truth.size)

    def calibration(params: Floats) -> Calibration:
        return Calibration(float(np.exp(params[0])), float(params[1]), float(params[2]))

    def loss(params: Floats) -> float:
        probabilities = calibration(params).probabilities(scores, none, against)
        p = probabilities[index, truth]
        if none is not None:  # every "none" class is as right as another
            p = np.where(out, probabilities[:, none:].sum(axis=1), p)
        return float(-(row_weight * np.log(p + 1e-12)).sum())

    return calibration(_minimise(loss, has_none, keys is not None))


def _minimise(loss: Callable[[Floats], float], has_none: bool, has_evidence: bool) -> Floats:
    from scipy.optimize import minimize
    start = np.array([np.log(DEFAULT_TEMPERATURE), 0.0, 0.0])
    bounds = [(np.log(0.005), np.log(5.0)), (-5.0, 5.0) if has_none else (0.0, 0.0),
              (0.0, 10.0) if has_evidence else (0.0, 0.0)]
    result = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
    return np.asarray(result.x, dtype=float)
