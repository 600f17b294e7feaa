"""From a ranked match to what the bot does: answer, ask which one, or hand off.

Confidence is a calibrated probability that the top article is right, so the thresholds
read as precision targets: `answer` = 0.9 means roughly nine answers in ten are correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge_base.index import Match

MAX_CHOICES = 3


@dataclass(frozen=True)
class Thresholds:
    #: Answer when the best article is at least this likely to be right.
    answer: float
    #: A clarification choice must be at least this likely.
    clarify: float
    #: ...and within this much of the best one (otherwise it is not a real contender).
    clarify_margin: float


#: Chosen from benchmarks/kb_quality.py, see docs/knowledge-base.md#thresholds.
DEFAULT_THRESHOLDS = Thresholds(answer=0.9, clarify=0.25, clarify_margin=0.4)


@dataclass(frozen=True)
class Decision:
    kind: Literal["answer", "clarify", "handoff"]
    article_id: str | None
    choices: tuple[str, ...]
    confidence: float


def decide(match: Match, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """Answer above `answer`; clarify between 2-3 close plausible articles; else hand off.

    Clarify needs every choice at least `clarify` likely, within `clarify_margin` of the
    best, and the choices together at least `answer` likely: "it is one of these".

    `article_id` on a hand-off is the best guess, so the operator sees the likely topic.
    """
    if not match.candidates:
        return Decision("handoff", None, (), 0.0)
    best = match.candidates[0]
    if best.confidence >= thresholds.answer:
        return Decision("answer", best.article_id, (), best.confidence)
    choices = tuple(
        c.article_id for c in match.candidates[:MAX_CHOICES]
        if c.confidence >= thresholds.clarify
        and best.confidence - c.confidence <= thresholds.clarify_margin)
    # Ask only when the right article is, as surely as for an answer, among the choices.
    if len(choices) >= 2 and sum(c.confidence for c in match.candidates
                                 if c.article_id in choices) >= thresholds.answer:
        return Decision("clarify", best.article_id, choices, best.confidence)
    return Decision("handoff", best.article_id, (), best.confidence)
