"""One fitted linear model of the matcher (`knowledge_base.index`): how it scores the
languages it is used for, fitted in full or updated after an edit of a few articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knowledge_base import calibration, trainer
from knowledge_base.encoders import Encoder, dense
from knowledge_base.examples import Examples

if TYPE_CHECKING:
    from knowledge_base.index import MatcherSettings

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Reading:
    """One fitted linear model: how the matcher scores the languages it is used for."""

    weights: npt.NDArray[np.float32]  # sparse features x articles
    dense_weights: npt.NDArray[np.float32] | None  # encoder dimensions x articles
    bias: Floats
    calibration: calibration.Calibration
    none: int | None
    encoders: tuple[Encoder, ...]
    #: The examples as this model saw them, for `kb lint`'s held-out checks; only the
    #: reading those checks use (the one for every language) keeps them.
    training: sp.csr_matrix | None

    @classmethod
    def fit(cls, vectors: sp.csr_matrix, examples: Examples, settings: MatcherSettings,
            encoders: tuple[Encoder, ...]) -> Reading:
        training = sp.hstack([vectors, *(dense(e, examples.texts, examples.langs, remember=True)
                                         for e in encoders)]).tocsr()
        weights, bias, fitted = trainer.run(
            calibration.fit_reading, training, examples.labels, settings.c, examples.weights,
            settings.calibration_folds, examples.none, settings.out_of_scope_share,
            examples.keys() if settings.open_set else None)
        lexical = vectors.shape[1]
        return cls(weights[:lexical], weights[lexical:] if encoders else None, bias,
                   fitted, examples.none, encoders, training)

    def updated(self, vectors: sp.csr_matrix, examples: Examples, settings: MatcherSettings,
                encoders: tuple[Encoder, ...], kept: dict[int, int], changed: list[int],
                old_columns: tuple[int, int], new_columns: tuple[int, int]) -> Reading:
        """This model on a KB of which only the `changed` articles (new positions) differ:
        their one-vs-rest models are trained again on every example, as the full fit trains
        each (liblinear's one-vs-rest is one binary problem per article); the others keep
        their weights (`kept`: new position -> old), zeros for columns new to the KB.
        `old_columns` and `new_columns`: the word and character columns of the previous
        and the new featurizer (the character columns follow the word ones, which grew)."""
        training = sp.hstack([vectors, *(dense(e, examples.texts, examples.langs, remember=True)
                                         for e in encoders)]).tocsr()
        lexical = vectors.shape[1]
        articles = len(kept) + len(changed)
        weights = np.zeros((training.shape[1], articles), dtype=np.float32)
        bias = np.zeros(articles)
        old_rows = np.concatenate([np.arange(old_columns[0]),
                                   new_columns[0] + np.arange(old_columns[1])])
        if self.dense_weights is not None:
            old_rows = np.concatenate([old_rows, lexical + np.arange(self.dense_weights.shape[0])])
        old = (np.vstack([self.weights, self.dense_weights]) if self.dense_weights is not None
               else self.weights)
        new, was = np.array(list(kept), dtype=np.int64), np.array(list(kept.values()))
        weights[np.ix_(old_rows, new)] = old[:, was]
        bias[new] = self.bias[was]
        if changed:
            weights[:, changed], bias[changed] = trainer.run(
                calibration.fit_articles, training, examples.labels, changed, settings.c)
        return Reading(weights[:lexical], weights[lexical:] if encoders else None, bias,
                        self.calibration, None, encoders,
                        training if self.training is not None else None)

    def probabilities(self, query: str, language: str, index: npt.NDArray[np.int64],
                      weight: Floats, against: Floats | None) -> Floats:
        scores = self.weights[index].T @ weight + self.bias
        if self.dense_weights is not None:
            vector = np.concatenate([dense(e, [query], [language])[0] for e in self.encoders])
            scores = scores + self.dense_weights.T @ vector
        return self.calibration.probabilities(
            scores.reshape(1, -1), self.none,
            None if against is None else against.reshape(1, -1))[0]
