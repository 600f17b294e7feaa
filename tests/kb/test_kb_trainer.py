"""The matcher trains in a child process (knowledge_base.trainer): a child that died or
went idle is replaced, its errors reach the caller, and the features are scikit-learn's."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from knowledge_base import trainer
from knowledge_base.features import char_grams, normalize, word_grams
from knowledge_base.files import load_directory
from knowledge_base.index import Matcher
from tests.conftest import ROOT


@pytest.fixture
def fresh_trainers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Children of this test only (closed before and after)."""
    trainer._close_all()
    monkeypatch.setattr(trainer, "_trainers", {})
    yield
    trainer._close_all()


def _child() -> int:
    child = trainer._trainer()._child
    assert child is not None
    return child.pid


def _build() -> str:
    matcher = Matcher.build(load_directory(ROOT / "config" / "kb").articles.values())
    return matcher.match("where is my order?", "en").candidates[0].article_id


def test_a_killed_training_process_is_replaced(fresh_trainers: None) -> None:
    assert _build() == "order-status"
    first = _child()
    os.kill(first, signal.SIGKILL)
    assert _build() == "order-status"
    assert _child() != first


def test_the_training_process_exits_when_idle_and_comes_back(
        fresh_trainers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer, "IDLE_SECONDS", 0.5)
    assert _build() == "order-status"
    pid = _child()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()  # gone without being told, and reaped (no zombie)
    assert _build() == "order-status"


def test_an_error_in_training_reaches_the_caller(fresh_trainers: None) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        trainer.run(int, "not a number")
    assert trainer.run(int, "42") == 42  # and the child serves on


def test_the_features_are_those_scikit_learn_would_give() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize as sklearn_normalize

    texts = ["Where is my order?", "wo ist meine Bestellung", "a", "", "  two   spaces\there ",
             "Où est ma commande ?", "één twee drie vier"]
    for sizes in ((1, 1), (1, 2), (2, 3)):
        analyze = TfidfVectorizer(ngram_range=sizes, preprocessor=str, token_pattern=r"\S+",
                                  lowercase=False).build_analyzer()
        assert [word_grams(t, sizes) for t in texts] == [analyze(t) for t in texts]
    for sizes in ((2, 5), (1, 3)):
        analyze = TfidfVectorizer(analyzer="char_wb", ngram_range=sizes, preprocessor=str,
                                  lowercase=False).build_analyzer()
        assert [char_grams(t, sizes) for t in texts] == [analyze(t) for t in texts]
    rows = sp.random(40, 30, density=0.1, format="lil", random_state=1)
    rows[3, :] = 0  # an empty row stays empty
    assert np.allclose(normalize(rows.tocsr()).toarray(),
                       sklearn_normalize(rows.tocsr()).toarray())


def test_the_training_process_finds_the_package_from_any_directory(
        fresh_trainers: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert trainer.run(sorted, [3, 1, 2]) == [1, 2, 3]
