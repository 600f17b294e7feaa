"""Grouping customer questions the bot could not answer into clusters of similar ones,
over the matcher's own features, so that "what to add next" reads as a handful of topics
rather than hundreds of messages: the word and character TF-IDF of the fitted KB and, for
the languages the shipped word vectors cover (English), the mean of those too. Words the KB
never uses are most of what an unanswered question says, and only the word vectors know
that a "voucher" is close to a "gift card" (measured on a handful of such questions: TF-IDF
alone joined "do you repair scooters?" with "do you have discounts for students?").

Agglomerative clustering (average linkage) on cosine distances: no number of clusters to
guess, only how close two questions must be to share one. CPU work for a few hundred
questions at most: callers run it in a worker thread and bound its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knowledge_base import trainer
from knowledge_base.features import Featurizer
from knowledge_base.wordvectors import WordVectors

#: Questions clustered at once (the n x n distance matrix stays small).
MAX_QUESTIONS = 1000
#: Cosine distance under which two groups of questions merge (average linkage): with the
#: word vectors' meaning, and on TF-IDF alone (sparser, so distances run higher).
DISTANCE_WITH_MEANING = 0.7
DISTANCE = 0.8


def vectors(featurizer: Featurizer, texts: Sequence[str], language: str) -> sp.csr_matrix:
    """The matcher's query vector of each text, one row each (L2-normalised)."""
    rows, cols, data = [], [], []
    for row, text in enumerate(texts):
        index, weight = featurizer.query(text, language)
        rows.extend([row] * len(index))
        cols.extend(index.tolist())
        data.extend(weight.tolist())
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), max(1, featurizer.size)))


def cluster(featurizer: Featurizer, texts: Sequence[str], language: str,
            meaning: bool = True) -> list[int]:
    """A cluster number per text (0 the largest cluster, then by size, ties by first text);
    texts the features know nothing of stay alone. At most `MAX_QUESTIONS` texts."""
    if len(texts) > MAX_QUESTIONS:
        raise ValueError(f"at most {MAX_QUESTIONS} questions at once")
    if len(texts) < 2:
        return [0] * len(texts)
    matrix = vectors(featurizer, texts, language)
    similarity = np.asarray((matrix @ matrix.T).todense())
    distance = DISTANCE
    if meaning and language in WordVectors.languages:
        dense = WordVectors(1.0, featurizer.correct).encode(texts)
        similarity = (similarity + dense @ dense.T) / 2
        distance = DISTANCE_WITH_MEANING
    distances = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    # in the training process: scikit-learn stays out of the serving one (knowledge_base.trainer)
    labels = trainer.run(_average_linkage, distances, distance)
    sizes: dict[int, int] = {}
    first: dict[int, int] = {}
    for position, label in enumerate(labels.tolist()):
        sizes[label] = sizes.get(label, 0) + 1
        first.setdefault(label, position)
    order = sorted(sizes, key=lambda label: (-sizes[label], first[label]))
    renumber = {label: n for n, label in enumerate(order)}
    return [renumber[label] for label in labels.tolist()]


def _average_linkage(distances: npt.NDArray[np.float64],
                     threshold: float) -> npt.NDArray[np.int64]:
    from sklearn.cluster import AgglomerativeClustering

    return np.asarray(AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average",
        distance_threshold=threshold).fit_predict(distances))
