"""Dense vectors for questions, appended to the matcher's word+character features.

Three encoders: the shipped word vectors (English), MiniLM sentence embeddings (English,
`[semantic]` extra) and USE multilingual sentence embeddings (EN/FR/NL/DE, `[multilingual]`
extra). Each language is read by a model over the encoders that cover it, so a French
question never gets an English model's noise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


class Encoder(Protocol):
    """Dense vectors for texts in `languages`; other texts get zeros (see `dense`)."""

    languages: frozenset[str]
    dimensions: int

    def encode(self, texts: Sequence[str], remember: bool = False) -> Floats:
        """`remember`: the texts are example questions, worth keeping for the next build."""


class Remembered:
    """Example questions' vectors kept between builds, so a hot reload encodes only the
    questions that changed and stays within seconds. One per model; thread-safe."""

    def __init__(self, encode: Callable[[Sequence[str]], Floats], limit: int = 200_000) -> None:
        self._encode = encode
        self._limit = limit
        self._vectors: dict[str, Floats] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], remember: bool) -> Floats:
        if not remember:
            return self._encode(texts)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
            if missing:
                if len(self._vectors) + len(missing) > self._limit:
                    self._vectors.clear()
                self._vectors.update(zip(missing, self._encode(missing), strict=True))
            return np.vstack([self._vectors[t] for t in texts])

    def __len__(self) -> int:
        return len(self._vectors)


def dense(encoder: Encoder, texts: Sequence[str], langs: Sequence[str],
          remember: bool = False) -> Floats:
    """The encoder's vectors for texts in its languages, zeros for the others."""
    result = np.zeros((len(texts), encoder.dimensions))
    rows = [i for i, lang in enumerate(langs) if lang in encoder.languages]
    if rows:
        result[rows] = encoder.encode([texts[i] for i in rows], remember=remember)
    return result


def covering(encoders: Sequence[Encoder], lang: str) -> tuple[Encoder, ...]:
    """The encoders that read `lang`, in their order."""
    return tuple(e for e in encoders if lang in e.languages)
