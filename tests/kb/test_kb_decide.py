"""decide(): answer, clarify or hand off, from the confidences alone."""

from __future__ import annotations

from knowledge_base.decide import DEFAULT_THRESHOLDS, Thresholds, decide
from knowledge_base.index import Candidate, Match


def _match(*confidences: float) -> Match:
    return Match("en", [Candidate(f"a{i}", c) for i, c in enumerate(confidences)])


def test_confident_best_article_is_answered() -> None:
    decision = decide(_match(0.95, 0.03))
    assert (decision.kind, decision.article_id, decision.confidence) == ("answer", "a0", 0.95)


def test_two_close_plausible_articles_ask_the_customer() -> None:
    decision = decide(_match(0.5, 0.45, 0.03))
    assert (decision.kind, decision.choices) == ("clarify", ("a0", "a1"))
    assert decide(_match(0.4, 0.3, 0.25)).choices == ("a0", "a1", "a2")


def test_spread_out_or_distant_candidates_hand_off_with_the_best_guess() -> None:
    assert decide(_match(0.35, 0.3, 0.1)).kind == "handoff"  # together not sure enough
    far = decide(_match(0.7, 0.2))
    assert (far.kind, far.article_id) == ("handoff", "a0")
    assert decide(Match("en", [])) .kind == "handoff"


def test_thresholds_are_configurable() -> None:
    lenient = Thresholds(answer=0.6, clarify=0.1, clarify_margin=0.5)
    assert decide(_match(0.7, 0.2), lenient).kind == "answer"
    assert DEFAULT_THRESHOLDS.answer > DEFAULT_THRESHOLDS.clarify
