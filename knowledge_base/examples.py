"""The example questions a matcher learns from: every title and question of every
translation, labelled with its article, plus (open set) the shipped background questions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knowledge_base import background, evidence
from knowledge_base.features import Featurizer
from knowledge_base.model import Article

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Examples:
    texts: list[str]
    langs: list[str]
    labels: npt.NDArray[np.int64]
    #: The first "none of these" class (background questions), if any: labels from it on.
    none: int | None = None
    #: Training weight of each example (background questions weigh less), or None.
    weights: Floats | None = None

    def keys(self) -> list[list[tuple[str, str]]]:
        """Each example's words for `evidence.Evidence`."""
        return [evidence.keys(t, lang) for t, lang in zip(self.texts, self.langs, strict=True)]


def from_articles(articles: list[Article]) -> Examples:
    """Every example question and title of every translation, labelled with its article."""
    texts: list[str] = []
    langs: list[str] = []
    labels: list[int] = []
    for index, article in enumerate(articles):
        for lang, translation in article.translations.items():
            for text in dict.fromkeys((translation.title, *translation.questions)):
                texts.append(text)
                langs.append(lang)
                labels.append(index)
    return Examples(texts, langs, np.array(labels, dtype=np.int64))


def with_background(examples: Examples, featurizer: Featurizer, open_set: bool,
                    background_weight: float, articles: int) -> tuple[Examples, sp.csr_matrix]:
    """The KB's examples plus, when enabled, background questions as one more class.

    The featurizer learns the background's words too, so "barbecue" stays a word of its
    own instead of being typo-corrected into a KB word.
    """
    if not open_set:
        return examples, featurizer.fit_transform(examples.texts, examples.langs)
    extra = background.questions()
    texts = examples.texts + [q for q, _, _ in extra]
    langs = examples.langs + [lang for _, lang, _ in extra]
    vectors = featurizer.fit_transform(texts, langs)
    kb = len(examples.texts)
    keep = np.concatenate([np.arange(kb), kb + background.kept(vectors[:kb], vectors[kb:])])
    groups = np.array([group for _, _, group in extra], dtype=np.int64)
    labels = np.concatenate([examples.labels, articles + groups])[keep]
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)  # no empty group
    # each background group weighs `background_weight` articles' worth of examples
    sizes = np.bincount(labels, minlength=articles + int(groups.max()) + 1)
    per_article = kb / articles
    weights = np.where(labels >= articles, background_weight * per_article
                       / np.maximum(sizes[labels], 1), 1.0)
    return (Examples([texts[i] for i in keep], [langs[i] for i in keep], labels,
                      articles, weights), vectors[keep])
