"""The "none of these" class: questions no help-desk KB of a company answers.

A closed-set classifier always names its likeliest article, so "where can I buy a gas
barbecue" reached a gas-leak article at 0.99. The matcher therefore learns one more class
from a shipped multilingual set of generic and near-domain questions (data/background.yaml,
and data/background_templates.yaml: help-desk phrasings about other companies' things):
probability it takes is probability that no article answers. Background questions too close
to one of the KB's own examples are dropped, so an admin's KB always wins (a bank's KB keeps
"how do I block my credit card").
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml

from knowledge_base.evidence import content
from knowledge_base.text import words

#: A background question this similar (cosine of word+character features) to a KB example
#: is the KB's business, not background.
OVERLAP = 0.5
#: The written questions (in the same topic order in each language) form this many groups.
WRITTEN_GROUPS = 8


@functools.cache
def questions() -> tuple[tuple[str, str, int], ...]:
    """(text, language, group) as the matcher learns them: function words removed."""
    return tuple((_content(text), lang, group) for text, lang, group in _written_and_generated())


@functools.cache
def originals() -> dict[str, str]:
    """The question as written for each learned text (what `kb lint` shows an admin)."""
    return {_content(text): text for text, _, _ in _written_and_generated()}


def _written_and_generated() -> list[tuple[str, str, int]]:
    """(text, language, group) of every shipped background question, written and generated.

    Groups are topics ("warranty of other things", generic chat...): the matcher learns one
    "none of these" class per group, as coherent as an article, rather than one class that
    would have to cover them all with a single linear boundary.
    """
    written: dict[str, list[str]] = _data("background.yaml")
    result = [(q, lang, i * WRITTEN_GROUPS // len(qs))
              for lang, qs in written.items() for i, q in enumerate(qs)]
    for lang, parts in _data("background_templates.yaml").items():
        templates = [(t, kind) for kind in ("product", "service")
                     for t in parts[f"{kind}_templates"]]
        result += [(template.format(x=thing), lang, WRITTEN_GROUPS + group)
                   for group, (template, kind) in enumerate(templates)
                   for thing in parts[f"{kind}s"]]
    return result


def written_and_generated() -> list[tuple[str, str]]:
    """(question as written, language) of every shipped background question: what
    `kb lint` asks the default matcher, which never learns them."""
    return [(text, lang) for text, lang, _ in _written_and_generated()]


def _content(text: str) -> str:
    """The question without function words, so that "how", "my" and "de" (which every KB's
    examples use too) do not become evidence for "none": a long message is not out of scope
    for being long."""
    kept = [w for w in words(text) if content(w)]
    return " ".join(kept) if kept else text


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files("knowledge_base").joinpath(f"data/{name}")
                          .read_text("utf-8"))


def kept(kb: sp.csr_matrix, background: sp.csr_matrix) -> np.ndarray:
    """Rows of `background` (features of the background questions) unlike every KB example."""
    if kb.shape[0] == 0 or background.shape[0] == 0:
        return np.arange(background.shape[0])
    closest = np.asarray((background @ kb.T).max(axis=1).todense()).ravel()
    return np.flatnonzero(closest < OVERLAP)
