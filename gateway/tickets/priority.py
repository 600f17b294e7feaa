"""Ticket priority from urgency × impact (ITIL style, a configurable matrix, P1-P4 by default).

Urgency starts at the configured default and is raised one level when the customer is
frustrated or says it is urgent ("urgent", "dringend", ...); impact comes from the customer's
segment (a business customer has a high impact by default). The reasons are kept so that the
ticket can show why it got its priority.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from types import ModuleType

from gateway.config.policy import LEVELS, Level, PrioritySettings


@dataclass(frozen=True)
class Assessment:
    priority: str
    urgency: Level
    impact: Level
    #: Why urgency was raised, e.g. ("urgent word", "frustration 0.82").
    reasons: tuple[str, ...]


def _signals() -> ModuleType | None:
    """`knowledge_base.signals` when it is installed; imported lazily because it is optional
    (and written separately), so priorities still work from the configured words alone."""
    try:
        return importlib.import_module("knowledge_base.signals")
    except ModuleNotFoundError as exc:
        if exc.name != "knowledge_base.signals":
            raise
        return None


def assess(text: str, segment: str | None, settings: PrioritySettings, *,
           urgent: bool = False) -> Assessment:
    """The priority of a ticket opened from the customer's `text`; `urgent` when the caller
    already judged the contact urgent (e.g. the pipeline's frustration hand-off)."""
    reasons: list[str] = ["flagged urgent"] if urgent else []
    words = "|".join(re.escape(word) for word in settings.urgent_words)
    if words and re.search(rf"\b(?:{words})\b", text, re.IGNORECASE):
        reasons.append("urgent word")
    signals = _signals()
    if signals is not None:
        if "urgent word" not in reasons and signals.urgency(text):
            reasons.append("urgent word")
        score = float(signals.frustration(text))
        if score >= settings.frustration_threshold:
            reasons.append(f"frustration {score:.2f}")
    urgency = settings.default_urgency
    if reasons:
        urgency = LEVELS[max(LEVELS.index(urgency) - 1, 0)]
    impact = settings.segments.get(segment or "", settings.default_impact)
    return Assessment(settings.matrix[urgency][impact], urgency, impact, tuple(reasons))
