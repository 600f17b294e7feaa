"""Dutch and German separable verbs: a particle standing apart from its verb ("ik log niet
meer in", "ich hole die Medikamente ab") is read with the verb as the KB writes it
("inloggen", "abholen"); docs/knowledge-base.md#per-language-spread."""

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
def pharmacy() -> Matcher:
    """The pharmacy's KB (a tuning KB of benchmarks/data/kb): its examples say "inloggen",
    "afhalen", "ophalen", "terugbrengen", "einloggen", "abholen"."""
    return Matcher.build(kb_customers.load("tune-pharmacy")[0])


def test_a_separated_particle_is_joined_to_its_verb(pharmacy: Matcher) -> None:
    # Read as "log" and "in" apart, this was a hand-off at 0.75.
    decision = decide(match_message(pharmacy, "ik log niet meer in op de webshop", "nl").match)
    assert (decision.kind, decision.article_id) == ("answer", "webshop-account")


def test_only_particles_whose_joined_verb_the_kb_knows_are_joined(pharmacy: Matcher) -> None:
    featurizer = pharmacy._featurizer  # the unit under the matcher
    # the joined form is added beside the words as written
    assert (featurizer.join_particles("ik breng mijn oude pillen terug, mag dat", "nl")
            == "ik breng terugbreng mijn oude pillen terug, mag dat")
    assert (featurizer.join_particles("ich hole meine Medikamente morgen ab", "de")
            == "ich hole abhole meine Medikamente morgen ab")
    # a preposition: "opwacht" is no word of the KB
    assert featurizer.join_particles("ik wacht op mijn pakje", "nl") == "ik wacht op mijn pakje"
    # not across clauses, and only in Dutch and German
    assert (featurizer.join_particles("ik breng het. terug naar huis", "nl")
            == "ik breng het. terug naar huis")
    assert featurizer.join_particles("I log in", "en") == "I log in"
