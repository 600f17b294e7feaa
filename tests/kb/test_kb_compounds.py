"""Dutch and German compounds the KB never writes as one word are read as the KB's words
(docs/knowledge-base.md#how-matching-works, step 1): "verhuisadres" is "verhuis" + "adres"."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import kb_customers  # noqa: E402
import pytest  # noqa: E402

from knowledge_base.decide import decide  # noqa: E402
from knowledge_base.index import Matcher  # noqa: E402
from knowledge_base.message import match_message  # noqa: E402


@pytest.fixture(scope="module")
def energy() -> Matcher:
    """The energy company's KB (a tuning KB of benchmarks/data/kb)."""
    return Matcher.build(kb_customers.load("tune-energy")[0])


def test_a_dutch_compound_question_is_answered_with_its_article(energy: Matcher) -> None:
    # The moving-house article says "verhuizen" and "adres" apart; read as one unknown
    # word, "verhuisadres" left the bot unsure (a clarification at 0.55).
    decision = decide(match_message(energy, "verhuisadres doorgeven", "nl").match)
    assert (decision.kind, decision.article_id) == ("answer", "moving-house")


def test_compounds_are_split_only_into_known_words_and_only_in_dutch_and_german(
        energy: Matcher) -> None:
    featurizer = energy._featurizer  # the unit under the matcher
    assert featurizer.split_compounds("verhuisadres doorgeven", "nl") == "verhuis adres doorgeven"
    assert featurizer.split_compounds("verhuisadres", "en") == "verhuisadres"
    assert featurizer.split_compounds("wachtwoord", "nl") == "wachtwoord"  # a KB word
    assert featurizer.split_compounds("Ghettoblaster", "de") == "Ghettoblaster"
